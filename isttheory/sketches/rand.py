"""Rand-q sparsifier (4): ``C = (d/q) Σ_{j∈S} e_j e_jᵀ``, ``S`` a uniform q-subset,
drawn independently for each client. Unbiased with ``ω = d/q − 1`` (Def. 1)."""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..errors import IncompatibleSketchError
from ..symbolic.inclusion import IndependentSubsets
from .base import DiagonalSketch, FloatArray, IndexDraw, Support


class RandQ(DiagonalSketch):
    """Rand-q (4) for each of ``n`` clients independently."""

    family = "rand"

    def __init__(self, n: int, d: int, q: int) -> None:
        super().__init__(n, d)
        if not (isinstance(q, (int, np.integer)) and 1 <= q <= d):
            raise IncompatibleSketchError(f"rand:Q needs an integer 1 <= Q <= d = {d}; got Q = {q}")
        self.q = int(q)
        self.scale = self.d / self.q

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
        return IndexDraw(np.ascontiguousarray(coords, dtype=np.int64), np.full((1, 1, 1), self.scale))

    def support_size(self) -> int:
        return math.comb(self.d, self.q) ** self.n

    def _support(self) -> Support:
        subsets = np.array(list(itertools.combinations(range(self.d), self.q)), dtype=np.int64)
        idx = np.array(list(itertools.product(range(len(subsets)), repeat=self.n)), dtype=np.int64)
        coords = subsets[idx]  # (K, n, q)
        k = coords.shape[0]
        return Support(np.full(k, 1.0 / k), IndexDraw(coords, np.full((1, 1, 1), self.scale)))

    def inclusion_model(self) -> IndependentSubsets:
        return IndependentSubsets(self.n, self.d, self.q)

    def scale_table(self) -> FloatArray:
        return np.full((self.n, self.d), self.scale)

    @property
    def perfect_reconstruction(self) -> bool:
        return self.q == self.d
