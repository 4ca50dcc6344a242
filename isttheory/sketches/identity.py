"""Identity sketch ``C_i = I``: plain distributed gradient descent (Theorem 1, example)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..arrays import FloatArray
from .base import DiagonalSketch, IndexDraw, Support, _exact_full

if TYPE_CHECKING:
    from ..symbolic.inclusion import AllOwned


class Identity(DiagonalSketch):
    """``C_i = I`` for every client: ``B̄ = L̄`` and ``W̄ = L̄²`` (Theorem 1, identity example)."""

    family = "identity"
    describe = "C_i = I (distributed GD)"

    @property
    def spec(self) -> str:
        return "identity"

    def sample(self, rng: np.random.Generator, size: int) -> IndexDraw:
        coords = np.broadcast_to(np.arange(self.d, dtype=np.int64), (size, self.n, self.d))
        return IndexDraw(coords, np.ones((1, 1, 1)), d=self.d)

    def support_size(self) -> int:
        return 1

    def _support(self) -> Support:
        return Support(np.ones(1), self.sample(np.random.default_rng(0), 1))

    def inclusion_model(self) -> AllOwned:
        from ..symbolic.inclusion import AllOwned  # SymPy: loaded only for the exact engines

        return AllOwned(self.n, self.d)

    def scale_table(self) -> FloatArray:
        return np.ones((self.n, self.d))

    def exact_scale(self, L: Any = None) -> np.ndarray:
        """Scale 1 on every coordinate."""
        import sympy as sp

        return _exact_full(self.n, self.d, sp.Integer(1))

    @property
    def perfect_reconstruction(self) -> bool:
        return True
