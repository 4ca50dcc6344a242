"""(11): the bounded gradient assumption ``E‖∇f(C(x))‖² ≤ G`` fails even for ``f(x) = xᵀAx``.

With ``∇f(y) = 2Ay`` and a symmetric diagonal sketch ``C``,

    E‖∇f(Cx)‖² = 4 xᵀ E[C A² C] x.

For a diagonal sketch with scale ``s``, ``α = s²P(j ∈ S)``, ``β = s²P(j, k ∈ S)``:
``E[CMC] = βM + (α − β)Diag(M)``, so (sum-of-squares certificate)

    xᵀE[CA²C]x = β‖Ax‖² + (α − β) Σ_j ‖Ae_j‖² x_j²  ≥ (α − β) min_j ‖Ae_j‖² ‖x‖²,

with ``α − β = d(d − q)/(q(d − 1)) > 0`` (Rand-q, ``q < d``) and
``α − β = nq(n − 1)/(qn − 1) > 0`` (Perm-q, ``n ≥ 2``). For ``A ≻ 0`` every
column ``Ae_j ≠ 0``, so ``E[CA²C] ≻ 0`` and along ``x = t·v`` the left side is
``4t²·vᵀE[CA²C]v → ∞``: no ``G`` works. (The same holds without compression,
``‖∇f(x)‖² = 4xᵀA²x``: the assumption fails for every strongly convex quadratic,
compressed or not.)
"""

from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp

from ..generators import random_psd
from ..sketches import Permutation, RandQ
from ..symbolic import moments as MM
from ..symbolic.inclusion import UniformPartition, d, n, q
from .base import Derivation, exact_scale_table, stack, symbolic_expectation, symmetric_matrix, vector
from .def1 import exact_outcomes

FACTOR = sp.Integer(4)
GROWTH_POWER = sp.Integer(2)


def _alpha_beta(sk: Permutation | RandQ) -> tuple[sp.Expr, sp.Expr]:
    """``α = s²P(j ∈ S)``, ``β = s²P(j, k ∈ S)`` from the engine's inclusion closed forms and the exact
    scale of the definition (Perm-q ``n``, Rand-q ``d/q``), all exact rationals."""
    vals = {d: sk.d, q: sk.q, n: sk.n}
    s = exact_scale_table(sk)[0, 0]
    p1 = UniformPartition.p_same_expr(1).subs(vals)
    p2 = UniformPartition.p_same_expr(2).subs(vals)
    return sp.simplify(s**2 * p1), sp.simplify(s**2 * p2)


@cache
def _sketch_parts() -> dict[str, tuple[sp.Expr, sp.Expr, sp.Matrix, sp.Expr, sp.Expr, sp.Expr]]:
    """Per sketch (constant-free, computed once): E‖∇f(Cx)‖² by enumeration, xᵀE[CA²C]x from the
    engine, x, the SOS residual, α, β."""
    sketches: dict[str, Permutation | RandQ] = {"Perm-1 (n = d = 2)": Permutation(2, 2),
                                                "Perm-1 (n = d = 3)": Permutation(3, 3),
                                                "Rand-2 (d = 3)": RandQ(1, 3, 2)}
    out = {}
    for label, sk in sketches.items():
        dd = sk.d
        A, x, yy = symmetric_matrix("A", dd), vector("x", dd), vector("y", dd)
        gradf = sp.Matrix([sp.diff((yy.T * A * yy)[0], yi) for yi in yy])
        lhs = sp.Integer(0)
        for p, Cs in exact_outcomes(sk):
            gv = gradf.subs(dict(zip(yy, Cs[0] * x, strict=True)), simultaneous=True)
            lhs += p * (gv.T * gv)[0]
        E = sp.Matrix(symbolic_expectation(MM.CAC, sk, [stack([A * A] * sk.n)])[0].tolist())
        val = sp.expand((x.T * E * x)[0])
        al, be = _alpha_beta(sk)
        sos = be * ((A * x).T * (A * x))[0] + (al - be) * sum(((A[:, j].T * A[:, j])[0] * x[j] ** 2
                                                               for j in range(dd)), sp.Integer(0))
        out[label] = (sp.expand(lhs), val, x, sp.expand(val - sos), al, be)
    return out


@cache
def _eigen_certificate() -> tuple[bool, str]:
    """Numeric: λ_min(E[CA²C]) > 0 and ≥ (α − β) min_j (A²)_jj for random A ≻ 0."""
    rows, ok = [], True
    cases: dict[str, Permutation | RandQ] = {"Perm-1 (d=4)": Permutation(4, 4), "Perm-2 (n=2, d=4)": Permutation(2, 4),
                                             "Rand-2 (d=4)": RandQ(1, 4, 2), "Rand-3 (d=6)": RandQ(1, 6, 3)}
    for seed, (label, sk) in enumerate(cases.items()):
        A = random_psd(sk.d, np.random.default_rng(seed), cond=50.0)
        M = sk.expected_CAC(A @ A)[0]
        al, be = (float(v) for v in _alpha_beta(sk))
        lam = float(np.linalg.eigvalsh(M)[0])
        cert = (al - be) * float(np.min(np.diag(A @ A)))
        ok = ok and lam > 0 and lam >= cert * (1 - 1e-12)
        rows.append(f"{label}: λ_min = {lam:.4g} ≥ (α−β)min_j(A²)_jj = {cert:.4g}")
    return bool(ok), "; ".join(rows)


