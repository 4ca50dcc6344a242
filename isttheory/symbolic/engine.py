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

:func:`expectation` is the plain formula, one einsum per pattern; for maps applied
many times to float operands (``M ↦ E[B̄MB̄]`` in the exact dynamics),
:class:`CompiledExpectation` evaluates the same sum reorganised once per instance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from ..arrays import FloatArray
from .inclusion import GroupedPartition, InclusionModel
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


def _pattern_counts(tau: Partition, slots: Sequence[int], same: bool) -> tuple[int, ...]:
    """What a pattern's probability depends on: ``(t,)`` blocks for one client, else ``(u, v, w)``
    blocks of slot 0 only, slot 1 only, and both."""
    if same:
        return (len(tau),)
    u = v = w = 0
    for block in tau:
        tags = {slots[x] for x in block}
        if tags == {0}:
            u += 1
        elif tags == {1}:
            v += 1
        else:
            w += 1
    return (u, v, w)


def _pattern_probability(model: InclusionModel, tau: Partition, slots: Sequence[int], same: bool) -> sp.Expr:
    counts = _pattern_counts(tau, slots, same)
    return model.p_same(counts[0]) if same else model.p_cross(*counts)


def _probability_value(model: InclusionModel, counts: tuple[int, ...]) -> sp.Expr:
    """Exact value of ``p_same(t)`` or ``p_cross(u, v, w)`` on the instance (cached: many
    patterns share their counts)."""
    key = (model.instance_key, counts)
    if key not in _PROBABILITY_CACHE:
        expr = model.p_same(counts[0]) if len(counts) == 1 else model.p_cross(*counts)
        _PROBABILITY_CACHE[key] = model.evaluate(expr)
    return _PROBABILITY_CACHE[key]


_PROBABILITY_CACHE: dict[tuple[object, tuple[int, ...]], sp.Expr] = {}


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
            total += mu * _probability_value(model, _pattern_counts(tau, c.slots, same))
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


GROUP_LETTERS = "ABCDEFGHKLMNOPQRSTUVWXYZ"
"""Letters for group positions when a contraction is lifted to groups (not the client letters I, J)."""


def lift_groups(c: Contraction, model: InclusionModel, operands: Sequence[Any], T: Any
                ) -> tuple[Contraction, InclusionModel, list[Any], Any]:
    """A contraction over coordinates for a :class:`~isttheory.symbolic.inclusion.GroupedPartition` as the
    same contraction over *groups*, whose ownership is a uniform partition (exchangeable, as the engine
    needs): each sketched coordinate ``x`` of slot ``s`` gets a group letter ``X`` and the operand
    ``W_{i x X} = T_{i x} G_{x X}`` (client slot ``s``; ``G`` the membership), since
    ``c_{i x} = T_{i x} π_{i x} = Σ_X W_{i x X} ρ_{i X}``. The group positions carry scale 1. Any other
    model is returned unchanged."""
    if not isinstance(model, GroupedPartition):
        return c, model, list(operands), T
    used = set(c.subscripts)
    fresh = [ch for ch in GROUP_LETTERS if ch not in used][: len(c.positions)]
    Tarr = np.asarray(T)
    G = model.membership()
    W = Tarr[:, :, None] * G[None, :, :]
    inputs = c.inputs + [x + X for x, X in zip(c.positions, fresh, strict=True)]
    lifted = Contraction(",".join(inputs) + "->" + c.output, "".join(fresh), c.slots,
                         tuple(c.client_operands) + tuple(c.slots), c.keep_client, c.name + " (groups)")
    ones = np.ones(Tarr.shape, dtype=np.int64)
    return lifted, model.group_model(), list(operands) + [W] * len(c.positions), ones


def expectation(c: Contraction, model: InclusionModel, operands: Sequence[Any], T: Any,
                exact: bool = False) -> Any:
    """``E[Σ_{clients} contraction]`` for scale table ``T`` (n, d): the sum over
    ``i`` (and ``i'`` for two slots) of the sketched contraction, not averaged.

    ``exact=True`` keeps weights as SymPy Rationals (for symbolic operands). Grouped
    ownership is lifted to groups first (:func:`lift_groups`)."""
    c, model, operands, T = lift_groups(c, model, operands, T)
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


