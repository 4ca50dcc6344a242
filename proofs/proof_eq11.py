"""(11): E‖∇f(Cx)‖² = 4xᵀE[CA²C]x with E[CA²C] ≻ 0, growing like t² along rays: no G bounds it."""

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.eq11 import derive


def test_eq11_holds():
    D = derive().require()
    assert sum(s.kind == "symbolic" for s in D.steps) >= 12


@pytest.mark.parametrize("kw", [dict(factor=sp.Integer(2)), dict(factor=sp.Integer(1)),
                                dict(growth_power=sp.Integer(1)), dict(growth_power=sp.Integer(0))])
def test_eq11_mutations_fail(kw):
    D = derive(**kw)
    assert any(s.kind == "symbolic" for s in D.failed())
    with pytest.raises(ProofFailure):
        D.require()
