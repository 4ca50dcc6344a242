"""Hypothesis strategies for property tests of IST theory: problems, sketches, step sizes, lemma instances.

::

    from hypothesis import given, strategies as st
    from isttheory.testing import problems, sketches, step_sizes

    @given(st.data())
    def test_one_local_step_is_form_2(data):
        p = data.draw(problems(n=(1, 3), d=lambda n: [n, 2 * n]))
        sk = data.draw(sketches(p.n, p.d, families=["perm"]))
        ...

Strategies (each validates its arguments when called, before any example is drawn):

* :func:`problems` — :class:`~isttheory.problem.QuadraticProblem` instances of the lemma search's families
  (``heterogeneous``, ``homogeneous``, ``interpolation``, ``random``: :data:`isttheory.lemmas.space.FAMILIES`);
* :func:`sketches` — sketches of every registered family valid for a given ``(n, d)``, named by family or CLI
  spec (``perm``, ``rand:Q``, ``perm-groups``, ...);
* :func:`step_sizes` — step sizes ``γ``, absolute or relative to ``1/λ_max(L̄)``;
* :func:`lemma_instances` — points of a lemma's ``[space]``, for :func:`isttheory.lemmas.evaluate_point`;
* :func:`dyadics` — the small dyadic numbers the others draw entries from.

**What "shrinks well" means.** Every instance is built from Hypothesis primitives — sizes, integers,
dyadic entries — never from a drawn random seed, so when a property fails Hypothesis can simplify each
part of the instance separately, and it reports the simplest failing one it reaches:

* sizes shrink to the smallest allowed ``n``, then the smallest ``d`` (``n`` is drawn first);
* entries shrink to 0, else to ±1, ±2, then to halves, quarters, ... (the factor ``A_i = 0``, ``b_i = 0``,
  ``x⁰ = 0``), ridges to 1, so the simplest problem is ``L_i = I``, ``b_i = 0``;
* a rank shrinks to 1, a horizon ``K`` to its lower end, a choice among names (families, sketches, forms)
  to the first one listed (every family draws the same numbers, so none is simpler for being smaller);
* step sizes and scales shrink to powers of two, the one nearest 1 first (``γ = 1``, then ``1/2``, ...).

An entry ``k/2^j`` with few bits makes ``A_iA_iᵀ`` exact in float64, so a shrunk counterexample prints as
short numbers and reproduces exactly. Problems print (in a falsifying example) as the constructor call
``QuadraticProblem(L=array(...), b=array(...))``.

This module imports Hypothesis; nothing else in :mod:`isttheory` imports it, so the CLI does not need
Hypothesis (install the ``test`` extra to use it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeAlias

import numpy as np
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from .errors import (
    IncompatibleSketchError,
    LemmaError,
    ParameterError,
    SketchError,
    SketchSpecError,
)
from .lemmas.lemma import Lemma
from .lemmas.points import Point
from .lemmas.space import FAMILIES, Choice, Range, Space
from .problem import QuadraticProblem
from .sketches import FiniteSketch, PermGroups
from .sketches.base import Sketch, registered_families
from .sketches.spec import check_sketch_spec, parse_sketch

__all__ = ["FAMILIES", "FINITE_OUTCOMES", "dyadics", "lemma_instances", "problems", "sketch_families", "sketches",
           "step_sizes"]

Size: TypeAlias = int | range | tuple[int, int] | list[int] | SearchStrategy[int]
"""A size: an ``int``, a ``range``, an inclusive ``(lo, hi)`` tuple, a list of choices, or a strategy."""
DSize: TypeAlias = Size | Callable[[int], Size]
"""A dimension: a :data:`Size`, or a function of ``n`` returning one (``lambda n: [n, 2 * n]``)."""
Scale: TypeAlias = float | tuple[float, float] | SearchStrategy[float]

SMALL_RIDGE = 2.0**-6
"""The ``random`` family's small ridge (the lemma space uses ``1e-2``; a power of two keeps entries dyadic)."""


