"""Remark 1 (18)–(19): W̄ not PSD for c > 2ab/(a+b); the exact scale factor is n = 2."""

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.remark1 import a, b, derive


def test_remark1_holds():
    d = derive().require()
    assert d.holds and len(d.steps) >= 6


@pytest.mark.parametrize("kw", [dict(scale=1), dict(scale=sp.Rational(1, 2)), dict(threshold=a * b / (a + b)),
                                dict(threshold=2 * a * b / (a + b) + 1)])
def test_remark1_mutations_fail(kw):
    with pytest.raises(ProofFailure):
        derive(**kw).require()
