"""(11): E‖∇f(Cx)‖² = 4xᵀE[CA²C]x (any dimension) with E[CA²C] ≻ 0 (α − β > 0, β ≥ 0 for Rand-q and Perm-q,
symbolic d, q, n), growing like t² along rays: no G bounds it."""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.eq11 import d, derive, n, q
from isttheory.derivations.matrix_algebra import matrix_coefficients


def test_eq11_holds_and_is_general():
    D = derive().require()
    assert D.strength == "PROVED", [s.name for s in D.weakest()]
    assert D.counts()["general"] >= 10
    assert not any("unstated" in s.sizes for s in D.steps)
    assert all(s.role == "evidence" for s in D.steps if s.kind != "general")


def test_matrix_coefficients():
    A, x = sp.MatrixSymbol("A", d, d), sp.MatrixSymbol("x", d, 1)
    assert matrix_coefficients(A * x - A * x) == sp.Matrix([0])
    assert matrix_coefficients(3 * A * x - A * x) == sp.Matrix([2])
    assert set(matrix_coefficients(A * x + A.T * x - 2 * A * x)) == {1, -1}


@pytest.mark.parametrize("kw, failing, still_holds", [
    (dict(factor=sp.Integer(2)), ("‖∇f(Cx)‖² = factor·xᵀCA²Cx", "uncompressed"), ()),
    (dict(factor=sp.Integer(1)), ("‖∇f(Cx)‖² = factor·xᵀCA²Cx", "uncompressed"), ()),
    (dict(grad_coef=sp.Integer(1)), ("∇(xᵀAx) = 2Ax",), ()),
    (dict(growth_power=sp.Integer(1)), ("along x = t·v", "explicitly: at t = √(G/c) + 1"), ()),
    (dict(growth_power=sp.Integer(0)), ("along x = t·v", "t^growth_power·c → ∞", "explicitly: at t = √(G/c) + 1"),
     ()),
    # nq = nq(n−1)/(qn−1) for Perm-1 (q = 1): the fixed-size Perm-1 SOS checks miss it
    (dict(perm_gap=n * q), ("Perm-q: β = n²P(j, k ∈ S_i)",), ("Perm-1 (n = d = 2): xᵀE[CA²C]x",
                                                             "Perm-1 (n = d = 3): xᵀE[CA²C]x")),
    # (q−1)/(qn−1) = n(q−1)/(qn−1) = 0 for Perm-1
    (dict(perm_beta=(q - 1) / (q * n - 1)), ("Perm-q: β = n²P(j, k ∈ S_i)",), ("Perm-1 (n = d = 2): xᵀE[CA²C]x",
                                                                              "Perm-1 (n = d = 3): xᵀE[CA²C]x")),
    # agrees with d(d − q)/(q(d − 1)) at d = 3, q = 2: the Rand-2 SOS check misses it
    (dict(rand_gap=d * (d - q) / (q * (d - 1)) + (d - 3) * (q - 2)), ("Rand-q: β = (d/q)²P(j, k ∈ S)",),
     ("Rand-2 (d = 3): xᵀE[CA²C]x",)),
    (dict(rand_beta=(q - 1) / q), ("Rand-q: β = (d/q)²P(j, k ∈ S)",), ()),
])
def test_eq11_mutations_fail(kw, failing, still_holds):
    D = derive(**kw)
    for name in failing:
        assert D.failing(name, "disproved"), name
    for name in still_holds:
        held = [s for s in D.steps if s.name.startswith(name)]
        assert held and all(s.holds for s in held), name
    with pytest.raises(ProofFailure, match=re.escape(failing[0])):
        D.require()
