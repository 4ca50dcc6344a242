"""Inclusion probabilities of random coordinate ownership, derived with SymPy.

A diagonal sketch has ``c_ij = T_ij π_ij`` with a fixed scale table ``T`` and
random 0/1 ownership ``π_ij = 1[j ∈ S_i]``. Every moment needs only

* ``p_same(t)``: probability that ``t`` given distinct coordinates are all in
  one client's set ``S_i``;
* ``p_cross(u, v, w)``: for two different clients ``i ≠ i'``, probability that
  ``u`` coordinates are in ``S_i``, ``v`` others in ``S_{i'}``, and ``w``
  further ones in both (all ``u + v + w`` distinct).

Each model derives these by counting, with :func:`sympy.binomial`, in symbols
``d``, ``q``, ``n`` (and substitutes the relation between them); nothing is
hard-coded. ``values`` gives the numbers for one sketch instance.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import sympy as sp

d, q, n = sp.symbols("d q n", positive=True, integer=True)
s = sp.Symbol("s", positive=True)
ZERO, ONE = sp.Integer(0), sp.Integer(1)


def _simplify(expr: sp.Expr) -> sp.Expr:
    return sp.factor(sp.combsimp(sp.expand_func(expr)))


class InclusionModel(ABC):
    """The law of ``(S_1, …, S_n)``; ``values`` maps its symbols to numbers."""

    name: str = "model"

    def __init__(self, values: dict[sp.Symbol, int]) -> None:
        self.values = {k: sp.Integer(v) for k, v in values.items()}

    @abstractmethod
    def p_same(self, t: int) -> sp.Expr:
        """``P(t distinct coordinates ⊆ S_i)``."""

    @abstractmethod
    def p_cross(self, u: int, v: int, w: int) -> sp.Expr:
        """``P(U ∪ W ⊆ S_i, V ∪ W ⊆ S_{i'})`` for ``i ≠ i'``, ``|U|, |V|, |W| = u, v, w``."""

    @property
    def cache_key(self) -> object:
        """Models whose probabilities are the same SymPy expressions share a key."""
        return type(self).__name__

    @property
    def instance_key(self) -> object:
        """Identifies the numbers: the model and its symbol values."""
        return (type(self).__name__, tuple(sorted((str(k), int(v)) for k, v in self.values.items())))

    def evaluate(self, expr: sp.Expr) -> sp.Expr:
        """Exact value of ``expr`` on this instance (a SymPy Rational)."""
        return sp.nsimplify(sp.sympify(expr).subs(self.values)) if expr.free_symbols else sp.sympify(expr)


class AllOwned(InclusionModel):
    """Every client owns every coordinate (identity sketch)."""

    name = "all-owned"

    def __init__(self, n_: int, d_: int) -> None:
        super().__init__({d: d_, n: n_})

    def p_same(self, t: int) -> sp.Expr:
        return ONE

    def p_cross(self, u: int, v: int, w: int) -> sp.Expr:
        return ONE


class UniformPartition(InclusionModel):
    """``S_1, …, S_n`` the consecutive blocks of size ``q`` of a uniform permutation
    of ``d = q·n`` coordinates (Perm-q (7), Perm-1, (23))."""

    name = "uniform-partition"

    def __init__(self, n_: int, d_: int) -> None:
        super().__init__({d: d_, q: d_ // n_, n: n_})

    @staticmethod
    def p_same_expr(t: int) -> sp.Expr:
        # choose S_i among the q-subsets that contain the t coordinates
        return _simplify(sp.binomial(d - t, q - t) / sp.binomial(d, q))

    @staticmethod
    def p_cross_expr(u: int, v: int, w: int) -> sp.Expr:
        if w:
            return ZERO  # blocks are disjoint
        # S_i contains U and avoids V; then S_{i'}, a uniform q-subset of the other d − q, contains V
        first = sp.binomial(d - u - v, q - u) / sp.binomial(d, q)
        second = sp.binomial(d - q - v, q - v) / sp.binomial(d - q, q)
        return _simplify(first * second)

    def p_same(self, t: int) -> sp.Expr:
        return self.p_same_expr(t)

    def p_cross(self, u: int, v: int, w: int) -> sp.Expr:
        return self.p_cross_expr(u, v, w)


class IndependentSubsets(InclusionModel):
    """Each ``S_i`` an independent uniform ``q``-subset of ``d`` (Rand-q (4))."""

    name = "independent-subsets"

    def __init__(self, n_: int, d_: int, q_: int) -> None:
        super().__init__({d: d_, q: q_, n: n_})

    def p_same(self, t: int) -> sp.Expr:
        return UniformPartition.p_same_expr(t)

    def p_cross(self, u: int, v: int, w: int) -> sp.Expr:
        return _simplify(self.p_same(u + w) * self.p_same(v + w))


class ClientsOwnOne(InclusionModel):
    """``n = q·d`` clients; client ``i`` owns the single coordinate ``⌈π_i/q⌉`` for a
    uniform permutation ``π`` of the clients (Szlendak et al. 2022)."""

    name = "clients-own-one"

    def __init__(self, n_: int, d_: int) -> None:
        super().__init__({d: d_, q: n_ // d_, n: n_})

    def p_same(self, t: int) -> sp.Expr:
        if t == 0:
            return ONE
        if t > 1:
            return ZERO
        return _simplify(q / (q * d))  # q of the n = q·d permutation positions map to the coordinate

    def p_cross(self, u: int, v: int, w: int) -> sp.Expr:
        if u + w > 1 or v + w > 1:
            return ZERO
        N = q * d
        if w == 1:  # both clients on the same coordinate: ordered pair among its q positions
            return _simplify(q * (q - 1) / (N * (N - 1)))
        if u == 1 and v == 1:
            return _simplify(q * q / (N * (N - 1)))
        return ONE / d if u + v == 1 else ONE


ell, r = sp.symbols("ell r", nonnegative=True, integer=True)


class RandomSizedPartition(InclusionModel):
    """Near-equal random blocks (``perm-blocks``): ``r = d mod n`` uniformly chosen
    clients own ``ℓ + 1`` coordinates (``ℓ = ⌊d/n⌋``), the others ``ℓ``, laid out
    along a uniform permutation, ``d = nℓ + r``. Probabilities are the
    uniform-partition counts averaged over the block sizes, symbolic in
    ``n, ℓ, r``."""

    name = "random-sized-partition"

    def __init__(self, n_: int, d_: int) -> None:
        super().__init__({d: d_, n: n_, ell: d_ // n_, r: d_ - n_ * (d_ // n_)})

    @staticmethod
    def _size_pairs() -> list[tuple[sp.Expr, sp.Expr, sp.Expr]]:
        """(probability, size of client i, size of client i') for two distinct clients."""
        tot = n * (n - 1)
        big, small = ell + 1, ell
        return [(r * (r - 1) / tot, big, big), (r * (n - r) / tot, big, small),
                ((n - r) * r / tot, small, big), ((n - r) * (n - r - 1) / tot, small, small)]

    def p_same(self, t: int) -> sp.Expr:
        D = n * ell + r
        return sp.factor((r / n * sp.ff(ell + 1, t) + (n - r) / n * sp.ff(ell, t)) / sp.ff(D, t))

    def p_cross(self, u: int, v: int, w: int) -> sp.Expr:
        if w:
            return ZERO
        D = n * ell + r
        # given sizes (a, b): U inside client i's a slots, V inside client i''s b slots
        return sp.factor(sum((p * sp.ff(a, u) * sp.ff(b, v) for p, a, b in self._size_pairs()), ZERO) / sp.ff(D, u + v))


class GroupedPartition(InclusionModel):
    """Coordinates in fixed disjoint *groups* that cover ``0 … d−1`` (``perm-groups``): a uniform
    permutation of the ``g = q·n`` groups is dealt in blocks of ``q`` groups to the clients, so the
    coordinates of one group are always owned together. The law of the group ownership is
    :class:`UniformPartition` over the ``g`` groups (Perm-q (7) with groups for coordinates); ``p_same``
    and ``p_cross`` are its probabilities for *distinct groups* (symbols ``d`` = number of groups, ``q``
    groups per client, ``n``). The engine lifts a coordinate contraction to groups with the membership
    matrix :meth:`membership` (``c_{ix} = T_{ix} Σ_a G_{xa} ρ_{ia}``, ``ρ`` the group ownership), see
    :func:`isttheory.symbolic.engine.lift_groups`."""

    name = "grouped-partition"

    def __init__(self, n_: int, groups: tuple[tuple[int, ...], ...], d_: int) -> None:
        g = len(groups)
        super().__init__({d: g, q: g // n_, n: n_})
        self.groups = groups
        self.coordinates = int(d_)

    def p_same(self, t: int) -> sp.Expr:
        return UniformPartition.p_same_expr(t)

    def p_cross(self, u: int, v: int, w: int) -> sp.Expr:
        return UniformPartition.p_cross_expr(u, v, w)

    def group_model(self) -> UniformPartition:
        """The law of the group ownership: :class:`UniformPartition` of ``g`` groups to ``n`` clients."""
        return UniformPartition(int(self.values[n]), len(self.groups))

    def membership(self) -> np.ndarray:
        """``G`` (d, d) integers: ``G[j, a] = 1`` when coordinate ``j`` is in group ``a`` (columns ``a ≥ g``
        are zero, so that group letters have the length ``d`` of coordinate letters)."""
        D = self.coordinates
        G = np.zeros((D, D), dtype=np.int64)
        for a, grp in enumerate(self.groups):
            G[list(grp), a] = 1
        return G
