"""Identity sketch ``C_i = I``: plain distributed gradient descent (Theorem 1, example)."""

from __future__ import annotations

import numpy as np

from ..symbolic.inclusion import AllOwned
from .base import DiagonalSketch, FloatArray, IndexDraw, Support


class Identity(DiagonalSketch):
    """``C_i = I`` for every client: ``B̄ = L̄`` and ``W̄ = L̄²`` (Theorem 1, identity example)."""

    family = "identity"

    @property
    def spec(self) -> str:
        return "identity"

    def sample(self, rng: np.random.Generator, size: int) -> IndexDraw:
        coords = np.broadcast_to(np.arange(self.d, dtype=np.int64), (size, self.n, self.d))
        return IndexDraw(coords, np.ones((1, 1, 1)))

    def support_size(self) -> int:
        return 1

    def _support(self) -> Support:
        return Support(np.ones(1), self.sample(np.random.default_rng(0), 1))

    def inclusion_model(self) -> AllOwned:
        return AllOwned(self.n, self.d)

    def scale_table(self) -> FloatArray:
        return np.ones((self.n, self.d))

    @property
    def perfect_reconstruction(self) -> bool:
        return True
