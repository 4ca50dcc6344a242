"""(10): equality for quadratics (any dimension); E[c³] = d² for a Rand-1 coordinate, 4 in the example d = 2;
IST's bias from the outer C_i in (5): E[C_i L C_i] = n Diag(L) + n(q−1)/(qn−1)(L − Diag L), symbolic n, q."""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.eq10 import d, derive, n, q


def test_eq10_holds_and_is_general():
    D = derive().require()
    assert D.strength == "PROVED", [s.name for s in D.weakest()]
    assert D.counts()["general"] >= 14
    assert not any("unstated" in s.sizes for s in D.steps)
    assert all(s.role == "evidence" for s in D.steps if s.kind != "general")


@pytest.mark.parametrize("kw, failing, still_holds", [
    # E[c³] = 1 would make (10) hold for the quartic: the gap and its non-vanishing are both refuted
    (dict(cube_moment=sp.Integer(1)), ("the example d = 2 (c ∈ {0, 2} w.p. ½): E[c³] = 4",
                                       "f = x⁴/4, d = 2: E[∇f(cx)] − ∇f(x)", "E[c³] − 1 ≠ 0"), ()),
    (dict(cube_moment=sp.Integer(2)), ("the example d = 2", "f = x⁴/4, d = 2: E[∇f(cx)] − ∇f(x)"), ()),
    # 2d = d² at d = 2: the enumeration of Rand-1 at d = 2 misses it
    (dict(cube_moment_d=2 * d), ("… E[c³] = d²", "f = x⁴/4: E[∇f(cx)] = E[c³] x³"),
     ("Rand-1 (d = 2), enumerated",)),
    (dict(perm_scale=sp.Integer(3)), ("Perm-q: E[C_i]_jj", "any f: E[C ∇f(x)]", "quadratic f"),
     ("Perm-1 (n = d = 3), enumerated",)),
    (dict(rand_scale=d), ("Rand-q: E[C]_jj", "any f: E[C ∇f(x)]", "quadratic f"), ()),
    (dict(diag_coef=sp.Integer(1)), ("Perm-q: E[C L C]_jj", "bias on the diagonal",
                                     "Perm-1, n = 3: engine E[C_i L C_i] = closed form"), ()),
    (dict(offdiag_coef=sp.Integer(1)), ("Perm-q: E[C L C]_jk", "bias off the diagonal", "off-diagonal shrunk",
                                        "Perm-1, n = 3: engine E[C_i L C_i] = closed form"), ()),
    (dict(offdiag_coef=(q - 1) / (q * n - 1)), ("Perm-q: E[C L C]_jk",
                                                "Perm-2, n = 2: engine E[C_i L C_i] = closed form"), ()),
    # n + (n−2)(n−3) = n at n = 2, 3; 2(q−1)/(qn−1) = n(q−1)/(qn−1) at n = 2 and at q = 1:
    # every fixed-size engine check holds, the general steps fail
    (dict(diag_coef=n + (n - 2) * (n - 3)), ("Perm-q: E[C L C]_jj",),
     ("Perm-1, n = 2", "Perm-1, n = 3", "Perm-2, n = 2")),
    (dict(offdiag_coef=2 * (q - 1) / (q * n - 1)), ("Perm-q: E[C L C]_jk", "bias off the diagonal"),
     ("Perm-1, n = 2", "Perm-1, n = 3", "Perm-2, n = 2")),
])
def test_eq10_mutations_fail(kw, failing, still_holds):
    D = derive(**kw)
    for name in failing:
        assert D.failing(name, "disproved"), name
        assert all(s.kind == "general" for s in D.failing(name) if s.role == "decisive")
    for name in still_holds:
        held = [s for s in D.steps if s.name.startswith(name)]
        assert held and all(s.holds for s in held), name
    with pytest.raises(ProofFailure, match=re.escape(failing[0])):
        D.require()
