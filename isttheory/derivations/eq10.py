"""(10): ``E[∇f(C(x))] ≠ ∇f(x) = E[C(∇f(x))]`` in general — and where IST's bias really comes from.

General steps (every dimension, symbolic ``n, q, d`` through the inclusion probabilities of
:mod:`isttheory.symbolic.inclusion`; matrix symbols of symbolic size):

* Unbiasedness: ``E[C]_jj = s·P(j ∈ S) = 1`` for Perm-q (7) (``s = n``, ``d = qn``) and Rand-q (4)
  (``s = d/q``); ``C`` is diagonal, so ``E[C] = I``.
* Right side of (10): ``E[C ∇f(x)] = E[C] ∇f(x) = ∇f(x)`` by linearity (``∇f(x)`` is not random).
* For a *quadratic* ``f(x) = ½xᵀLx − bᵀx`` the left side is also ``∇f(x)``:
  ``∇f(Cx) = LCx − b`` is affine in ``C``, so ``E[∇f(Cx)] = L E[C] x − b = ∇f(x)``.
  (10) holds *with equality* for every quadratic, in particular for (12).
* A non-quadratic example: coordinate ``j`` of Rand-1 in dimension ``d`` is ``c ∈ {0, d}`` with
  ``P(c = d) = 1/d``, so ``E[c] = 1`` and ``E[c³] = d²``; for ``f(x) = x⁴/4``,
  ``E[∇f(cx)] = E[c³]x³ = d²x³ ≠ x³ = ∇f(x)`` for ``d ≥ 2``, ``x ≠ 0``. The paper-sized example is
  ``d = 2``: ``c ∈ {0, 2}`` w.p. ½, ``E[c³] = 4``.
* The bias of IST's estimator (5), ``g = (1/n) Σ C_i ∇f_i(C_i x)``, comes from the *outer* ``C_i``:
  ``E[C_i L C_i]_jk = n²P(j, k ∈ S_i)L_jk``, so for Perm-q (``d = qn``)

      E[C_i L C_i] = n·Diag(L) + n(q − 1)/(qn − 1)·(L − Diag(L)),

  (Perm-1: ``n·Diag(L)``): the diagonal is inflated by ``n`` and the off-diagonal part shrunk by
  ``(n − 1)/(qn − 1)``, so ``E[g(x)] = E[B̄]x − b̄ ≠ ∇f(x)`` for ``n ≥ 2``.

Evidence only (not counted): the same expectations by enumerating every outcome of Perm-1
(``n = d = 3``), Rand-1 and Rand-2 (``d = 3``) and Rand-1 (``d = 2``) with explicit symbolic ``L, b, x``;
the closed form against the engine at ``(n, d) = (2, 2), (3, 3), (2, 4)``; a float instance.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..generators import heterogeneous
from ..moments import SketchMoments
from ..sketches import Permutation, RandQ
from ..symbolic import contractions
from ..symbolic.inclusion import UniformPartition, d, n, q
from .base import GENERAL, Derivation, at, stack, symbolic_expectation, symmetric_matrix, tex_plus, tex_times, vector
from .def1 import exact_outcomes
from .matrix_algebra import matrix_coefficients

DIAG_COEF = n
OFFDIAG_COEF = n * (q - 1) / (q * n - 1)
CUBE_MOMENT = sp.Integer(4)
#: E[c³] for coordinate j of Rand-1 in dimension d (c ∈ {0, d}, P(c = d) = 1/d)
CUBE_MOMENT_D = d**2
#: the scales of Perm-q (7) and Rand-q (4)
PERM_SCALE = n
RAND_SCALE = d / q


def derive(cube_moment: sp.Expr = CUBE_MOMENT, diag_coef: sp.Expr = DIAG_COEF,
           offdiag_coef: sp.Expr = OFFDIAG_COEF, cube_moment_d: sp.Expr = CUBE_MOMENT_D,
           perm_scale: sp.Expr = PERM_SCALE, rand_scale: sp.Expr = RAND_SCALE) -> Derivation:
    """(10) with the example's ``E[c³] = cube_moment`` (4 at d = 2), ``E[c³] = cube_moment_d`` (d²) in
    dimension d, the scales ``perm_scale`` (n) and ``rand_scale`` (d/q) behind ``E[C] = I``, and the
    Perm-q closed form ``E[C_i L C_i] = diag_coef·Diag(L) + offdiag_coef·(L − Diag(L))``
    (n, n(q−1)/(qn−1))."""
    D = Derivation("(10) bias of compressed-model gradients", ("(5)", "(10)"),
                   constants={"cube_moment": cube_moment, "diag_coef": diag_coef, "offdiag_coef": offdiag_coef,
                              "cube_moment_d": cube_moment_d, "perm_scale": perm_scale, "rand_scale": rand_scale})
    cube_moment, diag_coef, offdiag_coef, cube_moment_d, perm_scale, rand_scale = (
        sp.sympify(v) for v in (cube_moment, diag_coef, offdiag_coef, cube_moment_d, perm_scale, rand_scale))
    p1_perm = sp.simplify(UniformPartition.p_same_expr(1).subs(d, q * n))
    p2_perm = sp.simplify(UniformPartition.p_same_expr(2).subs(d, q * n))
    p1_rand = UniformPartition.p_same_expr(1)

    # unbiasedness, symbolic n, q, d
    e_perm = sp.simplify(perm_scale * p1_perm)
    e_rand = sp.simplify(rand_scale * p1_rand)
    D.symbolic("Perm-q: E[C_i]_jj = n·P(j ∈ S_i) = 1 (d = qn; every n, q), so E[C_i] = I", "(7)", e_perm - 1,
               f"scale {perm_scale}, P(j ∈ S_i) = {p1_perm}", reach=GENERAL)
    D.symbolic("Rand-q: E[C]_jj = (d/q)·P(j ∈ S) = 1 (every d, q), so E[C] = I", "(4)", e_rand - 1,
               f"scale {rand_scale}, P(j ∈ S) = {p1_rand}", reach=GENERAL)

    # the two sides of (10), any dimension: E[C] = e·I
    G, x, b = sp.MatrixSymbol("g", d, 1), sp.MatrixSymbol("x", d, 1), sp.MatrixSymbol("b", d, 1)
    L = sp.MatrixSymbol("L", d, d)
    right = [matrix_coefficients((e * sp.Identity(d)) * G - G) for e in (e_perm, e_rand)]
    D.symbolic("any f: E[C ∇f(x)] = E[C]∇f(x) = ∇f(x) (linearity; Perm-q and Rand-q, every d)", "(10)",
               sp.Matrix.vstack(*right), reach=GENERAL)
    grad = sp.diff(x.T * L * x / 2 - b.T * x, x).xreplace({L.T: L})
    left = [matrix_coefficients((L * (e * sp.Identity(d)) * x - b) - (L * x - b)) for e in (e_perm, e_rand)]
    D.symbolic("quadratic f = ½xᵀLx − bᵀx: ∇f(y) = Ly − b and E[∇f(Cx)] = L E[C] x − b = ∇f(x) (equality in (10); "
               "Perm-q and Rand-q, every d)", "(10)",
               sp.Matrix.vstack(matrix_coefficients(grad - (L * x - b)), *left), f"∇f(x) = {grad.doit()}",
               reach=GENERAL)

    # non-quadratic example: coordinate j of Rand-1 in dimension d, c ∈ {0, d}, P(c = d) = P(j ∈ S) = 1/d
    pc = sp.simplify(p1_rand.subs(q, 1))
    c_law = [(1 - pc, sp.Integer(0)), (pc, d)]
    Ec = sp.simplify(sum((p * c for p, c in c_law), sp.Integer(0)))
    Ec3 = sp.simplify(sum((p * c**3 for p, c in c_law), sp.Integer(0)))
    D.symbolic("Rand-1 coordinate in dimension d: c ∈ {0, d}, P(c = d) = 1/d: E[c] = 1 (unbiased, every d)", "(3)",
               Ec - 1, f"P(c = d) = {pc}", reach=GENERAL)
    D.symbolic("… E[c³] = d² (every d)", "(10)", Ec3 - cube_moment_d, f"E[c³] = {Ec3}, claimed {cube_moment_d}",
               reach=GENERAL)
    D.symbolic("the example d = 2 (c ∈ {0, 2} w.p. ½): E[c³] = 4", "(10)", Ec3.subs(d, 2) - cube_moment,
               f"E[c³] = {Ec3.subs(d, 2)}, claimed {cube_moment}", reach=GENERAL)
    y, xs = sp.Symbol("y", real=True), sp.Symbol("x", real=True)
    df = sp.diff(y**4 / 4, y)
    lhs = sp.simplify(sum((p * df.subs(y, c * xs) for p, c in c_law), sp.Integer(0)))
    rhs = sp.simplify(sum((p * c * df.subs(y, xs) for p, c in c_law), sp.Integer(0)))
    D.symbolic("f = x⁴/4: E[∇f(cx)] = E[c³] x³ and E[c ∇f(x)] = x³ = ∇f(x) (every x, d)", "(10)",
               sp.Matrix([lhs - cube_moment_d * xs**3, rhs - df.subs(y, xs)]), reach=GENERAL)
    D.symbolic("f = x⁴/4, d = 2: E[∇f(cx)] − ∇f(x) = (E[c³] − 1)x³", "(10)",
               (lhs - df.subs(y, xs)).subs(d, 2) - (cube_moment - 1) * xs**3, f"E[c³] = {cube_moment}",
               reach=GENERAL)
    kk = sp.Symbol("k", nonnegative=True)  # d = 2 + k
    D.symbolic_true("E[c³] − 1 ≠ 0: d² − 1 > 0 for every d ≥ 2 (and E[c³] − 1 ≠ 0 at d = 2), so E[∇f(cx)] ≠ ∇f(x) "
                    "for every x ≠ 0", "(10)",
                    sp.And(sp.Gt(sp.expand(cube_moment_d.subs(d, 2 + kk)) - 1, 0), sp.Ne(cube_moment - 1, 0)),
                    f"E[c³] − 1 = {cube_moment_d - 1} (d = 2: {cube_moment - 1})", reach=GENERAL)

    # IST's estimator (5): outer C_i makes it biased even for quadratics; Perm-q closed form in n, q
    D.symbolic("Perm-q: E[C L C]_jj = n²·P(j ∈ S) L_jj = n L_jj (every n, q)", "(5)",
               sp.simplify(perm_scale**2 * p1_perm - diag_coef), f"n²·P = {sp.simplify(perm_scale**2 * p1_perm)}",
               reach=GENERAL)
    D.symbolic("Perm-q: E[C L C]_jk = n²·P(j, k ∈ S) L_jk = n(q−1)/(qn−1) L_jk (every n, q)", "(5)",
               sp.simplify(perm_scale**2 * p2_perm - offdiag_coef), f"n²·P = {sp.factor(perm_scale**2 * p2_perm)}",
               reach=GENERAL)
    m = sp.Symbol("m", nonnegative=True)  # n = 2 + m
    D.symbolic_true("bias on the diagonal: E[CLC]_jj − L_jj = (n − 1)L_jj with n − 1 > 0 for n ≥ 2", "(5)",
                    sp.Gt(sp.sympify(diag_coef).subs(n, 2 + m) - 1, 0), reach=GENERAL)
    D.symbolic("bias off the diagonal: n(q−1)/(qn−1) − 1 = −(n−1)/(qn−1)", "(5)",
               sp.sympify(offdiag_coef) - 1 + (n - 1) / (q * n - 1), reach=GENERAL)
    r = sp.Symbol("r", nonnegative=True)  # q = 1 + r
    off_bias = sp.factor(sp.together((offdiag_coef - 1).subs({n: 2 + m, q: 1 + r})))
    D.symbolic_true("off-diagonal shrunk: n(q−1)/(qn−1) − 1 < 0 for n ≥ 2, q ≥ 1 (n = 2 + m, q = 1 + r)", "(5)",
                    sp.Lt(off_bias, 0), f"n(q−1)/(qn−1) − 1 = {off_bias}", reach=GENERAL)

    # evidence: enumeration of every outcome at fixed sizes, with explicit symbolic L, b, x
    x3, L3, b3 = vector("x", 3), symmetric_matrix("L", 3), vector("b", 3)
    grad3 = L3 * x3 - b3
    sketches = {"Perm-1 (n = d = 3)": (Permutation(3, 3), at(n=3, d=3)), "Rand-1 (d = 3)": (RandQ(1, 3, 1), at(d=3)),
                "Rand-2 (d = 3)": (RandQ(1, 3, 2), at(d=3))}
    for label, (sk, reach) in sketches.items():
        outs = exact_outcomes(sk)
        right3 = sum((p * Cs[0] * grad3 for p, Cs in outs), sp.zeros(3, 1))
        left3 = sum((p * (L3 * (Cs[0] * x3) - b3) for p, Cs in outs), sp.zeros(3, 1))
        D.symbolic(f"{label}, enumerated: E[C ∇f(x)] = ∇f(x) and E[∇f(Cx)] = ∇f(x) (quadratic f)", "(10)",
                   sp.Matrix.vstack(right3 - grad3, left3 - grad3), reach=reach, role="evidence")
    c_outs = [(p, Cs[0][0, 0]) for p, Cs in exact_outcomes(RandQ(1, 2, 1))]
    D.symbolic("Rand-1 (d = 2), enumerated: E[c] = 1 and E[c³] = 4", "(10)",
               sp.Matrix([sum((p * c for p, c in c_outs), sp.Integer(0)) - 1,
                          sum((p * c**3 for p, c in c_outs), sp.Integer(0)) - cube_moment_d.subs(d, 2)]),
               f"outcomes {c_outs}", reach=at(d=2), role="evidence")
    for n0, d0 in ((2, 2), (3, 3), (2, 4)):
        Lm = symmetric_matrix("L", d0)
        Dg = sp.diag(*[Lm[j, j] for j in range(d0)])
        E = symbolic_expectation(contractions.CAC, Permutation(n0, d0), [stack([Lm] * n0)])
        vals = {n: n0, q: d0 // n0}
        claimed = diag_coef.subs(vals) * Dg + offdiag_coef.subs(vals) * (Lm - Dg)
        D.symbolic(f"Perm-{d0 // n0}, n = {n0}: engine E[C_i L C_i] = closed form, every client", "(5)",
                   sp.Matrix.vstack(*[sp.Matrix(E[i].tolist()) - claimed for i in range(n0)]),
                   reach=at(n=n0, d=d0), role="evidence")
    prob = heterogeneous(2, 4, 0.8, seed=3)
    mo = SketchMoments(prob, Permutation(2, 4))
    bias = mo.expected_B @ prob.x_star - mo.expected_Cb
    D.numeric("Perm-2 (n = 2, d = 4), heterogeneous: E[(Cb)‾] = b̄ but E[g(x*)] ≠ 0 (floats)", "(5)",
              bool(np.allclose(mo.expected_Cb, prob.b_bar) and np.linalg.norm(bias) > 1e-3),
              f"‖E[g(x*)]‖ = {np.linalg.norm(bias):.4g}, ‖∇f(x*)‖ = {np.linalg.norm(prob.grad(prob.x_star)):.2g}",
              role="evidence")
    D.latex["ECLC"] = tex_plus(tex_times(diag_coef, r"\mathrm{Diag}(L)"),
                               tex_times(offdiag_coef, r"L - \mathrm{Diag}(L)", body_is_sum=True))
    return D
