"""Search a lemma's space for a counterexample, shrink it, and certify it in exact arithmetic.

Three stages, all seeded (instance ``i`` of stage ``s`` draws from ``SeedSequence(seed, spawn_key=(s, i))``,
so a given ``seed`` visits the same instances in the same order on any machine):

1. **Random instances** from the space (:meth:`~isttheory.lemmas.space.Space.sample`), evaluated in float64
   by the closed-form engines; then the tightest of them again at both ends of the ``γ`` range.
2. **Local optimisation** of the normalised slack ``(allowed − violation)/(|lhs| + |rhs|)`` with SciPy's
   Nelder–Mead from the tightest instances of stage 1, over the continuous parameters: the factors
   ``A_i`` of ``L_i = A_iA_iᵀ`` (shared across clients for homogeneous problems), ``b_i`` (none for
   interpolation), ``x⁰`` and ``log γ``. Minimising the slack also maximises the ratio lhs/rhs (the
   worst case reported when nothing fails).
3. **Shrinking** a violating instance: smaller ``K``, fewer clients and coordinates (principal
   submatrices), a simpler ``γ``, and entries rounded to dyadic rationals with as few bits as keep the
   violation. The shrunk instance is then **certified**: lhs, rhs and every hypothesis are recomputed
   by the exact engine (rationals; 50-digit mpmath where an irrational scale or an eigenvalue enters).
   Only a certified violation is reported as a counterexample.

The time ``budget`` only decides where the search stops; ``max_instances`` gives a budget that does not
depend on the machine (then the clock is ignored): half the instances for stage 1, the rest for stage 2.
"""

from __future__ import annotations

import math
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from scipy.optimize import minimize

from ..errors import ISTError, LemmaError, SearchTimeLimitError
from .arith import DIGITS, is_exact
from .engines import Engine, ExactEngine, FloatEngine
from .expr import Comparison, Tolerance, Undefined, evaluate
from .points import Point
from .results import CheckResult, Counterexample, Outcome, Worst, file_holds_exactly, write_point
from .space import Range, Space
from .vocabulary import Evaluator


class Lemma(Protocol):
    """What the search needs of a lemma (:class:`isttheory.lemmas.lemma.Lemma` provides it; a structural
    type, so that the search does not import the module that calls it)."""

    @property
    def id(self) -> str: ...
    @property
    def statement(self) -> Comparison: ...
    @property
    def assume(self) -> tuple[Comparison, ...]: ...
    @property
    def space(self) -> Space: ...
    @property
    def tolerance(self) -> Tolerance: ...
    @property
    def expect(self) -> str | None: ...
    def latex(self) -> str: ...


STARTS = 4
"""Stage 2 optimises from this many of the tightest stage-1 instances."""
EXACT = Tolerance(0.0, 0.0)
MAX_BITS = 23
"""Rounding keeps at most this many significant bits below each array's largest entry (then every entry of
``L = AAᵀ + ρI`` has at most 2·24 + 4 bits, so the problem file holds the certified instance exactly
for d ≤ 12)."""
PRECISION_AGREEMENT = 1e-20
"""A violation computed in mpmath is certified when it agrees to this relative accuracy at 50 and 100 digits."""


@dataclass
class Evaluation:
    """One instance evaluated: ``status`` is "holds", "fails" or "skip" (with ``reason``)."""

    status: str
    reason: str = ""
    lhs: Any = None
    rhs: Any = None
    margin: Any = None
    slack: float = math.inf
    ratio: float | None = None


def _engine(point: Point, exact: bool) -> Engine:
    return ExactEngine(point) if exact else FloatEngine(point)


