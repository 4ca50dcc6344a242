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
from typing import TYPE_CHECKING, Any, ClassVar, Union

import numpy as np
from numpy.typing import NDArray

from ..arrays import FloatArray
from ..errors import EnumerationTooLargeError, IncompatibleSketchError, SketchSpecError

if TYPE_CHECKING:
    from ..problem import QuadraticProblem
    from ..structured import LowRankDiagonalProblem
    from ..symbolic.inclusion import InclusionModel

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
    ``d`` is the dimension (every family records it, so :meth:`dense` needs no argument).
    """

    coords: IntArray
    scales: FloatArray
    disjoint: bool = False
    covers: bool = False
    d: int | None = None

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.coords.shape[:-2])

    def _dim(self, d: int | None) -> int:
        if d is None:
            if self.d is None:
                raise ValueError("this IndexDraw does not record its dimension d: pass d")
            return self.d
        if self.d is not None and int(d) != self.d:
            raise ValueError(f"this IndexDraw is in dimension d = {self.d}; got d = {d}")
        return int(d)

    def diagonals(self, d: int | None = None) -> FloatArray:
        """The vectors ``c_i`` with ``C_i = Diag(c_i)``: shape ``(..., n, d)`` (``d`` defaults to the draw's)."""
        d = self._dim(d)
        coords = self.coords
        scales = np.broadcast_to(self.scales, coords.shape)
        lead = coords.shape[:-1]
        out = np.zeros(lead + (d,))
        flat = out.reshape(-1, d)
        rows = np.broadcast_to(np.arange(flat.shape[0]).reshape(lead + (1,)), coords.shape)
        np.add.at(flat, (rows.ravel(), coords.ravel()), scales.ravel())
        return out

    def dense(self, d: int | None = None) -> FloatArray:
        """Dense matrices ``C_i``: shape ``(..., n, d, d)`` (debugging, oracle; ``d`` defaults to the draw's)."""
        c = self.diagonals(d)
        return c[..., :, None] * np.eye(c.shape[-1])


@dataclass(frozen=True)
class TableDraw:
    """Draws of a finite distribution: ``outcome`` indexes ``table`` (K, n, d, d)."""

    outcome: IntArray
    table: FloatArray

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.outcome.shape)

    def dense(self, d: int | None = None) -> FloatArray:
        """Dense matrices ``C_i``: shape ``(..., n, d, d)`` (``d``, if given, must be the table's)."""
        if d is not None and int(d) != self.table.shape[-1]:
            raise ValueError(f"this TableDraw is in dimension d = {self.table.shape[-1]}; got d = {d}")
        return self.table[self.outcome]


Draw = IndexDraw | TableDraw


@dataclass(frozen=True)
class Support:
    """Exact finite support: ``probs`` (K,) summing to 1 and the K outcomes as one draw."""

    probs: FloatArray
    draw: Draw


SpecTarget = Union["QuadraticProblem", "LowRankDiagonalProblem", tuple[int, int]]
"""What :meth:`Sketch.from_spec` builds for: a problem, or the sizes ``(n, d)``."""

_REGISTRY: dict[str, type[Sketch]] = {}


def registered_families() -> dict[str, type[Sketch]]:
    """Every registered sketch family, ``{family name: class}``, in registration order (the order of the
    imports in :mod:`isttheory.sketches`, which imports every family module)."""
    return dict(_REGISTRY)


def target_sizes(target: SpecTarget) -> tuple[int, int]:
    """``(n, d)`` of a :data:`SpecTarget`."""
    if isinstance(target, tuple):
        return int(target[0]), int(target[1])
    return int(target.n), int(target.d)


