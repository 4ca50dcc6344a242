"""``isttheory latex --document``: a paper-ready appendix (introduction, derived constants with their defining
equations, the claims with their status, the errata with their corrected statements, the main figures) that
pdflatex compiles with no undefined macro or reference; and the macros themselves, which carry no stray
coefficient (``\\ISTEstimatorBiasH`` once read ``1\\left(...``)."""

from __future__ import annotations

import re
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import sympy as sp  # noqa: E402

from isttheory.claims import Settings, default_instances  # noqa: E402
from isttheory.derivations.base import tex_plus, tex_times  # noqa: E402
from isttheory.errata import ERRATA  # noqa: E402
from isttheory.report.latex import DEFINITIONS, Figure, closed_forms, derivation_forms, document, fragment  # noqa: E402
from isttheory.report.verify_report import FIGURES  # noqa: E402
from isttheory.verify import run_verify  # noqa: E402

from .cli_harness import ISTTHEORY, run  # noqa: E402
from .latex_harness import compile_tex, needs_pdflatex  # noqa: E402

STRAY = [(re.compile(r"(?<![\w{}^_.\\-])1\s*(?:\\left\(|\\,|\\(?!frac|right)[A-Za-z]|\()"), "a coefficient 1"),
         (re.compile(r"\+\s*-"), "+ -"), (re.compile(r"-\s*-"), "- -")]


@pytest.fixture(scope="module")
def run_():
    return run_verify(default_instances()[:2], Settings(fast=True))


@pytest.fixture(scope="module")
def frag(run_):
    return fragment(run_)


def _figures(folder):
    """One small PNG per figure of the report, named and captioned as ``draw_figures`` names them (the
    figures themselves are tested in test_figures_readable.py; here what matters is that LaTeX includes them)."""
    folder.mkdir(parents=True, exist_ok=True)
    for _, name in FIGURES:
        fig, ax = plt.subplots(figsize=(4, 2))
        ax.plot([0, 1], [1, 0])
        ax.set_title(name)
        fig.savefig(folder / name, dpi=50)
        plt.close(fig)
    return [Figure(caption, f"figs/{name}") for caption, name in FIGURES]


# ------------------------------------------------------------------------------------------- the macros
@pytest.mark.parametrize(("coef", "body", "kw", "tex"), [
    (1, r"\tilde b", {}, r"\tilde b"),
    (-1, r"\tilde b", {}, r"-\tilde b"),
    (sp.Integer(2), r"\tilde b", {}, r"2\,\tilde b"),
    (1, "a - b", {"body_is_sum": True}, "a - b"),
    (-1, "a - b", {"body_is_sum": True}, r"-\left(a - b\right)"),
    (sp.Symbol("n") + 1, "x", {}, r"\left(n + 1\right)\,x"),
    (-sp.Rational(1, 2), "x", {}, r"-\frac{1}{2}\,x"),
    (0, "x", {}, "0"),
])
def test_tex_times(coef, body, kw, tex):
    assert tex_times(coef, body, **kw) == tex


def test_tex_plus_never_writes_plus_minus():
    assert tex_plus("a", "-b", "c") == "a - b + c"
    assert tex_plus("a", tex_times(-sp.Symbol("g") / (sp.Symbol("g") - 2), r"\sigma^2")).startswith("a - ")


def test_no_macro_has_a_stray_coefficient():
    """The regression of 1\\left(: every derived macro, checked for a unit coefficient and doubled signs."""
    forms = {**closed_forms(), **derivation_forms()}
    assert forms["ISTEstimatorBiasH"] == r"\bar L^{-1}\bar b - \frac{1}{\sqrt{n}}\,\tilde D\tilde b"
    for name, tex in forms.items():
        for pattern, what in STRAY:
            assert not pattern.search(tex), (name, what, tex)


def test_the_stray_check_catches_the_old_macros():
    old = [r"1\left(\bar L^{-1}\bar b - \frac{1}{\sqrt{n}}\tilde D\tilde b\right)",
           r"n^2\bar L\circ(\bar D\bar D^\top + 1\,\mathrm{Cov}(v))", r"\|h\|^2_{\bar L} + - \frac{\gamma}{\gamma - 2}"]
    for tex in old:
        assert any(p.search(tex) for p, _ in STRAY), tex
    for fine in (r"\frac{1}{2}\,x", r"x^{-1}\bar b", r"10\,x", r"(1-\gamma)^{k}x^0"):
        assert not any(p.search(fine) for p, _ in STRAY), fine


