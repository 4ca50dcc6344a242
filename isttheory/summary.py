"""The numbers behind ``isttheory constants`` and ``isttheory exact`` (JSON-ready dicts).

A constant is reported only when its SDP solved with status ``optimal`` and agrees with
the eigen-solver to 1e-6 relative; the reported value is then the eigen answer (more
digits), and ``solver_status`` says what the SDP did. Otherwise the key is ``null``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import tightness
from .constants import DEFAULT_SOLVER, SolverOptions, contraction, optimal_step, rate, theta_star
from .dynamics import ExactDynamics
from .errors import SingularError
from .moments import SketchMoments
from .problem import QuadraticProblem
from .sketches.base import Sketch
from .structured import LowRankDiagonalProblem


def _list(a: Any) -> Any:
    return None if a is None else np.asarray(a).tolist()


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


CONSTANTS_KEYS = ("form", "sketch", "expected_B", "expected_Cb", "W", "W_psd", "second_moment_BLB", "theta",
                  "theta_sdp", "theta_eigen", "theta_certificate", "rate", "step_paper", "factor_paper", "x_star",
                  "x_inf", "h", "h_norm2_L", "sigma2", "sigma2_constant", "gamma_opt", "contraction_opt",
                  "solver_status", "solver")
"""The keys ``isttheory constants`` always reports, dense or structured (their one home); ``gamma`` and
``contraction_at_gamma`` join them with ``--gamma``, and the dense SDP adds ``gamma_opt_sdp``,
``contraction_opt_sdp``."""


def constants_summary(problem: QuadraticProblem, sketch: Sketch, form: str = "sgd", gamma: float | None = None,
                      options: SolverOptions = DEFAULT_SOLVER) -> dict[str, Any]:
    """θ* of (14), rates, fixed point, bias, σ², the paper's and the optimal step, with solver statuses."""
    mo = SketchMoments(problem, sketch)
    pd = problem.is_L_bar_positive_definite
    W, BLB = mo.W, mo.BLB
    th = theta_star(W, BLB, options)
    wmin = float(np.linalg.eigvalsh(W)[0])
    out: dict[str, Any] = {
        "form": form, "sketch": sketch.spec,
        "expected_B": _list(mo.expected_B), "expected_Cb": _list(mo.expected_Cb), "W": _list(W),
        "W_psd": bool(wmin >= -1e-10 * max(1.0, float(np.abs(W).max()))), "second_moment_BLB": _list(BLB),
        "theta": th.eigen_value if th.trustworthy else None, "theta_sdp": th.value, "theta_eigen": th.eigen_value,
        "theta_certificate": _list(th.certificate),
    }
    status = {"theta": th.status + ("" if th.agrees is not False else " (disagrees with eigen answer)")}
    out["rate"] = rate(W, problem.L_bar) if pd else None
    out["step_paper"] = 1.0 / out["theta"] if out["theta"] else None
    out["factor_paper"] = (1 - out["step_paper"] * out["rate"]) if out["step_paper"] and out["rate"] is not None \
        else None
    out["x_star"] = _list(problem.x_star) if pd else None
    try:
        out["x_inf"] = _list(mo.x_inf)
        out["h"] = _list(mo.h) if pd else None
        out["h_norm2_L"] = float(mo.h @ problem.L_bar @ mo.h) if pd else None
    except SingularError:
        out["x_inf"] = out["h"] = out["h_norm2_L"] = None
    out["sigma2"] = mo.sigma2_at_x_star if pd else None
    # σ² is constant in x exactly when B̄ is deterministic: E[B̄MB̄] = E[B̄]ME[B̄] (checked at M = I)
    EB = mo.expected_B
    tol = 1e-12 * max(1.0, float(np.abs(EB).max()) ** 2)
    out["sigma2_constant"] = bool(np.allclose(mo.BMB(np.eye(problem.d)), EB @ EB, atol=tol))
    if pd:
        A0, Wf = (None, W) if form == "sgd" else (mo.PMP(problem.L_bar), 0.5 * (mo.PMB(problem.L_bar)
                                                                           + mo.PMB(problem.L_bar).T))
        opt = optimal_step(problem.L_bar, Wf, BLB, options, A0)
        out["gamma_opt"] = opt.extra.get("gamma_eigen") if opt.trustworthy else None
        out["contraction_opt"] = opt.eigen_value if opt.trustworthy else None
        out["gamma_opt_sdp"], out["contraction_opt_sdp"] = opt.extra.get("gamma"), opt.value
        status["contraction"] = opt.status + ("" if opt.agrees is not False else " (disagrees with eigen answer)")
        if gamma is not None:
            out["gamma"] = gamma
            out["contraction_at_gamma"] = contraction(gamma, problem.L_bar, Wf, BLB, A0)
    else:
        out["gamma_opt"] = out["contraction_opt"] = None
    out["solver_status"] = status
    out["solver"] = th.solver
    return out