def _compare(c: Comparison, ev: Evaluator, tolerance: Tolerance) -> tuple[bool, Any, Any, Any, float]:
    """(fails, lhs, rhs, lhs − rhs, normalised slack) of one comparison."""
    ar = ev.arith
    lhs, rhs = ar.lift(evaluate(c.lhs, ev), evaluate(c.rhs, ev))
    if math.isnan(float(lhs)) or math.isnan(float(rhs)):
        raise Undefined("a side evaluates to NaN")
    finite = all(math.isfinite(float(v)) for v in (lhs, rhs))
    if not finite and not any(math.isfinite(float(v)) for v in (lhs, rhs)):
        raise Undefined("both sides are infinite")
    if not finite:
        ops = {"<=": lhs <= rhs, "<": lhs < rhs, ">=": lhs >= rhs, ">": lhs > rhs, "==": lhs == rhs}
        fails = not ops[c.op]
        return fails, lhs, rhs, (lhs - rhs if lhs != rhs else 0), (-1.0 if fails else 1.0)
    allowed = tolerance.bound(lhs, rhs)
    v = lhs - rhs if c.op in ("<=", "<") else rhs - lhs if c.op in (">=", ">") else abs(lhs - rhs)
    fails = bool(v > allowed or (c.op in ("<", ">") and allowed == 0 and v >= 0))
    scale = float(abs(lhs)) + float(abs(rhs)) + 1e-300
    return fails, lhs, rhs, lhs - rhs, float(allowed - v) / scale


