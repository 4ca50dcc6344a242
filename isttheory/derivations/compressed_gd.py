"""(32)–(35): unbiased compressed GD keeps ``x*`` as a fixed point; IST's compressed-model step does not.

Compressed GD (33) ``x⁺ = x − γC(∇f(x))`` with an unbiased ``C``:

* (34) ``E‖C(g) − g‖² ≤ ω‖g‖²`` is Def. 1 at ``g``; for Rand-q and Perm-q (diagonal, ``E[c_j] = 1``,
  ``E[(c_j − 1)²] = ω`` for every coordinate) ``E‖Cg − g‖² = Σ_j E[(c_j − 1)²]g_j² = ω‖g‖²`` exactly, so
  ω is the smallest constant;
* at ``x* = L̄⁻¹b̄``, ``∇f(x*) = 0``, so ``C(∇f(x*)) = C(0) = 0`` on every draw:
  ``x*`` is a fixed point and the variance ``ω‖∇f(x*)‖² = 0``.

IST (35): one step of (2) from ``x*`` is ``x⁺ − x* = −γ g(x*)`` with the
estimator (5) ``g(x) = (1/n) Σ C_i ∇f_i(C_i x) = B̄x − (Cb)‾``, so
``E‖x⁺ − x*‖² = γ² E‖g(x*)‖²``, which is ``> 0`` on a heterogeneous instance
with Perm-2 or Rand-2 (exact rational enumeration of the support) and ``0`` for the
identity sketch. In the interpolation case (``b_i = 0``) ``x* = 0`` and ``g(0) = 0``: there ``x*`` stays
fixed. For (35) read literally, ``x* − γ∇f(C(x*))`` with a quadratic ``f``,
``E[∇f(Cx*)] = L̄E[C]x* − b̄ = 0`` but ``∇f(Cx*) = L̄(C − I)x*`` is not 0 on draws:
one step moves away in mean square, not in mean.

Reach. The identities are *general*: matrix expressions of symbolic size ``d`` (a vector identity
``v = 0`` is checked as ``yᵀv = 0`` for a symbolic ``y``, by
:func:`isttheory.derivations.theorem1.quadratic_forms`), the estimator identity per client (so for the
average over any ``n``), and (34) for Rand-q and Perm-q through
:func:`isttheory.derivations.def1.vector_moments` (sums over a symbolic number of coordinates), the stated
constant against the sharp ω by :meth:`~isttheory.derivations.base.Derivation.bound`. The claim that
one IST step *moves away* from ``x*`` is existential: it rests on exact (rational) certificates on one
instance (numeric exact, decisive), so the derivation is CHECKED. Enumerations of the library's supports
at fixed sizes and float cross-checks are evidence.

Mutation knobs: ``variance_coef`` ((34)'s constant as an expression in ``omega``) and ``gamma_power``
(the ``γ²`` of (35)).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp

from ..generators import heterogeneous
from ..moments import SketchMoments
from ..problem import QuadraticProblem
from ..sketches import Identity, Permutation, RandQ
from ..sketches.base import Sketch
from ..symbolic import contractions
from ..symbolic.inclusion import d, n, q
from .base import GENERAL, Derivation, at, stack, symbolic_expectation, tex_times, vector
from .def1 import INCL_PERM, INCL_RAND, OMEGA_PERM, OMEGA_RAND, SCALE_PERM, SCALE_RAND, exact_outcomes, vector_moments
from .matrix_algebra import dim, quadratic_forms

omega = sp.Symbol("omega", positive=True)
gamma = sp.Symbol("gamma", positive=True)
GAMMA_POWER = sp.Integer(2)


def ist_step_second_moment(problem: QuadraticProblem, sketch: Sketch, x: np.ndarray) -> tuple[float, np.ndarray]:
    """``E‖g(x)‖²`` and ``E[g(x)]`` for the estimator (5), by exact enumeration of the support (floats)."""
    sup = sketch.support()
    C = sup.draw.dense(problem.d)  # (K, n, d, d)
    g = np.einsum("knij,njl,knlm,m->ki", C, problem.L, C, x) / problem.n \
        - np.einsum("knij,nj->ki", C, problem.b) / problem.n
    return float(sup.probs @ np.einsum("ki,ki->k", g, g)), sup.probs @ g


Residual = tuple[str, str, sp.Basic]
#: (label, ω of the case, E‖Cg − g‖² by enumeration, ‖g‖², sizes)
VarianceCase = tuple[str, sp.Expr, sp.Expr, sp.Expr, dict[str, int]]


@cache
def _variance_residuals() -> tuple[tuple[Residual, ...], tuple[VarianceCase, ...]]:
    """(34) for Rand-1, Rand-2, Perm-2 (fixed sizes): ``E‖Cg − g‖² − gᵀ(E[CᵀC] − I)g`` and
    ``E[CᵀC] − (1 + ω)I`` (enumeration of the library's support vs the engine), and per case the enumerated
    variance with its ω (constant-free, computed once)."""
    cases = {"Rand-1 (d = 3)": (RandQ(1, 3, 1), OMEGA_RAND.subs({d: 3, q: 1}), {"d": 3, "q": 1}),
             "Rand-2 (d = 4)": (RandQ(1, 4, 2), OMEGA_RAND.subs({d: 4, q: 2}), {"d": 4, "q": 2}),
             "Perm-2 (n = 2, d = 4)": (Permutation(2, 4), OMEGA_PERM.subs(n, 2), {"n": 2, "d": 4})}
    out: list[Residual] = []
    var_cases: list[VarianceCase] = []
    for label, (sk, w, sizes) in cases.items():
        g = vector("g", sk.d)
        var = sum((p * ((Cs[0] * g - g).T * (Cs[0] * g - g))[0] for p, Cs in exact_outcomes(sk)), sp.Integer(0))
        ECC = sp.Matrix(symbolic_expectation(contractions.CAC, sk, [stack([sp.eye(sk.d)] * sk.n)])[0].tolist())
        out.append((f"{label}: enumerated E‖Cg − g‖² = gᵀ(E[CᵀC] − I)g and the engine's E[CᵀC] − I = ωI, ω = {w}",
                    "(34)", sp.Matrix([sp.expand(var - (g.T * (ECC - sp.eye(sk.d)) * g)[0])]).col_join(
                        (ECC - sp.eye(sk.d) - w * sp.eye(sk.d)).reshape(sk.d**2, 1))))
        var_cases.append((label, w, sp.expand(var), (g.T * g)[0], sizes))
    return tuple(out), tuple(var_cases)


def _general_residuals(gamma_power: sp.Expr) -> tuple[Residual, ...]:
    """The identities of (32)–(35) for matrices of any size d; a vector identity v = 0 is checked as yᵀv = 0
    for a symbolic y."""
    L, C, Li, Ci, EC = (sp.MatrixSymbol(s, dim, dim) for s in ("L", "C", "L_i", "C_i", "EC"))
    b, bi, x, y, gv = (sp.MatrixSymbol(s, dim, 1) for s in ("b", "b_i", "x", "y", "g"))
    xs = L.I * b
    zero = sp.ZeroMatrix(dim, 1)

    def vec(v: sp.Basic, *sym: sp.MatrixSymbol) -> sp.Expr:
        return quadratic_forms(y.T * v, (L, Li, *sym))

    out: list[Residual] = [
        ("∇f(x*) = L̄x* − b̄ = 0 for x* = L̄⁻¹b̄ (any d)", "(32)", vec(L * xs - b)),
        ("compressed GD: x* − γC(∇f(x*)) − x* = −γC(0) = 0 on every draw (any linear C, any d)", "(33)",
         vec(-gamma * C * (L * xs - b))),
        ("(5) = (26) per client: C_i∇f_i(C_i x) = C_iL_iC_i x − C_ib_i, so (1/n)Σ_i … = B̄x − (Cb)‾ for any n "
         "(any d)", "(26)", vec(C * (Li * (C * x) - bi) - (C * Li * C * x - C * bi), C)),
        ("interpolation (b_i = 0): x* = L̄⁻¹·0 = 0 and g(x*) = B̄x* − (Cb)‾ = 0 on every draw (any d)", "(35)",
         vec(L.I * zero) + vec(C * Li * C * (L.I * zero) - C * zero, C)),
        ("(35) literally: ∇f(Cx*) = L̄(C − I)x* (since ∇f(x*) = 0; any d)", "(35)",
         vec(L * C * xs - b - L * (C - sp.Identity(dim)) * xs)),
        ("(35) literally, in mean: E[∇f(Cx*)] = L̄E[C]x* − b̄ = 0 for unbiased C (E[C] = I; any d)", "(35)",
         vec((L * EC * xs - b).xreplace({EC: sp.Identity(dim)}))),
        ("(35): ‖x⁺ − x*‖² = γ²‖g(x*)‖² on every draw, so E‖x⁺ − x*‖² = γ²E‖g(x*)‖² (any d)", "(35)",
         quadratic_forms((-gamma * gv).T * (-gamma * gv)) - gamma**gamma_power * quadratic_forms(gv.T * gv)),
    ]
    return tuple(out)


def _exact_instance() -> tuple[list[sp.Matrix], list[sp.Matrix]]:
    """A heterogeneous n = 2, d = 4 instance with rational ``L_i = A_iA_iᵀ + I/10`` and integer ``b_i``."""
    rng = np.random.default_rng(5)
    Ls, bs = [], []
    for _ in range(2):
        A = sp.Matrix(4, 4, [int(v) for v in rng.integers(-3, 4, 16)]) / 2
        Ls.append(A * A.T + sp.eye(4) / 10)
        bs.append(sp.Matrix([int(v) for v in rng.integers(-3, 4, 4)]))
    return Ls, bs


@cache
def _exact_certificates() -> tuple[tuple[str, str, bool, str], ...]:
    """Exact rational enumeration on a heterogeneous instance (n = 2, d = 4): E‖g(x*)‖² for Perm-2, Rand-2 and
    identity, and E‖∇f(Cx*)‖² for Rand-2 (literal (35))."""
    Ls, bs = _exact_instance()
    Lbar, bbar = (Ls[0] + Ls[1]) / 2, (bs[0] + bs[1]) / 2
    xs = Lbar.LUsolve(bbar)
    rows, ok = [], True
    for label, sk, positive in (("Perm-2", Permutation(2, 4), True), ("Rand-2", RandQ(2, 4, 2), True),
                                ("identity", Identity(2, 4), False)):
        second, mean = sp.Integer(0), sp.zeros(4, 1)
        for p, Cs in exact_outcomes(sk):
            g = sum((C * (L * (C * xs) - b) for C, L, b in zip(Cs, Ls, bs, strict=True)), sp.zeros(4, 1)) / 2
            second += p * (g.T * g)[0]
            mean += p * g
        ok = ok and bool(second > 0 and any(v != 0 for v in mean) if positive else second == 0)
        rows.append(f"{label}: E‖g(x*)‖² = {second} ≈ {float(second):.4g}, "
                    f"‖E g(x*)‖² ≈ {float((mean.T * mean)[0]):.4g}")
    first = ("(35) one IST step from x* moves away: E‖g(x*)‖² > 0 and E[g(x*)] ≠ 0 (Perm-2, Rand-2), E‖g(x*)‖² = 0 "
             "(identity)", "(35)",
             bool(ok), "; ".join(rows) + " (exact rationals, n = 2, d = 4)")
    ms = sp.Integer(0)
    for p, Cs in exact_outcomes(RandQ(1, 4, 2)):
        gr = Lbar * Cs[0] * xs - bbar
        ms += p * (gr.T * gr)[0]
    literal = ("(35) literally, Rand-2: E‖∇f(Cx*)‖² > 0 on the instance (while E[∇f(Cx*)] = 0)", "(35)",
               bool(ms > 0), f"E‖∇f(Cx*)‖² = {ms} ≈ {float(ms):.4g} (exact rationals)")
    return first, literal


@cache
def _float_cross_check() -> tuple[bool, str]:
    """Float enumeration of E‖g(x*)‖² (ist_step_second_moment) against SketchMoments' closed forms."""
    prob = heterogeneous(2, 4, 0.8, seed=5)
    xs = prob.x_star
    sk = Permutation(2, 4)
    second, _ = ist_step_second_moment(prob, sk, xs)
    mo = SketchMoments(prob, sk)
    via = float(xs @ mo.BMB(np.eye(4)) @ xs - 2 * np.trace(mo.BmCb(xs)) + np.trace(mo.CbCb))
    return abs(second - via) <= 1e-9 * max(1.0, second), f"enumeration {second:.6g} vs SketchMoments {via:.6g}"


def derive(variance_coef: sp.Expr = omega, gamma_power: sp.Expr = GAMMA_POWER) -> Derivation:
    """(34) with ``E‖C(g) − g‖² ≤ variance_coef·‖g‖²`` (ω; an expression in the symbol ``omega``, compared with
    the sharp ω of Rand-q and Perm-q for every d, q, n) and (35) with ``E‖x⁺ − x*‖² = γ^gamma_power E‖g(x*)‖²``
    (2). Constant-free enumerations and certificates are computed once (cached) and re-checked on every call."""
    variance_coef, gamma_power = sp.sympify(variance_coef), sp.sympify(gamma_power)
    D = Derivation("(32)–(35) compressed GD vs IST", ("(32)", "(33)", "(34)", "(35)"),
                   constants={"variance_coef": variance_coef, "gamma_power": gamma_power})
    # (34), general: E‖Cg − g‖² = v‖g‖² for every g (def1's sums), then the stated constant against the sharp v
    r = sp.Symbol("r", integer=True, nonnegative=True)  # d = q + r: q ≤ d
    for label, (p, s, size, w, unit) in {
            "Rand-q": (INCL_RAND, SCALE_RAND, d, OMEGA_RAND, q), "Perm-q": (INCL_PERM, SCALE_PERM, q * n, OMEGA_PERM, 1)
    }.items():
        vec, v = vector_moments(p, s, size)
        D.symbolic(f"{label}: E‖Cg − g‖² = Σ_j E[(c_j − 1)²]g_j² = ω‖g‖² for every g (any size)", "(34)",
                   vec.col_join(sp.Matrix([v - w])), f"ω = {w}", reach=GENERAL)
        D.bound(f"{label}: (34) E‖Cg − g‖² ≤ variance_coef·‖g‖² for every g; the sharp constant is ω"
                + (" (compared as q·ω, d = q + r)" if unit != 1 else ""), "(34)",
                sp.expand(unit * variance_coef.subs(omega, w).subs(d, q + r)), sp.expand(unit * v.subs(d, q + r)),
                reach=GENERAL)
    # (34) at fixed sizes: enumeration of the library's supports vs the engine, and the bound (evidence)
    residuals, var_cases = _variance_residuals()
    for (name, eq, res), (label, w, var, g2, sizes) in zip(residuals, var_cases, strict=True):
        D.symbolic(name, eq, res, reach=at(**sizes), role="evidence")
        c = variance_coef.subs(omega, w)
        D.symbolic_true(f"{label}: enumerated E‖Cg − g‖² ≤ variance_coef·‖g‖² for every g", "(34)",
                        sp.Ge(sp.expand(c * g2 - var), 0), f"variance_coef = {variance_coef} = {c} at ω = {w}",
                        reach=at(**sizes), role="evidence")
    # x* fixed point of compressed GD; IST estimator (5) = B̄x − (Cb)‾; one step from x*
    for name, eq, res in _general_residuals(gamma_power):
        D.symbolic(name, eq, res, f"γ power {gamma_power}" if "γ²" in name else "", reach=GENERAL)
    for name, eq, ok, detail in _exact_certificates():  # "moves away" is an existence claim: an exact witness
        D.numeric(name, eq, ok, detail, exact=True, role="witness")
    D.numeric("float enumeration of E‖g(x*)‖² (Perm-2) = SketchMoments' closed forms", "(35)", *_float_cross_check(),
              role="evidence")
    D.latex["variance"] = r"\mathbb{E}\|C(g) - g\|^2 \le " + tex_times(variance_coef, r"\|g\|^2")
    return D
