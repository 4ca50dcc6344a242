"""Permutation sketches Perm-q (7), Perm-1, and their scaled versions (§4 homogeneous).

One uniformly random permutation ``π`` of the ``d = q·n`` coordinates per
iteration, shared by all clients; client ``i`` owns block ``i`` of ``π``:
``C_i = s Σ_{j=q(i−1)+1}^{qi} e_{π_j} e_{π_j}ᵀ``. The paper's Perm-q has
``s = n`` (unbiased, ``(1/n) Σ C_i = I``); the §4 homogeneous case uses Perm-1
with ``s = √n``.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import IncompatibleSketchError
from ..symbolic.inclusion import UniformPartition
from .base import (
    DiagonalSketch,
    FloatArray,
    IndexDraw,
    Support,
    all_permutations,
    random_permutations,
)


def _require_multiple(n: int, d: int, name: str) -> int:
    if d < n or d % n:
        hint = "perm-clients (n = q*d)" if n > d else "perm-blocks (near-equal blocks)"
        raise IncompatibleSketchError(
            f"{name} needs d = q*n (d a multiple of n); got d = {d}, n = {n}; for this shape use {hint}"
        )
    return d // n


class Permutation(DiagonalSketch):
    """Perm-q (7) with scale ``s`` (default ``s = n``); Perm-1 when ``n = d``."""

    family = "perm"

    def __init__(self, n: int, d: int, scale: float | None = None) -> None:
        super().__init__(n, d)
        self.q = _require_multiple(self.n, self.d, "perm" if scale is None else "scaled-perm")
        s = float(self.n if scale is None else scale)
        if not (math.isfinite(s) and s > 0):
            raise IncompatibleSketchError(f"scaled-perm needs a finite positive scale; got {scale}")
        self.scale = s

    @property
    def spec(self) -> str:
        return "perm" if self.scale == self.n else f"scaled-perm:{self.scale!r}"

    def sample(self, rng: np.random.Generator, size: int) -> IndexDraw:
        pi = random_permutations(rng, size, self.d)
        return IndexDraw(pi.reshape(size, self.n, self.q), np.full((1, 1, 1), self.scale),
                         disjoint=True, covers=True)

    def support_size(self) -> int:
        return math.factorial(self.d)

    def _support(self) -> Support:
        pi = all_permutations(self.d)
        k = pi.shape[0]
        return Support(np.full(k, 1.0 / k), IndexDraw(pi.reshape(k, self.n, self.q),
                                                      np.full((1, 1, 1), self.scale), True, True))

    def inclusion_model(self) -> UniformPartition:
        return UniformPartition(self.n, self.d)

    def scale_table(self) -> FloatArray:
        return np.full((self.n, self.d), self.scale)

    @property
    def perfect_reconstruction(self) -> bool:
        """``(1/n) Σ C_i = (s/n) I``: perfect exactly when ``s = n``."""
        return bool(np.isclose(self.scale, self.n, rtol=1e-15, atol=0))
