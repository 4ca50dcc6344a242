"""§3.1.2 (23)–(25): C̃_i = √n((L_i)_{ππ})^{-1/2}eeᵀ gives B̄ = I on every draw, W̄ = L̄, θ = 1, (24), and
one-step convergence at γ = 1 (every decisive step general in n); the printed scale [L_i^{-1/2}]_{ππ} breaks all
three (refuted symbolically for every n and certified exactly on an instance)."""


import pytest
import sympy as sp
from derivation_asserts import assert_caught_only_by_general, assert_disproved

from isttheory.derivations.precond_heterogeneous import derive, lam_max, n_s

Z = (n_s - 2) * (n_s - 3)  # zero at the cross-check sizes n = 2, 3


def test_precond_heterogeneous_holds():
    d = derive().require()
    assert d.strength == "PROVED" and not d.weakest()
    assert sum(s.kind == "general" for s in d.steps) >= 14
    refs = d.refutations()
    assert d.refutation_certified and any(s.kind == "general" for s in refs)
    cx = [s for s in refs if s.kind == "numeric"]
    assert len(cx) == 1 and cx[0].exact and "lhs − rhs = 0.25" in cx[0].detail
    assert any(s.name.startswith("finding: printed scale") and s.holds and s.role == "evidence" for s in d.steps)


@pytest.mark.parametrize("kw, failing", [
    (dict(variant="printed"), ("E[C̃_iL_iC̃_i] = I for every client and every n (printed",
                               "B̄ = (1/n)Σ_i C̃_iL_iC̃_i = I on every draw")),
    (dict(scale=n_s), ("E[C̃_iL_iC̃_i] = I for every client", "W̄ = ½(L̄E[B̄] + E[B̄]L̄)", "θW̄ − E[B̄L̄B̄] = (θ − 1)L̄")),
    (dict(gamma=sp.Rational(1, 2)), ("(25): (16)'s factor", "(24) from (15) at γ = gamma", "(25) exactly")),
    (dict(gamma=sp.Integer(2), factor=sp.Integer(-1)), ("γ = gamma is admissible", "(25) exactly")),
    (dict(factor=sp.Rational(1, 10)), ("(25): (16)'s factor",)),
    (dict(theta_min=sp.Rational(1, 2)), ("(14) for every θ ≥ theta_min",)),
    (dict(theta_min=2), ("tight: (14) fails",)),
    (dict(lam_coef=1), ("‖∇f‖² ≤ lam_coef", "(24) from (15) at γ = gamma")),
    (dict(lam_coef=lam_max / 2), ("(24) from (15) at γ = gamma",)),
    (dict(ebar=2), ("E[B̄] = (1/n)Σ_i",)),
    (dict(w_coef=2), ("W̄ = ½(L̄E[B̄] + E[B̄]L̄)",)),
])
def test_precond_heterogeneous_mutations_fail(kw, failing):
    assert_disproved(derive(**kw), failing)


@pytest.mark.parametrize("kw, general", [
    (dict(scale=sp.sqrt(n_s) + Z), "E[C̃_iL_iC̃_i] = I for every client"),
    (dict(ebar=1 + Z), "E[B̄] = (1/n)Σ_i"),
    (dict(w_coef=1 + Z), "W̄ = ½(L̄E[B̄] + E[B̄]L̄)"),
    (dict(theta_min=1 + Z), "tight: (14) fails"),
])
def test_precond_heterogeneous_general_steps_catch_what_the_fixed_sizes_miss(kw, general):
    assert_caught_only_by_general(derive(**kw), general)


def test_a_looser_24_constant_is_loose_not_disproved():
    d = derive(lam_coef=2 * lam_max)
    assert d.holds and [s.name for s in d.loose()] == [s.name for s in d.steps if s.name.startswith("(24) from")]


@pytest.mark.parametrize("lam_coef", [lam_max + sp.Rational(1, 7), 2 * lam_max, lam_max + 1])
def test_a_valid_larger_24_constant_is_loose_not_undecided(lam_coef):
    """(24) with a constant above λ_max(L̄) (e.g. λ_max + 1/7) is valid and looser: the comparison is made on the
    coefficients of (f(x⁰) − f(x^K))/K, which SymPy decides, so the step is loose (it was undecided with /K)."""
    d = derive(lam_coef=lam_coef)
    assert d.holds and d.strength == "CHECKED" and not d.disproved()
    (s,) = d.loose()
    assert s.name.startswith("(24) from (15)") and "sharp constant is 2*lambda_max" in s.detail


def test_premises_stated():
    d = derive()
    assert any("B̄_jj = (1/n)T_ij²(L_i)_jj" in p and "one owner" in p for p in d.premises)
    assert any("Theorem 1's (15) as given" in p for p in d.premises)


def test_sum_over_clients_is_guarded(monkeypatch):
    """A scale whose client term depends on the client's own (L_i)_jj (here √n/(L_i)_jj) makes the sum over clients
    no longer n times one term: the guard step is disproved (besides E[C̃LC̃] = I)."""
    import math
    import operator

    import isttheory.derivations.precond_heterogeneous as PH

    def bad(n, L_jj, sqrt=math.sqrt, divide=operator.truediv):
        return divide(sqrt(n), L_jj)

    assert derive().failing("the sum over clients is of one form") == []
    monkeypatch.setattr(PH, "scale_23", bad)
    d = derive(sizes=())
    assert d.failing("the sum over clients is of one form", "disproved")
