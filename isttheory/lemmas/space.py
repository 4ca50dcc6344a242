"""The ``[space]`` of a lemma: which instances the search draws, and how one is drawn from a seed.

Each key is a list of values, an inclusive range table ``{min, max, log}`` or a single value; ``d`` may
also be an expression in ``n`` (``"n"``, ``"2*n"``). Problem families: ``heterogeneous`` and
``homogeneous`` as in :mod:`isttheory.generators`, ``interpolation`` (heterogeneous with every
``b_i = 0``) and ``random`` (random-rank PSD ``L_i``, rank-deficient ones included, with a small ridge
when the rank is below ``d``). ``scale`` multiplies every ``L_i`` by ``s`` and ``b_i`` by ``√s``.

What an instance must satisfy is ``n``, ``d``, the sketch, form, local steps, ``γ``, ``K``, the problem
family's structure (homogeneous: one ``L``, one ``b``; interpolation: ``b = 0``) and the lemma's
``assume``. ``scale``, ``heterogeneity`` and ``cond`` only shape the random stage's generators: the local
optimisation moves every entry, so a hypothesis such as ``kappa <= 5`` belongs in ``assume``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from .. import generators
from ..errors import ISTError, LemmaError
from ..sketches.spec import check_sketch_spec
from ..validation import FORMS
from .expr import Node, evaluate, parse_expression
from .points import Point, factor_of

FAMILIES = ("heterogeneous", "homogeneous", "interpolation", "random")
MAX_SIZE = 12
"""Largest ``n`` or ``d`` a space may name: every quantity is exact, so sizes stay small."""
MAX_K = 10_000
"""Largest horizon ``K`` (each iteration is one exact moment step)."""
MAX_LOCAL_STEPS = 100


@dataclass(frozen=True)
class Range:
    """An inclusive range of numbers, sampled uniformly or log-uniformly."""

    lo: float
    hi: float
    log: bool = False
    integer: bool = False

    def sample(self, rng: np.random.Generator) -> float | int:
        if self.integer:
            if self.log:
                v = math.exp(rng.uniform(math.log(self.lo), math.log(self.hi + 1)))
                return int(min(self.hi, max(self.lo, math.floor(v))))
            return int(rng.integers(int(self.lo), int(self.hi) + 1))
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.lo), math.log(self.hi))))
        return float(rng.uniform(self.lo, self.hi))

    def contains(self, v: float) -> bool:
        return self.lo <= v <= self.hi


@dataclass(frozen=True)
class Choice:
    values: tuple[Any, ...]

    def sample(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    def contains(self, v: Any) -> bool:
        return v in self.values


Axis = Range | Choice


@dataclass(frozen=True)
class Space:
    """The instances a lemma is searched over."""

    problem: Choice = Choice(("heterogeneous", "homogeneous", "interpolation", "random"))
    n: Axis = Range(2, 4, integer=True)
    d: Axis | Node = field(default_factory=lambda: parse_expression("n"))
    sketch: Choice = Choice(("perm",))
    form: Choice = Choice(("sgd",))
    local_steps: Axis = Choice((1,))
    gamma: Axis = Range(1e-3, 1.0, log=True)
    K: Axis = Range(1, 20, integer=True)
    scale: Axis = Range(1.0, 1.0)
    heterogeneity: Axis = Range(0.0, 1.0)
    cond: Axis = Range(1.0, 100.0, log=True)
    x0: str = "random"

    # --------------------------------------------------------------- parsing
    @classmethod
    def from_dict(cls, data: Any) -> Space:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise LemmaError("[space] must be a table")
        allowed = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise LemmaError(f"[space] has unknown key(s) {unknown}; allowed: {', '.join(sorted(allowed))}")
        kw: dict[str, Any] = {}
        if "problem" in data:
            kw["problem"] = _choice(data["problem"], "problem", str)
            bad = [p for p in kw["problem"].values if p not in FAMILIES]
            if bad:
                raise LemmaError(f"[space] problem {bad[0]!r} is not one of {', '.join(FAMILIES)}")
        for key in ("n", "local_steps", "K"):
            if key in data:
                kw[key] = _axis(data[key], key, integer=True, lo=0 if key == "K" else 1)
        for key, cap in (("K", MAX_K), ("local_steps", MAX_LOCAL_STEPS)):
            if key in kw and _max(kw[key]) > cap:
                raise LemmaError(f"[space] {key} goes up to {_max(kw[key]):g}; at most {cap}")
        if "n" in kw and _max(kw["n"]) > MAX_SIZE:
            raise LemmaError(f"[space] n goes up to {_max(kw['n'])}; the exact engines allow at most {MAX_SIZE}")
        if "d" in data:
            v = data["d"]
            if isinstance(v, str):
                node = parse_expression(v, "[space] d")
                from .expr import names

                if not names(node) <= {"n"}:
                    raise LemmaError(f"[space] d = {v!r} may use only n and numbers")
                kw["d"] = node
                n_axis = kw.get("n", cls.__dataclass_fields__["n"].default)
                ns = range(int(n_axis.lo), int(n_axis.hi) + 1) if isinstance(n_axis, Range) else n_axis.values
                for n in ns:  # every n of the space must give a valid d: said now, not mid-search
                    if _d_of(node, int(n)) is None:
                        raise LemmaError(f"[space] d = {v!r} is not an integer in 1..{MAX_SIZE} for n = {n}")
            else:
                kw["d"] = _axis(v, "d", integer=True, lo=1)
                if _max(kw["d"]) > MAX_SIZE:
                    raise LemmaError(f"[space] d goes up to {_max(kw['d'])}; at most {MAX_SIZE}")
        if "sketch" in data:
            kw["sketch"] = _choice(data["sketch"], "sketch", str)
            for s in kw["sketch"].values:
                try:
                    check_sketch_spec(s)
                except ISTError as exc:
                    raise LemmaError(f"[space] sketch: {exc}") from None
        if "form" in data:
            kw["form"] = _choice(data["form"], "form", str)
            bad = [f for f in kw["form"].values if f not in FORMS]
            if bad:
                raise LemmaError(f"[space] form {bad[0]!r} is not 'sgd' (2) or 'ist' (Algorithm 1)")
        for key, lo_ok in (("gamma", 0.0), ("scale", 0.0), ("heterogeneity", -1.0), ("cond", 0.0)):
            if key in data:
                ax = _axis(data[key], key, integer=False, lo=None)
                lo = ax.lo if isinstance(ax, Range) else min(ax.values)
                if key == "heterogeneity" and not (0 <= lo and _max(ax) <= 1):
                    raise LemmaError("[space] heterogeneity must lie in [0, 1]")
                if key == "cond" and lo < 1:
                    raise LemmaError("[space] cond must be >= 1")
                if key in ("gamma", "scale") and not lo > lo_ok:
                    raise LemmaError(f"[space] {key} must be positive")
                kw[key] = ax
        if "x0" in data:
            if data["x0"] not in ("random", "ones"):
                raise LemmaError("[space] x0 must be \"random\" or \"ones\"")
            kw["x0"] = data["x0"]
        return cls(**kw)

    # --------------------------------------------------------------- sampling
    def d_for(self, n: int, rng: np.random.Generator | None = None) -> int | None:
        if isinstance(self.d, Node):
            return _d_of(self.d, n)
        if rng is None:
            raise ValueError("a d axis needs an rng")
        return int(self.d.sample(rng))

    def d_allows(self, n: int, d: int) -> bool:
        if isinstance(self.d, Node):
            return self.d_for(n) == d
        return bool(self.d.contains(d))

    def sample(self, rng: np.random.Generator) -> Point:
        """One instance, every random choice drawn from ``rng`` in a fixed order."""
        n = int(self.n.sample(rng))
        d = self.d_for(n, rng)
        if d is None:
            raise LemmaError(f"[space] d is not a positive integer <= {MAX_SIZE} for n = {n}")
        family = str(self.problem.sample(rng))
        sketch = str(self.sketch.sample(rng))
        form = str(self.form.sample(rng))
        t = int(self.local_steps.sample(rng)) if form == "ist" else 1
        gamma = float(self.gamma.sample(rng))
        K = int(self.K.sample(rng))
        s = float(self.scale.sample(rng))
        h = float(self.heterogeneity.sample(rng))
        cond = float(self.cond.sample(rng))
        seed = int(rng.integers(2**31))
        x0 = rng.standard_normal(d) if self.x0 == "random" else np.ones(d)
        A, ridge, b = _family(family, n, d, h, cond, seed)
        A, ridge, b = A * math.sqrt(s), ridge * s, b * math.sqrt(s)
        return Point(family, A, ridge, b, x0, sketch, form, t, gamma, K)

    def allows(self, p: Point) -> bool:
        """Whether a shrunk point still lies in the space (sizes, step, horizon)."""
        return (self.n.contains(p.n) and self.d_allows(p.n, p.d) and self.gamma.contains(float(p.gamma))
                and self.K.contains(p.K))


class _NEnv:
    def __init__(self, n: int) -> None:
        self.n = n

    def name(self, name: str) -> Any:
        return Fraction(self.n)

    def call(self, name: str, args: list[Any], nodes: Any) -> Any:
        raise LemmaError("[space] d may not call functions")

    def number(self, v: Fraction) -> Fraction:
        return v

    def binop(self, op: str, a: Any, b: Any) -> Any:
        from .expr import ARITH

        a, b = Fraction(a), Fraction(b)
        if op == "**":
            if b.denominator != 1 or not -64 <= b <= 64 or abs(a) > 2**16:
                raise LemmaError("[space] d may raise to integer powers in -64..64 of numbers up to 65536 only")
            if a == 0 and b < 0:
                raise LemmaError("[space] d divides by zero")
            return a ** int(b)
        if op == "/" and b == 0:
            raise LemmaError("[space] d divides by zero")
        return ARITH[op](a, b)


def _d_of(node: Node, n: int) -> int | None:
    """``d`` for ``n`` from an expression in ``n``; ``None`` when it is not an integer in 1..MAX_SIZE."""
    f = Fraction(evaluate(node, _NEnv(n)))
    return int(f) if f.denominator == 1 and 1 <= f <= MAX_SIZE else None


def _family(family: str, n: int, d: int, h: float, cond: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Factors, ridges and ``b`` of one problem of a family."""
    if family == "random":
        rng = np.random.default_rng(seed)
        A = np.zeros((n, d, d))
        ridge = np.zeros(n)
        for i in range(n):
            r = int(rng.integers(1, d + 1))
            A[i, :, :r] = rng.standard_normal((d, r)) / math.sqrt(r)
            if r < d:
                ridge[i] = 1e-2
        return A, ridge, rng.standard_normal((n, d))
    if family == "homogeneous":
        pr = generators.homogeneous(n, d, seed=seed, cond=cond)
    else:
        pr = generators.heterogeneous(n, d, h, seed=seed, cond=cond, interpolation=family == "interpolation")
    A, ridge = factor_of(np.asarray(pr.L))
    return A, ridge, np.array(pr.b)


