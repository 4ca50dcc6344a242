"""§4 homogeneous case (31): scaled Perm-1 on the preconditioned homogeneous problem.

``L_i ≡ L``, ``b_i ≡ b``; change of variables ``x̃ = D^{1/2}x`` gives
``L̃ = D^{-1/2}LD^{-1/2}`` (``Diag(L̃) = I``) and ``b̃ = D^{-1/2}b``. With the
scaled Perm-1 ``C_i = s e_{π_i}e_{π_i}ᵀ`` (paper: ``s = √n``, ``n = d``), on *every*
draw (each coordinate has exactly one owner)

    B̄ = (1/n) Σ_i s² L̃_{π_iπ_i} e_{π_i}e_{π_i}ᵀ = (s²/n) Diag(L̃) = (s²/n) I,   (Cb)‾ = (s/n) b̃,

so for ``s = √n``: ``g = x − b̃/√n`` exactly, ``σ² = 0`` (nothing depends on the
draw), fixed point ``x^∞ = b̃/√n`` (in general ``b̃/s``). With ``x* = L̃⁻¹b̃``,
``L̃h = L̃(x* − x^∞) = −(1/√n)(L̃ − √n I) b̃``, so (``L̃ ≻ 0``)

    h = 0  ⇔  L̃b̃ = √n b̃  ⇔  b̃ = 0 or b̃ is an eigenvector of L̃ with eigenvalue √n
           (equivalently of L̃⁻¹ with eigenvalue 1/√n).

Statement (31) is correct (add the trivial case ``b̃ = 0``). The eigenvector case
exists for every ``n ≥ 2``: the equicorrelation matrix ``L̃ = (1 − ρ)I + ρ11ᵀ``,
``ρ = (√n − 1)/(n − 1)``, has unit diagonal, ``L̃1 = (1 + (n − 1)ρ)1 = √n·1`` and
``L̃u = (1 − ρ)u`` for ``u ⊥ 1`` with ``1 − ρ = √n/(√n + 1) > 0``, so ``L̃ ≻ 0``; with
``b̃ = 1`` the bias vanishes, with ``b̃ ⊥ 1`` it does not (``1 − ρ < √n``).

Coordinates matter (clarification): the statement is about the iterates
``x̃``. Running the heterogeneous sketch (23) directly on ``(L, b)`` also gives
``B̄ = I`` and ``σ² = 0`` (:mod:`.precond_heterogeneous`) and ``E[(Cb)‾] =
D^{-1/2}b/√n = b̃/√n`` (:mod:`.estimator_bias`), so the fixed point is ``b̃/√n``
*in the original coordinates*, and ``L x^∞ − b = D^{1/2}(L̃D^{1/2}b̃/√n − b̃)``: its
bias vanishes iff ``L̃⁻¹b̃ = D^{1/2}b̃/√n``, a different condition when ``D ≠ I``.

What is general: every decisive step — symbolic in ``n`` (and ``s``), or in
non-commuting matrix symbols (``L̃``, ``D^{1/2}``, vectors: any size). On one draw,
``B̄_jk``, ``(Cb)‾_j`` and ``g_j(x)`` are computed entrywise with symbolic ``n`` (sums over
clients and coordinates in the normal form of :mod:`.symbolic_sums`) from two stated
premises: the definition of scaled Perm-1 (``C_i = s·Σ_j π_ij e_je_jᵀ``) and the ownership
of a permutation (``π_ijπ_ik = δ_jkπ_ij``, ``Σ_i π_ij = 1``, i.e. ``Σ_i e_{π_i}e_{π_i}ᵀ = I``,
with ``Diag(L̃) = I``); ``g`` comes out free of ``π`` (the same on every draw), ``E g`` by
linearity with ``E[π_ij] = P(j ∈ S_i)``, and ``σ²`` is computed from ``g − E g``; the equicorrelation
matrix is handled on ``span{1} ⊕ 1^⊥`` with symbolic ``n`` (``n = (1 + τ)²``,
``τ > 0``, for the positivity). Second certificates (role *evidence*): exact
enumeration of all ``n!`` draws on the equicorrelation ``L̃`` for ``n = 2 … 5``
(exact radicals: ``h = 0`` and ``σ² = 0`` for ``b̃ = 1``, ``h ≠ 0`` for
``b̃ = e₁ − e₂``), symbolic unit-diagonal ``L̃`` at ``n = d ∈ {2, 3}`` (every draw,
the engine, ``σ²``), the ``d = 2`` example ``L̃ = [[1, r], [r, 1]]`` (``h = 0`` for
``b̃ ≠ 0`` exactly when ``r = ±(√2 − 1)``, ``b̃ ∝ (1, ±1)``), an exact instance of
the clarification, and floats (SketchMoments, the simulator).

Mutation knobs (keyword arguments of :func:`derive`): ``scale`` (``√n``),
``eigenvalue`` (``√n``), ``sigma2`` (0), ``cb_coef`` (``(Cb)‾ = cb_coef·b̃``, ``1/√n``),
``xinf_coef`` (``x^∞ = xinf_coef·b̃``, ``1/√n``), ``rho`` (the equicorrelation,
``(√n − 1)/(n − 1)``).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy as sp

from ..moments import SketchMoments
from ..problem import QuadraticProblem
from ..simulate import simulate
from ..sketches import Permutation
from ..symbolic import contractions
from .base import GENERAL, Derivation, at, stack, symbolic_expectation, tex_times, vector
from .estimator_bias import N, perm1_inclusion
from .symbolic_sums import sum_normal_form

ZERO = sp.Integer(0)
#: the paper's sketch scale and eigenvalue, √n
SQRT_N = sp.sqrt(N)
INV_SQRT_N = 1 / SQRT_N
#: the equicorrelation of the eigenvector construction, ρ = (√n − 1)/(n − 1)
RHO = (sp.sqrt(N) - 1) / (N - 1)
#: the sizes n = d of the fixed-size symbolic cross-checks, and of the exact enumeration on the construction
SIZES = (2, 3)
EXACT_SIZES = (2, 3, 4, 5)


# ------------------------------------------------------------------------------ one draw, entrywise, symbolic n
_i, _p = sp.symbols("i p", integer=True)  # a client, a coordinate (summation indices)
_j, _k = sp.symbols("j k", integer=True, positive=True)  # two coordinates (free, 1 ≤ j, k ≤ n)
_PI, _LT, _BT, _X = (sp.IndexedBase(v) for v in ("pi", "Lt", "bt", "x"))  # π_ij ∈ {0, 1}, L̃_jk, b̃_j, x_j
_RANGES = {_j: (sp.Integer(1), N), _k: (sp.Integer(1), N)}


def _rebuild(nf: dict[tuple[sp.Expr, tuple[tuple[sp.Symbol, sp.Expr, sp.Expr], ...]], sp.Expr]) -> sp.Expr:
    return sp.Add(*[c * (sp.Sum(m, *lims) if lims else m) for (m, lims), c in nf.items()])


def _one_coordinate_per_client(mono: sp.Expr) -> sp.Expr:
    """``π_iaπ_ib = δ_abπ_ia`` (premise: a client owns exactly one coordinate; with ``a = b``, ``π² = π``)."""
    factors: list[sp.Expr] = []
    for f in sp.Mul.make_args(mono):
        base, e = f.as_base_exp()
        is_pi = isinstance(base, sp.Indexed) and base.base == _PI and e.is_Integer and int(e) > 0
        factors += [base] * int(e) if is_pi else [f]
    owner: dict[sp.Expr, sp.Expr] = {}
    out: list[sp.Expr] = []
    for f in factors:
        if isinstance(f, sp.Indexed) and f.base == _PI:
            client, coord = f.indices
            if client in owner:
                out.append(sp.KroneckerDelta(owner[client], coord))
                continue
            owner[client] = coord
        out.append(f)
    return sp.Mul(*out)


def _unit_diagonal(mono: sp.Expr) -> sp.Expr:
    """``L̃_jj = 1`` (premise: ``Diag(L̃) = I``), also under a ``δ_jk`` of the monomial (``δ_jkL̃_jk = δ_jk``)."""
    for dl in mono.atoms(sp.KroneckerDelta):
        a, b = dl.args
        mono = mono.xreplace({_LT[a, b]: _LT[a, a], _LT[b, a]: _LT[a, a]})
    return mono.replace(lambda e: isinstance(e, sp.Indexed) and e.base == _LT and e.indices[0] == e.indices[1],
                        lambda e: sp.Integer(1))


def _draw_form(expr: sp.Expr) -> dict[tuple[sp.Expr, tuple[tuple[sp.Symbol, sp.Expr, sp.Expr], ...]], sp.Expr]:
    """The normal form (:func:`~.symbolic_sums.sum_normal_form`) of a per-draw entry after the ownership rule
    ``π_iaπ_ib = δ_abπ_ia`` (deltas then deleted against the coordinate sums) and ``L̃_jj = 1``."""
    nf = sum_normal_form(expr, _RANGES)
    nf = sum_normal_form(_rebuild({(_one_coordinate_per_client(m), lims): c for (m, lims), c in nf.items()}), _RANGES)
    return {(_unit_diagonal(m), lims): c for (m, lims), c in nf.items()}


def on_every_draw(expr: sp.Expr) -> sp.Expr:
    """A per-draw entry with ``Σ_i π_ij = 1`` applied (premise: every coordinate has exactly one owner,
    ``Σ_i e_{π_i}e_{π_i}ᵀ = I``): a sum over clients of ``π_ij·(terms free of i)`` is those terms. A result
    free of ``π`` is the same on every draw."""
    out = sp.Integer(0)
    for (mono, lims), coef in _draw_form(expr).items():
        if len(lims) == 1 and tuple(lims[0][1:]) == (1, N):
            v = lims[0][0]
            pis = [f for f in sp.Mul.make_args(mono) if isinstance(f, sp.Indexed) and f.base == _PI
                   and f.indices[0] == v]
            rest = sp.Mul(*[f for f in sp.Mul.make_args(mono) if f not in pis])
            if len(pis) == 1 and v not in rest.free_symbols:
                out += coef * rest
                continue
        out += coef * (sp.Sum(mono, *lims) if lims else mono)
    return sp.expand(out)


def expectation(expr: sp.Expr) -> sp.Expr:
    """``E`` of a per-draw entry by linearity, ``E[π_ij] = P(j ∈ S_i)`` of Perm-1 (:mod:`isttheory.symbolic.inclusion`,
    symbolic n); after the ownership rule every monomial has at most one ``π``."""
    p1 = perm1_inclusion(1)
    out = sp.Integer(0)
    for (mono, lims), coef in _draw_form(expr).items():
        if len([f for f in sp.Mul.make_args(mono) if isinstance(f.as_base_exp()[0], sp.Indexed)
                and f.as_base_exp()[0].base == _PI]) > 1:
            raise ValueError(f"expectation: more than one π in {mono}")
        m = mono.replace(lambda e: isinstance(e, sp.Indexed) and e.base == _PI, lambda e: p1)
        out += coef * (sp.Sum(m, *lims).doit() if lims else m)
    return sp.expand(out)


def per_draw_entries(scale: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``B̄_jk``, ``(Cb)‾_j`` and ``g_j(x) = Σ_p B̄_jpx_p − (Cb)‾_j`` on one draw of scaled Perm-1 (premise: the
    definition ``C_i = s·Σ_j π_ij e_je_jᵀ``, homogeneous ``L̃, b̃``), symbolic n."""
    B = sp.Sum(scale**2 / N * _PI[_i, _j] * _PI[_i, _k] * _LT[_j, _k], (_i, 1, N))
    Cb = sp.Sum(scale / N * _PI[_i, _j] * _BT[_j], (_i, 1, N))
    g = sp.Sum(sp.Sum(scale**2 / N * _PI[_i, _j] * _PI[_i, _p] * _LT[_j, _p], (_i, 1, N)) * _X[_p], (_p, 1, N)) - Cb
    return B, Cb, g


