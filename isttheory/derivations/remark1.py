"""Remark 1 (18)–(19): a homogeneous 2×2 problem for which ``W̄`` is not PSD.

Homogeneous, ``d = 2``, Perm-1 (so ``n = d = 2``), ``L = [[a, c], [c, b]]``
(18). Then ``E[B̄] = n D`` and ``W̄ = (n/2)(LD + DL) = n · M₁₉`` with
``M₁₉ = [[a², c(a+b)/2], [c(a+b)/2, b²]]`` (19): the scale factor is
``n = 2``. ``det M₁₉ = (ab − c(a+b)/2)(ab + c(a+b)/2)`` is negative exactly
when ``c > 2ab/(a+b)`` (for ``a, b, c > 0``). Since ``L`` must be PSD
(``c² ≤ ab``) and ``2ab/(a+b) ≤ √(ab)`` with equality iff ``a = b``, the
counterexample exists exactly when ``a ≠ b``, for
``2ab/(a+b) < c ≤ √(ab)``; then no ``θ`` satisfies (14).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..sketches import Permutation
from ..symbolic import moments as MM
from .base import Derivation, psd_margin, stack, symbolic_expectation

a, b, c = sp.symbols("a b c", positive=True)


def derive(scale: sp.Expr | int = 2, threshold: sp.Expr | None = None) -> Derivation:
    """Check Remark 1 with the claimed scale factor of ``W̄`` over (19) and the
    claimed determinant threshold (default ``2ab/(a+b)``)."""
    thr = 2 * a * b / (a + b) if threshold is None else threshold
    D = Derivation("Remark 1", ("(18)", "(19)", "(14)"), constants={"scale": scale, "threshold": thr})
    n = 2
    L = sp.Matrix([[a, c], [c, b]])
    sk = Permutation(n, 2)
    EB = sp.Matrix(symbolic_expectation(MM.B, sk, [stack([L, L])]).tolist()) / n
    D.symbolic("E[B̄] = n Diag(L) for homogeneous Perm-1", "(17)", EB - n * sp.diag(a, b))
    W = (L * EB + EB * L) / 2
    M19 = sp.Matrix([[a**2, c * (a + b) / 2], [c * (a + b) / 2, b**2]])
    D.symbolic("W̄ = scale · M₁₉", "(19)", W - scale * M19, f"scale = {scale}")
    det = M19.det()
    D.symbolic("det M₁₉ = (ab − c(a+b)/2)(ab + c(a+b)/2)", "(19)",
               det - (a * b - c * (a + b) / 2) * (a * b + c * (a + b) / 2))
    roots = sp.solve(sp.Eq(det, 0), c)  # c > 0: only the root of the first factor
    D.symbolic("det M₁₉ has exactly one positive root in c", "(19)", sp.Integer(len(roots) - 1), f"roots {roots}")
    D.symbolic("the root is the claimed threshold", "(19)", roots[0] - thr, f"root {roots[0]} vs claimed {thr}")
    t, u = sp.symbols("t u", positive=True)
    D.symbolic_true("det M₁₉ < 0 for every c = threshold + t, t > 0", "(19)", sp.Lt(sp.factor(det.subs(c, thr + t)), 0))
    D.symbolic_true("det M₁₉ > 0 for every c = threshold/(1+u), u > 0", "(19)",
                    sp.Gt(sp.factor(det.subs(c, thr / (1 + u))), 0))
    D.symbolic("threshold ≤ √(ab): ab − threshold² = ab(a−b)²/(a+b)²", "(18)",
               sp.simplify(a * b - thr**2 - a * b * (a - b) ** 2 / (a + b) ** 2),
               "L PSD (c² ≤ ab) leaves room for c > threshold iff a ≠ b")
    D.symbolic_true("ab(a−b)²/(a+b)² ≥ 0 (equality iff a = b)", "(18)", sp.Ge(a * b * (a - b) ** 2 / (a + b) ** 2, 0))
    # numeric certificate on the default instance a=1, b=2, c=1.4: W̄ indefinite and (14) infeasible
    vals = {a: 1, b: 2, c: sp.Rational(7, 5)}
    Wn = np.array(W.subs(vals), dtype=float)
    Ln = np.array(L.subs(vals), dtype=float)
    Ls = stack([L, L])  # homogeneous: L̄ = L
    BLB_sym = symbolic_expectation(MM.BMB, sk, [Ls, np.array(L.tolist(), dtype=object), Ls])
    BLB = np.array(sp.Matrix(BLB_sym.tolist()).subs(vals), dtype=float) / n**2  # E[B̄L̄B̄] from the engine
    w, V = np.linalg.eigh(Wn)
    v = V[:, 0]
    D.numeric("W̄ indefinite at (a, b, c) = (1, 2, 1.4)", "(14)", w[0] < 0 and psd_margin(Ln) >= 0,
              f"λ_min(W̄) = {w[0]:.4g}, λ_min(L) = {psd_margin(Ln):.4g}")
    D.numeric("no θ > 0 satisfies (14): vᵀ(θW̄ − E[B̄L̄B̄])v < 0 for all θ", "(14)",
              bool(v @ Wn @ v < 0 and v @ BLB @ v >= 0), f"vᵀW̄v = {v @ Wn @ v:.4g}, vᵀE[B̄L̄B̄]v = {v @ BLB @ v:.4g}")
    D.latex["W19"] = sp.latex(M19)
    D.latex["threshold"] = sp.latex(thr)
    return D
