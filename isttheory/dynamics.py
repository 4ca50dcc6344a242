"""Exact expected dynamics: first and second moments of ``x^k``.

One step of either form is ``x⁺ = A x + v`` with a fresh random ``(A, v)``
independent of ``x``:

* SGD form (2): ``A = I − γB̄``, ``v = γ(Cb)‾``;
* Algorithm 1 (6), ``t`` local steps ``z ← z − γC_i(L_i z − b_i) = M_i z + γC_ib_i`` from
  ``z = C_i x``: ``A = (1/n) Σ_i M_i^t C_i``, ``v = (γ/n) Σ_i Σ_{s<t} M_i^s C_i b_i`` with
  ``M_i = I − γC_iL_i``.

So ``m⁺ = E[A] m + E[v]`` and ``X⁺ = E[A X Aᵀ] + E[A m vᵀ] + E[v mᵀAᵀ] + E[vvᵀ]``
with ``m = E[x]``, ``X = E[xxᵀ]``. For diagonal sketches with one local step
every term is a closed form of the symbolic engine (no ``d²×d²`` operator);
otherwise the expectations are exact averages over the enumerated support.
The mean-square rate is the spectral radius of ``T: X ↦ E[AXAᵀ]`` (a positive
map, so its dominant eigenvector is PSD); limits solve the discrete Lyapunov
equation ``X = T(X) + R`` and are ``None`` when the rate is ``≥ 1``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse.linalg as spla
from numpy.typing import ArrayLike, NDArray

from . import perron, quantities
from .arrays import FloatArray, sym
from .errors import ConvergenceError, EnumerationTooLargeError, ParameterError
from .moments import SketchMoments
from .problem import QuadraticProblem
from .sketches.base import DiagonalSketch, Sketch
from .validation import MOMENT_DIVERGENCE_FACTOR, check_form, check_step_size


@dataclass(frozen=True)
class ExactResult:
    """Exact expectations at iterations ``iters`` (``metrics[name][j]`` at ``iters[j]``)."""

    iters: NDArray[np.int64]
    metrics: dict[str, FloatArray]
    mean: FloatArray
    diverged_at: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)


class ExactDynamics:
    """Exact moments of ``x^k`` for a (problem, sketch, γ, form, local steps) from ``x⁰``."""

    def __init__(self, problem: QuadraticProblem, sketch: Sketch, gamma: float, form: str = "sgd",
                 local_steps: int = 1, x0: ArrayLike | None = None, moments: SketchMoments | None = None) -> None:
        """``moments``: a :class:`SketchMoments` of the same ``problem`` and ``sketch`` to reuse (its compiled
        maps do not depend on ``γ``, the form or ``x⁰``; e.g. one per problem over a grid of step sizes)."""
        g = check_step_size(gamma)
        f, t = check_form(form, local_steps)
        self.problem, self.sketch = problem, sketch
        self.gamma, self.form, self.local_steps = g, f, t
        self.d = problem.d
        self.x0 = np.ones(self.d) if x0 is None else np.asarray(x0, dtype=float)
        self.structured = isinstance(sketch, DiagonalSketch) and local_steps == 1
        if moments is not None and (moments.problem is not problem or moments.sketch is not sketch):
            raise ParameterError("moments must belong to the same problem and sketch objects")
        self.moments = SketchMoments(problem, sketch) if moments is None else moments

    # ---------------------------------------------------------------- pieces of one step
    @cached_property
    def _outcomes(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Enumerated (probs, A_k, v_k) for the unstructured path."""
        try:
            sup = self.sketch.support()
        except EnumerationTooLargeError as exc:
            raise EnumerationTooLargeError(
                f"exact dynamics for {self.sketch.spec} with {self.local_steps} local steps needs the support: {exc}"
            ) from None
        C = sup.draw.dense(self.d)  # (K, n, d, d)
        L, b, g, n = np.asarray(self.problem.L), np.asarray(self.problem.b), self.gamma, self.problem.n
        if self.form == "sgd":
            Bk = np.einsum("knij,njl,knlm->kim", C, L, C) / n
            A = np.eye(self.d) - g * Bk
            v = g * np.einsum("knij,nj->ki", C, b) / n
        else:
            Mi = np.eye(self.d) - g * np.einsum("knij,njl->knil", C, L)  # one local step: z ↦ M_i z + γC_ib_i
            off = np.zeros((C.shape[0], n, self.d))                     # Σ_{s<t} M_i^s C_i b_i
            Cb = np.einsum("knij,nj->kni", C, b)
            powers = np.broadcast_to(np.eye(self.d), Mi.shape).copy()
            for _ in range(self.local_steps):
                off += np.einsum("knij,knj->kni", powers, Cb)
                powers = np.einsum("knij,knjl->knil", Mi, powers)
            z = np.einsum("knij,knjl->knil", powers, C)
            A = z.mean(axis=1)
            v = g * off.mean(axis=1)
        return sup.probs, A, v

    @cached_property
    def EA(self) -> FloatArray:
        """``E[A]`` (the mean recursion matrix)."""
        if self.structured:
            base = np.eye(self.d) if self.form == "sgd" else self.moments.expected_P
            return base - self.gamma * self.moments.expected_B
        p, A, _ = self._outcomes
        out: FloatArray = np.einsum("k,kij->ij", p, A)
        return out

    @cached_property
    def Ev(self) -> FloatArray:
        """``E[v]``."""
        if self.structured:
            return self.gamma * self.moments.expected_Cb
        p, _, v = self._outcomes
        return p @ v

    @cached_property
    def Evv(self) -> FloatArray:
        """``E[vvᵀ]``."""
        if self.structured:
            return self.gamma**2 * self.moments.CbCb
        p, _, v = self._outcomes
        return sym(np.einsum("k,ki,kj->ij", p, v, v))

    def T(self, X: FloatArray) -> FloatArray:
        """``E[A X Aᵀ]`` for symmetric ``X``."""
        if self.structured:
            return sym(self.moments.transition(sym(X), self.gamma, self.form))
        p, A, _ = self._outcomes
        return sym(np.einsum("k,kij,jl,kml->im", p, A, X, A))

    def cross(self, m: FloatArray) -> FloatArray:
        """``E[A m vᵀ]``."""
        if self.structured:
            g = self.gamma
            first = np.outer(m, self.moments.expected_Cb) if self.form == "sgd" else self.moments.PmCb(m)
            return g * first - g**2 * self.moments.BmCb(m)
        p, A, v = self._outcomes
        out: FloatArray = np.einsum("k,kij,j,kl->il", p, A, m, v)
        return out

    def trajectory(self, iters: int) -> list[tuple[FloatArray, FloatArray]]:
        """``[(m_k, X_k)]`` for ``k = 0 … iters`` from ``x⁰``."""
        m, X = self.x0.copy(), np.outer(self.x0, self.x0)
        out = [(m, X)]
        for _ in range(iters):
            m, X = self.step(m, X)
            out.append((m, X))
        return out

    def step(self, m: FloatArray, X: FloatArray) -> tuple[FloatArray, FloatArray]:
        """One exact step of the moment recursion."""
        R = self.cross(m)
        return self.EA @ m + self.Ev, sym(self.T(X) + R + R.T + self.Evv)

    # ---------------------------------------------------------------- metrics
    def metrics(self, m: FloatArray, X: FloatArray) -> dict[str, float]:
        """Exact ``E f``, ``E‖∇f‖²`` and, for ``L̄ ≻ 0``, ``E‖∇f‖²_{L̄⁻¹} = E‖x − x*‖²_{L̄}``
        (formulas in :func:`isttheory.quantities.moment_metrics`)."""
        xs = self.problem.x_star if self.problem.is_L_bar_positive_definite else None
        out = quantities.moment_metrics(np.asarray(self.problem.L_bar), np.asarray(self.problem.b_bar), xs, m, X)
        keys = ("f", "grad2") if xs is None else ("f", "grad2", "dist2_L", "grad2_Linv")
        return {k: float(out[k]) for k in keys}

    def run(self, iters: int, record: ArrayLike | None = None) -> ExactResult:
        """Exact metrics for ``k = 0 … iters`` (or at ``record``); stops when the moments blow up."""
        if not isinstance(iters, (int, np.integer)) or iters < 0:
            raise ParameterError(f"iters must be an integer >= 0; got {iters!r}")
        rec = np.arange(iters + 1) if record is None else np.unique(np.asarray(record, dtype=np.int64))
        m, X = self.x0.copy(), np.outer(self.x0, self.x0)
        scale = MOMENT_DIVERGENCE_FACTOR * max(1.0, float(np.abs(X).max()))
        out: dict[str, list[float]] = {}
        means, ks = [], []
        diverged_at = None
        for k in range(iters + 1):
            if k in rec:
                for key, val in self.metrics(m, X).items():
                    out.setdefault(key, []).append(val)
                means.append(m.copy())
                ks.append(k)
            if k == iters:
                break
            m, X = self.step(m, X)
            if not (np.all(np.isfinite(X)) and np.abs(X).max() <= scale):
                diverged_at = k + 1
                break
        return ExactResult(np.array(ks, dtype=np.int64), {k_: np.array(v) for k_, v in out.items()},
                           np.array(means).reshape(len(ks), self.d), diverged_at,
                           {"sketch": self.sketch.spec, "gamma": self.gamma, "form": self.form,
                            "local_steps": self.local_steps, "structured": self.structured})

    # ---------------------------------------------------------------- rates and limits
    def _operator(self, f: Callable[[FloatArray], FloatArray]) -> spla.LinearOperator:
        d = self.d
        return spla.LinearOperator((d * d, d * d), matvec=lambda x: f(sym(x.reshape(d, d))).ravel(), dtype=float)

    @cached_property
    def ms_rate(self) -> float:
        """Spectral radius of ``T: X ↦ E[AXAᵀ]`` on symmetric matrices (mean-square linear rate).

        ``d² ≤ 400``: eigenvalues of ``T`` assembled on the ``d²`` basis (dense reference). Otherwise, with
        a symmetric ``A`` (diagonal sketch, one local step: forms (2) and (6)), the Ritz value of the
        certified Davidson iteration :meth:`ms_rate_bracket`; with an enumerated support (any ``A``),
        ARPACK, falling back to the certified power iteration :meth:`_power_rate`."""
        d = self.d
        if d * d <= 400:
            basis = np.eye(d * d)
            dense = np.column_stack([self.T(sym(basis[:, j].reshape(d, d))).ravel() for j in range(d * d)])
            return float(np.abs(np.linalg.eigvals(dense)).max())
        if self.structured:
            return self._default_bracket.rate
        try:
            vals = spla.eigs(self._operator(self.T), k=1, which="LM", tol=1e-10, maxiter=5000,
                             v0=np.eye(d).ravel(), return_eigenvectors=False)
            return float(np.abs(vals).max())
        except spla.ArpackNoConvergence:
            return self._power_rate()

    def ms_rate_bracket(self, rtol: float = perron.RATE_RTOL, maxiter: int = 200, seed: int = 0
                        ) -> perron.RateBracket:
        """``lower ≤ ρ(T) ≤ upper`` for ``T: X ↦ E[AXAᵀ]``, certified when ``upper − lower ≤ rtol·upper``.

        Symmetric ``A`` (the structured path: ``A = I − γB̄`` of (2) or ``P̄ − γB̄`` of (6), ``C_i`` diagonal):
        ``T`` is self-adjoint and positive, :func:`~isttheory.perron.davidson_perron` (Rayleigh–Ritz lower
        bound, Collatz–Wielandt upper bound, preconditioned by ``X ↦ E[A] X E[A]``; ``seed`` for the
        numpy Generator of the start's PSD share); otherwise the power iteration on the PSD cone
        (:func:`~isttheory.perron.power_perron`)."""
        if (rtol, maxiter, seed) == (perron.RATE_RTOL, 200, 0):
            return self._default_bracket
        return self._bracket(rtol, maxiter, seed)

    @cached_property
    def _default_bracket(self) -> perron.RateBracket:
        """The bracket with the default tolerance (computed once: :attr:`ms_rate` is its Ritz value)."""
        return self._bracket(perron.RATE_RTOL, 200, 0)

    def _bracket(self, rtol: float, maxiter: int, seed: int) -> perron.RateBracket:
        if self.structured:
            return perron.davidson_perron(self.T, self.EA, rtol, maxiter, seed)
        return perron.power_perron(self.T, self.d, rtol, max(maxiter, 20_000))

    def _power_rate(self, iters: int = 20_000, rtol: float = perron.RATE_RTOL) -> float:
        """``ρ(T)`` by the power iteration on the PSD cone, stopped by the Collatz–Wielandt bracket
        (:func:`~isttheory.perron.power_perron`); raises :class:`~isttheory.errors.ConvergenceError` when the
        bracket is still wider than ``rtol`` after ``iters`` applications (it used to stop when two
        successive norm ratios agreed to 1e-12, which under-estimates ρ by ``≈ 1e-12/(1 − |λ₂/λ₁|)``, and
        to return its last ratio silently after ``iters``)."""
        br = perron.power_perron(self.T, self.d, rtol, iters)
        if not br.certified:
            raise ConvergenceError(f"power iteration on X -> E[AXA^T]: bracket [{br.lower:.12g}, {br.upper:.12g}] "
                                   f"still wider than rtol = {rtol:g} after {iters} applications")
        return br.rate

    @cached_property
    def mean_rate(self) -> float:
        """Spectral radius of ``E[A]`` (rate of the mean recursion)."""
        return float(np.abs(np.linalg.eigvals(self.EA)).max())

    @cached_property
    def limit(self) -> tuple[FloatArray, FloatArray] | None:
        """``(m∞, X∞)`` solving ``m = E[A]m + E[v]``, ``X = T(X) + R(m∞)``; ``None`` if divergent."""
        if self.ms_rate >= 1.0 or self.mean_rate >= 1.0:
            return None
        m = np.asarray(np.linalg.solve(np.eye(self.d) - self.EA, self.Ev), dtype=np.float64)
        R = self.cross(m)
        return m, self.lyapunov(sym(R + R.T + self.Evv))

    def lyapunov(self, rhs: FloatArray) -> FloatArray:
        """The symmetric ``X`` with ``X = T(X) + rhs`` (``T: X ↦ E[AXAᵀ]``), for a rate ``ρ(T) < 1``.

        ``d² ≤ 400``: a dense solve. A symmetric ``A`` (the structured path): ``T`` is self-adjoint with spectrum
        in ``[−ρ, ρ]``, so ``I − T`` is symmetric positive definite (condition ``≤ (1 + ρ)/(1 − ρ)``) and
        conjugate gradients converge in ``O(√((1 + ρ)/(1 − ρ)))`` applications, where restarted GMRES stalls for
        ``ρ`` near 1 (a local quadratic model with flat directions). Otherwise GMRES. Both to a relative residual
        of 1e-13; if that fails, the fixed-point iteration ``X ← T(X) + rhs`` when it needs at most 100 000 steps
        at rate ``ρ``, else :class:`~isttheory.errors.ConvergenceError` (it used to return the unconverged
        iterate silently after 100 000 steps)."""
        d = self.d
        if d * d <= 400:
            basis = np.eye(d * d)
            dense = np.column_stack([(B - self.T(B)).ravel() for B in
                                     (sym(basis[:, j].reshape(d, d)) for j in range(d * d))])
            X = np.linalg.lstsq(dense, rhs.ravel(), rcond=None)[0].reshape(d, d)
            return sym(np.asarray(X, dtype=np.float64))
        op = self._operator(lambda Y: Y - self.T(Y))
        if self.structured:
            x, info = spla.cg(op, rhs.ravel(), rtol=1e-13, atol=0.0, maxiter=max(1000, 20 * d))
        else:
            x, info = spla.gmres(op, rhs.ravel(), rtol=1e-13, atol=0.0, restart=200, maxiter=200)
        X = x.reshape(d, d)
        if info != 0:  # the fixed-point iteration converges at ms_rate
            rho = self.ms_rate
            steps = 100_000 if rho <= 0 else math.ceil(math.log(1e-14) / math.log(rho))
            if rho >= 1.0 or steps > 100_000:
                raise ConvergenceError(f"the limit X = T(X) + R: the Krylov solver did not converge and the "
                                       f"fixed-point iteration at rate {rho:.12g} would need {steps} steps")
            for _ in range(100_000):
                X_new = self.T(X) + rhs
                if np.abs(X_new - X).max() <= 1e-14 * max(1.0, float(np.abs(X_new).max())):
                    break
                X = X_new
        return sym(np.asarray(X, dtype=np.float64))

    @cached_property
    def limit_metrics(self) -> dict[str, float] | None:
        """Metrics at the limit (a property, like :attr:`ms_rate`), or ``None`` when the recursion diverges."""
        lim = self.limit
        return None if lim is None else self.metrics(*lim)