class Sketch(ABC):
    """A distribution over ``(C_1, …, C_n)`` for ``n`` clients in dimension ``d``.

    *Families register themselves* (as :mod:`scipy.stats` distributions do): a subclass that defines
    ``family`` in its own body is added to the registry (:func:`registered_families`) when the class is
    defined. A family supplies its spec name ``family``, the spec syntax ``syntax`` and one line ``describe``
    (what ``isttheory sketches`` prints), :meth:`check_param` (spec syntax without a problem),
    :meth:`from_spec` (build for a problem or sizes) and :meth:`exact_scale` (its exact scale table, the one
    source of the exact values for :func:`isttheory.derivations.base.exact_scale_table` and
    :func:`isttheory.lemmas.engines.exact_scales`). Adding a family is one module imported by
    :mod:`isttheory.sketches` plus its tests."""

    #: spec name of the family (``name`` in ``name[:param]``); defining it in a class body registers the class
    family: ClassVar[str] = "sketch"
    #: the spec syntax shown by ``isttheory sketches`` (defaults to ``family``)
    syntax: ClassVar[str] = ""
    #: one line describing the family (``isttheory sketches``)
    describe: ClassVar[str] = ""
    #: True when the family satisfies the paper's hypotheses for this (n, d)
    within_paper_hypotheses: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "family" not in cls.__dict__:
            return
        name = cls.family
        if name in _REGISTRY and _REGISTRY[name].__qualname__ != cls.__qualname__:
            raise TypeError(f"sketch family {name!r} is registered twice ({_REGISTRY[name].__qualname__}, "
                            f"{cls.__qualname__})")
        if not cls.syntax:
            cls.syntax = name
        _REGISTRY[name] = cls

    # -- spec strings ------------------------------------------------------
    @classmethod
    def check_param(cls, param: str | None, spec: str) -> None:
        """Check the parameter of a spec ``family[:param]`` without a problem (``None``: no ``:``);
        :class:`~isttheory.errors.SketchSpecError` naming the mistake. Default: no parameter."""
        if param is not None:
            raise SketchSpecError(f"sketch {cls.family!r} takes no parameter; got {spec!r}")

    @classmethod
    def from_spec(cls, param: str | None, target: SpecTarget) -> Sketch:
        """Build the sketch of spec ``family[:param]`` (already checked by :meth:`check_param`) for a problem
        or sizes ``(n, d)``. Default: ``cls(n, d)``."""
        n, d = target_sizes(target)
        return cls(n, d)

    @classmethod
    def examples(cls, target: SpecTarget) -> list[tuple[Sketch, bool, bool]]:
        """Instances of the family that the foundation claims check for a problem (or sizes), each with the
        properties stated for it: ``(sketch, unbiased (3), perfect reconstruction)``. Empty when the family
        does not fit these sizes, needs a user file, or equals another family here (reported once).
        Default: the parameterless spec, stated unbiased with perfect reconstruction."""
        try:
            return [(cls.from_spec(None, target), True, True)]
        except (IncompatibleSketchError, SketchSpecError):
            return []

    # -- exact scales ------------------------------------------------------
    def exact_scale(self, L: Any = None) -> np.ndarray | None:
        """The scale table ``T`` (n, d) of a diagonal family from its definition, in exact numbers (an
        object array of SymPy numbers; mpmath numbers where a value is only known numerically, as for the
        printed variant of (23)). ``L`` (n, d, d), exact entries, for families built from the problem.
        ``None`` when the family has no such table (a general finite distribution)."""
        return None

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
        out: FloatArray = self.expected_CAC(L).mean(axis=0)
        return out

    def expected_Cb(self, b: FloatArray) -> FloatArray:
        """``E[(Cb)‾] = (1/n) Σ_i E[C_i] b_i`` (26)."""
        out: FloatArray = np.einsum("nij,nj->i", self.expected_C(), b) / self.n
        return out

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


def _exact_full(n: int, d: int, value: Any) -> np.ndarray:
    """An (n, d) object array filled with one exact value."""
    return np.full((n, d), value, dtype=object)


class DiagonalSketch(Sketch):
    """A sketch with ``C_i = Diag(c_i)``, ``c_ij = T_ij π_ij``: a fixed scale table ``T``
    times random 0/1 ownership ``π`` whose law is an inclusion model."""

    @abstractmethod
    def inclusion_model(self) -> InclusionModel:
        """The law of the ownership sets ``S_i`` (see :mod:`isttheory.symbolic.inclusion`)."""

    @abstractmethod
    def scale_table(self) -> FloatArray:
        """The scales ``T`` (n, d): ``c_ij = T_ij`` when client ``i`` owns ``j``."""

    @property
    def merge_constant(self) -> float | None:
        """``κ`` with ``P̄ = (1/n) Σ_i C_i = κI`` on *every* draw (the merge (6) is then deterministic), or
        ``None`` when it is not. ``None`` here; a family that deals every coordinate to exactly one client with
        one scale ``s`` everywhere has ``κ = s/n``. :class:`~isttheory.moments.SketchMoments` then takes
        ``E[P̄MP̄] = κ²M``, ``E[P̄MB̄] = κM E[B̄]`` and ``E[P̄m(Cb)‾ᵀ] = κ m E[(Cb)‾]ᵀ`` without the engine."""
        return None

    def expected_C(self) -> FloatArray:
        """``E[C_i] = Diag(T_i ∘ P(j ∈ S_i))`` from the inclusion model (closed form)."""
        from ..symbolic import contractions
        from ..symbolic.engine import expectation

        c: FloatArray = expectation(contractions.C, self.inclusion_model(), [], self.scale_table())
        return c[:, :, None] * np.eye(self.d)

    def expected_CAC(self, A: FloatArray) -> FloatArray:
        """``E[C_i A_i C_i]`` from the inclusion model (closed form; ``A`` (n, d, d) or (d, d))."""
        from ..symbolic import contractions
        from ..symbolic.engine import expectation

        A = np.broadcast_to(np.asarray(A, dtype=float), (self.n, self.d, self.d))
        out: FloatArray = expectation(contractions.CAC, self.inclusion_model(), [A], self.scale_table())
        return out

    def expected_B(self, L: Any) -> Any:
        """``E[B̄] = (1/n) Σ_i E[C_i L_i C_i]`` (26): floats for float ``L`` (n, d, d) or (d, d); for SymPy
        ``L`` (a d×d ``sympy.Matrix``, or a list / n-stack of them) the exact closed form as a
        ``sympy.Matrix``, through the symbolic engine with the family's exact scale table
        (:meth:`exact_scale`)."""
        stack = _sympy_stack(L, self.n, self.d)
        if stack is None:
            return super().expected_B(L)
        import sympy as sp

        from ..symbolic import contractions
        from ..symbolic.engine import expectation

        T = self.exact_scale(stack)
        if T is None or not all(isinstance(v, sp.Basic) for v in T.flat):
            raise IncompatibleSketchError(f"{self.spec}: no exact SymPy scale table for a symbolic E[B]")
        EB = np.asarray(expectation(contractions.B, self.inclusion_model(), [stack], T, exact=True), dtype=object)
        return sp.Matrix(EB.tolist()) / self.n


