"""Monte Carlo checks of the paper's bounds, with statistical guarantees.

Each check simulates ``R`` independent runs, forms a per-run statistic ``Y``
whose expectation the bound controls (``E[Y] ≤ bound``, or ``E[Y] = value``
for exact identities), and tests it:

* inequality bounds: one-sided Student-t test of ``H0: E[Y] ≤ bound``
  (:func:`isttheory.stats.upper_test`); a check *fails* when ``H0`` is rejected;
* identities ((28), also with Perm-q where ``E[B̄]`` is not diagonal; Theorem 2's exact limit; (31)):
  two-sided Student-t tests per coordinate;
* the family of p-values is corrected with Holm's procedure at family-wise
  level ``α = 1e-3`` (:data:`isttheory.stats.FAMILY_ALPHA`): on true bounds the
  probability that any check of a run fails is at most ``1e-3``.

Each check also computes the exact ``E[Y]`` from the dynamics engine, the
margin ``bound − Ȳ`` and the tightness ``bound / E[Y]``, and tests the Monte Carlo
estimate against the exact ``E[Y]`` (two-sided, Holm across the family at the same
level): a rejection there means the simulator and the exact engine disagree, a bug in
one of them (``disagrees``; ``verify`` reports it as an error, not as a verdict on the bound).
The exact values come from :mod:`isttheory.dynamics` and the formulas of :mod:`isttheory.quantities`,
so those are tested by every ``verify`` run. Every check takes the
claim's constant as a parameter (rate power, coefficient, fixed point shift…)
so a mutation test can pass a wrong one and watch the check fail.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg as sla
from scipy import stats as sst

from . import generators, quantities
from .bounds import eq24_rhs, thm1_eq15_rhs, thm1_eq16_rhs, thm2_corrected_rhs, thm2_limit
from .budget import FAST
from .constants import rate, theta_eigen
from .dynamics import ExactDynamics
from .errors import CheckError
from .labels import STAT_DESCENT, STAT_EQ15, STAT_EQ16, STAT_EQ25, STAT_EQ28, STAT_EQ30, STAT_EQ30_LIMIT, STAT_EQ31
from .moments import SketchMoments
from .problem import QuadraticProblem
from .simulate import SimulationResult, simulate
from .sketches import Permutation, PreconditionedPerm
from .stats import FAMILY_ALPHA, holm, upper_test


@dataclass
class BoundCheck:
    """One bound checked on one instance."""

    equation: str
    instance: str
    statistic: str
    bound: float
    estimate: float
    se: float
    p_value: float
    exact: float | None
    runs: int
    constants: dict[str, Any] = field(default_factory=dict)
    kind: str = "upper"
    rejected: bool = False
    tightness: float | None = None
    """Exact right side ÷ exact left side of the bound (1.0 = tight); ``None`` for identities."""
    exact_p_value: float | None = None
    """Two-sided p-value of the Monte Carlo estimate against the exact ``E[Y]`` (Bonferroni over coordinates
    for identities); ``None`` without an exact value."""
    disagrees: bool = False
    """Holm across the family rejects ``E[Y] = exact``: the simulator and the exact engine disagree."""

    @property
    def margin(self) -> float:
        """``bound − Ȳ`` (positive: the bound holds with room)."""
        return self.bound - self.estimate

    @property
    def mc_vs_exact_z(self) -> float | None:
        """``(Ȳ − E[Y])/SE``: the Monte Carlo estimate against the exact value (None when SE ≈ 0)."""
        if self.exact is None or self.se <= 1e-12 * max(1.0, abs(self.exact)):
            return None
        return (self.estimate - self.exact) / self.se

    def to_dict(self) -> dict[str, Any]:
        return {"equation": self.equation, "instance": self.instance, "statistic": self.statistic,
                "bound": self.bound, "estimate": self.estimate, "se": self.se, "p_value": self.p_value,
                "exact": self.exact, "margin": self.margin, "tightness": self.tightness,
                "mc_vs_exact_z": self.mc_vs_exact_z, "exact_p_value": self.exact_p_value,
                "disagrees": self.disagrees, "runs": self.runs, "rejected": self.rejected,
                "constants": {k: (v if isinstance(v, (int, float, str, bool)) else str(v))
                              for k, v in self.constants.items()}}


def _two_sided(samples: np.ndarray, target: np.ndarray) -> tuple[float, int, np.ndarray, np.ndarray]:
    """Two-sided t-tests of ``E[samples] = target`` per coordinate (samples ``(R, d)``): the smallest p-value
    times the number of coordinates (Bonferroni), the coordinate furthest from the target, the means and SEs.
    A coordinate without spread (SE ≈ 0) passes when it equals the target to ``1e-10`` (relative)."""
    m = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / math.sqrt(samples.shape[0])
    dev = np.abs(m - target)
    scale = max(1.0, float(np.abs(target).max()))
    const = se <= 1e-15 * scale
    p_each = np.where(const, np.where(dev <= 1e-10 * scale, 1.0, 0.0),
                      2 * sst.t.sf(dev / np.where(const, 1.0, se), samples.shape[0] - 1))
    worst = int(np.argmax(dev / np.where(const, 1e-300, se)))
    return float(min(1.0, p_each.min() * p_each.size)), worst, m, se


def _upper(eq: str, inst: str, stat: str, y: np.ndarray, bound: float, exact: float | None,
           constants: dict[str, Any], lhs_rhs: tuple[float, float] | None = None) -> BoundCheck:
    """``lhs_rhs``: exact expectations of the two sides, for the tightness ratio rhs/lhs."""
    t = upper_test(y, bound)
    tight = None if not lhs_rhs or lhs_rhs[0] <= 0 else lhs_rhs[1] / lhs_rhs[0]
    exact_p = None if exact is None else _two_sided(y[:, None], np.array([exact]))[0]
    return BoundCheck(eq, inst, stat, bound, t.mean, t.se, t.p_value, exact, y.size, constants, tightness=tight,
                      exact_p_value=exact_p)


def _equal(eq: str, inst: str, stat: str, samples: np.ndarray, target: np.ndarray, exact_mean: np.ndarray,
           constants: dict[str, Any]) -> BoundCheck:
    """Two-sided t-tests of E[samples] = target per coordinate; the smallest p-value times the number of
    coordinates (Bonferroni inside the check, Holm across checks). The same against the exact mean."""
    p, worst, m, se = _two_sided(samples, target)
    return BoundCheck(eq, inst, stat, float(target[worst]), float(m[worst]), float(se[worst]), p,
                      float(exact_mean[worst]), samples.shape[0], constants, kind="equal",
                      exact_p_value=_two_sided(samples, exact_mean)[0])


def _it(res: SimulationResult) -> np.ndarray:
    """The per-run iterates of a simulation run with ``keep_iterates``; a divergent run is an error here
    (every check runs at a step size its theorem allows)."""
    if res.iterates is None or res.diverged:
        raise CheckError(f"check simulation diverged or kept no iterates: {res.divergence_reason}")
    return np.asarray(res.iterates, dtype=np.float64)


def _quad(M: np.ndarray, m: np.ndarray, X: np.ndarray, c: np.ndarray) -> float:
    """``E[(x − c)ᵀM(x − c)]`` from ``m = E x``, ``X = E xxᵀ`` (:func:`isttheory.quantities.second_moment_quad`)."""
    return float(quantities.second_moment_quad(M, m, X, c))


def _objective(p: QuadraticProblem, traj: list[tuple[np.ndarray, np.ndarray]]) -> list[float]:
    """Exact ``E f(x^k)`` along a trajectory of moments (:func:`isttheory.quantities.objective`)."""
    return [float(quantities.objective(p.L_bar, p.b_bar, m, X)) for m, X in traj]


# ---------------------------------------------------------------------------------- instances


def _interp() -> QuadraticProblem:
    return generators.interpolation(4, 8, 0.5, seed=1)


def _het_square() -> QuadraticProblem:
    return generators.heterogeneous(4, 4, 0.8, seed=0)


def _precond_homogeneous(base: QuadraticProblem | None = None) -> tuple[QuadraticProblem, np.ndarray]:
    """§3.1.1: homogeneous interpolation, preconditioned L̃ = D^{-1/2}LD^{-1/2} (default n = d = 4)."""
    base = generators.homogeneous(4, 4, seed=2, interpolation=True) if base is None else base
    n = base.n
    Dm = 1 / np.sqrt(base.D[0])
    Lt = Dm[:, None] * np.asarray(base.L[0]) * Dm[None, :]
    return QuadraticProblem(np.broadcast_to(Lt, (n, n, n)), np.zeros((n, n))), Lt


# ---------------------------------------------------------------------------------- the checks


def _interp_at_paper_step(problem: QuadraticProblem | None = None
                          ) -> tuple[QuadraticProblem, Permutation, SketchMoments, float]:
    """Theorem 1's setting for (15)–(16): the interpolation instance (or ``problem``), Perm-q, and γ = 1/θ*."""
    p = _interp() if problem is None else problem
    sk = Permutation(p.n, p.d)
    mo = SketchMoments(p, sk)
    theta = theta_eigen(mo.W, mo.BLB)[0]
    assert theta is not None
    return p, sk, mo, 1 / theta


