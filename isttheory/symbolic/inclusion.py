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
from functools import cached_property

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


class RandomSizedPartition(InclusionModel):
    """Near-equal random blocks (``perm-blocks``): ``r = d mod n`` uniformly chosen
    clients own ``⌊d/n⌋ + 1`` coordinates, the others ``⌊d/n⌋``, laid out along a
    uniform permutation. Probabilities are averages over the block sizes of the
    uniform-partition counts; exact rationals for the given ``(n, d)``."""

    name = "random-sized-partition"

    def __init__(self, n_: int, d_: int) -> None:
        super().__init__({d: d_, n: n_})
        self.n_, self.d_ = n_, d_
        self.lo, self.r = d_ // n_, d_ - n_ * (d_ // n_)

    @property
    def cache_key(self) -> object:
        return (type(self).__name__, self.n_, self.d_)  # probabilities are numbers for this (n, d)

    @cached_property
    def _sizes(self) -> list[tuple[sp.Rational, int, int]]:
        n_, r, lo = self.n_, self.r, self.lo
        pairs = []
        if n_ > 1:
            tot = n_ * (n_ - 1)
            for a, b, cnt in ((lo + 1, lo + 1, r * (r - 1)), (lo + 1, lo, r * (n_ - r)),
                              (lo, lo + 1, (n_ - r) * r), (lo, lo, (n_ - r) * (n_ - r - 1))):
                if cnt:
                    pairs.append((sp.Rational(cnt, tot), a, b))
        return pairs

    def p_same(self, t: int) -> sp.Expr:
        ff = sp.ff(self.d_, t)
        return sp.Rational(self.r, self.n_) * sp.ff(self.lo + 1, t) / ff + \
            sp.Rational(self.n_ - self.r, self.n_) * sp.ff(self.lo, t) / ff

    def p_cross(self, u: int, v: int, w: int) -> sp.Expr:
        if w:
            return ZERO
        # given sizes (a, b): place U inside the a slots and V inside the b slots
        return sum((p * sp.ff(a, u) * sp.ff(b, v) / sp.ff(self.d_, u + v) for p, a, b in self._sizes), ZERO)
