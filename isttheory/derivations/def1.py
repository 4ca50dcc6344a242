"""Def. 1 (3), Rand-q (4) and Perm-q (7): unbiasedness and the variance parameter ω.

Rand-q: ``C = (d/q) Σ_{j∈S} e_j e_jᵀ`` with ``S`` a uniform q-subset, so the
diagonal entry ``c_j`` is ``d/q`` with probability ``P(j ∈ S) = C(d−1, q−1)/C(d, q) = q/d`` and ``0``
otherwise. Hence ``E[c_j] = 1`` and ``E[(c_j − 1)²] = E[c_j²] − 1 = d/q − 1``;
as ``C`` is diagonal, ``E‖Cx − x‖² = Σ_j E[(c_j − 1)²] x_j² = (d/q − 1)‖x‖²``
*with equality for every x*: ``ω = d/q − 1`` is the smallest constant in (3).

Perm-q (``d = q·n``): client ``i`` has ``c_j = n`` with probability
``P(j ∈ S_i) = q/d = 1/n`` and ``0`` otherwise, so ``E[c_j] = 1`` and
``E[(c_j − 1)²] = n − 1``: each client's sketch is unbiased with ``ω = n − 1``
(again with equality), independently of ``q``.

Reach. Every decisive step is *general*: scalar identities in the symbols ``d, q, n`` (``d = q + r``
where the order ``q ≤ d`` matters) and, for the vector statements, sums ``Σ_{j=1}^{d}`` over a symbolic
number of coordinates of a symbolic ``x``. The stated ω is compared with the sharp one by
:meth:`~isttheory.derivations.base.Derivation.bound` (a larger ω is ``loose``, a smaller one
``disproved``). Evidence: the engine's inclusion probabilities
(:class:`~isttheory.symbolic.inclusion.UniformPartition`, symbolic in ``d, q, n``), exact enumeration of
the library's supports with symbolic ``x`` at fixed sizes, and the library's ``sketch.omega()`` (floats).

Mutation knobs: ``omega_rand``, ``omega_perm`` (ω), ``incl_rand``, ``incl_perm`` (the probability that a
coordinate is kept), ``scale_rand``, ``scale_perm`` (the scale of a kept coordinate).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..sketches import Permutation, RandQ
from ..sketches.base import DiagonalSketch, IndexDraw, Sketch
from ..symbolic.inclusion import IndependentSubsets, UniformPartition, d, n, q
from .base import GENERAL, Derivation, at, exact_scale_table, vector

OMEGA_RAND = d / q - 1
OMEGA_PERM = n - 1
#: Rand-q keeps a coordinate with probability q/d and scales it by d/q (4); Perm-q: 1/n and n (7)
INCL_RAND, SCALE_RAND = q / d, d / q
INCL_PERM, SCALE_PERM = 1 / n, n


_OUTCOMES: dict[tuple[object, ...], list[tuple[sp.Expr, list[sp.ImmutableMatrix]]]] = {}


def exact_outcomes(sketch: Sketch) -> list[tuple[sp.Expr, list[sp.ImmutableMatrix]]]:
    """Every outcome of ``sketch.support()`` as (exact probability, [C_1 … C_n]) with exact SymPy entries.

    Built from the definitions, not from floats: the entries are the family's exact scale
    (:func:`~isttheory.derivations.base.exact_scale_table`: 1, ``d/q`` or ``n``) on the coordinates each
    client owns in the enumerated index draw, and the outcomes are equally likely, ``1/K`` with ``K``
    the number of enumerated outcomes (uniform q-subsets per client, uniform permutations). The float
    support is only cross-checked. Cached per (family, spec, n, d)."""
    key = (type(sketch).__name__, sketch.spec, sketch.n, sketch.d)
    if key in _OUTCOMES:
        return _OUTCOMES[key]
    if not isinstance(sketch, DiagonalSketch):
        raise ValueError(f"{sketch.spec}: exact_outcomes expects diagonal sketches")
    T = exact_scale_table(sketch)
    sup = sketch.support()
    draw = sup.draw
    if not isinstance(draw, IndexDraw):
        raise ValueError(f"{sketch.spec}: exact_outcomes expects an index-form support")
    K = int(sup.probs.shape[0])
    if K != sketch.support_size() or np.ptp(sup.probs) != 0:
        raise ValueError(f"{sketch.spec}: exact_outcomes expects {sketch.support_size()} equally likely outcomes")
    coords = np.asarray(draw.coords)  # (K, n, m)
    present = np.broadcast_to(np.asarray(draw.scales), coords.shape) != 0  # scale 0 marks a padding slot
    prob = sp.Rational(1, K)
    dense = draw.dense(sketch.d)
    out = []
    for k in range(K):
        mats = []
        for i in range(sketch.n):
            diag = [sp.Integer(0)] * sketch.d
            for j, used in zip(coords[k, i], present[k, i], strict=True):
                if used:
                    diag[int(j)] += T[i, int(j)]
            mats.append(sp.ImmutableMatrix(sp.diag(*diag)))
        if not np.allclose(np.array([[float(v) for v in M] for M in mats]).reshape(dense[k].shape), dense[k],
                           rtol=1e-14, atol=0):
            raise ValueError(f"{sketch.spec}: exact outcome {k} differs from the numeric support")
        out.append((prob, mats))
    if abs(float(sum(sup.probs)) - 1) > 1e-12:
        raise ValueError(f"probabilities of {sketch.spec} do not sum to 1")
    _OUTCOMES[key] = out
    return out


def _enumerated_moments(sketch: Sketch, client: int, x: sp.Matrix) -> tuple[sp.Matrix, sp.Expr]:
    """``E[C_i x]`` and ``E‖C_i x − x‖²`` by exact enumeration."""
    mean = sp.zeros(x.rows, 1)
    var = sp.Integer(0)
    for p, Cs in exact_outcomes(sketch):
        y = Cs[client] * x
        mean += p * y
        var += p * ((y - x).T * (y - x))[0]
    return mean, sp.expand(var)


def _omega(sketch: Sketch) -> float:
    """The library's Def. 1 variance parameter; a biased sketch has none (Def. 1 does not apply)."""
    w = sketch.omega()
    if w is None:
        raise ValueError(f"{sketch.spec}: biased sketch, Def. 1's ω is undefined")
    return w