def check_eq16(runs: int, seed: int, K: int = 3, factor_power: float = 1.0, rate_kind: str = "min",
               problem: QuadraticProblem | None = None) -> BoundCheck:
    """(16): ``E‖x^K − x*‖²_L̄ ≤ (1 − γλ_min(L̄^{-1/2}W̄L̄^{-1/2}))^{K·factor_power} ‖x⁰ − x*‖²_L̄``, γ = 1/θ*.

    ``rate_kind="max"`` (the mutation) uses λ_max instead of λ_min."""
    p, sk, mo, g = _interp_at_paper_step(problem)
    lam = rate(mo.W, p.L_bar) if rate_kind == "min" else float(sla.eigh(mo.W, p.L_bar, eigvals_only=True)[-1])
    x0 = np.ones(p.d)
    res = simulate(p, sk, g, K, runs=runs, seed=seed, record=[K], keep_iterates=True)
    y = np.einsum("ri,ij,rj->r", _it(res)[-1], p.L_bar, _it(res)[-1])
    bound = thm1_eq16_rhs(g, K * factor_power, lam, float(x0 @ p.L_bar @ x0))
    m, X = ExactDynamics(p, sk, g).trajectory(K)[-1]
    exact = _quad(p.L_bar, m, X, np.zeros(p.d))
    return _upper("(16)", _label(problem, "interpolation, perm"), STAT_EQ16.plain, y, bound, exact,
                  {"gamma": g, "K": K, "factor_power": factor_power, "rate_kind": rate_kind}, (exact, bound))