# ---------------------------------------------------------------------------
# Compiled numeric evaluation: the same sum, reorganised for repeated calls
# ---------------------------------------------------------------------------

PRECONTRACT_MAX_ELEMENTS = 2**24
"""Memory budget (float64 entries, 128 MiB) of the fixed tensors one :class:`CompiledExpectation` precomputes."""


def _client_letter(slot: int, same: bool) -> str:
    return SLOT_LETTERS[0] if same else SLOT_LETTERS[slot]


def _sizes(letters: str, n: int, d: int) -> tuple[int, ...]:
    """Axis lengths for einsum letters: client letters ``n``, coordinate letters ``d``."""
    return tuple(n if ch in SLOT_LETTERS else d for ch in letters)


PATH_MAX_INTERMEDIATE = 2**26
"""Largest intermediate (float64 entries, 512 MiB) a contraction path may use when NumPy's default limit (the
largest operand) leaves no pairwise order."""


def _path(subscripts: str, n: int, d: int) -> list[Any]:
    """Optimal pairwise contraction order (``np.einsum_path`` format) for operands of these letters.

    ``np.einsum_path`` caps intermediates at the largest operand by default; when no pairwise order fits, it
    returns one step over three or more operands, which ``np.einsum`` then evaluates as a naive nested loop (the
    grouped sketches' lifted contractions at d = 66: minutes for one call). Then the path is planned again with
    intermediates up to :data:`PATH_MAX_INTERMEDIATE` (the default path, where it is pairwise, is kept: same
    numbers as before)."""
    dummies = [np.broadcast_to(np.zeros(()), _sizes(s, n, d)) for s in subscripts.split("->")[0].split(",")]
    path = list(np.einsum_path(subscripts, *dummies, optimize="optimal")[0])
    if any(len(step) > 2 for step in path[1:]):
        path = list(np.einsum_path(subscripts, *dummies, optimize=("optimal", PATH_MAX_INTERMEDIATE))[0])
    return path


def _steps(subscripts: str, path: Sequence[Any]) -> list[tuple[tuple[int, ...], str]]:
    """The steps of ``path``: operands contracted and the letters of the result (appended last)."""
    ins, out = subscripts.split("->")
    cur = ins.split(",")
    steps = []
    for step in path[1:]:
        picked = [cur[k] for k in step]
        for k in sorted(step, reverse=True):
            del cur[k]
        keep = set(out).union(*cur)
        res = out if not cur else "".join(dict.fromkeys(ch for s in picked for ch in s if ch in keep))
        steps.append((tuple(step), res))
        cur.append(res)
    return steps


def _cost(subscripts: str, n: int, d: int) -> int:
    """Multiply-adds of the optimal path: each step costs the product of the lengths of its letters."""
    cost = 0
    ins = subscripts.split("->")[0].split(",")
    for step, res in _steps(subscripts, _path(subscripts, n, d)):
        letters = "".join(set("".join(ins[k] for k in step)))
        cost += math.prod(_sizes(letters, n, d))
        ins = [s for k, s in enumerate(ins) if k not in step] + [res]
    return cost


