"""What ``check`` answers: a verdict, the certified counterexample or the worst case, and their files."""

from __future__ import annotations

import enum
import html
import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .points import Point

MATRIX_ENTRIES = 64
"""A counterexample's ``L_i`` are shown entry by entry (notebook display, LaTeX) when ``n·d²`` is at most this;
larger instances are in the counterexample file."""


class Outcome(str, enum.Enum):
    """REFUTED: a certified counterexample; SURVIVED: none found (never "verified");
    INAPPLICABLE: no instance of the space met the hypotheses."""

    REFUTED = "REFUTED"
    SURVIVED = "SURVIVED"
    INAPPLICABLE = "INAPPLICABLE"


def exact_text(v: Any) -> str:
    """A value as text: ``17/64`` for a rational, 50 significant digits otherwise."""
    if isinstance(v, (Fraction, int)):
        try:
            return str(v)
        except ValueError:  # more digits than Python prints (sys.get_int_max_str_digits)
            import mpmath

            f = Fraction(v)
            return (f"{mpmath.nstr(mpmath.mpf(f.numerator) / f.denominator, 50)} (a rational of "
                    f"{f.numerator.bit_length()}/{f.denominator.bit_length()} bits, too long to print)")
    try:
        import mpmath

        return mpmath.nstr(v, 50) if isinstance(v, mpmath.mpf) else repr(float(v))
    except (TypeError, ValueError):
        return str(v)


@dataclass
class Counterexample:
    """A shrunk instance on which the statement fails, with lhs and rhs recomputed exactly."""

    point: Point
    lhs: Any
    rhs: Any
    margin: Any
    """``lhs − rhs`` (exact when ``certified_by`` is "exact rational")."""
    certified: bool
    certified_by: str
    file: str | None = None
    file_is_exact: bool = True

    @property
    def problem(self) -> Any:
        """The instance as a :class:`~isttheory.problem.QuadraticProblem`."""
        return self.point.problem()

    @property
    def sketch(self) -> Any:
        from ..sketches import parse_sketch

        return parse_sketch(self.point.sketch, self.problem)

    @property
    def gamma(self) -> float:
        return float(self.point.gamma)

    @property
    def K(self) -> int:
        return self.point.K

    @property
    def x0(self) -> np.ndarray:
        return np.asarray(self.point.x0, dtype=np.float64)

    def exact_dynamics(self) -> Any:
        """:class:`~isttheory.dynamics.ExactDynamics` of the counterexample, ready to ``run(K)``."""
        from ..dynamics import ExactDynamics

        p = self.point
        return ExactDynamics(self.problem, self.sketch, self.gamma, p.form, p.local_steps, self.x0)

    def simulate(self, runs: int = 1000, seed: int = 0, iters: int | None = None, **kwargs: Any) -> Any:
        """Monte Carlo runs of the method on the counterexample (:func:`~isttheory.simulate.simulate` with its
        sketch, form, local steps, ``γ``, ``x⁰`` and ``iters = K``); ``kwargs`` go to ``simulate``."""
        from ..simulate import simulate

        p = self.point
        how: dict[str, Any] = {"form": p.form, "local_steps": p.local_steps, "x0": self.x0, **kwargs}
        return simulate(self.problem, self.sketch, self.gamma, self.K if iters is None else iters, runs=runs,
                        seed=seed, **how)

    def _repr_html_(self) -> str:
        p = self.point
        rows = [("instance", html.escape(p.describe())), ("lhs", html.escape(exact_text(self.lhs))),
                ("rhs", html.escape(exact_text(self.rhs))),
                ("lhs − rhs", html.escape(exact_text(self.margin)) + f" ({html.escape(self.certified_by)})")]
        if p.n * p.d * p.d <= MATRIX_ENTRIES:
            mats = "".join(_matrix_html(Li) for Li in p.exact_L())
            rows.append(("L_i (exact)", mats))
        if self.file:
            rows.append(("file", html.escape(self.file)))
        return _table("counterexample", rows)

    def line(self) -> str:
        return (f"{self.point.describe()}: lhs = {short_text(self.lhs)}, rhs = {short_text(self.rhs)}, "
                f"lhs - rhs = {short_text(self.margin)} ({self.certified_by})")

    def to_dict(self) -> dict[str, Any]:
        p = self.point
        return {"file": self.file, "n": p.n, "d": p.d, "sketch": p.sketch, "form": p.form,
                "local_steps": p.local_steps, "gamma": float(p.gamma), "gamma_exact": exact_text(p.gamma),
                "K": p.K, "lhs": exact_text(self.lhs), "rhs": exact_text(self.rhs),
                "exact_margin": exact_text(self.margin), "certified": self.certified,
                "certified_by": self.certified_by}