# ------------------------------------------------------------------------------------------ numbers
def _dyadic_values(low: float, high: float, bits: int) -> list[float]:
    """Every ``k/2^j`` in ``[low, high]`` with ``0 ≤ j ≤ bits``, simplest first: fewer bits, then smaller ``|k|``,
    then positive (0, 1, −1, 2, −2, 1/2, −1/2, 3/2, ...)."""
    out: list[float] = []
    for j in range(bits + 1):
        m = math.floor(math.ldexp(max(abs(low), abs(high)), j))
        for k in range(0, m + 1):
            for v in ((k,) if k == 0 else (k, -k)):
                x = math.ldexp(v, -j)
                if low <= x <= high and (j == 0 or v % 2):  # an even k has fewer bits: listed already
                    out.append(x)
    return out


def dyadics(bound: float = 2.0, bits: int = 3) -> SearchStrategy[float]:
    """Numbers ``k/2^j`` in ``[−bound, bound]`` with ``0 ≤ j ≤ bits``; shrink to integers, then to 0.

    One draw per number (a choice from a list ordered simplest first), so long vectors of them stay cheap.

    >>> from hypothesis import find
    >>> find(dyadics(), lambda x: x > 0.3)
    1.0
    """
    bound = _check_positive(bound, "dyadics bound")
    _check_bits(bits)
    if math.ldexp(bound, bits) > 50_000:
        raise ParameterError(f"dyadics(bound={bound:g}, bits={bits}) would list {math.ldexp(bound, bits + 1):.0f} "
                             "numbers; ask for fewer (bound * 2**bits <= 50000)")
    return st.sampled_from(_dyadic_values(-bound, bound, bits))


def _positive_dyadics(high: float, bits: int) -> SearchStrategy[float]:
    """Numbers ``k/2^j`` in ``(0, high]``; shrink to 1 (then 2, 1/2, 3/2, ...)."""
    return st.sampled_from([v for v in _dyadic_values(0.0, high, bits) if v > 0])


def _powers_of_two(low: float, high: float, bits: int, even: bool = False) -> SearchStrategy[float]:
    """``2^e (1 + i/2^bits)`` in ``[low, high]``, drawn mantissa ``i`` first, then ``e`` (nearest 0 first), so
    values shrink to powers of two, the one nearest 1 first (only even ``e`` when ``even`` and some lies in
    the range). Ranges holding no power of two fall back to :func:`hypothesis.strategies.floats`."""
    exps = [e for e in range(math.ceil(math.log2(low)), math.floor(math.log2(high)) + 1)
            if low <= math.ldexp(1.0, e) <= high]
    if even and any(e % 2 == 0 for e in exps):
        exps = [e for e in exps if e % 2 == 0]
    if not exps:
        return st.floats(low, high)
    exps.sort(key=lambda e: (abs(e), -e))

    def value(i: int, e: int) -> float:
        return math.ldexp(1.0 + math.ldexp(i, -bits), e)

    @st.composite
    def draw_power(draw: st.DrawFn) -> float:
        i = draw(st.integers(0, (1 << bits) - 1))
        fits = [e for e in exps if low <= value(i, e) <= high]
        if not fits:  # this mantissa fits no exponent of a narrow range: the power of two does
            i, fits = 0, exps
        return value(i, draw(st.sampled_from(fits)))

    return draw_power()


# ------------------------------------------------------------------------------------------ sizes
def _size(spec: Any, what: str) -> SearchStrategy[int]:
    """A strategy of positive sizes from an int, range, (lo, hi), list or strategy (validated now)."""
    if isinstance(spec, SearchStrategy):
        return spec.map(lambda v: _positive_int(v, what))
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        return st.just(_positive_int(spec, what))
    if isinstance(spec, range):
        if len(spec) == 0:
            raise ParameterError(f"{what} range {spec!r} is empty")
        return st.sampled_from([_positive_int(v, what) for v in spec])
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise ParameterError(f"{what} as a tuple is an inclusive range (lo, hi); got {spec!r}")
        lo, hi = (_positive_int(v, what) for v in spec)
        if lo > hi:
            raise ParameterError(f"{what} range ({lo}, {hi}) is empty")
        return st.integers(lo, hi)
    if isinstance(spec, list):
        if not spec:
            raise ParameterError(f"{what} list of choices is empty")
        return st.sampled_from([_positive_int(v, what) for v in spec])
    raise ParameterError(f"{what} must be a positive integer, a range, (lo, hi), a list or a strategy; got {spec!r}")