@dataclass(frozen=True)
class _Pair:
    """``einsum(a, b -> o)`` as one batched ``np.matmul``: letters in ``a``, ``b`` and ``o`` are the
    batch, letters in ``a`` and ``b`` only are contracted; ``a`` is brought to (batch, left,
    contracted), ``b`` to (batch, contracted, right) (diagonals and lone letters by einsum)."""

    left: str
    right: str
    shape_left: tuple[int, int, int]
    shape_right: tuple[int, int, int]
    unflat: tuple[int, ...]
    order: tuple[int, ...]

    @classmethod
    def plan(cls, a: str, b: str, o: str, n: int, d: int) -> _Pair:
        batch = "".join(ch for ch in dict.fromkeys(a) if ch in b and ch in o)
        contracted = "".join(ch for ch in dict.fromkeys(a) if ch in b and ch not in o)
        left = "".join(ch for ch in dict.fromkeys(a) if ch not in b and ch in o)
        right = "".join(ch for ch in dict.fromkeys(b) if ch not in a and ch in o)
        sb, sc, sl, sr = (math.prod(_sizes(x, n, d)) for x in (batch, contracted, left, right))
        letters = batch + left + right
        return cls(f"{a}->{batch}{left}{contracted}", f"{b}->{batch}{contracted}{right}", (sb, sl, sc),
                   (sb, sc, sr), _sizes(letters, n, d), tuple(letters.index(ch) for ch in o))

    def prepare_left(self, A: FloatArray) -> FloatArray:
        return np.ascontiguousarray(np.einsum(self.left, A)).reshape(self.shape_left)

    def prepare_right(self, B: FloatArray) -> FloatArray:
        return np.ascontiguousarray(np.einsum(self.right, B)).reshape(self.shape_right)

    def __call__(self, A: FloatArray, B: FloatArray, ready: tuple[bool, bool] = (False, False)) -> FloatArray:
        """``einsum(a, b -> o)``; ``ready`` marks operands already in their matmul layout."""
        lhs = A if ready[0] else np.einsum(self.left, A).reshape(self.shape_left)
        rhs = B if ready[1] else np.einsum(self.right, B).reshape(self.shape_right)
        return np.asarray(np.matmul(lhs, rhs).reshape(self.unflat).transpose(self.order))


@dataclass
class _Term:
    """One einsum of the compiled sum: ``coef · einsum(subscripts, *fixed tensors, *free operands)``."""

    coef: float
    fixed: list[str]             # subscripts of the fixed tensors
    tensors: list[FloatArray]
    free: list[tuple[int, str]]  # (index among the call's arguments, subscripts)
    output: str                  # einsum output letters (distinct)
    out_full: str                # output letters before removing repeats (a repeat: a diagonal)
    plan: list[tuple[tuple[int, ...], str, _Pair | None, tuple[bool, bool]]] = field(default_factory=list)

    @property
    def subscripts(self) -> str:
        return ",".join(self.fixed + [s for _, s in self.free]) + "->" + self.output

    def prepare(self, n: int, d: int) -> None:
        """Fix the contraction order; a fixed tensor entering a matmul is stored in that layout."""
        subs = self.subscripts
        ins = subs.split("->")[0].split(",")
        origin: list[int | None] = [k if k < len(self.tensors) else None for k in range(len(ins))]
        for step, res in _steps(subs, _path(subs, n, d)):
            pair = _Pair.plan(ins[step[0]], ins[step[1]], res, n, d) if len(step) == 2 else None
            ready = (False, False)
            if pair is not None:
                a, b = origin[step[0]], origin[step[1]]
                if a is not None:
                    self.tensors[a] = pair.prepare_left(self.tensors[a])
                if b is not None:
                    self.tensors[b] = pair.prepare_right(self.tensors[b])
                ready = (a is not None, b is not None)
            self.plan.append((step, res, pair, ready))
            ins = [s for k, s in enumerate(ins) if k not in step] + [res]
            origin = [o for k, o in enumerate(origin) if k not in step] + [None]

    def __call__(self, args: Sequence[FloatArray]) -> FloatArray:
        ins = self.subscripts.split("->")[0].split(",")
        ops = list(zip(ins, list(self.tensors) + [args[k] for k, _ in self.free], strict=True))
        for step, res, pair, ready in self.plan:
            picked = [ops[k] for k in step]
            ops = [o for k, o in enumerate(ops) if k not in step]
            if pair is not None:
                z = pair(picked[0][1], picked[1][1], ready)
            else:
                z = np.einsum(",".join(s for s, _ in picked) + "->" + res, *(a for _, a in picked))
            ops.append((res, z))
        (letters, z), = ops
        if letters != self.output:  # a single operand: no step
            z = np.einsum(f"{letters}->{self.output}", z)
        return z if self.coef == 1.0 else self.coef * z


