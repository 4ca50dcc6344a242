"""Permutation sketch for ``d`` not a multiple of ``n``: near-equal random blocks.

A uniformly random permutation ``π`` of the ``d`` coordinates is cut into
``n`` blocks of sizes ``⌈d/n⌉`` (for ``r = d mod n`` clients chosen uniformly
at random) and ``⌊d/n⌋`` (the others), with scale ``n``. Because the clients
with the larger blocks are random, every coordinate is owned by each client
with probability ``1/n``: the sketch is unbiased and ``(1/n) Σ C_i = I``.
For ``d = q·n`` it is exactly Perm-q (7); otherwise it lies outside the
paper's hypothesis ``d = q·n`` and claims that need it flag it.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

import numpy as np

from .base import IndexDraw, OwnedWithScaleN, PermQWithinHypotheses, Support, all_permutations

if TYPE_CHECKING:
    from ..symbolic.inclusion import RandomSizedPartition


class PermBlocks(PermQWithinHypotheses, OwnedWithScaleN):
    """Near-equal random blocks with scale ``n`` (any ``n``, ``d``)."""

    family = "perm-blocks"
    describe = "near-equal random blocks for d not a multiple of n (scale n)"

    def __init__(self, n: int, d: int) -> None:
        super().__init__(n, d)
        self.small = self.d // self.n
        self.big_count = self.d - self.n * self.small  # r clients own ceil(d/n)
        self.m = self.small + (1 if self.big_count else 0)
        self.within_paper_hypotheses = self.big_count == 0

    @property
    def spec(self) -> str:
        return "perm-blocks"

    def _draws(self, pi: np.ndarray, big: np.ndarray) -> IndexDraw:
        """Lay ``pi`` (K, d) into slots; ``big`` (K, n) marks clients with a larger block."""
        k = pi.shape[0]
        mask = np.ones((k, self.n, self.m), dtype=bool)
        if self.big_count:
            mask[:, :, -1] = big
        coords = np.zeros((k, self.n, self.m), dtype=np.int64)
        coords[mask] = pi.ravel()
        scales = np.where(mask, float(self.n), 0.0)
        exact = self.big_count == 0
        return IndexDraw(coords, scales, disjoint=exact, covers=exact, d=self.d)

    def sample(self, rng: np.random.Generator, size: int) -> IndexDraw:
        # one uniform row per draw, split into the coordinate permutation and the
        # client order, so that draws are sequential in rng
        u = rng.random((size, self.d + self.n))
        pi = np.argsort(u[:, : self.d], axis=1, kind="stable")
        sigma = np.argsort(u[:, self.d :], axis=1, kind="stable")
        big = np.zeros((size, self.n), dtype=bool)
        np.put_along_axis(big, sigma[:, : self.big_count], True, axis=1)
        return self._draws(pi, big)

    def support_size(self) -> int:
        return math.factorial(self.d) * math.comb(self.n, self.big_count)

    def _support(self) -> Support:
        pi = all_permutations(self.d)
        subsets = list(itertools.combinations(range(self.n), self.big_count))
        big = np.zeros((len(subsets), self.n), dtype=bool)
        for s, sub in enumerate(subsets):
            big[s, list(sub)] = True
        pi_all = np.repeat(pi, len(subsets), axis=0)
        big_all = np.tile(big, (pi.shape[0], 1))
        k = pi_all.shape[0]
        return Support(np.full(k, 1.0 / k), self._draws(pi_all, big_all))

    def inclusion_model(self) -> RandomSizedPartition:
        from ..symbolic.inclusion import RandomSizedPartition  # SymPy: loaded only for the exact engines

        return RandomSizedPartition(self.n, self.d)