def _positive_int(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ParameterError(f"{what} must be a positive integer; got {v!r}")
    return int(v)


def _check_positive(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not (math.isfinite(v) and v > 0):
        raise ParameterError(f"{what} must be a finite positive number; got {v!r}")
    return float(v)


def _check_bits(bits: Any) -> None:
    if isinstance(bits, bool) or not isinstance(bits, int) or not 0 <= bits <= 10:
        raise ParameterError(f"bits must be an integer in 0..10; got {bits!r}")


def _range(lo: Any, hi: Any, what: str) -> tuple[float, float]:
    lo, hi = _check_positive(lo, f"{what} lower end"), _check_positive(hi, f"{what} upper end")
    if lo > hi:
        raise ParameterError(f"{what} range [{lo:g}, {hi:g}] is empty")
    return lo, hi


def _scale(spec: Any) -> SearchStrategy[float]:
    if isinstance(spec, SearchStrategy):
        return spec.map(lambda v: _check_positive(v, "scale"))
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise ParameterError(f"scale as a tuple is an inclusive range (lo, hi); got {spec!r}")
        return _powers_of_two(*_range(spec[0], spec[1], "scale"), bits=0, even=True)
    return st.just(_check_positive(spec, "scale"))


# ------------------------------------------------------------------------------------------ problems
def _families(family: Any) -> tuple[str, ...]:
    names = (family,) if isinstance(family, str) else tuple(family) if isinstance(family, (list, tuple)) else None
    if not names:
        raise ParameterError(f"family must be one of {', '.join(FAMILIES)} or a non-empty list of them; "
                             f"got {family!r}")
    bad = [f for f in names if f not in FAMILIES]
    if bad:
        raise ParameterError(f"unknown problem family {bad[0]!r}; the families are {', '.join(FAMILIES)}")
    return names


def _matrix(draw: st.DrawFn, entries: SearchStrategy[float], shape: tuple[int, ...]) -> np.ndarray:
    size = math.prod(shape)
    return np.array(draw(st.lists(entries, min_size=size, max_size=size)), dtype=np.float64).reshape(shape)


def _family_data(draw: st.DrawFn, family: str, n: int, d: int, entries: SearchStrategy[float],
                 ridges: SearchStrategy[float], positive_definite: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Factors ``A`` (n, d, d), ridges ``ρ`` (n,) and ``b`` (n, d) of one problem of ``family``.

    The families' structure is the lemma space's (:mod:`isttheory.lemmas.space`): ``homogeneous`` has one
    ``(A, ρ, b)`` for every client, ``interpolation`` has ``b = 0``, ``heterogeneous`` independent clients,
    ``random`` a random rank ``r_i`` of each factor (columns beyond it zero) plus the small ridge.

    Every family draws the same numbers (per client a rank, ``d²`` entries and a ridge, then ``n·d`` entries
    of ``b``) and uses what it needs: Hypothesis ranks shorter draws as simpler, so equal lengths make the
    family order (first listed is simplest) and the entries, not the family's size, decide the shrinking."""
    A = np.zeros((n, d, d))
    ridge = np.zeros(n)
    for i in range(n):
        r = draw(st.integers(1, d))
        A[i] = _matrix(draw, entries, (d, d))
        ridge[i] = draw(ridges)
        if family == "random":
            A[i, :, r:] = 0.0
            # the space's rule is a ridge only for r < d; a drawn full-rank factor may be singular (zeros are
            # the shrinker's favourite), so positive definite problems always get it
            ridge[i] = SMALL_RIDGE if (r < d or positive_definite) else 0.0
    b = _matrix(draw, entries, (n, d))
    if family == "homogeneous":
        A[:], ridge[:], b[:] = A[0], ridge[0], b[0]
    elif family == "interpolation":
        b[:] = 0.0
    return A, ridge, b


def _scaled(A: np.ndarray, ridge: np.ndarray, b: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``scale`` as in the lemma space: ``L_i ↦ s L_i``, ``b_i ↦ √s b_i``."""
    r = math.sqrt(s)
    return A * r, ridge * s, b * r


def problems(n: Size = (1, 4), d: DSize = (1, 4), family: str | Sequence[str] = FAMILIES, scale: Scale = 1.0, *,
             entries: SearchStrategy[float] | None = None,
             positive_definite: bool = True) -> SearchStrategy[QuadraticProblem]:
    """Quadratic problems (12), ``L_i = A_iA_iᵀ + ρ_iI`` (PSD by construction) and ``b_i``.

    ``n`` and ``d`` take an ``int``, a ``range``, an inclusive ``(lo, hi)`` tuple, a list of choices or a
    strategy; ``d`` may also be a function of ``n`` returning one of these (``d=lambda n: [n, 2 * n]`` for
    Perm-q shapes). ``family`` is a name or a list of names from the lemma search's vocabulary,
    :data:`isttheory.lemmas.space.FAMILIES`:

    * ``heterogeneous``: every client its own factor, ridge and ``b_i``;
    * ``homogeneous``: one ``L`` and one ``b`` for every client (``is_homogeneous``);
    * ``interpolation``: independent clients with every ``b_i = 0`` (``x* = 0``);
    * ``random``: each factor of a random rank ``r_i ∈ 1..d`` (rank-deficient ones included) plus the small
      ridge :data:`SMALL_RIDGE`.

    ``scale`` (a number, an inclusive ``(lo, hi)`` range, or a strategy) multiplies every ``L_i`` by ``s`` and
    ``b_i`` by ``√s``, as the lemma space does. A range is drawn as the *powers of 4* inside it (so ``√s`` and
    every entry stay dyadic): ``(1, 100)`` gives 1, 4, 16, 64 and ``(0.5, 3)`` only 1; a range holding no
    power of 4 falls back to powers of 2, then to floats. Pass a strategy for other values. Entries of ``A_i``
    and ``b_i`` come from ``entries`` (default :func:`dyadics`; any strategy of finite floats), ridges ``ρ_i``
    are positive dyadics ``≥ 1/8`` shrinking to 1.
    With ``positive_definite=False`` a ridge may be 0, so ``L_i`` (and ``L̄``) may be singular.

    Shrinking (see the module docstring): smallest ``n``, then ``d``, the first family listed, ``A_i = 0``,
    ``ρ_i = 1``, ``b_i = 0`` — ``L_i = I``.

    >>> from hypothesis import find
    >>> p = find(problems(n=(1, 4), d=(1, 4)), lambda p: p.n >= 3)
    >>> (p.n, p.d), p.L[0].tolist(), p.b.tolist()
    ((3, 1), [[1.0]], [[0.0], [0.0], [0.0]])

    Raises :class:`~isttheory.errors.ParameterError` for a bad size, family, scale or ``entries``.
    """
    n_st = _size(n, "n")
    d_of: Callable[[int], SearchStrategy[int]]
    if callable(d) and not isinstance(d, SearchStrategy):
        d_fun = d

        def d_of(k: int) -> SearchStrategy[int]:
            return _size(d_fun(k), f"d (for n = {k})")
    else:
        d_st = _size(d, "d")

        def d_of(k: int) -> SearchStrategy[int]:
            return d_st
    names = _families(family)
    s_st = _scale(scale)
    if entries is None:
        entries = dyadics()
    elif not isinstance(entries, SearchStrategy):
        raise ParameterError(f"entries must be a Hypothesis strategy of floats; got {entries!r}")
    if not isinstance(positive_definite, bool):
        raise ParameterError(f"positive_definite must be True or False; got {positive_definite!r}")
    ridges = _positive_dyadics(2.0, 3)
    if not positive_definite:
        ridges = st.just(0.0) | ridges
    entry_st = entries

    @st.composite
    def draw_problem(draw: st.DrawFn) -> QuadraticProblem:
        nn = draw(n_st)
        dd = draw(d_of(nn))
        fam = draw(st.sampled_from(names))
        s = draw(s_st)
        A, ridge, b = _scaled(*_family_data(draw, fam, nn, dd, entry_st, ridges, positive_definite), s)
        point = Point(fam, A, ridge, b, np.zeros(dd), "identity")  # L_i = A_iA_iᵀ + ρ_iI has one home
        return draw(st.builds(QuadraticProblem, L=st.just(point.float_L()), b=st.just(b)))

    return draw_problem()


# ------------------------------------------------------------------------------------------ sketches
def sketch_families() -> tuple[str, ...]:
    """The families :func:`sketches` draws by default: every registered family
    (:func:`isttheory.sketches.registered_families`, read at each call, so a family is drawn as soon as it is
    registered), in registration order. Those not valid for the sizes are left out of a draw (``precond-perm``
    without ``problem=``, for one)."""
    return tuple(registered_families())


FINITE_OUTCOMES = 3
"""The most outcomes of a drawn ``finite`` sketch."""

_FINITE_DIAGONAL = (1.0, 0.0, 2.0, 0.5)
"""The diagonal entries of a drawn ``finite`` sketch's ``C_i``, simplest first (so ``C_i = I``)."""


@dataclass(frozen=True)
class _Numbers:
    """What a drawn sketch is built from. Every family of one strategy draws all of it (the parts some listed
    family uses) and uses what it needs, so no family is simpler for drawing less (see :func:`_family_data`)."""

    q: int
    """``1..d``: ``Q`` of ``rand``, the number of groups per client of ``perm-groups``, an example's index."""
    order: tuple[int, ...] = ()
    """A permutation of ``0..d−1`` (``perm-groups``); shrinks to the identity."""
    labels: tuple[int, ...] = ()
    """``d`` labels in ``0..d−1``: the group of each coordinate past the first ``g`` (``perm-groups``)."""
    outcomes: int = 1
    """How many of the :data:`FINITE_OUTCOMES` outcomes a ``finite`` sketch has."""
    weights: tuple[int, ...] = ()
    """Unnormalised probabilities ``1..4`` of the outcomes (``finite``); shrink to equal ones."""
    diagonals: tuple[float, ...] = ()
    """The diagonals of every outcome's ``C_i``, ``FINITE_OUTCOMES·n·d`` entries (``finite``); shrink to 1."""

    @classmethod
    def simplest(cls, n: int, d: int) -> _Numbers:
        """What every part shrinks to: the instance used to check a family is valid for ``(n, d)``."""
        return cls(1, tuple(range(d)), (0,) * d, 1, (1,) * FINITE_OUTCOMES, (1.0,) * (FINITE_OUTCOMES * n * d))


_Maker: TypeAlias = Callable[["_Numbers"], Sketch]
"""Builds one family's sketch from the drawn numbers."""


def _target(n: int, d: int, problem: QuadraticProblem | None) -> dict[str, Any]:
    return {"problem": problem} if problem is not None else {"n": n, "d": d}


def _groups(n: int, d: int, nums: _Numbers) -> list[list[int]]:
    """A partition of ``0..d−1`` into ``g = q·n`` groups, ``q = 1 + (nums.q − 1) mod ⌊d/n⌋``: coordinate
    ``order[k]`` opens group ``k < g``, every later one joins group ``labels[j] mod g``. Shrinks to ``q = 1``,
    ``[[0, n, n+1, …, d−1], [1], …, [n−1]]``."""
    per = d // n
    if per == 0:
        raise IncompatibleSketchError(f"perm-groups needs at least one group per client, so n <= d; got n = {n}, "
                                      f"d = {d}")
    g = n * (1 + (nums.q - 1) % per)
    groups = [[nums.order[k]] for k in range(g)]
    for j in range(g, d):
        groups[nums.labels[j] % g].append(nums.order[j])
    return [sorted(grp) for grp in groups]


def _draw_rand(n: int, d: int, problem: QuadraticProblem | None, nums: _Numbers) -> Sketch:
    return parse_sketch(f"rand:{nums.q}", **_target(n, d, problem))


def _draw_perm_groups(n: int, d: int, problem: QuadraticProblem | None, nums: _Numbers) -> Sketch:
    return PermGroups(n, d, _groups(n, d, nums))


def _draw_finite(n: int, d: int, problem: QuadraticProblem | None, nums: _Numbers) -> Sketch:
    k = nums.outcomes
    w = np.array(nums.weights[:k], dtype=np.float64)
    diag = np.array(nums.diagonals[: k * n * d], dtype=np.float64).reshape(k, n, d)
    table = np.zeros((k, n, d, d))
    table[..., np.arange(d), np.arange(d)] = diag
    return FiniteSketch(w / w.sum(), table)


_DRAWN_PARAMETERS: dict[str, Callable[[int, int, QuadraticProblem | None, _Numbers], Sketch]] = {
    "rand": _draw_rand, "perm-groups": _draw_perm_groups, "finite": _draw_finite}
"""How a bare family name whose spec needs a parameter is drawn: ``rand`` draws ``Q``, ``perm-groups`` its
groups (:func:`_groups`), ``finite`` a distribution of diagonal ``C_i``. Any other family needing a parameter is
drawn from its :meth:`~isttheory.sketches.base.Sketch.examples`."""


def _example(family: str, index: int, problem: QuadraticProblem | None = None, n: int = 0, d: int = 0) -> Sketch:
    """Example ``index`` (mod their number) of ``family`` for the problem or the sizes."""
    cls = registered_families()[family]
    found = cls.examples(problem if problem is not None else (n, d))
    if not found:
        raise IncompatibleSketchError(f"{family} needs a parameter and has no example for n = {n}, d = {d}")
    return found[index % len(found)][0]


def _maker(spec: str, n: int, d: int, problem: QuadraticProblem | None) -> _Maker:
    """How the strategy builds ``spec`` from drawn numbers. Unknown names and bad parameters raise
    :class:`~isttheory.errors.SketchSpecError` here."""
    name, sep, _ = spec.strip().partition(":")
    families = registered_families()
    if name in families and not sep:
        if name in _DRAWN_PARAMETERS:
            return partial(_DRAWN_PARAMETERS[name], n, d, problem)
        try:
            families[name].check_param(None, spec)
        except SketchSpecError:  # a parameter the strategy cannot draw: the family's own examples
            return lambda nums: _example(name, nums.q - 1, **_target(n, d, problem))
    check_sketch_spec(spec)
    return lambda nums: parse_sketch(spec, **_target(n, d, problem))


def sketches(n: int, d: int, families: str | Sequence[str] | None = None, *,
             problem: QuadraticProblem | None = None) -> SearchStrategy[Sketch]:
    """Sketches for ``n`` clients in dimension ``d`` of the registered families
    (:func:`isttheory.sketches.registered_families`).

    ``families`` are family names or CLI spec strings (``isttheory`` ``--sketch``). A spec with a parameter
    (``rand:3``, ``scaled-perm:S``, ``precond-perm:printed``, ``perm-groups:FILE``, ``finite:PATH``) is built by
    :func:`isttheory.sketches.parse_sketch`. A bare name is drawn: ``rand`` draws ``Q`` in ``1..d`` (shrinking to
    1); ``perm-groups`` a partition of ``0..d−1`` into ``q·n`` groups (no file: :func:`_groups`; it needs
    ``n ≤ d``); ``finite`` up to :data:`FINITE_OUTCOMES` outcomes of diagonal ``C_i`` with entries in
    ``{0, 1/2, 1, 2}`` (shrinking to one outcome, ``C_i = I``); ``precond-perm`` needs ``problem=``; any other
    family is its parameterless spec, or, if it needs a parameter, one of its
    :meth:`~isttheory.sketches.base.Sketch.examples`. Default: :func:`sketch_families`, every registered family.

    Only the families valid for ``(n, d)`` are drawn (Perm-q needs ``d = q·n``, ``perm-clients``
    ``n = q·d``, ``precond-perm`` ``n = d`` and positive diagonals, ``rand:Q`` ``Q ≤ d``); the strategy
    shrinks to the first valid family listed (every family draws the same numbers).

    >>> from hypothesis import find
    >>> find(sketches(2, 4, ["perm-clients", "rand", "perm"]), lambda s: True)
    RandQ(spec='rand:1', n=2, d=4)

    Raises :class:`~isttheory.errors.SketchSpecError` for an unknown spec,
    :class:`~isttheory.errors.IncompatibleSketchError` when no family listed is valid for ``(n, d)``
    (naming why each is not), :class:`~isttheory.errors.ParameterError` for bad ``n``, ``d`` or a
    ``problem`` of another shape.
    """
    n, d = _positive_int(n, "n"), _positive_int(d, "d")
    if problem is not None:
        if not isinstance(problem, QuadraticProblem):
            raise ParameterError(f"problem must be a QuadraticProblem; got {type(problem).__name__}")
        if (problem.n, problem.d) != (n, d):
            raise ParameterError(f"problem has n = {problem.n}, d = {problem.d}; the sketches are for n = {n}, d = {d}")
    if families is None:
        names = sketch_families()
    elif isinstance(families, str):
        names = (families,)
    elif isinstance(families, (list, tuple)) and families:
        names = tuple(families)
    else:
        raise SketchSpecError(f"families must be a sketch spec or a non-empty list of them; got {families!r}")

    valid: list[tuple[str, _Maker]] = []
    why: list[str] = []
    simplest = _Numbers.simplest(n, d)
    for spec in names:
        if not isinstance(spec, str):
            raise SketchSpecError(f"a sketch spec is a string; got {spec!r}")
        make = _maker(spec, n, d, problem)  # unknown names raise here
        if families is not None and spec.partition(":")[0] == "precond-perm" and problem is None:
            raise IncompatibleSketchError(f"{spec} is built from a problem's diagonals: pass problem=")
        try:
            make(simplest)
        except SketchError as exc:  # the family does not admit these sizes (or a finite file is for others)
            why.append(f"{spec}: {exc}")
            continue
        valid.append((spec, make))
    if not valid:
        raise IncompatibleSketchError(f"no sketch family listed is valid for n = {n}, d = {d} ({'; '.join(why)})")
    drawn = {spec.strip() for spec, _ in valid}
    groups, finite = "perm-groups" in drawn, "finite" in drawn
    cells = FINITE_OUTCOMES * n * d

    @st.composite
    def draw_sketch(draw: st.DrawFn) -> Sketch:
        make = draw(st.sampled_from([m for _, m in valid]))
        q = draw(st.integers(1, d))
        nums = _Numbers(q)
        if groups:
            nums = replace(nums, order=tuple(draw(st.permutations(range(d)))),
                           labels=tuple(draw(st.lists(st.integers(0, d - 1), min_size=d, max_size=d))))
        if finite:
            nums = replace(nums, outcomes=draw(st.integers(1, FINITE_OUTCOMES)),
                           weights=tuple(draw(st.lists(st.integers(1, 4), min_size=FINITE_OUTCOMES,
                                                       max_size=FINITE_OUTCOMES))),
                           diagonals=tuple(draw(st.lists(st.sampled_from(_FINITE_DIAGONAL), min_size=cells,
                                                         max_size=cells))))
        return make(nums)

    return draw_sketch()


# ------------------------------------------------------------------------------------------ step sizes
def step_sizes(problem: QuadraticProblem | None = None, *, low: float = 2.0**-10, high: float = 1.0,
               bits: int = 2) -> SearchStrategy[float]:
    """Step sizes ``γ = c`` (or ``γ = c/λ_max(L̄)`` when ``problem`` is given) with ``c ∈ [low, high]``.

    ``c = 2^e (1 + i/2^bits)`` is dyadic: it shrinks to the power of two nearest 1 within the range
    (``γ = 1``, or ``1/λ_max``, by default) and then to smaller powers ``1/2^k``.

    >>> from hypothesis import find
    >>> find(step_sizes(), lambda g: g < 0.3)
    0.25

    Raises :class:`~isttheory.errors.ParameterError` for a bad range, ``bits`` or a problem with
    ``λ_max(L̄) = 0``.
    """
    lo, hi = _range(low, high, "step size")
    _check_bits(bits)
    c = _powers_of_two(lo, hi, bits)
    if problem is None:
        return c
    if not isinstance(problem, QuadraticProblem):
        raise ParameterError(f"problem must be a QuadraticProblem; got {type(problem).__name__}")
    lam = float(problem.eigvals_L_bar[-1])
    if not lam > 0:
        raise ParameterError("a step size relative to 1/lambda_max(L_bar) needs lambda_max(L_bar) > 0")
    return c.map(lambda v: v / lam)


# ------------------------------------------------------------------------------------------ lemma instances
def _axis(ax: Any, what: str) -> SearchStrategy[Any]:
    if isinstance(ax, Choice):
        return st.sampled_from(ax.values)
    if isinstance(ax, Range):
        if ax.integer:
            return st.integers(int(ax.lo), int(ax.hi))
        return _powers_of_two(ax.lo, ax.hi, 2, even=what == "scale") if ax.lo > 0 else st.floats(ax.lo, ax.hi)
    raise LemmaError(f"[space] {what} is not a range or a list")


def lemma_instances(lemma: Lemma | Space, *, entries: SearchStrategy[float] | None = None) -> SearchStrategy[Point]:
    """Points of a lemma's ``[space]`` (or of a :class:`~isttheory.lemmas.space.Space`), drawn in the order of
    :meth:`Space.sample <isttheory.lemmas.space.Space.sample>`: ``n``, ``d``, family, sketch, form, local steps,
    ``γ``, ``K``, scale, then the problem (as in :func:`problems`) and ``x⁰``.

    Every point lies in the space (``space.allows(point)``); evaluate it with
    :func:`isttheory.lemmas.evaluate_point`. ``γ`` and the scale are dyadic (powers of two nearest 1 first),
    integer axes shrink to their lower end, lists to their first value. The space's ``heterogeneity`` and
    ``cond`` shape only the search's seeded generators and are not used here.

    >>> from hypothesis import find
    >>> from isttheory.lemmas import evaluate_point, paper_lemmas
    >>> lemma = next(m for m in paper_lemmas() if m.id == "eq17-printed")
    >>> p = find(lemma_instances(lemma), lambda p: evaluate_point(lemma, p).status == "fails")
    >>> p.n, p.d, p.family
    (2, 2, 'heterogeneous')

    Raises :class:`~isttheory.errors.LemmaError` when given neither a lemma nor a space,
    :class:`~isttheory.errors.ParameterError` for bad ``entries``.
    """
    space = lemma if isinstance(lemma, Space) else getattr(lemma, "space", None)
    if not isinstance(space, Space):
        raise LemmaError(f"lemma_instances needs a Lemma or a Space; got {type(lemma).__name__}")
    if entries is None:
        entries = dyadics()
    elif not isinstance(entries, SearchStrategy):
        raise ParameterError(f"entries must be a Hypothesis strategy of floats; got {entries!r}")
    sp = space
    entry_st = entries
    n_st = _axis(sp.n, "n")
    d_st = None if not isinstance(sp.d, (Range, Choice)) else _axis(sp.d, "d")
    family_st, sketch_st, form_st = (_axis(sp.problem, "problem"), _axis(sp.sketch, "sketch"),
                                     _axis(sp.form, "form"))
    t_st, gamma_st, K_st, scale_st = (_axis(sp.local_steps, "local_steps"), _axis(sp.gamma, "gamma"),
                                      _axis(sp.K, "K"), _axis(sp.scale, "scale"))
    ridges = _positive_dyadics(2.0, 3)

    @st.composite
    def draw_point(draw: st.DrawFn) -> Point:
        n = int(draw(n_st))
        d = sp.d_for(n) if d_st is None else int(draw(d_st))
        if d is None:  # Space.from_dict refuses such spaces; a Space built by hand may still have one
            raise LemmaError(f"[space] d is not a positive integer for n = {n}")
        family = str(draw(family_st))
        sketch = str(draw(sketch_st))
        form = str(draw(form_st))
        t = int(draw(t_st)) if form == "ist" else 1
        gamma = float(draw(gamma_st))
        K = int(draw(K_st))
        s = float(draw(scale_st))
        A, ridge, b = _scaled(*_family_data(draw, family, n, d, entry_st, ridges, True), s)
        x0 = _matrix(draw, entry_st, (d,)) if sp.x0 == "random" else np.ones(d)
        return Point(family, A, ridge, b, x0, sketch, form, t, gamma, K)

    return draw_point()
