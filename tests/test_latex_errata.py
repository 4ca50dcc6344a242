"""LaTeX export compiles and defines every macro it uses; ERRATA.md is in sync."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from isttheory.claims import Settings, default_instances
from isttheory.errata import ERRATA, render_markdown
from isttheory.report.latex import closed_forms, document, fragment, macro_name
from isttheory.verify import run_verify

from .latex_harness import compile_tex, needs_pdflatex

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def frag():
    return fragment(run_verify(default_instances()[:2], Settings(fast=True)))


def test_macro_names_are_letters_only():
    assert macro_name("p same", "2") == "ISTPSameTwo"
    assert macro_name("theorem2", "bound") == "ISTTheoremTwoBound"
    assert all(re.fullmatch(r"IST[A-Za-z]+", k) for k in closed_forms())


def test_fragment_has_macros_table_and_errata(frag):
    names = re.findall(r"\\newcommand\{\\(IST[A-Za-z]+)\}", frag)
    assert len(names) == len(set(names)) >= 15
    assert "ISTClaimsTable" in names and "ISTErrata" in names
    assert r"\frac{q}{d}" in frag  # P(j in S_i) for uniform partitions, derived by SymPy
    for e in ERRATA:
        assert e.id in frag


@needs_pdflatex
def test_document_compiles_without_undefined_macros(frag, tmp_path):
    pages, _, problems = compile_tex(tmp_path, "doc", document(frag))
    assert problems == [] and pages >= 1, problems
    assert (tmp_path / "doc.pdf").stat().st_size > 1000


@needs_pdflatex
def test_a_broken_macro_is_caught(frag, tmp_path):
    """The compile test can fail: an undefined macro in the body makes pdflatex stop."""
    tex = tmp_path / "bad.tex"
    tex.write_text(document(frag).replace(r"\end{document}", r"$\ISTNoSuchMacro$\end{document}"))
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0


def test_errata_markdown_in_sync():
    assert (ROOT / "ERRATA.md").read_text() == render_markdown(), "regenerate with: isttheory errata --out ERRATA.md"


def test_every_erratum_names_an_existing_proof():
    from isttheory.derivations import discover

    found = discover()
    for e in ERRATA:
        assert e.proof in found, e.id
        assert (ROOT / "proofs" / f"proof_{e.proof}.py").exists(), e.id
