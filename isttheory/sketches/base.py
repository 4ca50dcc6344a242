"""Sketches: distributions over ``(C_1, …, C_n)`` (Algorithm 1, step 1).

A sketch answers three questions:

* *sample*: draws in index form, batched over a leading axis (never d×d
  matrices for the diagonal families);
* *moments*: closed forms of ``E[C_i]`` and ``E[C_i A_i C_i]``;
* *support*: the exact finite support with probabilities (small ``d``),
  the oracle for the closed forms.

Two draw types carry samples. :class:`IndexDraw` is for sketches whose
matrices are diagonal, ``C_i = Diag(c_i)`` with few non-zeros: client ``i``
owns coordinates ``coords[..., i, :]`` with scales ``scales[..., i, :]``
(scale 0 marks a padding slot). :class:`TableDraw` is for general finite
distributions: an outcome index into a table of matrices.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from ..errors import EnumerationTooLargeError, IncompatibleSketchError
from ..symbolic.inclusion import InclusionModel

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

MAX_SUPPORT = 500_000
"""Largest support :meth:`Sketch.support` enumerates before refusing."""


@dataclass(frozen=True)
class IndexDraw:
    """Diagonal sketches in index form: ``C_i = Σ_s scales[i,s] e_{coords[i,s]} e_{coords[i,s]}ᵀ``.

    ``coords`` has shape ``(..., n, m)``; ``scales`` broadcasts to it.
    ``disjoint`` promises that within one draw no coordinate appears twice
    (across clients and slots) and that there is no padding slot, so sums
    over clients can be written by assignment rather than accumulation.
    ``covers`` additionally promises that every coordinate appears once.
    """

    coords: IntArray
    scales: FloatArray
    disjoint: bool = False
    covers: bool = False

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.coords.shape[:-2])

    def diagonals(self, d: int) -> FloatArray:
        """The vectors ``c_i`` with ``C_i = Diag(c_i)``: shape ``(..., n, d)``."""
        coords = self.coords
        scales = np.broadcast_to(self.scales, coords.shape)
        lead = coords.shape[:-1]
        out = np.zeros(lead + (d,))
        flat = out.reshape(-1, d)
        rows = np.broadcast_to(np.arange(flat.shape[0]).reshape(lead + (1,)), coords.shape)
        np.add.at(flat, (rows.ravel(), coords.ravel()), scales.ravel())
        return out

    def dense(self, d: int) -> FloatArray:
        """Dense matrices ``C_i``: shape ``(..., n, d, d)`` (debugging, oracle)."""
        c = self.diagonals(d)
        return c[..., :, None] * np.eye(d)


@dataclass(frozen=True)
class TableDraw:
    """Draws of a finite distribution: ``outcome`` indexes ``table`` (K, n, d, d)."""

    outcome: IntArray
    table: FloatArray

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.outcome.shape)

    def dense(self, d: int) -> FloatArray:
        return self.table[self.outcome]


Draw = IndexDraw | TableDraw


@dataclass(frozen=True)
class Support:
    """Exact finite support: ``probs`` (K,) summing to 1 and the K outcomes as one draw."""

    probs: FloatArray
    draw: Draw


class Sketch(ABC):
    """A distribution over ``(C_1, …, C_n)`` for ``n`` clients in dimension ``d``."""

    #: short family name used in spec strings and reports
    family: ClassVar[str] = "sketch"
    #: True when the family satisfies the paper's hypotheses for this (n, d)
    within_paper_hypotheses: bool = True

    def __init__(self, n: int, d: int) -> None:
        self.n = int(n)
        self.d = int(d)

    # -- identity --------------------------------------------------------
    @property
    @abstractmethod
    def spec(self) -> str:
        """The CLI spec string that rebuilds this sketch."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(spec={self.spec!r}, n={self.n}, d={self.d})"

    def require_sizes(self, n: int, d: int) -> None:
        """:class:`~isttheory.errors.IncompatibleSketchError` unless this sketch is for ``n`` clients and ``d``
        coordinates (a problem's sizes)."""
        if (self.n, self.d) != (n, d):
            raise IncompatibleSketchError(f"sketch is for n = {self.n}, d = {self.d}; the problem has n = {n}, d = {d}")

    # -- sampling ----------------------------------------------------------
    @abstractmethod
    def sample(self, rng: np.random.Generator, size: int) -> Draw:
        """``size`` independent draws of ``(C_1, …, C_n)``, leading axis ``size``.

        Draws are sequential in ``rng``: ``sample(rng, a)`` then
        ``sample(rng, b)`` equals ``sample(rng, a + b)``, so results do not
        depend on how a run is chunked.
        """

    # -- exact support -------------------------------------------------------
    @abstractmethod
    def support_size(self) -> int:
        """Number of outcomes :meth:`support` enumerates (may count repeats)."""

    def support(self, max_outcomes: int = MAX_SUPPORT) -> Support:
        """Every outcome with its probability (for small ``d``)."""
        k = self.support_size()
        if k > max_outcomes:
            raise EnumerationTooLargeError(
                f"{self.spec}: support has {k} outcomes, more than the limit {max_outcomes}"
            )
        return self._support()

    @abstractmethod
    def _support(self) -> Support: ...

    # -- closed-form moments ---------------------------------------------
    @abstractmethod
    def expected_C(self) -> FloatArray:
        """``E[C_i]`` for every client: shape (n, d, d)."""

    @abstractmethod
    def expected_CAC(self, A: FloatArray) -> FloatArray:
        """``E[C_i A_i C_i]`` for every client, ``A`` of shape (n, d, d) or (d, d)."""

    # -- derived claims ----------------------------------------------------
    def expected_B(self, L: FloatArray) -> FloatArray:
        """``E[B̄] = (1/n) Σ_i E[C_i L_i C_i]`` (26)."""
        return self.expected_CAC(L).mean(axis=0)

    def expected_Cb(self, b: FloatArray) -> FloatArray:
        """``E[(Cb)‾] = (1/n) Σ_i E[C_i] b_i`` (26)."""
        return np.einsum("nij,nj->i", self.expected_C(), b) / self.n

    @property
    def unbiased(self) -> bool:
        """Def. 1 (3): ``E[C_i] = I`` for every client (from the closed form)."""
        return bool(np.allclose(self.expected_C(), np.eye(self.d), rtol=0, atol=1e-12))

    @property
    @abstractmethod
    def perfect_reconstruction(self) -> bool:
        """``(1/n) Σ_i C_i = I`` almost surely (then forms (2) and (6) coincide)."""

    def omega(self) -> float | None:
        """Variance parameter of Def. 1 (3), ``max_i λ_max(E[C_iᵀC_i]) − 1``;
        ``None`` for a biased sketch (Def. 1 does not apply)."""
        if not self.unbiased:
            return None
        second = self.expected_CAC(np.eye(self.d))
        return float(max(np.linalg.eigvalsh(s)[-1] for s in second) - 1.0)


