"""How tight the paper's bounds are: the bound divided by the exact value (1.0 means tight).

* Theorem 1, (16): ``(1 − γλ_min(L̄^{-1/2}W̄L̄^{-1/2}))^K ‖x⁰ − x*‖²_{L̄}`` against the exact
  ``E‖x^K − x*‖²_{L̄}``, and the factor against the tight one-step contraction ``ρ(γ)`` and
  the mean-square rate; (15) against its exact left side.
* Theorem 2, (30): the printed bound (with ``‖h‖²`` in the corrected L̄ norm and the best β
  that (29) admits) and the corrected bound, against the exact left side
  ``(1/K) Σ_{k<K} E‖∇f(x^k)‖²_{L̄⁻¹}``, and their neighbourhoods against the exact limit.
* §4.1, (28): the closed-form mean against the exact mean recursion.

Each theorem's hypotheses live in one function that says, in one line, which one is unmet
(:func:`theorem1_unmet`, :func:`theorem2_unmet`, :func:`sketch23_unmet`); the bounds above and
``isttheory exact``'s ``bound_notes`` both go through them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike

from .bounds import thm1_eq15_rhs, thm1_eq16_rhs, thm2_corrected_rhs, thm2_paper_rhs, thm2_printed_rhs
from .constants import SolveStatus, contraction, rate, theta_eigen, thm2_beta
from .dynamics import ExactDynamics
from .moments import SketchMoments
from .problem import QuadraticProblem
from .sketches import PreconditionedPerm
from .sketches.base import Sketch


def _ratio(bound: float, exact: float) -> float | None:
    return None if exact <= 0 or not math.isfinite(bound) else bound / exact


@dataclass(frozen=True)
class Theorem1Tightness:
    """(15)–(16) beside the exact values, for one (problem, sketch, γ, K). Ratios are bound ÷ exact
    (``None`` where the exact value is 0 or the bound infinite); 1.0 is tight."""

    theta: float
    """θ*, the least θ with θW̄ ⪰ E[B̄L̄B̄] (14)."""
    rate: float
    """λ_min(L̄^{-1/2} W̄ L̄^{-1/2}) of (16) (not a contraction factor: that is 1 − γ·rate)."""
    factor_paper: float
    """1 − γ·rate, the per-step factor of (16)."""
    factor_tight: float
    """ρ(γ), the tight one-step contraction of ‖x − x*‖²_L̄ in expectation."""
    ms_rate: float
    """The exact mean-square rate (spectral radius of the second-moment recursion)."""
    bound16: float
    """The right side of (16) at K."""
    exact_dist2_L: float
    """The exact E‖x^K − x*‖²_L̄."""
    ratio16: float | None
    lhs15: float
    """The exact left side of (15), (1/K) Σ_{k<K} E‖∇f(x^k)‖²_{L̄⁻¹W̄L̄⁻¹}."""
    rhs15: float
    """The right side of (15)."""
    ratio15: float | None
    factor_ratio: float | None
    """factor_paper ÷ factor_tight."""

    def to_dict(self) -> dict[str, float | None]:
        """The fields by name (the ``tightness.thm1`` object of ``isttheory exact --json``)."""
        return asdict(self)


@dataclass(frozen=True)
class Theorem2Tightness:
    """(30), printed and corrected, beside the exact left side and limit, for one (problem, sketch, γ, K).
    The printed bound and its ratios are ``None`` at γ = 1, where (29) admits no β."""

    H: float
    """‖h‖²_L̄ (the corrected norm of (30))."""
    h_norm2_L2: float
    """‖h‖²_{L̄²} (the norm as printed)."""
    sigma2: float
    """σ² at x* (30)."""
    lhs: float
    """The exact (1/K) Σ_{k<K} E‖∇f(x^k)‖²_{L̄⁻¹}."""
    f0_minus_fK: float
    """f(x⁰) − E f(x^K) (exact)."""
    corrected: float
    """The corrected bound (ERRATA thm2-constants, thm2-norm)."""
    ratio_corrected: float | None
    limit: float | None
    """The exact limit of E‖∇f(x^k)‖²_{L̄⁻¹} (``None`` when the recursion has none)."""
    neighbourhood_corrected: float
    """The corrected bound without its transient."""
    beta: float | None
    """The best β that (29) admits."""
    paper: float | None
    """(30) as printed, with ‖h‖² in the corrected L̄ norm."""
    paper_printed_norm: float | None
    """(30) as printed, with ‖h‖²_{L̄²}."""
    ratio_paper: float | None
    ratio_paper_printed_norm: float | None
    neighbourhood_paper: float | None
    """(30) without its transient."""
    ratio_neighbourhood_corrected: float | None
    """neighbourhood_corrected ÷ limit (``None`` when the limit is 0 or absent)."""
    ratio_neighbourhood_paper: float | None

    def to_dict(self) -> dict[str, float | None]:
        """The fields by name (the ``tightness.thm2`` object of ``isttheory exact --json``)."""
        return asdict(self)


@dataclass(frozen=True)
class MeanRecursionCheck:
    """(28)'s closed-form mean beside the exact mean recursion at K."""

    closed_form: list[float]
    exact: list[float]
    max_abs_diff: float
    ratio: float | None
    """‖closed form‖ ÷ ‖exact‖."""

    def to_dict(self) -> dict[str, float | list[float] | None]:
        """The fields by name (the ``tightness.mean_recursion`` object of ``isttheory exact --json``)."""
        return asdict(self)