class CompiledExpectation:
    """``expectation(c, model, operands, T)`` as a linear map of the operands given as ``None``.

    Numbers are those of :func:`expectation` up to rounding; the Möbius-weighted sum over
    patterns ``σ`` is reorganised once per (contraction, model, scale table, fixed operands):

    1. *scales absorbed*: a sketched position ``x`` of slot ``s`` multiplies its factor
       ``T_{i x}`` into a fixed client operand of slot ``s`` that carries ``x`` (so
       ``C_i L_i C_i = Π_i L̃_i Π_i`` with ``L̃_i = Diag(T_i) L_i Diag(T_i)`` and ``Π_i`` the
       0/1 ownership of (26)); only positions without such an operand keep a factor ``T``;
    2. *same and cross terms merged*: ``w_same Z(i = i') + w_cross [Z(all) − Z(i = i')]`` is
       ``(w_same − w_cross) Z(i = i') + w_cross Z(all)`` (weights combined exactly), and in
       ``Z(all)`` an operand alone in its slot is summed over clients once (``Σ_i L̃_i``);
    3. *fixed parts precontracted*: the fixed operands of a term are contracted together
       once (e.g. ``Σ_i (L̃_i)_{jj} (L̃_i)_{ml}`` for ``σ = {jk}`` of ``E[B̄MB̄]``) when that makes
       each call cheaper and fits :data:`PRECONTRACT_MAX_ELEMENTS`; terms of the same shape
       are then summed into one tensor;
    4. each term's contraction order is fixed once, pairwise steps run as batched matmuls.

    ``operands[k] is None`` marks the free operands, passed to :meth:`__call__` in order.
    Float operands only (symbolic operands go through :func:`expectation`)."""

    def __init__(self, c: Contraction, model: InclusionModel, operands: Sequence[ArrayLike | None],
                 T: ArrayLike, precontract: bool = True) -> None:
        c, model, operands, T = lift_groups(c, model, [None if o is None else np.asarray(o, dtype=np.float64)
                                                     for o in operands], np.asarray(T, dtype=np.float64))
        self.contraction = c
        T_arr = np.asarray(T, dtype=np.float64)
        n, d = T_arr.shape
        self.n, self.d = n, d
        if len(operands) != len(c.inputs):
            raise ValueError(f"{c.name}: {len(c.inputs)} operands expected, got {len(operands)}")
        self.free_index = [k for k, o in enumerate(operands) if o is None]
        subs, slots, arrays = self._absorb(c, operands, T_arr)
        terms = self._terms(c, model, subs, slots, arrays)
        if precontract and self.free_index:
            terms = self._precontract(terms)
        for t in terms:
            t.prepare(n, d)
        self.terms = terms
        self.shape = ((n,) if c.keep_client else ()) + (d,) * len(c.output)
        self._targets = {t.out_full: self._diagonal(t.out_full) for t in terms}

    @staticmethod
    def _absorb(c: Contraction, operands: Sequence[ArrayLike | None], T: FloatArray
                ) -> tuple[list[str], list[int | None], list[FloatArray | None]]:
        """Operands with the scales multiplied in: (subscripts without client letter, client slot,
        array, ``None`` if free); a position without a fixed home operand gets a ``T`` operand."""
        n, d = T.shape
        subs, slots = list(c.inputs), list(c.client_operands)
        arrays: list[FloatArray | None] = [None if o is None else np.array(o, dtype=np.float64) for o in operands]
        for x, slot in zip(c.positions, c.slots, strict=True):
            home = next((k for k in range(len(c.inputs)) if slots[k] == slot and arrays[k] is not None
                         and x in subs[k]), None)
            if home is None:
                subs.append(x)
                slots.append(slot)
                arrays.append(T)
                continue
            arr = arrays[home]
            assert arr is not None
            shape = [1] * arr.ndim
            shape[0] = n
            shape[1 + subs[home].index(x)] = d
            arrays[home] = arr * T.reshape(shape)
        return subs, slots, arrays

    def _terms(self, c: Contraction, model: InclusionModel, subs: list[str], slots: list[int | None],
               arrays: list[FloatArray | None]) -> list[_Term]:
        """One term per pattern ``σ`` and kind (``i = i'`` or all pairs) with a non-zero weight."""
        coefs: dict[tuple[Partition, bool], sp.Expr] = {}
        for sigma, w in weight_values(model, c, same=True):
            coefs[(sigma, True)] = w
        if c.two_clients and self.n > 1:  # one client: no pairs i ≠ i'
            for sigma, w in weight_values(model, c, same=False):
                coefs[(sigma, True)] = coefs.get((sigma, True), sp.Integer(0)) - w
                coefs[(sigma, False)] = w
        lone = {s: slots.count(s) == 1 for s in (0, 1)}
        client_sums: dict[int, FloatArray] = {}
        terms = []
        for (sigma, same), w in coefs.items():
            if w == 0:
                continue
            rep = merge_letters(c.positions, sigma)
            out_full = "".join(rep.get(ch, ch) for ch in c.output)
            term = _Term(float(w), [], [], [], (SLOT_LETTERS[0] if c.keep_client else "")
                         + "".join(dict.fromkeys(out_full)), out_full)
            for k, (sub, slot, arr) in enumerate(zip(subs, slots, arrays, strict=True)):
                merged = "".join(rep.get(ch, ch) for ch in sub)
                prefix = "" if slot is None else _client_letter(slot, same)
                if arr is None:
                    term.free.append((self.free_index.index(k), prefix + merged))
                elif slot is not None and not same and lone[slot]:  # Σ_i once, outside the pattern sum
                    if k not in client_sums:
                        client_sums[k] = arr.sum(axis=0)
                    term.fixed.append(merged)
                    term.tensors.append(client_sums[k])
                else:
                    term.fixed.append(prefix + merged)
                    term.tensors.append(arr)
            terms.append(term)
        return terms

    def _precontract(self, terms: list[_Term]) -> list[_Term]:
        """Contract each term's fixed tensors once where it pays; merge terms of the same shape."""
        n, d = self.n, self.d
        candidates = []
        for t in terms:
            if len(t.fixed) < 2:
                continue
            keep = set(t.output).union(*(s for _, s in t.free))
            letters = "".join(dict.fromkeys(ch for s in t.fixed for ch in s if ch in keep))
            if math.prod(_sizes(letters, n, d)) > PRECONTRACT_MAX_ELEMENTS:
                continue
            pre = _Term(t.coef, [letters], [], t.free, t.output, t.out_full)
            saving = _cost(t.subscripts, n, d) - _cost(pre.subscripts, n, d)
            if saving > 0:
                candidates.append((saving, t, pre))
        used = 0
        merged: dict[str, _Term] = {}
        absorbed: set[int] = set()
        for _, t, pre in sorted(candidates, key=lambda x: -x[0]):
            key = pre.subscripts + ":" + pre.out_full
            size = math.prod(_sizes(pre.fixed[0], n, d))
            if key not in merged and used + size > PRECONTRACT_MAX_ELEMENTS:
                continue
            F = t.coef * np.einsum(",".join(t.fixed) + "->" + pre.fixed[0], *t.tensors, optimize="optimal")
            if key in merged:
                merged[key].tensors[0] += F
            else:
                used += size
                pre.coef, pre.tensors = 1.0, [F]
                merged[key] = pre
            absorbed.add(id(t))
        return [t for t in terms if id(t) not in absorbed] + list(merged.values())

    def _diagonal(self, out_full: str) -> tuple[Any, ...] | None:
        """Index of the output entries a term with repeated output letters fills (``None``: all)."""
        if len(set(out_full)) == len(out_full):
            return None
        uniq = "".join(dict.fromkeys(out_full))
        idx = np.indices((self.d,) * len(uniq))
        target = tuple(idx[uniq.index(ch)] for ch in out_full)
        return ((slice(None),) + target) if self.contraction.keep_client else target

    def __call__(self, *free: ArrayLike) -> FloatArray:
        """The expectation for the free operands ``free`` (in the order of the ``None`` s)."""
        if len(free) != len(self.free_index):
            raise ValueError(f"{self.contraction.name}: {len(self.free_index)} free operands expected")
        args = [np.asarray(a, dtype=np.float64) for a in free]
        total = np.zeros(self.shape)
        diagonal: dict[str, FloatArray] = {}
        for t in self.terms:
            z = t(args)
            if self._targets[t.out_full] is None:
                total += z
            else:
                diagonal[t.out_full] = diagonal[t.out_full] + z if t.out_full in diagonal else z
        for out_full, z in diagonal.items():
            total[self._targets[out_full]] += z
        return total
