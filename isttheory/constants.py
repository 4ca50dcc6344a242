"""Tight constants as small SDPs (cvxpy), each cross-checked against an eigen-solver.

* ``θ* = min θ`` s.t. ``θW̄ − E[B̄L̄B̄] ⪰ 0`` — condition (14) of Theorem 1;
  eigen answer: the largest generalised eigenvalue of ``(E[B̄L̄B̄], W̄)``.
* the rate ``λ_min(L̄^{-1/2} W̄ L̄^{-1/2})`` of (16), the paper's step ``1/θ*``;
* the tight one-step contraction ``ρ(γ) = λ_max(L̄^{-1/2} E[(I−γB̄)ᵀL̄(I−γB̄)] L̄^{-1/2})``
  and the ``γ`` minimising it, as an LMI in ``(t, γ)`` via a Schur complement:
  ``[[tL̄ − L̄ + 2γW̄, γGᵀ], [γG, I]] ⪰ 0`` with ``E[B̄L̄B̄] = GᵀG``;
  eigen answer: ``ρ`` is convex in ``γ``, minimised by bounded Brent search;
* Theorem 2's ``β`` and ``(γ, β)`` (closed forms, checked by scalar search).

Solvers, chosen by measurement on a 2-core machine (heterogeneous Perm-1, one
LMI in θ; relative error against the generalised eigenvalue):

    d     CVXOPT (defaults)      SCS eps=1e-9          Clarabel
    50    0.03 s, 8e-8           0.15 s, 6e-11         0.84 s, 240 MB
    100   0.12 s, 2e-8           0.38 s, 1e-13         20.9 s, 1.4 GB
    200   0.84 s, 1e-8           3.0 s, 3e-11          (not run)

CVXOPT with tightened tolerances *fails* at d ≥ 100, so it runs with its
defaults and SCS is the fallback; Clarabel is not used. Every matrix handed
to a solver is symmetrised and scaled to unit norm first. A solver answer
counts only with status ``optimal`` and agreement with the eigen answer to
``1e-6`` relative; otherwise the result says why and ``trustworthy`` is False.
"""

from __future__ import annotations

import enum
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg as sla
from scipy.optimize import minimize_scalar

from .arrays import FloatArray, sym

PSD_TOL = 1e-10
"""Eigenvalues above ``−PSD_TOL·scale`` count as non-negative."""


@dataclass(frozen=True)
class SolverOptions:
    """Which SDP solver to use, its fallback, and what counts as agreement."""

    solver: str = "CVXOPT"
    fallback: str | None = "SCS"
    scs_eps: float = 1e-9
    accept_inaccurate: bool = False
    cross_check_rtol: float = 1e-6


DEFAULT_SOLVER = SolverOptions()


