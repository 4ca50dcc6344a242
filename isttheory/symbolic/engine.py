"""Exact moments of diagonal sketches as weighted sums of index contractions.

A *moment* is described by a :class:`Contraction`: an einsum over operands in
which some letters are *sketched positions*. Each sketched position ``x``
carries one factor ``c_{i x} = T_{i x} π_{i x}`` of the client in its slot
(0 or 1; two slots are two clients summed over independently, ``i`` and
``i'``). Its expectation is

    Σ_σ w_same(σ) Z_σ(i = i') + Σ_σ w_cross(σ) [Z_σ(all i, i') − Z_σ(i = i')],

with ``Z_σ`` the contraction with the letters of each block of ``σ`` merged
and the Möbius weights of :mod:`isttheory.symbolic.patterns`. The weights are
SymPy expressions in the model's symbols (closed forms); numbers come from
substituting one instance's values. The same code contracts float arrays and
arrays of SymPy expressions (symbolic matrix entries).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from .inclusion import InclusionModel
from .inclusion import d as d_symbol
from .patterns import Partition, lattice, merge_letters

SLOT_LETTERS = ("I", "J")


@dataclass(frozen=True)
class Contraction:
    """``subscripts``: einsum over the operands, lower-case letters; ``positions``:
    the sketched letters; ``slots``: the client slot (0 or 1) of each position;
    ``client_operands``: which operands carry a leading client axis, and in
    which slot; ``keep_client``: keep slot 0's client axis in the output
    (per-client moments such as ``E[C_i A_i C_i]``)."""

    subscripts: str
    positions: str
    slots: tuple[int, ...]
    client_operands: tuple[int | None, ...]
    keep_client: bool = False
    name: str = ""

    @property
    def inputs(self) -> list[str]:
        return self.subscripts.split("->")[0].split(",") if self.subscripts.split("->")[0] else []

    @property
    def output(self) -> str:
        return self.subscripts.split("->")[1]

    @property
    def two_clients(self) -> bool:
        return 1 in self.slots


def _pattern_probability(model: InclusionModel, tau: Partition, slots: Sequence[int], same: bool) -> sp.Expr:
    if same:
        return model.p_same(len(tau))
    u = v = w = 0
    for block in tau:
        tags = {slots[x] for x in block}
        if tags == {0}:
            u += 1
        elif tags == {1}:
            v += 1
        else:
            w += 1
    return model.p_cross(u, v, w)


def pattern_weights(model: InclusionModel, c: Contraction, same: bool) -> list[tuple[Partition, sp.Expr]]:
    """Closed-form Möbius weights ``w(σ)`` (non-zero ones) for the same-client or cross term."""
    return _weights(model, c.slots, same)


def _weights(model: InclusionModel, slots: tuple[int, ...], same: bool) -> list[tuple[Partition, sp.Expr]]:
    key = (model.cache_key, slots, same)
    if key in _WEIGHT_CACHE:
        return _WEIGHT_CACHE[key]
    out = []
    for sigma, pairs in lattice(len(slots)):
        w = sp.factor(sp.together(sum((mu * _pattern_probability(model, tau, slots, same) for tau, mu in pairs),
                                      sp.Integer(0))))
        if w != 0:
            out.append((sigma, w))
    _WEIGHT_CACHE[key] = out
    return out


_WEIGHT_CACHE: dict[tuple[object, tuple[int, ...], bool], list[tuple[Partition, sp.Expr]]] = {}


def weight_values(model: InclusionModel, c: Contraction, same: bool) -> list[tuple[Partition, sp.Rational]]:
    """The weights ``w(σ)`` on one instance, exactly: each pattern probability is
    evaluated first (a pattern with more distinct coordinates than ``d`` cannot
    occur and gets 0, where its closed form may be 0/0), then combined."""
    key = (model.instance_key, c.slots, same)
    if key in _VALUE_CACHE:
        return _VALUE_CACHE[key]
    d_ = int(model.values[d_symbol])
    out = []
    for sigma, pairs in lattice(len(c.slots)):
        total = sp.Integer(0)
        for tau, mu in pairs:
            if len(tau) > d_:
                continue
            total += mu * model.evaluate(_pattern_probability(model, tau, c.slots, same))
        if total != 0:
            out.append((sigma, total))
    _VALUE_CACHE[key] = out
    return out


_VALUE_CACHE: dict[tuple[object, tuple[int, ...], bool], list[tuple[Partition, sp.Rational]]] = {}


@lru_cache(maxsize=4096)
def _merged_subscripts(c: Contraction, sigma: Partition, same: bool) -> tuple[str, str, tuple[int, ...]]:
    """Einsum string for ``Z_σ`` with T-operands appended; returns (subscripts,
    full output letters, positions of the output letters after merging)."""
    rep = merge_letters(c.positions, sigma)
    slot_letter = [SLOT_LETTERS[0] if same else SLOT_LETTERS[s] for s in (0, 1)]
    ins = []
    for sub, cs in zip(c.inputs, c.client_operands, strict=True):
        merged = "".join(rep.get(ch, ch) for ch in sub)
        ins.append((slot_letter[cs] if cs is not None else "") + merged)
    for x, slot in zip(c.positions, c.slots, strict=True):
        ins.append(slot_letter[slot] + rep[x])
    out_full = "".join(rep.get(ch, ch) for ch in c.output)
    uniq = "".join(dict.fromkeys(out_full))
    prefix = SLOT_LETTERS[0] if c.keep_client else ""
    return ",".join(ins) + "->" + prefix + uniq, out_full, tuple(uniq.index(ch) for ch in out_full)


def _contract(c: Contraction, sigma: Partition, same: bool, operands: Sequence[Any], T: Any, d: int) -> Any:
    subs, out_full, where = _merged_subscripts(c, sigma, same)
    ops = list(operands) + [T] * len(c.positions)
    symbolic = any(getattr(o, "dtype", None) is np.dtype(object) for o in ops)
    z = np.einsum(subs, *ops, optimize=not symbolic)
    if len(set(out_full)) == len(out_full):
        return z
    # merged output letters: embed on the matching diagonal
    lead = z.shape[:1] if c.keep_client else ()
    full = np.zeros(lead + (d,) * len(out_full), dtype=z.dtype)
    idx = np.indices((d,) * len(set(out_full)))
    target = tuple(idx[w] for w in where)
    if c.keep_client:
        full[(slice(None),) + target] = z
    else:
        full[target] = z
    return full


def expectation(c: Contraction, model: InclusionModel, operands: Sequence[Any], T: Any,
                exact: bool = False) -> Any:
    """``E[Σ_{clients} contraction]`` for scale table ``T`` (n, d): the sum over
    ``i`` (and ``i'`` for two slots) of the sketched contraction, not averaged.

    ``exact=True`` keeps weights as SymPy Rationals (for symbolic operands)."""
    d = T.shape[1]

    def val(w: sp.Rational) -> Any:
        return w if exact else float(w)

    total: Any = 0
    for sigma, w in weight_values(model, c, same=True):
        total = total + val(w) * _contract(c, sigma, True, operands, T, d)
    if c.two_clients and T.shape[0] > 1:  # one client: no pairs i ≠ i'
        for sigma, w in weight_values(model, c, same=False):
            pair_sum = _contract(c, sigma, False, operands, T, d) - _contract(c, sigma, True, operands, T, d)
            total = total + val(w) * pair_sum
    return total


def closed_form_terms(c: Contraction, model: InclusionModel) -> dict[str, list[tuple[Partition, sp.Expr]]]:
    """The closed form of a moment: weights per pattern, same-client and cross."""
    out = {"same": pattern_weights(model, c, True)}
    if c.two_clients:
        out["cross"] = pattern_weights(model, c, False)
    return out