def _method_unmet(theorem: str, form: str, local_steps: int, iters: int | None) -> str | None:
    """The hypotheses on the method both theorems share: form (2), one step, ``K ≥ 1``."""
    if form != "sgd" or local_steps != 1:
        return (f"{theorem} is for the SGD form (2) with one step; here form {form} with "
                f"{local_steps} local step{'s' if local_steps != 1 else ''}")
    if iters is not None and iters < 1:
        return f"K = {iters}: the bounds are computed for K >= 1 ((15) and (30) average over k < K)"
    return None


def theorem1_unmet(problem: QuadraticProblem, sketch: Sketch, gamma: float, form: str = "sgd",
                   local_steps: int = 1, iters: int | None = None,
                   moments: SketchMoments | None = None) -> str | None:
    """Why Theorem 1, (15)–(16), does not apply, in one line; ``None`` when it does.

    Hypotheses, checked in this order: the SGD form (2) with one step and ``K ≥ 1`` (``iters``,
    when given); ``L̄ ≻ 0``; interpolation (every ``b_i = 0``); (14) feasible, i.e. a ``θ*``
    with ``θ*W̄ ⪰ E[B̄L̄B̄]`` (``W̄`` PSD, ``E[B̄L̄B̄]`` vanishing on ``ker W̄``); ``γ ≤ 1/θ*``.
    ``moments`` reuses the problem's :class:`SketchMoments` (only ``W̄`` and ``E[B̄L̄B̄]`` are read,
    and only when the cheaper hypotheses hold)."""
    method = _method_unmet("Theorem 1", form, local_steps, iters)
    if method is not None:
        return method
    if not problem.is_L_bar_positive_definite:
        return "L_bar is not positive definite (Theorem 1 needs L_bar > 0)"
    if not problem.is_interpolation:
        return "not interpolation: b_i != 0 (Theorem 1 needs b_i = 0)"
    mo = SketchMoments(problem, sketch) if moments is None else moments
    theta, _, status = theta_eigen(mo.W, mo.BLB)
    if theta is None or status is not SolveStatus.OPTIMAL:
        return f"(14) not met: {status.reason or status} (Theorem 1 needs theta with theta W >= E[BLB])"
    if gamma > 1.0 / max(theta, 1e-300):
        return f"gamma > 1/theta* (gamma = {gamma:.6g}, 1/theta* = {1.0 / max(theta, 1e-300):.6g})"
    return None


