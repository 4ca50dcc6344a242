"""The pages of the documentation site that come from the registry: a claims catalogue, one page per claim
of docs/paper.md and per lemma file, a dependency graph coloured by status, and the errata.

Blueprint-style (as leanblueprint and PEPit's example pages do): every page is generated from one ``verify``
run (:class:`~isttheory.verify.VerifyRun`), so a page shows what the code decides today, never a copy. The
Sphinx configuration (``docs/conf.py``) calls :func:`generate` when a build starts; nothing here imports Sphinx.

Files written under the docs folder (generated, not committed): ``claims/index.md`` (catalogue and graph),
``claims/<id>.md`` (paper claims), ``claims/lemma-<id>.md`` (lemma files), ``errata.md`` and, with
``figures=True``, the ``verify --out`` report folder ``_extra/report/`` (served as ``report/``). A file is
rewritten only when its text changes, so an incremental build redoes only what moved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..claims.catalogue import PAPER_CLAIMS, PaperClaim, roll_up, verdict_label
from ..claims.registry import Claim, Finding, Settings
from ..derivations.base import Derivation
from ..errata import ERRATA, Erratum
from ..io import atomic_write_bytes
from ..lemmas import Lemma, paper_lemmas
from ..verify import VerifyRun

STATUS_CLASS = {"PROVED": "PROVED", "CHECKED": "CHECKED", "VERIFIED": "VERIFIED", "SURVIVED": "SURVIVED",
                "CORRECTED": "CORRECTED", "REFUTED (expected)": "EXPECTED", "REFUTED": "REFUTED",
                "INCONCLUSIVE": "INCONCLUSIVE"}
"""CSS class suffix of each status (``status-PROVED`` …; upper case, as the verdicts are written)."""
#: one colour per status, for the badges (:func:`status_css`) and the graph's nodes (:func:`dependency_dot`)
STATUS_COLOUR = {"PROVED": "#1b7837", "CHECKED": "#5aae61", "VERIFIED": "#a6dba0", "SURVIVED": "#d9f0d3",
                 "CORRECTED": "#fdb863", "EXPECTED": "#e08214", "REFUTED": "#b2182b", "INCONCLUSIVE": "#bababa"}
_LIGHT_TEXT = frozenset({"PROVED", "CHECKED", "EXPECTED", "REFUTED"})  # dark fills: white text
STATUS_MEANING = {
    "PROVED": "a derivation whose every decisive step is general (valid for all values of its symbols)",
    "CHECKED": "holds; some decisive step is at fixed sizes or on instances",
    "VERIFIED": "holds on the instances it was checked on (evidence about those problems only)",
    "SURVIVED": "a search for a certified counterexample found none within its budget (never a proof)",
    "CORRECTED": "the paper's version fails; a corrected statement holds (see the erratum)",
    "REFUTED (expected)": "a certified counterexample to the printed statement, recorded in the errata",
    "REFUTED": "fails, unexpectedly",
    "INCONCLUSIVE": "could not be decided (the reason is recorded)"}


@dataclass(frozen=True)
class SitePage:
    """One generated page: its path under the docs folder and its MyST Markdown text."""

    path: str
    text: str


def _status(verdict: str) -> str:
    """An inline status badge (raw HTML in MyST, styled by ``isttheory.css``)."""
    base = verdict.split(" (")[0] if not verdict.startswith("REFUTED (expected)") else "REFUTED (expected)"
    return f'<span class="status status-{STATUS_CLASS.get(base, "INCONCLUSIVE")}">{verdict}</span>'


def _cell(text: object) -> str:
    """A Markdown table cell: one line, pipes escaped, no stray math delimiters."""
    s = " ".join(str(text).split())
    return s.replace("|", r"\|").replace("$", r"\$")


def _number(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return "" if v is None else str(v)


def _display_math(tex: str) -> str:
    return f"$$\n{tex}\n$$"


def _equation_numbers(text: str) -> set[int]:
    """The paper's equation numbers a reference names: ``(14)–(16)`` is {14, 15, 16}; ``(23)`` is {23}."""
    out: set[int] = set()
    for a, b in re.findall(r"\((\d+)\)(?:\s*[–-]\s*\((\d+)\))?", text):
        out.update(range(int(a), int(b or a) + 1))
    return out