def check_eq15(runs: int, seed: int, K: int = 20, rhs_factor: float = 2.0,
               problem: QuadraticProblem | None = None) -> BoundCheck:
    """(15): ``(1/K)Σ_{k<K} E xᵀW̄x ≤ rhs_factor·(f(x⁰) − E f(x^K))/(γK)`` (interpolation, γ = 1/θ*).

    Per run ``Y = (1/K)Σ_k x_kᵀW̄x_k − rhs_factor·(f(x⁰) − f(x^K))/(γK)``, bound 0."""
    p, sk, mo, g = _interp_at_paper_step(problem)
    res = simulate(p, sk, g, K, runs=runs, seed=seed, record=np.arange(K + 1), keep_iterates=True)
    it = _it(res)  # (K+1, R, d)
    w = np.einsum("kri,ij,krj->kr", it[:K], mo.W, it[:K]).mean(axis=0)
    f0, fK = p.f(it[0]), p.f(it[K])
    y = w - (rhs_factor / 2) * thm1_eq15_rhs(g, K, 1.0) * (f0 - fK)  # linear in Δ; rhs_factor = 2 is (15)
    traj = ExactDynamics(p, sk, g).trajectory(K)
    ew = float(np.mean([_quad(mo.W, m, X, p.x_star) for m, X in traj[:K]]))  # ‖∇f‖²_{L̄⁻¹W̄L̄⁻¹} = ‖x − x*‖²_W̄
    ef = _objective(p, traj)
    rhs = float((rhs_factor / 2) * thm1_eq15_rhs(g, K, ef[0] - ef[K]))
    return _upper("(15)", _label(problem, "interpolation, perm"), STAT_EQ15.plain, y, 0.0, ew - rhs,
                  {"gamma": g, "K": K, "rhs_factor": rhs_factor}, (ew, rhs))


