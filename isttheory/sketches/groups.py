"""Permutation sketch over *groups* of coordinates (``perm-groups:FILE``).

The ``d`` coordinates are split into ``g = q·n`` fixed disjoint groups (a JSON file: a list of index
lists covering ``0 … d−1``). Each round a uniformly random permutation ``σ`` of the groups is dealt to
the clients in equal numbers: client ``i`` owns the ``q = g/n`` groups ``σ_{q(i−1)+1}, …, σ_{qi}``, and
``C_i = n Σ_{j in its groups} e_j e_jᵀ``, as IST deals a hidden neuron's incoming and outgoing weights to
one worker. The scale is ``n``, as for Perm-q (7): every coordinate is owned by exactly one client, so
``(1/n) Σ C_i = I`` and ``E[C_i] = I``. With singleton groups ``[[0], …, [d−1]]`` it is Perm-q (7)
exactly (same draws from the same generator). Closed-form moments come from the symbolic engine with
the :class:`~isttheory.symbolic.inclusion.GroupedPartition` inclusion model.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..arrays import FloatArray
from ..errors import IncompatibleSketchError, SketchSpecError
from .base import (
    IndexDraw,
    IntArray,
    OwnedWithScaleN,
    Sketch,
    SpecTarget,
    Support,
    all_permutations,
    random_permutations,
    target_sizes,
)

if TYPE_CHECKING:
    from ..symbolic.inclusion import GroupedPartition

MAX_GROUPS_FILE_BYTES = 16 * 2**20
"""Largest groups file read (16 MiB)."""

Groups = tuple[tuple[int, ...], ...]


def check_groups(groups: Any, d: int | None = None, where: str = "groups") -> Groups:
    """The groups as a tuple of tuples after checking: a non-empty list of non-empty lists of integers,
    pairwise disjoint, covering ``0 … d−1`` (``d`` = the largest index + 1 when not given, else the
    problem's ``d``). One :class:`~isttheory.errors.SketchSpecError` line per malformation
    (:class:`~isttheory.errors.IncompatibleSketchError` for a ``d`` other than the problem's)."""
    if not isinstance(groups, (list, tuple)) or not groups:
        raise SketchSpecError(f"{where}: groups must be a non-empty JSON list of lists of coordinate indices")
    out = []
    for k, grp in enumerate(groups):
        if not isinstance(grp, (list, tuple)) or not grp:
            raise SketchSpecError(f"{where}: group {k} must be a non-empty list of coordinate indices; got {grp!r:.60}")
        for j in grp:
            if isinstance(j, bool) or not isinstance(j, (int, np.integer)):
                raise SketchSpecError(f"{where}: group {k} holds {j!r:.40}, not an integer coordinate index")
            if j < 0:
                raise SketchSpecError(f"{where}: group {k} holds the negative index {j}")
        out.append(tuple(int(j) for j in grp))
    seen: dict[int, int] = {}
    for k, grp in enumerate(out):
        for j in grp:
            if j in seen:
                raise SketchSpecError(f"{where}: coordinate {j} is in group {seen[j]} and group {k}; groups must be "
                                      "disjoint")
            seen[j] = k
    top = max(seen) + 1
    if d is not None and top > d:
        raise IncompatibleSketchError(f"{where}: groups index coordinates up to {top - 1}; the problem has d = {d}")
    size = top if d is None else d
    if len(seen) != size:
        missing = next(j for j in range(size) if j not in seen)
        raise SketchSpecError(f"{where}: groups must cover every coordinate 0..{size - 1}; {missing} is in none"
                              + ("" if d is None else f" (the problem has d = {d})"))
    return tuple(out)


def read_groups(path: str | os.PathLike[str]) -> Groups:
    """Read groups from a JSON file (``json`` only, at most :data:`MAX_GROUPS_FILE_BYTES`); every
    mistake is one :class:`~isttheory.errors.SketchSpecError` line."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_GROUPS_FILE_BYTES:
            raise SketchSpecError(f"groups file {p} has {size} bytes, more than the limit {MAX_GROUPS_FILE_BYTES}")
        raw = p.read_bytes()
    except OSError as exc:
        raise SketchSpecError(f"cannot read groups file {p}: {exc.strerror or exc}") from None
    return groups_from_bytes(raw, str(p))


def groups_from_bytes(raw: bytes, where: str) -> Groups:
    """Groups from the content of a groups file (a sweep ships the content to its workers, not the path)."""
    if len(raw) > MAX_GROUPS_FILE_BYTES:
        raise SketchSpecError(f"groups file {where} has {len(raw)} bytes, more than the limit {MAX_GROUPS_FILE_BYTES}")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise SketchSpecError(f"{where}: groups file is not valid JSON (a list of lists of coordinate indices)") \
            from None
    return check_groups(data, where=where)


class PermGroups(OwnedWithScaleN):
    """Perm-q (7) over groups of coordinates: ``g = q·n`` groups, ``q`` per client, scale ``n``."""

    family = "perm-groups"
    syntax = "perm-groups:FILE"
    describe = "Perm-q over groups of coordinates from a JSON file, g/n groups per client"

    def __init__(self, n: int, d: int, groups: Sequence[Sequence[int]], source: str | None = None) -> None:
        super().__init__(n, d)
        self.groups = check_groups(groups, self.d, source or "perm-groups")
        self.g = len(self.groups)
        if self.g < self.n or self.g % self.n:
            raise IncompatibleSketchError(f"{source or 'perm-groups'}: perm-groups needs a number of groups that is a "
                                          f"multiple of n; got {self.g} groups for n = {self.n}")
        self.q = self.g // self.n
        self.source = source
        sizes = [len(grp) for grp in self.groups]
        self.equal_sizes = len(set(sizes)) == 1
        self.width = max(sizes)
        padded = np.full((self.g, self.width), -1, dtype=np.int64)
        for a, grp in enumerate(self.groups):
            padded[a, : len(grp)] = grp
        self._padded = padded
        self.within_paper_hypotheses = self.width == 1  # singleton groups: Perm-q (7) itself

    @classmethod
    def check_param(cls, param: str | None, spec: str) -> None:
        if not param:
            raise SketchSpecError("perm-groups needs a JSON file of index groups: perm-groups:FILE")

    @classmethod
    def from_spec(cls, param: str | None, target: SpecTarget) -> PermGroups:
        assert param is not None  # check_param ran first
        n, d = target_sizes(target)
        return cls(n, d, read_groups(param), source=param)

    @classmethod
    def examples(cls, target: SpecTarget) -> list[tuple[Sketch, bool, bool]]:
        """Consecutive groups of ``k`` coordinates, ``k`` the smallest divisor ``> 1`` of ``q = d/n`` (none
        when ``d`` is not a multiple of ``n`` or ``q = 1``, where groups would be singletons: Perm-q itself):
        unbiased with perfect reconstruction."""
        n, d = target_sizes(target)
        if d % n or d == n:
            return []
        k = next(k for k in range(2, d // n + 1) if (d // n) % k == 0)
        return [(cls(n, d, [list(range(s, s + k)) for s in range(0, d, k)]), True, True)]

    @property
    def spec(self) -> str:
        return f"perm-groups:{self.source}" if self.source else "perm-groups"

    def __repr__(self) -> str:
        """The spec when the groups came from a file, else the constructor call (the spec does not rebuild it)."""
        if self.source:
            return super().__repr__()
        return f"PermGroups(n={self.n}, d={self.d}, groups={[list(grp) for grp in self.groups]})"

    def _draws(self, sigma: IntArray) -> IndexDraw:
        """Deal the group permutations ``sigma`` (K, g): client ``i`` gets the groups in block ``i``."""
        k = sigma.shape[0]
        coords = self._padded[sigma].reshape(k, self.n, self.q * self.width)
        if self.equal_sizes:
            return IndexDraw(coords, np.full((1, 1, 1), float(self.n)), disjoint=True, covers=True, d=self.d)
        pad = coords < 0
        return IndexDraw(np.where(pad, 0, coords), np.where(pad, 0.0, float(self.n)), d=self.d)

    def sample(self, rng: np.random.Generator, size: int) -> IndexDraw:
        return self._draws(random_permutations(rng, size, self.g))

    def support_size(self) -> int:
        """``g!`` group orders (each of the ``g!/(q!)^n`` distinct deals repeated ``(q!)^n`` times)."""
        return math.factorial(self.g)

    def _support(self) -> Support:
        sigma = all_permutations(self.g)
        k = sigma.shape[0]
        return Support(np.full(k, 1.0 / k), self._draws(sigma))

    def inclusion_model(self) -> GroupedPartition:
        from ..symbolic.inclusion import GroupedPartition  # SymPy: loaded only for the exact engines

        return GroupedPartition(self.n, self.groups, self.d)





class ScaledPermGroups(PermGroups):
    """``perm-groups`` with a fixed scale ``s_j`` per coordinate (the same for every client) instead of ``n``:
    ``C_i = Σ_{j owned by i} s_j e_j e_jᵀ``. The deal is :class:`PermGroups`' (same draws from the same generator).
    Not a spec family: built in code, e.g. by :func:`isttheory.network.local_model.all_layer_sketch`, where a
    neuron's outgoing weights carry ``n`` (the release code scales the hidden output) and its incoming ones ``1``.
    ``(1/n) Σ C_i = Diag(s)/n``: perfect reconstruction only when every ``s_j = n``."""

    def __init__(self, n: int, d: int, groups: Sequence[Sequence[int]], scales: Any,
                 source: str | None = None) -> None:
        super().__init__(n, d, groups, source)
        s = np.asarray(scales, dtype=float)
        if s.shape != (self.d,) or not np.all(np.isfinite(s)) or not np.all(s > 0):
            raise IncompatibleSketchError(f"scaled perm-groups needs {self.d} finite positive coordinate scales")
        self.scales = s

    def __repr__(self) -> str:
        return (f"ScaledPermGroups(n={self.n}, d={self.d}, groups={[list(grp) for grp in self.groups]}, "
                f"scales={self.scales.tolist()})")

    @property
    def spec(self) -> str:
        return "perm-groups (coordinate scales)"

    def scale_table(self) -> FloatArray:
        return np.broadcast_to(self.scales, (self.n, self.d)).copy()

    def exact_scale(self, L: Any = None) -> np.ndarray:
        """The float scales as exact rationals (SymPy)."""
        import sympy as sp

        return np.broadcast_to(np.array([sp.Rational(float(v)) for v in self.scales], dtype=object),
                               (self.n, self.d)).copy()

    @property
    def perfect_reconstruction(self) -> bool:
        return bool(np.all(self.scales == self.n))

    @property
    def merge_constant(self) -> float | None:
        """``κ`` when every scale is the same ``s`` (then ``(1/n) Σ C_i = (s/n) I``), else ``None``."""
        return float(self.scales[0]) / self.n if np.all(self.scales == self.scales[0]) else None

    def _draws(self, sigma: IntArray) -> IndexDraw:
        base = super()._draws(sigma)
        scales = np.where(base.scales == 0, 0.0, self.scales[base.coords])
        return IndexDraw(base.coords, scales, disjoint=base.disjoint, covers=base.covers, d=self.d)
