"""Lemmas as data: a one-line statement over the vocabulary, searched for a certified counterexample.

``Lemma.from_toml(path)`` or ``Lemma.create(...)`` builds one; ``lemma.check()`` (or
:func:`check`) answers REFUTED (certified counterexample), SURVIVED (worst ratio) or INAPPLICABLE.
The paper's claims are lemma files in ``isttheory/lemmas/paper/``.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import LemmaError
from .expr import Tolerance
from .lemma import Lemma
from .results import CheckResult, Counterexample, Outcome, Worst
from .search import check, evaluate_point

PAPER_DIR = Path(__file__).with_name("paper")


def lemma_paths(items: list[str]) -> list[Path]:
    """Files as given, and for each folder every ``*.toml`` inside it (sorted by name)."""
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(p.glob("*.toml"))
            if not found:
                raise LemmaError(f"folder {item} holds no *.toml lemma file")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise LemmaError(f"lemma file not found: {item}")
    return out


def paper_lemma_paths() -> list[Path]:
    """The paper's lemma files, printed and corrected versions (``isttheory/lemmas/paper/lemma_*.toml``)."""
    return sorted(PAPER_DIR.glob("lemma_*.toml"))


def paper_lemma_path(lemma_id: str) -> Path:
    """The file of the paper lemma ``lemma_id`` (named ``lemma_<id>.toml`` so the pytest plugin collects it)."""
    path = PAPER_DIR / f"lemma_{lemma_id}.toml"
    if not path.is_file():
        known = ", ".join(p.stem.removeprefix("lemma_") for p in paper_lemma_paths())
        raise LemmaError(f"no paper lemma {lemma_id!r}; known: {known}")
    return path


def paper_lemma(lemma_id: str) -> Lemma:
    """The paper lemma ``lemma_id``, read from its file."""
    return Lemma.from_toml(paper_lemma_path(lemma_id))


def paper_lemmas() -> list[Lemma]:
    return [Lemma.from_toml(p) for p in paper_lemma_paths()]


__all__ = ["CheckResult", "Counterexample", "Lemma", "LemmaError", "Outcome", "PAPER_DIR", "Tolerance", "Worst",
           "check", "evaluate_point", "lemma_paths", "paper_lemma", "paper_lemma_path",
           "paper_lemma_paths", "paper_lemmas"]