def _gradient_average_check(eq: str, inst: str, p: QuadraticProblem, sk: Any, g: float, K: int, runs: int,
                            seed: int, lam: float) -> BoundCheck:
    """``(1/K)Σ E‖∇f(x^k)‖² ≤ 2λ(f(x⁰) − E f(x^K))/K``: the right side of (24) (lemma ``eq24``, its ``γ``
    set to 1 as the paper states it; (22) has the same form in the preconditioned variables)."""
    res = simulate(p, sk, g, K, runs=runs, seed=seed, record=np.arange(K + 1), keep_iterates=True)
    it = _it(res)
    grad2 = np.einsum("kri,kri->kr", p.grad(it[:K]), p.grad(it[:K])).mean(axis=0)
    y = grad2 - eq24_rhs(1.0, K, lam, 1.0) * (p.f(it[0]) - p.f(it[K]))  # linear in Δ
    traj = ExactDynamics(p, sk, g).trajectory(K)
    eg = float(np.mean([quantities.grad_norm2(p.L_bar, p.b_bar, m, X) for m, X in traj[:K]]))
    ef = _objective(p, traj)
    rhs = eq24_rhs(1.0, K, lam, float(ef[0] - ef[K]))
    return _upper(eq, inst, STAT_DESCENT.plain, y, 0.0, eg - rhs,
                  {"gamma": g, "K": K, "lambda": lam}, (eg, rhs))


def check_eq22(runs: int, seed: int, K: int = 10, use_lambda_min: bool = False,
               problem: QuadraticProblem | None = None) -> BoundCheck:
    """(22) §3.1.1: ``(1/K)Σ‖∇f̃(x^k)‖² ≤ 2λ_max(L̃)(f(x⁰) − f(x^K))/K`` with Perm-1, γ = 1/n."""
    p, Lt = _precond_homogeneous(problem)
    ev = np.linalg.eigvalsh(Lt)
    lam = float(ev[0] if use_lambda_min else ev[-1])
    return _gradient_average_check("(22)", _label(problem, "homogeneous preconditioned, Perm-1"), p,
                                   Permutation(p.n, p.n), 1 / p.n, K, runs, seed, lam)


def check_eq24(runs: int, seed: int, K: int = 10, use_lambda_min: bool = False,
               problem: QuadraticProblem | None = None) -> BoundCheck:
    """(24) §3.1.2: ``(1/K)Σ E‖∇f(x^k)‖² ≤ 2λ_max(L̄)(f(x⁰) − E f(x^K))/K`` with (23), γ = 1."""
    p = generators.interpolation(4, 4, 0.8, seed=4) if problem is None else problem
    ev = p.eigvals_L_bar
    lam = float(ev[0] if use_lambda_min else ev[-1])
    return _gradient_average_check("(24)", _label(problem, "heterogeneous interpolation, (23)"), p,
                                   PreconditionedPerm.from_problem(p),
                                   1.0, K, runs, seed, lam)


