"""The one home of the formulas that turn moments into the quantities the paper states.

Every function is generic over the number type: it uses only ``+ − ×`` and ``@`` of NumPy arrays, so
it runs on float64 arrays (the engines, the search) and on object arrays of ``Fraction`` or mpmath
numbers (certification in exact arithmetic) alike. Solves and eigenvalues are passed in.
Notation (Setting): ``L̄ = (1/n)ΣL_i``, ``b̄ = (1/n)Σb_i``, ``x* = L̄⁻¹b̄``, ``m = E[x]``, ``X = E[xxᵀ]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Array = Any
"""A NumPy array of floats or of exact numbers."""


def quad(M: Array, u: Array, v: Array | None = None) -> Any:
    """``uᵀ M v`` (``v = u`` by default): the weighted norm ``‖u‖²_M`` of the Setting."""
    return u @ (M @ (u if v is None else v))


def second_moment_quad(M: Array, m: Array, X: Array, c: Array) -> Any:
    """``E[(x − c)ᵀ M (x − c)] = ⟨M, X⟩ − 2cᵀMm + cᵀMc`` from ``m = E x`` and ``X = E xxᵀ``."""
    return np.sum(M * X) - 2 * quad(M, c, m) + quad(M, c)


def objective(L_bar: Array, b_bar: Array, m: Array, X: Array) -> Any:
    """``E f(x) = ½⟨L̄, X⟩ − b̄ᵀm`` (12)."""
    return np.sum(L_bar * X) / 2 - b_bar @ m


def grad_norm2(L_bar: Array, b_bar: Array, m: Array, X: Array) -> Any:
    """``E‖∇f(x)‖² = E‖L̄x − b̄‖² = ⟨L̄², X⟩ − 2b̄ᵀL̄m + b̄ᵀb̄``."""
    return np.sum((L_bar @ L_bar) * X) - 2 * quad(L_bar, b_bar, m) + b_bar @ b_bar


def moment_metrics(L_bar: Array, b_bar: Array, x_star: Array | None, m: Array, X: Array,
                   W: Array | None = None) -> dict[str, Any]:
    """Exact expectations at one iterate from its first two moments.

    ``f``, ``grad2``; with ``x*``: ``dist2 = E‖x − x*‖²``, ``dist2_L = E‖x − x*‖²_{L̄}``, which equals
    ``grad2_Linv = E‖∇f(x)‖²_{L̄⁻¹}`` (Theorem 2's left side), and ``mean_dist2_L = ‖E x − x*‖²_{L̄}``;
    with ``W̄``: ``grad2_LinvWLinv = E‖∇f(x)‖²_{L̄⁻¹W̄L̄⁻¹} = E‖x − x*‖²_{W̄}`` (the left side of (15))."""
    out = {"f": objective(L_bar, b_bar, m, X), "grad2": grad_norm2(L_bar, b_bar, m, X)}
    if x_star is not None:
        d = len(m)
        eye = np.eye(d, dtype=L_bar.dtype) if L_bar.dtype != object else np.eye(d, dtype=int).astype(object)
        out["dist2"] = second_moment_quad(eye, m, X, x_star)
        out["dist2_L"] = second_moment_quad(L_bar, m, X, x_star)
        out["grad2_Linv"] = out["dist2_L"]
        out["mean_dist2_L"] = quad(L_bar, m - x_star)
        if W is not None:
            out["grad2_LinvWLinv"] = second_moment_quad(W, m, X, x_star)
    return out


def W_bar(L_bar: Array, EB: Array) -> Array:
    """``W̄ = ½ E[L̄B̄ + B̄L̄] = ½(L̄E[B̄] + E[B̄]L̄)`` (Theorem 1)."""
    return (L_bar @ EB + EB @ L_bar) / 2


def fixed_point(EB: Array, ECb: Array, solve: Callable[[Array, Array], Array]) -> Array:
    """``x^∞ = E[B̄]⁻¹E[(Cb)‾]``: the fixed point of the mean recursion of form (2) ((27)–(28))."""
    return solve(EB, ECb)


def bias(x_star: Array, x_inf: Array) -> Array:
    """``h = x* − x^∞`` ((27): ``E[g(x)] = E[B̄](x − x*) + E[B̄]h``)."""
    return x_star - x_inf


def sigma2(L_bar: Array, x_star: Array, EB: Array, ECb: Array, BLB_: Array, BmCb_x: Array, CbCb: Array) -> Any:
    """Theorem 2's ``σ² = E‖g(x*) − E g(x*)‖²_{L̄}`` with ``g(x) = B̄x − (Cb)‾`` (26):
    ``x*ᵀE[B̄L̄B̄]x* − 2 tr(L̄ E[B̄x*(Cb)‾ᵀ]) + tr(L̄ E[(Cb)‾(Cb)‾ᵀ]) − ‖E[B̄]x* − E[(Cb)‾]‖²_{L̄}``."""
    second = quad(BLB_, x_star) - 2 * np.trace(L_bar @ BmCb_x) + np.trace(L_bar @ CbCb)
    mean = EB @ x_star - ECb
    return second - quad(L_bar, mean)
