"""Theorem 1, identity example: ``C_i = I`` (plain distributed GD); (14)–(16) specialised, for every ``n`` and ``d``.

``B̄ = L̄`` on every draw, so ``E[B̄] = L̄``, ``W̄ = L̄²`` and ``E[B̄L̄B̄] = L̄³``.
``θW̄ − E[B̄L̄B̄] = L̄(θI − L̄)L̄`` has eigenvalues ``λ²(θ − λ)``, so (14) holds iff
``θ ≥ λ_max(L̄)`` (for ``L̄ ≻ 0``): ``θ = λ_max`` is the sharp constant. The
norm of (15) is ``L̄⁻¹L̄²L̄⁻¹ = I`` and with ``γ = 1/θ = 1/λ_max``

    (1/K) Σ_{k<K} ‖∇f(x^k)‖² ≤ 2λ_max(L̄)(f(x⁰) − f(x^K))/K,            (15)

which is also what the GD descent lemma gives directly (per step
``f(x⁺) ≤ f(x) − ‖∇f(x)‖²/(2λ_max)``, sharp along the top eigenvector), while
``L̄^{-1/2}W̄L̄^{-1/2} = L̄`` turns (16) into the rate ``1 − λ_min(L̄)/λ_max(L̄)``,
a valid (not sharp: GD contracts ``‖x − x*‖²_L̄`` by ``(1 − λ_min/λ_max)²``) rate.

Reach. ``C_i = I`` gives ``B̄ = L̄`` on every draw by definition (a premise, no step);
the moments ``W̄ = L̄²``, ``E[B̄L̄B̄] = L̄³``, ``θW̄ − E[B̄L̄B̄] = L̄(θI − L̄)L̄`` and the norm
``L̄⁻¹W̄L̄⁻¹ = I`` are identities of SymPy matrix symbols of symbolic size ``d``. Every
matrix here is a polynomial (or, for ``L̄ ≻ 0``, a power) of ``L̄``, so they share
``L̄``'s eigenvectors and a matrix identity or inequality among them holds iff it
holds for each eigenvalue (the eigenvalue reduction, a stated premise): the steps check the scalar
statement for a symbol ``λ > 0`` (eigenvalues ``λ_min = l ≤ λ = l + q ≤ λ_max = l + q + r``,
``l > 0``, ``q, r ≥ 0``), which covers every spectrum, every ``d`` and every
``n``: all decisive steps are **general**. The engine's moments with symbolic
``L_i`` at ``n = 2, d = 3`` (fixed-size) and float checks on random instances are
shown as evidence only.

Constants (mutation knobs of :func:`derive`): ``theta`` (paper ``λ_max``; compared
with the sharp ``λ_max`` by :meth:`~.base.Derivation.bound`: larger is ``loose``,
smaller disproved), ``gd_coef`` (the coefficient of (15), paper ``λ_max``; bound
against the sharp GD constant), ``rate`` (paper ``1 − λ_min/λ_max``),
``w_power`` (``W̄ = L̄^2``) and ``blb_power`` (``E[B̄L̄B̄] = L̄^3``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.linalg as sla
import sympy as sp

from ..generators import interpolation
from ..moments import SketchMoments
from ..sketches import Identity
from .base import GENERAL, Derivation, at, symbolic_B_moments, symmetric_matrix
from .matrix_algebra import matrix_coefficients

l_ = sp.Symbol("l", positive=True)
p_ = sp.Symbol("p", nonnegative=True)
q_, r_ = sp.symbols("q r", nonnegative=True)
lam_min, lam_max = l_, l_ + p_  # the knobs are expressions in λ_min = l and λ_max = l + p
#: a generic eigenvalue λ = l + q of a spectrum with λ_max = l + q + r (substitute p → q + r in the knobs)
lam_gen, lam_top = l_ + q_, l_ + q_ + r_
lam = sp.Symbol("lambda", positive=True)  # an eigenvalue of L̄ (L̄ ≻ 0)


@lru_cache(maxsize=1)
def _engine_moments() -> tuple[sp.Matrix, sp.Matrix, sp.Matrix]:
    """(E[B̄] − L̄, W̄ − L̄², E[B̄L̄B̄] − L̄³) from the engine, identity sketch, n = 2, d = 3, symbolic L_i."""
    n, d = 2, 3
    Ls = [symmetric_matrix(f"L{i}", d) for i in range(n)]
    Lb, EB, BLB = symbolic_B_moments(Identity(n, d), Ls)
    W = (Lb * EB + EB * Lb) / 2
    return (EB - Lb).expand(), (W - Lb**2).expand(), (BLB - Lb**3).expand()


def _subs(expr: sp.Expr, ev: np.ndarray) -> float:
    """Evaluate an expression in (l, p) on a spectrum ``ev`` (ascending)."""
    return float(sp.sympify(expr).subs({l_: ev[0], p_: ev[-1] - ev[0]}))


def _general(expr: sp.Expr) -> sp.Expr:
    """A knob in (λ_min, λ_max) on the spectrum with a generic eigenvalue: λ_max = l + q + r."""
    return sp.sympify(expr).subs(p_, q_ + r_)


def derive(theta: sp.Expr = lam_max, gd_coef: sp.Expr = lam_max, rate: sp.Expr | None = None,
           w_power: int = 2, blb_power: int = 3) -> Derivation:
    """Check the identity example with (14) constant ``theta``, (15) coefficient ``gd_coef`` and (16) rate ``rate``
    (default ``1 − λ_min/λ_max``), expressions in ``λ_min = l`` and ``λ_max = l + p``, and the claimed powers
    ``W̄ = L̄^w_power``, ``E[B̄L̄B̄] = L̄^blb_power``."""
    rate = 1 - lam_min / lam_max if rate is None else sp.sympify(rate)
    theta, gd_coef = sp.sympify(theta), sp.sympify(gd_coef)
    D = Derivation("Identity example", ("(14)", "(15)", "(16)"),
                   constants={"theta": theta, "gd_coef": gd_coef, "rate": rate, "w_power": w_power,
                              "blb_power": blb_power})

    # 1. B̄ = L̄ on every draw: the definition (a premise, not a step: C_iL_iC_i = L_i needs no computation)
    D.premise("C_i = I (the identity sketch), so C_iL_iC_i = L_i and B̄ = (1/n)Σ_i L_i = L̄ on every draw "
              "(definition; in particular E[B̄] = L̄)")
    D.premise("eigenvalue reduction: every matrix here (E[B̄] = L̄, W̄, E[B̄L̄B̄], L̄^{±1/2}, θW̄ − E[B̄L̄B̄]) is a "
              "polynomial or, for L̄ ≻ 0, a power of the symmetric L̄, so they share L̄'s eigenvectors (spectral "
              "theorem) and a matrix identity or inequality among them holds iff it holds on each eigenvalue λ > 0")

    # 2–4. moments as matrix expressions in L̄ of symbolic size d (E[B̄] = L̄ by the premise; any d, any L̄)
    d = sp.Symbol("d", positive=True, integer=True)
    Lm = sp.MatrixSymbol("Lbar", d, d)
    EBm = Lm  # B̄ = L̄ on every draw
    Wm = (Lm * EBm + EBm * Lm) / 2
    BLBm = EBm * Lm * EBm
    D.symbolic("W̄ = ½(L̄E[B̄] + E[B̄]L̄) = L̄^w_power (E[B̄] = L̄; matrix symbols, every d)", "(14)",
               matrix_coefficients(Wm - Lm**w_power), f"w_power = {w_power}", reach=GENERAL)
    D.symbolic("E[B̄L̄B̄] = L̄^blb_power (B̄ = L̄ on every draw; matrix symbols, every d)", "(14)",
               matrix_coefficients(BLBm - Lm**blb_power), f"blb_power = {blb_power}", reach=GENERAL)
    th = sp.Symbol("theta", positive=True)
    D.symbolic("θW̄ − E[B̄L̄B̄] = L̄(θI − L̄)L̄ (matrix symbols, every d): eigenvalue λ²(θ − λ) on each eigenvector "
               "of L̄", "(14)", matrix_coefficients(sp.expand(th * Wm - BLBm - Lm * (th * sp.Identity(d) - Lm) * Lm)),
               reach=GENERAL)
    # the same moments on an eigenvalue λ of L̄ (eigenvalue reduction, premise), for the inequalities below
    EB = lam
    W = (lam * EB + EB * lam) / 2
    BLB = EB * lam * EB

    # 5–7. the sharp θ of (14) is λ_max; the stated theta against it
    def p14(t: sp.Expr, x: sp.Expr) -> sp.Expr:
        return sp.sympify((th * W - BLB).subs({th: t, lam: x}))

    D.symbolic_true("(14) holds at θ = λ_max: λ²(λ_max − λ) ≥ 0 for every eigenvalue 0 < λ ≤ λ_max", "(14)",
                    sp.Ge(sp.factor(p14(lam_top, lam_gen)), 0), f"λ = l + q, λ_max = l + q + r: "
                    f"{sp.factor(p14(lam_top, lam_gen))} ≥ 0", reach=GENERAL)
    eps = sp.Symbol("epsilon", positive=True)
    below = sp.expand(p14(lam_max - eps, lam_max))
    D.symbolic_true("tight: at θ = λ_max − ε (every ε > 0) the λ_max eigenvalue λ_max²(θ − λ_max) < 0, (14) fails",
                    "(14)", sp.Lt(below, 0), f"λ_max²(θ − λ_max) = {sp.factor(below)}", reach=GENERAL)
    D.bound("(14) constant theta against the sharp θ* = λ_max(L̄)", "(14)", theta, lam_max, valid_if=">=",
            reach=GENERAL)

    # 8. the norm of (15): L̄⁻¹W̄L̄⁻¹ = I
    D.symbolic("norm of (15): L̄⁻¹W̄L̄⁻¹ = I, the Euclidean norm (matrix symbols, L̄ ≻ 0, every d)", "(15)",
               matrix_coefficients(Lm.I * Wm * Lm.I - sp.Identity(d)), reach=GENERAL)

    # 9–11. (15) from the GD descent lemma, independent of Theorem 1: f − f* = ½λy², ∇f = λy, y⁺ = (1 − γλ)y
    g, y = sp.symbols("gamma y", positive=True)
    D.symbolic("GD step on an eigencomponent: f(x) − f(x⁺) = (γ − γ²λ/2)‖∇f(x)‖²", "(15)",
               lam * y**2 / 2 - lam * ((1 - g * lam) * y) ** 2 / 2 - (g - g**2 * lam / 2) * (lam * y) ** 2,
               reach=GENERAL)
    gam = 1 / lam_top  # γ = 1/θ* = 1/λ_max

    def descent(x: sp.Expr) -> sp.Expr:
        return gam - gam**2 * x / 2

    D.symbolic_true("at γ = 1/λ_max: (γ − γ²λ/2) ≥ 1/(2λ_max) for every eigenvalue 0 < λ ≤ λ_max", "(15)",
                    sp.Ge(sp.factor(descent(lam_gen) - 1 / (2 * lam_top)), 0),
                    f"(γ − γ²λ/2) − 1/(2λ_max) = {sp.factor(descent(lam_gen) - 1 / (2 * lam_top))}", reach=GENERAL)
    sharp_gd = 1 / (2 * descent(lam_top))  # equality on the top eigenvector: the sharp constant of the GD bound
    D.symbolic("(15) of Theorem 1 at γ = 1/θ* gives 2(f⁰ − f^K)/(γK) = 2λ_max(f⁰ − f^K)/K: the same constant as the "
               "GD descent lemma (sharp on the top eigenvector)", "(15)", sp.simplify(lam_top - sharp_gd),
               f"1/γ = {lam_top}, GD constant 1/(2(γ − γ²λ_max/2)) = {sp.simplify(sharp_gd)}", reach=GENERAL)
    D.bound("(15) coefficient gd_coef against the sharp λ_max", "(15)", gd_coef, lam_max, valid_if=">=",
            reach=GENERAL)

    # 12–13. (16): Theorem 1's rate, and its validity for GD
    mu = lam ** sp.Rational(-1, 2) * W * lam ** sp.Rational(-1, 2)  # eigenvalue of L̄^{-1/2}W̄L̄^{-1/2}
    D.symbolic("(16) at γ = 1/λ_max: 1 − γλ_min(L̄^{-1/2}W̄L̄^{-1/2}) = 1 − λ_min/λ_max = rate", "(16)",
               sp.simplify(_general(rate) - (1 - mu.subs(lam, l_) / lam_top)),
               f"L̄^{{-1/2}}W̄L̄^{{-1/2}} has eigenvalues {sp.simplify(mu)} (increasing in λ); rate = {rate}",
               reach=GENERAL)
    contraction = (1 - lam_gen / lam_top) ** 2  # ‖x⁺ − x*‖²_L̄ = Σ λ(1 − γλ)²e_λ²
    D.symbolic_true("(16) is valid for GD: the exact per-step contraction (1 − λ/λ_max)² ≤ rate for every "
                    "eigenvalue λ_min ≤ λ ≤ λ_max", "(16)",
                    sp.Ge(sp.factor(sp.together(_general(rate) - contraction)), 0),
                    f"rate − (1 − λ/λ_max)² = {sp.factor(sp.together(_general(rate) - contraction))}", reach=GENERAL)

    # evidence: the engine at n = 2, d = 3 with symbolic L_i
    eb, w, blb = _engine_moments()
    D.symbolic("engine: E[B̄] = L̄, W̄ = L̄², E[B̄L̄B̄] = L̄³ (identity sketch, symbolic L_i)", "(14)",
               sp.Matrix.vstack(eb, w, blb), reach=at(n=2, d=3), role="evidence")
    # evidence: θ* = λ_max(E[B̄L̄B̄], W̄) equals λ_max(L̄); (14) at theta; (15), (16) at γ = 1/λ_max (floats)
    worst_tight, worst14, worst16, worst15 = 0.0, np.inf, np.inf, np.inf
    for seed in range(4):
        prob = interpolation(2, 3, 0.5, seed=seed, cond=8.0)
        prob = type(prob)(np.asarray(prob.L) * (0.3 + 0.4 * seed), prob.b)  # avoid λ_min = 1
        mo = SketchMoments(prob, Identity(2, 3))
        L = prob.L_bar
        ev = np.linalg.eigvalsh(L)
        th_star = float(sla.eigh(mo.BLB, mo.W, eigvals_only=True)[-1])
        worst_tight = max(worst_tight, abs(th_star - ev[-1]) / ev[-1])
        thv = _subs(theta, ev)
        worst14 = min(worst14, np.linalg.eigvalsh(thv * mo.W - mo.BLB)[0] / ev[-1] ** 3)
        gv = 1 / ev[-1]  # γ = 1/θ* = 1/λ_max, as in the general steps
        M = L - 2 * gv * mo.W + gv**2 * mo.BLB
        worst16 = min(worst16, _subs(rate, ev) - float(sla.eigh(M, L, eigvals_only=True)[-1]))
        # (15) per step in the Euclidean norm: E f(x⁺) ≤ f(x) − ‖∇f‖²/(2·gd_coef)  ⇔  ½M − ½L + L²/(2·gd_coef) ⪯ 0
        P = 0.5 * M - 0.5 * L + L @ L / (2 * _subs(gd_coef, ev))
        worst15 = min(worst15, -np.linalg.eigvalsh(P)[-1] / ev[-1])
    D.numeric("instances: θ* = λ_max(E[B̄L̄B̄], W̄) equals λ_max(L̄) (SketchMoments, 4 instances)", "(14)",
              worst_tight <= 1e-9, f"max relative difference {worst_tight:.2g}", role="evidence")
    D.numeric("instances: (14) holds at θ = theta", "(14)", worst14 >= -1e-10, f"min eigenvalue {worst14:.3g}",
              role="evidence")
    D.numeric("instances: (15) per step f(x⁺) ≤ f(x) − ‖∇f(x)‖²/(2·gd_coef) for all x at γ = 1/λ_max", "(15)",
              worst15 >= -1e-12, f"min margin {worst15:.3g}", role="evidence")
    D.numeric("instances: (16) exact GD contraction max_j (1 − λ_j/λ_max)² ≤ rate", "(16)", worst16 >= -1e-12,
              f"min margin {worst16:.3g}", role="evidence")
    D.latex["theta"] = sp.latex(theta)
    D.latex["rate"] = sp.latex(rate)
    return D