def theorem1(problem: QuadraticProblem, sketch: Sketch, gamma: float, K: int,
             x0: ArrayLike | None = None, moments: SketchMoments | None = None) -> Theorem1Tightness | None:
    """Tightness of (15)–(16) for the SGD form; ``None`` where Theorem 1 does not apply
    (:func:`theorem1_unmet` says why), or when the moments overflow. ``moments`` reuses
    the problem's :class:`SketchMoments`."""
    mo = SketchMoments(problem, sketch) if moments is None else moments
    if theorem1_unmet(problem, sketch, gamma, iters=K, moments=mo) is not None:
        return None
    theta, _, _ = theta_eigen(mo.W, mo.BLB)
    assert theta is not None
    L = problem.L_bar
    lam = rate(mo.W, L)
    dyn = ExactDynamics(problem, sketch, gamma, "sgd", 1, x0)
    traj = dyn.trajectory(K)
    dist = [float(np.sum(L * X)) for _, X in traj]  # x* = 0
    if not all(math.isfinite(v) for v in dist):
        return None
    factor = thm1_eq16_rhs(gamma, 1, lam, 1.0)  # the one-step factor 1 − γλ of (16)
    bound16 = thm1_eq16_rhs(gamma, K, lam, dist[0])
    lhs15 = float(np.mean([np.sum(mo.W * X) for _, X in traj[:K]]))  # E‖∇f‖²_{L̄⁻¹W̄L̄⁻¹} = E xᵀW̄x
    rhs15 = thm1_eq15_rhs(gamma, K, 0.5 * dist[0] - 0.5 * dist[K])  # f = ½‖x‖²_L̄ in the interpolation case
    rho = contraction(gamma, L, mo.W, mo.BLB)
    return Theorem1Tightness(theta=theta, rate=lam, factor_paper=factor, factor_tight=rho, ms_rate=dyn.ms_rate,
                             bound16=bound16, exact_dist2_L=dist[K], ratio16=_ratio(bound16, dist[K]),
                             lhs15=lhs15, rhs15=rhs15, ratio15=_ratio(rhs15, lhs15),
                             factor_ratio=_ratio(factor, rho))


def sketch23_unmet(problem: QuadraticProblem, sketch: Sketch) -> str | None:
    """Why ``sketch`` is not the preconditioned Perm-1 (23) of ``problem``, in one line; ``None`` when it is:
    :class:`PreconditionedPerm` with the diagonal scales ``√n (L_i)_{jj}^{-1/2}`` of this problem."""
    if not (isinstance(sketch, PreconditionedPerm) and sketch.variant == "diagonal"):
        return f"(23) not met: sketch is {sketch.spec}"
    D = np.asarray(problem.D, dtype=float)
    if np.any(D <= 0) or not np.allclose(sketch.table, math.sqrt(problem.n) / np.sqrt(np.maximum(D, 1e-300)),
                                         rtol=1e-12, atol=0.0):
        return "(23) not met: the scales are not sqrt(n) (L_i)_jj^(-1/2) of this problem"
    return None


def _printed_thm2_unmet(gamma: float) -> str | None:
    """The printed bound (30) also needs a ``β > 0`` that (29) admits: ``γ < 1``."""
    return None if gamma < 1 else "gamma = 1: (29) admits no beta > 0 (the printed (30) needs gamma < 1)"


def theorem2_unmet(problem: QuadraticProblem, sketch: Sketch, gamma: float, form: str = "sgd",
                   local_steps: int = 1, iters: int | None = None, printed: bool = False) -> str | None:
    """Why Theorem 2, (30), does not apply, in one line; ``None`` when it does.

    Hypotheses, checked in this order: the SGD form (2) with one step and ``K ≥ 1`` (``iters``,
    when given); the sketch is (23) for this problem (:func:`sketch23_unmet`); ``L̄ ≻ 0``;
    ``0 < γ ≤ 1``; and, for the bound as printed (``printed=True``), ``γ < 1``."""
    method = _method_unmet("Theorem 2", form, local_steps, iters)
    if method is not None:
        return method
    sk = sketch23_unmet(problem, sketch)
    if sk is not None:
        return sk
    if not problem.is_L_bar_positive_definite:
        return "L_bar is not positive definite (Theorem 2 needs L_bar > 0)"
    if gamma > 1:
        return f"gamma > 1 (gamma = {gamma:.6g}; Theorem 2 needs 0 < gamma <= 1)"
    if gamma <= 0:
        return f"gamma <= 0 (gamma = {gamma:.6g}; Theorem 2 needs 0 < gamma <= 1)"
    return _printed_thm2_unmet(gamma) if printed else None


def applies_theorem2(problem: QuadraticProblem, sketch: Sketch, gamma: float) -> bool:
    """Theorem 2's hypotheses (:func:`theorem2_unmet`): sketch (23), ``L̄ ≻ 0``, ``0 < γ ≤ 1``."""
    return theorem2_unmet(problem, sketch, gamma) is None


