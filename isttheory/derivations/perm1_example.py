"""Theorem 1, Perm-1 example: ``E[B̄] = Σ_i D_i = nD̄`` and (17) ``nD̄L̄D̄ ⪯ (θ/2)(L̄D̄ + D̄L̄)``.

Perm-1 is Perm-q (7) with ``q = 1``, so ``n = d`` (our copy's "``n = d²``" is
wrong: ``d = q·n`` with ``q = 1``). Write ``π_ij = 1[client i owns coordinate j]``:
``owner(j)`` is a uniformly random permutation, so ``P(π_ij = 1) = 1/n``, a client
owns one coordinate (``P(π_ij = π_ik = 1) = 0``, ``j ≠ k``), and
``P(π_ij = π_lk = 1) = 1/(n(n−1))`` for ``i ≠ l``, ``j ≠ k``. With the scale ``n``
of (7), ``C_iL_iC_i = n²(L_i)_{jj}e_je_jᵀ`` for the coordinate ``j`` client ``i`` owns, so

    B̄ = n Diag(v),   v_j = Σ_i π_ij (L_i)_{jj} = (L_{owner(j)})_{jj},   E v = D̄,   E[B̄] = nD̄ = Σ_i D_i.

Second moment: ``E[B̄L̄B̄] = n² L̄ ∘ E[vvᵀ]`` with
``E[v_j²] = (1/n)Σ_i (L_i)_{jj}²`` and, for ``j ≠ k``,
``E[v_jv_k] = (n²D̄_jD̄_k − Σ_i (L_i)_{jj}(L_i)_{kk})/(n(n−1))``. Hence

    E[B̄L̄B̄] = n²D̄L̄D̄ + n² L̄ ∘ Cov(v),   Cov(v) = (n Diag(S) − S)/(n − 1),

``S = (1/n)Σ_i (a_i − D̄)(a_i − D̄)ᵀ`` (``a_i`` the diagonal of ``L_i``), and
``n²L̄∘Cov(v) = n² E[Diag(v − D̄)L̄Diag(v − D̄)] ⪰ 0``.

* Homogeneous (``Cov(v) = 0``): (14) is exactly ``n`` times (17).
* Heterogeneous: (14) ⇔ ``nL̄∘E[vvᵀ] ⪯ (θ/2)(L̄D̄ + D̄L̄)``, strictly stronger than
  (17): (17) is necessary but not sufficient, and its ``θ`` can be smaller
  than the true ``θ*`` of (14); with that ``θ`` the descent step of (15) fails.
* (17) (and (14)) can fail for every ``θ``: Remark 1's instance.

Reach. The decisive steps are **general**: symbolic in ``n`` (and in ``d = n``
through generic coordinates ``j ≠ k``), with the client sums ``Σ_{i≤n}`` as SymPy
sums over indexed diagonals ``a_ij = (L_i)_jj`` brought to a normal form by
:func:`isttheory.derivations.symbolic_sums.sum_residual`; the inclusion
probabilities are those of :mod:`isttheory.symbolic.inclusion` (Perm-q at
``q = 1``, ``d = n``), checked against the permutation counts ``(n−1)!/n!`` and
``(n−2)!/n!``. Remark 1's family is symbolic in ``a, b, t`` at ``n = d = 2``.
Shown as evidence only: the engine with symbolic ``L_i`` at ``n = d = 2, 3, 4``
and the enumeration of the 6 permutations at ``n = d = 3`` (fixed-size), float
checks on random instances. Refutations of the printed reduction: an exact
rational instance (``n = d = 2``) on which (17) holds at ``θ₁₇ = 3`` but (14)
needs ``θ* = 14/3`` and (15) fails at ``γ = 1/θ₁₇`` by exactly ``5/18``, and the
lemma file ``eq17-printed`` certified on the same instance.

Constants (mutation knobs of :func:`derive`, paper/correct value first): ``n_rel``
(``n`` as a function of ``d``: ``d``, our copy ``d²``), ``bbar_scale``
(``B̄ = bbar_scale·Diag(v)``: ``n``), ``ebar_scale`` (``E[B̄] = ebar_scale·D̄``:
``n``), ``diag_weight`` (``E[v_j²] = diag_weight·Σ_i(L_i)_jj²``: ``1/n``),
``cross_den`` (the denominator of ``E[v_jv_k]``: ``n(n−1)``), ``blb_scale``
(``E[B̄L̄B̄] = blb_scale·L̄∘E[vvᵀ]``: ``n²``), ``cov_diag`` and ``cov_den``
(``Cov(v) = (cov_diag·Diag(S) − S)/cov_den``: ``n``, ``n − 1``), ``correction``
(coefficient of the heterogeneous term: 1, the paper's reduction to (17)
implicitly uses 0), ``red_factor`` (``θW̄ − E[B̄L̄B̄] = red_factor·[…]``: ``n``),
``eq17_n`` (the ``n`` in (17)), ``descent_den`` (the 2 in ``(s − θw)/(2θ²)``) and ``vv_diag`` (the weight of
the diagonal ``E[v_j²]`` of ``E[vvᵀ]``, homogeneously of ``(DLD)_jj``, in the reductions: 1; a wrong value
changes only the diagonal entries, which the reduction steps check alongside ``j ≠ k``).

Premise (``Derivation.premises``): the per-draw formula ``B̄_jk = (1/n)Σ_i T²π_ijπ_ik(L_i)_jk`` (the definition
of ``B̄`` for Perm-q with scale ``T = n``, written out by hand; enumerated only at ``n = d = 3``). From it the
steps derive ``B̄ = n Diag(v)`` per draw (``π² = π``, ``P(π_ijπ_ik) = 0``) and ``E[B̄L̄B̄]`` as the product
``Σ_pΣ_q L̄_pq E[B̄_jpB̄_qk]`` over symbolic coordinates.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from functools import lru_cache
from typing import TypedDict

import numpy as np
import scipy.linalg as sla
import sympy as sp

from ..errors import IncompatibleSketchError
from ..generators import homogeneous, interpolation
from ..moments import SketchMoments
from ..problem import QuadraticProblem
from ..sketches import Permutation
from ..symbolic import contractions
from ..symbolic.inclusion import UniformPartition
from ..symbolic.inclusion import d as d_inc
from ..symbolic.inclusion import q as q_inc
from .base import GENERAL, Derivation, at, stack, symbolic_expectation, symmetric_matrix, tex_plus, tex_times
from .symbolic_sums import sum_normal_form, sum_residual

n_s, d_s = sp.symbols("n d", positive=True, integer=True)
N = 3  # n = d = 3 for the fixed-size evidence

# ------------------------------------------------------------------------------------- general, symbolic n
_i, _l = sp.symbols("i l", integer=True)  # clients (summation indices)
_j, _k = sp.symbols("j k", integer=True)  # two distinct coordinates
_a, _A = sp.IndexedBase("a"), sp.IndexedBase("A")  # a[i, j] = (L_i)_jj; A[j] = L_jj (homogeneous)
_Vj, _Vk = sp.symbols("v_j v_k")
_p, _q = sp.symbols("p q", integer=True)  # coordinates (summation indices of a matrix product)
_pi, _Lo = sp.IndexedBase("pi"), sp.IndexedBase("Lo")  # pi[i, j] = π_ij ∈ {0, 1}; Lo[i, j, k] = (L_i)_jk, j ≠ k
_V, _Lbar = sp.IndexedBase("V"), sp.IndexedBase("Lbar")  # V[j] = v_j on one draw; Lbar[j, k] = L̄_jk


@lru_cache(maxsize=1)
def _probabilities() -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]:
    """Perm-1's ``P(π_ij = 1)``, ``P(π_ij = π_ik = 1)`` (j ≠ k), ``P(π_ij = π_lk = 1)`` (i ≠ l, j ≠ k) and
    ``P(π_ij = π_lj = 1)`` (i ≠ l), from :class:`UniformPartition` at ``q = 1``, ``d = n``."""
    def at_perm1(e: sp.Expr) -> sp.Expr:
        return sp.simplify(sp.sympify(e).subs(q_inc, 1).subs(d_inc, n_s))

    U = UniformPartition
    return (at_perm1(U.p_same_expr(1)), at_perm1(U.p_same_expr(2)), at_perm1(U.p_cross_expr(1, 1, 0)),
            at_perm1(U.p_cross_expr(0, 0, 1)))


def _S(j: sp.Expr) -> sp.Expr:
    """``Σ_i a_ij = nD̄_j``."""
    return sp.Sum(_a[_i, j], (_i, 1, n_s))


def _T(j: sp.Expr, k: sp.Expr) -> sp.Expr:
    """``Σ_i a_ij a_ik``."""
    return sp.Sum(_a[_i, j] * _a[_i, k], (_i, 1, n_s))


def _E1(j: sp.Expr) -> sp.Expr:
    """``E[v_j] = Σ_i P(π_ij = 1) a_ij``."""
    P1 = _probabilities()[0]
    return sp.Sum(P1 * _a[_i, j], (_i, 1, n_s))


def _E2(j: sp.Expr, k: sp.Expr) -> sp.Expr:
    """``E[v_jv_k] = Σ_{i,l} P(π_ij = π_lk = 1) a_ij a_lk`` (``k = j`` allowed), the law written with
    ``δ_il``: same client or two different clients."""
    P1, P2, PX, PW = _probabilities()
    same, cross = (P1, PW) if k == j else (P2, PX)
    law = same * sp.KroneckerDelta(_i, _l) + cross * (1 - sp.KroneckerDelta(_i, _l))
    return sp.Sum(law * _a[_i, j] * _a[_l, k], (_l, 1, n_s), (_i, 1, n_s))


def _expect(poly: sp.Expr, j: sp.Expr, k: sp.Expr) -> sp.Expr:
    """``E`` of a polynomial of degree ≤ 2 in ``v_j, v_k`` (coefficients free of ``v``), by linearity."""
    P = sp.Poly(sp.expand(poly), _Vj, _Vk)
    moment = {(0, 0): sp.Integer(1), (1, 0): _E1(j), (0, 1): _E1(k), (1, 1): _E2(j, k),
              (2, 0): _E2(j, j), (0, 2): _E2(k, k)}
    return sp.Add(*[coef * moment[mon] for mon, coef in P.terms()])


def _expect_product(bb: sp.Expr, j: sp.Expr, k: sp.Expr) -> sp.Expr:
    """``E[(B̄L̄B̄)_jk] = Σ_pΣ_q L̄_pq E[B̄_jpB̄_qk]`` for ``B̄ = bb·Diag(v)`` on every draw (``B̄_jp = bb·δ_jp v_p``):
    the product summed over the coordinates ``p, q ≤ n`` (d = n), the deltas deleted by
    :func:`~.symbolic_sums.sum_normal_form`, then ``E`` by linearity (:func:`_expect`)."""
    prod = sp.Sum(bb * sp.KroneckerDelta(j, _p) * _V[_p] * _Lbar[_p, _q] * bb * sp.KroneckerDelta(_q, k) * _V[_q],
                  (_p, 1, n_s), (_q, 1, n_s))
    out = sp.Integer(0)
    for (mono, lims), coef in sum_normal_form(prod, {j: (1, n_s), k: (1, n_s)}).items():
        if lims:
            raise ValueError(f"(B̄L̄B̄)_jk did not reduce to one entry: {mono}, {lims}")
        out += coef * _expect(mono.xreplace({_V[j]: _Vj, _V[k]: _Vk}), j, k)
    return out


_m = sp.Symbol("m", nonnegative=True, integer=True)


def _ge2(M: sp.Matrix) -> sp.Matrix:
    """A residual in ``n = m + 2``, ``m ≥ 0``: Perm-1's pair probabilities need ``n ≥ 2`` clients, so a witness
    is sought at ``n = 2, 4, 3, …`` (never at ``n = 1``, where distinct sums coincide)."""
    return M.subs(n_s, _m + 2)


def _res(expr: sp.Expr) -> tuple[sp.Matrix, str]:
    r, shown = sum_residual(expr)
    return _ge2(r), shown


def _homogeneous(expr: sp.Expr) -> sp.Expr:
    """Every client has the same diagonal: ``a_ij → A_j``."""
    return expr.replace(lambda x: isinstance(x, sp.Indexed) and x.base == _a, lambda x: _A[x.indices[1]])


def _stack(*exprs: sp.Expr) -> tuple[sp.Matrix, str]:
    """Residual coefficients of several sum expressions, stacked (each must vanish)."""
    parts = [sum_residual(e) for e in exprs]
    return _ge2(sp.Matrix.vstack(*[p[0] for p in parts])), "; ".join(p[1] for p in parts)


# --------------------------------------------------------------------------------- fixed-size evidence, n = 3


class _Symbolic(TypedDict):
    """The constant-free symbolic results of :func:`_symbolic` (n = d = 3, symbolic L_i)."""

    Ls: list[sp.Matrix]
    Lb: sp.Matrix
    EB: sp.Matrix
    BLB: sp.Matrix
    Dbar: sp.Matrix
    Evv: sp.Matrix
    draws: list[tuple[sp.Matrix, sp.Matrix]]
    S: sp.Matrix
    cert: sp.Matrix
    EBh: sp.Matrix
    Dh: sp.Matrix
    Lh: sp.Matrix
    BLBh: sp.Matrix


@lru_cache(maxsize=1)
def _symbolic() -> _Symbolic:
    """Engine moments and the enumeration of the 6 permutations at n = d = 3, symbolic L_i (constant-free)."""
    n = d = N
    Ls = [symmetric_matrix(f"L{i}", d) for i in range(n)]
    sk = Permutation(n, d)
    Lb = sum(Ls, sp.zeros(d, d)) / n
    EB = sp.Matrix(symbolic_expectation(contractions.B, sk, [stack(Ls)]).tolist()) / n
    BLB = sp.Matrix(symbolic_expectation(contractions.BMB, sk, [stack(Ls), np.array(Lb.tolist(), dtype=object),
                                                      stack(Ls)]).tolist()) / n**2
    Dbar = sp.Matrix([sum(Ls[i][j, j] for i in range(n)) / n for j in range(d)])
    perms = list(itertools.permutations(range(d)))
    draws: list[tuple[sp.Matrix, sp.Matrix]] = []
    for perm in perms:
        Bp = sp.zeros(d, d)
        for i, j in enumerate(perm):
            Ct = sp.zeros(d, d)
            Ct[j, j] = n
            Bp += Ct * Ls[i] * Ct / n
        draws.append((Bp, sp.Matrix([Ls[perm.index(j)][j, j] for j in range(d)])))
    Evv = sum((v * v.T for _, v in draws), sp.zeros(d, d)) / len(perms)
    a = [sp.Matrix([Ls[i][j, j] for j in range(d)]) for i in range(n)]
    S = sum(((ai - Dbar) * (ai - Dbar).T for ai in a), sp.zeros(d, d)) / n
    DL = sp.diag(*Dbar)
    cert = sum((sp.diag(*(v - Dbar)) * Lb * sp.diag(*(v - Dbar)) for _, v in draws), sp.zeros(d, d)) / len(perms)
    L = symmetric_matrix("L", d)
    Dh = sp.diag(*[L[j, j] for j in range(d)])
    Lh = [L] * n
    EBh = sp.Matrix(symbolic_expectation(contractions.B, sk, [stack(Lh)]).tolist()) / n
    BLBh = sp.Matrix(symbolic_expectation(contractions.BMB, sk, [stack(Lh), np.array(L.tolist(), dtype=object),
                                                       stack(Lh)]).tolist()) / n**2
    return {"Ls": Ls, "Lb": Lb, "EB": EB, "BLB": BLB, "Dbar": Dbar, "Evv": Evv, "draws": draws, "S": S,
            "cert": n**2 * (cert + DL * Lb * DL), "EBh": EBh, "Dh": Dh, "Lh": L, "BLBh": BLBh}


FIRST_MOMENT_SIZES = (2, 3, 4)


@lru_cache(maxsize=4)
def _first_moment(k: int) -> tuple[list[sp.Matrix], sp.Matrix]:
    """Symbolic L_i and the engine's E[B̄] for Perm-1 with n = d = k (constant-free)."""
    if k == N:
        S = _symbolic()
        return S["Ls"], S["EB"]
    Ls = [symmetric_matrix(f"L{i}", k) for i in range(k)]
    return Ls, sp.Matrix(symbolic_expectation(contractions.B, Permutation(k, k), [stack(Ls)]).tolist()) / k