def evaluate_point(lemma: Lemma, point: Point, exact: bool = False) -> Evaluation:
    """The statement on one instance, after its hypotheses; any quantity that does not exist skips it."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow on extreme scales is reported as inf/skip
        return _evaluate_point(lemma, point, exact)


def _evaluate_point(lemma: Lemma, point: Point, exact: bool) -> Evaluation:
    try:
        ev = Evaluator(_engine(point, exact))
    except ISTError as exc:
        return Evaluation("skip", f"invalid instance: {exc}")
    try:
        for hyp in lemma.assume:
            fails, *_ = _compare(hyp, ev, EXACT)  # hypotheses hold exactly, with no tolerance
            if fails:
                return Evaluation("skip", f"hypothesis unmet: {hyp.text}")
        fails, lhs, rhs, margin, slack = _compare(lemma.statement, ev, lemma.tolerance)
    except Undefined as exc:
        return Evaluation("skip", f"hypothesis unmet: {exc}")
    except ISTError as exc:
        return Evaluation("skip", f"invalid instance: {exc}")
    except (np.linalg.LinAlgError, ZeroDivisionError, OverflowError, ValueError) as exc:
        return Evaluation("skip", f"numerical failure: {type(exc).__name__}")
    ratio = _ratio(lemma.statement.op, lhs, rhs)
    return Evaluation("fails" if fails else "holds", "", lhs, rhs, margin, slack, ratio)


def _ratio(op: str, lhs: Any, rhs: Any) -> float | None:
    lf, rf = float(lhs), float(rhs)
    if not (math.isfinite(lf) and math.isfinite(rf)):
        return None
    if op in ("<=", "<"):
        return lf / rf if rf > 0 and lf >= 0 else None
    if op in (">=", ">"):
        return rf / lf if lf > 0 and rf >= 0 else None
    return lf / rf if rf != 0 else None


class _Search:
    def __init__(self, lemma: Lemma, budget: float, seed: int, max_instances: int | None,
                 time_limit: float | None = None) -> None:
        if not (isinstance(budget, (int, float)) and math.isfinite(budget) and budget > 0):
            raise LemmaError(f"budget must be a positive number of seconds; got {budget!r}")
        if max_instances is not None and (not isinstance(max_instances, int) or max_instances < 1):
            raise LemmaError(f"max_instances must be a positive integer; got {max_instances!r}")
        if time_limit is not None and not (isinstance(time_limit, (int, float)) and time_limit > 0):
            raise LemmaError(f"time_limit must be a positive number of seconds; got {time_limit!r}")
        self.lemma, self.seed, self.cap = lemma, seed, max_instances
        self.start = time.perf_counter()
        self.time_limit = time_limit
        self.deadline = math.inf if max_instances is not None else self.start + budget
        self.budget = budget
        self.tried = 0
        self.skips: Counter[str] = Counter()
        self.valid = 0
        self.uncertified = 0
        self.worst: tuple[float, Point, Evaluation] | None = None
        self.pool: list[tuple[float, int, Point]] = []
        self.next_i = 0

    def time_left(self, fraction: float = 1.0) -> bool:
        return time.perf_counter() < self.start + fraction * (self.deadline - self.start)

    def room(self, stage: int) -> bool:
        if self.time_limit is not None and time.perf_counter() - self.start > self.time_limit:
            raise SearchTimeLimitError(f"{self.lemma.id}: the search of {self.cap} instances did not finish within "
                                       f"{self.time_limit:g} s ({self.tried} tried)")
        if self.cap is not None:
            return self.tried < (self.cap + 1) // 2 if stage == 1 else self.tried < self.cap
        return self.time_left(0.5 if stage == 1 else 1.0)

    def record(self, point: Point, e: Evaluation) -> None:
        self.tried += 1
        if e.status == "skip":
            self.skips[_reason_key(e.reason)] += 1
            return
        self.valid += 1
        if e.ratio is not None and (self.worst is None or e.ratio > self.worst[0]):
            self.worst = (e.ratio, point, e)

    # ---------------------------------------------------------------- stage 1
    def random_stage(self, stage: int = 1) -> Counterexample | None:
        """Random instances until the stage's share of the budget is spent (stage 2 continues the same
        sequence when local optimisation has nothing left to do)."""
        i = self.next_i
        while self.room(stage):
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(1, i)))
            point = self.lemma.space.sample(rng)
            e = evaluate_point(self.lemma, point)
            self.record(point, e)
            if e.status != "skip":
                self.pool.append((e.slack, i, point))
                self.pool.sort(key=lambda t: (t[0], t[1]))
                del self.pool[STARTS:]
            if e.status == "fails":
                cx = self.shrink_and_certify(point)
                if cx is not None:
                    return cx
            i += 1
            self.next_i = i
        return None

    # ---------------------------------------------------------------- stage 2
    def corner_stage(self) -> Counterexample | None:
        """The tightest instances again at the ends of the step-size range (bounds are often tight at an
        end: the corrected (30) is attained at γ = 1)."""
        g = self.lemma.space.gamma
        if not isinstance(g, Range):
            return None
        for _, _, start in list(self.pool):
            for end in (g.hi, g.lo):
                if not self.room(2):
                    return None
                p = start.with_(gamma=end)
                e = evaluate_point(self.lemma, p)
                self.record(p, e)
                if e.status == "fails":
                    cx = self.shrink_and_certify(p)
                    if cx is not None:
                        return cx
        return None

    def optimise_stage(self) -> Counterexample | None:
        for slack0, _, start in list(self.pool):
            if not self.room(2):
                break
            if not math.isfinite(slack0):
                continue
            found = self._optimise(_Codec(self.lemma, start), start)
            if found is not None:
                cx = self.shrink_and_certify(found)
                if cx is not None:
                    return cx
        return None

    def _optimise(self, codec: _Codec, start: Point) -> Point | None:
        """Nelder–Mead on the normalised slack from ``start``; the first violating point, if any."""
        found: list[Point] = []

        def objective(vec: np.ndarray) -> float:
            if found or not self.room(2):
                raise _Stop
            p = codec.decode(vec)
            e = evaluate_point(self.lemma, p)
            self.record(p, e)
            if e.status == "fails":
                found.append(p)
                raise _Stop
            return 2.0 if e.status == "skip" else e.slack

        try:
            minimize(objective, codec.encode(start), method="Nelder-Mead",
                     options={"maxfev": 400, "xatol": 1e-10, "fatol": 1e-14, "adaptive": True})
        except _Stop:
            pass
        return found[0] if found else None

    # ---------------------------------------------------------------- stage 3
    def fails(self, p: Point) -> bool:
        return self.lemma.space.allows(p) and evaluate_point(self.lemma, p).status == "fails"

    def shrink_and_certify(self, point: Point) -> Counterexample | None:
        p = _shrink(point, self.fails)
        candidates = [_rounded(p, bits) for bits in range(MAX_BITS + 1)] + [_exactly(p)]
        for q in candidates:
            if not self.fails(q):
                continue
            cx = certify(self.lemma, q)
            if cx is not None:
                return cx
        self.uncertified += 1
        return None

    def result(self, cx: Counterexample | None, out: Path | None) -> CheckResult:
        lemma = self.lemma
        verdict = Outcome.REFUTED if cx else Outcome.SURVIVED if self.valid else Outcome.INAPPLICABLE
        worst = None
        if self.worst is not None:
            r, p, e = self.worst
            worst = Worst(r, p, float(e.lhs), float(e.rhs))
        res = CheckResult(lemma.id, lemma.statement.text + (f"  [assuming {', '.join(a.text for a in lemma.assume)}]"
                                                             if lemma.assume else ""),
                          verdict, self.tried, sum(self.skips.values()), time.perf_counter() - self.start, cx, worst,
                          lemma.expect, dict(self.skips), self.uncertified, lemma.latex())
        if out is not None:
            meta = {"lemma": lemma.id, "statement": lemma.statement.text, "assume": [a.text for a in lemma.assume],
                    "seed": self.seed}
            if cx is not None:
                cx.file = write_point(out, "counterexample", cx.point,
                                      {**meta, **{k: v for k, v in cx.to_dict().items() if k != "file"}})
                cx.file_is_exact = file_holds_exactly(cx.point)
            if worst is not None:
                worst.file = write_point(out, "worst", worst.point, {**meta, "ratio": worst.ratio, "lhs": worst.lhs,
                                                                     "rhs": worst.rhs})
        return res


def certify(lemma: Lemma, q: Point) -> Counterexample | None:
    """Recompute the statement and its hypotheses on ``q`` with the exact engine. Rational values are exact;
    where mpmath numbers enter (an irrational scale, an eigenvalue), the evaluation is repeated at twice the
    precision and the violation counts only if it is the same to :data:`PRECISION_AGREEMENT` relative: a
    violation made of round-off (say 3e-61 on a bound that holds with equality) shrinks with the precision
    and is not certified."""
    e = evaluate_point(lemma, q, exact=True)
    if e.status != "fails":
        return None
    if is_exact(e.lhs) and is_exact(e.rhs):
        return Counterexample(q, e.lhs, e.rhs, e.margin, True, "exact rational")
    import mpmath

    with mpmath.workdps(2 * DIGITS + 20):
        e2 = evaluate_point(lemma, q, exact=True)
    if e2.status != "fails":
        return None
    m1, m2 = mpmath.mpf(e.margin), mpmath.mpf(e2.margin)
    if not (mpmath.isfinite(m2) and abs(m1 - m2) <= PRECISION_AGREEMENT * abs(m2)):
        if not (mpmath.isinf(m1) and mpmath.isinf(m2) and m1 == m2):
            return None
    return Counterexample(q, e.lhs, e.rhs, e.margin, True, f"mpmath {DIGITS} digits, confirmed at {2 * DIGITS}")


class _Stop(Exception):
    """Ends a local optimisation (a violation found, or the budget spent)."""


def _reason_key(reason: str) -> str:
    """Skip reasons are counted by their text, cut to 120 characters."""
    return reason[:120]


class _Codec:
    """The continuous parameters of an instance as one vector (respecting the problem family)."""

    def __init__(self, lemma: Lemma, p: Point) -> None:
        self.p = p
        self.gamma_range = lemma.space.gamma if isinstance(lemma.space.gamma, Range) else None
        self.shared = p.family == "homogeneous"
        self.with_b = p.family != "interpolation"
        self.with_x0 = lemma.space.x0 == "random"

    def encode(self, p: Point) -> np.ndarray:
        A = np.asarray(p.factors, dtype=np.float64)
        b = np.asarray(p.b, dtype=np.float64)
        parts = [np.log([float(p.gamma)])] if self.gamma_range else []
        parts.append((A[:1] if self.shared else A).ravel())
        if self.with_b:
            parts.append((b[:1] if self.shared else b).ravel())
        if self.with_x0:
            parts.append(np.asarray(p.x0, dtype=np.float64))
        return np.concatenate(parts)

    def decode(self, v: np.ndarray) -> Point:
        p = self.p
        n, d, r = p.factors.shape
        i = 0
        gamma = p.gamma
        if self.gamma_range:
            g = self.gamma_range
            gamma = float(np.clip(math.exp(float(np.clip(v[0], -700, 700))), g.lo, g.hi))
            i = 1
        na = (1 if self.shared else n) * d * r
        A = np.broadcast_to(v[i:i + na].reshape(-1, d, r), (n, d, r)).copy()
        i += na
        b = np.zeros((n, d))
        if self.with_b:
            nb = (1 if self.shared else n) * d
            b = np.broadcast_to(v[i:i + nb].reshape(-1, d), (n, d)).copy()
            i += nb
        x0 = v[i:i + d].copy() if self.with_x0 else np.asarray(p.x0, dtype=np.float64)
        return p.with_(factors=A, b=b, x0=x0, gamma=gamma)


def _drop(p: Point, client: int | None, coord: int | None) -> Point:
    A, rho, b, x0 = (np.asarray(a) for a in (p.factors, p.ridge, p.b, p.x0))
    if client is not None:
        keep = [i for i in range(p.n) if i != client]
        A, rho, b = A[keep], rho[keep], b[keep]
    if coord is not None:
        keep = [j for j in range(p.d) if j != coord]
        A, b, x0 = A[:, keep, :], b[:, keep], x0[keep]
    return p.with_(factors=A, ridge=rho, b=b, x0=x0)


def _shrink(p: Point, fails: Any) -> Point:
    """Smaller ``K``, then fewer clients/coordinates, then a simpler ``γ``, while ``fails`` stays true."""
    for K in sorted({0, 1, 2, 3} | {2**j for j in range(2, 14)} | {p.K // 2}):  # a few, never every K
        if K >= p.K:
            break
        q = p.with_(K=K)
        if fails(q):
            p = q
            break
    changed = True
    while changed:
        changed = False
        for client, coord in ([(i, None) for i in range(p.n)] + [(None, j) for j in range(p.d)]
                              + [(i, j) for i in range(p.n) for j in range(p.d)]):
            if (client is not None and p.n <= 1) or (coord is not None and p.d <= 1):
                continue
            q = _drop(p, client, coord)
            if fails(q):
                p, changed = q, True
                break
    g = float(p.gamma)
    # dyadic only: the float engine then evaluates exactly the γ the exact engine certifies
    simple = [Fraction(1, 2**k) for k in range(0, 8)]
    simple += [Fraction(round(g * 2**k), 2**k) for k in range(0, 40) if round(g * 2**k) > 0]
    for cand in simple:
        q = p.with_(gamma=cand)
        if fails(q):
            return q
    return p.with_(gamma=Fraction(g))


def _round_array(a: Any, bits: int) -> np.ndarray:
    """Entries rounded to multiples of ``2^(e − bits)``, ``2^e`` the power of two at the array's largest entry."""
    arr = np.asarray(a, dtype=np.float64)
    out = np.empty(arr.shape, dtype=object)
    top = float(np.abs(arr).max()) if arr.size else 0.0
    e = math.frexp(top)[1] if top > 0 else 0
    step = Fraction(2) ** (e - bits)
    for idx, v in np.ndenumerate(arr):
        out[idx] = Fraction(round(Fraction(float(v)) / step)) * step
    return out