@dataclass
class Worst:
    """The instance with the largest ratio lhs/rhs found (how tight the statement is over the space)."""

    ratio: float
    point: Point
    lhs: float
    rhs: float
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        p = self.point
        return {"ratio": self.ratio, "file": self.file, "n": p.n, "d": p.d, "sketch": p.sketch, "form": p.form,
                "gamma": float(p.gamma), "K": p.K, "lhs": self.lhs, "rhs": self.rhs}


@dataclass
class CheckResult:
    """The answer of :func:`isttheory.lemmas.search.check` for one lemma."""

    lemma_id: str
    statement: str
    verdict: Outcome
    instances_tried: int
    skipped: int
    seconds: float
    counterexample: Counterexample | None = None
    worst: Worst | None = None
    expect: str | None = None
    skip_reasons: dict[str, int] = field(default_factory=dict)
    uncertified: int = 0
    """Float violations that did not survive exact recomputation (never reported as counterexamples)."""
    latex: str = ""

    @property
    def matches_expect(self) -> bool:
        """No ``expect``: REFUTED is the only mismatch. ``holds``: SURVIVED; ``fails``: REFUTED."""
        if self.expect is None:
            return self.verdict is not Outcome.REFUTED
        return self.verdict is (Outcome.SURVIVED if self.expect == "holds" else Outcome.REFUTED)

    @property
    def differs_from_expect(self) -> bool:
        """The lemma states an ``expect`` and the outcome is another (``isttheory check`` then exits 1)."""
        return self.expect is not None and not self.matches_expect

    def top_skips(self, limit: int | None = 3) -> list[tuple[str, int]]:
        """The reasons instances were skipped, most frequent first (ties by reason), at most ``limit``."""
        top = sorted(self.skip_reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        return top if limit is None else top[:limit]

    def skips_text(self, limit: int | None = 3) -> str:
        """``"12 x hypothesis unmet: gamma <= 1/theta; 3 x …"`` for :meth:`top_skips`."""
        return "; ".join(f"{count} x {reason}" for reason, count in self.top_skips(limit))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.lemma_id, "statement": self.statement, "verdict": self.verdict.value,
                "expect": self.expect, "matches_expect": self.matches_expect,
                "instances_tried": self.instances_tried, "skipped": self.skipped,
                "skip_reasons": dict(sorted(self.skip_reasons.items())), "uncertified": self.uncertified,
                "seconds": round(self.seconds, 3),
                "counterexample": None if self.counterexample is None else self.counterexample.to_dict(),
                "worst": None if self.worst is None else self.worst.to_dict()}

    def summary(self) -> str:
        """A few lines: verdict, counts, the counterexample or the worst ratio."""
        head = (f"{self.lemma_id}: {self.verdict.value} ({self.instances_tried} instances tried, {self.skipped} "
                f"skipped, {self.seconds:.1f} s)")
        lines = [head, f"  statement: {self.statement}"]
        if self.counterexample is not None:
            lines.append(f"  counterexample: {self.counterexample.line()}")
            if self.counterexample.file:
                lines.append(f"  written to {self.counterexample.file}")
                if not self.counterexample.file_is_exact:
                    lines.append("  note: the problem file holds the float64 rounding of the certified instance; its "
                                 "exact entries are in the .meta.json")
        if self.worst is not None:
            lines.append(f"  worst ratio lhs/rhs = {self.worst.ratio:.6g} at {self.worst.point.describe()}"
                         + (f" ({self.worst.file})" if self.worst.file else ""))
        if self.uncertified:
            lines.append(f"  note: float64 says the statement fails on {self.uncertified} instance(s) that could "
                         "not be certified in exact arithmetic (too large to enumerate exactly, or round-off); "
                         "only certified counterexamples are reported")
        if self.skip_reasons:
            lines.append("  skipped: " + self.skips_text())
        if self.differs_from_expect:
            lines.append(f"  UNEXPECTED: the lemma says it {self.expect}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_latex_(self) -> str:
        """The lemma's statement and hypotheses as mathematics (:meth:`~isttheory.lemmas.Lemma.latex`)."""
        return f"$\\displaystyle {self.latex}$" if self.latex else ""

    def _repr_html_(self) -> str:
        colour = {"REFUTED": "#b00020", "SURVIVED": "#1b5e20", "INAPPLICABLE": "#555"}[self.verdict.value]
        rows = [("verdict", f"<b style='color:{colour}'>{self.verdict.value}</b>"),
                ("statement", f"<code>{html.escape(self.statement)}</code>"),
                ("instances", f"{self.instances_tried} tried, {self.skipped} skipped")]
        if self.counterexample is not None:
            c = self.counterexample
            rows += [("counterexample", html.escape(c.point.describe())),
                     ("lhs", html.escape(exact_text(c.lhs))), ("rhs", html.escape(exact_text(c.rhs))),
                     ("lhs − rhs", html.escape(exact_text(c.margin)) + f" ({html.escape(c.certified_by)})")]
        if self.worst is not None:
            rows.append(("worst ratio", f"{self.worst.ratio:.6g} at {html.escape(self.worst.point.describe())}"))
        if self.skip_reasons:
            rows.append(("skipped", html.escape(self.skips_text())))
        if self.differs_from_expect:
            rows.append(("expect", f"<b>the lemma says it {html.escape(str(self.expect))}</b>"))
        return _table(self.lemma_id, rows)


def _table(caption: str, rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{v}</td></tr>"
                   for k, v in rows)
    return f"<table><caption>{html.escape(caption)}</caption>{body}</table>"


def _matrix_html(M: Any) -> str:
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(exact_text(v))}</td>" for v in row) + "</tr>" for row in M)
    return f"<table style='display:inline-table;margin-right:1em'>{rows}</table>"