def _slug(claim_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", claim_id).strip("-")


class SiteModel:
    """What the pages are made of: the run's findings grouped by registry claim and by paper claim."""

    def __init__(self, run: VerifyRun, lemmas: Sequence[Lemma] | None = None) -> None:
        self.run = run
        self.rows = {r["id"]: r for r in roll_up(run.findings)}
        self.by_claim: dict[str, list[tuple[Claim, Finding]]] = {}
        for c, f in run.findings:
            self.by_claim.setdefault(c.id, []).append((c, f))
        self.lemmas = list(paper_lemmas() if lemmas is None else lemmas)

    def sources(self, pc: PaperClaim) -> list[tuple[Claim, Finding]]:
        return [(c, f) for c, f in self.run.findings for s in pc.sources if s.matches(c, f)]

    def derivations(self, pc: PaperClaim) -> list[tuple[str, Derivation]]:
        return [(f.variant or c.id, f.detail) for c, f in self.sources(pc) if isinstance(f.detail, Derivation)]

    def errata(self, pc: PaperClaim) -> list[Erratum]:
        proofs = {s.claim.removeprefix("proof:") for s in pc.sources if s.claim.startswith("proof:")}
        return [e for e in ERRATA if e.proof in proofs]

    def lemmas_of(self, pc: PaperClaim) -> list[Lemma]:
        """The lemma files whose equations fall within the paper claim's."""
        mine = _equation_numbers(pc.equations)
        return [lm for lm in self.lemmas if mine & _equation_numbers(" ".join(lm.equations))]

    def others(self) -> list[str]:
        """Registry claims of the run that are neither a paper claim's verifier nor a lemma file (issue 18's
        network findings, plugin claims), in run order."""
        covered = {s.claim for pc in PAPER_CLAIMS for s in pc.sources}
        return [cid for cid in self.by_claim if cid not in covered and not cid.startswith("lemma:")]

    def lemma_verdict(self, lemma: Lemma) -> str:
        row = self.rows.get(f"lemma:{lemma.id}")
        return str(row["verdict"]) if row else "INCONCLUSIVE"


def _findings_table(pairs: Iterable[tuple[Claim, Finding]]) -> list[str]:
    lines = ["| verifier | instance | variant | verdict | method | numbers | message |",
             "|---|---|---|---|---|---|---|"]
    for c, f in pairs:
        expected = f.verdict.value == "REFUTED" and not c.unexpected(f)
        verdict = "REFUTED (expected)" if expected else verdict_label(f.verdict.value, f.numbers)
        nums = "; ".join(f"{k} = {_number(v)}" for k, v in f.numbers.items() if v not in (None, ""))
        lines.append(f"| {_cell(c.id)} | {_cell(f.instance)} | {_cell(f.variant)} | {_status(verdict)} | "
                     f"{_cell(f.method)} | {_cell(nums)} | {_cell(f.message)} |")
    return lines


def _derivation_section(name: str, d: Derivation) -> list[str]:
    lines = [f"### Derivation `{name}` ({d.gfn()} general / fixed-size / numeric steps: {d.strength})", ""]
    for key, tex in d.latex.items():
        lines += [f"*{key}*:", "", _display_math(tex), ""]
    lines += ["| equation | step | kind | role | outcome | detail |", "|---|---|---|---|---|---|"]
    for s in d.steps:
        lines.append(f"| {_cell(s.equation)} | {_cell(s.name)} | {_cell(s.reach)} | {s.role} | {s.verdict} | "
                     f"{_cell(s.detail)} |")
    if d.premises:
        lines += ["", "Premises: " + "; ".join(_cell(p) for p in d.premises)]
    return lines + [""]


def _erratum_section(e: Erratum) -> list[str]:
    lines = [f"### Erratum `{e.id}` ({e.kind}, {e.where})", "", f"**Printed:** {_cell(e.paper)}", "",
             f"**Corrected:** {_cell(e.corrected)}", ""]
    if e.latex:
        lines += [_display_math(e.latex), ""]
    return lines


def _lemma_rows(model: SiteModel, lemmas: Iterable[Lemma]) -> list[str]:
    """One row per lemma file: its status and the worst case the search found (``isttheory check``: the
    largest left/right ratio over the instances tried; above 1 the statement fails there)."""
    lines = ["| lemma file | equations | expected | status | worst ratio found | instances |",
             "|---|---|---|---|---|---|"]
    for lm in lemmas:
        nums = next((f.numbers for _, f in model.by_claim.get(f"lemma:{lm.id}", [])), {})
        lines.append(f"| [{lm.id}](lemma-{_slug(lm.id)}.md) | {_cell(', '.join(lm.equations))} | {lm.expect} | "
                     f"{_status(model.lemma_verdict(lm))} | {_number(nums.get('worst_ratio'))} | "
                     f"{_number(nums.get('instances'))} |")
    return lines


FIGURES_OF: dict[str, tuple[tuple[str, str], ...]] = {
    "mc-bounds": (("bound_checks.png", "Monte Carlo checks of every bound, beside the exact values"),),
    "proof:theorem2": (("neighbourhood.png", "Theorem 2: the exact neighbourhood against γ, with the printed and "
                                             "corrected bounds"),)}
"""The report figures (``verify --out``) a claim page shows, by the registry claim that stands behind it."""


def claim_page(model: SiteModel, pc: PaperClaim, figures: bool) -> SitePage:
    """The page of one claim of docs/paper.md."""
    row = model.rows[pc.id]
    verdict = verdict_label(str(row["verdict"]), row)
    lines = [f"# {pc.equations}: {pc.statement}", "", f"**Status:** {_status(verdict)} — "
             f"{STATUS_MEANING.get(str(row['verdict']), '')}.", "",
             f"Claim `{pc.id}` of [the paper, restated](../paper.md); verified by "
             + ", ".join(f"`{v}`" for v in row["verifiers"]) + ".", ""]
    for c in {c.id: c for c, _ in model.sources(pc)}.values():
        if c.statement and not c.statement.startswith("derivation "):
            lines += [f"**`{c.id}`** ({', '.join(c.equations)}):", "", _display_math(c.statement), ""]
    lines += ["## Findings", ""] + _findings_table(model.sources(pc)) + [""]
    derivs = model.derivations(pc)
    if derivs:
        lines += ["## Derivations", ""]
        for name, d in derivs:
            lines += _derivation_section(name, d)
    lms = model.lemmas_of(pc)
    if lms:
        lines += ["## Lemma files on these equations", "",
                  "Each is searched for a certified counterexample (`isttheory check FILE`).", ""]
        lines += _lemma_rows(model, lms) + [""]
    shown = sorted({fig for s in pc.sources for fig in FIGURES_OF.get(s.claim, ())})
    if figures and shown:
        lines += ["## Figures", ""]
        for name, caption in shown:
            lines += [f"```{{figure}} ../_extra/report/{name}", f":alt: {caption}", "", caption, "```", ""]
    errs = model.errata(pc)
    if errs:
        lines += ["## Errata", ""]
        for e in errs:
            lines += _erratum_section(e)
    return SitePage(f"claims/{_slug(pc.id)}.md", "\n".join(lines))


def lemma_page(model: SiteModel, lm: Lemma) -> SitePage:
    """The page of one lemma file: statement, hypotheses, space, and what the search found."""
    pairs = model.by_claim.get(f"lemma:{lm.id}", [])
    verdict = model.lemma_verdict(lm)
    lines = [f"# Lemma `{lm.id}`", "", _cell(lm.title), "", f"**Status:** {_status(verdict)} — "
             f"{STATUS_MEANING.get(verdict, '')}.", "", _display_math(lm.latex()), "",
             f"Equations: {', '.join(lm.equations) or '—'}; expected: **{lm.expect}**.", "",
             "As written in the file (`isttheory/lemmas/paper/lemma_" + lm.id + ".toml`):", "", "```text",
             lm.statement.text] + [f"assume {a.text}" for a in lm.assume] + ["```", ""]
    if lm.notes:
        lines += [_cell(lm.notes), ""]
    lines += ["## What the search found", ""] + _findings_table(pairs) + [""]
    for _, f in pairs:
        worst = f.numbers.get("worst_ratio")
        if worst is not None:
            lines += [f"Worst case found (largest left/right ratio over the instances tried): **{_number(worst)}** "
                      f"over {f.numbers.get('instances')} instances.", ""]
    return SitePage(f"claims/lemma-{_slug(lm.id)}.md", "\n".join(lines))


def dependency_dot(model: SiteModel) -> str:
    """The claims' dependency graph in Graphviz ``dot``: each paper claim → the derivations, checks and lemma
    files it rests on, each node coloured by its status and linked to its page."""
    def colour(verdict: str) -> str:
        """``fillcolor`` and ``fontcolor`` of a node of this status (white text on the dark fills)."""
        base = verdict if verdict.startswith("REFUTED (expected)") else verdict.split(" (")[0]
        key = STATUS_CLASS.get(base, "INCONCLUSIVE")
        return f'{STATUS_COLOUR[key]}", fontcolor="{"#ffffff" if key in _LIGHT_TEXT else "#111111"}'

    out = ["digraph claims {", '  rankdir=LR; bgcolor="transparent";',
           '  node [style=filled, fontname="Helvetica", fontsize=10];']
    done: set[str] = set()
    for pc in PAPER_CLAIMS:
        row = model.rows[pc.id]
        out.append(f'  "{pc.id}" [shape=box, fillcolor="{colour(str(row["verdict"]))}", '
                   f'label="{pc.id}\\n{pc.equations}", URL="{_slug(pc.id)}.html", target="_top"];')
        for cid in row["verifiers"]:
            if cid not in done:
                sub = model.by_claim.get(cid, [])
                worst = max((f.verdict.value for _, f in sub), key=lambda v: list(STATUS_CLASS).index(v)
                            if v in STATUS_CLASS else 0, default="INCONCLUSIVE")
                if any(f.verdict.value == "REFUTED" and not c.unexpected(f) for c, f in sub):
                    worst = "REFUTED (expected)"
                shape = "ellipse" if cid.startswith("proof:") else "hexagon"
                out.append(f'  "{cid}" [shape={shape}, fillcolor="{colour(worst)}"];')
                done.add(cid)
            out.append(f'  "{pc.id}" -> "{cid}";')
        for lm in model.lemmas_of(pc):
            node = f"lemma:{lm.id}"
            if node not in done:
                out.append(f'  "{node}" [shape=note, fillcolor="{colour(model.lemma_verdict(lm))}", '
                           f'URL="lemma-{_slug(lm.id)}.html", target="_top"];')
                done.add(node)
            out.append(f'  "{pc.id}" -> "{node}" [style=dashed];')
    return "\n".join(out + ["}"])


def _other_claims(model: SiteModel) -> list[str]:
    """The section of the claims that are not the paper's (:meth:`SiteModel.others`): statement, status, findings."""
    ids = model.others()
    if not ids:
        return []
    lines = ["", "## Beyond the paper", "",
             "Registered claims that are not claims of the paper (issue 18's findings on a two-layer network, and any "
             "plugin claim), each with its own status.", ""]
    for cid in ids:
        pairs = model.by_claim[cid]
        c = pairs[0][0]
        row = model.rows.get(cid, {})
        verdict = str(row.get("verdict", "INCONCLUSIVE"))
        lines += [f"### `{cid}` ({_cell(', '.join(c.equations))})", ""]
        if c.statement:
            lines += [_display_math(c.statement), ""]
        lines += [f"**Status:** {_status(verdict)}", ""] + _findings_table(pairs) + [""]
    return lines


def catalogue_page(model: SiteModel) -> SitePage:
    """The catalogue: every paper claim and lemma file with its status, the legend and the graph."""
    lines = ["# Claims catalogue", "",
             "Every claim of [the paper, restated](../paper.md), with the status that today's code decides "
             f"(`isttheory verify`, {'fast' if model.run.settings.fast else 'full'} budget, seed "
             f"{model.run.settings.seed}), and every lemma file. Each row links to a page with the statement, "
             "the derivation's steps, the Monte Carlo and exact numbers, figures and the erratum.", "",
             "| claim | equations | statement | status |", "|---|---|---|---|"]
    for pc in PAPER_CLAIMS:
        row = model.rows[pc.id]
        lines.append(f"| [{pc.id}]({_slug(pc.id)}.md) | {_cell(pc.equations)} | {_cell(pc.statement)} | "
                     f"{_status(verdict_label(str(row['verdict']), row))} |")
    lines += ["", "## Lemma files", ""] + _lemma_rows(model, model.lemmas)
    lines += _other_claims(model)
    lines += ["", "## Status", "", "| status | meaning |", "|---|---|"]
    lines += [f"| {_status(k)} | {v} |" for k, v in STATUS_MEANING.items()]
    lines += ["", "## Dependency graph", "",
              "Boxes are the paper's claims, ellipses derivations (`proofs/`), hexagons Monte Carlo and exact "
              "checks, notes the lemma files (dashed: a lemma on the same equations). Colours are the statuses "
              "above; click a node to open its page.", "", "```{graphviz}", dependency_dot(model), "```", "",
              "```{toctree}", ":hidden:", ""]
    lines += [_slug(pc.id) for pc in PAPER_CLAIMS] + [f"lemma-{_slug(lm.id)}" for lm in model.lemmas] + ["```", ""]
    return SitePage("claims/index.md", "\n".join(lines))


def status_css() -> SitePage:
    """The badges' colours, from :data:`STATUS_COLOUR` (the graph's), as ``_static/status.css``."""
    rules = [f".status-{k} {{ background: {c}; color: {'#fff' if k in _LIGHT_TEXT else '#111'}; }}"
             for k, c in STATUS_COLOUR.items()]
    return SitePage("_static/status.css", "/* generated by isttheory.report.site.status_css */\n" + "\n".join(rules)
                    + "\n")


def errata_page() -> SitePage:
    """The errata, from :data:`isttheory.errata.ERRATA` (the same source as ``isttheory errata``)."""
    lines = ["# Errata", "", "What isttheory found wrong, loose or unclear in the paper, each with the derivation "
             "(`proofs/`) that checks the correction. The same list as `isttheory errata`.", ""]
    for e in ERRATA:
        lines += _erratum_section(e) + [f"Checked by derivation `{e.proof}`.", ""]
    return SitePage("errata.md", "\n".join(lines))


def pages(run: VerifyRun, figures: bool = False) -> list[SitePage]:
    """Every generated page of one verify run."""
    model = SiteModel(run)
    return ([catalogue_page(model), errata_page(), status_css()]
            + [claim_page(model, pc, figures) for pc in PAPER_CLAIMS]
            + [lemma_page(model, lm) for lm in model.lemmas])


def page_paths() -> list[str]:
    """The paths (under the docs folder) of every page :func:`pages` writes, known without a verify run:
    links to them from the hand-written pages are links into the built site, not to committed files."""
    return (["claims/index.md", "errata.md", "_static/status.css"]
            + [f"claims/{_slug(pc.id)}.md" for pc in PAPER_CLAIMS]
            + [f"claims/lemma-{_slug(lm.id)}.md" for lm in paper_lemmas()])


def write_pages(docs: Path, items: Iterable[SitePage]) -> list[Path]:
    """Write each page under ``docs`` when its text changed; return the paths rewritten."""
    written = []
    for p in items:
        path = docs / p.path
        if path.exists() and path.read_text(encoding="utf-8") == p.text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, p.text.encode())
        written.append(path)
    return written


def generate(docs: str | Path, fast: bool = True, seed: int = 0, figures: bool = True) -> list[Path]:
    """Run ``verify`` (every registered claim on the default instances) and write the site's generated pages
    under ``docs``; with ``figures``, also the ``verify --out`` report folder ``docs/_extra/report``."""
    from ..claims import default_instances
    from ..verify import run_verify

    settings = Settings(fast=fast, seed=seed)
    run = run_verify(default_instances(), settings)
    docs = Path(docs)
    written = write_pages(docs, pages(run, figures))
    if figures:
        from .verify_report import write_verify_report

        written += write_verify_report(docs / "_extra" / "report", run.to_payload(), run, settings)
    return written


__all__ = ["SitePage", "SiteModel", "catalogue_page", "claim_page", "dependency_dot", "errata_page", "generate",
           "lemma_page", "page_paths", "pages", "status_css", "write_pages"]