def structured_constants_summary(problem: LowRankDiagonalProblem, sketch: Sketch, form: str = "sgd",
                                 gamma: float | None = None) -> dict[str, Any]:
    """:func:`constants_summary`'s keys (:data:`CONSTANTS_KEYS`) for a structured problem, matrix-free
    (:class:`~isttheory.structured_theory.StructuredMoments`). A value the structured engine does not
    compute is ``null`` and ``null_reasons`` says why; ``certificates`` holds the eigen residual bounds."""
    from .structured_theory import StructuredMoments

    mo = StructuredMoments(problem, sketch)
    out: dict[str, Any] = {k: None for k in CONSTANTS_KEYS}
    why: dict[str, str] = {}
    dense = f"a d x d matrix is not formed on a structured problem (d = {problem.d})"
    for k in ("expected_B", "W", "second_moment_BLB"):
        why[k] = dense
    why["theta_sdp"] = why["solver"] = "no SDP at structured scale: theta is a generalised eigenvalue on operators"
    out.update(form=form, sketch=sketch.spec, expected_Cb=_list(mo.expected_Cb), W_psd=mo.W_psd)
    cert: dict[str, Any] = {}
    rate_ = mo.rate
    out["rate"], cert["rate"] = rate_.value, rate_.to_dict()
    perm1 = mo.q == 1
    if perm1:
        th, reason = mo.theta
        if th is None:
            why["theta"] = why["theta_eigen"] = reason
            why["theta_certificate"] = "no certificate vector from the structured inertia count"
        else:
            out["theta"] = out["theta_eigen"] = th.value
            cert["theta"] = th.to_dict()
            why["theta_certificate"] = "(14) is feasible"
        out["sigma2"], out["sigma2_constant"] = mo.sigma2_at_x_star, mo.sigma2_constant
    else:
        q1 = f"second moments of B_bar are in closed form for Perm-1 families only (q = {mo.q})"
        for k in ("theta", "theta_eigen", "theta_certificate", "sigma2", "sigma2_constant"):
            why[k] = q1
    out["step_paper"] = 1.0 / out["theta"] if out["theta"] else None
    out["factor_paper"] = 1 - out["step_paper"] * out["rate"] if out["step_paper"] else None
    for k in ("step_paper", "factor_paper"):
        if out[k] is None:
            why[k] = "theta is null"
    out["x_star"] = _list(problem.x_star)
    try:
        out["x_inf"], out["h"], out["h_norm2_L"] = _list(mo.x_inf), _list(mo.h), mo.h_norm2_L
    except SingularError as exc:
        why["x_inf"] = why["h"] = why["h_norm2_L"] = str(exc)
    why["gamma_opt"] = why["contraction_opt"] = "the optimal-step LMI and its Brent search need dense matrices"
    if gamma is not None:
        out["gamma"], out["contraction_at_gamma"] = gamma, None
        why["contraction_at_gamma"] = "not computed on structured problems"
    out["solver_status"] = {"theta": "eigen (ARPACK on operators)" if out["theta"] is not None else "null"}
    out["null_reasons"] = {k: v for k, v in why.items() if out.get(k) is None}
    out["certificates"] = cert
    return out