def vector_moments(p: sp.Expr, s: sp.Expr, size: sp.Expr) -> tuple[sp.Matrix, sp.Expr]:
    """For a diagonal ``C`` whose entry ``c_j`` is ``s`` with probability ``p`` and 0 otherwise (every ``j``), and
    every ``x ∈ ℝ^size`` (symbolic size, entries ``x[j]``): the residual of ``E[(Cx)_j] = x_j`` and the
    coefficient ``v`` with ``E‖Cx − x‖² = Σ_j E[(c_j − 1)²]x_j² = v‖x‖²``, as a residual in ``‖x‖²``."""
    j = sp.Symbol("j", integer=True, positive=True)
    x = sp.IndexedBase("x", real=True)
    norm2 = sp.Symbol("‖x‖²", positive=True)
    v = p * (s - 1) ** 2 + (1 - p)
    mean = sp.Matrix([(p * s) * x[j] - x[j]])  # E[c_j x_j] − x_j, any coordinate j
    sq = sp.Sum((p * s**2 - 2 * p * s + 1) * x[j] ** 2, (j, 1, size)) - v * sp.Sum(x[j] ** 2, (j, 1, size))
    sq = sp.simplify(sp.expand(sq)).subs(sp.Sum(x[j] ** 2, (j, 1, size)), norm2)
    return mean.col_join(sp.Matrix([sq])), sp.simplify(v)


