"""(10): equality for quadratics; a quartic counterexample with E[c³] = 4; IST's bias from the outer C_i in (5)."""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.eq10 import derive, n, q


def test_eq10_holds():
    D = derive().require()
    assert sum(s.kind == "symbolic" for s in D.steps) >= 15


@pytest.mark.parametrize("kw, failing", [
    # E[c³] = 1 would make (10) hold for the quartic: the gap and its non-vanishing are both refuted
    (dict(cube_moment=sp.Integer(1)), ("E[c³] = 4", "E[∇f(cx)] − ∇f(x) = (E[c³] − 1)x³", "E[c³] − 1 ≠ 0")),
    (dict(cube_moment=sp.Integer(2)), ("E[c³] = 4", "E[∇f(cx)] = E[c³] x³", "E[∇f(cx)] − ∇f(x) = (E[c³] − 1)x³")),
    (dict(diag_coef=sp.Integer(1)), ("Perm-q: E[C L C]_jj", "Perm-1, n = 3: engine E[C_i L C_i] = closed form",
                                     "bias on the diagonal")),
    (dict(offdiag_coef=sp.Integer(1)), ("Perm-q: E[C L C]_jk", "Perm-1, n = 3: engine E[C_i L C_i] = closed form",
                                        "bias off the diagonal")),
    (dict(offdiag_coef=(q - 1) / (q * n - 1)), ("Perm-q: E[C L C]_jk",
                                                "Perm-2, n = 2: engine E[C_i L C_i] = closed form")),
])
def test_eq10_mutations_fail(kw, failing):
    D = derive(**kw)
    for name in failing:
        assert D.failing(name, "disproved"), name
    with pytest.raises(ProofFailure, match=re.escape(failing[0])):
        D.require()
