"""Theorem 2 (29)–(30), corrected: ‖h‖² in the L̄ norm, coefficient 1, any γ ∈ (0, 1];
exact limit ‖h‖²_L̄ + γσ²/(2−γ)."""

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.theorem2 import derive, g_


def test_theorem2_corrected_holds():
    d = derive().require()
    assert sum(s.kind == "symbolic" for s in d.steps) >= 9


@pytest.mark.parametrize("kw", [dict(h_coef=sp.Rational(1, 2)), dict(sigma_coef=g_ / 2),
                                dict(limit_sigma_coef=g_ / 2), dict(limit_sigma_coef=g_)])
def test_theorem2_mutations_fail(kw):
    with pytest.raises(ProofFailure):
        derive(**kw).require()
