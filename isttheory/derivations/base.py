"""Checked derivations: a derivation is a list of checked steps, each with its reach.

A step is of one of three kinds, and says so everywhere it is shown:

- *general* (G): symbolic, valid for every value of its symbols allowed by their
  assumptions — symbolic n, q, d, γ, matrix expressions of symbolic size
  (non-commuting symbols, ``MatrixSymbol``), or entries of a matrix whose size
  the claim itself fixes (Remark 1's 2×2 matrix);
- *fixed-size* (F): symbolic, but only at the stated sizes (``at(n=3, d=2)``);
- *numeric* (N): a certificate on concrete instances — exact (rational
  arithmetic or enumeration, ``exact=True``) or in floating point.

A step is also *decisive* (the claim rests on it), *evidence* (trends, Monte
Carlo agreement: shown, must hold, but never counted as support), a
*refutation* (a counterexample to the paper's printed version) or a *witness*
(an instance showing that something exists, e.g. "one step can move away from
x*": one exact instance proves an existence claim, a float one does not). A
derivation's strength follows from its weakest supporting step: PROVED when
every decisive step is general and every witness general or exact, CHECKED
otherwise (:attr:`Derivation.strength`). A refutation is
certified when its step is general or an exact certificate. A bound stated
with a constant looser than the sharp one holds with verdict ``loose``
(:meth:`Derivation.bound`), never ``disproved``.

A derivation is parametrised by the constants of the claim it checks, so a
mutation test can change one constant and watch a step fail.

A failed symbolic step carries a verdict: ``disproved`` (SymPy decides it is
false, or an exact witness point respecting the symbols' assumptions refutes
it) or ``undecided`` (SymPy can neither prove nor refute it). Undecided is not
proved, so it fails the derivation; mutation tests ask for ``disproved``
(:meth:`Derivation.failing`) so that a mutation cannot pass on SymPy's
weakness alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar

import numpy as np
import sympy as sp

if TYPE_CHECKING:
    from ..lemmas.points import Point
    from ..sketches.base import DiagonalSketch
    from ..symbolic.engine import Contraction

Kind = Literal["general", "fixed-size", "numeric"]
Role = Literal["decisive", "evidence", "refutation", "witness"]
Strength = Literal["PROVED", "CHECKED", "FAILS"]
#: ``holds``: the step holds (at its reach); ``loose``: a bound holds but with a constant looser than the sharp
#: one; ``disproved``: SymPy decides it false or a witness (a point respecting the symbols' assumptions) refutes
#: it; ``undecided``: SymPy can neither prove nor refute it (not shown); ``failed``: a numeric certificate or a
#: hand-built step that does not hold. (A step's outcome, not a claim's: the claim verdicts are
#: :class:`isttheory.claims.registry.Verdict`, and :func:`isttheory.claims.proofs.derivation_finding` maps one
#: to the other: a ``disproved`` or ``failed`` step makes the claim REFUTED, an ``undecided`` one INCONCLUSIVE.)
StepOutcome = Literal["holds", "loose", "disproved", "undecided", "failed"]
_T = TypeVar("_T")


@dataclass(frozen=True)
class Reach:
    """Where a symbolic step is valid: everywhere (``GENERAL``) or at the stated sizes (:func:`at`)."""

    sizes: tuple[tuple[str, str], ...] = ()

    @property
    def general(self) -> bool:
        return not self.sizes

    def __str__(self) -> str:
        return "general" if self.general else ", ".join(f"{k}{'' if k.endswith('∈') else '='}{v}"
                                                        for k, v in self.sizes)


GENERAL = Reach()
#: a symbolic step whose author did not state its reach counts as fixed-size (never as general)
UNSTATED = Reach((("sizes", "unstated"),))


def at(**sizes: int | tuple[int, ...] | str) -> Reach:
    """A fixed-size reach: ``at(n=3, d=2)``; a tuple means the step was checked at each of those sizes
    (``at(n=(2, 3, 4))`` prints ``n∈{2,3,4}``)."""
    if not sizes:
        raise ValueError("at() needs the sizes the step was checked at")

    def show(v: int | tuple[int, ...] | str) -> str:
        return "{" + ",".join(map(str, v)) + "}" if isinstance(v, tuple) else str(v)

    return Reach(tuple((k if not isinstance(v, tuple) else f"{k}∈", show(v)) for k, v in sizes.items()))


class ProofFailure(AssertionError):
    """A step of a derivation does not hold."""


@dataclass(frozen=True)
class Step:
    """One checked step: what it states, which equation, how it was checked, and whether it holds."""

    name: str
    equation: str
    kind: Kind
    holds: bool
    detail: str = ""
    verdict: StepOutcome | None = None  # filled from ``holds`` when not given ("holds" / "failed")
    sizes: str = ""  # fixed-size steps: the sizes (``n=3, d=2``)
    exact: bool = False  # numeric steps: exact arithmetic (rationals, enumeration) rather than floats
    role: Role = "decisive"

    def __post_init__(self) -> None:
        if self.verdict is None:
            object.__setattr__(self, "verdict", "holds" if self.holds else "failed")
        if self.kind not in ("general", "fixed-size", "numeric"):
            raise ValueError(f"step kind {self.kind!r}: use general, fixed-size or numeric")

    @property
    def reach(self) -> str:
        """``general``, ``fixed n=3, d=2``, ``numeric exact`` or ``numeric float``."""
        if self.kind == "fixed-size":
            return f"fixed {self.sizes}"
        return "numeric " + ("exact" if self.exact else "float") if self.kind == "numeric" else "general"

    @property
    def certifies_refutation(self) -> bool:
        """A counterexample or witness shown for every value (general) or certified in exact arithmetic."""
        return self.kind == "general" or (self.kind == "numeric" and self.exact)


def _symbolic_step(name: str, equation: str, ok: bool, detail: str, verdict: StepOutcome, reach: Reach | None,
                   role: Role) -> Step:
    r = UNSTATED if reach is None else reach
    return Step(name, equation, "general" if r.general else "fixed-size", ok, detail, verdict,
                sizes="" if r.general else str(r), role=role)


@dataclass
class Derivation:
    """The steps of one claim's proof; ``constants`` are the values it was run with."""

    claim: str
    equations: tuple[str, ...]
    steps: list[Step] = field(default_factory=list)
    constants: dict[str, object] = field(default_factory=dict)
    latex: dict[str, str] = field(default_factory=dict)
    premises: list[str] = field(default_factory=list)
    """Facts the steps take as given (a definition written out by hand, a cited theorem): PROVED means
    every decisive step is general *given* these, and every finding and table lists them."""

    def premise(self, text: str) -> None:
        """State a fact the steps take as given without checking it for every size (e.g. "B̄ = n·Diag(v) on
        every draw, from the definition of Perm-1" or "the spectral theorem")."""
        self.premises.append(text)

    def symbolic(self, name: str, equation: str, expr: sp.Expr | sp.MatrixBase, detail: str = "", *,
                 reach: Reach | None = None, role: Role = "decisive") -> bool:
        """Record that ``expr`` simplifies to zero (scalar or matrix), valid at ``reach`` (``GENERAL`` or
        ``at(n=3)``; unstated counts as fixed-size).

        A residual SymPy does not reduce to 0 fails the step; the detail says whether a witness point
        (exact values respecting the symbols' assumptions) shows it is non-zero (``disproved``) or not
        (``undecided``)."""
        if is_zero(expr):
            self.steps.append(_symbolic_step(name, equation, True, detail or "= 0", "holds", reach, role))
            return True
        point = _nonzero_witness(expr)
        verdict: StepOutcome = "disproved" if point is not None else "undecided"
        why = ("undecided: SymPy does not reduce it to 0 and no witness was found" if point is None
               else f"disproved: ≠ 0 at {_short(point)}" if point else "disproved: a non-zero constant")
        self.steps.append(_symbolic_step(name, equation, False, f"{why}; residual {_short(expr)}"
                                         + (f" ({detail})" if detail else ""), verdict, reach, role))
        return False

    def symbolic_true(self, name: str, equation: str, statement: sp.Basic, detail: str = "", *,
                      reach: Reach | None = None, role: Role = "decisive") -> bool:
        """Record a relational statement, read as holding for every value of its free symbols allowed by
        their assumptions. It holds only if ``sp.simplify`` gives ``True``; otherwise the step fails and
        its verdict (also at the start of the failure detail) is ``disproved`` (SymPy gives ``False`` or a
        counterexample point is found) or ``undecided`` (neither: still not shown)."""
        verdict, why = _decide(statement)
        ok = verdict == "holds"
        text = detail or str(statement)
        self.steps.append(_symbolic_step(name, equation, ok, text if ok else f"{why}: {text}", verdict, reach,
                                         role))
        return ok

    def symbolic_false(self, name: str, equation: str, statement: sp.Basic, detail: str = "", *,
                       reach: Reach | None = None, role: Role = "refutation") -> bool:
        """Record a refutation: the step holds iff ``statement`` is *disproved* (SymPy gives ``False`` or a
        counterexample point respecting the assumptions exists), i.e. it does not hold for all values."""
        verdict, why = _decide(statement)
        ok = verdict == "disproved"
        text = detail or str(statement)
        out: StepOutcome = "holds" if ok else ("disproved" if verdict == "holds" else "undecided")
        why = (f"refuted ({why.removeprefix('disproved: ')})" if ok
               else "disproved: the statement holds" if verdict == "holds" else why)
        self.steps.append(_symbolic_step(name, equation, ok, f"{why}: {text}", out, reach, role))
        return ok

    def numeric(self, name: str, equation: str, ok: bool, detail: str, *, exact: bool = False,
                role: Role = "decisive") -> bool:
        """Record a certificate on concrete instances: ``exact`` for rational arithmetic or enumeration,
        otherwise floating point (eigenvalues, SDP, simulation)."""
        self.steps.append(Step(name, equation, "numeric", bool(ok), detail, exact=exact, role=role))
        return bool(ok)

    def bound(self, name: str, equation: str, stated: sp.Expr, sharp: sp.Expr, *, valid_if: str = ">=",
              reach: Reach | None = None, role: Role = "decisive") -> bool:
        """Record a stated constant against the sharp one. ``valid_if=">="`` (an upper bound: any constant
        at least the sharp one is valid) or ``"<="`` (a lower bound, e.g. a step size). Equal: ``holds``;
        valid but not sharp: holds with verdict ``loose`` (the sharp constant in the detail); invalid:
        ``disproved``. The comparison must be decided by SymPy for every value of the symbols."""
        rel = sp.Ge if valid_if == ">=" else sp.Le
        if valid_if not in (">=", "<="):
            raise ValueError(f"valid_if {valid_if!r}: use '>=' or '<='")
        if is_zero(sp.sympify(stated) - sharp):
            return self.symbolic(name, equation, sp.sympify(stated) - sharp, f"sharp: {sharp}", reach=reach,
                                 role=role)
        verdict, why = _decide(rel(stated, sharp))
        ok = verdict == "holds"
        out: StepOutcome = "loose" if ok else verdict
        text = (f"loose: {stated} is valid but the sharp constant is {sharp}" if ok
                else f"{why}: {stated} vs the sharp {sharp}")
        self.steps.append(_symbolic_step(name, equation, ok, text, out, reach, role))
        return ok

    def counterexample(self, name: str, equation: str, lemma: str, point: Point,
                       role: Role = "refutation") -> bool:
        """Record a counterexample to the paper lemma file ``isttheory/lemmas/paper/<lemma>.toml`` on the
        instance ``point``, certified by the lemma checker's exact engine
        (:func:`isttheory.lemmas.search.certify`: exact rationals, or mpmath confirmed at twice the
        precision where a square root or an eigenvalue enters). The detail prints the exact margin."""
        from ..lemmas import paper_lemma
        from ..lemmas.search import certify

        cx = certify(paper_lemma(lemma), point)
        if cx is None:
            self.steps.append(Step(name, equation, "numeric", False,
                                   f"{lemma}: not a certified counterexample at {point.describe()}", exact=True,
                                   role=role))
            return False
        self.steps.append(Step(name, equation, "numeric", True,
                               f"{lemma} fails at {point.describe()}: lhs − rhs = {_short(cx.margin, 60)} "
                               f"({cx.certified_by})", exact=True, role=role))
        return True

    @property
    def holds(self) -> bool:
        return bool(self.steps) and all(s.holds for s in self.steps)

    def failed(self) -> list[Step]:
        return [s for s in self.steps if not s.holds]

    def failing(self, fragment: str, verdict: StepOutcome | None = None) -> list[Step]:
        """Failed steps whose name contains ``fragment`` (only those with ``verdict`` if given): mutation
        tests assert ``d.failing(name, "disproved")`` so that an *undecided* step does not count."""
        return [s for s in self.failed() if fragment in s.name and (verdict is None or s.verdict == verdict)]

    def disproved(self) -> list[Step]:
        """Steps shown false (not merely undecided)."""
        return [s for s in self.steps if s.verdict == "disproved"]

    def refuting(self) -> list[Step]:
        """Failed steps that show something false (``disproved`` or ``failed``), not merely ``undecided``."""
        return [s for s in self.failed() if s.verdict != "undecided"]

    def loose(self) -> list[Step]:
        """Bounds that hold with a constant looser than the sharp one."""
        return [s for s in self.steps if s.verdict == "loose"]

    def counts(self) -> dict[Kind, int]:
        """Steps per kind: ``{"general": G, "fixed-size": F, "numeric": N}``."""
        return {k: sum(s.kind == k for s in self.steps) for k in ("general", "fixed-size", "numeric")}

    def gfn(self) -> str:
        """The counts as ``G/F/N``."""
        c = self.counts()
        return f"{c['general']}/{c['fixed-size']}/{c['numeric']}"

    @property
    def strength(self) -> Strength:
        """FAILS when a step fails; PROVED when every decisive step is general, every witness is general or
        exact (an existence claim is proved by one exact instance) and no constant is loose; CHECKED
        otherwise. Evidence and refutation steps do not count."""
        if not self.holds:
            return "FAILS"
        support = [s for s in self.steps if s.role in ("decisive", "witness")]
        return "PROVED" if support and not self.weakest() and not self.loose() else "CHECKED"

    def weakest(self) -> list[Step]:
        """The supporting steps that keep the derivation from PROVED (empty when it is PROVED): decisive
        steps that are not general, witnesses that are neither general nor exact."""
        return [s for s in self.steps if (s.role == "decisive" and s.kind != "general")
                or (s.role == "witness" and not s.certifies_refutation)]

    def refutations(self) -> list[Step]:
        return [s for s in self.steps if s.role == "refutation"]

    @property
    def refutation_certified(self) -> bool | None:
        """``None`` without refutation steps; otherwise whether each is general or exactly certified."""
        refs = self.refutations()
        return None if not refs else all(s.certifies_refutation for s in refs)

    def require(self) -> Derivation:
        """Raise :class:`ProofFailure` naming every failed step."""
        bad = self.failed()
        if bad or not self.steps:
            lines = "; ".join(f"{s.equation} {s.name}: {s.detail}" for s in bad) or "no steps"
            raise ProofFailure(f"{self.claim}: {lines}")
        return self

    def table(self, width: int = 92) -> str:
        """The checked steps as a plain-text table (number, equation, reach, role, verdict, step)."""
        lines = [f"{self.claim} {self.equations}: {self.summary()}, holds = {self.holds}",
                 f"{'#':>2}  {'eq.':<6} {'reach':<18} {'role':<10} {'verdict':<9} step"]
        for i, s in enumerate(self.steps, 1):
            name = s.name if len(s.name) <= width else s.name[: width - 1] + "…"
            reach = s.reach if len(s.reach) <= 18 else s.reach[:17] + "…"
            lines.append(f"{i:>2}  {s.equation:<6} {reach:<18} {s.role:<10} {s.verdict:<9} {name}")
        lines += [f"premise: {p}" for p in self.premises]
        return "\n".join(lines)

    def summary(self) -> str:
        c = self.counts()
        loose = f", {len(self.loose())} loose" if self.loose() else ""
        given = f"; {len(self.premises)} premise(s)" if self.premises else ""
        return (f"{len(self.steps)} steps (G/F/N {self.gfn()}: {c['general']} general, {c['fixed-size']} "
                f"fixed-size, {c['numeric']} numeric{loose}{given}) → {self.strength}")


