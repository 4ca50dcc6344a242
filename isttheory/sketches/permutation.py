"""Permutation sketches Perm-q (7), Perm-1, and their scaled versions (§4 homogeneous).

One uniformly random permutation ``π`` of the ``d = q·n`` coordinates per
iteration, shared by all clients; client ``i`` owns block ``i`` of ``π``:
``C_i = s Σ_{j=q(i−1)+1}^{qi} e_{π_j} e_{π_j}ᵀ``. The paper's Perm-q has
``s = n`` (unbiased, ``(1/n) Σ C_i = I``); the §4 homogeneous case uses Perm-1
with ``s = √n``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..arrays import FloatArray
from ..errors import IncompatibleSketchError, SketchSpecError
from .base import (
    DiagonalSketch,
    IndexDraw,
    Sketch,
    SpecTarget,
    Support,
    _exact_full,
    all_permutations,
    random_permutations,
    target_sizes,
)

if TYPE_CHECKING:
    import sympy as sp

    from ..symbolic.inclusion import UniformPartition


def positive_number(text: str, what: str) -> float:
    """A spec parameter that must be a finite positive number (parsed with ``float``, never evaluated)."""
    try:
        v = float(text)
    except ValueError:
        raise SketchSpecError(f"{what} must be a number; got {text!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise SketchSpecError(f"{what} must be a finite positive number; got {text!r}")
    return v


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
    describe = "Perm-q (7), q = d/n, scale n; Perm-1 when n = d"

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
                         disjoint=True, covers=True, d=self.d)

    def support_size(self) -> int:
        return math.factorial(self.d)

    def _support(self) -> Support:
        pi = all_permutations(self.d)
        k = pi.shape[0]
        return Support(np.full(k, 1.0 / k), IndexDraw(pi.reshape(k, self.n, self.q),
                                                      np.full((1, 1, 1), self.scale), True, True, self.d))

    def inclusion_model(self) -> UniformPartition:
        from ..symbolic.inclusion import UniformPartition  # SymPy: loaded only for the exact engines

        return UniformPartition(self.n, self.d)

    def scale_table(self) -> FloatArray:
        return np.full((self.n, self.d), self.scale)

    def exact_scale(self, L: Any = None) -> np.ndarray:
        """``n`` for Perm-q (7); ``√n`` for the §4 scaled Perm-1 (a scale equal to the float ``√n``);
        otherwise the exact value of the float scale."""
        import sympy as sp

        s: sp.Expr
        if self.scale == self.n:
            s = sp.Integer(self.n)
        elif self.scale == math.sqrt(self.n):
            s = sp.sqrt(self.n)
        else:
            s = sp.Rational(self.scale)
        return _exact_full(self.n, self.d, s)

    @property
    def perfect_reconstruction(self) -> bool:
        """``(1/n) Σ C_i = (s/n) I``: perfect exactly when ``s = n``."""
        return bool(np.isclose(self.scale, self.n, rtol=1e-15, atol=0))

    @property
    def merge_constant(self) -> float:
        """``s/n``: Perm-q deals every coordinate to one client (``d = qn``), so ``(1/n) Σ C_i = (s/n) I``."""
        return self.scale / self.n


class ScaledPermutation(Permutation):
    """The spec ``scaled-perm[:S]``: Perm-q (7) with scale ``S`` (default ``√n``, §4 homogeneous case)."""

    family = "scaled-perm"
    syntax = "scaled-perm[:S]"
    describe = "Perm-q with scale S (default sqrt(n), the paper's §4 homogeneous case)"

    def __init__(self, n: int, d: int, scale: float | None = None) -> None:
        super().__init__(n, d, math.sqrt(n) if scale is None else scale)

    @classmethod
    def check_param(cls, param: str | None, spec: str) -> None:
        if param is not None:
            positive_number(param, "scaled-perm scale S")

    @classmethod
    def examples(cls, target: SpecTarget) -> list[tuple[Sketch, bool, bool]]:
        """§4's ``√n``-scaled Perm-1: unbiased with perfect reconstruction only for ``n = 1``."""
        n, _ = target_sizes(target)
        return [(sk, n == 1, n == 1) for sk, _, _ in super().examples(target)]

    @classmethod
    def from_spec(cls, param: str | None, target: SpecTarget) -> ScaledPermutation:
        n, d = target_sizes(target)
        return cls(n, d, positive_number(param, "scaled-perm scale S") if param is not None else None)
