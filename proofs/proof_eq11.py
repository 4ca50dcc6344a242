"""(11): E‖∇f(Cx)‖² = 4xᵀE[CA²C]x with E[CA²C] ≻ 0, growing like t² along rays: no G bounds it."""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.eq11 import derive


def test_eq11_holds():
    D = derive().require()
    assert sum(s.kind == "symbolic" for s in D.steps) >= 12


@pytest.mark.parametrize("kw, failing", [
    (dict(factor=sp.Integer(2)), ("Perm-1 (n = d = 3): E‖∇f(Cx)‖² (enumeration) = 4 xᵀE[CA²C]x", "uncompressed")),
    (dict(factor=sp.Integer(1)), ("Rand-2 (d = 3): E‖∇f(Cx)‖² (enumeration) = 4 xᵀE[CA²C]x", "uncompressed")),
    (dict(growth_power=sp.Integer(1)), ("along x = t·v",)),
    (dict(growth_power=sp.Integer(0)), ("along x = t·v", "→ ∞")),
])
def test_eq11_mutations_fail(kw, failing):
    D = derive(**kw)
    for name in failing:
        assert D.failing(name, "disproved"), name
    with pytest.raises(ProofFailure, match=re.escape(failing[0])):
        D.require()
