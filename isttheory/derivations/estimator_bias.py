"""§4 general case, the estimator (26)–(27) under the preconditioned sketches (23).

For the quadratic (12) the estimator (5) is, for *any* sketches,

    g = (1/n) Σ_i C_i ∇f_i(C_i x) = B̄x − (Cb)‾,   B̄ = (1/n) Σ C_i L_i C_i,  (Cb)‾ = (1/n) Σ C_i b_i   (26)

(per client ``C(L(Cx) − b) = CLCx − Cb``, checked with non-commuting symbols: any
size, any matrices). With the sketches (23),
``C̃_i = √n ((L_i)_{π_iπ_i})^{-1/2} e_{π_i}e_{π_i}ᵀ`` and ``n = d`` (client ``i`` owns
coordinate ``π_i``; ``P(π_i = j) = 1/n``, ``P(π_i = j = k) = 0`` for ``j ≠ k``, from
:mod:`isttheory.symbolic.inclusion` with symbolic ``n``):

* ``E[C̃_i L_i C̃_i]_jj = (1/n)·(n/(L_i)_jj)·(L_i)_jj = 1`` and its off-diagonal entries are 0,
  so ``E[C̃_i L_i C̃_i] = I`` for every client and ``E[B̄] = I``;
* ``E[(C̃_i b_i)_j] = (1/n)·√n (L_i)_jj^{-1/2} (b_i)_j``, so ``E[(Cb)‾] = (1/√n) D̃b̃`` with
  ``D̃b̃ = (1/n) Σ_i D_i^{-1/2} b_i`` (termwise in the sum over clients);
* hence ``E[g] = x − (1/√n) D̃b̃ = L̄⁻¹∇f(x) + h`` with
  ``h = L̄⁻¹b̄ − (1/√n) D̃b̃ = x* − x^∞`` (27), using ``∇f(x) = L̄x − b̄`` (multiplied by
  ``L̄``, non-commuting symbols).

What is general and what is not: every decisive step is general — symbolic in
``n`` (entries ``(L_i)_jj > 0``, ``(b_i)_j`` and the scale as symbols) or in
non-commuting matrix symbols. Premise (``Derivation.premises``): the entrywise formulas
``E[(CMC)_jk] = P(j, k ∈ S_i) T_ij T_ik M_jk`` and ``E[(Cb)_j] = P(j ∈ S_i) T_ij b_j`` of a
diagonal sketch, written by hand from its definition. The sum over clients in ``E[B̄]`` carries each
client's own ``(L_i)_jj`` (an indexed symbol), with a guard step that the client's term is the same for
every client. Independent cross-checks (role *evidence*):
the closed-form engine and the enumeration of all ``n!`` permutations with
symbolic ``L_i``, ``b_i`` at ``n = d ∈ {2, 3}`` (fixed-size), and
:class:`~isttheory.moments.SketchMoments` on heterogeneous ``n = d = 4``
instances (floats). Statement (26)–(27) holds as printed.

Mutation knobs (keyword arguments of :func:`derive`): ``bias_scale`` (the
coefficient of ``D̃b̃`` in ``E[(Cb)‾]``, paper ``1/√n``), ``h_sign`` (paper 1),
``scale`` (the front factor of (23), paper ``√n``), ``ebar`` (``E[B̄] = ebar·I``,
paper 1), ``dtb_power`` (the power of ``D_i`` in ``D̃b̃``, paper ``−1/2``).
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
from ..symbolic import contractions, inclusion
from .base import GENERAL, Derivation, at, stack, symbolic_expectation, tex_plus, tex_times, vector

#: the number of clients as a symbol (claim constants are written in it; ``inclusion.n`` is the same symbol)
N = sp.Symbol("n", positive=True, integer=True)
ONE = sp.Integer(1)
#: the paper's coefficient of D̃b̃ in E[(Cb)‾] (27)
INV_SQRT_N = 1 / sp.sqrt(N)
#: the paper's front factor of (23)
SQRT_N = sp.sqrt(N)
#: the power of D_i in D̃b̃ = (1/n) Σ_i D_i^{-1/2} b_i
MINUS_HALF = sp.Rational(-1, 2)
#: the sizes n = d of the fixed-size cross-checks
SIZES = (2, 3)


def perm1_inclusion(t: int) -> sp.Expr:
    """``P(t given distinct coordinates ⊆ S_i)`` for Perm-1 (``q = 1``, ``d = n``), symbolic in ``n``, from the
    uniform-partition model of :mod:`isttheory.symbolic.inclusion` (``1/n`` for ``t = 1``, 0 for ``t ≥ 2``)."""
    return sp.simplify(inclusion.UniformPartition.p_same_expr(t).subs({inclusion.q: 1, inclusion.d: N}))


def client_matrices(n: int, d: int) -> list[sp.Matrix]:
    """Symbolic symmetric ``L_i`` (d×d): off-diagonal entries real symbols, diagonal entries positive symbols."""
    def entry(i: int, j: int, k: int) -> sp.Symbol:
        name = f"L{i}_{min(j, k)}{max(j, k)}"
        return sp.Symbol(name, positive=True) if j == k else sp.Symbol(name, real=True)

    return [sp.Matrix(d, d, lambda j, k, i=i: entry(i, j, k)) for i in range(n)]


def client_vectors(n: int, d: int, name: str = "b") -> list[sp.Matrix]:
    """Symbolic ``b_i`` (d×1), entries ``b{i}_{j}``."""
    return [vector(f"{name}{i}", d) for i in range(n)]


def precond_table(Ls: list[sp.Matrix], scale: sp.Expr = SQRT_N) -> np.ndarray:
    """Symbolic scale table of (23): ``T_ij = scale / √(L_i)_jj`` (n, d) object array (``scale = √n``: the
    package's :func:`~isttheory.sketches.precond.scale_23`)."""
    n, d = len(Ls), Ls[0].shape[0]
    factor = sp.sympify(scale).subs(N, n) / sp.sqrt(n)
    return np.array([[factor * scale_23(n, Ls[i][j, j], sp.sqrt) for j in range(d)] for i in range(n)], dtype=object)


def dtilde_b(Ls: list[sp.Matrix], bs: list[sp.Matrix], power: sp.Expr = MINUS_HALF) -> sp.Matrix:
    """``D̃b̃ = (1/n) Σ_i D_i^{-1/2} b_i`` (symbolic; ``power`` replaces ``−1/2``)."""
    n, d = len(Ls), Ls[0].shape[0]
    return sp.Matrix(d, 1, lambda j, _: sum(bs[i][j] * Ls[i][j, j] ** power for i in range(n)) / n)


def engine_moments(Ls: list[sp.Matrix], bs: list[sp.Matrix], scale: sp.Expr = SQRT_N
                   ) -> tuple[sp.Matrix, sp.Matrix, list[sp.Matrix]]:
    """``E[B̄]``, ``E[(Cb)‾]`` and the per-client ``E[C̃_i L_i C̃_i]`` for (23), exact, through the engine."""
    n, d = len(Ls), Ls[0].shape[0]
    sk = Permutation(n, d)  # the inclusion model of Perm-1 (uniform partition); scales come from T
    T = precond_table(Ls, scale)
    b_arr = np.array([[bs[i][j] for j in range(d)] for i in range(n)], dtype=object)
    EB = sp.Matrix(symbolic_expectation(contractions.B, sk, [stack(Ls)], scale=T).tolist()) / n
    ECb = sp.Matrix(symbolic_expectation(contractions.CB, sk, [b_arr], scale=T).tolist()) / n
    per = symbolic_expectation(contractions.CAC, sk, [stack(Ls)], scale=T)
    return EB, ECb, [sp.Matrix(per[i].tolist()) for i in range(n)]


def enumerated_mean_g(Ls: list[sp.Matrix], bs: list[sp.Matrix], x: sp.Matrix, scale: sp.Expr = SQRT_N) -> sp.Matrix:
    """``E[g]`` by enumerating every permutation π of (23), ``g = (1/n) Σ C̃_i ∇f_i(C̃_i x)``."""
    n, d = len(Ls), Ls[0].shape[0]
    T = precond_table(Ls, scale)
    total = sp.zeros(d, 1)
    for perm in itertools.permutations(range(d)):
        g = sp.zeros(d, 1)
        for i, j in enumerate(perm):
            C = sp.zeros(d, d)
            C[j, j] = T[i, j]
            g += C * (Ls[i] * (C * x) - bs[i])
        total += g / n
    return total / math.factorial(d)


def derive(bias_scale: sp.Expr = INV_SQRT_N, h_sign: sp.Expr = ONE, scale: sp.Expr = SQRT_N, ebar: sp.Expr = ONE,
           dtb_power: sp.Expr = MINUS_HALF, sizes: tuple[int, ...] = SIZES) -> Derivation:
    """Check (26)–(27): ``E[(Cb)‾] = bias_scale · D̃b̃`` (paper: ``1/√n``), ``E[B̄] = ebar·I`` (paper 1) and
    ``E[g] = L̄⁻¹∇f(x) + h`` with ``h = h_sign · (L̄⁻¹b̄ − bias_scale · D̃b̃)`` (paper: ``h_sign = 1``), for the
    sketch (23) with front factor ``scale`` (paper ``√n``) and ``D̃b̃ = (1/n) Σ_i D_i^{dtb_power} b_i`` (paper
    ``−1/2``). General in ``n``; ``sizes`` are the ``n = d`` of the fixed-size cross-checks."""
    bias_scale, h_sign, scale, ebar, dtb_power = map(sp.sympify, (bias_scale, h_sign, scale, ebar, dtb_power))
    D = Derivation("§4 estimator bias", ("(23)", "(26)", "(27)"),
                   constants={"bias_scale": bias_scale, "h_sign": h_sign, "scale": scale, "ebar": ebar,
                              "dtb_power": dtb_power})

    # (26), per client, for any matrices of any size (non-commuting symbols); the average over clients is linear
    C, L, xs, b = sp.symbols("C L x b", commutative=False)
    D.symbolic("g = (1/n)Σ C_i∇f_i(C_i x) = B̄x − (Cb)‾: C(L(Cx) − b) = CLCx − Cb per client (any C, L)", "(26)",
               C * (L * (C * xs) - b) - (C * L * C * xs - C * b), reach=GENERAL)

    D.premise("entrywise expectations of a diagonal sketch C_i = Σ_j T_ijπ_ij e_je_jᵀ (definition, written out by "
              "hand): E[(C_iMC_i)_jk] = P(j, k ∈ S_i)T_ijT_ikM_jk and E[(C_ib_i)_j] = P(j ∈ S_i)T_ij(b_i)_j; and E is "
              "linear (E[g] = E[B̄]x − E[(Cb)‾])")
    # (23), general n: one client i, coordinates j ≠ k, T_ij = scale/√ℓ_j (ℓ_j = (L_i)_jj > 0)
    l1, l2 = sp.symbols("ell_j ell_k", positive=True)
    Ljk, bj = sp.symbols("L_jk b_j", real=True)
    T = [sp.sympify(scale) / sp.sqrt(N) * scale_23(N, lj, sp.sqrt) for lj in (l1, l2)]
    p1, p2 = perm1_inclusion(1), perm1_inclusion(2)
    cac_jj = p1 * T[0] ** 2 * l1  # E[(C̃_i L_i C̃_i)_jj] = P(j ∈ S_i) T_ij² (L_i)_jj
    cac_jk = p2 * T[0] * T[1] * Ljk  # E[(C̃_i L_i C̃_i)_jk] = P(j, k ∈ S_i) T_ij T_ik (L_i)_jk
    D.symbolic("E[C̃_i L_i C̃_i] = I for every client and every n: P(j∈S_i)·T_ij²·(L_i)_jj = 1, P(j,k∈S_i) = 0",
               "(23)", sp.Matrix([cac_jj - 1, cac_jk]), f"P(j∈S_i) = {p1}, P(j,k∈S_i) = {p2}, T_ij = {T[0]}",
               reach=GENERAL)
    i_ = sp.Symbol("i", positive=True, integer=True)
    # Σ_i with each client's own (L_i)_jj: per-client symbols ℓ_{i} (Indexed), and a guard that the client's term is
    # the same for every client (client i's term equals client i′'s), so that Σ_i of it is n times it
    ell_i = sp.IndexedBase("ell", positive=True)
    T_i = sp.sympify(scale) / sp.sqrt(N) * scale_23(N, ell_i[i_], sp.sqrt)
    cac_i = p1 * T_i**2 * ell_i[i_]  # E[(C̃_i L_i C̃_i)_jj] for client i
    i2 = sp.Symbol("i2", positive=True, integer=True)
    D.symbolic("the sum over clients is of one form: client i's E[(C̃_iL_iC̃_i)_jj] (its own (L_i)_jj) equals client "
               "i′'s, every n", "(26)", cac_i - cac_i.xreplace({i_: i2}), f"client term {sp.simplify(cac_i)}",
               reach=GENERAL)
    eb = sp.Sum(cac_i, (i_, 1, N)).doit() / N  # E[B̄]_jj = (1/n) Σ_i E[(C̃_i L_i C̃_i)_jj]; off-diagonal Σ of zeros
    D.symbolic("E[B̄] = (1/n)Σ_i E[C̃_i L_i C̃_i] = ebar·I, every n (per-client (L_i)_jj in the sum)", "(26)",
               eb - ebar, f"E[B̄]_jj = {sp.simplify(eb)}, ebar = {ebar}", reach=GENERAL)
    kappa = sp.simplify(p1 * T[0] * sp.sqrt(l1))  # E[(C̃_i b_i)_j] = P(j∈S_i) T_ij (b_i)_j = κ (L_i)_jj^{-1/2} (b_i)_j
    D.symbolic("E[(Cb)‾] = bias_scale · D̃b̃, D̃b̃ = (1/n)Σ D_i^{-1/2} b_i: termwise P(j∈S_i)·T_ij·(b_i)_j = "
               "bias_scale·(L_i)_jj^{-1/2}(b_i)_j, every n", "(27)",
               p1 * T[0] * bj - bias_scale * l1**dtb_power * bj,
               f"bias_scale = {bias_scale}, D_i power {dtb_power}", reach=GENERAL)

    # (27): E[g] = E[B̄]x − E[(Cb)‾] (linearity, (26)) with the derived E[B̄] = β I and E[(Cb)‾] = κ D̃b̃;
    # multiplied by L̄ (invertible) to avoid L̄⁻¹: L̄(E[g] − h) − ∇f(x) = 0 with L̄h = h_sign·(b̄ − bias_scale·L̄D̃b̃)
    Lb, bb, Db = sp.symbols("Lbar bbar Dtb", commutative=False)
    beta = sp.simplify(eb)
    Eg = beta * xs - kappa * Db
    D.symbolic("E[g] = E[B̄]x − E[(Cb)‾] = x − bias_scale · D̃b̃ (every n, any size)", "(27)",
               Eg - (xs - bias_scale * Db), f"E[B̄] = {beta}·I, E[(Cb)‾] = {kappa}·D̃b̃", reach=GENERAL)
    Lh = h_sign * (bb - bias_scale * Lb * Db)
    D.symbolic("L̄(E[g] − h) = ∇f(x) = L̄x − b̄, i.e. E[g] = L̄⁻¹∇f(x) + h (L̄ ≻ 0; any size)", "(27)",
               sp.expand(Lb * Eg - Lh - (Lb * xs - bb)), f"h = {h_sign}·(L̄⁻¹b̄ − bias_scale·D̃b̃)", reach=GENERAL)

    # cross-checks at fixed sizes (evidence): the closed-form engine and the enumeration of all n! permutations
    for n in sizes:
        d = n
        Ls, bs, x = client_matrices(n, d), client_vectors(n, d), vector("x", d)
        EB, ECb, per_client = engine_moments(Ls, bs, scale)
        Dtb = dtilde_b(Ls, bs, dtb_power.subs(N, n))
        s = bias_scale.subs(N, n)
        D.symbolic(f"cross-check, engine (n = d = {n}): E[C̃_i L_i C̃_i] = I, E[B̄] = ebar·I, "
                   "E[(Cb)‾] = bias_scale·D̃b̃", "(27)",
                   sp.Matrix.vstack(*[(P - sp.eye(d)).reshape(d * d, 1) for P in per_client],
                                    (EB - ebar.subs(N, n) * sp.eye(d)).reshape(d * d, 1), ECb - s * Dtb),
                   f"bias_scale = {s}", reach=at(n=n, d=d), role="evidence")
        Egn = enumerated_mean_g(Ls, bs, x, scale)
        D.symbolic(f"cross-check, all {math.factorial(d)} permutations enumerated (n = d = {n}): "
                   "E[g] = x − bias_scale·D̃b̃", "(27)", Egn - (x - s * Dtb), reach=at(n=n, d=d), role="evidence")

    # numeric cross-check: SketchMoments (floats) on heterogeneous n = d = 4 instances
    worst = 0.0
    for seed in range(3):
        prob = heterogeneous(4, 4, 0.8, seed=seed)
        sk = PreconditionedPerm.from_problem(prob)
        sk = PreconditionedPerm(4, 4, sk.table * float(scale.subs(N, 4)) / 2.0, sk.variant)
        mo = SketchMoments(prob, sk)
        sn = float(bias_scale.subs(N, prob.n))
        dtb = (prob.b * np.asarray(prob.D, dtype=float) ** float(dtb_power.subs(N, 4))).mean(axis=0)
        h_num = float(h_sign) * (prob.x_star - sn * dtb)
        worst = max(worst, float(np.abs(mo.expected_B - float(ebar.subs(N, 4)) * np.eye(4)).max()),
                    float(np.abs(mo.expected_Cb - sn * dtb).max()), float(np.abs(mo.h - h_num).max()))
    D.numeric("SketchMoments: E[B̄] = ebar·I, E[(Cb)‾] = bias_scale·D̃b̃, h = x* − x^∞ matches (27) "
              "(heterogeneous n = d = 4, 3 seeds)", "(27)", worst <= 1e-10, f"max deviation {worst:.2g}",
              role="evidence")
    D.latex["ECb"] = tex_times(bias_scale, r"\tilde D\tilde b")
    D.latex["h"] = tex_times(h_sign, tex_plus(r"\bar L^{-1}\bar b", tex_times(-bias_scale, r"\tilde D\tilde b")),
                             body_is_sum=True)
    return D