def theorem2(problem: QuadraticProblem, sketch: Sketch, gamma: float, K: int,
             x0: ArrayLike | None = None) -> Theorem2Tightness | None:
    """Tightness of (30), printed and corrected; ``None`` where Theorem 2 does not apply
    (:func:`theorem2_unmet` says why), or when the moments overflow. The printed bound and its
    ratios are ``None`` at ``γ = 1``, where (29) admits no ``β``."""
    if theorem2_unmet(problem, sketch, gamma, iters=K) is not None:
        return None
    mo = SketchMoments(problem, sketch)
    L = problem.L_bar
    H = float(mo.h @ L @ mo.h)
    H2 = float(mo.h @ L @ L @ mo.h)
    S = mo.sigma2_at_x_star
    dyn = ExactDynamics(problem, sketch, gamma, "sgd", 1, x0)
    traj = dyn.trajectory(K)
    mets = [dyn.metrics(m, X) for m, X in traj]
    if not all(math.isfinite(v) for m_ in mets for v in m_.values()):
        return None
    lhs = float(np.mean([m_["grad2_Linv"] for m_ in mets[:K]]))
    delta = mets[0]["f"] - mets[K]["f"]
    corrected = thm2_corrected_rhs(gamma, K, delta, H, S)
    lim = dyn.limit_metrics
    limit = None if lim is None else lim["grad2_Linv"]
    neighbourhood_corrected = thm2_corrected_rhs(gamma, K, 0.0, H, S)
    beta = paper = paper_printed_norm = neighbourhood_paper = None  # (29) admits no β > 0 at γ = 1
    if _printed_thm2_unmet(gamma) is None:
        beta = thm2_beta(gamma)
        paper = thm2_paper_rhs(gamma, K, delta, H, S)
        paper_printed_norm = thm2_printed_rhs(gamma, K, delta, H2, S)
        neighbourhood_paper = thm2_paper_rhs(gamma, K, 0.0, H, S)  # (30) without its transient

    def of_limit(bound: float | None) -> float | None:
        return None if bound is None or not limit else _ratio(bound, limit)

    return Theorem2Tightness(
        H=H, h_norm2_L2=H2, sigma2=S, lhs=lhs, f0_minus_fK=delta, corrected=corrected,
        ratio_corrected=_ratio(corrected, lhs), limit=limit, neighbourhood_corrected=neighbourhood_corrected,
        beta=beta, paper=paper, paper_printed_norm=paper_printed_norm,
        ratio_paper=None if paper is None else _ratio(paper, lhs),
        ratio_paper_printed_norm=None if paper_printed_norm is None else _ratio(paper_printed_norm, lhs),
        neighbourhood_paper=neighbourhood_paper,
        ratio_neighbourhood_corrected=of_limit(neighbourhood_corrected),
        ratio_neighbourhood_paper=of_limit(neighbourhood_paper))


def mean_recursion(problem: QuadraticProblem, sketch: Sketch, gamma: float, K: int,
                   x0: ArrayLike | None = None) -> MeanRecursionCheck | None:
    """(28): ``E[x^K] = (1−γ)^K x⁰ + (1 − (1−γ)^K) x^∞`` against the exact mean recursion;
    ``None`` unless the sketch is (23) for this problem (:func:`sketch23_unmet`)."""
    if sketch23_unmet(problem, sketch) is not None:
        return None
    dyn = ExactDynamics(problem, sketch, gamma, "sgd", 1, x0)
    m = dyn.x0.copy()
    for _ in range(K):
        m = dyn.EA @ m + dyn.Ev
    n = problem.n
    x_inf = (np.asarray(problem.b) / np.sqrt(problem.D)).sum(axis=0) / (n * math.sqrt(n))
    closed = (1 - gamma) ** K * dyn.x0 + (1 - (1 - gamma) ** K) * x_inf
    err = float(np.abs(closed - m).max())
    return MeanRecursionCheck(closed_form=closed.tolist(), exact=m.tolist(), max_abs_diff=err,
                              ratio=_ratio(float(np.linalg.norm(closed)), float(np.linalg.norm(m))))
