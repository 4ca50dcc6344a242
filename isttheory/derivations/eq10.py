"""(10): ``E[∇f(C(x))] ≠ ∇f(x) = E[C(∇f(x))]`` in general — and where IST's bias really comes from.

* Right side: for any unbiased ``C`` (``E[C] = I``), ``E[C ∇f(x)] = E[C] ∇f(x) = ∇f(x)``
  by linearity (checked by exact enumeration with symbolic ``L, b, x``).
* For a *quadratic* ``f(x) = ½xᵀLx − bᵀx`` the left side is also ``∇f(x)``:
  ``∇f(Cx) = LCx − b`` is linear in ``C``, so ``E[∇f(Cx)] = L E[C] x − b = ∇f(x)``.
  (10) holds *with equality* for every quadratic, in particular for (12).
* A non-quadratic example: ``d = 1``, ``f(x) = x⁴/4``, ``c ∈ {0, 2}`` with
  probability ½ each (coordinate 1 of Rand-1 with ``d = 2``; ``E[c] = 1``):
  ``E[∇f(cx)] = E[c³]x³ = 4x³ ≠ x³ = ∇f(x)``.
* The bias of IST's estimator (5), ``g = (1/n) Σ C_i ∇f_i(C_i x)``, comes from
  the *outer* ``C_i``: ``E[C_i L C_i] ≠ L``. For Perm-q (``d = qn``)

      E[C_i L C_i] = n·Diag(L) + n(q − 1)/(qn − 1)·(L − Diag(L)),

  (Perm-1: ``n·Diag(L)``): the diagonal is inflated by ``n`` and the
  off-diagonal part shrunk, so ``E[g(x)] = E[B̄]x − b̄ ≠ ∇f(x)`` for ``n ≥ 2``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..generators import heterogeneous
from ..moments import SketchMoments
from ..sketches import Permutation, RandQ
from ..symbolic import moments as MM
from ..symbolic.inclusion import UniformPartition, d, n, q
from .base import Derivation, stack, symbolic_expectation, symmetric_matrix, vector
from .def1 import exact_outcomes

DIAG_COEF = n
OFFDIAG_COEF = n * (q - 1) / (q * n - 1)
CUBE_MOMENT = sp.Integer(4)


def derive(cube_moment: sp.Expr = CUBE_MOMENT, diag_coef: sp.Expr = DIAG_COEF,
           offdiag_coef: sp.Expr = OFFDIAG_COEF) -> Derivation:
    """(10) with the example's ``E[c³] = cube_moment`` (4) and the Perm-q closed form
    ``E[C_i L C_i] = diag_coef·Diag(L) + offdiag_coef·(L − Diag(L))`` (n, n(q−1)/(qn−1))."""
    D = Derivation("(10) bias of compressed-model gradients", ("(5)", "(10)"),
                   constants={"cube_moment": cube_moment, "diag_coef": diag_coef, "offdiag_coef": offdiag_coef})
    x = vector("x", 3)
    L, b = symmetric_matrix("L", 3), vector("b", 3)
    grad = L * x - b
    sketches = {"Perm-1 (n = d = 3)": Permutation(3, 3), "Rand-1 (d = 3)": RandQ(1, 3, 1),
                "Rand-2 (d = 3)": RandQ(1, 3, 2)}
    for label, sk in sketches.items():
        outs = exact_outcomes(sk)
        right = sum((p * Cs[0] * grad for p, Cs in outs), sp.zeros(3, 1))
        D.symbolic(f"{label}: E[C ∇f(x)] = ∇f(x) (linearity, E[C] = I)", "(10)", right - grad)
        left = sum((p * (L * (Cs[0] * x) - b) for p, Cs in outs), sp.zeros(3, 1))
        D.symbolic(f"{label}: quadratic f: E[∇f(Cx)] = L E[C] x − b = ∇f(x) (equality in (10))", "(10)",
                   left - grad)

    # non-quadratic example: f(x) = x⁴/4, c ∈ {0, 2} w.p. ½ (coordinate 0 of Rand-1, d = 2)
    y = sp.Symbol("y", real=True)
    f4 = y**4 / 4
    df = sp.diff(f4, y)
    c_outs = [(p, Cs[0][0, 0]) for p, Cs in exact_outcomes(RandQ(1, 2, 1))]
    D.symbolic("c ∈ {0, 2} w.p. ½: E[c] = 1 (unbiased)", "(3)", sum((p * c for p, c in c_outs), sp.Integer(0)) - 1,
               f"outcomes {c_outs}")
    Ec3 = sum((p * c**3 for p, c in c_outs), sp.Integer(0))
    D.symbolic("E[c³] = 4", "(10)", Ec3 - cube_moment, f"E[c³] = {Ec3}, claimed {cube_moment}")
    xs = sp.Symbol("x", real=True)
    lhs = sum((p * df.subs(y, c * xs) for p, c in c_outs), sp.Integer(0))
    rhs = sum((p * c * df.subs(y, xs) for p, c in c_outs), sp.Integer(0))
    D.symbolic("f = x⁴/4: E[∇f(cx)] = E[c³] x³", "(10)", lhs - cube_moment * xs**3)
    D.symbolic("f = x⁴/4: E[c ∇f(x)] = x³ = ∇f(x)", "(10)", rhs - df.subs(y, xs))
    D.symbolic("f = x⁴/4: E[∇f(cx)] − ∇f(x) = (E[c³] − 1)x³", "(10)",
               lhs - df.subs(y, xs) - (cube_moment - 1) * xs**3, f"E[c³] = {cube_moment}")
    D.symbolic_true("E[c³] − 1 ≠ 0, so E[∇f(cx)] ≠ ∇f(x) for every x ≠ 0", "(10)", sp.Ne(cube_moment - 1, 0),
                    f"E[c³] − 1 = {cube_moment - 1}")

    # IST's estimator (5): outer C_i makes it biased even for quadratics; Perm-q closed form in n, q
    p1 = sp.simplify(UniformPartition.p_same_expr(1).subs(d, q * n))
    p2 = sp.simplify(UniformPartition.p_same_expr(2).subs(d, q * n))
    D.symbolic("Perm-q: E[C L C]_jj = n²·P(j ∈ S) L_jj = n L_jj", "(5)", sp.simplify(n**2 * p1 - diag_coef),
               f"n²·P = {sp.simplify(n**2 * p1)}")
    D.symbolic("Perm-q: E[C L C]_jk = n²·P(j, k ∈ S) L_jk = n(q−1)/(qn−1) L_jk", "(5)",
               sp.simplify(n**2 * p2 - offdiag_coef), f"n²·P = {sp.factor(n**2 * p2)}")
    for n0, d0 in ((2, 2), (3, 3), (2, 4)):
        Lm = symmetric_matrix("L", d0)
        Dg = sp.diag(*[Lm[j, j] for j in range(d0)])
        E = symbolic_expectation(MM.CAC, Permutation(n0, d0), [stack([Lm] * n0)])
        vals = {n: n0, q: d0 // n0}
        claimed = sp.sympify(diag_coef).subs(vals) * Dg + sp.sympify(offdiag_coef).subs(vals) * (Lm - Dg)
        D.symbolic(f"Perm-{d0 // n0}, n = {n0}: engine E[C_i L C_i] = closed form, every client", "(5)",
                   sp.Matrix.vstack(*[sp.Matrix(E[i].tolist()) - claimed for i in range(n0)]))
    m = sp.Symbol("m", nonnegative=True)  # n = 2 + m
    D.symbolic_true("bias on the diagonal: E[CLC]_jj − L_jj = (n − 1)L_jj with n − 1 > 0 for n ≥ 2", "(5)",
                    sp.Gt(sp.sympify(diag_coef).subs(n, 2 + m) - 1, 0))
    D.symbolic("bias off the diagonal: n(q−1)/(qn−1) − 1 = −(n−1)/(qn−1)", "(5)",
               sp.sympify(offdiag_coef) - 1 + (n - 1) / (q * n - 1))
    r = sp.Symbol("r", nonnegative=True)  # q = 1 + r
    D.symbolic_true("−(n−1)/(qn−1) < 0 for n ≥ 2, q ≥ 1 (n = 2 + m, q = 1 + r)", "(5)",
                    sp.Lt(-(1 + m) / sp.expand((1 + r) * (2 + m) - 1), 0))
    # numeric: a heterogeneous instance, E[g(x*)] = E[B̄]x* − E[(Cb)‾] ≠ 0 = ∇f(x*)
    prob = heterogeneous(2, 4, 0.8, seed=3)
    mo = SketchMoments(prob, Permutation(2, 4))
    bias = mo.expected_B @ prob.x_star - mo.expected_Cb
    D.numeric("Perm-2 (n = 2, d = 4), heterogeneous: E[(Cb)‾] = b̄ but E[g(x*)] ≠ 0", "(5)",
              bool(np.allclose(mo.expected_Cb, prob.b_bar) and np.linalg.norm(bias) > 1e-3),
              f"‖E[g(x*)]‖ = {np.linalg.norm(bias):.4g}, ‖∇f(x*)‖ = {np.linalg.norm(prob.grad(prob.x_star)):.2g}")
    D.latex["ECLC"] = (sp.latex(diag_coef) + r"\,\mathrm{Diag}(L) + " + sp.latex(offdiag_coef)
                       + r"\,(L - \mathrm{Diag}(L))")
    return D
