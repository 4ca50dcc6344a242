"""§4 general case, the estimator (26)–(27) under the preconditioned sketches (23).

For the quadratic (12) the estimator (5) is, for *any* diagonal sketches,

    g = (1/n) Σ_i C_i ∇f_i(C_i x) = B̄x − (Cb)‾,   B̄ = (1/n) Σ C_i L_i C_i,  (Cb)‾ = (1/n) Σ C_i b_i   (26)

(checked with symbolic diagonal ``C_i``, ``L_i``, ``b_i``, ``x``). With the
sketches (23), ``C̃_i = √n ((L_i)_{π_iπ_i})^{-1/2} e_{π_i}e_{π_i}ᵀ`` and
``n = d``:

* ``E[C̃_i L_i C̃_i] = I`` for every client and ``E[B̄] = I``;
* ``E[(Cb)‾] = (1/√n) D̃b̃`` with ``D̃b̃ = (1/n) Σ_i D_i^{-1/2} b_i``;
* hence ``E[g] = x − (1/√n) D̃b̃ = L̄⁻¹∇f(x) + h`` with
  ``h = L̄⁻¹b̄ − (1/√n) D̃b̃ = x* − x^∞`` (27), using ``∇f(x) = L̄x − b̄``.

The expectations are exact and symbolic (n = d = 3, symbolic ``L_i`` with
positive diagonal symbols, symbolic ``b_i``, symbolic scales
``√n/√(L_i)_jj``): once through the closed-form engine and once by
enumerating all ``3!`` permutations. A numeric certificate compares
:class:`~isttheory.moments.SketchMoments` on heterogeneous ``n = d = 4``
instances. Statement (26)–(27) holds as printed.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy as sp

from ..generators import heterogeneous
from ..moments import SketchMoments
from ..sketches import Permutation, PreconditionedPerm
from ..sketches.precond import scale_23
from ..symbolic import moments as MM
from .base import Derivation, stack, symbolic_expectation, vector

#: the number of clients as a symbol (claim constants are written in it; n = d = 3 is substituted)
N = sp.Symbol("n", positive=True, integer=True)
ONE = sp.Integer(1)
#: the paper's coefficient of D̃b̃ in E[(Cb)‾] (27)
INV_SQRT_N = 1 / sp.sqrt(N)


def client_matrices(n: int, d: int) -> list[sp.Matrix]:
    """Symbolic symmetric ``L_i`` (d×d): off-diagonal entries real symbols, diagonal entries positive symbols."""
    def entry(i: int, j: int, k: int) -> sp.Symbol:
        name = f"L{i}_{min(j, k)}{max(j, k)}"
        return sp.Symbol(name, positive=True) if j == k else sp.Symbol(name, real=True)

    return [sp.Matrix(d, d, lambda j, k, i=i: entry(i, j, k)) for i in range(n)]


def client_vectors(n: int, d: int, name: str = "b") -> list[sp.Matrix]:
    """Symbolic ``b_i`` (d×1), entries ``b{i}_{j}``."""
    return [vector(f"{name}{i}", d) for i in range(n)]


def precond_table(Ls: list[sp.Matrix]) -> np.ndarray:
    """Symbolic scale table of (23): ``T_ij = √n / √(L_i)_jj`` (n, d) object array."""
    n, d = len(Ls), Ls[0].shape[0]
    return np.array([[scale_23(n, Ls[i][j, j], sp.sqrt) for j in range(d)] for i in range(n)], dtype=object)


def dtilde_b(Ls: list[sp.Matrix], bs: list[sp.Matrix]) -> sp.Matrix:
    """``D̃b̃ = (1/n) Σ_i D_i^{-1/2} b_i`` (symbolic)."""
    n, d = len(Ls), Ls[0].shape[0]
    return sp.Matrix(d, 1, lambda j, _: sum(bs[i][j] / sp.sqrt(Ls[i][j, j]) for i in range(n)) / n)


def engine_moments(Ls: list[sp.Matrix], bs: list[sp.Matrix]) -> tuple[sp.Matrix, sp.Matrix, list[sp.Matrix]]:
    """``E[B̄]``, ``E[(Cb)‾]`` and the per-client ``E[C̃_i L_i C̃_i]`` for (23), exact, through the engine."""
    n, d = len(Ls), Ls[0].shape[0]
    sk = Permutation(n, d)  # the inclusion model of Perm-1 (uniform partition); scales come from T
    T = precond_table(Ls)
    b_arr = np.array([[bs[i][j] for j in range(d)] for i in range(n)], dtype=object)
    EB = sp.Matrix(symbolic_expectation(MM.B, sk, [stack(Ls)], scale=T).tolist()) / n
    ECb = sp.Matrix(symbolic_expectation(MM.CB, sk, [b_arr], scale=T).tolist()) / n
    per = symbolic_expectation(MM.CAC, sk, [stack(Ls)], scale=T)
    return EB, ECb, [sp.Matrix(per[i].tolist()) for i in range(n)]


def enumerated_mean_g(Ls: list[sp.Matrix], bs: list[sp.Matrix], x: sp.Matrix) -> sp.Matrix:
    """``E[g]`` by enumerating every permutation π of (23), ``g = (1/n) Σ C̃_i ∇f_i(C̃_i x)``."""
    n, d = len(Ls), Ls[0].shape[0]
    T = precond_table(Ls)
    total = sp.zeros(d, 1)
    for perm in itertools.permutations(range(d)):
        g = sp.zeros(d, 1)
        for i, j in enumerate(perm):
            C = sp.zeros(d, d)
            C[j, j] = T[i, j]
            g += C * (Ls[i] * (C * x) - bs[i])
        total += g / n
    return total / math.factorial(d)


def derive(bias_scale: sp.Expr = INV_SQRT_N, h_sign: sp.Expr = ONE, n: int = 3) -> Derivation:
    """Check (26)–(27): ``E[(Cb)‾] = bias_scale · D̃b̃`` (paper: ``1/√n``) and
    ``E[g] = L̄⁻¹∇f(x) + h`` with ``h = h_sign · (L̄⁻¹b̄ − bias_scale · D̃b̃)`` (paper: ``h_sign = 1``)."""
    D = Derivation("§4 estimator bias", ("(23)", "(26)", "(27)"),
                   constants={"bias_scale": bias_scale, "h_sign": h_sign})
    d = n
    s = sp.sympify(bias_scale).subs(N, n)
    sign = sp.sympify(h_sign)
    Ls, bs, x = client_matrices(n, d), client_vectors(n, d), vector("x", d)

    # (26): g = (1/n) Σ C_i ∇f_i(C_i x) = B̄x − (Cb)‾ for symbolic diagonal C_i
    Cs = [sp.diag(*[sp.Symbol(f"c{i}_{j}", real=True) for j in range(d)]) for i in range(n)]
    g = sum((C * (L * (C * x) - b) for C, L, b in zip(Cs, Ls, bs, strict=True)), sp.zeros(d, 1)) / n
    Bbar = sum((C * L * C for C, L in zip(Cs, Ls, strict=True)), sp.zeros(d, d)) / n
    Cb = sum((C * b for C, b in zip(Cs, bs, strict=True)), sp.zeros(d, 1)) / n
    D.symbolic("g = (1/n)Σ C_i∇f_i(C_i x) = B̄x − (Cb)‾ (symbolic diagonal C_i)", "(26)", g - (Bbar * x - Cb))

    # (23): exact expectations through the engine, symbolic scales √n/√(L_i)_jj
    EB, ECb, per_client = engine_moments(Ls, bs)
    D.symbolic("E[C̃_i L_i C̃_i] = I for every client", "(23)",
               sp.Matrix.vstack(*[P - sp.eye(d) for P in per_client]))
    D.symbolic("E[B̄] = I", "(26)", EB - sp.eye(d))
    Dtb = dtilde_b(Ls, bs)
    D.symbolic("E[(Cb)‾] = bias_scale · D̃b̃, D̃b̃ = (1/n)Σ D_i^{-1/2} b_i", "(27)", ECb - s * Dtb,
               f"bias_scale = {bias_scale}")

    # independent check: enumerate all n! permutations
    Eg = enumerated_mean_g(Ls, bs, x)
    D.symbolic(f"E[g] = x − bias_scale · D̃b̃ (all {math.factorial(d)} permutations enumerated)", "(27)",
               Eg - (x - s * Dtb))

    # (27): E[g] = L̄⁻¹∇f(x) + h, h = L̄⁻¹b̄ − (1/√n)D̃b̃; multiplied by L̄ (invertible) to avoid L̄⁻¹:
    #   L̄(E[g] − h) − ∇f(x) = 0  with  L̄h = h_sign · (b̄ − bias_scale · L̄D̃b̃)
    Lbar = sum(Ls, sp.zeros(d, d)) / n
    bbar = sum(bs, sp.zeros(d, 1)) / n
    grad = Lbar * x - bbar
    Lh = sign * (bbar - s * Lbar * Dtb)
    Eg_engine = EB * x - ECb
    D.symbolic("L̄(E[g] − h) = ∇f(x) = L̄x − b̄, i.e. E[g] = L̄⁻¹∇f(x) + h (L̄ ≻ 0)", "(27)",
               Lbar * Eg_engine - Lh - grad, f"h = {h_sign}·(L̄⁻¹b̄ − bias_scale·D̃b̃)")

    # numeric certificate: SketchMoments on heterogeneous n = d = 4 instances
    worst = 0.0
    for seed in range(3):
        prob = heterogeneous(4, 4, 0.8, seed=seed)
        mo = SketchMoments(prob, PreconditionedPerm.from_problem(prob))
        sn = float(sp.sympify(bias_scale).subs(N, prob.n))
        dtb = (prob.b / np.sqrt(prob.D)).mean(axis=0)
        h_num = float(sign) * (prob.x_star - sn * dtb)
        worst = max(worst, float(np.abs(mo.expected_B - np.eye(4)).max()),
                    float(np.abs(mo.expected_Cb - sn * dtb).max()), float(np.abs(mo.h - h_num).max()))
    D.numeric("SketchMoments: E[B̄] = I, E[(Cb)‾] = bias_scale·D̃b̃, h = x* − x^∞ matches (27) "
              "(heterogeneous n = d = 4, 3 seeds)", "(27)", worst <= 1e-10, f"max deviation {worst:.2g}")
    D.latex["ECb"] = sp.latex(bias_scale) + r"\,\tilde D\tilde b"
    D.latex["h"] = sp.latex(h_sign) + r"\left(\bar L^{-1}\bar b - " + sp.latex(bias_scale) + r"\tilde D\tilde b\right)"
    return D
