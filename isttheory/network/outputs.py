"""Exact expected loss of IST on the last layer, all ``c`` outputs at once (issue 18).

With ``W₁`` fixed the quadratic (12) separates over the outputs (:func:`~isttheory.network.bridge.output_problems`):
output ``k`` is a ``d = h`` problem with the *same* ``L_i = G_i`` for every ``k`` and its own ``b_i^{(k)}``, and the
neuron deal restricted to one output is Perm-q (7). One step is ``x_k⁺ = A x_k + v_k`` with one random ``A``
shared by all outputs (it depends on ``L_i`` and the draw only) and ``v_k`` linear in ``b^{(k)}``
(:mod:`isttheory.dynamics`). Hence, with ``m_k = E[x_k]`` and ``Σ = Σ_k E[x_k x_kᵀ]``,

    ``m_k⁺ = E[A] m_k + E[v_k]``,    ``Σ⁺ = T(Σ) + Σ_k (R_k(m_k) + R_k(m_k)ᵀ + E[v_k v_kᵀ])``,

``T: X ↦ E[AXAᵀ]`` and ``R_k(m) = E[A m v_kᵀ]``, and the summed loss ``Σ_k E f^{(k)}(x_k) = ½⟨L̄, Σ⟩ − Σ_k b̄_kᵀ m_k``
(:func:`isttheory.quantities.objective` on the stacked ``b̄``, ``m``): the expensive map ``T`` is applied **once
per round for all outputs**, not ``c`` times, and the limit solves **one** Lyapunov equation
(:meth:`ExactDynamics.lyapunov <isttheory.dynamics.ExactDynamics.lyapunov>`) with the summed right-hand side.
Exact, like :class:`~isttheory.dynamics.ExactDynamics` on each output (``tests/test_network.py`` checks the
two agree to round-off). :class:`OutputMoments` keeps each output's compiled moment maps across step sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from ..arrays import FloatArray, sym
from ..dynamics import ExactDynamics
from ..moments import SketchMoments
from ..problem import QuadraticProblem
from ..quantities import objective
from ..sketches.base import Sketch
from ..validation import MOMENT_DIVERGENCE_FACTOR


class OutputMoments:
    """The moments of ``c`` problems sharing ``L_i`` under one sketch, kept across step sizes (the compiled maps
    depend on ``L_i``, ``b_i`` and the sketch only)."""

    def __init__(self, problems: Sequence[QuadraticProblem], sketch: Sketch) -> None:
        if not problems:
            raise ValueError("no output problems")
        L0 = problems[0].L
        if any(p.L is not L0 and not np.array_equal(p.L, L0) for p in problems[1:]):
            raise ValueError("the output problems must share L_i")
        self.problems = list(problems)
        self.sketch = sketch
        self.moments = [SketchMoments(p, sketch) for p in self.problems]

    @property
    def outputs(self) -> int:
        return len(self.problems)

    def dynamics(self, gamma: float, form: str, local_steps: int, x0: FloatArray) -> OutputsDynamics:
        """The exact dynamics at ``gamma`` from ``x0`` (d, c): column ``k`` starts output ``k``."""
        x0 = np.asarray(x0, dtype=float)
        if x0.shape != (self.problems[0].d, self.outputs):
            raise ValueError(f"x0 must have shape {(self.problems[0].d, self.outputs)}; got {x0.shape}")
        dyn = [ExactDynamics(p, self.sketch, gamma, form, local_steps, x0=x0[:, k], moments=mo)
               for k, (p, mo) in enumerate(zip(self.problems, self.moments, strict=True))]
        return OutputsDynamics(dyn)


@dataclass(frozen=True)
class OutputsResult:
    """``f[j] = Σ_k E f^{(k)}(x_k)`` at ``iters[j]``; ``mean[j]`` the means ``m`` (d, c); ``diverged_at`` as
    :class:`~isttheory.dynamics.ExactResult`."""

    iters: NDArray[np.int64]
    f: FloatArray
    mean: FloatArray
    diverged_at: int | None


class OutputsDynamics:
    """Exact summed moments of the outputs' recursions (module docstring); ``dyn[k]`` is output ``k``'s
    :class:`~isttheory.dynamics.ExactDynamics` (only output 0's ``T`` and ``E[A]`` are used: they are shared)."""

    def __init__(self, dyn: Sequence[ExactDynamics]) -> None:
        self.dyn = list(dyn)
        self.head = self.dyn[0]
        self.L_bar = np.asarray(self.head.problem.L_bar)
        self.b_bar = np.stack([np.asarray(d.problem.b_bar) for d in self.dyn], axis=1)   # (d, c)

    @cached_property
    def Ev(self) -> FloatArray:
        """``E[v_k]`` stacked (d, c)."""
        return np.stack([d.Ev for d in self.dyn], axis=1)

    @cached_property
    def Evv(self) -> FloatArray:
        """``Σ_k E[v_k v_kᵀ]``."""
        return sym(np.sum([d.Evv for d in self.dyn], axis=0))

    def forcing(self, m: FloatArray) -> FloatArray:
        """``Σ_k (R_k(m_k) + R_k(m_k)ᵀ) + Σ_k E[v_k v_kᵀ]`` for means ``m`` (d, c)."""
        R = np.sum([d.cross(m[:, k]) for k, d in enumerate(self.dyn)], axis=0)
        return sym(R + R.T + self.Evv)

    def step(self, m: FloatArray, S: FloatArray) -> tuple[FloatArray, FloatArray]:
        """One exact step of ``(m, Σ)``."""
        return self.head.EA @ m + self.Ev, sym(self.head.T(S) + self.forcing(m))

    def f(self, m: FloatArray, S: FloatArray) -> float:
        """``Σ_k E f^{(k)}(x_k) = ½⟨L̄, Σ⟩ − Σ_k b̄_kᵀ m_k`` ((12), :func:`~isttheory.quantities.objective`)."""
        return float(objective(self.L_bar, self.b_bar.ravel(), m.ravel(), S))

    def run(self, iters: int, record: NDArray[np.int64]) -> OutputsResult:
        """``Σ_k E f^{(k)}`` at the rounds ``record`` up to ``iters``; stops when the moments blow up (as
        :meth:`ExactDynamics.run <isttheory.dynamics.ExactDynamics.run>`)."""
        rec = set(np.unique(np.asarray(record, dtype=np.int64)).tolist())
        m = np.stack([d.x0 for d in self.dyn], axis=1)
        S = m @ m.T
        scale = MOMENT_DIVERGENCE_FACTOR * max(1.0, float(np.abs(S).max()))
        ks: list[int] = []
        fs: list[float] = []
        means: list[FloatArray] = []
        diverged_at = None
        for k in range(iters + 1):
            if k in rec:
                ks.append(k)
                fs.append(self.f(m, S))
                means.append(m.copy())
            if k == iters:
                break
            m, S = self.step(m, S)
            if not (np.all(np.isfinite(S)) and np.abs(S).max() <= scale):
                diverged_at = k + 1
                break
        return OutputsResult(np.array(ks, dtype=np.int64), np.array(fs), np.array(means), diverged_at)

    @property
    def ms_rate(self) -> float:
        """``ρ(T)``: the mean-square rate, shared by the outputs."""
        return self.head.ms_rate

    @cached_property
    def limit(self) -> tuple[FloatArray, FloatArray] | None:
        """``(m∞, Σ∞)``: ``m = E[A]m + E[v]`` per output, ``Σ = T(Σ) + forcing(m∞)``; ``None`` if divergent."""
        if self.head.ms_rate >= 1.0 or self.head.mean_rate >= 1.0:
            return None
        m = np.asarray(np.linalg.solve(np.eye(self.head.d) - self.head.EA, self.Ev), dtype=np.float64)
        return m, self.head.lyapunov(self.forcing(m))

    @cached_property
    def limit_f(self) -> float | None:
        """``lim_k Σ_k E f^{(k)}(x_k)``, or ``None`` when the recursion diverges."""
        lim = self.limit
        return None if lim is None else self.f(*lim)
