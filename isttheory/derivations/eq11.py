"""(11): the bounded gradient assumption ``E‖∇f(C(x))‖² ≤ G`` fails even for ``f(x) = xᵀAx``.

What is general (every dimension ``d``, every ``n``, ``q``; matrix symbols of symbolic size):

* ``∇(xᵀAx) = 2Ax`` for symmetric ``A``, and for a symmetric (diagonal) sketch ``C``
  ``‖∇f(Cx)‖² = ‖2ACx‖² = 4 xᵀCA²Cx``, so by linearity ``E‖∇f(Cx)‖² = 4 xᵀE[CA²C]x``;
* for a diagonal sketch with scale ``s``, ``α = s²P(j ∈ S)``, ``β = s²P(j, k ∈ S)`` (the inclusion
  probabilities of :mod:`isttheory.symbolic.inclusion`, symbolic in ``d, q, n``):
  ``E[CMC] = βM + (α − β)Diag(M)`` entrywise (written by hand from ``E[c_jc_k] = s²P(j, k ∈ S)``),
  with ``α − β = d(d − q)/(q(d − 1)) > 0``, ``β = d(q − 1)/(q(d − 1)) ≥ 0`` (Rand-q (4), ``1 ≤ q < d``)
  and ``α − β = nq(n − 1)/(qn − 1) > 0``, ``β = n(q − 1)/(qn − 1) ≥ 0`` (Perm-q (7), ``n ≥ 2``);
* hence (sum of squares) ``xᵀE[CA²C]x = β‖Ax‖² + (α − β) Σ_j ‖Ae_j‖² x_j² ≥ (α − β) min_j ‖Ae_j‖² ‖x‖²
  > 0`` for ``A ≻ 0``, ``x ≠ 0``;
* along ``x = t·v`` the left side is ``t²·E‖∇f(Cv)‖² → ∞``: no ``G`` works; the same holds
  without compression, ``‖∇f(x)‖² = 4xᵀA²x`` — the failure is not caused by compression.

Identities between matrix expressions are checked on the coefficients of their distinct matrix
monomials (:func:`matrix_coefficients`), with symmetry as the rewrite ``Aᵀ → A``.

Evidence only (not counted): the same identities with explicit entries at ``d = 2, 3`` (enumerating
every sketch outcome against the closed-form engine) and ``λ_min(E[CA²C])`` in floating point on
random ``A ≻ 0``.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp

from ..generators import random_psd
from ..sketches import Permutation, RandQ
from ..symbolic import contractions
from ..symbolic.inclusion import UniformPartition, d, n, q
from .base import GENERAL, Derivation, at, stack, symbolic_expectation, symmetric_matrix, tex_times, vector
from .def1 import exact_outcomes
from .matrix_algebra import matrix_coefficients

FACTOR = sp.Integer(4)
GROWTH_POWER = sp.Integer(2)
GRAD_COEF = sp.Integer(2)
#: Rand-q (4): α − β and β (scale d/q)
RAND_GAP = d * (d - q) / (q * (d - 1))
RAND_BETA = d * (q - 1) / (q * (d - 1))
#: Perm-q (7), d = qn: α − β and β (scale n)
PERM_GAP = n * q * (n - 1) / (q * n - 1)
PERM_BETA = n * (q - 1) / (q * n - 1)


SKETCHES: dict[str, tuple[Permutation | RandQ, dict[str, int]]] = {
    "Perm-1 (n = d = 2)": (Permutation(2, 2), {"n": 2, "d": 2}),
    "Perm-1 (n = d = 3)": (Permutation(3, 3), {"n": 3, "d": 3}),
    "Rand-2 (d = 3)": (RandQ(1, 3, 2), {"d": 3, "q": 2}),
}


@cache
def _sketch_parts() -> dict[str, tuple[sp.Expr, sp.Expr, sp.Matrix, sp.Matrix]]:
    """Per sketch (constant-free, computed once): E‖∇f(Cx)‖² by enumerating every outcome, xᵀE[CA²C]x
    from the closed-form engine, x and A (explicit symbolic entries)."""
    out = {}
    for label, (sk, _) in SKETCHES.items():
        dd = sk.d
        A, x, yy = symmetric_matrix("A", dd), vector("x", dd), vector("y", dd)
        gradf = sp.Matrix([sp.diff((yy.T * A * yy)[0], yi) for yi in yy])
        lhs = sp.Integer(0)
        for p, Cs in exact_outcomes(sk):
            gv = gradf.subs(dict(zip(yy, Cs[0] * x, strict=True)), simultaneous=True)
            lhs += p * (gv.T * gv)[0]
        E = sp.Matrix(symbolic_expectation(contractions.CAC, sk, [stack([A * A] * sk.n)])[0].tolist())
        out[label] = (sp.expand(lhs), sp.expand((x.T * E * x)[0]), x, A)
    return out


@cache
def _eigen_rows() -> tuple[tuple[str, float, float, float, float], ...]:
    """Per case: (label, λ_min(E[CA²C]), min_j (A²)_jj, d, q or n) on a random A ≻ 0 (floats)."""
    cases: dict[str, tuple[Permutation | RandQ, dict[sp.Symbol, int]]] = {
        "Perm-1 (d=4)": (Permutation(4, 4), {n: 4, q: 1}), "Perm-2 (n=2, d=4)": (Permutation(2, 4), {n: 2, q: 2}),
        "Rand-2 (d=4)": (RandQ(1, 4, 2), {d: 4, q: 2}), "Rand-3 (d=6)": (RandQ(1, 6, 3), {d: 6, q: 3})}
    rows = []
    for seed, (label, (sk, _)) in enumerate(cases.items()):
        A = random_psd(sk.d, np.random.default_rng(seed), cond=50.0)
        lam = float(np.linalg.eigvalsh(sk.expected_CAC(A @ A)[0])[0])
        rows.append((label, lam, float(np.min(np.diag(A @ A))), float(sk.d), float(sk.q)))
    return tuple(rows)


def derive(factor: sp.Expr = FACTOR, growth_power: sp.Expr = GROWTH_POWER, grad_coef: sp.Expr = GRAD_COEF,
           rand_gap: sp.Expr = RAND_GAP, rand_beta: sp.Expr = RAND_BETA, perm_gap: sp.Expr = PERM_GAP,
           perm_beta: sp.Expr = PERM_BETA) -> Derivation:
    """(11): ``∇(xᵀAx) = grad_coef·Ax`` (2), ``E‖∇f(Cx)‖² = factor·xᵀE[CA²C]x`` (4), growth
    ``t^growth_power`` (2) along rays, and the sum-of-squares constants ``α − β``, ``β`` of Rand-q
    (``rand_gap``, ``rand_beta``) and Perm-q (``perm_gap``, ``perm_beta``)."""
    D = Derivation("(11) bounded gradients fail", ("(11)",),
                   constants={"factor": factor, "growth_power": growth_power, "grad_coef": grad_coef,
                              "rand_gap": rand_gap, "rand_beta": rand_beta, "perm_gap": perm_gap,
                              "perm_beta": perm_beta})
    D.premise("E[CMC] = βM + (α − β)Diag(M) entrywise for a diagonal sketch, written from E[c_jc_k] = s²P(j, k ∈ S); "
              "enumerated only at d ≤ 3")
    factor, growth_power, grad_coef, rand_gap, rand_beta, perm_gap, perm_beta = (
        sp.sympify(v) for v in (factor, growth_power, grad_coef, rand_gap, rand_beta, perm_gap, perm_beta))
    A, C = sp.MatrixSymbol("A", d, d), sp.MatrixSymbol("C", d, d)
    x, y = sp.MatrixSymbol("x", d, 1), sp.MatrixSymbol("y", d, 1)
    sym = {A.T: A, C.T: C}

    # ∇f and ‖∇f(Cx)‖², any d
    grad = sp.diff(y.T * A * y, y).xreplace(sym)
    D.symbolic("∇(xᵀAx) = 2Ax for symmetric A (every d)", "(11)", matrix_coefficients(grad - grad_coef * A * y),
               f"∇ = {grad.doit()}, claimed {grad_coef}·Ax", reach=GENERAL)
    gCx = grad.xreplace({y: C * x})
    D.symbolic("‖∇f(Cx)‖² = factor·xᵀCA²Cx for symmetric A, C (every d), so E‖∇f(Cx)‖² = factor·xᵀE[CA²C]x "
               "(linearity)", "(11)",
               matrix_coefficients((gCx.T * gCx).xreplace(sym) - factor * x.T * C * A * A * C * x),
               f"factor = {factor}", reach=GENERAL)

    # α = s²P(j ∈ S), β = s²P(j, k ∈ S) from the inclusion probabilities, symbolic d, q, n
    al_r = (d / q) ** 2 * UniformPartition.p_same_expr(1)
    be_r = (d / q) ** 2 * UniformPartition.p_same_expr(2)
    D.symbolic("Rand-q: β = (d/q)²P(j, k ∈ S) = d(q − 1)/(q(d − 1)) and α − β = (d/q)²(P(j ∈ S) − P(j, k ∈ S)) "
               "= d(d − q)/(q(d − 1)) (every d, q)", "(11)",
               sp.Matrix([be_r - rand_beta, al_r - be_r - rand_gap]).applyfunc(sp.simplify),
               f"β = {rand_beta}, α − β = {rand_gap}", reach=GENERAL)
    al_p = n**2 * UniformPartition.p_same_expr(1).subs(d, q * n)
    be_p = n**2 * UniformPartition.p_same_expr(2).subs(d, q * n)
    D.symbolic("Perm-q: β = n²P(j, k ∈ S_i) = n(q − 1)/(qn − 1) and α − β = nq(n − 1)/(qn − 1) (every n, q; "
               "d = qn)", "(11)", sp.Matrix([be_p - perm_beta, al_p - be_p - perm_gap]).applyfunc(sp.simplify),
               f"β = {perm_beta}, α − β = {perm_gap}", reach=GENERAL)
    r, k, m = sp.symbols("r k m", nonnegative=True)  # q = 1 + r, d = q + 1 + k, n = 2 + m
    sub_r, sub_p = {q: 1 + r, d: 2 + r + k}, {q: 1 + r, n: 2 + m}
    gap_r, bet_r = (sp.factor(sp.together(v.subs(sub_r))) for v in (rand_gap, rand_beta))
    gap_p, bet_p = (sp.factor(sp.together(v.subs(sub_p))) for v in (perm_gap, perm_beta))
    D.symbolic_true("Rand-q: α − β > 0 and β ≥ 0 for 1 ≤ q < d (q = 1 + r, d = q + 1 + k)", "(11)",
                    sp.And(sp.Gt(gap_r, 0), sp.Ge(bet_r, 0)), f"α − β = {gap_r}, β = {bet_r}", reach=GENERAL)
    D.symbolic_true("Perm-q: α − β > 0 and β ≥ 0 for n ≥ 2, q ≥ 1 (n = 2 + m, q = 1 + r)", "(11)",
                    sp.And(sp.Gt(gap_p, 0), sp.Ge(bet_p, 0)), f"α − β = {gap_p}, β = {bet_p}", reach=GENERAL)

    # SOS: xᵀE[CA²C]x = βP + (α − β)Q with P = ‖Ax‖² ≥ 0, Q = Σ_j ‖Ae_j‖²x_j² = μX + R, μ = min_j ‖Ae_j‖² > 0
    # (A ≻ 0: no zero column), X = ‖x‖² > 0, R ≥ 0: the form is ≥ (α − β)μX > 0
    P, R = sp.symbols("P R", nonnegative=True)
    mu, X = sp.symbols("mu X", positive=True)
    cases = []
    for gap, bet in ((gap_r, bet_r), (gap_p, bet_p)):
        form = bet * P + gap * (mu * X + R)
        cases += [sp.Ge(sp.factor(sp.together(form - gap * mu * X)), 0), sp.Gt(gap * mu * X, 0)]
    D.symbolic_true("xᵀE[CA²C]x = β‖Ax‖² + (α−β)Σ_j‖Ae_j‖²x_j² ≥ (α−β)·min_j‖Ae_j‖²·‖x‖² > 0 for A ≻ 0, "
                    "x ≠ 0: E[CA²C] ≻ 0 (Rand-q and Perm-q, every size)", "(11)", sp.And(*cases),
                    "E[CMC] = βM + (α−β)Diag(M) entrywise (E[c_j c_k] = β, E[c_j²] = α)", reach=GENERAL)

    # growth along a ray x = t v, any positive definite quadratic form
    t = sp.Symbol("t", positive=True)
    E, v = sp.MatrixSymbol("E", d, d), sp.MatrixSymbol("v", d, 1)
    D.symbolic("along x = t·v: xᵀMx = t^growth_power·vᵀMv for every M (every d), so E‖∇f(Cx)‖² = "
               "t²·E‖∇f(Cv)‖²", "(11)", matrix_coefficients((t * v).T * E * (t * v) - t**growth_power * v.T * E * v),
               f"growth t^{growth_power}", reach=GENERAL)
    c, G = sp.symbols("c G", positive=True)
    D.symbolic_true("t^growth_power·c → ∞ (c = E‖∇f(Cv)‖² > 0): no G bounds (11)", "(11)",
                    sp.Eq(sp.limit(t**growth_power * c, t, sp.oo), sp.oo), reach=GENERAL)
    D.symbolic_true("explicitly: at t = √(G/c) + 1, t^growth_power·c > G", "(11)",
                    sp.Gt(sp.expand((sp.sqrt(G / c) + 1) ** growth_power * c - G), 0), reach=GENERAL)
    gx = grad.xreplace({y: x})
    D.symbolic("uncompressed: ‖∇f(x)‖² = factor·xᵀA²x (every d), also unbounded", "(11)",
               matrix_coefficients((gx.T * gx).xreplace(sym) - factor * x.T * A * A * x), reach=GENERAL)

    # evidence: explicit entries at d = 2, 3 (enumeration of every outcome against the engine) and floats
    for label, (lhs, val, xv, Am) in _sketch_parts().items():
        sk, sizes = SKETCHES[label]
        vals = {n: sk.n, d: sk.d, q: sk.q}
        gap, bet = ((perm_gap, perm_beta) if isinstance(sk, Permutation) else (rand_gap, rand_beta))
        gap, bet = gap.subs(vals), bet.subs(vals)
        D.symbolic(f"{label}: E‖∇f(Cx)‖² (enumeration) = factor·xᵀE[CA²C]x (engine)", "(11)",
                   sp.expand(lhs - factor * val), reach=at(**sizes), role="evidence")
        sos = bet * ((Am * xv).T * (Am * xv))[0] + gap * sum(((Am[:, j].T * Am[:, j])[0] * xv[j] ** 2
                                                             for j in range(sk.d)), sp.Integer(0))
        D.symbolic(f"{label}: xᵀE[CA²C]x (engine) = β‖Ax‖² + (α−β)Σ_j‖Ae_j‖²x_j² (α − β = {gap}, β = {bet})",
                   "(11)", sp.expand(val - sos), reach=at(**sizes), role="evidence")
    rows, ok = [], True
    for label, lam, diag_min, dd, qq in _eigen_rows():
        vals = {n: int(dd / qq), q: int(qq)} if label.startswith("Perm") else {d: int(dd), q: int(qq)}
        gap = perm_gap if label.startswith("Perm") else rand_gap
        cert = float(gap.subs(vals)) * diag_min
        ok = ok and lam > 0 and lam >= cert * (1 - 1e-12)
        rows.append(f"{label}: λ_min = {lam:.4g} ≥ (α−β)min_j(A²)_jj = {cert:.4g}")
    D.numeric("λ_min(E[CA²C]) ≥ (α − β)·min_j (A²)_jj > 0 on random A ≻ 0 (floats)", "(11)", ok, "; ".join(rows),
              role="evidence")
    D.latex["identity"] = r"\mathbb{E}\|\nabla f(Cx)\|^2 = " + tex_times(factor, r"x^\top \mathbb{E}[C A^2 C] x")
    return D
