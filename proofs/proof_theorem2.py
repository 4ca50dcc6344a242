"""Theorem 2 (29)–(30), corrected: ‖h‖² in the L̄ norm, coefficient 1, any γ ∈ (0, 1];
exact limit ‖h‖²_L̄ + γσ²/(2−γ)."""

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.theorem2 import derive, g_


def test_theorem2_corrected_holds():
    d = derive().require()
    assert sum(s.kind == "symbolic" for s in d.steps) >= 12


@pytest.mark.parametrize("kw,step", [
    (dict(h_coef=sp.Rational(1, 2)), "per-step"),
    (dict(sigma_coef=g_ / 2), "per-step"),
    (dict(sigma_coef=g_ / 2), "corrected (30) holds on exact trajectories"),
    (dict(limit_sigma_coef=g_ / 2), "stationary covariance"),
    (dict(limit_sigma_coef=g_ / 2), "exact limit equals"),
    (dict(limit_sigma_coef=g_), "stationary covariance"),
])
def test_theorem2_mutations_fail(kw, step):
    d = derive(**kw)
    assert any(s.name.startswith(step) for s in d.failed()), [s.name for s in d.failed()]
    with pytest.raises(ProofFailure):
        d.require()