def derive(factor: sp.Expr = FACTOR, growth_power: sp.Expr = GROWTH_POWER) -> Derivation:
    """(11): ``E‖∇f(Cx)‖² = factor·xᵀE[CA²C]x`` (4) and growth ``t^growth_power`` (2) along rays."""
    D = Derivation("(11) bounded gradients fail", ("(11)",),
                   constants={"factor": factor, "growth_power": growth_power})
    y = vector("y", 2)
    A2 = symmetric_matrix("A", 2)
    grad = sp.Matrix([sp.diff((y.T * A2 * y)[0], yi) for yi in y])
    D.symbolic("∇(xᵀAx) = 2Ax", "(11)", grad - 2 * A2 * y)

    forms = {}
    for label, (lhs, val, x, sos_res, al, be) in _sketch_parts().items():
        D.symbolic(f"{label}: E‖∇f(Cx)‖² (enumeration) = 4 xᵀE[CA²C]x (engine)", "(11)",
                   sp.expand(lhs - factor * val))
        D.symbolic(f"{label}: xᵀE[CA²C]x = β‖Ax‖² + (α−β)Σ_j‖Ae_j‖²x_j² (SOS, α = {al}, β = {be})", "(11)",
                   sos_res)
        forms[label] = (val, x)

    # α − β > 0 and β ≥ 0 symbolically: Rand-q (q < d) and Perm-q (n ≥ 2)
    r, k, m = sp.symbols("r k m", nonnegative=True)  # q = 1 + r, d = q + 1 + k, n = 2 + m
    s_r = d / q
    al_r = s_r**2 * UniformPartition.p_same_expr(1)
    be_r = s_r**2 * UniformPartition.p_same_expr(2)
    D.symbolic("Rand-q: α − β = d(d − q)/(q(d − 1))", "(11)", al_r - be_r - d * (d - q) / (q * (d - 1)))
    D.symbolic("Rand-q: β = (d/q)²P(j, k ∈ S) = d(q − 1)/(q(d − 1))", "(11)", be_r - d * (q - 1) / (q * (d - 1)))
    sub = {q: 1 + r, d: 2 + r + k}
    D.symbolic_true("Rand-q: α − β > 0 and β ≥ 0 for 1 ≤ q < d (q = 1 + r, d = q + 1 + k)", "(11)",
                    sp.And(sp.Gt(sp.factor(sp.expand((d * (d - q)).subs(sub))) / sp.expand((q * (d - 1)).subs(sub)),
                                 0),
                           sp.Ge(sp.expand((d * (q - 1)).subs(sub)) / sp.expand((q * (d - 1)).subs(sub)), 0)))
    al_p = n**2 * UniformPartition.p_same_expr(1).subs(d, q * n)
    be_p = n**2 * UniformPartition.p_same_expr(2).subs(d, q * n)
    D.symbolic("Perm-q: α − β = nq(n − 1)/(qn − 1)", "(11)", al_p - be_p - n * q * (n - 1) / (q * n - 1))
    sub = {q: 1 + r, n: 2 + m}
    D.symbolic_true("Perm-q: α − β > 0 for n ≥ 2", "(11)",
                    sp.Gt(sp.expand((n * q * (n - 1)).subs(sub)) / sp.expand((q * n - 1).subs(sub)), 0))

    D.numeric("E[CA²C] ≻ 0 for A ≻ 0 (λ_min ≥ SOS bound), so E‖∇f(Cx)‖² ≥ 4λ_min‖x‖²", "(11)",
              *_eigen_certificate())

    # growth along a ray x = t v: 4 t² vᵀE[CA²C]v, unbounded
    t = sp.Symbol("t", positive=True)
    val, x = forms["Perm-1 (n = d = 2)"]
    v = vector("v", 2)
    on_ray = (factor * val).subs(dict(zip(x, t * v, strict=True)), simultaneous=True)
    at_v = (factor * val).subs(dict(zip(x, v, strict=True)), simultaneous=True)
    D.symbolic("along x = t·v: E‖∇f(Cx)‖² = t²·E‖∇f(Cv)‖²", "(11)", on_ray - t**growth_power * at_v)
    c, G = sp.symbols("c G", positive=True)
    D.symbolic_true("t^growth_power·c → ∞ (c = E‖∇f(Cv)‖² > 0): no G bounds (11)", "(11)",
                    sp.Eq(sp.limit(t**growth_power * c, t, sp.oo), sp.oo))
    D.symbolic_true("explicitly: at t = √(G/c) + 1, t²c > G", "(11)",
                    sp.Gt(sp.expand((sp.sqrt(G / c) + 1) ** 2 * c - G), 0))
    # uncompressed: ‖∇f(x)‖² = 4xᵀA²x (same growth): the failure is not caused by compression
    x2, A = vector("x", 2), symmetric_matrix("A", 2)
    D.symbolic("uncompressed: ‖∇f(x)‖² = 4xᵀA²x, also unbounded", "(11)",
               ((2 * A * x2).T * (2 * A * x2))[0] - factor * (x2.T * A * A * x2)[0])
    D.latex["identity"] = r"\mathbb{E}\|\nabla f(Cx)\|^2 = " + sp.latex(factor) + r"\, x^\top \mathbb{E}[C A^2 C] x"
    return D