def _rounded(p: Point, bits: int) -> Point:
    """Entries of ``A_i``, ``ρ_i``, ``b_i`` and ``x⁰`` rounded to ``bits`` significant bits (``L = AAᵀ + ρI``
    stays exactly PSD)."""
    gamma = p.gamma if isinstance(p.gamma, Fraction) else Fraction(float(p.gamma))
    return p.with_(factors=_round_array(p.factors, bits), ridge=_round_array(p.ridge, bits),
                   b=_round_array(p.b, bits), x0=_round_array(p.x0, bits), gamma=gamma)


def _exactly(p: Point) -> Point:
    """The point itself, its float64 entries read as the rationals they are (nothing rounded)."""
    def exact(a: Any) -> np.ndarray:
        arr = np.asarray(a, dtype=np.float64)
        out = np.empty(arr.shape, dtype=object)
        for idx, v in np.ndenumerate(arr):
            out[idx] = Fraction(float(v))
        return out

    gamma = p.gamma if isinstance(p.gamma, Fraction) else Fraction(float(p.gamma))
    return p.with_(factors=exact(p.factors), ridge=exact(p.ridge), b=exact(p.b), x0=exact(p.x0), gamma=gamma)


def check(lemma: Lemma, budget: float = 30.0, seed: int = 0, max_instances: int | None = None,
          out: str | Path | None = None, time_limit: float | None = None) -> CheckResult:
    """Search ``lemma``'s space for a certified counterexample.

    REFUTED: a shrunk counterexample whose violation is certified in exact arithmetic (files
    ``counterexample.json`` and ``.meta.json`` in ``out``). SURVIVED: none found within the budget —
    never "verified" — with the worst ratio lhs/rhs and its instance (``worst.json``). INAPPLICABLE: no
    instance met the hypotheses. ``out=None`` writes no files. ``time_limit`` (seconds) guards a search with
    ``max_instances``: past it the search raises :class:`~isttheory.errors.SearchTimeLimitError` rather than
    return an outcome that would depend on the machine's speed."""
    s = _Search(lemma, budget, seed, max_instances, time_limit)
    cx = s.random_stage()
    if cx is None:
        cx = s.corner_stage()
    if cx is None:
        cx = s.optimise_stage()
    if cx is None:
        cx = s.random_stage(2)
    return s.result(cx, None if out is None else Path(out))