BOUNDS = ("bound_thm1", "bound_thm2", "bound_thm2_corrected")
"""The bounds ``exact`` reports: Theorem 1's (16), Theorem 2's (30) as printed and corrected."""


def _overflow_note(diverged_at: int | None) -> str:
    """Why a bound whose hypotheses hold is nevertheless ``null``: its exact side overflowed."""
    where = "" if diverged_at is None else f" at iteration {diverged_at}"
    return f"the exact moments overflowed the floating-point range{where}"


def exact_summary(problem: QuadraticProblem, sketch: Sketch, gamma: float, iters: int, form: str = "sgd",
                  local_steps: int = 1, x0: ArrayLike | None = None) -> dict[str, Any]:
    """Exact metrics at iteration ``K``, their limits, the mean-square rate, and the tightness of (16), (30).

    ``diverged`` is true when the mean-square rate ``ms_rate`` is ``>= 1`` (the second moment
    grows without bound; there is no limit), even if nothing has overflowed by ``K``, or when the
    moments left the floating-point range (``diverged_at``, the iteration where they did).
    ``bound_notes`` maps every ``null`` bound of :data:`BOUNDS` to the hypothesis it lacks
    (:func:`tightness.theorem1_unmet`, :func:`tightness.theorem2_unmet`) or to the overflow."""
    dyn = ExactDynamics(problem, sketch, gamma, form, local_steps, x0)
    res = dyn.run(iters, record=[0, iters])
    out: dict[str, Any] = {"iters": iters, "gamma": gamma, "form": form, "local_steps": local_steps,
                           "sketch": sketch.spec, "diverged_at": res.diverged_at}
    last = {k: (float(v[-1]) if res.diverged_at is None else None) for k, v in res.metrics.items()}
    out["dist2_L"], out["grad2_Linv"], out["f"] = last.get("dist2_L"), last.get("grad2_Linv"), last.get("f")
    out["ms_rate"] = dyn.ms_rate
    out["mean_rate"] = dyn.mean_rate
    out["diverged"] = bool(out["ms_rate"] >= 1.0 or res.diverged_at is not None)
    lim = dyn.limit_metrics
    out["limit_dist2_L"] = None if lim is None else _finite(lim.get("dist2_L"))
    out["limit_grad2_Linv"] = None if lim is None else _finite(lim.get("grad2_Linv"))
    finite = res.diverged_at is None
    unmet1 = tightness.theorem1_unmet(problem, sketch, gamma, form, local_steps, iters, dyn.moments)
    unmet2 = tightness.theorem2_unmet(problem, sketch, gamma, form, local_steps, iters)
    t1 = tightness.theorem1(problem, sketch, gamma, iters, x0, dyn.moments) if finite and unmet1 is None else None
    t2 = tightness.theorem2(problem, sketch, gamma, iters, x0) if finite and unmet2 is None else None
    out["bound_thm1"] = None if t1 is None else t1.bound16
    out["bound_thm2"] = None if t2 is None else t2.paper
    out["bound_thm2_corrected"] = None if t2 is None else t2.corrected
    reasons = {"bound_thm1": unmet1, "bound_thm2_corrected": unmet2,
               "bound_thm2": unmet2 if unmet2 is not None else
               tightness.theorem2_unmet(problem, sketch, gamma, form, local_steps, iters, printed=True)}
    out["bound_notes"] = {name: reasons[name] or _overflow_note(res.diverged_at)
                          for name in BOUNDS if out[name] is None}
    mr = tightness.mean_recursion(problem, sketch, gamma, iters, x0) if res.diverged_at is None else None
    out["tightness"] = {name: None if t is None else t.to_dict()
                        for name, t in (("thm1", t1), ("thm2", t2), ("mean_recursion", mr))}
    return out