def check_eq25(runs: int, seed: int, gamma: float = 1.0, problem: QuadraticProblem | None = None) -> BoundCheck:
    """(25): with (23) and γ = 1 the contraction factor is 0: ``x¹ = x*`` on every run (interpolation)."""
    p = generators.interpolation(4, 4, 0.8, seed=4) if problem is None else problem
    sk = PreconditionedPerm.from_problem(p)
    res = simulate(p, sk, gamma, 1, runs=runs, seed=seed, record=[1], keep_iterates=True)
    y = np.einsum("ri,ij,rj->r", _it(res)[-1], p.L_bar, _it(res)[-1])
    m, X = ExactDynamics(p, sk, gamma).trajectory(1)[-1]
    return _upper("(25)", _label(problem, "heterogeneous interpolation, (23)"), STAT_EQ25.plain, y, 0.0,
                  _quad(p.L_bar, m, X, np.zeros(p.d)), {"gamma": gamma})  # no ratio: the bound is 0


def check_eq28(runs: int, seed: int, K: int = 5, shift: float = 0.0,
               problem: QuadraticProblem | None = None) -> BoundCheck:
    """(28): ``E[x^K] = (1−γ)^K x⁰ + (1 − (1−γ)^K)(x^∞ + shift)`` with x^∞ = (1/(n√n))Σ D_i^{-1/2}b_i."""
    p = _het_square() if problem is None else problem
    sk = PreconditionedPerm.from_problem(p)
    g, n = 0.5, p.n
    x0 = np.ones(p.d)
    x_inf = (np.asarray(p.b) / np.sqrt(p.D)).sum(axis=0) / (n * math.sqrt(n)) + shift
    closed = (1 - g) ** K * x0 + (1 - (1 - g) ** K) * x_inf
    res = simulate(p, sk, g, K, runs=runs, seed=seed, record=[K], keep_iterates=True)
    m, _ = ExactDynamics(p, sk, g).trajectory(K)[-1]
    return _equal("(28)", _label(problem, "heterogeneous, (23)"), STAT_EQ28.plain,
                  _it(res)[-1], closed, m, {"gamma": g, "K": K, "shift": shift})


def perm_q_instance() -> QuadraticProblem:
    """n = 2, d = 8 heterogeneous (h = 0.5): Perm-4 gives each client 4 coordinates, so two coordinates share a
    client with probability 3/7 and ``E[B̄]`` is not diagonal (off-diagonal entries ``(6/7)(L̄)_jk`` beside
    ``2(L̄)_jj``); every (23) and Perm-1 instance has a diagonal ``E[B̄]``, on which ``E[B̄]⁻¹`` and
    ``Diag(E[B̄])⁻¹`` agree."""
    return generators.heterogeneous(2, 8, 0.5, seed=2)


def check_eq28_perm(runs: int, seed: int, K: int = 10, shift: float = 0.0, diagonal_EB: bool = False,
                    problem: QuadraticProblem | None = None) -> BoundCheck:
    """The mean recursion of form (2) beyond (23) (§4, (27)–(28)) with Perm-q:
    ``E[x^K] = x^∞ + (I − γE[B̄])^K (x⁰ − x^∞)`` with ``x^∞ = E[B̄]⁻¹E[(Cb)‾]``
    (:attr:`SketchMoments.x_inf`, plus ``shift``), ``γ = 1/(2λ_max(E[B̄]))``, on :func:`perm_q_instance`,
    where ``E[B̄]`` is not diagonal. ``diagonal_EB=True`` (the mutation) solves with ``Diag(E[B̄])`` instead."""
    p = perm_q_instance() if problem is None else problem
    sk = Permutation(p.n, p.d)
    mo = SketchMoments(p, sk)
    EB = mo.expected_B
    g = 0.5 / float(np.linalg.eigvalsh(EB)[-1])
    x_inf = (mo.expected_Cb / np.diag(EB) if diagonal_EB else mo.x_inf) + shift
    x0 = np.ones(p.d)
    closed = x_inf + np.linalg.matrix_power(np.eye(p.d) - g * EB, K) @ (x0 - x_inf)
    res = simulate(p, sk, g, K, runs=runs, seed=seed, record=[K], keep_iterates=True, x0=x0)
    m, _ = ExactDynamics(p, sk, g, x0=x0).trajectory(K)[-1]
    return _equal("(28)", _label(problem, f"heterogeneous, Perm-{sk.q} (E[B̄] not diagonal)"),
                  STAT_EQ28.plain, _it(res)[-1], closed, m,
                  {"gamma": g, "K": K, "shift": shift, "diagonal_EB": diagonal_EB})


