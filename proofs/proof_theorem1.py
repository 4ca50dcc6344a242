"""Theorem 1 (14)–(16), interpolation: one-step identity, descent under (14) with γ ≤ 1/θ, rate (16)."""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.theorem1 import derive


def test_theorem1_holds():
    d = derive().require()
    assert sum(s.kind == "symbolic" for s in d.steps) >= 12
    assert sum(s.kind == "numeric" for s in d.steps) >= 3


@pytest.mark.parametrize("kw, failing", [
    (dict(step_bound=2), "(15) per-step descent holds"),       # γ ≤ 2/θ: descent (15) fails on instances
    (dict(rate=sp.Integer(1)), "2·descent·γ − rate ≥ 0"),      # rate without γ
    (dict(descent=sp.Integer(1)), "1 − descent − γθ/2 ≥ 0"),   # factor ½ → 1 in (15)
])
def test_theorem1_mutations_fail(kw, failing):
    with pytest.raises(ProofFailure, match=re.escape(failing)):
        derive(**kw).require()
