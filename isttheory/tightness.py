"""How tight the paper's bounds are: the bound divided by the exact value (1.0 means tight).

* Theorem 1, (16): ``(1 − γλ_min(L̄^{-1/2}W̄L̄^{-1/2}))^K ‖x⁰ − x*‖²_{L̄}`` against the exact
  ``E‖x^K − x*‖²_{L̄}``, and the factor against the tight one-step contraction ``ρ(γ)`` and
  the mean-square rate; (15) against its exact left side.
* Theorem 2, (30): the printed bound (with ``‖h‖²`` in the corrected L̄ norm and the best β
  that (29) admits) and the corrected bound, against the exact left side
  ``(1/K) Σ_{k<K} E‖∇f(x^k)‖²_{L̄⁻¹}``, and their neighbourhoods against the exact limit.
* §4.1, (28): the closed-form mean against the exact mean recursion.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .constants import contraction, rate, theta_eigen, thm2_beta, thm2_corrected_rhs, thm2_paper_rhs
from .dynamics import ExactDynamics
from .moments import SketchMoments
from .problem import QuadraticProblem
from .sketches import PreconditionedPerm
from .sketches.base import Sketch


def _ratio(bound: float, exact: float) -> float | None:
    return None if exact <= 0 or not math.isfinite(bound) else bound / exact


def theorem1(problem: QuadraticProblem, sketch: Sketch, gamma: float, K: int,
             x0: ArrayLike | None = None) -> dict[str, Any] | None:
    """Tightness of (15)–(16) for the SGD form; ``None`` where Theorem 1 does not apply
    (not interpolation, ``W̄`` not PSD, (14) infeasible, or ``γ > 1/θ*``), for ``K < 1``
    (the bounds average over ``k < K``), or when the moments overflow."""
    if K < 1 or not problem.is_interpolation or not problem.is_L_bar_positive_definite:
        return None
    mo = SketchMoments(problem, sketch)
    theta, _, status = theta_eigen(mo.W, mo.BLB)
    if theta is None or not status.startswith("optimal") or gamma > 1.0 / max(theta, 1e-300):
        return None
    L = problem.L_bar
    lam = rate(mo.W, L)
    dyn = ExactDynamics(problem, sketch, gamma, "sgd", 1, x0)
    traj = dyn.trajectory(K)
    dist = [float(np.sum(L * X)) for _, X in traj]  # x* = 0
    if not all(math.isfinite(v) for v in dist):
        return None
    factor = 1 - gamma * lam
    bound16 = factor**K * dist[0]
    lhs15 = float(np.mean([np.sum(mo.W * X) for _, X in traj[:K]]))  # E‖∇f‖²_{L̄⁻¹W̄L̄⁻¹} = E xᵀW̄x
    rhs15 = 2 * (0.5 * dist[0] - 0.5 * dist[K]) / (gamma * K)
    rho = contraction(gamma, L, mo.W, mo.BLB)
    return {"theta": theta, "rate": lam, "factor_paper": factor, "factor_tight": rho, "ms_rate": dyn.ms_rate,
            "bound16": bound16, "exact_dist2_L": dist[K], "ratio16": _ratio(bound16, dist[K]),
            "lhs15": lhs15, "rhs15": rhs15, "ratio15": _ratio(rhs15, lhs15),
            "factor_ratio": _ratio(factor, rho)}


def applies_theorem2(problem: QuadraticProblem, sketch: Sketch, gamma: float) -> bool:
    """Theorem 2's hypotheses: sketches (23) (diagonal scale), ``L̄ ≻ 0``, ``0 < γ ≤ 1``."""
    return (isinstance(sketch, PreconditionedPerm) and sketch.variant == "diagonal"
            and problem.is_L_bar_positive_definite and 0 < gamma <= 1)


def theorem2(problem: QuadraticProblem, sketch: Sketch, gamma: float, K: int,
             x0: ArrayLike | None = None) -> dict[str, Any] | None:
    """Tightness of (30), printed and corrected; ``None`` where Theorem 2 does not apply, for
    ``K < 1``, or when the moments overflow."""
    if K < 1 or not applies_theorem2(problem, sketch, gamma):
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
    out: dict[str, Any] = {"H": H, "h_norm2_L2": H2, "sigma2": S, "lhs": lhs, "f0_minus_fK": delta}
    out["corrected"] = thm2_corrected_rhs(gamma, K, delta, H, S)
    out["ratio_corrected"] = _ratio(out["corrected"], lhs)
    lim = dyn.limit_metrics()
    out["limit"] = None if lim is None else lim["grad2_Linv"]
    out["neighbourhood_corrected"] = H + gamma * S
    if gamma < 1:
        beta = thm2_beta(gamma)
        out["beta"] = beta
        out["paper"] = thm2_paper_rhs(gamma, K, delta, H, S, beta)
        out["paper_printed_norm"] = thm2_paper_rhs(gamma, K, delta, H2, S, beta)
        out["ratio_paper"] = _ratio(out["paper"], lhs)
        out["ratio_paper_printed_norm"] = _ratio(out["paper_printed_norm"], lhs)
        out["neighbourhood_paper"] = (2 * (1 - gamma) / beta + gamma) * H + gamma * S
    else:  # (29) admits no β > 0 at γ = 1
        out.update(beta=None, paper=None, paper_printed_norm=None, ratio_paper=None,
                   ratio_paper_printed_norm=None, neighbourhood_paper=None)
    if out["limit"]:
        out["ratio_neighbourhood_corrected"] = _ratio(out["neighbourhood_corrected"], out["limit"])
        out["ratio_neighbourhood_paper"] = (None if out["neighbourhood_paper"] is None
                                            else _ratio(out["neighbourhood_paper"], out["limit"]))
    return out


def mean_recursion(problem: QuadraticProblem, sketch: Sketch, gamma: float, K: int,
                   x0: ArrayLike | None = None) -> dict[str, Any] | None:
    """(28): ``E[x^K] = (1−γ)^K x⁰ + (1 − (1−γ)^K) x^∞`` against the exact mean recursion."""
    if not (isinstance(sketch, PreconditionedPerm) and sketch.variant == "diagonal"):
        return None
    dyn = ExactDynamics(problem, sketch, gamma, "sgd", 1, x0)
    m = dyn.x0.copy()
    for _ in range(K):
        m = dyn.EA @ m + dyn.Ev
    n = problem.n
    x_inf = (np.asarray(problem.b) / np.sqrt(problem.D)).sum(axis=0) / (n * math.sqrt(n))
    closed = (1 - gamma) ** K * dyn.x0 + (1 - (1 - gamma) ** K) * x_inf
    err = float(np.abs(closed - m).max())
    return {"closed_form": closed.tolist(), "exact": m.tolist(), "max_abs_diff": err,
            "ratio": _ratio(float(np.linalg.norm(closed)), float(np.linalg.norm(m)))}