def zero_noise_instance() -> QuadraticProblem:
    """n = d = 4 heterogeneous ``L_i`` with ``b_i = √D_i ∘ v``: under (23) ``(Cb)‾ = v/√n`` on every
    draw, so ``σ² = 0`` while ``h ≠ 0`` (a pure-bias instance for Theorem 2)."""
    p = _het_square()
    v = np.array([1.0, -2.0, 0.5, 1.5])
    return QuadraticProblem(np.asarray(p.L), np.sqrt(p.D) * v)


def check_eq30(runs: int, seed: int, K: int = 40, gamma: float = 0.5, h_coef: float = 1.0,
               sigma_coef: float = 1.0, instance: str = "generic", problem: QuadraticProblem | None = None
               ) -> BoundCheck:
    """(30), corrected: ``(1/K)Σ E‖∇f‖²_{L̄⁻¹} − 2(f(x⁰) − E f(x^K))/(γK) ≤ h_coef‖h‖²_L̄ + sigma_coef·γσ²``.

    Runs start at ``x⁰ = x*`` so the transient is small and the neighbourhood is what is tested;
    ``instance="zero-noise"`` uses :func:`zero_noise_instance` (σ² = 0: the bias term alone)."""
    p = problem if problem is not None else _het_square() if instance == "generic" else zero_noise_instance()
    sk = PreconditionedPerm.from_problem(p)
    mo = SketchMoments(p, sk)
    H, S = float(mo.h @ p.L_bar @ mo.h), mo.sigma2_at_x_star
    res = simulate(p, sk, gamma, K, runs=runs, seed=seed, record=np.arange(K + 1), keep_iterates=True,
                   x0=p.x_star)
    it = _it(res)
    e = it[:K] - p.x_star
    lhs = np.einsum("kri,ij,krj->kr", e, p.L_bar, e).mean(axis=0)  # ‖∇f‖²_{L̄⁻¹} = ‖x − x*‖²_L̄
    y = lhs - 2 * (p.f(it[0]) - p.f(it[K])) / (gamma * K)
    traj = ExactDynamics(p, sk, gamma, x0=p.x_star).trajectory(K)
    el = float(np.mean([_quad(p.L_bar, m, X, p.x_star) for m, X in traj[:K]]))
    ef = _objective(p, traj)
    transient = float(2 * (ef[0] - ef[K]) / (gamma * K))
    bound = thm2_corrected_rhs(gamma, K, 0.0, h_coef * H, sigma_coef * S)  # its neighbourhood: Δ = 0
    return _upper("(30)", _label(problem, f"heterogeneous, (23), {instance}"),
                  STAT_EQ30.plain, y,
                  bound, el - transient, {"gamma": gamma, "K": K, "h_coef": h_coef, "sigma_coef": sigma_coef},
                  (el, transient + bound))


