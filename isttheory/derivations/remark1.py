"""Remark 1 (18)–(19): a homogeneous 2×2 problem for which ``W̄`` is not PSD, so no ``θ`` satisfies (14).

Homogeneous, ``d = 2``, Perm-1 (so ``n = d = 2``), ``L = [[a, c], [c, b]]``
(18). Then ``E[B̄] = n D`` and ``W̄ = (n/2)(LD + DL) = n · M₁₉`` with
``M₁₉ = [[a², c(a+b)/2], [c(a+b)/2, b²]]`` (19): the scale factor is
``n = 2``. ``det M₁₉ = (ab − c(a+b)/2)(ab + c(a+b)/2)`` is negative exactly
when ``c > 2ab/(a+b)`` (for ``a, b, c > 0``), and then ``v = (−W̄₁₂, W̄₁₁)`` has
``vᵀW̄v = W̄₁₁ det W̄ < 0``. Since ``E[B̄L̄B̄] = n²DLD ⪰ 0`` for ``L ⪰ 0``,
``vᵀ(θW̄ − E[B̄L̄B̄])v < 0`` for every ``θ > 0``: (14) fails for every ``θ``. ``L``
must be PSD (``c² ≤ ab``) and ``2ab/(a+b) ≤ √(ab)`` with equality iff ``a = b``,
so the counterexample exists exactly when ``a ≠ b``, for ``2ab/(a+b) < c ≤ √(ab)``.

Reach: the claim fixes the sizes (``n = d = 2``) and leaves ``a, b, c > 0``
free; every step is symbolic in ``a, b, c`` and **general** (the engine's
moments are computed with symbolic entries), including the refutation of
``W̄ ⪰ 0`` and of (14). The instance of the paper's kind ``(a, b, c) = (1, 2, 7/5)``
and the lemma file ``remark1-w-psd`` are also certified in exact arithmetic.

Constants (mutation knobs of :func:`derive`): ``eb_scale`` (``E[B̄] = eb_scale·Diag(L)``,
2), ``scale`` (``W̄ = scale·M₁₉``, 2), ``offdiag`` (the off-diagonal of ``M₁₉``,
``c(a+b)/2``), ``det_factor`` (the factorisation of ``det M₁₉``), ``threshold``
(``2ab/(a+b)``), ``psd_gap`` (``ab − threshold² = ab(a−b)²/(a+b)²``) and
``blb_scale`` (``E[B̄L̄B̄] = blb_scale·DLD``, 4).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from ..sketches import Permutation
from ..symbolic import contractions
from .base import GENERAL, Derivation, stack, symbolic_expectation

a, b, c = sp.symbols("a b c", positive=True)
N = 2  # n = d = 2: Perm-1 on the 2×2 problem (18)


def _exact_margins(vals: dict[sp.Symbol, sp.Rational], W: sp.Matrix, BLB: sp.Matrix, L: sp.Matrix
                   ) -> tuple[sp.Matrix, sp.Expr, sp.Expr, sp.Expr]:
    """On a rational instance: ``v = (−W̄₁₂, W̄₁₁)``, ``vᵀW̄v``, ``vᵀE[B̄L̄B̄]v`` and ``det L`` (exact rationals)."""
    Wn, Bn, Ln = W.subs(vals), BLB.subs(vals), L.subs(vals)
    v = sp.Matrix([-Wn[0, 1], Wn[0, 0]])
    return v, (v.T * Wn * v)[0], (v.T * Bn * v)[0], Ln.det()


def derive(scale: sp.Expr | int = 2, threshold: sp.Expr | None = None, eb_scale: sp.Expr | int = N,
           offdiag: sp.Expr | None = None, det_factor: sp.Expr | None = None, psd_gap: sp.Expr | None = None,
           blb_scale: sp.Expr | int = N**2) -> Derivation:
    """Check Remark 1 with the claimed ``E[B̄] = eb_scale·Diag(L)``, ``W̄ = scale·M₁₉`` with off-diagonal
    ``offdiag`` (default ``c(a+b)/2``), ``det M₁₉ = det_factor`` (default ``(ab − c(a+b)/2)(ab + c(a+b)/2)``), the
    determinant threshold (default ``2ab/(a+b)``), ``ab − threshold² = psd_gap`` (default ``ab(a−b)²/(a+b)²``) and
    ``E[B̄L̄B̄] = blb_scale·DLD``."""
    thr = 2 * a * b / (a + b) if threshold is None else sp.sympify(threshold)
    off = c * (a + b) / 2 if offdiag is None else sp.sympify(offdiag)
    fac = (a * b - c * (a + b) / 2) * (a * b + c * (a + b) / 2) if det_factor is None else sp.sympify(det_factor)
    gap = a * b * (a - b) ** 2 / (a + b) ** 2 if psd_gap is None else sp.sympify(psd_gap)
    scale, eb_scale, blb_scale = sp.sympify(scale), sp.sympify(eb_scale), sp.sympify(blb_scale)
    D = Derivation("Remark 1", ("(18)", "(19)", "(14)"),
                   constants={"scale": scale, "threshold": thr, "eb_scale": eb_scale, "offdiag": off,
                              "det_factor": fac, "psd_gap": gap, "blb_scale": blb_scale})
    n = N
    L = sp.Matrix([[a, c], [c, b]])
    Dg = sp.diag(a, b)
    sk = Permutation(n, 2)
    EB = sp.Matrix(symbolic_expectation(contractions.B, sk, [stack([L, L])]).tolist()) / n
    D.symbolic("E[B̄] = eb_scale · Diag(L) for homogeneous Perm-1 (engine, symbolic a, b, c)", "(17)",
               EB - eb_scale * Dg, f"eb_scale = {eb_scale}", reach=GENERAL)
    W = (L * EB + EB * L) / 2
    M19 = sp.Matrix([[a**2, off], [off, b**2]])
    D.symbolic("W̄ = scale · M₁₉, M₁₉ = [[a², offdiag], [offdiag, b²]]", "(19)", W - scale * M19,
               f"scale = {scale}, offdiag = {off}", reach=GENERAL)
    M = W / n  # the true M₁₉, from the engine: the steps below do not depend on the knobs above
    det = sp.expand(M.det())
    D.symbolic("det M₁₉ = det_factor", "(19)", det - fac, f"det_factor = {fac}", reach=GENERAL)
    roots = sp.solve(sp.Eq(det, 0), c)  # c > 0: only the root of the first factor
    D.symbolic("det M₁₉ has exactly one positive root in c", "(19)", sp.Integer(len(roots) - 1), f"roots {roots}",
               reach=GENERAL)
    root = roots[0]
    D.symbolic("the root is the claimed threshold", "(19)", root - thr, f"root {root} vs claimed {thr}",
               reach=GENERAL)
    t, u = sp.symbols("t u", positive=True)
    D.symbolic_true("det M₁₉ < 0 for every c = threshold + t, t > 0", "(19)",
                    sp.Lt(sp.factor(det.subs(c, thr + t)), 0), reach=GENERAL)
    D.symbolic_true("det M₁₉ > 0 for every c = threshold/(1+u), u > 0", "(19)",
                    sp.Gt(sp.factor(det.subs(c, thr / (1 + u))), 0), reach=GENERAL)
    D.symbolic("threshold ≤ √(ab): ab − threshold² = psd_gap", "(18)", sp.simplify(a * b - root**2 - gap),
               f"psd_gap = {gap}; L PSD (c² ≤ ab) leaves room for c > threshold iff a ≠ b", reach=GENERAL)
    D.symbolic_true("ab(a−b)²/(a+b)² ≥ 0, and > 0 for a = b + t, t > 0", "(18)",
                    sp.And(sp.Ge(a * b * (a - b) ** 2 / (a + b) ** 2, 0),
                           sp.Gt(sp.factor((a * b * (a - b) ** 2 / (a + b) ** 2).subs(a, b + t)), 0)), reach=GENERAL)

    # the refutation, for every a, b and every c > 2ab/(a+b)
    v = sp.Matrix([-W[0, 1], W[0, 0]])
    vWv = sp.expand((v.T * W * v)[0])
    D.symbolic("v = (−W̄₁₂, W̄₁₁): vᵀW̄v = W̄₁₁ · det W̄", "(19)", vWv - W[0, 0] * W.det(), reach=GENERAL)
    D.symbolic_true("W̄ is not PSD: vᵀW̄v < 0 for every a, b > 0 and c = 2ab/(a+b) + t, t > 0", "(19)",
                    sp.Lt(sp.factor(vWv.subs(c, root + t)), 0), f"vᵀW̄v = {sp.factor(vWv.subs(c, root + t))}",
                    reach=GENERAL, role="refutation")
    Ls = stack([L, L])  # homogeneous: L̄ = L
    L_obj = np.array(L.tolist(), dtype=object)
    BLB = sp.Matrix(symbolic_expectation(contractions.BMB, sk, [Ls, L_obj, Ls]).tolist()) / n**2
    D.symbolic("E[B̄L̄B̄] = blb_scale · DLD (engine; B̄ = nD on every draw)", "(14)", BLB - blb_scale * Dg * L * Dg,
               f"blb_scale = {blb_scale}", reach=GENERAL)
    u1, u2 = sp.symbols("u1 u2", real=True)
    e = sp.Symbol("e", nonnegative=True)  # e = ab − c² ≥ 0: L ⪰ 0
    uLu = (sp.Matrix([[u1, u2]]) * L * sp.Matrix([u1, u2]))[0]
    square = a * (u1 + c * u2 / a) ** 2 + (a * b - c**2) * u2**2 / a
    D.symbolic("uᵀLu = a(u₁ + cu₂/a)² + (ab − c²)u₂²/a", "(18)", uLu - square, reach=GENERAL)
    square_e = a * (u1 + c * u2 / a) ** 2 + e * u2**2 / a  # the same with e = ab − c² ≥ 0
    D.symbolic_true("no θ > 0 satisfies (14): vᵀE[B̄L̄B̄]v = n²(Dv)ᵀL(Dv) ≥ 0 when c² ≤ ab, so "
                    "vᵀ(θW̄ − E[B̄L̄B̄])v ≤ θvᵀW̄v < 0", "(14)", sp.Ge(square_e, 0),
                    f"{square_e} ≥ 0 with e = ab − c² ≥ 0 (L ⪰ 0), and vᵀW̄v < 0 above", reach=GENERAL,
                    role="refutation")

    # exact certificates on instances
    vals = {a: sp.Integer(1), b: sp.Integer(2), c: sp.Rational(7, 5)}
    vv, w_, s_, dL = _exact_margins(vals, W, BLB, L)
    D.numeric("(a, b, c) = (1, 2, 7/5): L ⪰ 0, vᵀW̄v < 0 ≤ vᵀE[B̄L̄B̄]v, so θvᵀW̄v − vᵀE[B̄L̄B̄]v < 0 for all θ > 0",
              "(14)", bool(dL >= 0 and w_ < 0 <= s_),
              f"exact: det L = {dL}, v = {list(vv)}, vᵀW̄v = {w_}, vᵀE[B̄L̄B̄]v = {s_}", exact=True, role="refutation")
    from ..lemmas.points import Point

    F = Fraction
    A = np.array([[F(1), F(0)], [F(19, 10), F(3, 10)]], dtype=object)  # L = AAᵀ = [[1, 19/10], [19/10, 37/10]]
    D.counterexample("lemma file remark1-w-psd (λ_min(W̄) ≥ 0) fails at L = [[1, 19/10], [19/10, 37/10]]", "(19)",
                     "remark1-w-psd",
                     Point("homogeneous", np.stack([A, A]), np.array([F(0), F(0)], dtype=object),
                           np.zeros((2, 2), dtype=object), np.zeros(2, dtype=object), "perm", gamma=F(1, 2)))
    D.latex["W19"] = sp.latex(M19)
    D.latex["threshold"] = sp.latex(thr)
    return D
