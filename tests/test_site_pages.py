"""The generated pages of the documentation site (isttheory/report/site.py), without Sphinx: each page says
what the run decided, a changed verdict changes the page and the graph, and text cannot break the Markdown."""

from __future__ import annotations

from isttheory.claims import Finding, Settings, Verdict, claims
from isttheory.claims.catalogue import PAPER_CLAIMS
from isttheory.derivations import discover
from isttheory.report import site
from isttheory.verify import VerifyRun


def _claim(cid: str):
    return next(c for c in claims() if c.id == cid)


def _run(*pairs) -> VerifyRun:
    return VerifyRun(Settings(fast=True, seed=0), [], list(pairs))


def _derivation_pair(name: str, verdict: Verdict = Verdict.PROVED):
    d = discover()[name]()
    f = Finding(verdict, {"G/F/N": d.gfn(), "strength": d.strength}, "derivation", variant=name,
                claim_id=f"proof:{name}")
    f.detail = d
    return _claim(f"proof:{name}"), f


def _page(pages: list[site.SitePage], path: str) -> str:
    return next(p.text for p in pages if p.path == path)


def test_every_paper_claim_and_lemma_file_gets_a_page_listed_in_the_catalogue():
    pages = site.pages(_run(_derivation_pair("eq10")))
    catalogue = _page(pages, "claims/index.md")
    for pc in PAPER_CLAIMS:
        assert f"claims/{pc.id}.md" in {p.path for p in pages}
        assert f"[{pc.id}]({pc.id}.md)" in catalogue
    assert sum(p.path.startswith("claims/lemma-") for p in pages) >= 17
    assert "```{graphviz}" in catalogue and "digraph claims" in catalogue


def test_a_claim_page_shows_its_verdict_and_every_step_of_its_derivation():
    claim, finding = _derivation_pair("eq10")
    page = _page(site.pages(_run((claim, finding))), "claims/eq10.md")
    assert 'status-PROVED">PROVED' in page
    for step in finding.detail.steps:
        assert site._cell(step.name) in page


def test_a_refuted_derivation_turns_its_page_and_its_graph_node_red():
    """Mutation: the same derivation reported REFUTED (unexpectedly) must show as REFUTED, in red, on the
    claim's page, in the catalogue and in the graph; the PROVED run shows none of that."""
    good = _run(_derivation_pair("eq10"))
    bad = _run(_derivation_pair("eq10", Verdict.REFUTED))
    red = site.STATUS_COLOUR["REFUTED"]
    for run, expect in ((good, False), (bad, True)):
        pages = site.pages(run)
        assert ('status-REFUTED">REFUTED' in _page(pages, "claims/eq10.md")) is expect
        dot = site.dependency_dot(site.SiteModel(run))
        node = next(line for line in dot.splitlines() if line.strip().startswith('"eq10" ['))
        assert (red in node) is expect


def test_lemma_files_attach_to_the_claims_of_their_equations():
    model = site.SiteModel(_run())
    thm2 = next(pc for pc in PAPER_CLAIMS if pc.id == "theorem2")
    ids = {lm.id for lm in model.lemmas_of(thm2)}
    assert {"thm2-printed", "thm2-corrected"} <= ids
    assert not any("eq17" in i for i in ids)
    assert site._equation_numbers("(14)–(16)") == {14, 15, 16}
    assert site._equation_numbers("Def. 1, (3), (4), (7)") == {3, 4, 7}


def test_table_cells_cannot_break_a_row_or_open_math():
    assert site._cell("a | b\nc $x$") == r"a \| b c \$x\$"


def test_page_paths_are_exactly_the_pages_written():
    """``page_paths`` (what test_repository_paths accepts as link targets in docs/) cannot drift from ``pages``."""
    assert sorted(site.page_paths()) == sorted(p.path for p in site.pages(_run()))


def test_claims_beyond_the_paper_get_a_section_of_their_own():
    """Issue 18's network findings are no paper claim's verifier: the catalogue lists them with their status and
    findings (a REFUTED one in red), and a run without them has no such section."""
    claim = _claim("network-bridge")
    assert "Beyond the paper" not in _page(site.pages(_run(_derivation_pair("eq10"))), "claims/index.md")
    for verdict in (Verdict.VERIFIED, Verdict.REFUTED):
        f = Finding(verdict, {"max_abs_diff": 1e-16}, "exact bridge (12)", variant="iterates+monte-carlo",
                    claim_id=claim.id, instance="digits network")
        page = _page(site.pages(_run((claim, f))), "claims/index.md")
        assert "## Beyond the paper" in page and "### `network-bridge`" in page
        assert f'status-{verdict.value}">{verdict.value}' in page and "digits network" in page
        assert claim.statement in page
