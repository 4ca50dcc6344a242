"""Certified Perron root of the second-moment map ``T: X ↦ E[A X Aᵀ]`` on symmetric matrices.

``A`` is the random iteration matrix of one step of form (2) (``A = I − γB̄``) or of Algorithm 1's
merge (6) (``A = P̄ − γB̄`` with one local step), so ``X⁺ = T(X) + …`` is the second-moment recursion of
:mod:`isttheory.dynamics` and its spectral radius ``ρ(T)`` is the mean-square linear rate. ``T`` is
applied as a structured map (never as a ``d² × d²`` matrix); two facts make ``ρ(T)`` cheap to bracket:

* ``T`` is *positive* (``X ⪰ 0 ⇒ T(X) ⪰ 0``), so ``ρ(T)`` is an eigenvalue with a PSD eigenvector
  (Perron–Frobenius for cone-preserving maps), and for every ``X ≻ 0`` the Collatz–Wielandt bounds hold:
  ``T(X) ⪯ μX ⇒ ρ(T) ≤ μ`` and ``T(X) ⪰ μX ⇒ ρ(T) ≥ μ``; the best ``μ`` are the extreme generalised
  eigenvalues of ``(T(X), X)`` (proof: iterate, ``0 ⪯ Tᵏ(Y) ⪯ c μᵏ X`` for ``Y ⪰ 0``, ``Y ⪯ cX``, and the
  PSD cone spans the symmetric matrices);
* with a *symmetric* ``A`` (diagonal sketches: ``C_i``, ``B̄``, ``P̄`` symmetric in (2) and (6)) ``T`` is
  self-adjoint for ``⟨X, Y⟩ = tr(XY)``, so every Rayleigh quotient ``⟨X, T(X)⟩/⟨X, X⟩`` is a lower bound
  of ``λ_max(T) = ρ(T)``.

:func:`davidson_perron` (self-adjoint ``T``) runs a Davidson iteration preconditioned by the mean part
``X ↦ E[A] X E[A]`` (diagonal in the eigenbasis of ``E[A]``: entry ``(j, k)`` is ``a_j a_k``; the rest,
``E[(A − E[A]) X (A − E[A])]``, is a variance term of order ``γ²``), started from ``v vᵀ`` with ``v`` the
dominant eigenvector of ``E[A]``; the bracket is [Rayleigh–Ritz value, Collatz–Wielandt bound of the Ritz
vector]. :func:`power_perron` (any ``A``) is the power iteration on the PSD cone from ``I`` with the two
Collatz–Wielandt bounds, which are monotone along the iteration.
Brackets are rigorous up to floating-point rounding in ``T`` and in the small eigen-solvers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .arrays import FloatArray, sym

RATE_RTOL = 1e-9
"""Default stopping tolerance: relative bracket width ``(upper − lower)/upper``. Ten times below the
1e-8 relative agreement asked of :attr:`~isttheory.dynamics.ExactDynamics.ms_rate` against the dense
``d² × d²`` spectral radius, and above the rounding floor of the Collatz–Wielandt bound (about 2e-10
observed at d = 64 with γ λ_max(E[B̄]) = 0.01, where the Perron vector has eigenvalues ~1e-6 of its largest)."""

RESIDUAL_FLOOR = 1e-14
"""Relative residual ``‖T(X) − θX‖_F/(|θ|‖X‖_F)`` at which the Ritz pair is converged to rounding
(a few ulps times the d² entries summed); past it, at most :data:`FLOOR_EXTRA` more applications are spent
trying to close the Collatz–Wielandt bracket, then the iteration stops, uncertified if the bracket is
still wider than the tolerance (the Ritz value is then within ``‖T(X) − θX‖`` of an eigenvalue)."""

FLOOR_EXTRA = 2

CW_START = 1e-6
"""The Collatz–Wielandt bound (a d × d generalised eigenproblem) is computed only once the relative
residual is below this: before, the bound is far from tight (its width is ~1e4–1e5 times the residual)."""

CW_EVERY = 8
"""The power iteration evaluates its (monotone) Collatz–Wielandt bracket every this many steps (a generalised
eigenproblem costs more than one application of ``T`` at small ``d``)."""

MAX_BASIS = 30
"""Davidson restarts from the Ritz vector and the last correction when the basis reaches this size."""


@dataclass(frozen=True)
class RateBracket:
    """``lower ≤ ρ(T) ≤ upper`` (certified when ``upper − lower ≤ rtol·upper``); ``rate`` the estimate
    (Ritz value, or the midpoint for the power iteration); ``applications`` of ``T`` spent; ``residual``
    the relative residual of the final Ritz pair (``nan`` for the power iteration)."""

    rate: float
    lower: float
    upper: float
    applications: int
    residual: float
    certified: bool
    method: str

    @property
    def width(self) -> float:
        """Relative width ``(upper − lower)/upper`` (0 for ``ρ = 0`` certified exactly)."""
        if self.upper == self.lower:
            return 0.0
        return float((self.upper - self.lower) / abs(self.upper))


def collatz_wielandt(X: FloatArray, TX: FloatArray) -> tuple[float, float]:
    """``(μ_min, μ_max)``, the extreme generalised eigenvalues of ``(T(X), X)``: ``μ_min X ⪯ T(X) ⪯ μ_max X``
    so ``μ_min ≤ ρ(T) ≤ μ_max`` for a positive ``T``; ``(−inf, inf)`` when ``X`` is not positive definite
    (its Cholesky factorisation fails)."""
    try:
        g = scipy.linalg.eigh(sym(TX), sym(X), eigvals_only=True)
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        return -np.inf, np.inf
    return float(g[0]), float(g[-1])


def _closed(lower: float, upper: float, rtol: float) -> bool:
    """The stopping rule: a finite bracket with ``upper − lower ≤ rtol·|upper|``."""
    return bool(np.isfinite(lower) and np.isfinite(upper) and upper - lower <= rtol * abs(upper))


def _zero_map(T: Callable[[FloatArray], FloatArray], d: int) -> RateBracket | None:
    """``ρ = 0`` certified when ``T(I) = 0`` (Collatz–Wielandt with ``X = I``), else ``None``."""
    TI = T(np.eye(d))
    if np.any(TI):
        return None
    return RateBracket(0.0, 0.0, 0.0, 1, 0.0, True, "zero map")


def _orthonormal(x: FloatArray, basis: list[FloatArray]) -> FloatArray | None:
    """``x`` orthogonalised against the (orthonormal) ``basis`` twice (Kahan: enough to stay orthonormal to
    rounding) and normalised; ``None`` when less than 1e-10 of its norm is new."""
    n0 = float(np.linalg.norm(x))
    if n0 == 0.0 or not np.isfinite(n0):
        return None
    for _ in range(2):
        for B in basis:
            x = x - float(np.vdot(B, x)) * B
    nx = float(np.linalg.norm(x))
    return None if nx <= 1e-10 * n0 else sym(x / nx)


def davidson_perron(T: Callable[[FloatArray], FloatArray], EA: FloatArray, rtol: float = RATE_RTOL,
                    maxiter: int = 200, seed: int = 0) -> RateBracket:
    """``ρ(T)`` for a positive map ``T`` that is self-adjoint on symmetric matrices, with mean part
    ``X ↦ E[A] X E[A]`` (``EA`` symmetric).

    Davidson: basis ``V`` (Frobenius-orthonormal symmetric matrices) and images ``T(V)``; the largest
    Ritz pair ``(θ, X)`` of ``⟨V, T(V)⟩``; the correction ``(θ − D)⁻¹ R`` with ``R = T(X) − θX`` and ``D``
    the mean part, diagonal in the eigenbasis ``E[A] = U diag(a) Uᵀ`` (``(Uᵀ R U)_{jk}/(θ − a_j a_k)``, the
    denominator kept away from 0; ``θ ≥ ρ(E[A])² ≥ a_j a_k`` from the start ``v vᵀ``, by Jensen). Start:
    ``v vᵀ`` plus a 1e-3 share of a seeded random PSD matrix (so that no exact eigenvector of another
    eigenvalue traps the start). Stopping rule: ``upper − lower ≤ rtol·upper`` with ``lower`` the Ritz
    value (a Rayleigh quotient, ≤ ρ since ``T`` is self-adjoint) and ``upper`` the Collatz–Wielandt bound of
    the Ritz vector (when it is positive definite); or :data:`RESIDUAL_FLOOR` reached (then
    :data:`FLOOR_EXTRA` more tries); or ``maxiter`` applications (uncertified). ``T = 0`` is
    detected exactly (``ρ = 0``)."""
    d = EA.shape[0]
    a, U = np.linalg.eigh(sym(EA))
    D = np.outer(a, a)
    v = U[:, int(np.argmax(np.abs(a)))]
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((d, d))
    P = G @ G.T
    x = np.outer(v, v) + 1e-3 * P / np.linalg.norm(P)
    basis: list[FloatArray] = []
    images: list[FloatArray] = []
    H = np.zeros((0, 0))
    lower, upper, theta, res = -np.inf, np.inf, 0.0, np.inf
    X, R = x, x
    at_floor = 0
    apps = 0
    while apps < maxiter:
        x_new = _orthonormal(x, basis)
        if x_new is None and basis:  # the correction lies in the basis: expand by the residual, else at random
            x_new = _orthonormal(R, basis)
            if x_new is None:
                x_new = _orthonormal(sym(rng.standard_normal((d, d))), basis)
        if x_new is None:  # nothing new: the basis spans Sym(d) and the Ritz values are T's eigenvalues
            return RateBracket(theta, theta, theta, apps, res, True, "davidson (exhausted)")
        x = x_new
        Tx = T(x)
        apps += 1
        h = np.array([float(np.vdot(B, Tx)) for B in basis] + [float(np.vdot(x, Tx))])
        k = len(basis)
        H = np.pad(H, ((0, 1), (0, 1)))
        H[k, :] = H[:, k] = h
        basis.append(x)
        images.append(Tx)
        w, Y = np.linalg.eigh(sym(H))
        theta, y = float(w[-1]), Y[:, -1]
        X = sum((c * B for c, B in zip(y, basis, strict=True)), np.zeros((d, d)))
        TX = sum((c * W for c, W in zip(y, images, strict=True)), np.zeros((d, d)))
        if np.trace(X) < 0:
            X, TX = -X, -TX
        R = TX - theta * X
        scale = max(abs(theta), float(np.abs(w).max()))
        if scale == 0.0:  # T vanishes on the basis: T = 0 exactly, or not
            zero = _zero_map(T, d)
            if zero is not None:
                return RateBracket(0.0, 0.0, 0.0, apps + 1, 0.0, True, "davidson (zero map)")
            scale = 1.0
        res = float(np.linalg.norm(R)) / (scale * float(np.linalg.norm(X)))
        lower = max(lower, theta)
        if res <= CW_START:
            lo_cw, up_cw = collatz_wielandt(X, TX)
            lower, upper = max(lower, lo_cw), min(upper, up_cw)
        if _closed(lower, upper, rtol):
            return RateBracket(theta, lower, upper, apps, res, True, "davidson")
        if res <= RESIDUAL_FLOOR:
            at_floor += 1
            if at_floor > FLOOR_EXTRA:
                break
        if len(basis) >= MAX_BASIS:  # restart from the Ritz vector
            basis, images, H = [X / np.linalg.norm(X)], [TX / np.linalg.norm(X)], np.array([[theta]])
        Rh = U.T @ R @ U
        den = theta - D
        floor = 1e-8 * scale
        den = np.where(np.abs(den) < floor, floor, den)
        x = sym(U @ (Rh / den) @ U.T)
    if upper == np.inf:  # last resort for an upper bound: Collatz–Wielandt with X = I
        upper = min(upper, collatz_wielandt(np.eye(d), T(np.eye(d)))[1])
        apps += 1
    return RateBracket(theta, lower, upper, apps, res, _closed(lower, upper, rtol), "davidson")


def power_perron(T: Callable[[FloatArray], FloatArray], d: int, rtol: float = RATE_RTOL,
                 maxiter: int = 20_000) -> RateBracket:
    """``ρ(T)`` for any positive ``T`` by the power iteration ``X ← T(X)/‖T(X)‖_F`` from ``X = I``.

    Stopping rule: the Collatz–Wielandt bracket ``[μ_min, μ_max]`` of ``(T(X), X)`` (monotone along the
    iteration: ``T(X) ⪯ μX ⇒ T²(X) ⪯ μT(X)``) has ``μ_max − μ_min ≤ rtol·μ_max``; the estimate is its
    midpoint. ``T(X) = 0`` with ``X ≻ 0`` means ``T = 0`` (``ρ = 0``, certified). After ``maxiter``
    applications the bracket is returned uncertified (the iteration contracts only by ``|λ₂/λ₁|`` per
    step). No division by zero: ``‖T(X)‖ = 0`` is tested before normalising."""
    X = np.eye(d)
    lower, upper = -np.inf, np.inf
    for k in range(1, maxiter + 1):
        Y = sym(T(X))
        if not np.any(Y):
            if collatz_wielandt(X, Y) != (-np.inf, np.inf):  # X ≻ 0 and T(X) = 0: T = 0
                return RateBracket(0.0, 0.0, 0.0, k, float("nan"), True, "power")
            break
        if k % CW_EVERY == 1 or k == maxiter:  # the bounds are monotone: testing every few steps loses nothing
            lo, up = collatz_wielandt(X, Y)
            lower, upper = max(lower, lo), min(upper, up)
            if _closed(lower, upper, rtol):
                return RateBracket(0.5 * (lower + upper), lower, upper, k, float("nan"), True, "power")
        X = Y / np.linalg.norm(Y)
    return RateBracket(0.5 * (lower + upper), lower, upper, maxiter, float("nan"), False, "power")