class OwnedWithScaleN(DiagonalSketch):
    """A diagonal sketch in which every coordinate is owned by exactly one client, with scale ``n`` (Perm-q (7)'s
    scale): the scale table is ``n``, exactly, and ``(1/n) Σ C_i = I`` on every draw (perfect reconstruction).
    A base for families, not one itself (it defines no ``family``, so it is not registered)."""

    def scale_table(self) -> FloatArray:
        return np.full((self.n, self.d), float(self.n))

    def exact_scale(self, L: Any = None) -> np.ndarray:
        """Scale ``n``, as Perm-q (7)."""
        import sympy as sp

        return _exact_full(self.n, self.d, sp.Integer(self.n))

    @property
    def perfect_reconstruction(self) -> bool:
        return True

    @property
    def merge_constant(self) -> float | None:
        """``1``: every coordinate is owned by one client with scale ``n``, so ``(1/n) Σ C_i = I``."""
        return 1.0


class PermQWithinHypotheses(Sketch):
    """A base for a family that *is* Perm-q wherever it meets the paper's hypotheses (perm-blocks at
    ``d = qn``, perm-clients at ``n = d``): its examples there are left to ``perm``, so the foundation claims
    report each sketch once. Not a family itself (no ``family``, so not registered)."""

    @classmethod
    def examples(cls, target: SpecTarget) -> list[tuple[Sketch, bool, bool]]:
        return [e for e in super().examples(target) if not e[0].within_paper_hypotheses]


def _sympy_stack(L: Any, n: int, d: int) -> np.ndarray | None:
    """``L`` as an (n, d, d) object array of SymPy entries when it is symbolic (a ``sympy.Matrix``, a list of
    them, or an object array); ``None`` for numeric input."""
    import sympy as sp

    if isinstance(L, sp.MatrixBase):
        mats: list[Any] = [L] * n
    elif isinstance(L, (list, tuple)) and L and all(isinstance(m, sp.MatrixBase) for m in L):
        mats = list(L)
    elif isinstance(L, np.ndarray) and L.dtype == object:
        arr = np.broadcast_to(L, (n, d, d)) if L.ndim in (2, 3) else L
        stack: np.ndarray = np.vectorize(sp.sympify, otypes=[object])(arr)
        return stack
    else:
        return None
    if len(mats) != n or any(m.shape != (d, d) for m in mats):
        raise IncompatibleSketchError(f"expected_B needs a {d}x{d} matrix or {n} of them; got "
                                      f"{[m.shape for m in mats]}")
    out = np.empty((n, d, d), dtype=object)
    for i, m in enumerate(mats):
        for j in range(d):
            for k in range(d):
                out[i, j, k] = sp.sympify(m[j, k])
    return out


def all_permutations(k: int) -> IntArray:
    """All ``k!`` permutations of ``range(k)`` as a (k!, k) array, in lexicographic order."""
    return np.array(list(itertools.permutations(range(k))), dtype=np.int64).reshape(math.factorial(k), k)


def random_permutations(rng: np.random.Generator, size: int, k: int) -> IntArray:
    """``size`` independent uniform permutations of ``range(k)``: shape (size, k). Shuffled in place (``out``
    is the input: no copy, the same draws as ``rng.permuted(np.tile(np.arange(k), (size, 1)), axis=1)``)."""
    pi = np.empty((size, k), dtype=np.int64)
    pi[...] = np.arange(k, dtype=np.int64)
    out: IntArray = rng.permuted(pi, axis=1, out=pi)
    return out