def _max(ax: Axis) -> float:
    return ax.hi if isinstance(ax, Range) else max(ax.values)


def _choice(v: Any, key: str, typ: type) -> Choice:
    vals = v if isinstance(v, list) else [v]
    if not vals or not all(isinstance(x, typ) for x in vals):
        raise LemmaError(f"[space] {key} must be a {typ.__name__} or a non-empty list of them")
    return Choice(tuple(vals))


def _axis(v: Any, key: str, integer: bool, lo: float | None) -> Axis:
    num = (int,) if integer else (int, float)

    def ok(x: Any) -> bool:
        return isinstance(x, num) and not isinstance(x, bool) and math.isfinite(x) and (lo is None or x >= lo)

    what = "integers" if integer else "numbers"
    if isinstance(v, dict):
        unknown = set(v) - {"min", "max", "log"}
        if unknown or "min" not in v or "max" not in v:
            raise LemmaError(f"[space] {key} range must be {{min = ..., max = ...}} (optionally log = true)")
        a, b, log = v["min"], v["max"], v.get("log", False)
        if not (ok(a) and ok(b)) or a > b or not isinstance(log, bool) or (log and a <= 0):
            raise LemmaError(f"[space] {key} range needs {what} min <= max" + (" (positive for log)" if log else "")
                             + (f", at least {lo}" if lo is not None else ""))
        return Range(float(a), float(b), log, integer)
    vals = v if isinstance(v, list) else [v]
    if not vals or not all(ok(x) for x in vals):
        raise LemmaError(f"[space] {key} must be one of: a number, a list of {what}, or a range table"
                         + (f" (each at least {lo})" if lo is not None else ""))
    return Choice(tuple(vals))
