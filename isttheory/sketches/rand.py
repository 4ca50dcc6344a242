"""Rand-q sparsifier (4): ``C = (d/q) Σ_{j∈S} e_j e_jᵀ``, ``S`` a uniform q-subset,
drawn independently for each client. Unbiased with ``ω = d/q − 1`` (Def. 1)."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..arrays import FloatArray
from ..errors import IncompatibleSketchError, SketchSpecError
from .base import DiagonalSketch, IndexDraw, Sketch, SpecTarget, Support, _exact_full, target_sizes
from .permutation import positive_number

if TYPE_CHECKING:
    from ..symbolic.inclusion import IndependentSubsets


class RandQ(DiagonalSketch):
    """Rand-q (4) for each of ``n`` clients independently."""

    family = "rand"
    syntax = "rand:Q"
    describe = "Rand-q (4) with Q coordinates, independent per client"

    def __init__(self, n: int, d: int, q: int) -> None:
        super().__init__(n, d)
        if not (isinstance(q, (int, np.integer)) and 1 <= q <= d):
            raise IncompatibleSketchError(f"rand:Q needs an integer 1 <= Q <= d = {d}; got Q = {q}")
        self.q = int(q)
        self.scale = self.d / self.q

    @classmethod
    def check_param(cls, param: str | None, spec: str) -> None:
        if param is None:
            raise SketchSpecError("rand needs the number of coordinates: rand:Q")
        q = positive_number(param, "rand:Q")
        if q != int(q):
            raise SketchSpecError(f"rand:Q needs an integer Q; got {param!r}")

    @classmethod
    def examples(cls, target: SpecTarget) -> list[tuple[Sketch, bool, bool]]:
        """Rand-q (4) with ``q = ⌊d/2⌋`` (at least 1): unbiased; perfect reconstruction only when ``q = d``."""
        n, d = target_sizes(target)
        q = max(1, d // 2)
        return [(cls(n, d, q), True, q == d)]

    @classmethod
    def from_spec(cls, param: str | None, target: SpecTarget) -> RandQ:
        assert param is not None  # check_param ran first
        n, d = target_sizes(target)
        return cls(n, d, int(positive_number(param, "rand:Q")))

    @property
    def spec(self) -> str:
        return f"rand:{self.q}"

    @property
    def omega_stated(self) -> float:
        """The paper's variance parameter of Rand-q: ``ω = d/q − 1`` (Def. 1)."""
        return self.d / self.q - 1.0

    def sample(self, rng: np.random.Generator, size: int) -> IndexDraw:
        # q smallest of d i.i.d. uniforms: a uniform q-subset; row-major, so sequential in rng
        u = rng.random((size, self.n, self.d))
        coords = np.argpartition(u, self.q - 1, axis=-1)[..., : self.q] if self.q < self.d else \
            np.broadcast_to(np.arange(self.d), (size, self.n, self.d))
        return IndexDraw(np.ascontiguousarray(coords, dtype=np.int64), np.full((1, 1, 1), self.scale), d=self.d)

    def support_size(self) -> int:
        return int(math.comb(self.d, self.q) ** self.n)  # int ** int is typed Any (a negative power is a float)

    def _support(self) -> Support:
        subsets = np.array(list(itertools.combinations(range(self.d), self.q)), dtype=np.int64)
        idx = np.array(list(itertools.product(range(len(subsets)), repeat=self.n)), dtype=np.int64)
        coords = subsets[idx]  # (K, n, q)
        k = coords.shape[0]
        return Support(np.full(k, 1.0 / k), IndexDraw(coords, np.full((1, 1, 1), self.scale), d=self.d))

    def inclusion_model(self) -> IndependentSubsets:
        from ..symbolic.inclusion import IndependentSubsets  # SymPy: loaded only for the exact engines

        return IndependentSubsets(self.n, self.d, self.q)

    def scale_table(self) -> FloatArray:
        return np.full((self.n, self.d), self.scale)

    def exact_scale(self, L: Any = None) -> np.ndarray:
        """``d/q`` (4)."""
        import sympy as sp

        return _exact_full(self.n, self.d, sp.Rational(self.d, self.q))

    @property
    def perfect_reconstruction(self) -> bool:
        return self.q == self.d
