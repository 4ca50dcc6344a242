"""§3.1.1, homogeneous preconditioning (20)–(22), interpolation (``b = 0`` for the rates).

Change of variables ``x̃ = D^{1/2}x`` (``D = Diag(L)``): ``f(D^{-1/2}x̃) =
½x̃ᵀL̃x̃ − (D^{-1/2}b)ᵀx̃`` with ``L̃ = D^{-1/2}LD^{-1/2}`` and ``Diag(L̃) = I``
(20); gradients transform as ``∇f̃(x̃) = D^{-1/2}∇f(x)``. Perm-1 (``n = d``,
``C_i = n e_{π_i}e_{π_i}ᵀ``) on the homogeneous ``L̃``: ``B̄ = (1/n)Σ_i n²L̃_{π_iπ_i}
e_{π_i}e_{π_i}ᵀ = n·Diag(L̃) = nI`` on every draw (each coordinate has one owner), so
``E[B̄] = nI``, ``W̃ = nL̃`` and ``E[B̄L̃B̄] = n²L̃``; ``θW̃ − E[B̄L̃B̄] = n(θ − n)L̃``,
hence (14) holds iff ``θ ≥ n``. (21): ``‖∇f̃‖²_{L̃⁻¹W̃L̃⁻¹} = n‖∇f̃‖²_{L̃⁻¹} ≥
(n/λ_max(L̃))‖∇f̃‖²``. (22), from (15) with ``γ = 1/θ = 1/n``:

    (1/K) Σ_{k<K} ‖∇f̃(x̃^k)‖² ≤ 2λ_max(L̃)(f̃(x̃⁰) − f̃(x̃^K))/K.

Here the iteration is deterministic: ``x̃^{k+1} = (1 − γn)x̃^k`` (at ``γ = 1/n``
one step reaches ``x* = 0``), and (22) holds with equality when ``x̃⁰`` is an
eigenvector of ``L̃`` for ``λ_max(L̃)`` (loose by the factor
``λ_max x̃⁰ᵀL̃x̃⁰/‖L̃x̃⁰‖²`` otherwise). The norms in (21)–(22) are of the gradient of the
*preconditioned* problem ``f̃``; for the original variables
``‖∇f̃‖² = ‖∇f‖²_{D⁻¹}``.

What is general: every decisive step — symbolic in ``n`` (the general-``n``
premise "B̄ = nI on every draw" is a step of its own), ``θ``, ``γ``, ``K``,
eigenvalues, diagonal entries ``a_j > 0``, or in non-commuting matrix symbols
(``L``, ``L̃``, ``D^{-1/2}``, vectors: any size; transposes written out with
``D^{-1/2}`` and ``L`` symmetric). The per-draw ``B̄_jj = (1/n)·s²·L̃_jj`` (one owner
per coordinate) and the entrywise moments ``E[(C_iMC_i)_jj] = P(j ∈ S_i)·s²·M_jj``
are written by hand from the definition of Perm-1 (``P`` from
:mod:`isttheory.symbolic.inclusion`, symbolic in ``n``). Cross-checks (role
*evidence*): the same identities with symbolic ``3×3`` matrices, gradients by
differentiation, the closed-form engine and all ``n!`` draws at ``n = d ∈ {2, 3}``
(fixed-size), and simulations of preconditioned random instances (floats).

Mutation knobs (keyword arguments of :func:`derive`): ``theta_min`` (paper ``n``),
``lam_coef`` (coefficient in (22), paper ``λ_max(L̃)``), ``ebar`` (``E[B̄] = ebar·I``,
paper ``n``), ``perm_scale`` (Perm-1's scale, ``n``), ``precond_power`` (``D^{-1/2}``),
``w_coef`` (``W̃ = w_coef·L̃``, ``n``), ``blb_coef`` (``E[B̄L̃B̄] = blb_coef·L̃``, ``n²``),
``norm_coef`` ((21): ``L̃⁻¹W̃L̃⁻¹ = norm_coef·L̃⁻¹``, ``n``) and ``grad_coef`` ((21):
``≥ grad_coef·‖∇f̃‖²``, ``n/λ_max``).
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import TypedDict

import numpy as np
import sympy as sp

from ..generators import homogeneous
from ..moments import SketchMoments
from ..problem import QuadraticProblem
from ..simulate import simulate
from ..sketches import Permutation
from ..symbolic import contractions
from .base import GENERAL, Derivation, at, stack, symbolic_expectation, tex_times, vector
from .estimator_bias import perm1_inclusion

n_s = sp.Symbol("n", positive=True, integer=True)
lam_max = sp.Symbol("lambda_max", positive=True)
#: the preconditioner's power of D (D^{-1/2})
MINUS_HALF = sp.Rational(-1, 2)
#: (21)'s coefficient n/λ_max(L̃)
N_OVER_LAM = n_s / lam_max
#: the sizes n = d of the fixed-size cross-checks
SIZES = (2, 3)
N = 3  # the size of the fixed-size (20)/(21) cross-checks with a symbolic L


class _Symbolic(TypedDict):
    """The fixed-size results of :func:`_symbolic` (n = d)."""

    f: sp.Expr
    diag: sp.MatrixBase
    grad: sp.Matrix
    draws: sp.Matrix
    EB: sp.Matrix
    BLB: sp.Matrix
    Lt: sp.Matrix


def precondition(problem: QuadraticProblem) -> QuadraticProblem:
    """The homogeneous problem in ``x̃ = D^{1/2}x``: ``L̃_i = D^{-1/2}L_iD^{-1/2}``, ``b̃_i = D^{-1/2}b_i``."""
    s = 1 / np.sqrt(problem.D[0])
    return QuadraticProblem(np.asarray(problem.L) * s[None, :, None] * s[None, None, :],
                            np.asarray(problem.b) * s[None, :], check_psd=False)


@lru_cache(maxsize=8)
def _symbolic(n: int, perm_scale: sp.Expr, precond_power: sp.Expr) -> _Symbolic:
    """Cross-checks at n = d with a symbolic symmetric L (diagonal ``a_j > 0``): (20) by substitution and
    differentiation, Perm-1 (scale ``perm_scale``) on ``L̃`` on every draw and through the engine."""
    d = n
    a = sp.symbols(f"a0:{d}", positive=True)  # diagonal of L
    c = {(j, k): sp.Symbol(f"c_{j}{k}", real=True) for j in range(d) for k in range(j + 1, d)}
    L = sp.Matrix(d, d, lambda j, k: a[j] if j == k else c[(min(j, k), max(j, k))])
    Dmh = sp.diag(*[aj ** precond_power for aj in a])
    Lt = Dmh * L * Dmh
    b, xt = vector("b", d), vector("xt", d)
    x = Dmh * xt
    f_orig = (x.T * L * x)[0] / 2 - (b.T * x)[0]
    f_pre = (xt.T * Lt * xt)[0] / 2 - ((Dmh * b).T * xt)[0]
    grad_pre = sp.Matrix([sp.diff(f_pre, v) for v in xt])
    grad_link = grad_pre - Dmh * (L * x - b)
    s = perm_scale.subs(n_s, n)
    draws = []
    for perm in itertools.permutations(range(d)):
        Bp = sp.zeros(d, d)
        for j in perm:
            Ct = sp.zeros(d, d)
            Ct[j, j] = s
            Bp += Ct * Lt * Ct / n
        draws.append((Bp - n * sp.eye(d)).reshape(d * d, 1))
    sk = Permutation(n, d)
    Ls = [Lt] * n
    T = np.full((n, d), s, dtype=object)
    EB = sp.Matrix(symbolic_expectation(contractions.B, sk, [stack(Ls)], scale=T).tolist()) / n
    BLB = sp.Matrix(symbolic_expectation(contractions.BMB, sk, [stack(Ls), np.array(Lt.tolist(), dtype=object),
                                                      stack(Ls)], scale=T).tolist()) / n**2
    return {"f": sp.simplify(f_orig - f_pre), "diag": sp.simplify(sp.diag(*Lt.diagonal()) - sp.eye(d)),
            "grad": grad_link.applyfunc(sp.simplify), "draws": sp.Matrix.vstack(*draws), "EB": EB, "BLB": BLB,
            "Lt": Lt}


def derive(theta_min: sp.Expr = n_s, lam_coef: sp.Expr = lam_max, ebar: sp.Expr = n_s, perm_scale: sp.Expr = n_s,
           precond_power: sp.Expr = MINUS_HALF, w_coef: sp.Expr = n_s, blb_coef: sp.Expr = n_s**2,
           norm_coef: sp.Expr = n_s, grad_coef: sp.Expr = N_OVER_LAM,
           sizes: tuple[int, ...] = SIZES) -> Derivation:
    """Check (20)–(22): (14) holds for all ``θ ≥ theta_min``, (22) has coefficient ``2·lam_coef``,
    ``E[B̄] = ebar·I`` (paper: ``theta_min = n``, ``lam_coef = λ_max(L̃)``, ``ebar = n``), with Perm-1's scale
    ``perm_scale`` (``n``), the preconditioner ``D^{precond_power}`` (``−1/2``), ``W̃ = w_coef·L̃`` (``n``),
    ``E[B̄L̃B̄] = blb_coef·L̃`` (``n²``) and (21) ``L̃⁻¹W̃L̃⁻¹ = norm_coef·L̃⁻¹`` (``n``), ``≥ grad_coef·‖∇f̃‖²``
    (``n/λ_max``). General in ``n``; ``sizes`` are the ``n = d`` of the fixed-size cross-checks."""
    theta_min, lam_coef, ebar, perm_scale, precond_power, w_coef, blb_coef, norm_coef, grad_coef = map(
        sp.sympify, (theta_min, lam_coef, ebar, perm_scale, precond_power, w_coef, blb_coef, norm_coef, grad_coef))
    D = Derivation("§3.1.1 homogeneous preconditioning", ("(20)", "(21)", "(22)"),
                   constants={"theta_min": theta_min, "lam_coef": lam_coef, "ebar": ebar, "perm_scale": perm_scale,
                              "precond_power": precond_power, "w_coef": w_coef, "blb_coef": blb_coef,
                              "norm_coef": norm_coef, "grad_coef": grad_coef})
    D.premise("per-draw B̄_jj = (1/n)·s²·L̃_jj (one owner per coordinate) and E[(C_iMC_i)_jj] = P(j ∈ S_i)·s²·M_jj, "
              "written from the definition of Perm-1; enumerated only at n = d ∈ {2, 3}")

    # (20), any size: non-commuting symbols, Dh = D^{-1/2} and L symmetric (transposes written out)
    Dh, L, Lt, xt, xtT, b, bT = sp.symbols("Dh L Lt xt xtT b bT", commutative=False)
    f_orig = (xtT * Dh) * L * (Dh * xt) / 2 - bT * (Dh * xt)  # f(x) = ½xᵀLx − bᵀx at x = D^{-1/2}x̃
    f_pre = xtT * (Dh * L * Dh) * xt / 2 - (bT * Dh) * xt  # ½x̃ᵀL̃x̃ − (D^{-1/2}b)ᵀx̃
    D.symbolic("f(D^{-1/2}x̃) = ½x̃ᵀL̃x̃ − (D^{-1/2}b)ᵀx̃, L̃ = D^{-1/2}LD^{-1/2} (any size)", "(20)",
               sp.expand(f_orig - f_pre), reach=GENERAL)
    aj = sp.Symbol("a_j", positive=True)
    D.symbolic("Diag(L̃) = I: L̃_jj = a_j^(-1/2)·a_j·a_j^(-1/2) = 1 (a_j = L_jj > 0; D^{-1/2} diagonal)", "(20)",
               aj**precond_power * aj * aj**precond_power - 1, f"D power {precond_power}", reach=GENERAL)
    D.symbolic("∇f̃(x̃) = L̃x̃ − D^{-1/2}b = D^{-1/2}∇f(D^{-1/2}x̃) (any size)", "(20)",
               sp.expand((Dh * L * Dh) * xt - Dh * b - Dh * (L * (Dh * xt) - b)), reach=GENERAL)

    # Perm-1 on L̃ (Diag(L̃) = I), every n: per draw coordinate j has one owner, B̄_jj = (1/n)·s²·L̃_jj, B̄_jk = 0
    beta = perm_scale**2 * 1 / n_s
    D.symbolic("B̄ = (1/n)Σ_i C_iL̃C_i = n·Diag(L̃) = nI on every draw, every n (one owner per coordinate)", "(20)",
               beta - n_s, f"B̄_jj = {beta}", reach=GENERAL)
    i_ = sp.Symbol("i", positive=True, integer=True)
    eb = sp.simplify(sp.Sum(perm1_inclusion(1) * perm_scale**2 * 1, (i_, 1, n_s)).doit() / n_s)
    D.symbolic("E[B̄] = (1/n)Σ_i P(j∈S_i)·s²·L̃_jj = ebar·I (off-diagonal P(j,k∈S_i) = 0), every n", "(20)",
               sp.Matrix([eb - ebar, perm1_inclusion(2)]), f"ebar = {ebar}", reach=GENERAL)
    W = (Lt * eb + eb * Lt) / 2
    D.symbolic("W̃ = ½(L̃E[B̄] + E[B̄]L̃) = w_coef·L̃ (any size)", "(20)", W - w_coef * Lt, f"w_coef = {w_coef}",
               reach=GENERAL)
    BLB = beta**2 * Lt  # B̄ = βI on every draw
    D.symbolic("E[B̄L̃B̄] = blb_coef·L̃ (B̄ = nI on every draw; any size)", "(20)", BLB - blb_coef * Lt,
               f"blb_coef = {blb_coef}", reach=GENERAL)
    th = sp.Symbol("theta", positive=True)
    D.symbolic("θW̃ − E[B̄L̃B̄] = n(θ − n)L̃ (any size)", "(14)", sp.expand(th * W - BLB - n_s * (th - n_s) * Lt),
               reach=GENERAL)
    # (14) ⇔ c(θ)L̃ ⪰ 0 with L̃ ≻ 0 ⇔ c(θ) = θE[B̄]_jj − β² ≥ 0, for every n = 2 + m ≥ 2 (m ≥ 0)
    m, dl, eps = sp.Symbol("m", nonnegative=True), sp.Symbol("delta", nonnegative=True), sp.Symbol("epsilon",
                                                                                                   positive=True)
    coef = th * eb - beta**2
    sub = {n_s: 2 + m}
    above = sp.expand(coef.subs(th, theta_min + dl).subs(sub))
    below = sp.expand(coef.subs(th, theta_min - eps).subs(sub))
    D.symbolic_true("(14) for every θ ≥ theta_min: θE[B̄]_jj − β² ≥ 0 at θ = theta_min + δ, every n = 2 + m ≥ 2", "(14)",
                    sp.Ge(above, 0), f"theta_min = {theta_min}: θE[B̄]_jj − β² = {above}", reach=GENERAL)
    D.symbolic_true("tight: (14) fails at θ = theta_min − ε for every ε > 0 (L̃ ≻ 0), every n ≥ 2", "(14)",
                    sp.Lt(below, 0), f"theta_min = {theta_min}: θE[B̄]_jj − β² = {below}", reach=GENERAL)
    D.symbolic("at γ = 1/theta_min one step reaches x* = 0: x̃¹ = (1 − γβ)x̃⁰ on every draw, 1 − β/theta_min = 0",
               "(22)", 1 - beta / theta_min, f"theta_min = {theta_min}", reach=GENERAL)

    # (21)
    D.symbolic("(21): L̃⁻¹W̃L̃⁻¹ = norm_coef·L̃⁻¹ (W̃ from above; any size)", "(21)",
               sp.expand(Lt**-1 * (eb * Lt) * Lt**-1 - norm_coef * Lt**-1), f"norm_coef = {norm_coef}",
               reach=GENERAL)
    lj, gap = sp.Symbol("lambda_j", positive=True), sp.Symbol("delta", nonnegative=True)
    D.symbolic_true("(21): ‖∇f̃‖²_{L̃⁻¹W̃L̃⁻¹} ≥ grad_coef·‖∇f̃‖² in L̃'s eigenbasis: E[B̄]_jj/λ_j ≥ grad_coef for every "
                    "eigenvalue λ_j = λ_max − δ", "(21)",
                    sp.Ge(sp.factor(eb / lj - grad_coef.subs(lam_max, lj + gap)), 0), f"grad_coef = {grad_coef}",
                    reach=GENERAL)
    # (22): γ = 1/theta_min in (15): avg E[B̄]_jj‖∇f̃‖²_{L̃⁻¹} ≤ 2(f0 − fK)/(γK), and ‖∇f̃‖² ≤ λ_max‖∇f̃‖²_{L̃⁻¹}
    K = sp.Symbol("K", positive=True)
    gam = 1 / theta_min
    D.bound("(22) at γ = 1/θ: stated 2·lam_coef/K vs λ_max·2/(γE[B̄]_jjK) from (15) and (21)", "(22)",
            2 * lam_coef / K, sp.simplify(lam_max * 2 / (gam * eb * K)), reach=GENERAL)
    # (22) is attained: at γ = 1/theta_min, x̃¹ = c·x̃⁰ with c = 1 − β/theta_min (= 0 above); for x̃⁰ = v with
    # L̃v = λ_max v, at K = 1: ‖∇f̃(v)‖² = λ_max²‖v‖² and 2λ_max(f̃(v) − f̃(cv)) = λ_max²‖v‖²(1 − c²); with c = 0 also
    # x̃^k = 0 for k ≥ 1, so both sides are λ_max²‖v‖²/K for every K ≥ 1
    v2 = sp.Symbol("v2", positive=True)  # ‖v‖²
    c1 = 1 - beta / theta_min
    D.symbolic("(22) is attained (the constant 2λ_max(L̃) cannot be lowered): at γ = 1/theta_min, x̃⁰ an eigenvector "
               "of L̃ for λ_max, both sides equal λ_max²‖x̃⁰‖²/K for every K ≥ 1", "(22)",
               lam_max**2 * v2 - 2 * lam_max * (lam_max * v2 / 2 - c1**2 * lam_max * v2 / 2), f"c = {c1}",
               reach=GENERAL)

    # cross-checks at fixed sizes (evidence)
    for n in sizes:
        S = _symbolic(n, perm_scale, precond_power)
        d = n
        D.symbolic(f"cross-check (n = d = {n}, symbolic L): f(D^(-1/2)x̃) = ½x̃ᵀL̃x̃ − (D^(-1/2)b)ᵀx̃, Diag(L̃) = I, "
                   "∇f̃ by differentiation = D^(-1/2)∇f", "(20)",
                   sp.Matrix.vstack(sp.Matrix([S["f"]]), S["diag"].reshape(d * d, 1), S["grad"]),
                   reach=at(n=n, d=d), role="evidence")
        D.symbolic(f"cross-check (n = d = {n}): B̄ = nI on all {len(S['draws']) // (d * d)} draws enumerated; engine "
                   "E[B̄] = ebar·I, E[B̄L̃B̄] = blb_coef·L̃", "(20)",
                   sp.Matrix.vstack(S["draws"], (S["EB"] - ebar.subs(n_s, n) * sp.eye(d)).reshape(d * d, 1),
                                    (S["BLB"] - blb_coef.subs(n_s, n) * S["Lt"]).reshape(d * d, 1)),
                   reach=at(n=n, d=d), role="evidence")

    # numeric: random homogeneous instances, preconditioned, simulate (deterministic), check (14), (22) (evidence)
    worst14, worst_traj, worst22, worst_eb = np.inf, 0.0, np.inf, 0.0
    for seed in range(3):
        for nn in (3, 4):
            prob = precondition(homogeneous(nn, nn, seed=seed, cond=30.0, interpolation=True))
            sk = Permutation(nn, nn, scale=float(perm_scale.subs(n_s, nn)))
            mo = SketchMoments(prob, sk)
            Ltn = prob.L_bar
            ev, V = np.linalg.eigh(Ltn)
            th_n = float(theta_min.subs(n_s, nn))
            worst14 = min(worst14, float(np.linalg.eigvalsh(th_n * mo.W - mo.BLB)[0]) / nn**2)
            worst_eb = max(worst_eb, float(np.abs(mo.expected_B - float(ebar.subs(n_s, nn)) * np.eye(nn)).max()))
            for frac, x0 in itertools.product((1.0, 0.5), (np.ones(nn), V[:, -1])):
                gamma = frac / th_n
                K_ = 4
                res = simulate(prob, sk, gamma, K_, runs=2, seed=seed, x0=x0, record=np.arange(K_ + 1))
                pred = np.array([(1 - gamma * nn) ** k * x0 for k in range(K_ + 1)])
                worst_traj = max(worst_traj, float(np.abs(res.x_mean - pred).max()))
                g2 = res.metrics["grad2"].mean
                f = res.metrics["f"].mean
                lam_n = float(lam_coef.subs({lam_max: ev[-1], n_s: nn}))
                for Kk in range(1, K_ + 1):
                    rhs = 2 * lam_n * (f[0] - f[Kk]) / (gamma * nn * Kk)  # (15) + (21); (22) at γ = 1/n
                    worst22 = min(worst22, (rhs - g2[:Kk].mean()) / max(1.0, g2[0]))
    D.numeric("floats: E[B̄] = ebar·I on preconditioned instances (SketchMoments, n = d ∈ {3, 4})", "(20)",
              worst_eb <= 1e-12, f"max deviation {worst_eb:.2g}", role="evidence")
    D.numeric("floats: (14) holds at θ = theta_min (λ_min(θW̃ − E[B̄L̃B̄]) ≥ 0)", "(14)", worst14 >= -1e-10,
              f"min eigenvalue / n² {worst14:.3g}", role="evidence")
    D.numeric("floats: simulated trajectory is deterministic x̃^k = (1 − γn)^k x̃⁰ at γ ∈ {1, ½}/theta_min", "(22)",
              worst_traj <= 1e-12, f"max deviation {worst_traj:.2g}", role="evidence")
    D.numeric("floats: (22) (γ = 1/theta_min; general γ: 2·lam_coef(f̃⁰ − f̃^K)/(γnK)) on simulated trajectories",
              "(22)", worst22 >= -1e-12, f"min relative margin {worst22:.3g} (K = 1..4, x̃⁰ ∈ {{1, top eigenvector}})",
              role="evidence")
    D.latex["theta_min"] = sp.latex(theta_min)
    D.latex["bound"] = r"\frac{" + tex_times(2 * lam_coef, r"(f(x^0)-f(x^K))") + "}{K}"
    return D
