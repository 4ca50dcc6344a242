"""§3.1.2, heterogeneous sketch preconditioning (23)–(25), interpolation.

With ``C̃_i = √n ((L_i)_{π_iπ_i})^{-1/2} e_{π_i}e_{π_i}ᵀ`` (``n = d``):
``C̃_iL_iC̃_i = n e_{π_i}e_{π_i}ᵀ``, so ``E[C̃_iL_iC̃_i] = I`` and
``B̄ = (1/n)Σ_i n e_{π_i}e_{π_i}ᵀ = I`` on *every* draw. Hence ``E[B̄] = I``,
``W̄ = L̄``, ``E[B̄L̄B̄] = L̄`` and ``θW̄ − E[B̄L̄B̄] = (θ − 1)L̄``: (14) holds iff
``θ ≥ 1``. (15) with ``θ = 1`` has norm ``L̄⁻¹W̄L̄⁻¹ = L̄⁻¹``; with
``‖∇f‖² ≤ λ_max(L̄)‖∇f‖²_{L̄⁻¹}`` and ``γ = 1``:

    (1/K) Σ_{k<K} ‖∇f(x^k)‖² ≤ 2λ_max(L̄)(f(x⁰) − f(x^K))/K.               (24)

(25): ``L̄^{-1/2}W̄L̄^{-1/2} = I``, so (16)'s factor is ``1 − γ`` — zero at
``γ = 1``; indeed ``x¹ = x⁰ − B̄x⁰ = 0`` on every draw (one step).

The scale must be ``((L_i)_{π_iπ_i})^{-1/2}``. Our copy prints
``[L_i^{-1/2}]_{π_iπ_i}``; then ``E[C̃_iL_iC̃_i] = Diag((L_i)_{jj}([L_i^{-1/2}]_{jj})²) ⪰ I``
(Jensen), ``≠ I`` unless the coordinate vectors are eigenvectors, and the
one-step convergence fails (numeric, ``variant="printed"``).

Constants: ``variant`` (``"diagonal"``; our copy ``"printed"``), ``scale``
(the factor in front, ``√n``), ``gamma`` and ``factor`` (the claim "(16)'s
factor at step size ``gamma`` is ``factor``": ``γ = 1``, factor ``0``; ``gamma`` is also the step size
of (15) that turns ``2/(γK)`` into (24)'s ``2λ_max/K``).
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Literal, TypedDict

import numpy as np
import scipy.linalg as sla
import sympy as sp

from ..generators import interpolation
from ..moments import SketchMoments
from ..problem import QuadraticProblem
from ..simulate import simulate
from ..sketches import Permutation, PreconditionedPerm
from ..sketches.precond import Variant
from ..symbolic import moments as MM
from .base import Derivation, Step, stack, symbolic_expectation, symmetric_matrix, vector

n_s = sp.Symbol("n", positive=True, integer=True)
SQRT_N = sp.sqrt(n_s)
ONE = sp.Integer(1)
ZERO = sp.Integer(0)
N = 3  # n = d = 3 for the symbolic checks


class _Symbolic(TypedDict):
    """The symbolic results of :func:`_symbolic` for one front factor (n = d = 3)."""

    cac: list[sp.Matrix]
    EB: sp.Matrix
    W: sp.Matrix
    BLB: sp.Matrix
    Lb: sp.Matrix
    ok_draw: bool
    norm: sp.Matrix


def _client_matrix(i: int, d: int) -> sp.Matrix:
    """Symbolic symmetric L_i with positive diagonal symbols."""
    a = sp.symbols(f"a{i}_0:{d}", positive=True)
    return sp.Matrix(d, d, lambda j, k: a[j] if j == k else sp.Symbol(f"L{i}_{min(j, k)}{max(j, k)}", real=True))


@lru_cache(maxsize=8)
def _symbolic(scale: sp.Expr) -> _Symbolic:
    n = d = N
    s = scale.subs(n_s, n)
    Ls = [_client_matrix(i, d) for i in range(n)]
    Lb = sum(Ls, sp.zeros(d, d)) / n
    T = np.array([[s / sp.sqrt(Ls[i][j, j]) for j in range(d)] for i in range(n)], dtype=object)
    sk = Permutation(n, d)
    CAC = symbolic_expectation(MM.CAC, sk, [stack(Ls)], scale=T)
    cac = [sp.Matrix(CAC[i].tolist()) - sp.eye(d) for i in range(n)]
    EB = sp.Matrix(symbolic_expectation(MM.B, sk, [stack(Ls)], scale=T).tolist()) / n
    W = ((Lb * EB + EB * Lb) / 2).applyfunc(sp.simplify)  # W̄ from the engine's E[B̄]
    BLB = sp.Matrix(symbolic_expectation(MM.BMB, sk, [stack(Ls), np.array(Lb.tolist(), dtype=object), stack(Ls)],
                                         scale=T).tolist()) / n**2
    ok_draw = True
    x = vector("x", d)
    for perm in itertools.permutations(range(d)):
        Bp = sp.zeros(d, d)
        for i, j in enumerate(perm):
            Ct = sp.zeros(d, d)
            Ct[j, j] = T[i, j]
            Bp += Ct * Ls[i] * Ct / n
        ok_draw = ok_draw and all(sp.simplify(e) == 0 for e in Bp - sp.eye(d))
        x1 = x - Bp * x
        ok_draw = ok_draw and all(sp.simplify(e) == 0 for e in x1)
    L2 = symmetric_matrix("L", 2)
    norm = (L2.inv() * L2 * L2.inv() - L2.inv()).applyfunc(sp.cancel)
    return {"cac": cac, "EB": EB - sp.eye(d), "W": W, "BLB": BLB - Lb, "Lb": Lb, "ok_draw": ok_draw, "norm": norm}


def _table(problem: QuadraticProblem, variant: Variant, scale: sp.Expr) -> PreconditionedPerm:
    """(23) for ``problem`` with the given variant and front factor ``scale`` (√n in the paper)."""
    base = PreconditionedPerm.from_problem(problem, variant)
    factor = float(scale.subs(n_s, problem.n)) / np.sqrt(problem.n)
    return PreconditionedPerm(problem.n, problem.d, base.table * factor, base.variant)


def one_step(problem: QuadraticProblem, sketch: PreconditionedPerm, gamma: float) -> np.ndarray:
    """Quadratic form of ``E‖x¹‖²_{L̄}`` in ``x⁰`` (interpolation): ``L̄ − 2γW̄ + γ²E[B̄L̄B̄]``."""
    mo = SketchMoments(problem, sketch)
    return problem.L_bar - 2 * gamma * mo.W + gamma**2 * mo.BLB


def derive(variant: Literal["diagonal", "printed"] = "diagonal", scale: sp.Expr = SQRT_N,
           gamma: sp.Expr = ONE, factor: sp.Expr = ZERO) -> Derivation:
    """Check (23)–(25) with sketch ``variant``, front factor ``scale`` (``√n``) and the claim that
    (16)'s contraction factor at step size ``gamma`` is ``factor`` (paper: ``γ = 1``, factor 0)."""
    scale, gamma, factor = sp.sympify(scale), sp.sympify(gamma), sp.sympify(factor)
    D = Derivation("§3.1.2 heterogeneous preconditioning", ("(23)", "(24)", "(25)"),
                   constants={"variant": variant, "scale": scale, "gamma": gamma, "factor": factor})
    S = _symbolic(scale)

    # (23): symbolic with the diagonal scale table scale/√((L_i)_jj)
    for i, M in enumerate(S["cac"]):
        D.symbolic(f"E[C̃_{i}L_{i}C̃_{i}] = I (engine, scale {scale}·(L_i)_jj^(-1/2), n = d = 3)", "(23)", M)
    D.steps.append(Step("B̄ = I and x¹ = x⁰ − B̄x⁰ = 0 on all 6 permutations (symbolic L_i)", "(23)", "fixed-size",
                        bool(S["ok_draw"]), "all outcomes" if S["ok_draw"] else "a draw differs", sizes="n=d=3"))
    D.symbolic("E[B̄] = I (engine)", "(23)", S["EB"])
    D.symbolic("E[B̄L̄B̄] = L̄ (engine BMB)", "(23)", S["BLB"])
    Lb, th = S["Lb"], sp.Symbol("theta", positive=True)
    W = S["W"]  # ½(L̄E[B̄] + E[B̄]L̄) with the engine's E[B̄]
    D.symbolic("W̄ = ½(L̄E[B̄] + E[B̄]L̄) = L̄ (engine E[B̄])", "(23)", W - Lb)
    BLB = S["BLB"] + Lb  # the engine's E[B̄L̄B̄]
    D.symbolic("θW̄ − E[B̄L̄B̄] = (θ − 1)L̄, so (14) ⇔ θ ≥ 1 (θ = 1 the smallest)", "(14)", th * W - BLB - (th - 1) * Lb)
    D.symbolic_true("γ = gamma is admissible in (15): 0 < γ ≤ 1/θ = 1", "(24)",
                    sp.And(sp.Gt(gamma, 0), sp.Le(gamma, 1)), f"γ = {gamma}")

    # (24)
    D.symbolic("norm of (15): L̄⁻¹W̄L̄⁻¹ = L̄⁻¹ (d = 2)", "(24)", S["norm"])
    lj, gap = sp.Symbol("lambda_j", positive=True), sp.Symbol("delta", nonnegative=True)
    D.symbolic_true("‖∇f‖² ≤ λ_max‖∇f‖²_{L̄⁻¹}: λ_max/λ_j − 1 = δ/λ_j ≥ 0 (λ_max = λ_j + δ)", "(24)",
                    sp.Ge(sp.simplify((lj + gap) / lj - 1), 0))
    K, lmax = sp.symbols("K lambda_max", positive=True)
    D.symbolic("(24) from (15) at γ = gamma: λ_max·2/(γK) = 2λ_max/K (the printed bound)", "(24)",
               lmax * 2 / (gamma * K) - 2 * lmax / K, f"γ = {gamma}")
    # (25): λ_min(L̄^{-1/2}W̄L̄^{-1/2}) = λ_min(I) = 1 (W̄ = L̄ above); factor 1 − γ·1
    D.symbolic("(25): (16)'s factor 1 − γλ_min(L̄^{-1/2}L̄L̄^{-1/2}) = 1 − γ equals the claimed factor", "(25)",
               (1 - gamma * 1) - factor, f"γ = {gamma}, claimed factor {factor}")

    # numeric with the chosen variant: E[C̃LC̃] = I, B̄ = I on every outcome, one-step convergence
    worst_cac, worst_draw, worst_step, worst_sim = 0.0, 0.0, -np.inf, 0.0
    gam = float(gamma)
    for seed in range(3):
        prob = interpolation(4, 4, 0.8, seed=seed, cond=10.0)
        sk = _table(prob, variant, scale)
        worst_cac = max(worst_cac, float(np.abs(sk.expected_CAC(np.asarray(prob.L)) - np.eye(4)).max()))
        sup = sk.support()
        C = sup.draw.dense(4)
        Bk = np.einsum("knij,njl,knlm->kim", C, np.asarray(prob.L), C) / 4
        worst_draw = max(worst_draw, float(np.abs(Bk - np.eye(4)).max()))
        M = one_step(prob, sk, gam)
        L = prob.L_bar
        # exact worst case max_x E‖x¹‖²_L̄/‖x⁰‖²_L̄ − factor
        worst_step = max(worst_step, float(sla.eigh(M, L, eigvals_only=True)[-1]) - float(factor))
        res = simulate(prob, sk, gam, 1, runs=4, seed=seed, x0=np.arange(1.0, 5.0), record=[0, 1])
        dist = res.metrics["dist2_L"].mean
        worst_sim = max(worst_sim, float(dist[1] - float(factor) * dist[0]))
    D.numeric(f"E[C̃_iL_iC̃_i] = I for every client ({variant} scale, 3 heterogeneous n = d = 4 instances)", "(23)",
              worst_cac <= 1e-12, f"max deviation {worst_cac:.3g}")
    D.numeric(f"B̄ = I on all 24 outcomes ({variant} scale)", "(23)", worst_draw <= 1e-12,
              f"max deviation {worst_draw:.3g}")
    D.numeric("(25): exact max E‖x¹‖²_{L̄}/‖x⁰‖²_{L̄} ≤ claimed factor at the claimed γ", "(25)",
              worst_step <= 1e-12, f"max excess {worst_step:.3g} (γ = {gamma})")
    D.numeric("(25): simulated ‖x¹‖²_{L̄} ≤ factor·‖x⁰‖²_{L̄} (4 runs)", "(25)", worst_sim <= 1e-12,
              f"max excess {worst_sim:.3g}")

    # finding, independent of the constants: the printed scale [L_i^{-1/2}]_jj breaks (23)–(25)
    prob = interpolation(4, 4, 0.8, seed=11, cond=10.0)
    pr = PreconditionedPerm.from_problem(prob, "printed")
    cac = pr.expected_CAC(np.asarray(prob.L))
    diag_dev = float(np.abs(cac - np.eye(4)).max())
    jensen = float(min(np.diagonal(c).min() for c in cac))
    M = one_step(prob, pr, 1.0)
    x0 = np.arange(1.0, 5.0)
    res = simulate(prob, pr, 1.0, 1, runs=4, seed=0, x0=x0, record=[0, 1])
    D.numeric("finding: printed scale [L_i^{-1/2}]_jj gives E[C̃_iL_iC̃_i] ≠ I (entries ≥ 1) and x¹ ≠ 0 at γ = 1",
              "(23)", diag_dev > 1e-3 and jensen >= 1 - 1e-12 and x0 @ M @ x0 > 1e-6
              and res.metrics["dist2_L"].mean[1] > 1e-6,
              f"max|E[C̃LC̃] − I| = {diag_dev:.3g}, min diagonal {jensen:.4g}, exact E‖x¹‖²_L̄ = {x0 @ M @ x0:.4g}, "
              f"simulated {res.metrics['dist2_L'].mean[1]:.4g} (‖x⁰‖²_L̄ = {res.metrics['dist2_L'].mean[0]:.4g})")
    D.latex["scale"] = sp.latex(scale) + r"\,((L_i)_{\pi_i\pi_i})^{-1/2}"
    D.latex["factor"] = sp.latex(factor)
    return D
