"""Assumption 1 (8) for (12): f is L̄-smooth with equality (the ½ is exact and L̄ is minimal)."""

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.smoothness import derive


def test_smoothness_holds():
    D = derive().require()
    assert sum(s.kind == "symbolic" for s in D.steps) >= 5


def test_quarter_fails_the_inequality_direction():
    D = derive(half=sp.Rational(1, 4))
    failed = {s.kind for s in D.failed()}
    assert failed == {"symbolic", "numeric"}  # the exact expansion, the sign, and a numeric instance
    with pytest.raises(ProofFailure):
        D.require()


@pytest.mark.parametrize("half", [sp.Rational(1, 4), sp.Rational(3, 4), sp.Integer(1)])
def test_smoothness_mutations_fail(half):
    D = derive(half=half)
    assert D.failing("f(x + h) = f(x) + ⟨∇f(x), h⟩ + ½hᵀL̄h exactly", "disproved")
    if half < sp.Rational(1, 2):
        assert D.failing("(8) direction: c − ½ ≥ 0", "disproved")
    with pytest.raises(ProofFailure):
        D.require()
