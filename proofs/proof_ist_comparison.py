"""§4.3: ω ≲ μ²/L² forces n ≤ 2 (Perm-q) or q ≥ dκ²/(1+κ²) ≥ d/2 (Rand-q); (23) has θ = 1 for every n."""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.ist_comparison import d, derive, kappa, n, q


def test_ist_comparison_holds():
    D = derive().require()
    assert sum(s.kind == "symbolic" for s in D.steps) >= 18


@pytest.mark.parametrize("kw, failing", [
    (dict(omega_perm=n), ("Perm-q: ω = n²P(j ∈ S_i) − 1 = n − 1", "n = 1: ω = 0 ≤ 1/κ²")),
    (dict(omega_perm=n - 2), ("Perm-q: ω = n²P(j ∈ S_i) − 1 = n − 1", "equality needs m = 0", "… and t = 0")),
    (dict(omega_rand=d / q), ("Rand-q: ω = (d/q)²P(j ∈ S) − 1 = d/q − 1", "Rand-q: the root is q = threshold")),
    (dict(threshold=d * kappa / (1 + kappa)), ("Rand-q: the root is q = threshold", "threshold − d/2")),
    (dict(threshold=d / 2), ("Rand-q: the root is q = threshold", "threshold/d → 1")),
    (dict(theta=sp.Integer(2)), ("(23), n = d = 3: E[B̄L̄B̄] = θW̄ with θ = 1", "(16) at γ = 1/θ")),
    (dict(theta=sp.Rational(1, 2)), ("(23), n = d = 2: E[B̄L̄B̄] = θW̄ with θ = 1", "(16) at γ = 1/θ")),
])
def test_ist_comparison_mutations_fail(kw, failing):
    D = derive(**kw)
    for name in failing:
        assert D.failing(name, "disproved"), name
    with pytest.raises(ProofFailure, match=re.escape(failing[0])):
        D.require()
