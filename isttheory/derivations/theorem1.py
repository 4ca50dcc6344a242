"""Theorem 1 (14)–(16): interpolation (``b_i = 0``, ``x* = 0``), general sketches.

One step of (2) is ``x⁺ = x − γB̄x``. For the quadratic ``f(x) = ½xᵀL̄x``,
exactly, ``f(x⁺) = f(x) − γxᵀL̄B̄x + (γ²/2)xᵀB̄L̄B̄x``. ``B̄`` is symmetric, so
``xᵀL̄B̄x = ½xᵀ(L̄B̄ + B̄L̄)x`` and, the draw being independent of ``x``, by linearity of ``E``

    E f(x⁺) = f(x) − γ xᵀW̄x + (γ²/2) xᵀE[B̄L̄B̄]x,     W̄ = ½E[L̄B̄ + B̄L̄].

With (14) ``E[B̄L̄B̄] ⪯ θW̄`` (write ``xᵀE[B̄L̄B̄]x = θw − r``, ``r ≥ 0``,
``w = xᵀW̄x ≥ 0``) and ``0 < γ ≤ 1/θ``:

    E f(x⁺) = f(x) − γ(1 − γθ/2)w − (γ²/2)r ≤ f(x) − (γ/2)w,

the last gap being ``(γ/2)(1 − γθ)w + (γ²/2)r ≥ 0``. Since ``∇f = L̄x``,
``w = ‖∇f(x)‖²_{L̄⁻¹W̄L̄⁻¹}``; summing the per-step bound over ``k = 0 … K − 1`` (symbolic ``K``,
telescoping) gives (15). With ``‖x‖²_{L̄} = 2f(x)`` and the Rayleigh bound ``w ≥ λ_min‖x‖²_{L̄}``
(``y = L̄^{1/2}x``, ``M = L̄^{-1/2}W̄L̄^{-1/2} = QΛQᵀ``):
``E‖x⁺‖²_{L̄} ≤ ‖x‖²_{L̄} − γw ≤ (1 − γλ_min(L̄^{-1/2}W̄L̄^{-1/2}))‖x‖²_{L̄}``, and induction over ``k`` gives (16).

Reach. Every decisive step is *general*: the matrix steps are identities of SymPy matrix expressions
(``MatrixSymbol`` of symbolic size ``d``, reduced to polynomials in the bilinear forms ``uᵀMv`` by
:func:`quadratic_forms`), the rest scalar identities in ``γ, θ, w, r, λ, K``. What the matrix steps
take as given, and say so: the symmetry of ``L̄``, ``B̄``, ``W̄``, ``E[B̄L̄B̄]``; linearity of ``E`` with the
draw independent of ``x``; the spectral theorem for the symmetric ``M`` (``QQᵀ = I``, ``Λ = λ_min I + Δ``,
``Δ`` diagonal ⪰ 0). Fixed-size steps (the engine's closed forms for Perm-1 against enumeration at
``n = d ∈ {2, 3}``, an explicit ``d = 2`` spectral certificate) and float checks on instances are
*evidence*.

Constants (mutation knobs): ``step_bound`` (γ ≤ step_bound/θ, paper 1; sharp ``2(1 − descent)``),
``descent`` ((15)'s ``2/(γK)`` is ``1/(descent·γK)``, paper ½; a smaller descent is a looser, valid (15)),
``rate`` (contraction ``1 − rate·λ_min``, paper γ; sharp ``(2 − step_bound)γ``, the decrease of
``E‖x⁺‖²_{L̄}`` guaranteed for every ``γ ≤ step_bound/θ``), ``lin_coef`` and ``quad_coef`` (the one-step
identity's ``γ`` and ``γ²/2``, which also enter ``E f(x⁺)`` in the later steps), ``w_weight`` (the ``½`` in
``W̄``) and ``q_orthogonal`` (the Rayleigh step uses ``Qᵀ = Q⁻¹``; ``False`` drops it, and the step fails).

The drop ``f(x⁰) − E f(x^K)`` in (15) is the telescoped sum of the one-step expectations (symbolic ``K``), so
every knob of the one-step identity flows into it; premises (``Derivation.premises``): the spectral theorem,
symmetry, linearity of ``E`` with the draw independent of the iterate.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import scipy.linalg as sla
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..generators import interpolation
from ..moments import SketchMoments
from ..sketches import Identity, Permutation
from ..sketches.base import Sketch
from ..symbolic import contractions
from .base import GENERAL, Derivation, at, stack, symbolic_expectation, symmetric_matrix, vector
from .matrix_algebra import dim, quadratic_forms

g_ = sp.Symbol("gamma", positive=True)
theta = sp.Symbol("theta", positive=True)
lam = sp.Symbol("lambda_min", nonnegative=True)
#: the one-step identity's coefficients and the weight in W̄ = ½E[L̄B̄ + B̄L̄] (defaults of the mutation knobs)
LIN_COEF, QUAD_COEF, W_WEIGHT = g_, g_**2 / 2, sp.Rational(1, 2)

# ----------------------------------------------------------------------------- fixed-size evidence
def _f(L: sp.Matrix, x: sp.Matrix) -> sp.Expr:
    return (x.T * L * x)[0] / 2


@lru_cache(maxsize=4)
def _expected_one_step_perm1(n: int) -> sp.Expr:
    """Perm-1, n = d, symbolic L_i: (1/n!)Σ_π f(x − γB̄_πx) − [f − γxᵀW̄x + (γ²/2)xᵀE[B̄L̄B̄]x]
    with W̄ and E[B̄L̄B̄] from the closed-form engine."""
    d = n
    Ls = [symmetric_matrix(f"L{i}", d) for i in range(n)]
    Lb = sum(Ls, sp.zeros(d, d)) / n
    x = vector("x", d)
    sk = Permutation(n, d)
    EB = sp.Matrix(symbolic_expectation(contractions.B, sk, [stack(Ls)]).tolist()) / n
    BLB = sp.Matrix(symbolic_expectation(contractions.BMB, sk, [stack(Ls), np.array(Lb.tolist(), dtype=object),
                                                      stack(Ls)]).tolist()) / n**2
    W = (Lb * EB + EB * Lb) / 2
    perms = list(itertools.permutations(range(d)))
    total = sp.Integer(0)
    for perm in perms:
        Bp = sp.zeros(d, d)
        for i, j in enumerate(perm):
            Bp[j, j] = n * Ls[i][j, j]  # C_i L_i C_i / n = n (L_i)_jj e_j e_jᵀ
        total += _f(Lb, x - g_ * Bp * x)
    formula = _f(Lb, x) - g_ * (x.T * W * x)[0] + g_**2 / 2 * (x.T * BLB * x)[0]
    return sp.expand(total / len(perms) - formula)


@lru_cache(maxsize=1)
def _rayleigh_certificate_d2() -> tuple[sp.Matrix, sp.Matrix]:
    """d = 2, L̄ = RᵀR ≻ 0 and W̄ = RᵀQΛQᵀR (Q a rotation in the rational parametrisation): residuals of
    R⁻ᵀW̄R⁻¹ = QΛQᵀ and of the certificate W̄ − λ_min L̄ = δ·vvᵀ, v = RᵀQe₂."""
    r11, r22 = sp.symbols("r11 r22", positive=True)
    r12, t, lm = sp.symbols("r12 t lambda_min", real=True)
    dl = sp.Symbol("delta", nonnegative=True)
    R = sp.Matrix([[r11, r12], [0, r22]])
    c, s = (1 - t**2) / (1 + t**2), 2 * t / (1 + t**2)
    Q = sp.Matrix([[c, -s], [s, c]])
    Lam = sp.diag(lm, lm + dl)
    W = R.T * Q * Lam * Q.T * R
    v = R.T * Q * sp.Matrix([0, 1])
    spec = (R.inv().T * W * R.inv() - Q * Lam * Q.T).applyfunc(sp.cancel)
    sos = (W - lm * R.T * R - dl * v * v.T).applyfunc(sp.cancel)
    return spec, sos


# ----------------------------------------------------------------------------- numeric helpers (also used by notebooks)
def exact_one_step(mo: SketchMoments, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Quadratic forms of ``E f(x⁺)`` and ``E‖x⁺‖²_{L̄}`` (interpolation):
    ``½(L̄ − 2γW̄ + γ²E[B̄L̄B̄])`` and ``L̄ − 2γW̄ + γ²E[B̄L̄B̄]``."""
    L = mo.problem.L_bar
    M = L - 2 * gamma * mo.W + gamma**2 * mo.BLB
    return 0.5 * M, M


