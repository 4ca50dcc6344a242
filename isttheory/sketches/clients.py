"""Permutation compressor for ``n > d`` (Szlendak, Tyurin & Richtárik, ICLR 2022).

For ``n = q·d`` and a uniformly random permutation ``π`` of the ``n``
clients, client ``i`` owns coordinate ``⌈π_i/q⌉`` (1-based) with scale ``d``:
``C_i = d e_{⌈π_i/q⌉} e_{⌈π_i/q⌉}ᵀ``. Each coordinate is owned by exactly
``q`` clients, so ``(1/n) Σ C_i = (q d/n) I = I``, and each client's
coordinate is uniform, so ``E[C_i] = I``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..arrays import FloatArray
from ..errors import IncompatibleSketchError
from .base import (
    DiagonalSketch,
    IndexDraw,
    PermQWithinHypotheses,
    Support,
    _exact_full,
    all_permutations,
    random_permutations,
)

if TYPE_CHECKING:
    from ..symbolic.inclusion import ClientsOwnOne


class PermClients(PermQWithinHypotheses, DiagonalSketch):
    """Permutation compressor for ``n = q·d`` clients."""

    family = "perm-clients"
    describe = "permutation compressor for n = q*d (Szlendak et al. 2022)"

    def __init__(self, n: int, d: int) -> None:
        super().__init__(n, d)
        if n < d or n % d:
            raise IncompatibleSketchError(
                f"perm-clients needs n = q*d (n a multiple of d); got n = {n}, d = {d}"
            )
        self.q = self.n // self.d
        self.within_paper_hypotheses = self.q == 1

    @property
    def spec(self) -> str:
        return "perm-clients"

    def _draws(self, pi: np.ndarray) -> IndexDraw:
        coords = (pi // self.q)[..., None]  # 0-based: ⌈(π_i+1)/q⌉ − 1 = π_i // q
        return IndexDraw(coords, np.full((1, 1, 1), float(self.d)),
                         disjoint=self.q == 1, covers=self.q == 1, d=self.d)

    def sample(self, rng: np.random.Generator, size: int) -> IndexDraw:
        return self._draws(random_permutations(rng, size, self.n))

    def support_size(self) -> int:
        return math.factorial(self.n)

    def _support(self) -> Support:
        pi = all_permutations(self.n)
        return Support(np.full(pi.shape[0], 1.0 / pi.shape[0]), self._draws(pi))

    def inclusion_model(self) -> ClientsOwnOne:
        from ..symbolic.inclusion import ClientsOwnOne  # SymPy: loaded only for the exact engines

        return ClientsOwnOne(self.n, self.d)

    def scale_table(self) -> FloatArray:
        return np.full((self.n, self.d), float(self.d))

    def exact_scale(self, L: Any = None) -> np.ndarray:
        """Scale ``d``."""
        import sympy as sp

        return _exact_full(self.n, self.d, sp.Integer(self.d))

    @property
    def perfect_reconstruction(self) -> bool:
        return True
