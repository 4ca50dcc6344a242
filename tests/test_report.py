"""verify --out: every report file, figures for every bound and experiment, constants.tex, atomic writes."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from isttheory import cli
from isttheory.budget import FAST

CALLS: dict[str, int] = {}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One ``verify --out`` run, counting how often each Monte Carlo bound check runs."""
    from isttheory import montecarlo

    def counted(eq, fn):
        def wrapper(*args, **kwargs):
            CALLS[eq] = CALLS.get(eq, 0) + 1
            return fn(*args, **kwargs)
        return wrapper

    out = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(montecarlo, "CHECKS", {eq: counted(eq, fn) for eq, fn in montecarlo.CHECKS.items()})
        assert cli.main(["verify", "--quiet", "--out", str(out)]) == 0
    return out


def test_the_monte_carlo_family_runs_once(report):
    """The figure is drawn from the checks the mc-bounds claim judged (Finding.detail), not from a second run."""
    from isttheory import montecarlo

    assert CALLS == {eq: 1 for eq in montecarlo.CHECKS}


def test_the_figure_uses_the_judged_checks_and_falls_back_only_without_them():
    from isttheory.claims import Instance, Settings, default_instances
    from isttheory.claims.registry import Finding, Verdict, get
    from isttheory.montecarlo import BoundCheck
    from isttheory.report.verify_report import judged_bound_checks
    from isttheory.verify import VerifyRun

    inst: Instance = default_instances()[0]
    claim = get("mc-bounds")
    chk = BoundCheck.__new__(BoundCheck)
    judged = Finding(Verdict.VERIFIED, detail=chk)
    other = Finding(Verdict.VERIFIED, detail={"not": "a bound check"})
    run = VerifyRun(Settings(), [inst], [(claim, other), (claim, judged)])
    assert judged_bound_checks(run) == [chk]
    assert judged_bound_checks(VerifyRun(Settings(), [inst], [(claim, other)])) == []


def test_every_file_is_written(report):
    names = {p.name for p in report.iterdir()}
    assert {"results.json", "report.md", "report.html", "constants.tex", "bound_checks.png", "neighbourhood.png",
            "experiment_1.png", "experiment_2.png", "experiment_3.png"} <= names
    assert not [n for n in names if n.startswith(".")], "no temporary files left behind"
    for p in report.iterdir():
        assert p.stat().st_size > 500
        assert oct(p.stat().st_mode & 0o777) != oct(0o600)


def test_pngs_are_pngs(report):
    for p in report.glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_results_json_schema_and_bounds(report):
    data = json.loads((report / "results.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    assert data["schema"] == "isttheory.results/1" and data["unexpected"] == 0
    bounds = [f for f in data["findings"] if f["claim"] == "mc-bounds"]
    assert {f["variant"] for f in bounds} == {"(15)", "(16)", "(22)", "(24)", "(25)", "(28)", "(30)", "(31)"}
    for f in bounds:
        assert f["verdict"] in ("VERIFIED", "CORRECTED") and "exact" in f["numbers"]
        assert f["numbers"]["runs"] == FAST.bound_runs  # the budget of the default (fast) setting


def test_markdown_and_html_reference_every_figure(report):
    md = (report / "report.md").read_text()
    html = (report / "report.html").read_text()
    for p in report.glob("*.png"):
        assert f"]({p.name})" in md and f"src='{p.name}'" in html
    assert "<table>" in html and "VERIFIED" in html


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_constants_tex_compiles(report, tmp_path):
    frag = (report / "constants.tex").read_text()
    from isttheory.report.latex import document

    from .latex_harness import compile_tex

    _, _, problems = compile_tex(tmp_path, "doc", document(frag))  # twice: the document has references
    assert problems == [], problems


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    from isttheory.io import atomic_write_bytes

    target = tmp_path / "r.json"
    atomic_write_bytes(target, b"old")

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