def is_zero(expr: sp.Expr | sp.MatrixBase) -> bool:
    """``expr`` is identically zero (entrywise for matrices)."""
    if isinstance(expr, sp.MatrixBase):
        return all(is_zero(e) for e in expr)
    e = sp.simplify(sp.expand(expr))
    return bool(e == 0)


_WITNESS_VALUES = {
    "positive": [sp.Integer(2), sp.Rational(1, 3), sp.Integer(7), sp.Rational(5, 2), sp.Rational(1, 10),
                 sp.Integer(1), sp.Integer(30)],
    "nonnegative": [sp.Integer(0), sp.Integer(2), sp.Rational(1, 3), sp.Integer(7), sp.Integer(1),
                    sp.Rational(5, 2)],
    "real": [sp.Integer(2), sp.Rational(-1, 3), sp.Integer(-3), sp.Rational(5, 2), sp.Integer(0),
             sp.Rational(1, 10), sp.Integer(-1)],
    "posint": [sp.Integer(2), sp.Integer(3), sp.Integer(1), sp.Integer(5), sp.Integer(4)],
    "nonnegint": [sp.Integer(0), sp.Integer(2), sp.Integer(1), sp.Integer(3), sp.Integer(5)],
    "int": [sp.Integer(2), sp.Integer(-1), sp.Integer(0), sp.Integer(3), sp.Integer(-2)],
}