def unit_diagonal_matrix(d: int, name: str = "r") -> sp.Matrix:
    """Symbolic symmetric ``L̃`` with unit diagonal and real off-diagonal symbols ``r_jk``."""
    return sp.Matrix(d, d, lambda j, k: sp.Integer(1) if j == k else sp.Symbol(f"{name}_{min(j, k)}{max(j, k)}",
                                                                                 real=True))


def per_draw(Lt: sp.Matrix, bt: sp.Matrix, s: sp.Expr) -> list[tuple[sp.Matrix, sp.Matrix]]:
    """``(B̄, (Cb)‾)`` for every permutation of the scaled Perm-1 with scale ``s`` (homogeneous ``L̃, b̃``)."""
    d = Lt.shape[0]
    n = d
    out = []
    for perm in itertools.permutations(range(d)):
        B, c = sp.zeros(d, d), sp.zeros(d, 1)
        for j in perm:  # each client owns one coordinate; homogeneous, so only the coordinate matters
            C = sp.zeros(d, d)
            C[j, j] = s
            B += C * Lt * C
            c += C * bt
        out.append((B / n, c / n))
    return out


def equicorrelation(n: int, rho: sp.Expr = RHO) -> sp.Matrix:
    """The exact ``L̃ = (1 − ρ)I + ρ11ᵀ`` (n×n) with ``ρ`` evaluated at ``n``."""
    r = sp.sympify(rho).subs(N, n)
    return sp.Matrix(n, n, lambda j, k: sp.Integer(1) if j == k else r)


