"""Assumption 1 (8) for the quadratic (12): ``f`` is ``L̄``-smooth, with equality.

For ``f(x) = (1/n) Σ_i (½ xᵀL_i x − b_iᵀx)`` (12), ``∇f(x) = L̄x − b̄`` and the
second-order expansion is exact:

    f(x + h) = f(x) + ⟨∇f(x), h⟩ + ½ hᵀL̄h      for all x, h.

So (8) holds with ``L = L̄`` *with equality*, and ``L̄`` is the smallest
smoothness matrix: if (8) holds with some ``M`` for all ``h`` then
``½hᵀ(M − L̄)h ≥ 0``, i.e. ``M ⪰ L̄``. Checked with symbolic entries for
``n = 2`` clients with distinct ``L_i``, ``b_i``; the inequality direction is
also checked numerically on random heterogeneous instances (with ``hᵀL̄h > 0``)
through the library's ``QuadraticProblem.f`` and ``grad``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..generators import heterogeneous
from .base import Derivation, psd_margin, symmetric_matrix, vector

HALF = sp.Rational(1, 2)


def derive(half: sp.Expr = HALF, d: int = 2) -> Derivation:
    """(8) for (12) with the constant ``half`` in front of ``hᵀL̄h`` (paper: ½); symbolic in the
    entries of ``L_1, L_2`` (d×d), ``b_1, b_2``, ``x``, ``h``."""
    half = sp.sympify(half)
    D = Derivation("Assumption 1 (smoothness of (12))", ("(8)", "(12)"), constants={"half": half})
    n = 2
    Ls = [symmetric_matrix(f"L{i}", d) for i in range(n)]
    bs = [vector(f"b{i}", d) for i in range(n)]
    x, h = vector("x", d), vector("h", d)
    Lbar = (Ls[0] + Ls[1]) / n
    bbar = (bs[0] + bs[1]) / n

    def f(z: sp.Matrix) -> sp.Expr:
        return sum(((z.T * L * z)[0] / 2 - (b.T * z)[0] for L, b in zip(Ls, bs, strict=True)), sp.Integer(0)) / n

    grad = sp.Matrix([sp.diff(f(x), xi) for xi in x])
    D.symbolic("∇f(x) = L̄x − b̄ (differentiating (12), n = 2 distinct clients)", "(12)", grad - (Lbar * x - bbar))
    g = Lbar * x - bbar
    quad = (h.T * Lbar * h)[0]
    rhs = f(x) + (g.T * h)[0] + half * quad
    D.symbolic("f(x + h) = f(x) + ⟨∇f(x), h⟩ + ½hᵀL̄h exactly (tight)", "(8)", f(x + h) - rhs,
               f"constant {half}")
    # inequality (8): RHS − LHS = (half − ½)·hᵀL̄h, nonnegative iff half ≥ ½ (hᵀL̄h ≥ 0 for L̄ ⪰ 0)
    D.symbolic("(8) gap: RHS − f(x + h) = (c − ½) hᵀL̄h", "(8)", rhs - f(x + h) - (half - HALF) * quad)
    D.symbolic_true("(8) direction: c − ½ ≥ 0 (with hᵀL̄h ≥ 0)", "(8)", sp.Ge(half - HALF, 0))
    # minimality: (8) with a matrix M leaves ½hᵀ(M − L̄)h, so M ⪰ L̄ is necessary and M = L̄ works
    M = symmetric_matrix("M", d)
    rhs_M = f(x) + (g.T * h)[0] + half * (h.T * M * h)[0]
    D.symbolic("minimality: RHS_M − f(x + h) = ½hᵀ(M − L̄)h, so (8) ⇔ M ⪰ L̄", "(8)",
               rhs_M - f(x + h) - HALF * (h.T * (M - Lbar) * h)[0])

    # numeric: direction of (8) on random heterogeneous instances (n = 2), via the library
    worst, min_quad, min_psd = np.inf, np.inf, np.inf
    c = float(half)
    for seed in range(4):
        prob = heterogeneous(2, 3, 0.9, seed=seed)
        rng = np.random.default_rng(100 + seed)
        min_psd = min(min_psd, psd_margin(prob.L_bar))
        for _ in range(5):
            xv, hv = rng.standard_normal(3), rng.standard_normal(3)
            qv = float(hv @ prob.L_bar @ hv)
            lhs = float(prob.f(xv + hv))
            bound = float(prob.f(xv) + prob.grad(xv) @ hv + c * qv)
            worst = min(worst, (bound - lhs) / max(1.0, abs(lhs)))
            min_quad = min(min_quad, qv)
    D.numeric("f(x + h) ≤ f(x) + ⟨∇f(x), h⟩ + c·hᵀL̄h on 4 heterogeneous instances × 5 (x, h)", "(8)",
              worst >= -1e-12 and min_quad > 0 and min_psd > 0,
              f"min relative margin {worst:.3g}, min hᵀL̄h {min_quad:.3g}, λ_min(L̄) {min_psd:.3g}")
    D.latex["taylor"] = r"f(x+h) = f(x) + \langle \nabla f(x), h\rangle + " + sp.latex(half) + r"\, h^\top \bar L h"
    return D
