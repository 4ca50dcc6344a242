"""§4.3: ω ≲ μ²/L² forces n ≤ 2 (Perm-q) or q ≥ dκ²/(1+κ²) ≥ d/2 (Rand-q); (23) has E[B̄] = I, W̄ = L̄ and
E[B̄L̄B̄] = W̄ for every n (symbolic n), so θ* = 1 and one step at γ = 1 converges."""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.ist_comparison import d, derive, ell, kappa, n, q


def test_ist_comparison_holds_and_is_general():
    D = derive().require()
    assert D.strength == "PROVED", [s.name for s in D.weakest()]
    assert D.counts()["general"] >= 20
    assert not any("unstated" in s.sizes for s in D.steps)
    assert all(s.role == "evidence" for s in D.steps if s.kind != "general")
    assert not D.loose()


@pytest.mark.parametrize("kw, failing", [
    (dict(omega_perm=n), ("Perm-q: ω = n²P(j ∈ S_i) − 1 = n − 1", "n = 1: ω = 0 ≤ 1/κ²")),
    (dict(omega_perm=2 * (n - 1)), ("Perm-q: ω = n²P(j ∈ S_i) − 1 = n − 1", "hidden constant c")),
    (dict(omega_perm=n - 2), ("Perm-q: ω = n²P(j ∈ S_i) − 1 = n − 1", "equality needs m = 0", "… and t = 0")),
    (dict(omega_rand=d / q), ("Rand-q: ω = (d/q)²P(j ∈ S) − 1 = d/q − 1", "Rand-q: the root is q = threshold")),
    (dict(threshold=d * kappa / (1 + kappa)), ("Rand-q: the root is q = threshold", "threshold − d/2")),
    (dict(threshold=d / 2), ("Rand-q: the root is q = threshold", "threshold/d → 1")),
    (dict(kept_fraction=sp.Rational(2, 3)), ("threshold − d/2", "threshold ≥ d/2 for every κ")),
    (dict(theta=sp.Rational(1, 2)), ("(14) under (23): the stated θ", "(16)/(25) at γ = 1/θ")),
    (dict(precond_scale=1 / sp.sqrt(ell)), ("(23), every n = d: E[B̄] = I", "(23), every n = d: W̄",
                                           "(23), every n = d: (L_i)_jj·s_ij²/n = 1")),
])
def test_ist_comparison_mutations_fail(kw, failing):
    D = derive(**kw)
    for name in failing:
        assert D.failing(name, "disproved"), name
    with pytest.raises(ProofFailure, match=re.escape(failing[0])):
        D.require()


def test_theta_larger_than_sharp_is_loose_not_disproved():
    """θ = 2 is a valid constant in (14) (loose); only the one-step claim (25) at γ = 1/θ fails."""
    D = derive(theta=sp.Integer(2))
    assert [s.verdict for s in D.steps if s.name.startswith("(14) under (23)")] == ["loose"]
    assert D.failing("(16)/(25) at γ = 1/θ", "disproved")
    assert [s.name for s in D.failed()] == [s.name for s in D.failing("(16)/(25)")]


@pytest.mark.parametrize("kw, general", [
    # θ = 1 + (n−2)(n−3) is 1 at n = 2, 3: the fixed-size engine steps hold, the general (25) step fails
    (dict(theta=1 + (n - 2) * (n - 3)), "(16)/(25) at γ = 1/θ"),
    # the scale √(n² − 4n + 6)/√ℓ is √n/√ℓ at n = 2, 3
    (dict(precond_scale=sp.sqrt(n**2 - 4 * n + 6) / sp.sqrt(ell)), "(23), every n = d: E[B̄] = I"),
])
def test_general_steps_catch_what_fixed_sizes_miss(kw, general):
    D = derive(**kw)
    assert D.failing(general, "disproved")
    fixed = [s for s in D.steps if s.kind == "fixed-size"]
    assert len(fixed) == 2 and all(s.holds for s in fixed)
