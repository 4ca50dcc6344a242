"""(32)–(35): compressed GD has variance ≤ ω‖∇f‖² and fixed point x*; one IST step from x* moves away."""

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.compressed_gd import derive, omega


def test_compressed_gd_holds():
    D = derive().require()
    assert sum(s.kind == "symbolic" for s in D.steps) >= 12


@pytest.mark.parametrize("kw", [dict(variance_coef=omega / 2), dict(variance_coef=omega - sp.Rational(1, 10)),
                                dict(gamma_power=sp.Integer(1)), dict(gamma_power=sp.Integer(3))])
def test_compressed_gd_mutations_fail(kw):
    D = derive(**kw)
    assert any(s.kind == "symbolic" for s in D.failed())
    with pytest.raises(ProofFailure):
        D.require()