def _kind_of(sym: sp.Symbol) -> str:
    if sym.is_integer:
        return "posint" if sym.is_positive else "nonnegint" if sym.is_nonnegative else "int"
    return "positive" if sym.is_positive else "nonnegative" if sym.is_nonnegative else "real"


def _witness_points(expr: sp.Basic, count: int = 20) -> list[dict[sp.Symbol, sp.Expr]]:
    """Deterministic exact points for the free symbols, respecting positive/nonnegative/integer
    assumptions (an unconstrained symbol is sampled as real): first every symbol at its k-th candidate
    (boundary values first), then seeded random combinations."""
    syms = sorted(expr.free_symbols, key=str)
    if not syms or any(isinstance(a, sp.core.function.AppliedUndef) for a in expr.atoms(sp.Function)):
        return []
    lists = [_WITNESS_VALUES[_kind_of(x)] for x in syms]
    pts = [{x: vals[k % len(vals)] for x, vals in zip(syms, lists, strict=True)} for k in range(5)]
    rng = np.random.default_rng(0)
    while len(pts) < count:
        pts.append({x: vals[int(rng.integers(len(vals)))] for x, vals in zip(syms, lists, strict=True)})
    return pts


def _nonzero_witness(expr: sp.Expr | sp.MatrixBase) -> dict[sp.Symbol, sp.Expr] | None:
    """A point where some entry of ``expr`` is a finite non-zero number (50-digit evaluation), if found."""
    entries = list(expr) if isinstance(expr, sp.MatrixBase) else [expr]
    entries = [e for e in entries if not (e == 0)]
    if not entries:
        return None
    free = set().union(*(sp.sympify(e).free_symbols for e in entries))
    if not free:  # a constant: non-zero if it evaluates so
        return {} if any(_is_nonzero_number(sp.sympify(e)) for e in entries) else None
    for point in _witness_points(sp.Tuple(*entries)):
        for e in entries:
            try:
                if _is_nonzero_number(sp.sympify(e).subs(point)):
                    return point
            except (TypeError, ValueError, ZeroDivisionError):
                continue
    return None