class DiagonalSketch(Sketch):
    """A sketch with ``C_i = Diag(c_i)``, ``c_ij = T_ij π_ij``: a fixed scale table ``T``
    times random 0/1 ownership ``π`` whose law is an inclusion model."""

    @abstractmethod
    def inclusion_model(self) -> InclusionModel:
        """The law of the ownership sets ``S_i`` (see :mod:`isttheory.symbolic.inclusion`)."""

    @abstractmethod
    def scale_table(self) -> FloatArray:
        """The scales ``T`` (n, d): ``c_ij = T_ij`` when client ``i`` owns ``j``."""

    def expected_C(self) -> FloatArray:
        """``E[C_i] = Diag(T_i ∘ P(j ∈ S_i))`` from the inclusion model (closed form)."""
        from ..symbolic import moments
        from ..symbolic.engine import expectation

        c = expectation(moments.C, self.inclusion_model(), [], self.scale_table())
        return c[:, :, None] * np.eye(self.d)

    def expected_CAC(self, A: FloatArray) -> FloatArray:
        """``E[C_i A_i C_i]`` from the inclusion model (closed form; ``A`` (n, d, d) or (d, d))."""
        from ..symbolic import moments
        from ..symbolic.engine import expectation

        A = np.broadcast_to(np.asarray(A, dtype=float), (self.n, self.d, self.d))
        return expectation(moments.CAC, self.inclusion_model(), [A], self.scale_table())


def all_permutations(k: int) -> IntArray:
    """All ``k!`` permutations of ``range(k)`` as a (k!, k) array, in lexicographic order."""
    return np.array(list(itertools.permutations(range(k))), dtype=np.int64).reshape(math.factorial(k), k)


def random_permutations(rng: np.random.Generator, size: int, k: int) -> IntArray:
    """``size`` independent uniform permutations of ``range(k)``: shape (size, k)."""
    return rng.permuted(np.tile(np.arange(k, dtype=np.int64), (size, 1)), axis=1)
