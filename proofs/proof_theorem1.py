"""Theorem 1 (14)–(16), interpolation: one-step identity, descent under (14) with γ ≤ 1/θ, rate (16).

Every decisive step is general (matrix expressions of symbolic size d, scalar identities); the fixed-size
and float steps are evidence."""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import Derivation, ProofFailure
from isttheory.derivations.matrix_algebra import dim, quadratic_forms
from isttheory.derivations.theorem1 import derive, g_


def test_theorem1_holds_and_is_proved():
    d = derive().require()
    c = d.counts()
    assert c["general"] >= 14 and c["numeric"] >= 3
    assert all(s.verdict == "holds" for s in d.steps) and not d.loose()
    assert d.strength == "PROVED" and not d.weakest()
    assert all(s.role == "evidence" for s in d.steps if s.kind != "general")


@pytest.mark.parametrize("kw, failing, verdict", [
    (dict(step_bound=2), "(15) per-step descent holds", "failed"),         # γ ≤ 2/θ: descent (15) fails on instances
    (dict(step_bound=2), "step size: 1 − descent − γθ/2 ≥ 0", "disproved"),
    (dict(rate=sp.Integer(1)), "(16) factor: (2 − step_bound)γ − rate ≥ 0", "disproved"),  # rate without γ: γ = 1/3
    (dict(rate=sp.Integer(1)), "(16) factor bounds the exact one-step contraction", "failed"),
    (dict(descent=sp.Integer(1)), "step size: 1 − descent − γθ/2 ≥ 0", "disproved"),  # factor ½ → 1 in (15)
    (dict(descent=sp.Rational(3, 4)), "step size: 1 − descent − γθ/2 ≥ 0", "disproved"),  # (15) with 4/(3γK)
    (dict(descent=sp.Rational(3, 4)), "every summand ≥ 0", "disproved"),
    (dict(step_bound=2), "(16) factor: (2 − step_bound)γ − rate ≥ 0", "disproved"),  # γ ≤ 2/θ: no contraction left
    (dict(q_orthogonal=False), "Rayleigh", "disproved"),  # the Rayleigh step uses Qᵀ = Q⁻¹: any Q would not do
    (dict(lin_coef=2 * g_), "(14) ⇒ E f(x⁺)", "disproved"),  # the one-step coefficients flow into E f(x⁺)
    (dict(lin_coef=2 * g_), "f(x − γB̄x) = f(x) − γxᵀL̄B̄x", "disproved"),
    (dict(quad_coef=g_**2), "f(x − γB̄x) = f(x) − γxᵀL̄B̄x", "disproved"),
    (dict(w_weight=sp.Integer(1)), "E f(x⁺) = f(x) − γxᵀW̄x", "disproved"),  # W̄ = E[L̄B̄ + B̄L̄] without the ½
])
def test_theorem1_mutations_fail(kw, failing, verdict):
    d = derive(**kw)
    assert d.failing(failing, verdict), [(s.name, s.verdict) for s in d.failed()]
    with pytest.raises(ProofFailure, match=re.escape(failing)):
        d.require()


@pytest.mark.parametrize("kw, fragments", [
    # γ ≤ 1/(2θ): valid, the sharp bound is 1/θ; and (16) then holds with the faster 1 − (3/2)γλ
    (dict(step_bound=sp.Rational(1, 2)), ("step size", "(16) factor")),
    (dict(rate=g_ / 2), ("(16) factor",)),                     # 1 − γλ/2: valid, the sharp factor is 1 − γλ
    # (15) with 4/(γK): a valid, looser bound (the drop is summed from the one-step expectations, not typed in)
    (dict(descent=sp.Rational(1, 4)), ("step size",)),
])
def test_theorem1_looser_constants_are_loose_not_disproved(kw, fragments):
    d = derive(**kw)
    assert d.holds and d.strength == "CHECKED"
    assert sorted(f for f in fragments if any(f in s.name for s in d.loose())) == sorted(fragments)
    assert all(any(f in s.name for f in fragments) for s in d.loose())
    assert not d.disproved()


def test_theorem1_states_its_premises():
    d = derive()
    assert any("spectral theorem" in p for p in d.premises)
    assert any("independent" in p and "linear" in p for p in d.premises)


def test_quadratic_forms_is_general_and_catches_what_it_should():
    """The matrix-expression reduction: equal for every d and every value, or a non-zero residual."""
    L, B, W = (sp.MatrixSymbol(s, dim, dim) for s in "LBW")
    x = sp.MatrixSymbol("x", dim, 1)
    assert quadratic_forms(x.T * L * B * x - x.T * B * L * x, (L, B)) == 0       # transpose of a 1×1 form
    assert quadratic_forms(x.T * L * B * x - x.T * B * L * x, (L,)) != 0         # B not declared symmetric
    assert quadratic_forms(x.T * L * L.I * W * x - x.T * W * x, (L, W)) == 0
    assert quadratic_forms(x.T * L.I * W * x - x.T * W * x, (L, W)) != 0
    with pytest.raises(ValueError):
        quadratic_forms(L * x, (L,))


def test_undecided_is_not_proved_and_not_disproved():
    """The verdicts mutation tests rely on: SymPy-false or a counterexample refutes; neither leaves it undecided."""
    g, x = sp.Symbol("gamma", positive=True), sp.Symbol("x", real=True)
    d = Derivation("verdicts", ())
    d.symbolic_true("decided", "", sp.Ge(g**2, 0))
    d.symbolic_true("refuted by SymPy", "", sp.Lt(g**2, 0))
    d.symbolic_true("refuted by a point", "", sp.Ge(g - 1, 0))            # rate = 1 in (16): false at γ = 1/3
    d.symbolic_true("undecided", "", sp.Ge(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1 + sp.Abs(x) - x, 0))
    d.symbolic("identity refuted", "", (g + 1) ** 2 - g**2 - 1)
    d.symbolic_false("refutation step", "", sp.Ge(g - 1, 0))
    assert [s.verdict for s in d.steps] == ["holds", "disproved", "disproved", "undecided", "disproved", "holds"]
    assert [s.holds for s in d.steps] == [True, False, False, False, False, True]
    assert d.failing("undecided") and not d.failing("undecided", "disproved")
    assert d.steps[3].detail.startswith("undecided") and d.steps[2].detail.startswith("disproved")