def _is_nonzero_number(v: sp.Basic) -> bool:
    if v.free_symbols or v.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return False
    try:
        num = complex(sp.N(v, 50))
    except (TypeError, ValueError):
        return False
    return bool(np.isfinite(num.real) and np.isfinite(num.imag) and abs(num) > 1e-30)


def _decide(statement: sp.Basic) -> tuple[StepOutcome, str]:
    """``("holds", …)`` if ``sp.simplify`` gives True; ``("disproved", why)`` if it gives False or a
    counterexample point is found; otherwise ``("undecided", why)``."""
    val = sp.simplify(statement)
    if val == sp.true:
        return "holds", "holds"
    if val == sp.false:
        return "disproved", "disproved: SymPy decides it is false"
    for point in _witness_points(sp.sympify(statement)):
        try:
            at = sp.simplify(sp.sympify(statement).subs(point))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if at == sp.false:
            return "disproved", f"disproved: false at {_short(point)}"
    return "undecided", f"undecided: SymPy reduces it to {_short(val)}, no counterexample found"


def _short(expr: object, limit: int = 80) -> str:
    text = str(expr)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def symmetric_matrix(name: str, d: int) -> sp.Matrix:
    """A symbolic symmetric d×d matrix with entries ``name_jk``, ``j ≤ k``."""
    return sp.Matrix(d, d, lambda j, k: sp.Symbol(f"{name}_{min(j, k)}{max(j, k)}", real=True))


