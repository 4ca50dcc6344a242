"""Theorem 1, identity example: ``C_i = I`` (plain distributed GD); (14)–(16) specialised.

``B̄ = L̄`` on every draw, so ``E[B̄] = L̄``, ``W̄ = L̄²`` and ``E[B̄L̄B̄] = L̄³``.
``θW̄ − E[B̄L̄B̄] = L̄(θI − L̄)L̄`` has eigenvalues ``λ_j²(θ − λ_j)``, so (14)
holds iff ``θ ≥ λ_max(L̄)`` (for ``L̄ ≻ 0``): ``θ = λ_max`` is the smallest
admissible constant (tight). The norm of (15) is ``L̄⁻¹L̄²L̄⁻¹ = I`` and with
``γ = 1/θ = 1/λ_max``

    (1/K) Σ_{k<K} ‖∇f(x^k)‖² ≤ 2λ_max(L̄)(f(x⁰) − f(x^K))/K,            (15)

while ``L̄^{-1/2}W̄L̄^{-1/2} = L̄`` turns (16) into the GD rate
``1 − λ_min(L̄)/λ_max(L̄)``.

Eigenvalues are ``λ₁ = l ≤ λ₂ = l + p ≤ λ₃ = l + p + r`` (``l > 0``, ``p, r ≥ 0``).
Constants: ``theta`` (paper ``λ_max``), ``gd_coef`` (the coefficient of (15),
paper ``λ_max``) and ``rate`` (paper ``1 − λ_min/λ_max``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.linalg as sla
import sympy as sp

from ..generators import interpolation
from ..moments import SketchMoments
from ..sketches import Identity
from .base import Derivation, symbolic_B_moments, symmetric_matrix

l_ = sp.Symbol("l", positive=True)
p_, r_ = sp.symbols("p r", nonnegative=True)
LAMS = (l_, l_ + p_, l_ + p_ + r_)
lam_min, lam_max = LAMS[0], LAMS[-1]


@lru_cache(maxsize=1)
def _engine_moments() -> tuple[sp.Matrix, sp.Matrix, sp.Matrix]:
    """(E[B̄] − L̄, W̄ − L̄², E[B̄L̄B̄] − L̄³) from the engine, identity sketch, n = 2, d = 3, symbolic L_i."""
    n, d = 2, 3
    Ls = [symmetric_matrix(f"L{i}", d) for i in range(n)]
    Lb, EB, BLB = symbolic_B_moments(Identity(n, d), Ls)
    W = (Lb * EB + EB * Lb) / 2
    return (EB - Lb).expand(), (W - Lb**2).expand(), (BLB - Lb**3).expand()


@lru_cache(maxsize=1)
def _matrix_identities() -> tuple[sp.Matrix, sp.Matrix, sp.Matrix]:
    """θL̄² − L̄³ = L̄(θI − L̄)L̄ (d = 3); rotation check of the eigen-form (d = 2); L̄⁻¹L̄²L̄⁻¹ = I (d = 2)."""
    th = sp.Symbol("theta", positive=True)
    L3 = symmetric_matrix("L", 3)
    fact = (th * L3**2 - L3**3 - L3 * (th * sp.eye(3) - L3) * L3).expand()
    t = sp.Symbol("t", real=True)  # rational parametrisation of the rotations: c = (1−t²)/(1+t²), s = 2t/(1+t²)
    a, b = sp.symbols("a b", positive=True)
    c, s = (1 - t**2) / (1 + t**2), 2 * t / (1 + t**2)
    Q = sp.Matrix([[c, -s], [s, c]])
    L = Q * sp.diag(a, b) * Q.T
    eig = (L * (th * sp.eye(2) - L) * L - Q * sp.diag(a**2 * (th - a), b**2 * (th - b)) * Q.T).applyfunc(sp.cancel)
    L2 = symmetric_matrix("L", 2)
    norm = sp.simplify(L2.inv() * L2**2 * L2.inv() - sp.eye(2))
    return fact, eig, norm


def _subs(expr: sp.Expr, ev: np.ndarray) -> float:
    """Evaluate an expression in (l, p, r) on a spectrum ``ev`` (ascending, d = 3)."""
    return float(sp.sympify(expr).subs({l_: ev[0], p_: ev[1] - ev[0], r_: ev[2] - ev[1]}))


def derive(theta: sp.Expr = lam_max, gd_coef: sp.Expr = lam_max, rate: sp.Expr | None = None) -> Derivation:
    """Check the identity example with (14) constant ``theta``, (15) coefficient ``gd_coef`` and
    (16) rate ``rate`` (default ``1 − λ_min/λ_max``), as expressions in the eigenvalues (l, p, r)."""
    rate = 1 - lam_min / lam_max if rate is None else sp.sympify(rate)
    theta, gd_coef = sp.sympify(theta), sp.sympify(gd_coef)
    D = Derivation("Identity example", ("(14)", "(15)", "(16)"),
                   constants={"theta": theta, "gd_coef": gd_coef, "rate": rate})

    eb, w, blb = _engine_moments()
    D.symbolic("E[B̄] = L̄ (identity sketch, engine, n = 2, d = 3, symbolic L_i)", "(14)", eb)
    D.symbolic("W̄ = L̄²", "(14)", w)
    D.symbolic("E[B̄L̄B̄] = L̄³", "(14)", blb)
    fact, eig, norm = _matrix_identities()
    D.symbolic("θW̄ − E[B̄L̄B̄] = L̄(θI − L̄)L̄ (d = 3)", "(14)", fact)
    D.symbolic("L̄(θI − L̄)L̄ = Q Diag(λ_j²(θ − λ_j)) Qᵀ for L̄ = QΛQᵀ (d = 2, every rotation Q)", "(14)", eig)
    ok = [sp.simplify(lam**2 * (theta - lam)) for lam in LAMS]
    D.symbolic_true("(14) at θ = theta: every λ_j²(θ − λ_j) ≥ 0 (λ₁ ≤ λ₂ ≤ λ₃)", "(14)",
                    sp.And(*[sp.Ge(e, 0) for e in ok]), f"theta = {theta}: {ok}")
    eps = sp.Symbol("epsilon", positive=True)
    below = sp.expand(lam_max**2 * ((theta - eps) - lam_max))
    D.symbolic_true("tight: at θ = theta − ε (every ε > 0) the λ_max eigenvalue λ_max²(θ − λ_max) < 0, (14) fails",
                    "(14)", sp.Lt(below, 0), f"theta = {theta}: λ_max²(θ − λ_max) = {sp.factor(below)}")
    D.symbolic("theta is the smallest admissible constant λ_max", "(14)", theta - lam_max, f"theta = {theta}")

    D.symbolic("norm of (15): L̄⁻¹W̄L̄⁻¹ = L̄⁻¹L̄²L̄⁻¹ = I (d = 2)", "(15)", norm)
    K = sp.Symbol("K", positive=True)
    D.symbolic("(15) with γ = 1/θ: 2/(γK) = 2·gd_coef/K", "(15)", 2 / ((1 / theta) * K) - 2 * gd_coef / K,
               f"gd_coef = {gd_coef}")
    # (16): L̄^{-1/2}W̄L̄^{-1/2} = L̄ (same eigenbasis), λ_min(·) = λ_min(L̄) = l, factor 1 − γλ_min with γ = 1/θ
    D.symbolic("(16) at γ = 1/θ: 1 − γλ_min(L̄^{-1/2}L̄²L̄^{-1/2}) = 1 − λ_min/θ = rate", "(16)",
               (1 - lam_min / theta) - rate, f"rate = {rate}")
    D.symbolic("rate is the GD condition-number rate 1 − λ_min/λ_max", "(16)", rate - (1 - lam_min / lam_max))

    # numeric: generalised eigenvalue θ* = λ_max(E[B̄L̄B̄], W̄) equals λ_max(L̄); (14) at theta; exact GD contraction
    worst_tight, worst14, worst16, worst15 = 0.0, np.inf, np.inf, np.inf
    for seed in range(4):
        prob = interpolation(2, 3, 0.5, seed=seed, cond=8.0)
        prob = type(prob)(np.asarray(prob.L) * (0.3 + 0.4 * seed), prob.b)  # avoid λ_min = 1
        mo = SketchMoments(prob, Identity(2, 3))
        L = prob.L_bar
        ev = np.linalg.eigvalsh(L)
        th_star = float(sla.eigh(mo.BLB, mo.W, eigvals_only=True)[-1])
        worst_tight = max(worst_tight, abs(th_star - ev[-1]) / ev[-1])
        th = _subs(theta, ev)
        worst14 = min(worst14, np.linalg.eigvalsh(th * mo.W - mo.BLB)[0] / ev[-1] ** 3)
        gam = 1 / th
        M = L - 2 * gam * mo.W + gam**2 * mo.BLB
        worst16 = min(worst16, _subs(rate, ev) - float(sla.eigh(M, L, eigvals_only=True)[-1]))
        # (15) per step in the Euclidean norm: E f(x⁺) ≤ f(x) − ‖∇f‖²/(2·gd_coef)  ⇔  ½M − ½L + L²/(2·gd_coef) ⪯ 0
        P = 0.5 * M - 0.5 * L + L @ L / (2 * _subs(gd_coef, ev))
        worst15 = min(worst15, -np.linalg.eigvalsh(P)[-1] / ev[-1])
    D.numeric("θ* = λ_max(E[B̄L̄B̄], W̄) equals λ_max(L̄) (4 instances)", "(14)", worst_tight <= 1e-9,
              f"max relative difference {worst_tight:.2g}")
    D.numeric("(14) holds at θ = theta on the instances", "(14)", worst14 >= -1e-10, f"min eigenvalue {worst14:.3g}")
    D.numeric("(15) per step: f(x⁺) ≤ f(x) − ‖∇f(x)‖²/(2·gd_coef) for all x", "(15)", worst15 >= -1e-12,
              f"min margin {worst15:.3g}")
    D.numeric("(16): exact GD contraction max_j (1 − λ_j/θ)² ≤ rate", "(16)", worst16 >= -1e-12,
              f"min margin {worst16:.3g}")
    D.latex["theta"] = sp.latex(theta)
    D.latex["rate"] = sp.latex(rate)
    return D