# ---------------------------------------------------------------------------------------- numeric helpers


def _ev_numeric(Ls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numeric E[vvᵀ] and D̄ for Perm-1 (n = d)."""
    n = Ls.shape[0]
    a = np.diagonal(Ls, axis1=1, axis2=2)  # (n, d)
    Dbar = a.mean(0)
    E = (n**2 * np.outer(Dbar, Dbar) - a.T @ a) / (n * (n - 1))
    np.fill_diagonal(E, (a**2).mean(0))
    return E, Dbar


def theta_17(problem: QuadraticProblem) -> float | None:
    """Smallest θ in (17), ``λ_max(nD̄L̄D̄, ½(L̄D̄ + D̄L̄))``; ``None`` if ``½(L̄D̄ + D̄L̄)`` is not PD."""
    L, Dv, n = problem.L_bar, problem.D_bar, problem.n
    W17 = 0.5 * (L * Dv[None, :] + Dv[:, None] * L)
    if np.linalg.eigvalsh(W17)[0] <= 1e-10:
        return None
    return float(sla.eigh(n * (Dv[:, None] * L * Dv[None, :]), W17, eigvals_only=True)[-1])


def theta_14(mo: SketchMoments) -> tuple[float, np.ndarray] | None:
    """Smallest θ in (14) and its generalised eigenvector; ``None`` unless ``W̄ ≻ 0``."""
    if np.linalg.eigvalsh(mo.W)[0] <= 1e-10:
        return None
    w, V = sla.eigh(mo.BLB, mo.W)
    return float(w[-1]), V[:, -1]


def _psd2(M: sp.Matrix) -> bool:
    """An exact symmetric 2×2 matrix is PSD iff its diagonal and determinant are ≥ 0."""
    return bool(M[0, 0] >= 0 and M[1, 1] >= 0 and M.det() >= 0)


#: the exact heterogeneous instance (n = d = 2, interpolation): L₁ = [[2, 2], [2, 2]], L₂ = I
_L1 = sp.Matrix([[2, 2], [2, 2]])
_L2 = sp.eye(2)


def _exact_instance() -> dict[str, object]:
    """(17) holds at θ = 3 = θ₁₇ exactly while (14) fails there; moments by enumerating the 2 permutations
    in exact rationals (independent of the formulas and of the engine)."""
    Ls, n = [_L1, _L2], 2
    Lb = (Ls[0] + Ls[1]) / n
    Dm = sp.diag(*[(Ls[0][j, j] + Ls[1][j, j]) / n for j in range(2)])
    outcomes = []
    for perm in itertools.permutations(range(n)):  # client i owns coordinate perm[i]
        B = sp.zeros(2, 2)
        for i, j in enumerate(perm):
            C = sp.zeros(2, 2)
            C[j, j] = n
            B += C * Ls[i] * C / n
        outcomes.append(B)
    EB = sum(outcomes, sp.zeros(2, 2)) / len(outcomes)
    BLB = sum((B * Lb * B for B in outcomes), sp.zeros(2, 2)) / len(outcomes)
    W = (Lb * EB + EB * Lb) / 2
    W17 = (Lb * Dm + Dm * Lb) / 2
    th17, th14 = sp.Integer(3), sp.Rational(14, 3)
    x = sp.Matrix([1, -1])
    gam = 1 / th17
    f0 = (x.T * Lb * x)[0] / 2
    Ef1 = sum((((x - gam * B * x).T * Lb * (x - gam * B * x))[0] / 2 for B in outcomes), sp.Integer(0)) / len(outcomes)
    w = (x.T * W * x)[0]
    return {
        "EB=nD": EB - n * Dm, "W": W, "BLB": BLB,
        # θ₁₇ = 3: (17) holds at 3, is singular there, and W17 ≻ 0 (so it fails below 3)
        "th17": _psd2(th17 * W17 - n * Dm * Lb * Dm) and (th17 * W17 - n * Dm * Lb * Dm).det() == 0
        and W17[0, 0] > 0 and W17.det() > 0,
        # θ* = 14/3: (14) holds at 14/3 and is singular there (W̄ ≻ 0)
        "th14": _psd2(th14 * W - BLB) and (th14 * W - BLB).det() == 0 and W[0, 0] > 0 and W.det() > 0,
        "x14": (x.T * (th17 * W - BLB) * x)[0], "margin15": Ef1 - (f0 - gam * w / 2), "w": w,
        "s": (x.T * BLB * x)[0], "th17v": th17, "th14v": th14,
    }


def _exact_point() -> object:
    """The same instance as a lemma point: ``L_i = A_iA_iᵀ``."""
    from ..lemmas.points import Point

    F = Fraction
    A1 = np.array([[F(1), F(1)], [F(1), F(1)]], dtype=object)  # A₁A₁ᵀ = [[2, 2], [2, 2]]
    A2 = np.array([[F(1), F(0)], [F(0), F(1)]], dtype=object)
    return Point("heterogeneous", np.stack([A1, A2]), np.array([F(0), F(0)], dtype=object),
                 np.zeros((2, 2), dtype=object), np.zeros(2, dtype=object), "perm", gamma=F(1, 3))


# ------------------------------------------------------------------------------------------------ derive


def derive(n_rel: sp.Expr = d_s, ebar_scale: sp.Expr = n_s, correction: sp.Expr | int = 1,
           bbar_scale: sp.Expr = n_s, diag_weight: sp.Expr | None = None, cross_den: sp.Expr | None = None,
           blb_scale: sp.Expr | None = None, cov_diag: sp.Expr = n_s, cov_den: sp.Expr | None = None,
           red_factor: sp.Expr = n_s, eq17_n: sp.Expr = n_s, descent_den: sp.Expr | int = 2,
           vv_diag: sp.Expr | int = 1) -> Derivation:
    """Check the Perm-1 example with the claimed constants (see the module docstring; defaults: ``n = d``,
    ``B̄ = n Diag(v)``, ``E[B̄] = nD̄``, ``E[v_j²] = (1/n)Σ_i(L_i)_jj²``, ``E[v_jv_k]`` over ``n(n−1)``,
    ``E[B̄L̄B̄] = n²L̄∘E[vvᵀ]``, ``Cov(v) = (n Diag S − S)/(n − 1)``, ``correction = 1``, ``θW̄ − E[B̄L̄B̄] = n[…]``,
    (17) with ``n``, ``(s − θw)/(2θ²)``)."""
    n = n_s
    n_rel, ebar_scale, correction = sp.sympify(n_rel), sp.sympify(ebar_scale), sp.sympify(correction)
    bbar_scale, cov_diag, red_factor = sp.sympify(bbar_scale), sp.sympify(cov_diag), sp.sympify(red_factor)
    eq17_n, descent_den, vv_diag = sp.sympify(eq17_n), sp.sympify(descent_den), sp.sympify(vv_diag)
    diag_weight = 1 / n if diag_weight is None else sp.sympify(diag_weight)
    cross_den = n * (n - 1) if cross_den is None else sp.sympify(cross_den)
    blb_scale = n**2 if blb_scale is None else sp.sympify(blb_scale)
    cov_den = n - 1 if cov_den is None else sp.sympify(cov_den)
    D = Derivation("Perm-1 example", ("(7)", "(14)", "(17)"),
                   constants={"n_rel": n_rel, "ebar_scale": ebar_scale, "correction": correction,
                              "bbar_scale": bbar_scale, "diag_weight": diag_weight, "cross_den": cross_den,
                              "blb_scale": blb_scale, "cov_diag": cov_diag, "cov_den": cov_den,
                              "red_factor": red_factor, "eq17_n": eq17_n, "descent_den": descent_den,
                              "vv_diag": vv_diag})
    j, k = _j, _k
    P1, P2, PX, PW = _probabilities()
    T = n  # the scale of Perm-q (7): C_i = n Σ_{j owned} e_je_jᵀ
    Dbar = {j: _S(j) / n, k: _S(k) / n}
    Lb_jk, Lb_jj, th = sp.Symbol("Lbar_jk", real=True), sp.Symbol("Lbar_jj", real=True), sp.Symbol("theta")

    # 1. Perm-1 is Perm-q with q = 1
    sol = sp.solve(sp.Eq(d_s, 1 * n_s), n_s)
    D.symbolic("Perm-1: solving d = q·n (7) at q = 1 gives n = n_rel", "(7)",
               sp.Matrix([len(sol) - 1, n_rel - sol[0]]), f"n = {sol}, claimed n = {n_rel}", reach=GENERAL)

    # 2. inclusion probabilities (inclusion.py) against permutation counts; one owner per coordinate
    one_owner = sp.Sum((P1 * sp.KroneckerDelta(_i, _l) + PW * (1 - sp.KroneckerDelta(_i, _l))), (_l, 1, n),
                       (_i, 1, n))
    res, shown = _stack(sp.Sum(P1, (_i, 1, n)) - 1, one_owner - 1)
    D.symbolic("Perm-1 probabilities (inclusion.py, q = 1, d = n) = permutation counts: P(π_ij) = (n−1)!/n!, "
               "P(π_ijπ_ik) = 0, P(π_ijπ_lk) = (n−2)!/n! (i ≠ l), P(π_ijπ_lj) = 0; E Σ_iπ_ij = E(Σ_iπ_ij)² = 1",
               "(7)", _ge2(sp.Matrix([P1 - sp.combsimp(sp.factorial(n - 1) / sp.factorial(n)), P2,
                                      PX - sp.combsimp(sp.factorial(n - 2) / sp.factorial(n)), PW])).col_join(res),
               f"P = {P1}, {P2}, {PX}, {PW}; one owner: {shown}", reach=GENERAL)

    # 3. B̄ = n Diag(v) on every draw: B̄_jk = (1/n)Σ_i T²π_ijπ_ik(L_i)_jk (premise), π_ij² = π_ij,
    #    π_ijπ_ik = 0 a.s. (j ≠ k: P(π_ijπ_ik = 1) = 0, inclusion.py)
    D.premise("Perm-1 on one draw (definition, written out by hand): B̄ = (1/n)Σ_i C_iL_iC_i with "
              "C_i = T·Σ_j π_ij e_je_jᵀ, T = n the scale of Perm-q (7), so B̄_jk = (1/n)Σ_i T²π_ijπ_ik(L_i)_jk, "
              "π_ij ∈ {0, 1}; enumerated on every draw only at n = d = 3 (evidence)")
    diag_draw = sp.Sum(T**2 / n * _pi[_i, j] ** 2 * _a[_i, j], (_i, 1, n))
    diag_draw = diag_draw.replace(lambda e: isinstance(e, sp.Pow) and isinstance(e.base, sp.Indexed)
                                  and e.base.base == _pi, lambda e: e.base)  # π² = π (an indicator)
    res_d, shown_d = sum_residual(diag_draw - bbar_scale * sp.Sum(_pi[_i, j] * _a[_i, j], (_i, 1, n)))
    res_o, shown_o = sum_residual(sp.Sum(T**2 / n * P2 * _Lo[_i, j, k], (_i, 1, n)))  # E|B̄_jk|, j ≠ k
    D.symbolic("B̄ = bbar_scale · Diag(v), v_j = Σ_i π_ij(L_i)_jj, on every draw: from the per-draw B̄_jk "
               "(premise) with π_ij² = π_ij, B̄_jj = (T²/n)v_j, and E|B̄_jk| = Σ_i (T²/n)P(π_ijπ_ik)|(L_i)_jk| = 0 "
               "(j ≠ k)", "(17)", _ge2(res_d.col_join(res_o)), f"bbar_scale = {bbar_scale}; {shown_d}; {shown_o}",
               reach=GENERAL)
    bb = T**2 / n  # the coefficient of Diag(v) on every draw (from the premise, not the knob)

    # 4. first moment
    res, shown = _res(bb * _E1(j) - _S(j))
    D.symbolic("E[B̄] = Σ_i D_i: E[B̄]_jj = n·E v_j = n Σ_i P(π_ij)(L_i)_jj (every n ≥ 2)", "(17)", res, shown,
               reach=GENERAL)
    res, shown = _res(bb * _E1(j) - ebar_scale * Dbar[j])
    D.symbolic("E[B̄] = ebar_scale · D̄ (every n ≥ 2)", "(17)", res, f"ebar_scale = {ebar_scale}; {shown}",
               reach=GENERAL)

    # 5. second moment of v
    res, shown = _res(_E2(j, j) - diag_weight * _T(j, j))
    D.symbolic("E[v_j²] = diag_weight · Σ_i (L_i)_jj² (every n ≥ 2)", "(14)", res,
               f"diag_weight = {diag_weight}; {shown}", reach=GENERAL)
    res, shown = _res(_E2(j, k) - (n**2 * Dbar[j] * Dbar[k] - _T(j, k)) / cross_den)
    D.symbolic("E[v_jv_k] = (n²D̄_jD̄_k − Σ_i(L_i)_jj(L_i)_kk)/cross_den, j ≠ k (every n ≥ 2)", "(14)", res,
               f"cross_den = {cross_den}; {shown}", reach=GENERAL)

    # 6. E[B̄L̄B̄] = n² L̄ ∘ E[vvᵀ]: the product Σ_pΣ_q B̄_jpL̄_pqB̄_qk with B̄ = bb·Diag(v) on every draw (step 3)
    res, shown = _stack(_expect_product(bb, j, k) - blb_scale * _Lbar[j, k] * _E2(j, k),
                        _expect_product(bb, j, j) - blb_scale * _Lbar[j, j] * _E2(j, j))
    D.symbolic("E[B̄L̄B̄] = blb_scale · L̄ ∘ E[vvᵀ]: E[(B̄L̄B̄)_jk] = Σ_pΣ_q L̄_pq E[B̄_jpB̄_qk] with B̄ = n Diag(v) "
               "on every draw, entries j ≠ k and j = k (every n ≥ 2)", "(14)", res,
               f"blb_scale = {blb_scale}; {shown}", reach=GENERAL)

    # 7. covariance from its definition, against the closed form
    def cov(p: sp.Expr, q: sp.Expr) -> sp.Expr:
        return _expect((_Vj - _S(p) / n) * (_Vk - _S(q) / n), p, q)

    def spread(p: sp.Expr, q: sp.Expr) -> sp.Expr:
        return sp.Sum((_a[_i, p] - _S(p) / n) * (_a[_i, q] - _S(q) / n), (_i, 1, n)) / n

    res, shown = _stack(cov(j, k) - (-spread(j, k)) / cov_den,
                        _expect((_Vj - _S(j) / n) ** 2, j, j) - (cov_diag * spread(j, j) - spread(j, j)) / cov_den)
    D.symbolic("Cov(v) = E[(v − D̄)(v − D̄)ᵀ] = (cov_diag·Diag(S) − S)/cov_den, S = (1/n)Σ_i(a_i − D̄)(a_i − D̄)ᵀ "
               "(every n ≥ 2)", "(14)", res, f"cov_diag = {cov_diag}, cov_den = {cov_den}; {shown}", reach=GENERAL)

    # 8. certificate: E[B̄L̄B̄] = n²D̄L̄D̄ + n² E[Diag(v − D̄)L̄Diag(v − D̄)] (⪰ n²D̄L̄D̄ since L̄ ⪰ 0)
    res, shown = _stack(bb**2 * Lb_jk * _E2(j, k) - n**2 * Dbar[j] * Lb_jk * Dbar[k]
                        - correction * n**2 * Lb_jk * cov(j, k),
                        bb**2 * Lb_jj * _E2(j, j) - n**2 * Dbar[j] * Lb_jj * Dbar[j]
                        - correction * n**2 * Lb_jj * _expect((_Vj - _S(j) / n) ** 2, j, j))
    D.symbolic("certificate: E[B̄L̄B̄] = n²D̄L̄D̄ + correction · n²E[Diag(v − D̄)L̄Diag(v − D̄)] ⪰ n²D̄L̄D̄, so (14) ⇒ "
               "(17) (every n ≥ 2)", "(17)", res, f"correction = {correction}; {shown}", reach=GENERAL)

    # 9. (14) ⇔ n L̄∘E[vvᵀ] ⪯ (θ/2)(L̄D̄ + D̄L̄): W̄ = ½(L̄E[B̄] + E[B̄]L̄), E[B̄] from step 4; every entry:
    #    j ≠ k and the diagonal j = k (where E[vvᵀ] has E[v_j²], weighted by the knob vv_diag)
    EBj, EBk = bb * _E1(j), bb * _E1(k)
    W_jk = (Lb_jk * EBk + EBj * Lb_jk) / 2
    W_jj = (Lb_jj * EBj + EBj * Lb_jj) / 2
    res, shown = _stack(th * W_jk - bb**2 * Lb_jk * _E2(j, k)
                        - red_factor * (th / 2 * (Lb_jk * Dbar[k] + Dbar[j] * Lb_jk) - n * Lb_jk * _E2(j, k)),
                        th * W_jj - bb**2 * Lb_jj * _E2(j, j)
                        - red_factor * (th / 2 * (Lb_jj * Dbar[j] + Dbar[j] * Lb_jj)
                                        - n * Lb_jj * vv_diag * _E2(j, j)))
    D.symbolic("θW̄ − E[B̄L̄B̄] = red_factor · [(θ/2)(L̄D̄ + D̄L̄) − nL̄∘E[vvᵀ]], entries j ≠ k and j = k, so (14) ⇔ "
               "nL̄∘E[vvᵀ] ⪯ (θ/2)(L̄D̄ + D̄L̄) (every n ≥ 2)", "(14)", res,
               f"red_factor = {red_factor}, vv_diag = {vv_diag}; {shown}", reach=GENERAL)

    # 10. homogeneous: a_ij = A_j for every client: Cov(v) = 0 and (14) ⇔ n·(17), entries j ≠ k and j = k
    Lh_jk, Lh_jj = sp.Symbol("L_jk", real=True), sp.Symbol("L_jj", real=True)
    Wh = (Lh_jk * EBk + EBj * Lh_jk) / 2
    Wh_jj = (Lh_jj * EBj + EBj * Lh_jj) / 2
    red = (th * Wh - bb**2 * Lh_jk * _E2(j, k)
           - n * (th / 2 * (Lh_jk * _A[k] + _A[j] * Lh_jk) - eq17_n * _A[j] * Lh_jk * _A[k]))
    red_jj = (th * Wh_jj - bb**2 * Lh_jj * _E2(j, j)
              - n * (th / 2 * (Lh_jj * _A[j] + _A[j] * Lh_jj) - eq17_n * vv_diag * _A[j] * Lh_jj * _A[j]))
    res, shown = _stack(*[_homogeneous(e) for e in (cov(j, k), _expect((_Vj - _S(j) / n) ** 2, j, j), red, red_jj)])
    D.symbolic("homogeneous (L_i ≡ L): Cov(v) = 0 and θW̄ − E[B̄L̄B̄] = n[(θ/2)(LD + DL) − eq17_n·DLD], entries "
               "j ≠ k and j = k, so (14) ⇔ (17) (every n ≥ 2)", "(17)", res,
               f"eq17_n = {eq17_n}, vv_diag = {vv_diag}; {shown}", reach=GENERAL)

    # 11. consequence: if xᵀE[B̄L̄B̄]x = s > θw (w = xᵀW̄x) then at γ = 1/θ the descent step of (15) fails
    fx, w, s_ = sp.Symbol("f", real=True), sp.Symbol("w", positive=True), sp.Symbol("s", positive=True)
    thp = sp.Symbol("theta", positive=True)
    gm = 1 / thp
    D.symbolic("at γ = 1/θ: E f(x⁺) − (f − γw/2) = (s − θw)/(descent_den·θ²) > 0 whenever s > θw "
               "(E f(x⁺) = ½xᵀ(L̄ − 2γW̄ + γ²E[B̄L̄B̄])x, interpolation)", "(15)",
               (fx - gm * w + gm**2 / 2 * s_) - (fx - gm * w / 2) - (s_ - thp * w) / (descent_den * thp**2),
               f"descent_den = {descent_den}", reach=GENERAL)

    # 12. (17) can fail for every θ: Remark 1's family (homogeneous, n = d = 2), symbolic in a, b, t
    a, b, t = sp.symbols("a b t", positive=True)
    c = 2 * a * b / (a + b) + t
    L2, D2 = sp.Matrix([[a, c], [c, b]]), sp.diag(a, b)
    W17 = (L2 * D2 + D2 * L2) / 2
    v = sp.Matrix([-W17[0, 1], W17[0, 0]])
    D.symbolic_true("(17) fails for every θ on Remark 1's L = [[a, c], [c, b]], c = 2ab/(a+b) + t: "
                    "v = (−M₁₂, M₁₁) has vᵀ(L̄D̄ + D̄L̄)v/2 < 0", "(17)",
                    sp.Lt(sp.factor((v.T * W17 * v)[0]), 0), f"vᵀW₁₇v = {sp.factor((v.T * W17 * v)[0])}",
                    reach=GENERAL)
    u1, u2 = sp.symbols("u1 u2", real=True)
    cc = sp.Symbol("c", positive=True)
    Lc = sp.Matrix([[a, cc], [cc, b]])
    D.symbolic("…while vᵀnD̄L̄D̄v = n(Dv)ᵀL(Dv) ≥ 0 for L ⪰ 0: uᵀLu = a(u₁ + cu₂/a)² + (ab − c²)u₂²/a; such "
               "c ≤ √(ab) exist iff a ≠ b: ab − (2ab/(a+b))² = ab(a−b)²/(a+b)²", "(17)",
               sp.Matrix([(sp.Matrix([[u1, u2]]) * Lc * sp.Matrix([u1, u2]))[0]
                          - (a * (u1 + cc * u2 / a) ** 2 + (a * b - cc**2) * u2**2 / a),
                          sp.simplify(a * b - (2 * a * b / (a + b)) ** 2 - a * b * (a - b) ** 2 / (a + b) ** 2)]),
               reach=GENERAL)

    # ---- refutations of the printed reduction (14) → (17): exact instance, and the lemma file
    X = _exact_instance()
    ok = (X["EB=nD"] == sp.zeros(2, 2) and X["th17"] and X["th14"] and X["x14"] < 0  # type: ignore[operator]
          and X["margin15"] > 0)  # type: ignore[operator]
    D.numeric("(17) is not sufficient: L₁ = [[2, 2], [2, 2]], L₂ = I (n = d = 2): (17) holds at θ₁₇ = 3, (14) needs "
              "θ* = 14/3, and (15) with K = 1, γ = 1/θ₁₇ fails at x⁰ = (1, −1)", "(17)", bool(ok),
              f"exact: θ₁₇ = {X['th17v']} (PSD and singular), θ* = {X['th14v']} (PSD and singular); "
              f"xᵀ(θ₁₇W̄ − E[B̄L̄B̄])x = {X['x14']}; E f(x¹) − (f(x⁰) − γ‖∇f(x⁰)‖²_{{L̄⁻¹W̄L̄⁻¹}}/2) = {X['margin15']}",
              exact=True, role="refutation")
    D.counterexample("lemma file eq17-printed (θ* = θ₁₇) fails on the same instance", "(17)", "eq17-printed",
                     _exact_point())  # type: ignore[arg-type]

    # ---- evidence: the engine and the enumeration at fixed sizes
    built = []
    for dd in (2, 3):
        try:
            built.append(f"d={dd}: q={Permutation(int(n_rel.subs(d_s, dd)), dd).q}")
        except IncompatibleSketchError as exc:
            built.append(f"d={dd}, n={n_rel.subs(d_s, dd)}: {type(exc).__name__}")
    D.numeric("library: Perm-1 sketch with n = n_rel(d) exists and has q = 1 (d = 2, 3)", "(7)",
              all(x.endswith("q=1") for x in built), "; ".join(built), exact=True, role="evidence")
    for kk in FIRST_MOMENT_SIZES:
        Ls, EBk = _first_moment(kk)
        Dsum = sum((sp.diag(*[L[jj, jj] for jj in range(kk)]) for L in Ls), sp.zeros(kk, kk))
        val = ebar_scale.subs({n_s: kk, d_s: kk})
        D.symbolic(f"engine: E[B̄] = ebar_scale · D̄ (n = d = {kk}, symbolic L_i)", "(17)", EBk - val * Dsum / kk,
                   f"ebar_scale = {ebar_scale} = {val} at n = d = {kk}", reach=at(n=kk, d=kk), role="evidence")
    Sy = _symbolic()
    nn, sub3 = N, {n_s: N, d_s: N}

    def at3(e: sp.Expr) -> sp.Expr:
        return sp.sympify(e).subs(sub3)

    D.symbolic("enumeration: B̄ = bbar_scale · Diag(v_π) on all 6 permutations", "(17)",
               sp.Matrix.vstack(*[Bp - at3(bbar_scale) * sp.diag(*vp) for Bp, vp in Sy["draws"]]),
               f"bbar_scale = {at3(bbar_scale)} at n = 3", reach=at(n=3, d=3), role="evidence")
    Dv = Sy["Dbar"]
    a3 = [[Sy["Ls"][i][jj, jj] for jj in range(nn)] for i in range(nn)]
    claimed = sp.Matrix(nn, nn, lambda p, q: at3(diag_weight) * sum(a3[i][p] ** 2 for i in range(nn)) if p == q
                        else (nn**2 * Dv[p] * Dv[q] - sum(a3[i][p] * a3[i][q] for i in range(nn))) / at3(cross_den))
    D.symbolic("enumeration: E[vvᵀ] with diag_weight and cross_den (6 permutations)", "(14)",
               (Sy["Evv"] - claimed).expand(), f"diag_weight = {at3(diag_weight)}, cross_den = {at3(cross_den)}",
               reach=at(n=3, d=3), role="evidence")
    D.symbolic("engine: E[B̄L̄B̄] = blb_scale · L̄ ∘ E[vvᵀ] (BMB contraction)", "(14)",
               (Sy["BLB"] - at3(blb_scale) * Sy["Lb"].multiply_elementwise(Sy["Evv"])).expand(),
               f"blb_scale = {at3(blb_scale)}", reach=at(n=3, d=3), role="evidence")
    S3 = Sy["S"]
    D.symbolic("enumeration: Cov(v) = (cov_diag·Diag(S) − S)/cov_den", "(14)",
               (Sy["Evv"] - Dv * Dv.T - (at3(cov_diag) * sp.diag(*[S3[p, p] for p in range(nn)]) - S3)
                / at3(cov_den)).expand(), f"cov_diag = {at3(cov_diag)}, cov_den = {at3(cov_den)}",
               reach=at(n=3, d=3), role="evidence")
    DL = sp.diag(*Dv)
    D.symbolic("engine: E[B̄L̄B̄] = n²D̄L̄D̄ + correction · (n²/n!)Σ_π Diag(v_π − D̄)L̄Diag(v_π − D̄)", "(17)",
               (Sy["BLB"] - nn**2 * DL * Sy["Lb"] * DL - correction * (Sy["cert"] - nn**2 * DL * Sy["Lb"] * DL))
               .expand(), f"correction = {correction}", reach=at(n=3, d=3), role="evidence")
    Lh, Dh = Sy["Lh"], Sy["Dh"]
    Wh3 = (Lh * Sy["EBh"] + Sy["EBh"] * Lh) / 2
    D.symbolic("engine, homogeneous: θW̄ − E[B̄L̄B̄] = red_factor·[(θ/2)(LD + DL) − eq17_n·DLD]", "(17)",
               (th * Wh3 - Sy["BLBh"] - at3(red_factor) * (th / 2 * (Lh * Dh + Dh * Lh) - at3(eq17_n) * Dh * Lh * Dh))
               .expand(), f"red_factor = {at3(red_factor)}, eq17_n = {at3(eq17_n)}", reach=at(n=3, d=3),
               role="evidence")

    # ---- evidence: floats on random instances
    corr = float(correction)
    worst_red, strict, tried, ratio, fails15 = 0.0, 0, 0, 1.0, None
    for seed in range(8):
        for m in (3, 4):
            prob = interpolation(m, m, 0.9, seed=seed, cond=20.0)
            mo = SketchMoments(prob, Permutation(m, m))
            t14, t17 = theta_14(mo), theta_17(prob)
            if t14 is None or t17 is None:
                continue
            tried += 1
            E, Dn = _ev_numeric(np.asarray(prob.L))
            Ec = np.outer(Dn, Dn) + corr * (E - np.outer(Dn, Dn))
            W17n = 0.5 * (prob.L_bar * Dn[None, :] + Dn[:, None] * prob.L_bar)
            t_red = float(sla.eigh(m * prob.L_bar * Ec, W17n, eigvals_only=True)[-1])
            worst_red = max(worst_red, abs(t_red - t14[0]) / t14[0])
            if t17 < t14[0] * (1 - 1e-6):
                strict += 1
                ratio = max(ratio, t14[0] / t17)
                x, gam = t14[1], 1 / t17
                wv = x @ mo.W @ x
                Ef1 = 0.5 * x @ (prob.L_bar - 2 * gam * mo.W + gam**2 * mo.BLB) @ x
                bound = 0.5 * x @ prob.L_bar @ x - gam / 2 * wv
                if Ef1 > bound * (1 + 1e-9) and fails15 is None:
                    fails15 = (m, seed, Ef1, bound)
    D.numeric("instances: θ from nL̄∘E[vvᵀ] ⪯ (θ/2)(L̄D̄ + D̄L̄) equals θ* of (14) (SketchMoments)", "(14)",
              tried >= 8 and worst_red <= 1e-9, f"{tried} instances, max relative difference {worst_red:.3g}",
              role="evidence")
    D.numeric("instances: θ₁₇ < θ*(14) on heterogeneous instances, and (15) fails at γ = 1/θ₁₇", "(17)",
              strict >= 1 and fails15 is not None,
              f"θ₁₇ < θ* on {strict}/{tried} (max θ*/θ₁₇ = {ratio:.4g}); (15) with K = 1, γ = 1/θ₁₇: "
              + ("none" if fails15 is None else
                 f"n = d = {fails15[0]}, seed {fails15[1]}: E f(x¹) = {fails15[2]:.6g} > {fails15[3]:.6g}"),
              role="evidence")
    worst_h = 0.0
    for seed in range(3):
        prob = homogeneous(3, 3, seed=seed, cond=20.0, interpolation=True)
        t14, t17 = theta_14(SketchMoments(prob, Permutation(3, 3))), theta_17(prob)
        if t14 is not None and t17 is not None:
            worst_h = max(worst_h, abs(t14[0] - t17) / t14[0])
    D.numeric("instances, homogeneous: θ₁₇ = θ*(14)", "(17)", worst_h <= 1e-9, f"max rel. diff {worst_h:.2g}",
              role="evidence")
    D.latex["EB"] = tex_times(ebar_scale, r"\bar D")
    cov_tex = tex_times(correction, r"\mathrm{Cov}(v)")
    D.latex["BLB"] = r"n^2\bar L\circ\left(" + tex_plus(r"\bar D\bar D^\top", cov_tex) + r"\right)"
    return D