def _entry_moments(D: Derivation, p: sp.Expr, s: sp.Expr, size: sp.Expr, vector_eq: str,
                   names: tuple[str, str, str]) -> sp.Expr:
    """The three general steps Rand-q and Perm-q share, for an entry ``c_j`` that is ``s`` with probability
    ``p`` and 0 otherwise: ``E[c_j] = 1``; ``E[(c_j − 1)²] = E[c_j²] − 1``; and (3) on every ``x ∈ ℝ^size``
    (:func:`vector_moments`). ``names`` are the three steps' names; returns the sharp ``ω`` (``v``)."""
    unbiased, second, vector = names
    D.symbolic(unbiased, "(3)", p * s - 1, reach=GENERAL)
    D.symbolic(second, "(3)", p * (s - 1) ** 2 + (1 - p) - (p * s**2 - 1), reach=GENERAL)
    vec, v = vector_moments(p, s, size)
    D.symbolic(vector, vector_eq, vec, f"v = {v}", reach=GENERAL)
    return v


def derive(omega_rand: sp.Expr = OMEGA_RAND, omega_perm: sp.Expr = OMEGA_PERM, incl_rand: sp.Expr = INCL_RAND,
           incl_perm: sp.Expr = INCL_PERM, scale_rand: sp.Expr = SCALE_RAND, scale_perm: sp.Expr = SCALE_PERM
           ) -> Derivation:
    """Def. 1 (3), Rand-q (4), Perm-q (7): unbiased with ``ω = omega_rand`` (Rand-q, default ``d/q − 1``) and
    ``ω = omega_perm`` (Perm-q per client, default ``n − 1``), both the smallest constant in (3).
    ``incl_*``: the probability that a coordinate is kept (``q/d``; Perm-q ``1/n``); ``scale_*``: the scale
    of a kept coordinate (``d/q``; Perm-q ``n``). Every decisive step is general in ``d, q, n`` and ``x``."""
    omega_rand, omega_perm = sp.sympify(omega_rand), sp.sympify(omega_perm)
    incl_rand, incl_perm = sp.sympify(incl_rand), sp.sympify(incl_perm)
    scale_rand, scale_perm = sp.sympify(scale_rand), sp.sympify(scale_perm)
    D = Derivation("Def. 1 / Rand-q / Perm-q", ("(3)", "(4)", "(7)"),
                   constants={"omega_rand": omega_rand, "omega_perm": omega_perm, "incl_rand": incl_rand,
                              "incl_perm": incl_perm, "scale_rand": scale_rand, "scale_perm": scale_perm})
    r = sp.Symbol("r", integer=True, nonnegative=True)  # d = q + r: q ≤ d

    # ---- Rand-q, symbolic in d, q ------------------------------------------------
    D.symbolic("Rand-q: P(j ∈ S) = C(d−1, q−1)/C(d, q) = q/d (q-subsets containing j over all q-subsets)", "(4)",
               sp.combsimp(sp.binomial(d - 1, q - 1) / sp.binomial(d, q)) - incl_rand, reach=GENERAL)
    p = IndependentSubsets(1, 2, 1).p_same(1)  # engine's P(j ∈ S), a SymPy closed form in d, q
    D.symbolic("Rand-q: the engine's inclusion probability is q/d", "(4)", p - incl_rand, f"engine: {p}",
               reach=GENERAL, role="evidence")
    v_rand = _entry_moments(
        D, incl_rand, scale_rand, d, "(3)",
        ("Rand-q: E[c_j] = P(j ∈ S)·(d/q) = 1 (unbiased, every coordinate)",
         "Rand-q: E[(c_j − 1)²] = p(d/q − 1)² + (1 − p) = E[c_j²] − 1",
         "Rand-q: for every d and x ∈ ℝ^d, E[Cx] = x and E‖Cx − x‖² = Σ_j E[(c_j − 1)²]x_j² = v‖x‖²"))
    D.bound("Rand-q: (3) E‖Cx − x‖² ≤ ω‖x‖² with ω = omega_rand; the sharp ω is v (compared as q·ω, d = q + r)",
            "(3)", sp.expand(q * omega_rand.subs(d, q + r)), sp.expand(q * v_rand.subs(d, q + r)), reach=GENERAL)

    # ---- Rand-q, exact enumeration of the library's supports with symbolic x (evidence) -------------------
    for d0, q0 in ((3, 1), (4, 2), (4, 3)):
        x = vector("x", d0)
        mean, var = _enumerated_moments(RandQ(1, d0, q0), 0, x)
        w = omega_rand.subs({d: d0, q: q0})
        D.symbolic(f"Rand-{q0}, d = {d0}: E[Cx] = x and E‖Cx − x‖² = ω‖x‖² (enumerated support, symbolic x)", "(3)",
                   (mean - x).col_join(sp.Matrix([var - w * (x.T * x)[0]])), f"ω = {w}", reach=at(d=d0, q=q0),
                   role="evidence")
    lib = [(d0, q0, _omega(RandQ(1, d0, q0)), float(omega_rand.subs({d: d0, q: q0})))
           for d0, q0 in ((3, 1), (4, 2), (6, 2), (8, 3))]
    D.numeric("RandQ.omega() = ω formula", "(3)", all(abs(a - b) <= 1e-12 * max(1.0, b) for *_, a, b in lib),
              "; ".join(f"d={d0},q={q0}: {a:.6g} vs {b:.6g}" for d0, q0, a, b in lib), role="evidence")

    # ---- Perm-q, symbolic in n, q with d = q n -------------------------------------------
    pp = sp.simplify(UniformPartition.p_same_expr(1).subs(d, q * n))
    D.symbolic("Perm-q: P(j ∈ S_i) = q/d = 1/n (client i owns q of the d = qn coordinates of a uniform permutation)",
               "(7)", sp.simplify((q / d).subs(d, q * n)) - incl_perm, reach=GENERAL)
    D.symbolic("Perm-q: the engine's inclusion probability is 1/n", "(7)", pp - incl_perm, f"engine: {pp}",
               reach=GENERAL, role="evidence")
    v_perm = _entry_moments(
        D, incl_perm, scale_perm, q * n, "(7)",
        ("Perm-q: E[c_j] = (1/n)·n = 1 (unbiased per client)",
         "Perm-q: E[(c_j − 1)²] = (1/n)(n − 1)² + (1 − 1/n) = E[c_j²] − 1",
         "Perm-q: for every n, q, client i and x ∈ ℝ^{qn}, E[C_i x] = x and E‖C_i x − x‖² = v‖x‖²"))
    D.bound("Perm-q: (3) E‖C_i x − x‖² ≤ ω‖x‖² with ω = omega_perm; the sharp ω is v", "(7)",
            omega_perm, v_perm, reach=GENERAL)

    # ---- Perm-q, exact enumeration with symbolic x (evidence) -------------------------------
    for n0, d0 in ((2, 2), (2, 4), (3, 3)):
        x = vector("x", d0)
        sk = Permutation(n0, d0)
        w = omega_perm.subs(n, n0)
        res = []
        for i in range(n0):
            mean, var = _enumerated_moments(sk, i, x)
            res.append((mean - x).col_join(sp.Matrix([var - w * (x.T * x)[0]])))
        D.symbolic(f"Perm-{d0 // n0}, n = {n0}: E[C_i x] = x and E‖C_i x − x‖² = ω‖x‖² for every client "
                   "(enumerated support)", "(7)", sp.Matrix.vstack(*res), f"ω = {w}", reach=at(n=n0, d=d0),
                   role="evidence")
    lib = [(n0, d0, _omega(Permutation(n0, d0)), float(omega_perm.subs(n, n0)))
           for n0, d0 in ((2, 2), (2, 6), (3, 6), (4, 4), (5, 10))]
    D.numeric("Permutation.omega() = ω formula", "(7)", all(abs(a - b) <= 1e-12 * max(1.0, b) for *_, a, b in lib),
              "; ".join(f"n={n0},d={d0}: {a:.6g} vs {b:.6g}" for n0, d0, a, b in lib), role="evidence")
    ok = all(np.allclose(sk.expected_C(), np.eye(sk.d)) for sk in (RandQ(2, 5, 2), Permutation(3, 6)))
    D.numeric("closed-form E[C_i] = I (RandQ(2,5,2), Permutation(3,6))", "(3)", ok, "expected_C()", role="evidence")

    D.latex["omega_rand"] = sp.latex(omega_rand)
    D.latex["omega_perm"] = sp.latex(omega_perm)
    return D