def check_eq30_limit(runs: int, seed: int, K: int = 80, gamma: float = 0.5, sigma_coef: float = 1.0,
                     problem: QuadraticProblem | None = None) -> BoundCheck:
    """The neighbourhood the corrected (30) bounds, exactly (ERRATA thm2-tradeoff):
    ``lim E‖∇f(x^k)‖²_{L̄⁻¹} = ‖h‖²_L̄ + γσ²/(2 − γ)`` under (23), from :func:`isttheory.bounds.thm2_limit`
    (lemma ``thm2-limit``; ``sigma_coef`` scales its σ², the mutation).

    Runs start at ``x*``. Under (23) ``E[B̄] = I``: the mean reaches its limit at rate ``(1−γ)^k``, the
    covariance at ``(1−γ)^{2k}``. Per run ``Y`` is ``‖x^k − x*‖²_L̄`` averaged over ``K/2 ≤ k ≤ K``; its
    expectation is within ``2(1−γ)^{K/2}`` (relative: ``2^-39`` at the defaults) of the limit, tested two-sided.
    The exact engine's own limit (:attr:`ExactDynamics.limit_metrics`) must match its recursion to ``1e-9``
    (relative); otherwise the check counts as a disagreement of the engines."""
    p = _het_square() if problem is None else problem
    sk = PreconditionedPerm.from_problem(p)
    mo = SketchMoments(p, sk)
    H, S = float(mo.h @ p.L_bar @ mo.h), mo.sigma2_at_x_star
    window = np.arange(K // 2, K + 1)
    res = simulate(p, sk, gamma, K, runs=runs, seed=seed, record=window, keep_iterates=True, x0=p.x_star)
    e = _it(res) - p.x_star  # (len(window), R, d)
    y = np.einsum("kri,ij,krj->kr", e, p.L_bar, e).mean(axis=0)
    dyn = ExactDynamics(p, sk, gamma, x0=p.x_star)
    traj = dyn.trajectory(K)
    exact = float(np.mean([_quad(p.L_bar, traj[k][0], traj[k][1], p.x_star) for k in window]))
    limit = thm2_limit(gamma, H, sigma_coef * S)
    lim = dyn.limit_metrics
    exact_limit = None if lim is None else lim["grad2_Linv"]
    check = _equal("(30)", _label(problem, "heterogeneous, (23), exact limit"),
                   STAT_EQ30_LIMIT.plain, y[:, None], np.array([limit]),
                   np.array([exact]), {"gamma": gamma, "K": K, "sigma_coef": sigma_coef, "exact_limit": exact_limit})
    if exact_limit is None or abs(exact_limit - exact) > 1e-9 * max(1.0, abs(exact)):
        check.exact_p_value = 0.0  # the engine's limit (mean and Lyapunov solves) disagrees with its own recursion
    return check


def check_eq31(runs: int, seed: int, K: int = 6, fixed_point: str = "b/sqrt(n)",
               problem: QuadraticProblem | None = None) -> BoundCheck:
    """(31): homogeneous, preconditioned, scaled Perm-1 (scale √n): ``g = x − b̃/√n`` exactly, so
    ``x^K = (1−γ)^K x⁰ + (1 − (1−γ)^K) b̃/√n`` on every run (``fixed_point="x*"`` is the mutation)."""
    base = generators.homogeneous(4, 4, seed=3) if problem is None else problem
    n = base.n
    Dm = 1 / np.sqrt(base.D[0])
    Lt = Dm[:, None] * np.asarray(base.L[0]) * Dm[None, :]
    bt = Dm * np.asarray(base.b[0])
    p = QuadraticProblem(np.broadcast_to(Lt, (n, n, n)), np.broadcast_to(bt, (n, n)))
    sk = Permutation(n, n, scale=math.sqrt(n))
    g = 0.3
    fp = bt / math.sqrt(n) if fixed_point == "b/sqrt(n)" else np.asarray(p.x_star)
    closed = (1 - g) ** K * np.ones(n) + (1 - (1 - g) ** K) * fp
    res = simulate(p, sk, g, K, runs=runs, seed=seed, record=[K], keep_iterates=True)
    m, _ = ExactDynamics(p, sk, g).trajectory(K)[-1]
    return _equal("(31)", _label(problem, "homogeneous preconditioned, scaled Perm-1"), STAT_EQ31.plain,
                  _it(res)[-1], closed,
                  m, {"gamma": g, "K": K, "fixed_point": fixed_point})


def check_eq30_zero_noise(runs: int, seed: int, **kw: Any) -> BoundCheck:
    """(30) on the pure-bias instance (σ² = 0)."""
    return check_eq30(runs, seed, instance="zero-noise", **kw)


CHECKS: dict[str, Callable[..., BoundCheck]] = {
    "(15)": check_eq15, "(16)": check_eq16, "(22)": check_eq22, "(24)": check_eq24, "(25)": check_eq25,
    "(28)": check_eq28, "(28) Perm-q": check_eq28_perm, "(30)": check_eq30, "(30) pure bias": check_eq30_zero_noise,
    "(30) limit": check_eq30_limit, "(31)": check_eq31,
}


def _label(problem: QuadraticProblem | None, default: str) -> str:
    return default if problem is None else "your problem"


def unmet(eq: str, p: QuadraticProblem) -> str | None:
    """Why the check of ``eq`` cannot run on the problem ``p`` (its hypotheses, in one line), or ``None``."""
    n, d = p.n, p.d
    square = None if n == d else f"needs n = d (Perm-1 and (23)); the problem has n = {n}, d = {d}"
    positive = None if bool(np.all(np.asarray(p.D) > 0)) else "(23) needs every diagonal entry (L_i)_jj > 0"
    interp = None if p.is_interpolation else "needs interpolation: every b_i = 0"
    homog = None if p.is_homogeneous else "needs the homogeneous case: L_i = L and b_i = b for every client"
    definite = None if p.is_L_bar_positive_definite else "needs L_bar positive definite (x*)"
    if eq in ("(15)", "(16)"):
        first = interp or definite or (None if d % n == 0 else f"Perm-q needs d a multiple of n (n = {n}, d = {d})")
        if first:
            return first
        mo = SketchMoments(p, Permutation(n, d))
        return None if theta_eigen(mo.W, mo.BLB)[0] else "(14) has no theta on this problem (Theorem 1 does not apply)"
    if eq == "(28) Perm-q":
        if d < n or d % n:
            return f"Perm-q needs d a multiple of n (n = {n}, d = {d})"
        EB = SketchMoments(p, Permutation(n, d)).expected_B
        ev = np.linalg.eigvalsh(EB)
        return None if ev[0] > 1e-12 * max(1.0, ev[-1]) else "E[B_bar] of Perm-q is singular (no unique x_inf)"
    reasons = {"(22)": (homog, interp, square, positive), "(24)": (interp, square, positive, definite),
               "(25)": (interp, square, positive, definite), "(28)": (square, positive),
               "(30)": (square, positive, definite), "(30) limit": (square, positive, definite),
               "(31)": (homog, square, positive)}
    if eq not in reasons:
        return "this check uses a constructed instance (b_i = sqrt(D_i) * v, so sigma^2 = 0), not a given problem"
    return next((r for r in reasons[eq] if r), None)


def run_on_problem(problem: QuadraticProblem, runs: int = FAST.bound_runs, seed: int = 0, alpha: float = FAMILY_ALPHA
                   ) -> tuple[list[BoundCheck], dict[str, str]]:
    """Every check whose hypotheses ``problem`` meets, run on it (Holm across those), and for the others the
    hypothesis it does not meet (``verify --problem``)."""
    results, skipped = [], {}
    for i, (eq, fn) in enumerate(CHECKS.items()):
        reason = unmet(eq, problem)
        if reason:
            skipped[eq] = reason
        else:
            results.append(fn(runs, seed + i, problem=problem))
    _decide(results, alpha)
    return results, skipped


def run_family(runs: int = FAST.bound_runs, seed: int = 0, alpha: float = FAMILY_ALPHA,
               overrides: dict[str, dict[str, Any]] | None = None) -> list[BoundCheck]:
    """Every check with Holm's correction across the family; ``overrides`` pass constants (mutations)."""
    overrides = overrides or {}
    results = [fn(runs, seed + i, **overrides.get(eq, {})) for i, (eq, fn) in enumerate(CHECKS.items())]
    _decide(results, alpha)
    return results


def _decide(results: list[BoundCheck], alpha: float) -> None:
    """Holm across the family, for the bounds (``rejected``) and, separately, for the Monte Carlo estimates
    against the exact values (``disagrees``)."""
    for r, rej in zip(results, holm([r.p_value for r in results], alpha), strict=True):
        r.rejected = rej
    with_exact = [r for r in results if r.exact_p_value is not None]
    for r, dis in zip(with_exact, holm([r.exact_p_value or 0.0 for r in with_exact], alpha), strict=True):
        r.disagrees = dis
