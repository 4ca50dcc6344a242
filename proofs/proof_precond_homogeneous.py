"""§3.1.1 (20)–(22): x̃ = D^{1/2}x gives Diag(L̃) = I; Perm-1: B̄ = nI, W̃ = nL̃, (14) iff θ ≥ n;
(22) (1/K)Σ‖∇f̃‖² ≤ 2λ_max(L̃)(f̃⁰ − f̃^K)/K at γ = 1/n."""

import re

import pytest

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.precond_homogeneous import derive, n_s

GE = "(14) for every θ ≥ theta_min"
TIGHT = "tight: (14) fails at θ = theta_min − ε"


def test_precond_homogeneous_holds():
    d = derive().require()
    assert sum(s.kind == "symbolic" for s in d.steps) >= 10


@pytest.mark.parametrize("kw, failing", [
    (dict(theta_min=n_s - 1), (GE,)),
    (dict(theta_min=n_s**2 / 3), (GE, TIGHT)),   # = n at n = 3 only: refuted for general n ≥ 2
    (dict(theta_min=n_s + 1), (TIGHT,)),         # admissible but not the smallest
    (dict(theta_min=3), (GE, TIGHT)),
    (dict(lam_coef=1), ("(22) with γ = 1/θ",)),
    (dict(ebar=1), ("E[B̄] = ebar·I (engine)",)),
])
def test_precond_homogeneous_mutations_fail(kw, failing):
    d = derive(**kw)
    for name in failing:
        assert d.failing(name, "disproved"), name
    with pytest.raises(ProofFailure, match=re.escape(failing[0])):
        d.require()
