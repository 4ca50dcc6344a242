"""Equality patterns of index positions: set partitions, their order and Möbius function.

Moments of diagonal sketches are sums over coordinates ``(j, k, m, l, …)`` of
products of matrix entries times the probability that those coordinates are
owned by the right clients. That probability depends only on the *equality
pattern* of the coordinates (which of them coincide), a set partition ``τ`` of
the positions. Writing ``S(τ)`` for the sum over tuples with exactly pattern
``τ`` and ``Z(σ)`` for the sum over tuples with at least the equalities of
``σ`` (a contraction with merged indices),

    Σ_τ P(τ) S(τ) = Σ_σ w(σ) Z(σ),    w(σ) = Σ_{τ ≤ σ} μ(τ, σ) P(τ),

where ``τ ≤ σ`` means ``τ`` refines ``σ`` and ``μ`` is the Möbius function of
the partition lattice: ``μ(τ, σ) = Π_{B ∈ σ} (−1)^{k_B − 1} (k_B − 1)!`` with
``k_B`` the number of blocks of ``τ`` inside ``B``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from functools import cache

Partition = tuple[tuple[int, ...], ...]
"""A set partition of ``range(p)``: blocks sorted by their smallest element."""


def set_partitions(p: int) -> list[Partition]:
    """All ``Bell(p)`` set partitions of ``range(p)``."""
    return list(_partitions(tuple(range(p))))


def _partitions(items: tuple[int, ...]) -> Iterator[Partition]:
    if not items:
        yield ()
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest):
        # first in a block of its own, or added to each existing block
        yield tuple(sorted(((first,),) + part))
        for i in range(len(part)):
            merged = tuple(sorted(part[:i] + (tuple(sorted((first,) + part[i])),) + part[i + 1:]))
            yield merged


def refines(tau: Partition, sigma: Partition) -> bool:
    """``τ ≤ σ``: every block of ``τ`` lies inside a block of ``σ``."""
    where = {x: b for b, block in enumerate(sigma) for x in block}
    return all(len({where[x] for x in block}) == 1 for block in tau)


def mobius(tau: Partition, sigma: Partition) -> int:
    """Möbius function ``μ(τ, σ)`` of the partition lattice (``τ ≤ σ`` required)."""
    out = 1
    for block in sigma:
        k = sum(1 for b in tau if set(b) <= set(block))
        out *= (-1) ** (k - 1) * math.factorial(k - 1)
    return out


@cache
def lattice(p: int) -> tuple[tuple[Partition, tuple[tuple[Partition, int], ...]], ...]:
    """For each ``σ``: the pairs ``(τ, μ(τ, σ))`` over all ``τ ≤ σ``."""
    parts = set_partitions(p)
    return tuple((s, tuple((t, mobius(t, s)) for t in parts if refines(t, s))) for s in parts)


def merge_letters(letters: Sequence[str], sigma: Partition) -> dict[str, str]:
    """Map each position's letter to the letter of its block's first position."""
    rep = {}
    for block in sigma:
        for x in block:
            rep[letters[x]] = letters[block[0]]
    return rep
