"""§3.1.1 (20)–(22): x̃ = D^{1/2}x gives Diag(L̃) = I; Perm-1: B̄ = nI on every draw, W̃ = nL̃, (14) iff θ ≥ n;
(22) (1/K)Σ‖∇f̃‖² ≤ 2λ_max(L̃)(f̃⁰ − f̃^K)/K at γ = 1/n (every decisive step general in n)."""


import pytest
import sympy as sp
from derivation_asserts import assert_caught_only_by_general, assert_disproved

from isttheory.derivations.precond_homogeneous import derive, lam_max, n_s

GE = "(14) for every θ ≥ theta_min"
TIGHT = "tight: (14) fails at θ = theta_min − ε"
Z = (n_s - 2) * (n_s - 3)  # zero at the cross-check sizes n = 2, 3


def test_precond_homogeneous_holds():
    d = derive().require()
    assert d.strength == "PROVED" and not d.weakest()
    assert sum(s.kind == "general" for s in d.steps) >= 12
    assert any(s.name.startswith("B̄ = (1/n)Σ_i C_iL̃C_i = n·Diag(L̃) = nI on every draw, every n")
               and s.kind == "general" for s in d.steps)  # the general-n premise of (14) is a step


@pytest.mark.parametrize("kw, failing", [
    (dict(theta_min=n_s - 1), (GE,)),
    (dict(theta_min=n_s**2 / 3), (GE, TIGHT)),   # = n at n = 3 only: refuted for general n ≥ 2
    (dict(theta_min=n_s + 1), (TIGHT, "(22) is attained")),  # admissible but not the smallest
    (dict(theta_min=3), (GE, TIGHT)),
    (dict(lam_coef=1), ("(22) at γ = 1/θ",)),
    (dict(ebar=1), ("E[B̄] = (1/n)Σ_i",)),
    (dict(perm_scale=n_s + 1), ("B̄ = (1/n)Σ_i C_iL̃C_i", "E[B̄] = (1/n)Σ_i")),
    (dict(precond_power=-1), ("Diag(L̃) = I",)),
    (dict(w_coef=n_s + 1), ("W̃ = ½(L̃E[B̄] + E[B̄]L̃)",)),
    (dict(blb_coef=n_s), ("E[B̄L̃B̄] = blb_coef·L̃",)),
    (dict(norm_coef=1), ("(21): L̃⁻¹W̃L̃⁻¹",)),
    (dict(grad_coef=n_s), ("(21): ‖∇f̃‖²",)),  # n instead of n/λ_max
])
def test_precond_homogeneous_mutations_fail(kw, failing):
    assert_disproved(derive(**kw), failing)


@pytest.mark.parametrize("kw, general", [
    (dict(theta_min=n_s + Z), TIGHT),
    (dict(ebar=n_s + Z), "E[B̄] = (1/n)Σ_i"),
    (dict(perm_scale=n_s + Z), "B̄ = (1/n)Σ_i C_iL̃C_i"),
    (dict(w_coef=n_s + Z), "W̃ = ½(L̃E[B̄] + E[B̄]L̃)"),
    (dict(blb_coef=n_s**2 + Z), "E[B̄L̃B̄] = blb_coef·L̃"),
    (dict(norm_coef=n_s + Z), "(21): L̃⁻¹W̃L̃⁻¹"),
    (dict(grad_coef=(n_s + Z) / lam_max), "(21): ‖∇f̃‖²"),
])
def test_precond_homogeneous_general_steps_catch_what_the_fixed_sizes_miss(kw, general):
    assert_caught_only_by_general(derive(**kw), general)


def test_a_looser_22_constant_is_loose_not_disproved():
    d = derive(lam_coef=2 * lam_max)
    assert d.holds and len(d.loose()) == 1 and d.loose()[0].name.startswith("(22) at γ = 1/θ")
    assert derive(lam_coef=sp.Rational(1, 2) * lam_max).failing("(22) at γ = 1/θ", "disproved")