def short_text(v: Any) -> str:
    """:func:`exact_text` when it fits in 60 characters, else 12 significant digits and where the rest is."""
    t = exact_text(v)
    if len(t) <= 60:
        return t
    return f"{float(v):.12g} (exact: {len(t)} characters in the file)"


def file_holds_exactly(point: Point) -> bool:
    """Whether the float64 problem file of ``point`` is exactly its rational instance."""
    return all(Fraction(float(v)) == v for v in point.exact_L().flat) and all(
        Fraction(float(v)) == Fraction(v) for arr in (point.b, point.x0) for v in np.asarray(arr, dtype=object).flat)


def write_point(folder: Path, stem: str, point: Point, meta: dict[str, Any]) -> str:
    """Write ``stem.json`` (a problem file ``isttheory exact``/``constants`` accept) and ``stem.meta.json``
    (sketch, form, step, K, the exact entries and how to reproduce). Returns the problem file's path."""
    from ..errors import LemmaError
    from ..io import atomic_write_bytes

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LemmaError(f"cannot write to {folder}: {exc.strerror or exc}") from None
    L = point.float_L()
    problem = {"L": L.tolist(), "b": np.asarray(point.b, dtype=np.float64).tolist(),
               "x0": np.asarray(point.x0, dtype=np.float64).tolist()}
    exact_L = point.exact_L()
    file_is_exact = file_holds_exactly(point)
    path = folder / f"{stem}.json"
    atomic_write_bytes(path, (json.dumps(problem, allow_nan=False) + "\n").encode())
    g = float(point.gamma)
    cmd = (f"isttheory exact {path} --sketch {point.sketch} --gamma {g!r} --iters {point.K} --form {point.form}"
           + (f" --local-steps {point.local_steps}" if point.form == "ist" else ""))
    info = {**meta, "problem_file": str(path), "family": point.family, "sketch": point.sketch, "form": point.form,
            "local_steps": point.local_steps, "gamma": g, "gamma_exact": exact_text(point.gamma), "K": point.K,
            "file_holds_the_exact_instance": file_is_exact,
            "L_exact": [[[exact_text(v) for v in row] for row in Li] for Li in exact_L],
            "b_exact": [[exact_text(Fraction(v) if not isinstance(v, Fraction) else v) for v in row]
                        for row in np.asarray(point.b, dtype=object)],
            "x0_exact": [exact_text(Fraction(v) if not isinstance(v, Fraction) else v)
                         for v in np.asarray(point.x0, dtype=object)],
            "reproduce": cmd}
    atomic_write_bytes(folder / f"{stem}.meta.json", (json.dumps(info, indent=1, allow_nan=False) + "\n").encode())
    return str(path)