def test_every_macro_has_a_definition(frag):
    names = set(re.findall(r"\\newcommand\{\\(IST[A-Za-z]+)\}", frag)) - {"ISTClaimsTable", "ISTErrata"}
    assert names <= set(DEFINITIONS), sorted(names - set(DEFINITIONS))


# ------------------------------------------------------------------------------------------- the document
def test_the_document_has_each_part(run_, frag, tmp_path):
    tex = document(frag, run_, _figures(tmp_path / "figs"))
    for part in (r"\section{Introduction}", r"\section{Derived constants}", r"\section{Claims}",
                 r"\section{Errata}", r"\section{Figures}", r"\begin{longtable}"):
        assert part in tex, part
    assert "glossary" not in tex and r"\noindent\texttt{IST" not in tex  # not the old raw list of macros
    for e in ERRATA:
        assert e.latex in tex and tex.count(e.id) >= 1
    for _, name in FIGURES:
        assert rf"{{figs/{name}}}" in tex
    assert "theorem2" in tex and "CORRECTED (PROVED)" in tex  # a claim and its status, as verify rolls it up


@needs_pdflatex
def test_the_appendix_compiles_with_nothing_undefined(run_, frag, tmp_path):
    start = time.perf_counter()
    pages, log, problems = compile_tex(tmp_path, "appendix", document(frag, run_, _figures(tmp_path / "figs")))
    seconds = time.perf_counter() - start
    assert problems == [], problems
    assert 8 <= pages <= 20, pages  # 13 with the real figures: 4 of constants and claims, 4 of errata, figures
    assert all(f"figs/{name}" in log for _, name in FIGURES)  # every figure was read
    assert seconds < 60, seconds


@needs_pdflatex
def test_the_compile_check_fails_on_a_broken_macro_or_reference(run_, frag, tmp_path):
    good = document(frag, run_, _figures(tmp_path / "a" / "figs"))
    broken_macro = good.replace(r"\newcommand{\ISTPSameOne}{", r"\newcommand{\ISTPSameOne}{\ISTNoSuchMacro ", 1)
    assert broken_macro != good
    _, _, problems = compile_tex(tmp_path / "a", "macro", broken_macro)
    assert any("Undefined control sequence" in p or "exited" in p for p in problems), problems
    broken_ref = good.replace(r"Table~\ref{tab:claims}", r"Table~\ref{tab:no-such-table}", 1)
    assert broken_ref != good
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "figs").symlink_to(tmp_path / "a" / "figs")
    _, _, problems = compile_tex(tmp_path / "b", "ref", broken_ref)
    assert any("Reference `tab:no-such-table' on page" in p for p in problems), problems


@needs_pdflatex
def test_without_a_run_the_fragment_read_back_still_compiles(frag, tmp_path):
    """``constants.tex`` of a report folder holds macros only: the document then shows its table of checks."""
    pages, _, problems = compile_tex(tmp_path, "doc", document(frag))
    assert problems == [] and pages >= 4, problems


# ------------------------------------------------------------------------------------------- the command
@pytest.mark.skipif(ISTTHEORY is None, reason="the isttheory console script is not installed")
def test_latex_help_says_where_the_figures_go(tmp_path):
    proc = run("latex", "--help", cwd=tmp_path)
    text = " ".join(proc.stdout.split())
    assert proc.returncode == 0
    assert "--figures DIR" in text and "folder of --out FILE.tex" in text and "verify --out DIR" in text
    assert "introduction" in text and "errata" in text and "longtable" in text


@pytest.mark.skipif(ISTTHEORY is None, reason="the isttheory console script is not installed")
def test_latex_figures_errors_are_one_line(tmp_path):
    proc = run("latex", "--figures", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr == "isttheory: error: --figures needs --document\n"
    proc = run("latex", "--document", "--figures", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "missing experiment_1.png" in proc.stderr and "verify --out DIR" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