class SolveStatus(enum.StrEnum):
    """How an SDP or its eigen cross-check ended (as cvxpy's ``settings.py`` names solver statuses).

    ``OPTIMAL`` (cvxpy's ``optimal``, or ``optimal_inaccurate`` when accepted); ``INFEASIBLE`` from the solver,
    or from the eigen answer of (14) with its reason: ``INFEASIBLE_W_NOT_PSD`` (a certificate ``vᵀW̄v < 0``) and
    ``INFEASIBLE_KERNEL`` (``E[B̄L̄B̄]`` does not vanish on ``ker W̄``); ``FAILED``: no solver returned a status
    we trust (what each said is in :attr:`SDPResult.message`). A ``StrEnum``: JSON and tables show its value."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    INFEASIBLE_W_NOT_PSD = "infeasible: W is not PSD"
    INFEASIBLE_KERNEL = "infeasible: E[BLB] does not vanish on ker W"
    FAILED = "failed"

    @property
    def infeasible(self) -> bool:
        """Infeasible, whatever the reason."""
        return self in (SolveStatus.INFEASIBLE, SolveStatus.INFEASIBLE_W_NOT_PSD, SolveStatus.INFEASIBLE_KERNEL)

    @property
    def reason(self) -> str:
        """Why an infeasible eigen answer is infeasible (empty otherwise)."""
        return self.value.partition(": ")[2]


@dataclass(frozen=True)
class SDPResult:
    """A constant from an SDP, its eigen cross-check, and whether to trust it."""

    value: float | None
    status: SolveStatus
    solver: str
    eigen_value: float | None
    agrees: bool | None
    certificate: FloatArray | None = None
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def trustworthy(self) -> bool:
        """Status optimal (or accepted inaccurate) and, where an eigen answer exists, agreement."""
        return self.status in (SolveStatus.OPTIMAL, SolveStatus.INFEASIBLE) and self.agrees is not False




def _scale(*mats: FloatArray) -> float:
    return max(1e-300, max(float(np.abs(M).max()) for M in mats))


def _solve(problem: Any, options: SolverOptions) -> tuple[SolveStatus, str, str]:
    """Run cvxpy with the preferred solver, then the fallback; return (status, solver used, what each solver
    said when none gave a status we trust)."""
    import cvxpy as cp

    tried = []
    for name in [options.solver] + ([options.fallback] if options.fallback else []):
        kw = {"eps": options.scs_eps, "max_iters": 200_000} if name == "SCS" else {}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                problem.solve(solver=name, **kw)
        except (cp.error.SolverError, ValueError) as exc:
            tried.append(f"{name}: {type(exc).__name__}")
            continue
        status = str(problem.status)
        if status == cp.OPTIMAL or (status == cp.OPTIMAL_INACCURATE and options.accept_inaccurate):
            return SolveStatus.OPTIMAL, name, ""
        if status == cp.INFEASIBLE:
            return SolveStatus.INFEASIBLE, name, ""
        tried.append(f"{name}: {status}")
    return SolveStatus.FAILED, options.solver, "; ".join(tried)


def _agree(a: float | None, b: float | None, rtol: float) -> bool | None:
    if a is None or b is None:
        return None
    return abs(a - b) <= rtol * max(1.0, abs(b))


# ------------------------------------------------------------------ θ* of (14)


def theta_eigen(W: FloatArray, BLB: FloatArray) -> tuple[float | None, FloatArray | None, SolveStatus]:
    """Eigen answer for ``min θ : θW − Q ⪰ 0``: (θ*, certificate, status).

    ``W`` not PSD: certificate ``v`` with ``vᵀWv < 0`` (then ``vᵀ(θW − Q)v < 0`` for all
    ``θ > 0`` since ``Q ⪰ 0``). ``W`` singular with ``Q`` not vanishing on ``ker W``:
    certificate ``v ∈ ker W`` with ``vᵀQv > 0``. Otherwise the largest generalised
    eigenvalue of ``(Q, W)`` on the range of ``W``."""
    W, Q = sym(W), sym(BLB)
    s = _scale(W, Q)
    w, V = np.linalg.eigh(W / s)
    if w[0] < -PSD_TOL * max(1.0, abs(w[-1])):
        return None, V[:, 0], SolveStatus.INFEASIBLE_W_NOT_PSD
    keep = w > PSD_TOL * max(1.0, abs(w[-1]))
    K, R = V[:, ~keep], V[:, keep]
    if K.shape[1]:
        QK = K.T @ (Q / s) @ K
        qk, U = np.linalg.eigh(sym(QK))
        if qk[-1] > PSD_TOL * max(1.0, float(np.abs(Q / s).max())):
            return None, K @ U[:, -1], SolveStatus.INFEASIBLE_KERNEL
    if R.shape[1] == 0:
        return 0.0, None, SolveStatus.OPTIMAL
    Wr, Qr = R.T @ (W / s) @ R, R.T @ (Q / s) @ R
    theta = float(sla.eigh(sym(Qr), sym(Wr), eigvals_only=True)[-1])
    return max(theta, 0.0), None, SolveStatus.OPTIMAL


def theta_star(W: FloatArray, BLB: FloatArray, options: SolverOptions = DEFAULT_SOLVER) -> SDPResult:
    """``θ* = min θ`` s.t. ``θW̄ − E[B̄L̄B̄] ⪰ 0`` (14), by SDP and by generalised eigenvalues."""
    import cvxpy as cp

    W, Q = sym(W), sym(BLB)
    eig, cert, eig_status = theta_eigen(W, Q)
    s = _scale(W, Q)
    theta = cp.Variable()
    M = theta * (W / s) - Q / s
    prob = cp.Problem(cp.Minimize(theta), [0.5 * (M + M.T) >> 0, theta >= 0])
    status, solver, tried = _solve(prob, options)
    said = f"{status} ({tried})" if tried else str(status)
    value = float(theta.value) if status is SolveStatus.OPTIMAL and theta.value is not None else None
    if eig_status.infeasible:
        agrees = status is SolveStatus.INFEASIBLE if status is not SolveStatus.FAILED else None
        return SDPResult(None, SolveStatus.INFEASIBLE, solver, None, agrees, cert,
                         f"{eig_status}; solver says {said}")
    agrees = _agree(value, eig, options.cross_check_rtol)
    msg = "" if agrees else f"SDP {value} vs eigen {eig} (solver status {said})"
    return SDPResult(value, status, solver, eig, agrees, None, msg)


# ------------------------------------------------------------------ rates of (16)


def rate(W: FloatArray, L_bar: FloatArray) -> float:
    """``λ_min(L̄^{-1/2} W̄ L̄^{-1/2})``, the rate of (16) (generalised eigenvalue of ``(W̄, L̄)``)."""
    return float(sla.eigh(sym(W), sym(L_bar), eigvals_only=True)[0])


def contraction(gamma: float, L_bar: FloatArray, W: FloatArray, BLB: FloatArray,
                A0: FloatArray | None = None) -> float:
    """Tight one-step factor ``ρ(γ) = max_x E‖A x‖²_L̄/‖x‖²_L̄`` with ``E[AᵀL̄A] = A0 − 2γW + γ²E[B̄L̄B̄]``.

    SGD form (2), ``A = I − γB̄``: ``A0 = L̄``, ``W = W̄``. Form (6), ``A = P̄ − γB̄``:
    ``A0 = E[P̄L̄P̄]``, ``W = ½(E[P̄L̄B̄] + E[B̄L̄P̄])``. Value: ``λ_max(L̄^{-1/2}(…)L̄^{-1/2})``."""
    A0 = sym(L_bar) if A0 is None else sym(A0)
    M = A0 - 2 * gamma * sym(W) + gamma**2 * sym(BLB)
    return float(sla.eigh(sym(M), sym(L_bar), eigvals_only=True)[-1])


def optimal_step_eigen(L_bar: FloatArray, W: FloatArray, BLB: FloatArray,
                       A0: FloatArray | None = None) -> tuple[float, float]:
    """``argmin_γ ρ(γ)`` by bounded Brent search (ρ is convex: a max of convex quadratics in γ)."""
    rho0 = contraction(0.0, L_bar, W, BLB, A0)
    th, _, status = theta_eigen(W, BLB)
    if status is not SolveStatus.OPTIMAL or not th:
        return 0.0, rho0  # no γ > 0 decreases ρ (W not PSD) or nothing moves
    hi = 2.0 / th
    res = minimize_scalar(lambda g: contraction(g, L_bar, W, BLB, A0), bounds=(0.0, hi), method="bounded",
                          options={"xatol": 1e-12 * hi, "maxiter": 500})
    g, v = float(res.x), float(res.fun)
    return (g, v) if v < rho0 else (0.0, rho0)


def optimal_step(L_bar: FloatArray, W: FloatArray, BLB: FloatArray, options: SolverOptions = DEFAULT_SOLVER,
                 A0: FloatArray | None = None) -> SDPResult:
    """``min_{t, γ} t`` s.t. ``[[tL̄ − A0 + 2γW, γGᵀ], [γG, I]] ⪰ 0`` (Schur complement of
    ``tL̄ − A0 + 2γW − γ²GᵀG ⪰ 0``, ``GᵀG = E[B̄L̄B̄]``), cross-checked by Brent search."""
    import cvxpy as cp

    L, W, Q = sym(L_bar), sym(W), sym(BLB)
    A = L if A0 is None else sym(A0)
    s = _scale(L, W, Q, A)
    q, V = np.linalg.eigh(Q / s)
    G = (V * np.sqrt(np.clip(q, 0, None))).T  # GᵀG = Q/s
    d = L.shape[0]
    t, g = cp.Variable(), cp.Variable(nonneg=True)
    top = t * (L / s) - A / s + 2 * g * (W / s)
    block = cp.bmat([[0.5 * (top + top.T), g * G.T], [g * G, np.eye(d)]])  # type: ignore[attr-defined]
    prob = cp.Problem(cp.Minimize(t), [0.5 * (block + block.T) >> 0])
    status, solver, tried = _solve(prob, options)
    g_e, rho_e = optimal_step_eigen(L, W, Q, A)
    if status is not SolveStatus.OPTIMAL or t.value is None:
        return SDPResult(None, status, solver, rho_e, None, message=tried,
                         extra={"gamma": None, "gamma_eigen": g_e})
    rho_sdp, g_sdp = float(t.value), float(g.value) if g.value is not None else 0.0
    agrees = _agree(rho_sdp, rho_e, options.cross_check_rtol)
    return SDPResult(rho_sdp, status, solver, rho_e, agrees,
                     message="" if agrees else f"SDP ρ = {rho_sdp} vs Brent ρ = {rho_e}",
                     extra={"gamma": g_sdp, "gamma_eigen": g_e, "rho_at_sdp_gamma": contraction(g_sdp, L, W, Q, A)})


# ------------------------------------------------------------------ Theorem 2


def thm2_beta(gamma: float) -> float:
    """The β minimising the paper's neighbourhood ``(2β⁻¹(1−γ) + γ)`` under (29): the largest
    admissible ``β = (1−γ)/(2(1+γ))``."""
    return (1 - gamma) / (2 * (1 + gamma))


def thm2_best_step(K: int, delta: float, H: float, sigma2: float, corrected: bool = False) -> tuple[float, float]:
    """``(γ, β)`` minimising the whole bound for a given ``K`` with ``Δ = f(x⁰) − f*``.

    Paper: with β = (1−γ)/(2(1+γ)) the bound is ``2Δ/(γK) + (4 + 5γ)H + γσ²``, minimised at
    ``γ = √(2Δ/(K(5H + σ²)))`` clipped to ``(0, 1)``; corrected: ``γ = √(2Δ/(Kσ²))`` clipped to ``(0, 1]``."""
    slope = sigma2 if corrected else 5 * H + sigma2
    g = 1.0 if slope <= 0 else math.sqrt(2 * delta / (K * slope))
    g = min(g, 1.0) if corrected else min(g, 1.0 - 1e-9)
    return g, (float("nan") if corrected else thm2_beta(g))