def vector(name: str, d: int) -> sp.Matrix:
    return sp.Matrix(d, 1, lambda j, _: sp.Symbol(f"{name}_{j}", real=True))


def psd_margin(M: np.ndarray) -> float:
    """Smallest eigenvalue of the symmetric part (a PSD certificate when ≥ −tol)."""
    M = np.asarray(M, dtype=float)
    return float(np.linalg.eigvalsh(0.5 * (M + M.T))[0])


def random_instances(make: Callable[[int], _T], seeds: Iterable[int]) -> list[_T]:
    return [make(s) for s in seeds]


def exact_scale_table(sketch: DiagonalSketch) -> np.ndarray:
    """The scale table ``T`` (n, d) as exact SymPy numbers, from the family's definition
    (:meth:`~isttheory.sketches.base.Sketch.exact_scale`, the one source of the exact values: identity 1,
    Rand-q ``d/q`` (4), Perm-q ``n`` (7), …). A family without a table from its definition alone (such
    as (23), built from the problem) needs an explicit symbolic table. The numeric table must agree (a
    cross-check, not the source of the values)."""
    T = sketch.exact_scale()
    if T is None or not all(isinstance(v, sp.Basic) for v in T.flat):
        raise ValueError(f"{sketch.spec}: no exact scale from the definition; pass a symbolic scale table")
    if not np.allclose(sketch.scale_table(), np.asarray(T, dtype=float), rtol=1e-14, atol=0):
        raise ValueError(f"{sketch.spec}: numeric scale table differs from the definition's")
    return T


