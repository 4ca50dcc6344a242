"""Assumption 1 (8) for the quadratic (12): ``f`` is ``L̄``-smooth, with equality, for every ``n`` and ``d``.

For ``f(x) = (1/n) Σ_i (½ xᵀL_i x − b_iᵀx)`` (12), ``∇f(x) = L̄x − b̄`` and the
second-order expansion is exact:

    f(x + h) = f(x) + ⟨∇f(x), h⟩ + ½ hᵀL̄h      for all x, h.

So (8) holds with ``L = L̄`` *with equality*, ``½`` is the sharp constant, and
``L̄`` is the smallest smoothness matrix: if (8) holds with some ``M`` for all
``h`` then ``½hᵀ(M − L̄)h ≥ 0``, i.e. ``M ⪰ L̄``.

Reach: every decisive step is **general** — symbolic in the number of clients
``n`` and the dimension ``d``. The sums ``Σ_{i≤n}``, ``Σ_{j,k≤d}`` are SymPy
``Sum`` objects over indexed entries ``(L_i)_{jk} = (P_{ijk} + P_{ikj})/2`` (an
arbitrary array ``P``, so ``L_i`` is an arbitrary symmetric matrix), ``b_{ij}``,
``x_j``, ``h_j``; :func:`sum_residual` brings a difference of such sums to a
normal form (linearity, renaming of summation indices, Fubini for constant
limits, ``Σ_l δ_{il} g(l) = g(i)``) and the step holds when every coefficient
of that normal form is 0. The gradient is checked as the directional derivative
``d/dt f(x + th)|₀ = ⟨L̄x − b̄, h⟩`` for all ``h``. A random-instance check through
the library's ``QuadraticProblem.f`` and ``grad`` is shown as evidence only.

Constants (mutation knobs of :func:`derive`): ``half`` (the constant of (8),
paper ½: a larger one is valid but ``loose``, a smaller one is disproved),
``mean_weight`` (``L̄ = w Σ_i L_i``, ``b̄ = w Σ_i b_i``; paper ``1/n``) and
``grad_b`` (the coefficient of ``b̄`` in ``∇f``; paper ``−1``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp

from ..generators import heterogeneous
from .base import GENERAL, Derivation, psd_margin, tex_plus, tex_times
from .symbolic_sums import sum_residual

HALF = sp.Rational(1, 2)
n_s, d_s = sp.symbols("n d", positive=True, integer=True)

# ----------------------------------------------------------------------------------------------------------

_i, _j, _k = sp.symbols("i j k", integer=True)
_P, _B, _X, _H, _Q = (sp.IndexedBase(s) for s in ("P", "b", "x", "h", "Q"))


def _Lent(i: sp.Expr, j: sp.Expr, k: sp.Expr) -> sp.Expr:
    """``(L_i)_{jk}``: an arbitrary symmetric matrix per client."""
    return (_P[i, j, k] + _P[i, k, j]) / 2


def _f(z: Callable[[sp.Expr], sp.Expr]) -> sp.Expr:
    """(12) at the point with coordinates ``z(j)``: ``(1/n)Σ_i (½ Σ_{j,k} (L_i)_{jk} z_j z_k − Σ_j b_{ij} z_j)``."""
    quad = sp.Sum(_Lent(_i, _j, _k) * z(_j) * z(_k), (_k, 1, d_s), (_j, 1, d_s), (_i, 1, n_s))
    lin = sp.Sum(_B[_i, _j] * z(_j), (_j, 1, d_s), (_i, 1, n_s))
    return (quad / 2 - lin) / n_s


def derive(half: sp.Expr = HALF, mean_weight: sp.Expr | None = None, grad_b: sp.Expr = -1) -> Derivation:
    """(8) for (12) with the constant ``half`` in front of ``hᵀL̄h`` (paper ½), ``L̄ = mean_weight·Σ_i L_i`` and
    ``b̄ = mean_weight·Σ_i b_i`` (paper ``1/n``) and ``∇f(x) = L̄x + grad_b·b̄`` (paper ``−1``); symbolic in ``n``,
    ``d`` and the entries of ``L_i``, ``b_i``, ``x``, ``h``."""
    half, grad_b = sp.sympify(half), sp.sympify(grad_b)
    w = 1 / n_s if mean_weight is None else sp.sympify(mean_weight)
    D = Derivation("Assumption 1 (smoothness of (12))", ("(8)", "(12)"),
                   constants={"half": half, "mean_weight": w, "grad_b": grad_b})
    t = sp.Symbol("t", real=True)

    def Lbar(j: sp.Expr, k: sp.Expr, weight: sp.Expr) -> sp.Expr:
        return weight * sp.Sum(_Lent(_i, j, k), (_i, 1, n_s))

    def quad(M: Callable[[sp.Expr, sp.Expr], sp.Expr]) -> sp.Expr:
        return sp.Sum(M(_j, _k) * _H[_j] * _H[_k], (_k, 1, d_s), (_j, 1, d_s))

    fx = _f(lambda c: _X[c])
    fxh = _f(lambda c: _X[c] + _H[c])
    # ⟨∇f(x), h⟩ as the directional derivative, independent of any claimed formula
    dirder = sp.diff(_f(lambda c: _X[c] + t * _H[c]), t).subs(t, 0)

    # 1. the gradient formula, with the claimed weights
    claimed = sp.Sum((sp.Sum(Lbar(_j, _k, w) * _X[_k], (_k, 1, d_s)) + grad_b * w * sp.Sum(_B[_i, _j], (_i, 1, n_s)))
                     * _H[_j], (_j, 1, d_s))
    res, shown = sum_residual(dirder - claimed)
    D.symbolic("∇f(x) = L̄x − b̄: d/dt f(x + th)|₀ = ⟨L̄x − b̄, h⟩ for every h (symbolic n, d)", "(12)", res,
               f"L̄ = {w}·Σ_i L_i, b̄ = {w}·Σ_i b_i, coefficient of b̄ {grad_b}; residual {shown}", reach=GENERAL)

    # 2. the exact expansion: the sharp constant is ½ (with the true L̄ = (1/n)Σ L_i)
    true_quad = quad(lambda j, k: Lbar(j, k, 1 / n_s))
    res, shown = sum_residual(fxh - fx - dirder - HALF * true_quad)
    D.symbolic("f(x + h) = f(x) + ⟨∇f(x), h⟩ + ½hᵀL̄h exactly (symbolic n, d): ½ is sharp", "(8)", res,
               f"residual {shown}", reach=GENERAL)

    # 3. the stated constant against the sharp ½: RHS − f(x + h) = (c − ½)hᵀL̄h with hᵀL̄h ≥ 0 (L̄ ⪰ 0)
    D.bound("(8) constant c: f(x + h) ≤ f(x) + ⟨∇f(x), h⟩ + c·hᵀL̄h for all x, h ⇔ c ≥ ½", "(8)", half, HALF,
            valid_if=">=", reach=GENERAL)

    # 4. minimality: (8) with a symmetric matrix M leaves ½hᵀ(M − L̄)h, so M ⪰ L̄ is necessary and M = L̄ works
    def Ment(j: sp.Expr, k: sp.Expr) -> sp.Expr:
        return (_Q[j, k] + _Q[k, j]) / 2

    res, shown = sum_residual(fx + dirder + HALF * quad(Ment) - fxh
                              - HALF * quad(lambda j, k: Ment(j, k) - Lbar(j, k, w)))
    D.symbolic("minimality: f(x) + ⟨∇f(x), h⟩ + ½hᵀMh − f(x + h) = ½hᵀ(M − L̄)h, so (8) ⇔ M ⪰ L̄ (symbolic n, d)",
               "(8)", res, f"L̄ = {w}·Σ_i L_i; residual {shown}", reach=GENERAL)

    # evidence: the library's f and grad on random heterogeneous instances (floats)
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
    D.numeric("library: f(x + h) ≤ f(x) + ⟨∇f(x), h⟩ + c·hᵀL̄h on 4 heterogeneous instances × 5 (x, h)", "(8)",
              worst >= -1e-12 and min_quad > 0 and min_psd > 0,
              f"n = 2, d = 3: min relative margin {worst:.3g}, min hᵀL̄h {min_quad:.3g}, λ_min(L̄) {min_psd:.3g}",
              exact=False, role="evidence")
    D.latex["taylor"] = tex_plus(r"f(x+h) = f(x) + \langle \nabla f(x), h\rangle", tex_times(half, r"h^\top \bar L h"))
    return D
