"""The two engines behind the vocabulary: one float64 (closed forms, for the search) and one exact
(enumeration of the sketch's support in exact arithmetic, for certification).

Both give the same things: ``L̄``, ``b̄``, ``x⁰``; the moments of form (2) (``E[B̄]``, ``E[(Cb)‾]``,
``E[B̄L̄B̄]``, ``E[B̄x(Cb)‾ᵀ]``, ``E[(Cb)‾(Cb)‾ᵀ]``, (26)); and per form the moment recursion
``m⁺ = E[A]m + E[v]``, ``X⁺ = E[AXAᵀ] + E[Amvᵀ] + E[vmᵀAᵀ] + E[vvᵀ]`` with its rates and limit
(:mod:`isttheory.dynamics` explains ``(A, v)`` for forms (2) and (6)). The float engine is a thin
adapter over :class:`~isttheory.moments.SketchMoments` and :class:`~isttheory.dynamics.ExactDynamics`;
the exact engine rebuilds every outcome ``(A_k, v_k)`` from exact ``L_i``, ``b_i``, ``γ`` and the
family's exact scales, so a certified value shares no floating-point code with the search.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np

from ..dynamics import ExactDynamics
from ..errors import EnumerationTooLargeError, ISTError, NotPSDError
from ..moments import SketchMoments
from ..problem import QuadraticProblem
from ..sketches import parse_sketch
from ..sketches.base import IndexDraw, Sketch
from .arith import ExactArith, FloatArith
from .points import Point

MAX_EXACT_OUTCOMES = 50_000
"""Largest support the exact engine enumerates."""
MAX_EXACT_WORK = 3_000_000
"""Largest ``outcomes·d⁴`` (the exact second-moment operator's cost in rational operations, about a
microsecond or more each) the exact engine accepts; beyond it a violation stays uncertified."""


class Dynamics:
    """The moment recursion of one form: ``EA``, ``Ev``, ``step``, rates and limit."""

    EA: Any
    Ev: Any

    def step(self, m: Any, X: Any) -> tuple[Any, Any]:
        raise NotImplementedError

    @property
    def ms_rate(self) -> Any:
        raise NotImplementedError

    @property
    def mean_rate(self) -> Any:
        raise NotImplementedError

    def limit(self) -> tuple[Any, Any] | None:
        raise NotImplementedError


class Engine:
    """What the vocabulary evaluates on."""

    arith: FloatArith | ExactArith
    point: Point
    L_bar: Any
    b_bar: Any
    x0: Any
    gamma: Any
    D_bar: Any

    @property
    def n(self) -> int:
        return self.point.n

    @property
    def d(self) -> int:
        return self.point.d

    def dynamics(self, form: str) -> Dynamics:
        raise NotImplementedError

    EB: Any
    ECb: Any
    BLB: Any
    CbCb: Any

    def BmCb(self, x: Any) -> Any:
        raise NotImplementedError


# =============================================================================== float64
class _FloatDynamics(Dynamics):
    def __init__(self, dyn: ExactDynamics) -> None:
        self.dyn = dyn
        self.EA, self.Ev = dyn.EA, dyn.Ev

    def step(self, m: Any, X: Any) -> tuple[Any, Any]:
        return self.dyn.step(m, X)

    @property
    def ms_rate(self) -> float:
        return self.dyn.ms_rate

    @property
    def mean_rate(self) -> float:
        return self.dyn.mean_rate

    def limit(self) -> tuple[Any, Any] | None:
        return self.dyn.limit


class FloatEngine(Engine):
    """float64 values from the closed-form engines."""

    def __init__(self, point: Point) -> None:
        self.arith = FloatArith()
        self.point = point
        self.problem: QuadraticProblem = point.problem()
        self.sketch: Sketch = parse_sketch(point.sketch, self.problem)
        self.moments = SketchMoments(self.problem, self.sketch)
        self.L_bar = np.asarray(self.problem.L_bar)
        self.b_bar = np.asarray(self.problem.b_bar)
        self.D_bar = np.asarray(self.problem.D_bar)
        self.x0 = np.asarray(point.x0, dtype=np.float64)
        self.gamma = float(point.gamma)
        self._dyn: dict[str, _FloatDynamics] = {}

    def dynamics(self, form: str) -> Dynamics:
        if form not in self._dyn:
            t = self.point.local_steps if form == "ist" else 1
            self._dyn[form] = _FloatDynamics(ExactDynamics(self.problem, self.sketch, self.gamma, form, t, self.x0))
        return self._dyn[form]

    @property
    def EB(self) -> Any:
        return self.moments.expected_B

    @property
    def ECb(self) -> Any:
        return self.moments.expected_Cb

    @property
    def BLB(self) -> Any:
        return self.moments.BLB

    @property
    def CbCb(self) -> Any:
        return self.moments.CbCb

    def BmCb(self, x: Any) -> Any:
        return self.moments.BmCb(x)


# =============================================================================== exact
def exact_scales(sketch: Sketch, L: np.ndarray) -> np.ndarray | None:
    """The family's scale table ``T`` (n, d) from its definition in exact arithmetic, converted from the
    family's :meth:`~isttheory.sketches.base.Sketch.exact_scale` (its one home): SymPy rationals become
    ``Fraction`` s, irrational values (``√n`` of §4's scaled Perm-1, (23) ``√n (L_i)_{jj}^{-1/2}`` from the
    exact ``L_i``) mpmath numbers, mpmath values (the printed variant of (23)) stay. ``None`` for a sketch
    given by an explicit table of matrices."""
    T = sketch.exact_scale(L)
    if T is None:
        return None
    out = np.empty(T.shape, dtype=object)
    for idx, v in np.ndenumerate(T):
        out[idx] = _from_sympy(v)
    return out


def _from_sympy(v: Any) -> Any:
    """A ``Fraction`` for a SymPy rational, an mpmath number for another SymPy number, else ``v``."""
    import mpmath
    import sympy as sp

    if isinstance(v, sp.Rational):
        return Fraction(int(v.p), int(v.q))
    if isinstance(v, sp.Basic):
        return mpmath.mpf(sp.N(v, mpmath.mp.dps + 10))
    return v


def _positive_semidefinite(M: np.ndarray) -> bool:
    """Exact test of ``M ⪰ 0`` for a rational symmetric matrix (SymPy, in rational arithmetic)."""
    import sympy as sp

    return bool(sp.Matrix([[sp.Rational(v.numerator, v.denominator) for v in row] for row in M])
                .is_positive_semidefinite)


class _ExactDynamics(Dynamics):
    """Moment recursion from the enumerated outcomes: ``E[A]``, ``E[v]``, ``E[vvᵀ]``, the d²×d² matrix
    of ``X ↦ E[AXAᵀ]`` and the tensor of ``m ↦ E[Amvᵀ]``."""

    def __init__(self, arith: ExactArith, probs: list[Fraction], A: list[np.ndarray], v: list[np.ndarray]) -> None:
        self.arith = arith
        d = A[0].shape[0]
        self.d = d
        zero = arith.scalar(0)
        EA = np.full((d, d), zero, dtype=object)
        Ev = np.full(d, zero, dtype=object)
        Evv = np.full((d, d), zero, dtype=object)
        T = np.full((d * d, d * d), zero, dtype=object)
        G = np.full((d, d, d), zero, dtype=object)
        for p, Ak, vk in zip(probs, A, v, strict=True):
            EA = EA + p * Ak
            Ev = Ev + p * vk
            Evv = Evv + p * np.outer(vk, vk)
            T = T + p * np.kron(Ak, Ak)
            G = G + p * (Ak[:, :, None] * vk[None, None, :])
        self.EA, self.Ev, self.Evv, self.T, self.G = EA, Ev, Evv, T, G

    def cross(self, m: Any) -> Any:
        """``E[A m vᵀ]``."""
        return np.tensordot(self.G, m, axes=([1], [0]))

    def step(self, m: Any, X: Any) -> tuple[Any, Any]:
        d = self.d
        R = self.cross(m)
        X_new = (self.T @ X.reshape(d * d)).reshape(d, d) + R + R.T + self.Evv
        return self.EA @ m + self.Ev, X_new

    @cached_property
    def ms_rate(self) -> Any:
        return self.arith.spectral_radius(self.T)

    @cached_property
    def mean_rate(self) -> Any:
        return self.arith.spectral_radius(self.EA)

    def limit(self) -> tuple[Any, Any] | None:
        """``(m∞, X∞)`` solving ``m = E[A]m + E[v]`` and ``X = T(X) + R(m∞) + R(m∞)ᵀ + E[vvᵀ]`` exactly;
        ``None`` when either rate is ``≥ 1``."""
        if self.ms_rate >= 1 or self.mean_rate >= 1:
            return None
        d = self.d
        eye = self.arith.eye(d)
        m = self.arith.solve(eye - self.EA, self.Ev)
        R = self.cross(m)
        rhs = (R + R.T + self.Evv).reshape(d * d)
        X = self.arith.solve(self.arith.eye(d * d) - self.T, rhs).reshape(d, d)
        return m, X


class ExactEngine(Engine):
    """Exact values by enumerating the sketch's support (rationals; mpmath where a scale is irrational)."""

    arith: ExactArith

    def __init__(self, point: Point) -> None:
        self.point = point
        self.float_problem = point.problem()
        self.sketch = parse_sketch(point.sketch, self.float_problem)
        size = self.sketch.support_size()
        if size > MAX_EXACT_OUTCOMES or size * point.d**4 > MAX_EXACT_WORK:
            raise EnumerationTooLargeError(
                f"{self.sketch.spec}: exact certification would enumerate {size} outcomes at d = {point.d} "
                f"(limits: {MAX_EXACT_OUTCOMES} outcomes, outcomes x d^4 <= {MAX_EXACT_WORK})")
        L = point.exact_L()
        if point.given_L is not None:  # a user's matrices: PSD within a tolerance in float64, here exactly
            for i in range(point.n):
                if not _positive_semidefinite(L[i]):
                    raise NotPSDError(f"L_{i} is not exactly positive semidefinite (its float64 entries as "
                                      "rationals): no certificate on it")
        self.scales = exact_scales(self.sketch, L)
        irrational = self.scales is not None and not all(isinstance(v, Fraction) for v in self.scales.flat)
        self.arith = ar = ExactArith(mp=irrational)
        self.L, self.b = ar.array(L), ar.array(point.b)
        n, d = point.n, point.d
        zero = ar.scalar(0)
        self.L_bar = sum((self.L[i] for i in range(n)), np.full((d, d), zero, dtype=object)) / n
        self.b_bar = sum((self.b[i] for i in range(n)), np.full(d, zero, dtype=object)) / n
        self.D_bar = np.array([self.L_bar[j, j] for j in range(d)], dtype=object)
        self.x0 = ar.array(point.x0)
        self.gamma = ar.scalar(point.gamma if isinstance(point.gamma, Fraction) else Fraction(float(point.gamma)))
        self._dyn: dict[str, _ExactDynamics] = {}

    @cached_property
    def _outcomes(self) -> tuple[list[Fraction], list[list[np.ndarray]]]:
        """(probabilities, per outcome the n client matrices ``C_i``) in exact arithmetic."""
        sup = self.sketch.support()
        K = len(sup.probs)
        probs_f = np.asarray(sup.probs, dtype=np.float64)
        if np.allclose(probs_f, 1.0 / K, rtol=1e-12, atol=0):
            probs = [Fraction(1, K)] * K
        else:
            probs = [Fraction(float(p)) for p in probs_f]
            total = sum(probs)
            probs = [p / total for p in probs]
        probs = [self.arith.scalar(p) for p in probs]
        n, d = self.n, self.d
        zero = self.arith.scalar(0)
        Cs: list[list[np.ndarray]] = []
        T = self.scales
        draw = sup.draw
        if isinstance(draw, IndexDraw):
            if T is None:
                raise ISTError(f"{self.sketch.spec}: no exact scale table")
            coords = np.asarray(draw.coords)
            scales = np.broadcast_to(np.asarray(draw.scales, dtype=np.float64), coords.shape)
            for k in range(K):
                mats = []
                for i in range(n):
                    c = np.full(d, zero, dtype=object)
                    for s in range(coords.shape[-1]):
                        if scales[k, i, s] != 0:
                            j = int(coords[k, i, s])
                            c[j] = c[j] + T[i, j]
                    C = np.full((d, d), zero, dtype=object)
                    for j in range(d):
                        C[j, j] = c[j]
                    mats.append(C)
                Cs.append(mats)
        else:  # an explicit table of matrices (a user's finite distribution): its float64 entries exactly
            dense = draw.dense(d)
            Cs = [[self.arith.array(dense[k, i]) for i in range(n)] for k in range(K)]
        return probs, Cs

    @cached_property
    def _B_c_P(self) -> tuple[list[Any], list[Any], list[Any]]:
        """Per outcome ``B̄ = (1/n)ΣC_iL_iC_i``, ``(Cb)‾ = (1/n)ΣC_ib_i``, ``P̄ = (1/n)ΣC_i`` (26)."""
        _, Cs = self._outcomes
        n = self.n
        Bs, cs, Ps = [], [], []
        for mats in Cs:
            Bs.append(sum(mats[i] @ self.L[i] @ mats[i] for i in range(n)) / n)
            cs.append(sum(mats[i] @ self.b[i] for i in range(n)) / n)
            Ps.append(sum(mats) / n)
        return Bs, cs, Ps

    def _expect(self, values: list[Any]) -> Any:
        probs, _ = self._outcomes
        return sum(p * v for p, v in zip(probs, values, strict=True))

    @cached_property
    def EB(self) -> Any:
        return self._expect(self._B_c_P[0])

    @cached_property
    def ECb(self) -> Any:
        return self._expect(self._B_c_P[1])

    @cached_property
    def BLB(self) -> Any:
        return self._expect([B @ self.L_bar @ B for B in self._B_c_P[0]])

    @cached_property
    def CbCb(self) -> Any:
        return self._expect([np.outer(c, c) for c in self._B_c_P[1]])

    def BmCb(self, x: Any) -> Any:
        Bs, cs, _ = self._B_c_P
        return self._expect([np.outer(B @ x, c) for B, c in zip(Bs, cs, strict=True)])

    def dynamics(self, form: str) -> Dynamics:
        if form not in self._dyn:
            self._dyn[form] = self._build(form)
        return self._dyn[form]

    def _build(self, form: str) -> _ExactDynamics:
        """Outcomes ``(A_k, v_k)``: form (2) ``A = I − γB̄``, ``v = γ(Cb)‾``; Algorithm 1 with ``t`` local
        steps ``z ← M_iz + γC_ib_i``, ``M_i = I − γC_iL_i``, from ``z = C_ix``: ``A = (1/n)ΣM_i^tC_i``,
        ``v = (γ/n)ΣΣ_{s<t}M_i^sC_ib_i``."""
        probs, Cs = self._outcomes
        g, n, d = self.gamma, self.n, self.d
        eye = self.arith.eye(d)
        As, vs = [], []
        if form == "sgd":
            Bs, cs, _ = self._B_c_P
            As = [eye - g * B for B in Bs]
            vs = [g * c for c in cs]
        else:
            t = self.point.local_steps
            for mats in Cs:
                Asum: Any = np.full((d, d), self.arith.scalar(0), dtype=object)
                vsum: Any = np.full(d, self.arith.scalar(0), dtype=object)
                for i in range(n):
                    M = eye - g * (mats[i] @ self.L[i])
                    Cb = mats[i] @ self.b[i]
                    power = eye
                    for _ in range(t):
                        vsum = vsum + power @ Cb
                        power = M @ power
                    Asum = Asum + power @ mats[i]
                As.append(Asum / n)
                vs.append(g * vsum / n)
        return _ExactDynamics(self.arith, probs, As, vs)
