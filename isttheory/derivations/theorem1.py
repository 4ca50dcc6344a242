"""Theorem 1 (14)–(16): interpolation (``b_i = 0``, ``x* = 0``), general sketches.

One step of (2) is ``x⁺ = x − γB̄x``. For the quadratic ``f(x) = ½xᵀL̄x``,
exactly, ``f(x⁺) = f(x) − γxᵀL̄B̄x + (γ²/2)xᵀB̄L̄B̄x``. ``B̄`` is symmetric, so
``xᵀL̄B̄x = ½xᵀ(L̄B̄ + B̄L̄)x`` and by linearity

    E f(x⁺) = f(x) − γ xᵀW̄x + (γ²/2) xᵀE[B̄L̄B̄]x.

With (14) ``E[B̄L̄B̄] ⪯ θW̄`` (write ``xᵀE[B̄L̄B̄]x = θw − r``, ``r ≥ 0``,
``w = xᵀW̄x ≥ 0``) and ``0 < γ ≤ 1/θ``:

    E f(x⁺) = f(x) − γ(1 − γθ/2)w − (γ²/2)r ≤ f(x) − (γ/2)w,

the last gap being ``(γ/2)(1 − γθ)w + (γ²/2)r ≥ 0``. Since ``∇f = L̄x``,
``w = ‖∇f(x)‖²_{L̄⁻¹W̄L̄⁻¹}``; summing the per-step bound over ``k = 0 … K − 1`` (symbolic ``K``,
telescoping) gives (15). With ``‖x‖²_{L̄} = 2f(x)`` (the definition, not a step) and the Rayleigh bound
``w ≥ λ_min‖x‖²_{L̄}`` (certificate ``W̄ − λ_minL̄ = δvvᵀ ⪰ 0``):
``E‖x⁺‖²_{L̄} ≤ ‖x‖²_{L̄} − γw ≤ (1 − γλ_min(L̄^{-1/2}W̄L̄^{-1/2}))‖x‖²_{L̄}`` (16).

Constants (mutation knobs): ``step_bound`` (γ ≤ step_bound/θ, paper 1),
``descent`` (per-step decrease ``descent·γ·w``; (15)'s ``2/(γK)`` is
``1/(descent·γK)``, paper ½) and ``rate`` (contraction ``1 − rate·λ_min``,
paper γ).
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import scipy.linalg as sla
import sympy as sp

from ..generators import interpolation
from ..moments import SketchMoments
from ..sketches import Identity, Permutation
from ..sketches.base import Sketch
from ..symbolic import moments as MM
from .base import Derivation, stack, symbolic_expectation, symmetric_matrix, vector

g_ = sp.Symbol("gamma", positive=True)
theta = sp.Symbol("theta", positive=True)
lam = sp.Symbol("lambda_min", nonnegative=True)


def _f(L: sp.Matrix, x: sp.Matrix) -> sp.Expr:
    return (x.T * L * x)[0] / 2


@lru_cache(maxsize=1)
def _one_step_identity() -> tuple[sp.Expr, sp.Expr]:
    """(exact f(x − γBx) − claimed, xᵀLBx − ½xᵀ(LB+BL)x) for symbolic symmetric L, B (d = 3)."""
    d = 3
    L, B, x = symmetric_matrix("L", d), symmetric_matrix("B", d), vector("x", d)
    xp = x - g_ * B * x
    claimed = _f(L, x) - g_ * (x.T * L * B * x)[0] + g_**2 / 2 * (x.T * B * L * B * x)[0]
    sym = (x.T * L * B * x)[0] - (x.T * (L * B + B * L) * x)[0] / 2
    return sp.expand(_f(L, xp) - claimed), sp.expand(sym)


@lru_cache(maxsize=1)
def _expected_one_step_perm1() -> sp.Expr:
    """Perm-1, n = d = 3, symbolic L_i: (1/6)Σ_π f(x − γB̄_πx) − [f − γxᵀW̄x + (γ²/2)xᵀE[B̄L̄B̄]x]
    with W̄ and E[B̄L̄B̄] from the closed-form engine."""
    n = d = 3
    Ls = [symmetric_matrix(f"L{i}", d) for i in range(n)]
    Lb = sum(Ls, sp.zeros(d, d)) / n
    x = vector("x", d)
    sk = Permutation(n, d)
    EB = sp.Matrix(symbolic_expectation(MM.B, sk, [stack(Ls)]).tolist()) / n
    BLB = sp.Matrix(symbolic_expectation(MM.BMB, sk, [stack(Ls), np.array(Lb.tolist(), dtype=object),
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
def _norm_and_rayleigh() -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]:
    """d = 2 symbolic: ∇f = L̄x ⇒ xᵀW̄x = ‖∇f‖²_{L̄⁻¹W̄L̄⁻¹}; with L̄ = RᵀR (Cholesky), y = Rx:
    xᵀW̄x = yᵀ(R⁻ᵀW̄R⁻¹)y, ‖y‖² = ‖x‖²_L̄, and R⁻ᵀW̄R⁻¹ = R(L̄⁻¹W̄)R⁻¹ (same spectrum as L̄^{-1/2}W̄L̄^{-1/2})."""
    W, x = symmetric_matrix("W", 2), vector("x", 2)
    r11, r22 = sp.symbols("r11 r22", positive=True)
    r12 = sp.Symbol("r12", real=True)
    R = sp.Matrix([[r11, r12], [0, r22]])
    L = R.T * R
    grad = L * x
    norm = sp.simplify((grad.T * L.inv() * W * L.inv() * grad)[0] - (x.T * W * x)[0])
    y = R * x
    M = R.inv().T * W * R.inv()
    ray = sp.simplify((y.T * M * y)[0] - (x.T * W * x)[0])
    nrm = sp.expand((y.T * y)[0] - (x.T * L * x)[0])
    sim = sp.simplify(M - R * L.inv() * W * R.inv())
    return norm, ray, nrm, sim


@lru_cache(maxsize=1)
def _rayleigh_certificate() -> tuple[sp.Matrix, sp.Matrix]:
    """d = 2, L̄ = RᵀR ≻ 0 and W̄ = RᵀQΛQᵀR — every symmetric W̄ is of this form (eigendecomposition of
    R⁻ᵀW̄R⁻¹, Q a rotation in the rational parametrisation): residuals of R⁻ᵀW̄R⁻¹ = QΛQᵀ and of the SOS
    certificate W̄ − λ_min L̄ = δ·vvᵀ, v = RᵀQe₂."""
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

    K, f0, fK, lam, d0 = sp.symbols("K f0 fK lambda d0", positive=True)
    rhs15 = symbolic("thm1-eq15", "rhs", {"gamma": g_, "K": K}, {"E_f": {0: f0, K: fK}})
    descent = sp.simplify((f0 - fK) / (g_ * K * rhs15))
    factor = symbolic("thm1-eq16", "rhs", {"gamma": g_, "K": sp.Integer(1), "rate": lam}, {"E_dist2_L": {0: d0}}) / d0
    rate = sp.simplify(-sp.diff(factor, lam))
    if descent.has(f0, fK, K) or sp.simplify(factor - (1 - rate * lam)) != 0:
        raise ValueError("thm1-eq15/thm1-eq16 are not of Theorem 1's shape")
    return descent, rate


def derive(step_bound: sp.Expr | int = 1, descent: sp.Expr | None = None, rate: sp.Expr | None = None) -> Derivation:
    """Check Theorem 1 (14)–(16) for ``0 < γ ≤ step_bound/θ``, per-step decrease
    ``descent·γ·‖∇f‖²_{L̄⁻¹W̄L̄⁻¹}`` (so (15) reads ``(f(x⁰) − E f(x^K))/(descent·γK)``) and the
    (16) factor ``1 − rate·λ_min(L̄^{-1/2}W̄L̄^{-1/2})``. Paper: ``step_bound = 1``, ``descent = ½``, ``rate = γ``;
    the defaults of ``descent`` and ``rate`` are read from the lemma files (:func:`lemma_constants`)."""
    if descent is None or rate is None:
        d_l, r_l = lemma_constants()
        descent = d_l if descent is None else descent
        rate = r_l if rate is None else rate
    step_bound, descent, rate = sp.sympify(step_bound), sp.sympify(descent), sp.sympify(rate)
    D = Derivation("Theorem 1", ("(14)", "(15)", "(16)"),
                   constants={"step_bound": step_bound, "descent": descent, "rate": rate})

    # 1. exact one-step identity for quadratics and the symmetrisation
    one, sym = _one_step_identity()
    D.symbolic("f(x − γB̄x) = f(x) − γxᵀL̄B̄x + (γ²/2)xᵀB̄L̄B̄x (d = 3, symbolic L̄, B̄)", "(15)", one)
    D.symbolic("xᵀL̄B̄x = ½xᵀ(L̄B̄ + B̄L̄)x for symmetric B̄", "(15)", sym)
    # 2. expectation: enumeration over Perm-1 (n = d = 3, symbolic L_i) equals the engine's W̄, E[B̄L̄B̄] formula
    D.symbolic("E f(x⁺) = f(x) − γxᵀW̄x + (γ²/2)xᵀE[B̄L̄B̄]x (Perm-1, n = d = 3, all 6 permutations, symbolic L_i)",
               "(15)", _expected_one_step_perm1())

    # 3. descent under (14) and γ ≤ step_bound/θ: symbols f, w = xᵀW̄x ≥ 0, s = xᵀE[B̄L̄B̄]x = θw − r, r ≥ 0
    fx, w, r = sp.Symbol("f", real=True), sp.Symbol("w", nonnegative=True), sp.Symbol("r", nonnegative=True)
    Ef = fx - g_ * w + g_**2 / 2 * (theta * w - r)
    D.symbolic("(14) ⇒ E f(x⁺) = f(x) − γ(1 − γθ/2)w − (γ²/2)r, r ≥ 0", "(14)",
               Ef - (fx - g_ * (1 - g_ * theta / 2) * w - g_**2 / 2 * r))
    gap = (fx - descent * g_ * w) - Ef
    coef = 1 - descent - g_ * theta / 2
    D.symbolic("certificate: f − descent·γw − E f(x⁺) = γw(1 − descent − γθ/2) + (γ²/2)r", "(15)",
               gap - (g_ * w * coef + g_**2 / 2 * r), f"descent = {descent}")
    # γ = t·step_bound/θ with t ∈ (0, 1]; coef is affine in t, so check both ends
    at = [sp.simplify(coef.subs(g_, tt * step_bound / theta)) for tt in (0, 1)]
    D.symbolic_true("1 − descent − γθ/2 ≥ 0 on 0 < γ ≤ step_bound/θ (affine: both endpoints)", "(15)",
                    sp.And(sp.Ge(at[0], 0), sp.Ge(at[1], 0)),
                    f"endpoints {at[0]}, {at[1]} (step_bound = {step_bound}, descent = {descent})")

    # 4. weighted gradient norm, telescoping into (15)
    norm, ray, nrm, sim = _norm_and_rayleigh()
    D.symbolic("xᵀW̄x = ‖∇f(x)‖²_{L̄⁻¹W̄L̄⁻¹} since ∇f(x) = L̄x (d = 2)", "(15)", norm)
    # per step k (tower property + step 3): E f(x^k) − E f(x^{k+1}) = descent·γ·E w_k + s_k, s_k ≥ 0, with
    # w_k = ‖∇f(x^k)‖²_{L̄⁻¹W̄L̄⁻¹} ≥ 0 (W̄ ⪰ 0 under (14)); sum over k = 0 … K − 1 for symbolic K
    k, K = sp.Symbol("k", integer=True, nonnegative=True), sp.Symbol("K", integer=True, positive=True)
    F = sp.Function("F")  # F(k) = E f(x^k)
    wk, sk = sp.Function("w", nonnegative=True), sp.Function("s", nonnegative=True)
    D.symbolic("telescoping: Σ_{k<K} (E f(x^k) − E f(x^{k+1})) = f(x⁰) − E f(x^K) (symbolic K)", "(15)",
               sp.Sum(F(k) - F(k + 1), (k, 0, K - 1)).doit() - (F(0) - F(K)))
    drop = sp.Sum(descent * g_ * wk(k) + sk(k), (k, 0, K - 1))  # = f(x⁰) − E f(x^K) by the two steps above
    avg = sp.Sum(wk(k), (k, 0, K - 1)) / K
    slack = 2 * sp.Sum(sk(k), (k, 0, K - 1)) / (g_ * K)
    D.symbolic("(15): 2(f(x⁰) − E f(x^K))/(γK) − (1/K)Σ_k E w_k = (2·descent − 1)(1/K)Σ_k E w_k + 2Σ_k s_k/(γK)",
               "(15)", 2 * drop / (g_ * K) - avg - ((2 * descent - 1) * avg + slack), f"descent = {descent}")
    D.symbolic_true("… ≥ 0: 2·descent − 1 ≥ 0, Σ_k E w_k ≥ 0, Σ_k s_k ≥ 0, so (15) holds with 2/(γK)", "(15)",
                    sp.And(sp.Ge(2 * descent - 1, 0), sp.Ge(avg, 0), sp.Ge(slack, 0)),
                    f"2·descent − 1 = {2 * descent - 1}")

    # 5. (16): ‖x‖²_L̄ = xᵀL̄x = 2f(x) by definition (x* = 0); Rayleigh quotient through the Cholesky factor
    D.symbolic("xᵀW̄x = yᵀ(R⁻ᵀW̄R⁻¹)y with y = Rx, L̄ = RᵀR (d = 2)", "(16)", ray)
    D.symbolic("‖Rx‖² = ‖x‖²_{L̄}", "(16)", nrm)
    D.symbolic("R⁻ᵀW̄R⁻¹ = R(L̄⁻¹W̄)R⁻¹: same spectrum as L̄^{-1/2}W̄L̄^{-1/2}", "(16)", sim)
    spec, sos = _rayleigh_certificate()
    D.symbolic("R⁻ᵀW̄R⁻¹ = QΛQᵀ, Λ = Diag(λ_min, λ_min + δ), δ ≥ 0 (any symmetric W̄, d = 2, every rotation Q)",
               "(16)", spec)
    D.symbolic("Rayleigh certificate: W̄ − λ_min L̄ = δ·vvᵀ ⪰ 0 (v = RᵀQe₂), so w ≥ λ_min‖x‖²_{L̄}", "(16)", sos)
    N = sp.Symbol("N", nonnegative=True)  # ‖x‖²_L̄
    # E‖x⁺‖²_L̄ ≤ N − 2·descent·γ·w; claimed ≤ (1 − rate·λ)N; difference = 2·descent·γ(w − λN) + (2descent·γ − rate)λN
    diff = (1 - rate * lam) * N - (N - 2 * descent * g_ * w)
    D.symbolic("certificate: (1 − rate·λ)N − (N − 2·descent·γw) = 2descent·γ(w − λN) + (2descent·γ − rate)λN",
               "(16)", diff - (2 * descent * g_ * (w - lam * N) + (2 * descent * g_ - rate) * lam * N))
    D.symbolic_true("2·descent·γ − rate ≥ 0", "(16)", sp.Ge(sp.simplify(2 * descent * g_ - rate), 0),
                    f"2·descent·γ − rate = {sp.simplify(2 * descent * g_ - rate)}")

    # 6. numeric: enumeration of Perm-q supports equals the formula; θ*, (15) per step and (16) on instances
    worst_enum = 0.0
    for n, d in ((2, 4), (3, 3), (2, 2)):
        prob = interpolation(n, d, 0.7, seed=10 + d)
        for sk in _sketches(n, d):
            mo = SketchMoments(prob, sk)
            Q, _ = exact_one_step(mo, 0.07)
            for x in (np.ones(d), np.arange(1.0, d + 1)):
                e = enumerate_one_step(mo, x, 0.07)
                worst_enum = max(worst_enum, abs(e - x @ Q @ x) / max(1.0, abs(e)))
    D.numeric("E f(x⁺) by enumerating Perm-q / identity supports = f − γxᵀW̄x + (γ²/2)xᵀE[B̄L̄B̄]x", "(15)",
              worst_enum <= 1e-10, f"max relative error {worst_enum:.2g} ((n, d) ∈ {{(2,4), (3,3), (2,2)}})")

    sb = float(step_bound)
    dsc = float(descent)
    used, worst15, worst16, worst_ray, skipped = 0, np.inf, np.inf, np.inf, 0
    for seed in range(6):
        for n, d in ((2, 4), (3, 3)):
            prob = interpolation(n, d, 0.6, seed=seed, cond=5.0)
            for sk in _sketches(n, d):
                mo = SketchMoments(prob, sk)
                th = theta_star(mo)
                if th is None:
                    skipped += 1
                    continue
                used += 1
                L = prob.L_bar
                lmin = float(sla.eigh(mo.W, L, eigvals_only=True)[0])
                # Rayleigh certificate on the instance: W̄ − λ_min L̄ ⪰ 0 (λ_min of the pencil (W̄, L̄))
                worst_ray = min(worst_ray, float(np.linalg.eigvalsh(mo.W - lmin * L)[0]) / float(np.linalg.norm(L, 2)))
                for frac in (1.0, 0.5):
                    gam = frac * sb / th
                    Q, M = exact_one_step(mo, gam)
                    # (15) per step for every x: E f(x⁺) − f(x) + descent·γ·xᵀW̄x ≤ 0 ⇔ Q − ½L̄ + descent·γW̄ ⪯ 0
                    P = Q - 0.5 * L + dsc * gam * mo.W
                    worst15 = min(worst15, -np.linalg.eigvalsh(P)[-1] / np.linalg.norm(L, 2))
                    # (16): max_x E‖x⁺‖²_L̄/‖x‖²_L̄ ≤ 1 − rate·λ_min
                    contraction = float(sla.eigh(M, L, eigvals_only=True)[-1])
                    factor = 1 - float(rate.subs(g_, gam)) * lmin
                    worst16 = min(worst16, factor - contraction)
    D.numeric("(15) per-step descent holds for all x at γ ∈ {1, ½}·step_bound/θ*, θ* = λ_max(E[B̄L̄B̄], W̄)", "(15)",
              used >= 10 and worst15 >= -1e-12,
              f"{used} (instance, sketch) pairs with W̄ ≻ 0 ({skipped} skipped), min margin {worst15:.3g}")
    D.numeric("Rayleigh certificate on the instances: λ_min(W̄ − λ_min(L̄^{-1/2}W̄L̄^{-1/2})L̄) ≥ 0", "(16)",
              used >= 10 and worst_ray >= -1e-10, f"min eigenvalue / ‖L̄‖ {worst_ray:.3g}")
    D.numeric("(16) factor bounds the exact one-step contraction λ_max(E[(I−γB̄)ᵀL̄(I−γB̄)], L̄)", "(16)",
              used >= 10 and worst16 >= -1e-12, f"min margin {worst16:.3g}")
    D.latex["descent"] = sp.latex(descent)
    D.latex["rate"] = sp.latex(1 - rate * sp.Symbol(r"\lambda_{\min}"))
    return D