def eigen_instance(n: int = 4, eps: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """A unit-diagonal ``L̃ ≻ 0`` (n×n) with eigenpair ``(√n, 1)``: equicorrelation
    ``ρ = (√n − 1)/(n − 1)`` plus ``eps·E`` with ``E`` symmetric, zero diagonal and zero row sums."""
    rho = (math.sqrt(n) - 1) / (n - 1)
    C = np.roll(np.eye(n), 1, axis=1)  # cyclic shift
    E = (C + C.T) - (C @ C + (C @ C).T)  # symmetric, zero diagonal (n ≥ 3), zero row sums
    Lt = (1 - rho) * np.eye(n) + rho * np.ones((n, n)) + eps * E
    np.fill_diagonal(Lt, 1.0)
    return Lt, np.ones(n)


def _exact(e: sp.Expr) -> sp.Expr:
    """An exact number with radicals in canonical form (rationalised denominators, expanded)."""
    return sp.simplify(sp.expand(sp.radsimp(sp.sympify(e))))


def _exact_enumeration(n: int, scale: sp.Expr, eigenvalue: sp.Expr, sigma2: sp.Expr, rho: sp.Expr
                       ) -> tuple[bool, str]:
    """All ``n!`` draws of the scaled Perm-1 on the exact equicorrelation ``L̃`` (radicals): ``L̃1 = λ1``,
    ``L̃ ≻ 0`` (leading principal minors), ``L̃x^∞ = b̃`` (``h = 0``) and ``σ² = `` the claim for ``b̃ = 1``;
    ``h ≠ 0`` for ``b̃ = e₁ − e₂``."""
    Lt = equicorrelation(n, rho)
    s, lam, sig = (sp.sympify(v).subs(N, n) for v in (scale, eigenvalue, sigma2))
    one = sp.ones(n, 1)
    ok_eig = all(sp.simplify(e) == 0 for e in Lt * one - lam * one)
    minors = [sp.simplify(Lt[:k, :k].det()) for k in range(1, n + 1)]
    ok_pd = all(bool(m.is_positive) for m in minors)
    perms = list(itertools.permutations(range(n)))
    results = []
    for bt in (one, sp.Matrix([1, -1] + [0] * (n - 2))):
        Bs, cs = [], []
        for perm in perms:  # client i owns coordinate perm[i]; C_i = s e e^T
            B, c = sp.zeros(n, 1), sp.zeros(n, 1)
            for j in perm:
                B[j] += s**2 * Lt[j, j] / n
                c[j] += s * bt[j] / n
            Bs.append(B)
            cs.append(c)
        EB = sum(Bs, sp.zeros(n, 1)) / len(perms)
        Ec = sum(cs, sp.zeros(n, 1)) / len(perms)
        xinf = sp.Matrix([Ec[j] / EB[j] for j in range(n)])  # E[B̄] diagonal
        Lh = (bt - Lt * xinf).applyfunc(_exact)  # L̃h = b̃ − L̃x^∞
        xs = Lt.LUsolve(bt)
        gs = [sp.Matrix([B[j] * xs[j] - c[j] for j in range(n)]) for B, c in zip(Bs, cs, strict=True)]
        Eg = sum(gs, sp.zeros(n, 1)) / len(perms)
        var = _exact(sum((((g - Eg).T * Lt * (g - Eg))[0] for g in gs), ZERO) / len(perms))
        results.append((Lh, var))
    (Lh1, var1), (Lh2, _) = results
    ok_h = all(e == 0 for e in Lh1) and any(e.is_zero is False for e in Lh2)
    ok = ok_eig and ok_pd and ok_h and _exact(var1 - sig) == 0
    return ok, (f"n = {n}: L̃1 = λ1 {ok_eig}, minors > 0 {ok_pd}, L̃h = {list(Lh1)} (b̃ = 1), "
                f"{list(Lh2)} (b̃ = e₁ − e₂), σ² = {var1}")


def derive(scale: sp.Expr = SQRT_N, eigenvalue: sp.Expr = SQRT_N, sigma2: sp.Expr = ZERO,
           cb_coef: sp.Expr = INV_SQRT_N, xinf_coef: sp.Expr = INV_SQRT_N, rho: sp.Expr = RHO,
           sizes: tuple[int, ...] = SIZES, exact_sizes: tuple[int, ...] = EXACT_SIZES) -> Derivation:
    """Check (31) with the sketch scale ``s`` (paper: ``√n``), the claimed eigenvalue of ``L̃`` for ``h = 0``
    (paper: ``√n``, i.e. ``1/√n`` for ``L̃⁻¹``), the claimed ``σ²`` (paper: 0), ``(Cb)‾ = cb_coef·b̃`` and
    ``x^∞ = xinf_coef·b̃`` (both ``1/√n``), and the equicorrelation ``rho`` of the eigenvector construction.
    General in ``n``; ``sizes`` and ``exact_sizes`` are the ``n = d`` of the cross-checks."""
    scale, eigenvalue, sigma2, cb_coef, xinf_coef, rho = map(sp.sympify, (scale, eigenvalue, sigma2, cb_coef,
                                                                          xinf_coef, rho))
    D = Derivation("§4 homogeneous bias", ("(31)",),
                   constants={"scale": scale, "eigenvalue": eigenvalue, "sigma2": sigma2, "cb_coef": cb_coef,
                              "xinf_coef": xinf_coef, "rho": rho})

    # every draw, every n, entrywise with symbolic n: B̄, (Cb)‾ and g from the definition (premise) and the ownership
    # of a permutation (premise); the results are free of π, i.e. the same on every draw
    D.premise("scaled Perm-1 on one draw (definition, written out by hand): C_i = s·Σ_j π_ij e_je_jᵀ with π_ij ∈ "
              "{0, 1}, so B̄_jk = (1/n)Σ_i s²π_ijπ_ik L̃_jk and (Cb)‾_j = (1/n)Σ_i s·π_ij b̃_j (homogeneous L̃, b̃)")
    D.premise("π a permutation, n = d (definition): a client owns one coordinate, π_ijπ_ik = δ_jkπ_ij, and a "
              "coordinate one client, Σ_i π_ij = 1, i.e. Σ_i e_{π_i}e_{π_i}ᵀ = I; and Diag(L̃) = I "
              "(L̃ = D^{-1/2}LD^{-1/2}, D = Diag(L))")
    Bd, Cbd, gd = per_draw_entries(scale)
    B_all, Cb_all, g_all = on_every_draw(Bd), on_every_draw(Cbd), on_every_draw(gd)
    D.symbolic("B̄ = (1/n)Σ_i C_iL̃C_i = (s²/n)Diag(L̃) = I on every draw, every n: B̄_jk = (1/n)Σ_i s²π_ijπ_ikL̃_jk "
               "reduces to δ_jk (π_ijπ_ik = δ_jkπ_ij, Σ_i π_ij = 1, L̃_jj = 1)", "(31)",
               B_all - sp.KroneckerDelta(_j, _k), f"B̄_jk = {B_all}", reach=GENERAL)
    D.symbolic("(Cb)‾ = (1/n)Σ_i C_ib̃ = (s/n)b̃ = cb_coef·b̃ on every draw, every n", "(31)",
               Cb_all - cb_coef * _BT[_j], f"(Cb)‾_j = {Cb_all}, cb_coef = {cb_coef}", reach=GENERAL)
    D.symbolic("g = B̄x − (Cb)‾ = x − cb_coef·b̃ on every draw, every n: g_j = Σ_p B̄_jpx_p − (Cb)‾_j free of π",
               "(31)", sp.Matrix([g_all - (_X[_j] - cb_coef * _BT[_j]), int(g_all.has(_PI))]),
               f"g_j = {g_all}", reach=GENERAL)
    # σ² = E‖g − E g‖²_{L̃} with E g by linearity (E[π_ij] = P(j ∈ S_i)) and g the same on every draw
    Eg = expectation(gd)
    dev = sp.expand(g_all - Eg)  # g_j − E g_j, free of π
    sig = sp.Sum(_LT[_j, _k] * dev * dev.xreplace({_j: _k}), (_j, 1, N), (_k, 1, N)).doit()
    D.symbolic("σ² = E‖g − E g‖²_{L̃} = Σ_jk L̃_jk(g_j − E g_j)(g_k − E g_k) = claimed value, every n (g computed on "
               "one draw, E g by linearity with E[π_ij] = P(j ∈ S_i))", "(31)", sig - sigma2,
               f"g_j − E g_j = {dev}, claimed σ² = {sigma2}", reach=GENERAL)
    beta = sp.expand(Eg).coeff(_X[_j])  # E g_j = βx_j − κb̃_j
    kappa = -sp.expand(Eg).coeff(_BT[_j])
    D.symbolic("x^∞: E[g(x^∞)] = βx^∞ − κb̃ = 0 at x^∞ = xinf_coef·b̃ (x^∞ = b̃/s for any scale s), every n",
               "(31)", sp.Matrix([beta * xinf_coef - kappa, sp.expand(Eg - (beta * _X[_j] - kappa * _BT[_j]))]),
               f"E g_j = {Eg}, xinf_coef = {xinf_coef}", reach=GENERAL)
    x, bt, Lt, Dh = sp.symbols("x bt Lt Dh", commutative=False)
    # h = x* − x^∞ with x* = L̃⁻¹b̃: L̃h = b̃ − (κ/β)L̃b̃ (no inverse needed)
    Lh = bt - (kappa / beta) * Lt * bt
    D.symbolic("L̃h = b̃ − L̃x^∞ = −(1/√n)(L̃ − λI)b̃, so h = 0 ⇔ b̃ = 0 or L̃b̃ = λb̃ (L̃ ≻ 0), every n (any size)",
               "(31)", sp.expand(Lh + INV_SQRT_N * (Lt * bt - eigenvalue * bt)), f"λ = {eigenvalue}",
               reach=GENERAL)

    # existence for every n ≥ 2: L̃ = (1 − ρ)I + ρ11ᵀ (unit diagonal) on span{1} ⊕ 1^⊥:
    # L̃(α1 + u) = (1 − ρ)(α1 + u) + ρ(1ᵀ(α1 + u))1 = (1 − ρ + nρ)α1 + (1 − ρ)u
    alpha = sp.Symbol("alpha", real=True)
    on_one = sp.expand((1 - rho) * alpha + rho * N * alpha)  # coefficient of 1 in L̃(α1)
    D.symbolic("construction, every n: L̃ = (1 − ρ)I + ρ11ᵀ has unit diagonal and L̃1 = (1 + (n − 1)ρ)1 = λ1", "(31)",
               sp.simplify(on_one / alpha - eigenvalue), f"ρ = {rho}, λ = {eigenvalue}", reach=GENERAL)
    tau = sp.Symbol("tau", positive=True)
    at_n = {N: (1 + tau) ** 2}  # every real n > 1, in particular every integer n ≥ 2
    mu1, mu2 = (sp.simplify(sp.sympify(e).subs(at_n)) for e in (on_one / alpha, 1 - rho))
    D.symbolic_true("construction: L̃ ≻ 0 for every n ≥ 2 (eigenvalues 1 + (n − 1)ρ on 1 and 1 − ρ on 1^⊥ positive; "
                    "n = (1 + τ)², τ > 0)", "(31)", sp.And(sp.Gt(mu1, 0), sp.Gt(mu2, 0)),
                    f"eigenvalues {mu1}, {mu2}", reach=GENERAL)
    D.symbolic_true("construction: for b̃ ⊥ 1, b̃ ≠ 0, L̃b̃ = (1 − ρ)b̃ with 1 − ρ < λ, so h ≠ 0 (the bias is not "
                    "always zero), every n ≥ 2", "(31)",
                    sp.Lt(sp.simplify(mu2 - sp.sympify(eigenvalue).subs(at_n)), 0),
                    f"1 − ρ − λ = {sp.simplify(mu2 - sp.sympify(eigenvalue).subs(at_n))}", reach=GENERAL)

    # clarification, any size: (23) on (L, b) = (D^{1/2}L̃D^{1/2}, D^{1/2}b̃) has B̄ = I on every draw, σ² = 0 and
    # E[(Cb)‾] = D^{-1/2}b/√n (homogeneous D̃b̃), so x^∞ = D^{-1/2}b/√n and L x^∞ − b = D^{1/2}(L̃D^{1/2}b̃/√n − b̃)
    Lo, bo = Dh * Lt * Dh, Dh * bt
    xinf23 = Dh**-1 * bo * INV_SQRT_N
    D.symbolic("clarification: (23) on (L, b) gives x^∞ = b̃/√n in x-coordinates and Lx^∞ − b = "
               "D^{1/2}(L̃D^{1/2}b̃/√n − b̃): h = 0 ⇔ L̃⁻¹b̃ = D^{1/2}b̃/√n (any size)", "(31)",
               sp.expand(Lo * xinf23 - bo - Dh * (Lt * Dh * bt * INV_SQRT_N - bt)),
               "B̄ = I on every draw (precond_heterogeneous) and E[(Cb)‾] = D̃b̃/√n with D̃b̃ = D^{-1/2}b "
               "(estimator_bias), both general; here the algebra", reach=GENERAL)

    # second certificates (evidence): exact enumeration on the construction, n = 2 … 5
    for n in exact_sizes:
        ok, detail = _exact_enumeration(n, scale, eigenvalue, sigma2, rho)
        D.numeric(f"exact, all {math.factorial(n)} draws on the equicorrelation L̃ (n = d = {n}): L̃1 = λ1, L̃ ≻ 0, "
                  "h = 0 and σ² = claimed for b̃ = 1; h ≠ 0 for b̃ = e₁ − e₂", "(31)", ok, detail, exact=True,
                  role="evidence")

    # cross-checks at fixed sizes with a symbolic unit-diagonal L̃ and symbolic b̃, x (evidence)
    for n in sizes:
        d = n
        s, cb_n, sig = scale.subs(N, n), cb_coef.subs(N, n), sigma2.subs(N, n)
        L3, b3, x3 = unit_diagonal_matrix(d), vector("bt", d), vector("x", d)
        draws = per_draw(L3, b3, s)
        gs = [B * x3 - c for B, c in draws]
        Eg = sum(gs, sp.zeros(d, 1)) / len(gs)
        var = sum((((gk - Eg).T * L3 * (gk - Eg))[0] for gk in gs), ZERO) / len(gs)
        D.symbolic(f"cross-check, all {len(draws)} draws (n = d = {n}, symbolic L̃, b̃): B̄ = I, (Cb)‾ = cb_coef·b̃, "
                   "σ² = claimed", "(31)",
                   sp.Matrix.vstack(*[sp.Matrix.vstack((B - sp.eye(d)).reshape(d * d, 1), c - cb_n * b3)
                                      for B, c in draws], sp.Matrix([var - sig])),
                   f"scale s = {s}", reach=at(n=n, d=d), role="evidence")
        sk = Permutation(n, d)
        T = np.full((n, d), s, dtype=object)
        EB = sp.Matrix(symbolic_expectation(contractions.B, sk, [stack([L3] * n)], scale=T).tolist()) / n
        b_stack = np.array([list(b3)] * n, dtype=object)
        ECb = sp.Matrix(symbolic_expectation(contractions.CB, sk, [b_stack], scale=T).tolist()) / n
        D.symbolic(f"cross-check, engine (n = d = {n}): E[B̄] = I and E[(Cb)‾] = cb_coef·b̃", "(31)",
                   sp.Matrix.vstack((EB - sp.eye(d)).reshape(d * d, 1), ECb - cb_n * b3), f"scale s = {s}",
                   reach=at(n=n, d=d), role="evidence")

    # d = 2 example (evidence), n = d = 2: L̃ = [[1, r], [r, 1]]; through L̃h = b̃ − L̃x^∞ (no inverse of L̃)
    r, u, v = sp.symbols("r u v", real=True)
    L2 = sp.Matrix([[1, r], [r, 1]])
    lam2, s2 = eigenvalue.subs(N, 2), scale.subs(N, 2)
    bg = sp.Matrix([u, v])
    sols = sp.solve(list(bg - L2 * bg / s2), [v, r], dict=True)  # x^∞ = b̃/s; u ≠ 0 a parameter
    resid = [sp.Integer(len(sols) - 2)]
    for so in sols:
        resid += list((L2.subs(so) - lam2 * sp.eye(2)) * bg.subs(so)) + [so[r] ** 2 - (lam2 - 1) ** 2]
    D.symbolic("d = 2 example: b̃ = (u, v), u ≠ 0: L̃h = 0 has exactly two solutions, each with L̃b̃ = λb̃ and "
               "r = ±(λ − 1)", "(31)", sp.Matrix(resid), f"solutions {sols}", reach=at(n=2, d=2), role="evidence")
    D.symbolic_true("d = 2 example: L̃ = [[1, r], [r, 1]] ≻ 0 at r = ±(λ − 1), i.e. |λ − 1| < 1", "(31)",
                    sp.Lt(sp.Abs(lam2 - 1), 1), f"λ = {lam2}", reach=at(n=2, d=2), role="evidence")

    # floats, n = d = 4 (evidence): SketchMoments and the simulator on an L̃ with eigenpair (√n, 1)
    n4 = 4
    s4 = float(scale.subs(N, n4))
    Lt4, b4 = eigen_instance(n4)
    sk4 = Permutation(n4, n4, scale=s4)
    sg4 = float(sigma2.subs(N, n4))
    p_eig = QuadraticProblem(np.broadcast_to(Lt4, (n4, n4, n4)), np.broadcast_to(b4, (n4, n4)))
    mo = SketchMoments(p_eig, sk4)
    bgen = np.random.default_rng(3).standard_normal(n4)
    p_gen = QuadraticProblem(np.broadcast_to(Lt4, (n4, n4, n4)), np.broadcast_to(bgen, (n4, n4)))
    mg = SketchMoments(p_gen, sk4)
    xi = float(xinf_coef.subs(N, n4))
    D.numeric("floats: SketchMoments x^∞ = xinf_coef·b̃, h = 0 for the eigenvector b̃, h ≠ 0 for a generic b̃, σ² at "
              "x* = claimed (n = d = 4)", "(31)",
              float(np.abs(mo.x_inf - xi * b4).max()) <= 1e-12 and float(np.linalg.norm(mo.h)) <= 1e-12
              and float(np.linalg.norm(mg.h)) > 1e-3 and abs(mo.sigma2_at_x_star - sg4) <= 1e-10
              and abs(mg.sigma2_at_x_star - sg4) <= 1e-10,
              f"‖h‖ = {np.linalg.norm(mo.h):.2g} (eigenvector), {np.linalg.norm(mg.h):.4g} (generic b̃); "
              f"‖x^∞ − xinf_coef·b̃‖_∞ = {np.abs(mo.x_inf - xi * b4).max():.2g}; σ² = {mo.sigma2_at_x_star:.2g}, "
              f"{mg.sigma2_at_x_star:.2g}", role="evidence")
    gam, K = 0.5, 12
    res = simulate(p_gen, sk4, gam, K, runs=4, seed=5, record=[K], x0=np.zeros(n4))
    det = (1 - (1 - gam) ** K) * bgen / math.sqrt(n4)
    sem = res.metrics["f"].sem
    if sem is None:  # the simulator reports no standard error for a single run
        raise ValueError("simulate(runs=4) returned no standard error")
    spread = float(sem.max())
    D.numeric("floats: simulator runs coincide (σ² = 0) and follow x^k = (1 − (1−γ)^k) b̃/√n", "(31)",
              spread <= 1e-14 and float(np.abs(res.x_mean[0] - det).max()) <= 1e-12,
              f"s.e. of f(x^K) over 4 runs {spread:.2g}, ‖x̄^K − closed form‖_∞ = "
              f"{np.abs(res.x_mean[0] - det).max():.2g} (K = {K}, γ = {gam})", role="evidence")

    # clarification on an exact instance (evidence): n = 2, the construction, b̃ = 1, D^{1/2} = diag(1, 2)
    L2e = equicorrelation(2)
    Dh2 = sp.diag(1, 2)
    one2 = sp.ones(2, 1)
    cv = (one2 - L2e * one2 / sp.sqrt(2)).applyfunc(_exact)  # change of variables: L̃h
    direct = (L2e * Dh2 * one2 / sp.sqrt(2) - one2).applyfunc(_exact)  # (23) on (L, b): D^{-1/2}(Lx^∞ − b)
    D.numeric("clarification, exact: n = 2 construction, b̃ = 1, D^{1/2} = diag(1, 2): h = 0 after the change of "
              "variables, h ≠ 0 under (23) on (L, b)", "(31)",
              all(e == 0 for e in cv) and any(e.is_zero is False for e in direct),
              f"L̃h = {list(cv)} (change of variables); L̃D^(1/2)b̃/√n − b̃ = {list(direct)} ((23) on (L, b))",
              exact=True, role="evidence")
    D.latex["x_inf"] = r"\tilde b/" + sp.latex(scale)
    D.latex["condition"] = r"\tilde L\tilde b = " + tex_times(eigenvalue, r"\tilde b")
    return D