def theta_star(mo: SketchMoments) -> float | None:
    """Smallest θ with (14): ``λ_max`` of the pencil (E[B̄L̄B̄], W̄); ``None`` unless ``W̄ ≻ 0``."""
    W = mo.W
    ev = np.linalg.eigvalsh(W)
    if ev[0] <= 1e-10 * max(1.0, ev[-1]):
        return None
    return float(sla.eigh(mo.BLB, W, eigvals_only=True)[-1])


def enumerate_one_step(mo: SketchMoments, x: np.ndarray, gamma: float) -> float:
    """``E f(x⁺)`` by enumerating the sketch's finite support (the oracle)."""
    sup = mo.sketch.support()
    C = sup.draw.dense(mo.d)
    Bk = np.einsum("knij,njl,knlm->kim", C, mo.problem.L, C) / mo.n
    xp = x[None, :] - gamma * np.einsum("kij,j->ki", Bk, x)
    return float(sup.probs @ mo.problem.f(xp))


def _sketches(n: int, d: int) -> list[Sketch]:
    out: list[Sketch] = [Identity(n, d)]
    if d % n == 0:
        out.append(Permutation(n, d))
    return out


def lemma_constants() -> tuple[sp.Expr, sp.Expr]:
    """``(descent, rate)`` read symbolically from the lemma files ``thm1-eq15`` and ``thm1-eq16``, the
    statements the tools evaluate (:mod:`isttheory.bounds`): (15)'s right side is
    ``(f(x⁰) − E f(x^K))/(descent·γK)`` and (16)'s one-step factor is ``1 − rate·λ``."""
    from ..bounds import symbolic

    K, f0, fK, lam_, d0 = sp.symbols("K f0 fK lambda d0", positive=True)
    rhs15 = symbolic("thm1-eq15", "rhs", {"gamma": g_, "K": K}, {"E_f": {0: f0, K: fK}})
    descent = sp.simplify((f0 - fK) / (g_ * K * rhs15))
    factor = symbolic("thm1-eq16", "rhs", {"gamma": g_, "K": sp.Integer(1), "rate": lam_},
                      {"E_dist2_L": {0: d0}}) / d0
    rate = sp.simplify(-sp.diff(factor, lam_))
    if descent.has(f0, fK, K) or sp.simplify(factor - (1 - rate * lam_)) != 0:
        raise ValueError("thm1-eq15/thm1-eq16 are not of Theorem 1's shape")
    return descent, rate


