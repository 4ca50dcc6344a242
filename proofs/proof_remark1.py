"""Remark 1 (18)–(19): W̄ not PSD for c > 2ab/(a+b); the exact scale factor is n = 2."""

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.remark1 import a, b, derive


def test_remark1_holds():
    d = derive().require()
    assert d.holds and sum(s.kind == "symbolic" for s in d.steps) >= 8


@pytest.mark.parametrize("kw,step", [
    (dict(scale=1), "W̄ = scale"), (dict(scale=sp.Rational(1, 2)), "W̄ = scale"),
    (dict(threshold=a * b / (a + b)), "the root is the claimed threshold"),
    (dict(threshold=2 * a * b / (a + b) + 1), "the root is the claimed threshold"),
])
def test_remark1_mutations_fail(kw, step):
    d = derive(**kw)
    assert any(s.name.startswith(step) for s in d.failed()), [s.name for s in d.failed()]
    with pytest.raises(ProofFailure):
        d.require()
