"""§3.1.1, homogeneous preconditioning (20)–(22), interpolation (``b = 0`` for the rates).

Change of variables ``x̃ = D^{1/2}x`` (``D = Diag(L)``): ``f(D^{-1/2}x̃) =
½x̃ᵀL̃x̃ − (D^{-1/2}b)ᵀx̃`` with ``L̃ = D^{-1/2}LD^{-1/2}`` and ``Diag(L̃) = I``
(20); gradients transform as ``∇f̃(x̃) = D^{-1/2}∇f(x)``. Perm-1 (``n = d``) on
the homogeneous ``L̃``: ``B̄ = n·Diag(L̃) = nI`` on every draw, so ``E[B̄] = nI``,
``W̃ = nL̃`` and ``E[B̄L̃B̄] = n²L̃``; ``θW̃ − E[B̄L̃B̄] = n(θ − n)L̃``, hence (14)
holds iff ``θ ≥ n``. (21): ``‖∇f̃‖²_{L̃⁻¹W̃L̃⁻¹} = n‖∇f̃‖²_{L̃⁻¹} ≥
(n/λ_max(L̃))‖∇f̃‖²``. (22), from (15) with ``γ = 1/θ = 1/n``:

    (1/K) Σ_{k<K} ‖∇f̃(x̃^k)‖² ≤ 2λ_max(L̃)(f̃(x̃⁰) − f̃(x̃^K))/K.

Here the iteration is deterministic: ``x̃^{k+1} = (1 − γn)x̃^k`` (at ``γ = 1/n``
one step reaches ``x* = 0``). The norms in (21)–(22) are of the gradient of the
*preconditioned* problem ``f̃``; for the original variables
``‖∇f̃‖² = ‖∇f‖²_{D⁻¹}``.

Constants: ``theta_min`` (paper ``n``), ``lam_coef`` (coefficient in (22),
paper ``λ_max(L̃)``) and ``ebar`` (``E[B̄] = ebar·I``, paper ``n``).
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
from ..symbolic import moments as MM
from .base import Derivation, Step, stack, symbolic_expectation, vector

n_s = sp.Symbol("n", positive=True, integer=True)
lam_max = sp.Symbol("lambda_max", positive=True)
N = 3  # n = d = 3 for the symbolic checks


class _Symbolic(TypedDict):
    """The constant-free symbolic results of :func:`_symbolic` (n = d = 3)."""

    L: sp.Matrix
    Lt: sp.Matrix
    f: sp.Expr
    diag: sp.MatrixBase
    grad: sp.Matrix
    ok_draw: bool
    EB: sp.Matrix
    BLB: sp.Matrix
    norm21: sp.Matrix


def precondition(problem: QuadraticProblem) -> QuadraticProblem:
    """The homogeneous problem in ``x̃ = D^{1/2}x``: ``L̃_i = D^{-1/2}L_iD^{-1/2}``, ``b̃_i = D^{-1/2}b_i``."""
    s = 1 / np.sqrt(problem.D[0])
    return QuadraticProblem(np.asarray(problem.L) * s[None, :, None] * s[None, None, :],
                            np.asarray(problem.b) * s[None, :], check_psd=False)


@lru_cache(maxsize=1)
def _symbolic() -> _Symbolic:
    d = n = N
    a = sp.symbols(f"a0:{d}", positive=True)  # diagonal of L
    c = {(j, k): sp.Symbol(f"c_{j}{k}", real=True) for j in range(d) for k in range(j + 1, d)}
    L = sp.Matrix(d, d, lambda j, k: a[j] if j == k else c[(min(j, k), max(j, k))])
    Dmh = sp.diag(*[1 / sp.sqrt(aj) for aj in a])
    Lt = Dmh * L * Dmh
    b, xt = vector("b", d), vector("xt", d)
    x = Dmh * xt
    f_orig = (x.T * L * x)[0] / 2 - (b.T * x)[0]
    f_pre = (xt.T * Lt * xt)[0] / 2 - ((Dmh * b).T * xt)[0]
    grad_pre = sp.Matrix([sp.diff(f_pre, v) for v in xt])
    grad_link = grad_pre - Dmh * (L * x - b)
    # Perm-1 on the homogeneous L̃: B̄ per permutation, engine moments
    ok_draw = True
    for perm in itertools.permutations(range(d)):
        Bp = sp.zeros(d, d)
        for j in perm:
            Ct = sp.zeros(d, d)
            Ct[j, j] = n
            Bp += Ct * Lt * Ct / n
        ok_draw = ok_draw and all(sp.simplify(e) == 0 for e in Bp - n * sp.eye(d))
    sk = Permutation(n, d)
    Ls = [Lt] * n
    EB = sp.Matrix(symbolic_expectation(MM.B, sk, [stack(Ls)]).tolist()) / n
    BLB = sp.Matrix(symbolic_expectation(MM.BMB, sk, [stack(Ls), np.array(Lt.tolist(), dtype=object),
                                                      stack(Ls)]).tolist()) / n**2
    # (21) on a unit-diagonal symbolic L̃ (d = 3)
    u = {(j, k): sp.Symbol(f"u_{j}{k}", real=True) for j in range(d) for k in range(j + 1, d)}
    U = sp.Matrix(d, d, lambda j, k: 1 if j == k else u[(min(j, k), max(j, k))])
    norm21 = (U.inv() * (n_s * U) * U.inv() - n_s * U.inv()).applyfunc(sp.cancel)
    return {"L": L, "Lt": Lt, "f": sp.simplify(f_orig - f_pre),
            "diag": sp.simplify(sp.diag(*Lt.diagonal()) - sp.eye(d)), "grad": grad_link.applyfunc(sp.simplify),
            "ok_draw": ok_draw, "EB": EB, "BLB": BLB, "norm21": norm21}


def derive(theta_min: sp.Expr = n_s, lam_coef: sp.Expr = lam_max, ebar: sp.Expr = n_s) -> Derivation:
    """Check (20)–(22): (14) holds for all ``θ ≥ theta_min``, (22) has coefficient ``2·lam_coef``,
    ``E[B̄] = ebar·I`` (paper: ``theta_min = n``, ``lam_coef = λ_max(L̃)``, ``ebar = n``)."""
    theta_min, lam_coef, ebar = sp.sympify(theta_min), sp.sympify(lam_coef), sp.sympify(ebar)
    D = Derivation("§3.1.1 homogeneous preconditioning", ("(20)", "(21)", "(22)"),
                   constants={"theta_min": theta_min, "lam_coef": lam_coef, "ebar": ebar})
    S = _symbolic()
    n = d = N
    D.symbolic("f(D^{-1/2}x̃) = ½x̃ᵀL̃x̃ − (D^{-1/2}b)ᵀx̃, L̃ = D^{-1/2}LD^{-1/2} (d = 3)", "(20)", S["f"])
    D.symbolic("Diag(L̃) = I", "(20)", S["diag"])
    D.symbolic("∇f̃(x̃) = D^{-1/2}∇f(D^{-1/2}x̃)", "(20)", S["grad"])
    D.steps.append(Step("Perm-1 on L̃: B̄ = n·Diag(L̃) = nI on all 6 permutations (n = d = 3)", "(20)", "fixed-size",
                        bool(S["ok_draw"]), "all outcomes" if S["ok_draw"] else "a draw differs", sizes="n=d=3"))
    D.symbolic("E[B̄] = ebar·I (engine)", "(20)", S["EB"] - ebar.subs(n_s, n) * sp.eye(d), f"ebar = {ebar}")
    W = (S["Lt"] * S["EB"] + S["EB"] * S["Lt"]) / 2
    D.symbolic("W̃ = nL̃", "(20)", W - n * S["Lt"])
    D.symbolic("E[B̄L̃B̄] = n²L̃ (engine BMB)", "(20)", S["BLB"] - n**2 * S["Lt"])
    th = sp.Symbol("theta", positive=True)
    D.symbolic("θW̃ − E[B̄L̃B̄] = n(θ − n)L̃", "(14)", th * W - S["BLB"] - n * (th - n) * S["Lt"])
    # θW̃ − E[B̄L̃B̄] = n(θ − n)L̃ with L̃ ≻ 0 (B̄ = nI on every draw for every n, since Diag(L̃) = I): (14) holds iff
    # n(θ − n) ≥ 0. For every n = 2 + m ≥ 2 (m ≥ 0): θ = theta_min + δ (δ ≥ 0) is admissible, θ = theta_min − ε is not
    m, dl, eps = sp.Symbol("m", nonnegative=True), sp.Symbol("delta", nonnegative=True), sp.Symbol("epsilon",
                                                                                                   positive=True)
    at = {n_s: 2 + m}
    above = sp.expand((n_s * (theta_min + dl - n_s)).subs(at))
    below = sp.expand((n_s * (theta_min - eps - n_s)).subs(at))
    D.symbolic_true("(14) for every θ ≥ theta_min: n(θ − n) ≥ 0 at θ = theta_min + δ, every n = 2 + m ≥ 2", "(14)",
                    sp.Ge(above, 0), f"theta_min = {theta_min}: n(θ − n) = {above}")
    D.symbolic_true("tight: (14) fails at θ = theta_min − ε for every ε > 0 (n(θ − n) < 0, L̃ ≻ 0), every n ≥ 2",
                    "(14)", sp.Lt(below, 0), f"theta_min = {theta_min}: n(θ − n) = {below}")

    D.symbolic("(21): L̃⁻¹W̃L̃⁻¹ = nL̃⁻¹ (unit-diagonal symbolic L̃, d = 3)", "(21)", S["norm21"])
    lj, gap = sp.Symbol("lambda_j", positive=True), sp.Symbol("delta", nonnegative=True)
    D.symbolic_true("(21): n/λ_j − n/λ_max = nδ/(λ_j(λ_j + δ)) ≥ 0 with λ_max = λ_j + δ", "(21)",
                    sp.Ge(sp.factor(n_s / lj - n_s / (lj + gap)), 0))
    # (22): γ = 1/theta_min; (15): avg n‖∇f̃‖²_{L̃⁻¹} ≤ 2(f0 − fK)/(γK); ‖∇f̃‖² ≤ λ_max‖∇f̃‖²_{L̃⁻¹}
    K = sp.Symbol("K", positive=True)
    gam = 1 / theta_min
    derived = lam_max * (2 / (gam * K)) / n_s  # coefficient of (f0 − fK) after dividing by n, times λ_max
    D.symbolic("(22) with γ = 1/θ: λ_max·2/(γnK) = 2·lam_coef/K", "(22)", sp.simplify(derived - 2 * lam_coef / K),
               f"γ = 1/({theta_min}), lam_coef = {lam_coef}")

    # numeric: random homogeneous instances, preconditioned, simulate (deterministic), check (14), (22)
    worst14, worst_traj, worst22, worst_eb = np.inf, 0.0, np.inf, 0.0
    for seed in range(3):
        for nn in (3, 4):
            prob = precondition(homogeneous(nn, nn, seed=seed, cond=30.0, interpolation=True))
            mo = SketchMoments(prob, Permutation(nn, nn))
            Lt = prob.L_bar
            ev, V = np.linalg.eigh(Lt)
            th_n = float(theta_min.subs(n_s, nn))
            worst14 = min(worst14, float(np.linalg.eigvalsh(th_n * mo.W - mo.BLB)[0]) / nn**2)
            worst_eb = max(worst_eb, float(np.abs(mo.expected_B - float(ebar.subs(n_s, nn)) * np.eye(nn)).max()))
            for frac, x0 in itertools.product((1.0, 0.5), (np.ones(nn), V[:, -1])):
                gamma = frac / th_n
                K_ = 4
                res = simulate(prob, Permutation(nn, nn), gamma, K_, runs=2, seed=seed, x0=x0,
                               record=np.arange(K_ + 1))
                pred = np.array([(1 - gamma * nn) ** k * x0 for k in range(K_ + 1)])
                worst_traj = max(worst_traj, float(np.abs(res.x_mean - pred).max()))
                g2 = res.metrics["grad2"].mean
                f = res.metrics["f"].mean
                lam_n = float(lam_coef.subs({lam_max: ev[-1], n_s: nn}))
                for Kk in range(1, K_ + 1):
                    rhs = 2 * lam_n * (f[0] - f[Kk]) / (gamma * nn * Kk)  # (15) + (21); (22) at γ = 1/n
                    worst22 = min(worst22, (rhs - g2[:Kk].mean()) / max(1.0, g2[0]))
    D.numeric("E[B̄] = ebar·I on preconditioned instances (SketchMoments)", "(20)", worst_eb <= 1e-12,
              f"max deviation {worst_eb:.2g}")
    D.numeric("(14) holds at θ = theta_min (λ_min(θW̃ − E[B̄L̃B̄]) ≥ 0)", "(14)", worst14 >= -1e-10,
              f"min eigenvalue / n² {worst14:.3g}")
    D.numeric("simulated trajectory is deterministic x̃^k = (1 − γn)^k x̃⁰ at γ ∈ {1, ½}/theta_min", "(22)",
              worst_traj <= 1e-12, f"max deviation {worst_traj:.2g}")
    D.numeric("(22) (γ = 1/theta_min; general γ: 2·lam_coef(f̃⁰ − f̃^K)/(γnK)) on simulated trajectories", "(22)",
              worst22 >= -1e-12, f"min relative margin {worst22:.3g} (K = 1..4, x̃⁰ ∈ {{1, top eigenvector}})")
    D.latex["theta_min"] = sp.latex(theta_min)
    D.latex["bound"] = r"\frac{2" + sp.latex(lam_coef) + r"(f(x^0)-f(x^K))}{K}"
    return D