def check_on_problem(lemma: Lemma, L: np.ndarray, b: np.ndarray, x0: np.ndarray | None, seed: int = 0,
                     max_instances: int = 40) -> CheckResult:
    """The lemma on one given problem: its space's other axes (sketch, form, local steps, ``γ``, ``K``) are
    searched, the problem is not changed (no shrinking or rounding). A violation is certified in exact
    arithmetic on the problem's own ``L_i`` (their float64 entries read as rationals, checked exactly PSD).
    A problem whose ``n``, ``d`` or family (homogeneous, interpolation) the space excludes is INAPPLICABLE,
    with that reason in ``skip_reasons``."""
    from .points import factor_of

    s = _Search(lemma, 1.0, seed, max_instances)
    n, d = L.shape[0], L.shape[1]
    sp = lemma.space
    if not (sp.n.contains(n) and sp.d_allows(n, d)):
        s.skips[f"hypothesis unmet: the lemma's space excludes n = {n}, d = {d}"] += 1
        return s.result(None, None)
    homogeneous = bool(np.array_equal(L, np.broadcast_to(L[:1], L.shape))
                       and np.array_equal(b, np.broadcast_to(b[:1], b.shape)))
    fits = {"heterogeneous": True, "random": True, "homogeneous": homogeneous, "interpolation": not np.any(b)}
    if not any(fits[f] for f in sp.problem.values):
        s.skips[f"hypothesis unmet: the lemma is stated for {' or '.join(sp.problem.values)} problems"] += 1
        return s.result(None, None)
    A, ridge = factor_of(L)
    cx = None
    for i in range(max_instances):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3, i)))
        drawn = sp.sample(rng)
        start = drawn.x0 if x0 is None else np.asarray(x0, dtype=np.float64)
        p = Point("given", A, ridge, np.asarray(b, dtype=np.float64), start, drawn.sketch, drawn.form,
                  drawn.local_steps, drawn.gamma, drawn.K, given_L=np.asarray(L, dtype=np.float64))
        e = evaluate_point(lemma, p)
        s.record(p, e)
        if e.status == "fails":  # certified on the given L_i themselves (their float64 entries, exactly)
            cx = certify(lemma, _exactly(p))
            if cx is not None:
                break
            s.uncertified += 1
    return s.result(cx, None)
