"""(10): equality for quadratics; a quartic counterexample with E[c³] = 4; IST's bias from the outer C_i in (5)."""

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.eq10 import derive, n, q


def test_eq10_holds():
    D = derive().require()
    assert sum(s.kind == "symbolic" for s in D.steps) >= 15


@pytest.mark.parametrize("kw", [dict(cube_moment=sp.Integer(1)), dict(cube_moment=sp.Integer(2)),
                                dict(diag_coef=sp.Integer(1)), dict(offdiag_coef=sp.Integer(1)),
                                dict(offdiag_coef=(q - 1) / (q * n - 1))])
def test_eq10_mutations_fail(kw):
    D = derive(**kw)
    assert any(s.kind == "symbolic" for s in D.failed())
    with pytest.raises(ProofFailure):
        D.require()
