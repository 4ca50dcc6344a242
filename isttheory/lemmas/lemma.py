"""A lemma: a one-line statement over the vocabulary, its hypotheses, and the space it is claimed on.

The paper's claims (``isttheory/lemmas/paper/*.toml``) and a user's lemmas are the same object, built
from a TOML file (:meth:`Lemma.from_toml`) or keyword arguments (:meth:`Lemma.create`)::

    id = "thm2-corrected"
    statement = "avg_grad2_Linv(K) <= 2*(E_f(0) - E_f(K))/(gamma*K) + h_norm2_L + gamma*sigma2"
    assume = ["gamma <= 1"]
    expect = "holds"
    [space]
    sketch = ["precond-perm"]

:meth:`Lemma.check` searches the space for a certified counterexample (:mod:`isttheory.lemmas.search`).
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LemmaError
from .expr import Call, Comparison, Name, Node, Tolerance, names, parse_comparison, to_latex
from .space import Space
from .vocabulary import FUNCTIONS, ITERATION_NAMES, VOCABULARY, latex_name

ID_PATTERN = r"[a-z0-9][a-z0-9-]{0,63}"
KEYS = ("id", "title", "equations", "statement", "assume", "expect", "tolerance", "space", "notes")
MAX_FILE_BYTES = 100_000


@dataclass(frozen=True)
class Lemma:
    """A statement ``lhs OP rhs`` with hypotheses ``assume``, searched over ``space``."""

    id: str
    statement: Comparison
    space: Space = field(default_factory=Space)
    assume: tuple[Comparison, ...] = ()
    title: str = ""
    equations: tuple[str, ...] = ()
    expect: str | None = None
    tolerance: Tolerance = Tolerance()
    notes: str = ""
    source: str = ""

    # ------------------------------------------------------------------ building
    @classmethod
    def create(cls, id: str, statement: str, space: dict[str, Any] | Space | None = None,
               assume: list[str] | tuple[str, ...] = (), title: str = "", equations: list[str] | tuple[str, ...] = (),
               expect: str | None = None, tolerance: dict[str, float] | None = None, notes: str = "") -> Lemma:
        """The same object as a lemma file, from keyword arguments."""
        data: dict[str, Any] = {"id": id, "statement": statement, "assume": list(assume), "title": title,
                                "equations": list(equations), "notes": notes}
        if expect is not None:
            data["expect"] = expect
        if tolerance is not None:
            data["tolerance"] = tolerance
        if isinstance(space, Space):
            lemma = cls.from_dict(data)
            return Lemma(lemma.id, lemma.statement, space, lemma.assume, lemma.title, lemma.equations,
                         lemma.expect, lemma.tolerance, lemma.notes)
        data["space"] = space or {}
        return cls.from_dict(data)

    @classmethod
    def from_toml(cls, path: str | Path) -> Lemma:
        """Read a lemma file; every problem with it is one :class:`~isttheory.errors.LemmaError` line."""
        p = Path(path)
        if not p.is_file():
            raise LemmaError(f"lemma file not found: {path}")
        if p.stat().st_size > MAX_FILE_BYTES:
            raise LemmaError(f"lemma file {path} is larger than {MAX_FILE_BYTES} bytes")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise LemmaError(f"{path}: not valid TOML: {exc}") from None
        try:
            return cls.from_dict(data, source=str(p))
        except LemmaError as exc:
            raise LemmaError(f"{path}: {exc}") from None

    @classmethod
    def from_dict(cls, data: Any, source: str = "") -> Lemma:
        if not isinstance(data, dict):
            raise LemmaError("a lemma must be a table")
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            raise LemmaError(f"unknown key(s) {unknown}; allowed: {', '.join(KEYS)}")
        lid = data.get("id")
        if not isinstance(lid, str) or not re.fullmatch(ID_PATTERN, lid):
            raise LemmaError(f"id must be 1-64 lowercase letters, digits and '-' (starting with a letter or digit); "
                             f"got {lid!r}")
        if "statement" not in data:
            raise LemmaError(f"lemma {lid}: 'statement' is required")
        statement = _checked(parse_comparison(data["statement"], "statement"), "statement")
        assume_raw = data.get("assume", [])
        if isinstance(assume_raw, str):
            assume_raw = [assume_raw]
        if not isinstance(assume_raw, list):
            raise LemmaError("assume must be a list of comparisons")
        assume = tuple(_checked(parse_comparison(a, "assume entry"), "assume entry") for a in assume_raw)
        expect = data.get("expect")
        if expect is not None and expect not in ("holds", "fails"):
            raise LemmaError(f"expect must be \"holds\" or \"fails\"; got {expect!r}")
        tol = data.get("tolerance", {})
        if not isinstance(tol, dict) or set(tol) - {"rtol", "atol"}:
            raise LemmaError("tolerance must be a table with rtol and/or atol")
        for k, v in tol.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise LemmaError(f"tolerance {k} must be a finite number >= 0; got {v!r}")
        equations = data.get("equations", [])
        if not isinstance(equations, list) or not all(isinstance(e, str) for e in equations):
            raise LemmaError("equations must be a list of strings")
        for key in ("title", "notes"):
            if not isinstance(data.get(key, ""), str):
                raise LemmaError(f"{key} must be a string")
        return cls(lid, statement, Space.from_dict(data.get("space")), assume, data.get("title", ""),
                   tuple(equations), expect, Tolerance(**{k: float(v) for k, v in tol.items()}),
                   data.get("notes", ""), source)

    # ------------------------------------------------------------------ use
    def check(self, budget: float = 30.0, seed: int = 0, max_instances: int | None = None,
              out: str | Path | None = None) -> Any:
        """Search for a certified counterexample (see :func:`isttheory.lemmas.search.check`)."""
        from .search import check

        return check(self, budget=budget, seed=seed, max_instances=max_instances, out=out)

    def latex(self) -> str:
        """The statement (and hypotheses) in LaTeX: built as unevaluated SymPy objects from the parsed statement
        (vocabulary names in their notation) and printed by ``sympy.latex``; see :func:`.expr.to_latex`."""
        try:
            hyp = r",\quad ".join(to_latex(a, latex_name) for a in self.assume)
            return to_latex(self.statement, latex_name) + (rf"\qquad\text{{if }} {hyp}" if hyp else "")
        except LemmaError:  # nested too deeply for SymPy's printer; the lemma is still checked
            return r"\text{(a statement nested too deeply to typeset)}"

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def __str__(self) -> str:
        hyp = f" assuming {', '.join(a.text for a in self.assume)}" if self.assume else ""
        return f"{self.id}: {self.statement.text}{hyp}"


def _checked(c: Comparison, what: str) -> Comparison:
    """Every name known, every call with the right number of arguments, iterations in n, d, K, t."""
    for side in (c.lhs, c.rhs):
        _check_node(side, what, c.text)
    return c


def _check_node(node: Node, what: str, text: str) -> None:
    for sub in node.walk():
        if isinstance(sub, Name):
            q = VOCABULARY.get(sub.name)
            if q is None:
                raise LemmaError(f"{what} {text!r}: unknown name {sub.name!r} (see 'isttheory check --vocabulary')")
            if q.iteration:
                raise LemmaError(f"{what} {text!r}: {sub.name} needs an iteration, e.g. {sub.name}(K)")
        elif isinstance(sub, Call):
            if sub.name in FUNCTIONS:
                lo, hi = FUNCTIONS[sub.name].arity
                if not lo <= len(sub.args) <= hi:
                    raise LemmaError(f"{what} {text!r}: {sub.name} takes {lo}" + (f" to {hi}" if hi != lo else "")
                                     + f" argument(s), got {len(sub.args)}")
                continue
            q = VOCABULARY.get(sub.name)
            if q is None:
                raise LemmaError(f"{what} {text!r}: unknown function {sub.name!r} (see 'isttheory check --vocabulary')")
            if not q.iteration:
                raise LemmaError(f"{what} {text!r}: {sub.name} is a number, not a function of an iteration")
            if len(sub.args) != 1:
                raise LemmaError(f"{what} {text!r}: {sub.name} takes one iteration argument")
            bad = names(sub.args[0]) - ITERATION_NAMES
            if bad:
                raise LemmaError(f"{what} {text!r}: the iteration of {sub.name} may use only n, d, K, t and numbers, "
                                 f"not {sorted(bad)[0]}")