def symbolic_expectation(contraction: Contraction, sketch: DiagonalSketch, operands: list[np.ndarray],
                         scale: np.ndarray | None = None) -> np.ndarray:
    """Exact expectation with symbolic operands through the engine (weights as Rationals).

    ``scale`` overrides the sketch's scale table with a symbolic one; by default the exact table of
    :func:`exact_scale_table` (from the family's definition, never rebuilt from floats)."""
    from ..symbolic.engine import expectation

    T = scale if scale is not None else exact_scale_table(sketch)
    return np.asarray(expectation(contraction, sketch.inclusion_model(), operands, T, exact=True), dtype=object)


def symbolic_B_moments(sketch: DiagonalSketch, Ls: list[sp.Matrix]) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix]:
    """``(L̄, E[B̄], E[B̄L̄B̄])`` for symbolic ``L_i`` through the closed-form engine."""
    from ..symbolic import contractions

    n = len(Ls)
    Lb = sum(Ls, sp.zeros(*Ls[0].shape)) / n
    A = stack(Ls)
    EB = sp.Matrix(symbolic_expectation(contractions.B, sketch, [A]).tolist()) / n
    Lb_obj = np.array(Lb.tolist(), dtype=object)
    BLB = sp.Matrix(symbolic_expectation(contractions.BMB, sketch, [A, Lb_obj, A]).tolist()) / n**2
    return Lb, EB, BLB


def stack(mats: list[sp.Matrix]) -> np.ndarray:
    """SymPy matrices → object array (n, d, d) for the engine."""
    return np.array([np.array(m.tolist(), dtype=object) for m in mats], dtype=object)


def tex_times(coefficient: sp.Expr | int, body: str, *, body_is_sum: bool = False) -> str:
    """``coefficient · body`` in LaTeX, for ``Derivation.latex``: ``body`` alone when the coefficient is 1,
    ``-body`` when it is -1, a sum coefficient in parentheses, then a thin space. ``body_is_sum``: ``body``
    is a sum, parenthesised when multiplied (never when the coefficient is 1). The one place a derived
    coefficient meets hand-written TeX, so no macro reads ``1\\left(…`` or ``+ -…``."""
    c = sp.sympify(coefficient)
    if c == 0:
        return "0"
    if body_is_sum and c != 1:
        body = rf"\left({body}\right)"
    if c == 1:
        return body
    if c == -1:
        return "-" + body
    if c.could_extract_minus_sign():
        return "-" + tex_times(-c, body)
    text: str = sp.latex(c)
    if isinstance(c, sp.Add):
        text = rf"\left({text}\right)"
    return text + r"\," + body


def tex_plus(*terms: str) -> str:
    """Terms joined by ``+``, a term that starts with ``-`` joined by ``-`` instead (never ``+ -``)."""
    out = terms[0] if terms else "0"
    for t in terms[1:]:
        t = t.strip()
        out += " - " + t[1:].lstrip() if t.startswith("-") else " + " + t
    return out