# ----------------------------------------------------------------------------- the derivation
def derive(step_bound: sp.Expr | int = 1, descent: sp.Expr | None = None, rate: sp.Expr | None = None,
           lin_coef: sp.Expr = LIN_COEF, quad_coef: sp.Expr = QUAD_COEF, w_weight: sp.Expr = W_WEIGHT,
           q_orthogonal: bool = True) -> Derivation:
    """Check Theorem 1 (14)–(16) for ``0 < γ ≤ step_bound/θ``, per-step decrease
    ``descent·γ·‖∇f‖²_{L̄⁻¹W̄L̄⁻¹}`` (so (15) reads ``(f(x⁰) − E f(x^K))/(descent·γK)``) and the
    (16) factor ``1 − rate·λ_min(L̄^{-1/2}W̄L̄^{-1/2})``. Paper: ``step_bound = 1``, ``descent = ½``, ``rate = γ``;
    the defaults of ``descent`` and ``rate`` are read from the lemma files (:func:`lemma_constants`).
    ``lin_coef``, ``quad_coef``: the one-step identity ``f(x − γB̄x) = f − lin·xᵀL̄B̄x + quad·xᵀB̄L̄B̄x``;
    ``w_weight``: ``W̄ = w_weight·E[L̄B̄ + B̄L̄]``. Every decisive step is general (module docstring)."""
    if descent is None or rate is None:
        d_l, r_l = lemma_constants()
        descent = d_l if descent is None else descent
        rate = r_l if rate is None else rate
    step_bound, descent, rate = sp.sympify(step_bound), sp.sympify(descent), sp.sympify(rate)
    lin_coef, quad_coef, w_weight = sp.sympify(lin_coef), sp.sympify(quad_coef), sp.sympify(w_weight)
    D = Derivation("Theorem 1", ("(14)", "(15)", "(16)"),
                   constants={"step_bound": step_bound, "descent": descent, "rate": rate, "lin_coef": lin_coef,
                              "quad_coef": quad_coef, "w_weight": w_weight, "q_orthogonal": q_orthogonal})
    D.premise("L̄, B̄ (so E[B̄], E[B̄L̄B̄]) are symmetric, and the draw at step k is independent of x^k: E is linear "
              "(E[xᵀB̄x] = xᵀE[B̄]x, E[xᵀB̄L̄B̄x] = xᵀE[B̄L̄B̄]x) and E f(x^{k+1}) = E[E_k f(x^{k+1})] (tower rule)")

    # 1. one-step identity and expectation, matrix expressions of any size d
    L, B, x = sp.MatrixSymbol("L", dim, dim), sp.MatrixSymbol("B", dim, dim), sp.MatrixSymbol("x", dim, 1)
    EB, EBLB = sp.MatrixSymbol("EB", dim, dim), sp.MatrixSymbol("EBLB", dim, dim)
    sym = (L, B, EB, EBLB)

    def f(z: MatrixExpr) -> MatrixExpr:
        return z.T * L * z / 2

    xp = x - g_ * B * x
    one = f(xp) - (f(x) - lin_coef * x.T * L * B * x + quad_coef * x.T * B * L * B * x)
    D.symbolic("f(x − γB̄x) = f(x) − γxᵀL̄B̄x + (γ²/2)xᵀB̄L̄B̄x (L̄, B̄ symmetric d×d, any d)", "(15)",
               quadratic_forms(one, sym), f"coefficients {lin_coef}, {quad_coef}", reach=GENERAL)
    D.symbolic("xᵀL̄B̄x = ½xᵀ(L̄B̄ + B̄L̄)x for symmetric L̄, B̄ (any d)", "(15)",
               quadratic_forms(x.T * L * B * x - x.T * (L * B + B * L) * x / 2, sym), reach=GENERAL)

    def expect(mat: sp.Basic) -> sp.Basic:
        """E of one product, by linearity with the draw independent of x: B̄ → E[B̄], B̄L̄B̄ → E[B̄L̄B̄]."""
        args = list(mat.args) if isinstance(mat, sp.MatMul) else [mat]
        if args.count(B) == 1:
            return sp.MatMul(*[EB if a == B else a for a in args])
        if args.count(B) == 2:
            i = args.index(B)
            if args[i: i + 3] != [B, L, B]:
                raise ValueError(f"unexpected product {mat}")
            return sp.MatMul(*args[:i], EBLB, *args[i + 3:])
        return mat

    W = w_weight * (L * EB + EB * L)
    D.symbolic("E f(x⁺) = f(x) − γxᵀW̄x + (γ²/2)xᵀE[B̄L̄B̄]x, W̄ = ½E[L̄B̄ + B̄L̄] (linearity of E, any d)", "(15)",
               quadratic_forms(f(xp), sym, expect)
               - quadratic_forms(f(x) - g_ * x.T * W * x + g_**2 / 2 * x.T * EBLB * x, sym),
               f"W̄ weight {w_weight}; the draw is independent of x", reach=GENERAL)
    for n0 in (2, 3):
        D.symbolic(f"engine's W̄, E[B̄L̄B̄] for Perm-1 agree with all {n0}! permutations (symbolic L_i)", "(15)",
                   _expected_one_step_perm1(n0), reach=at(n=n0, d=n0), role="evidence")

    # 2. descent under (14) and γ ≤ step_bound/θ: symbols f, w = xᵀW̄x ≥ 0, s = xᵀE[B̄L̄B̄]x = θw − r, r ≥ 0;
    #    E f(x⁺) with the one-step identity's own coefficients (lin_coef, quad_coef flow through)
    fx, w, r = sp.Symbol("f", real=True), sp.Symbol("w", nonnegative=True), sp.Symbol("r", nonnegative=True)
    Ef = fx - lin_coef * w + quad_coef * (theta * w - r)
    D.symbolic("(14) ⇒ E f(x⁺) = f(x) − γ(1 − γθ/2)w − (γ²/2)r, r = xᵀ(θW̄ − E[B̄L̄B̄])x ≥ 0", "(14)",
               Ef - (fx - g_ * (1 - g_ * theta / 2) * w - g_**2 / 2 * r), reach=GENERAL)
    gap = (fx - descent * g_ * w) - Ef
    coef = 1 - descent - g_ * theta / 2
    D.symbolic("certificate: f − descent·γw − E f(x⁺) = γw(1 − descent − γθ/2) + (γ²/2)r", "(15)",
               gap - (g_ * w * coef + g_**2 / 2 * r), f"descent = {descent}", reach=GENERAL)
    # coef ≥ 0 ⇔ γθ ≤ 2(1 − descent): the sharp step bound (r = 0 at the top eigenvector of (E[B̄L̄B̄], W̄) for θ = θ*)
    D.bound("step size: 1 − descent − γθ/2 ≥ 0 for all 0 < γ ≤ step_bound/θ; sharp step_bound = 2(1 − descent)",
            "(15)", step_bound, 2 * (1 - descent), valid_if="<=", reach=GENERAL)

    # 3. weighted gradient norm, telescoping into (15)
    Wm = sp.MatrixSymbol("W", dim, dim)
    grad = L * x
    D.symbolic("xᵀW̄x = ‖∇f(x)‖²_{L̄⁻¹W̄L̄⁻¹} since ∇f(x) = L̄x (any d)", "(15)",
               quadratic_forms(grad.T * L.I * Wm * L.I * grad - x.T * Wm * x, (L, Wm)), reach=GENERAL)
    k, K = sp.Symbol("k", integer=True, nonnegative=True), sp.Symbol("K", integer=True, positive=True)
    F = sp.Function("F")  # F(k) = E f(x^k)
    wk, rk = sp.Function("w", nonnegative=True), sp.Function("r", nonnegative=True)  # E w_k, E r_k ≥ 0
    D.symbolic("telescoping: Σ_{k<K} (E f(x^k) − E f(x^{k+1})) = f(x⁰) − E f(x^K) (symbolic K)", "(15)",
               sp.Sum(F(k) - F(k + 1), (k, 0, K - 1)).doit() - (F(0) - F(K)), reach=GENERAL)
    # the drop f(x⁰) − E f(x^K) = Σ_k (E f(x^k) − E f(x^{k+1})), each term from the one-step expectation above
    # (E f(x^{k+1}) = E f(x^k) − …, by the tower rule and linearity): never typed by hand
    drop = sp.Sum(F(k) - Ef.subs({fx: F(k), w: wk(k), r: rk(k)}, simultaneous=True), (k, 0, K - 1))
    avg = sp.Sum(wk(k), (k, 0, K - 1)) / K
    summand = coef * wk(k) + g_ / 2 * rk(k)  # = (step 7's certificate at step k)/γ
    D.symbolic("(15) summed over k < K (symbolic K): (f(x⁰) − E f(x^K))/(descent·γK) − (1/K)Σ_k E w_k "
               "= Σ_k [(1 − descent − γθ/2)E w_k + (γ/2)E r_k]/(descent·K)", "(15)",
               drop / (descent * g_ * K) - avg - sp.Sum(summand, (k, 0, K - 1)) / (descent * K),
               f"descent = {descent}; the drop is the sum of the one-step expectations", reach=GENERAL)
    e_ = sp.Symbol("e", nonnegative=True)  # γθ = step_bound − e, e ≥ 0: the step-size condition
    c0 = 1 - descent - step_bound / 2
    D.symbolic_true("… ≥ 0: descent > 0 and every summand ≥ 0 for γθ ≤ step_bound (γθ = step_bound − e, e ≥ 0), "
                    "so (15) holds with 1/(descent·γK)", "(15)",
                    sp.And(sp.Gt(descent, 0), sp.Ge((c0 + e_ / 2) * w + g_ / 2 * r, 0)),
                    f"descent = {descent}; summand (1 − descent − step_bound/2 + e/2)w + (γ/2)r, "
                    f"1 − descent − step_bound/2 = {c0}", reach=GENERAL)

    # 4. (16): y = L̄^{1/2}x, M = L̄^{-1/2}W̄L̄^{-1/2} = QΛQᵀ (spectral theorem), Rayleigh bound, contraction, induction
    D.premise("spectral theorem (cited): the symmetric M = L̄^{-1/2}W̄L̄^{-1/2} is QΛQᵀ with Q orthogonal "
              "(Qᵀ = Q⁻¹) and Λ = λ_min I + Δ, Δ diagonal ⪰ 0; likewise L̄ ≻ 0 has a symmetric square root "
              "L̄^{1/2} ≻ 0")
    S, Q, Dl = (sp.MatrixSymbol(s, dim, dim) for s in ("S", "Q", "Delta"))
    y = S * x
    M = S.I * Wm * S.I
    D.symbolic("change of variables y = L̄^{1/2}x: xᵀW̄x = yᵀ(L̄^{-1/2}W̄L̄^{-1/2})y and ‖y‖² = ‖x‖²_{L̄} (any d)",
               "(16)", quadratic_forms(y.T * M * y - x.T * Wm * x, (S, Wm))
               + quadratic_forms(y.T * y - x.T * (S * S) * x, (S,)), "L̄ = S², S symmetric ≻ 0", reach=GENERAL)
    yv = sp.MatrixSymbol("y", dim, 1)
    Mq = Q * (lam * sp.Identity(dim) + Dl) * Q.T  # M = QΛQᵀ, Λ = λ_min I + Δ, Δ diagonal ⪰ 0
    rayleigh = (yv.T * Mq * yv - lam * yv.T * yv) - (Q.T * yv).T * Dl * (Q.T * yv)
    orthogonal = {sp.Transpose(Q): sp.Inverse(Q)} if q_orthogonal else {}  # QQᵀ = I, used (not typed in)
    D.symbolic("Rayleigh: yᵀMy − λ_min‖y‖² = (Qᵀy)ᵀΔ(Qᵀy) ≥ 0 for M = Q(λ_min I + Δ)Qᵀ, using Qᵀ = Q⁻¹ (any d)",
               "(16)", quadratic_forms(rayleigh.xreplace(orthogonal), (Dl,)),
               "Q orthogonal and Δ diagonal ⪰ 0 by the spectral theorem (premise); so w ≥ λ_min‖x‖²_{L̄}"
               + ("" if q_orthogonal else "; Q NOT taken orthogonal (mutation)"), reach=GENERAL)
    spec, sos = _rayleigh_certificate_d2()
    D.symbolic("d = 2, explicitly: R⁻ᵀW̄R⁻¹ = QΛQᵀ and W̄ − λ_min L̄ = δ·vvᵀ ⪰ 0 (every rotation Q, L̄ = RᵀR)",
               "(16)", spec.col_join(sos), reach=at(d=2), role="evidence")
    N = sp.Symbol("N", nonnegative=True)  # ‖x‖²_L̄ = 2 f(x)
    # E‖x⁺‖²_L̄ = 2E f(x⁺) ≤ N − (2 − step_bound)γw for every γθ ≤ step_bound (γθ = step_bound − e, e ≥ 0)
    c16 = (2 - step_bound) * g_
    D.symbolic("E‖x⁺‖²_{L̄} = 2E f(x⁺): (N − (2 − step_bound)γw) − 2E f(x⁺) = γew + γ²r ≥ 0 for γθ = step_bound − e",
               "(16)", (N - c16 * w) - 2 * Ef.subs({fx: N / 2, theta: (step_bound - e_) / g_}, simultaneous=True)
               - (g_ * e_ * w + g_**2 * r), f"step_bound = {step_bound}", reach=GENERAL)
    # claimed ≤ (1 − rate·λ)N; difference = c16·(w − λN) + (c16 − rate)λN
    diff = (1 - rate * lam) * N - (N - c16 * w)
    D.symbolic("certificate: (1 − rate·λ)N − (N − (2 − step_bound)γw) = (2 − step_bound)γ(w − λN) "
               "+ ((2 − step_bound)γ − rate)λN", "(16)",
               diff - (c16 * (w - lam * N) + (c16 - rate) * lam * N), reach=GENERAL)
    D.bound("(16) factor: (2 − step_bound)γ − rate ≥ 0; sharp rate = (2 − step_bound)γ", "(16)", rate, c16,
            valid_if="<=", reach=GENERAL)
    a, rho = sp.Function("a"), sp.Symbol("rho", nonnegative=True)  # a(k) = E‖x^k‖²_L̄, ρ = 1 − rate·λ_min
    D.symbolic("induction: ρ^{k+1}a₀ − a_{k+1} = ρ(ρ^k a₀ − a_k) + (ρa_k − a_{k+1}), both ≥ 0, so a_k ≤ ρ^k a₀",
               "(16)", rho ** (k + 1) * a(0) - a(k + 1) - (rho * (rho**k * a(0) - a(k)) + (rho * a(k) - a(k + 1))),
               "ρ ≥ 0 since 0 ≤ E‖x⁺‖²_{L̄} ≤ ρ‖x‖²_{L̄}", reach=GENERAL)

    # 5. evidence on instances (floats): enumeration = closed form; θ*, (15) per step and (16)
    worst_enum = 0.0
    for n, d in ((2, 4), (3, 3), (2, 2)):
        prob = interpolation(n, d, 0.7, seed=10 + d)
        for sk_ in _sketches(n, d):
            mo = SketchMoments(prob, sk_)
            Qf, _ = exact_one_step(mo, 0.07)
            for xv in (np.ones(d), np.arange(1.0, d + 1)):
                e = enumerate_one_step(mo, xv, 0.07)
                worst_enum = max(worst_enum, abs(e - xv @ Qf @ xv) / max(1.0, abs(e)))
    D.numeric("E f(x⁺) by enumerating Perm-q / identity supports = f − γxᵀW̄x + (γ²/2)xᵀE[B̄L̄B̄]x (SketchMoments)",
              "(15)", worst_enum <= 1e-10, f"max relative error {worst_enum:.2g} ((n, d) ∈ {{(2,4), (3,3), (2,2)}})",
              role="evidence")

    sb, dsc = float(step_bound), float(descent)
    used, worst15, worst16, worst_ray, skipped = 0, np.inf, np.inf, np.inf, 0
    for seed in range(6):
        for n, d in ((2, 4), (3, 3)):
            prob = interpolation(n, d, 0.6, seed=seed, cond=5.0)
            for sk_ in _sketches(n, d):
                mo = SketchMoments(prob, sk_)
                th = theta_star(mo)
                if th is None:
                    skipped += 1
                    continue
                used += 1
                Lb = prob.L_bar
                lmin = float(sla.eigh(mo.W, Lb, eigvals_only=True)[0])
                worst_ray = min(worst_ray,
                                float(np.linalg.eigvalsh(mo.W - lmin * Lb)[0]) / float(np.linalg.norm(Lb, 2)))
                for frac in (1.0, 0.5):
                    gam = frac * sb / th
                    Qf, Mf = exact_one_step(mo, gam)
                    # (15) per step for every x: E f(x⁺) − f(x) + descent·γ·xᵀW̄x ≤ 0 ⇔ Q − ½L̄ + descent·γW̄ ⪯ 0
                    P = Qf - 0.5 * Lb + dsc * gam * mo.W
                    worst15 = min(worst15, -np.linalg.eigvalsh(P)[-1] / np.linalg.norm(Lb, 2))
                    contraction = float(sla.eigh(Mf, Lb, eigvals_only=True)[-1])
                    factor = 1 - float(rate.subs(g_, gam)) * lmin
                    worst16 = min(worst16, factor - contraction)
    D.numeric("(15) per-step descent holds for all x at γ ∈ {1, ½}·step_bound/θ*, θ* = λ_max(E[B̄L̄B̄], W̄)", "(15)",
              used >= 10 and worst15 >= -1e-12,
              f"{used} (instance, sketch) pairs with W̄ ≻ 0 ({skipped} skipped), min margin {worst15:.3g}",
              role="evidence")
    D.numeric("Rayleigh certificate on the instances: λ_min(W̄ − λ_min(L̄^{-1/2}W̄L̄^{-1/2})L̄) ≥ 0", "(16)",
              used >= 10 and worst_ray >= -1e-10, f"min eigenvalue / ‖L̄‖ {worst_ray:.3g}", role="evidence")
    D.numeric("(16) factor bounds the exact one-step contraction λ_max(E[(I−γB̄)ᵀL̄(I−γB̄)], L̄)", "(16)",
              used >= 10 and worst16 >= -1e-12, f"min margin {worst16:.3g}", role="evidence")
    D.latex["descent"] = sp.latex(descent)
    D.latex["rate"] = sp.latex(1 - rate * sp.Symbol(r"\lambda_{\min}"))
    return D
