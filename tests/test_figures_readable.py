"""Figures a reader can read: every figure the project writes is built as a matplotlib Figure and inspected.

The checker (:func:`unreadable`) fails a figure with an unlabelled axis, a log axis spanning more than
40 decades, or a series of one point drawn without a marker (invisible). It is applied to the experiment
figures, the neighbourhood, the bound checks, the logistic figure and the sweep's figure; and it is
checked itself on figures built wrong on purpose (an unlabelled axis, a 1e-280 axis, the experiment figure
with its machine-precision floor removed).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from matplotlib.figure import Figure

from isttheory import generators
from isttheory.experiments import error_curves, neighbourhood
from isttheory.report import figures
from isttheory.sketches import PreconditionedPerm

MAX_DECADES = 40.0


def unreadable(fig: Figure) -> list[str]:
    """What makes ``fig`` unreadable (empty list: readable)."""
    problems = []
    for i, ax in enumerate(a for a in fig.axes if a.get_visible()):
        name = f"axes {i} ({ax.get_title() or 'untitled'!r})"
        if not ax.get_xlabel().strip():
            problems.append(f"{name}: no x-axis label")
        if not ax.get_ylabel().strip():
            problems.append(f"{name}: no y-axis label")
        for axis, scale, lim in (("y", ax.get_yscale(), ax.get_ylim()), ("x", ax.get_xscale(), ax.get_xlim())):
            if scale == "log":
                lo, hi = sorted(lim)
                decades = math.log10(hi) - math.log10(max(lo, 1e-323))
                if decades > MAX_DECADES:
                    problems.append(f"{name}: log {axis}-axis spans {decades:.0f} decades ({lo:.3g} to {hi:.3g})")
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            if y.size and np.isfinite(y).sum() == 1 and line.get_marker() in (None, "", "None", " "):
                problems.append(f"{name}: the one-point series {line.get_label()!r} has no marker")
    return problems


# --------------------------------------------------------------------------- the checker catches
def test_the_checker_catches_an_unlabelled_axis():
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [1, 2])
    ax.set_xlabel("iteration")
    assert unreadable(fig) == ["axes 0 ('untitled'): no y-axis label"]
    ax.set_ylabel("error")
    assert unreadable(fig) == []


def test_the_checker_catches_a_log_axis_over_40_decades():
    fig = Figure()
    ax = fig.subplots()
    ax.plot(np.arange(20), np.logspace(14, -280, 20))
    ax.set_yscale("log")
    ax.set_xlabel("k")
    ax.set_ylabel("error")
    found = unreadable(fig)
    assert len(found) == 1 and "spans" in found[0] and "decades" in found[0]


def test_the_checker_catches_an_invisible_single_point_series():
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0.05], [0.1], "-")
    ax.set_xlabel("γ")
    ax.set_ylabel("y")
    assert "has no marker" in unreadable(fig)[0]
    ax.plot([0.05], [0.2], "-o")
    assert len(unreadable(fig)) == 1


# --------------------------------------------------------------------------- the report's figures
@pytest.fixture(scope="module")
def interpolation():
    """The third experiment (interpolation, γ = 1 reaches exactly 0), with few runs."""
    prob = generators.interpolation(8, 8, 0.7, seed=3)
    return error_curves("heterogeneous, interpolation", prob, PreconditionedPerm.from_problem(prob),
                        [0.1, 0.6, 1.0], 60, 20)


def test_experiment_figures_are_readable():
    prob = generators.heterogeneous(8, 8, 0.7, seed=2)
    exp = error_curves("heterogeneous", prob, PreconditionedPerm.from_problem(prob), [0.1, 1.0], 30, 20)
    assert unreadable(figures.experiment_fig(exp)) == []


def test_a_curve_reaching_exactly_zero_is_drawn_to_machine_precision_and_marked(interpolation):
    assert any(np.all(c.exact[-5:] == 0) for c in interpolation.curves)  # the premise: an exact 0
    fig = figures.experiment_fig(interpolation)
    assert unreadable(fig) == []
    for ax in fig.axes:
        lo, hi = ax.get_ylim()
        assert lo > 0 and math.log10(hi / lo) < 36  # ~ε² below the start, not 1e-280
        notes = [t.get_text() for t in ax.texts if "exact 0" in t.get_text()]
        assert len(notes) == 1 and re.search(r"from iteration \d+", notes[0]) and "= 1:" in notes[0]


def test_without_the_floor_the_checker_fails_the_experiment_figure(interpolation, monkeypatch):
    """Mutation: no machine-precision floor, the γ = 1 axis falls to about 1e-280 and the check fails."""
    monkeypatch.setattr(figures, "MACHINE_FLOOR", 0.0)
    assert any("decades" in p for p in unreadable(figures.experiment_fig(interpolation)))


def test_zero_from():
    assert figures.zero_from([0, 1, 2, 3], [1.0, 0.0, 0.5, 0.0]) == 3
    assert figures.zero_from([0, 5, 10], [1.0, 0.0, 0.0]) == 5
    assert figures.zero_from([0, 1], [1.0, 1e-300]) is None


def test_neighbourhood_figure_is_readable():
    nb = neighbourhood(generators.heterogeneous(4, 4, 0.7, seed=2), np.linspace(0.1, 0.9, 5))
    fig = figures.neighbourhood_fig(nb)
    assert unreadable(fig) == []
    assert "$" in fig.axes[0].get_ylabel()  # mathtext, not plain-text TeX


def test_bound_checks_figure_labels_every_axis_without_offset_text():
    from isttheory.montecarlo import run_family

    checks = run_family(50, 0)
    fig = figures.bounds_fig(checks)
    fig.canvas.draw()  # formats the tick labels (and would create an offset text)
    assert unreadable(fig) == []
    for ax, c in zip([a for a in fig.axes if a.get_visible()], checks, strict=True):
        assert ax.get_ylabel().startswith("$"), c.statistic  # every statistic has its formula
        assert ax.yaxis.get_offset_text().get_text() == "", (c.equation, ax.yaxis.get_offset_text().get_text())


def test_logistic_figure_is_readable_and_says_how_the_splits_differ():
    from isttheory.logistic import logistic_problem, run_ist_vs_gd

    res = {s: {g: run_ist_vs_gd(logistic_problem(split=s), g, 30, 3, 0) for g in (0.1, 0.3)}
           for s in ("iid", "sorted")}
    fig = figures.logistic_fig(res)
    assert unreadable(fig) == []
    title = fig.axes[1].get_title()
    assert "GD differs by ≤" in title and "IST by ≤" in title
    gd = max(np.max(np.abs(res["sorted"][g].gap_gd / res["iid"][g].gap_gd - 1)) for g in (0.1, 0.3))
    assert gd < 0.01  # the premise of the title: GD sees the same f under both splits


# --------------------------------------------------------------------------- the sweep's figure
SPEC = """
[sweep]
seed = 0
[grid]
generator = "heterogeneous"
heterogeneity = 0.5
n = 4
q = 1
sketch = "precond-perm"
gamma = {gamma}
[monte_carlo]
runs = 200
iters = 30
"""


def _records(gamma: str) -> list[dict]:
    from isttheory.sweep.cell import run_cell
    from isttheory.sweep.spec import parse_spec

    spec = parse_spec(SPEC.format(gamma=gamma))
    return [{"params": c.params, "result": run_cell(c.params, c.mc_seed, spec.runs, spec.iters, spec.max_d)}
            for c in spec.cells]


def test_the_sweep_compares_exact_and_monte_carlo_at_the_same_iteration():
    """precond-perm at γ = 0.05 after 30 steps: far from the limit, but the exact value at K agrees with the
    Monte Carlo mean at K (the old figure set the limit against Monte Carlo at K and looked like disagreement)."""
    (rec,) = _records("0.05")
    ex, mc = rec["result"]["exact"], rec["result"]["monte_carlo"]
    assert abs(ex["at_K_dist2_L"] - mc["dist2_L"]) < 5 * mc["dist2_L_sem"]
    assert abs(ex["limit_dist2_L"] - mc["dist2_L"]) > 50 * mc["dist2_L_sem"]
    assert ex["at_K_f"] is not None and "limit_f" in ex and "ms_rate" in ex  # existing keys kept


def test_sweep_figure_is_readable_with_one_or_several_step_sizes():
    from isttheory.sweep.figure import neighbourhood_fig

    for gamma in ("0.05", "[0.05, 0.3, 1.0]"):
        fig = neighbourhood_fig(_records(gamma))
        assert unreadable(fig) == []
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert any("exact at K = 30" in s for s in labels) and any("Monte Carlo at K = 30" in s for s in labels)
        assert any("exact limit" in s for s in labels)


def test_sweep_figure_without_a_cell_that_ran_is_still_labelled():
    from isttheory.sweep.figure import neighbourhood_fig

    fig = neighbourhood_fig([{"params": {"gamma": 0.1}, "result": {"status": "invalid", "error": "x"}}])
    assert unreadable(fig) == []


# --------------------------------------------------------------------------- formulas in report.html
def test_report_html_renders_formulas_offline():
    from isttheory.labels import GRAD2_LINV, m
    from isttheory.report.files import render_html

    payload = {"summary": {"VERIFIED": 1}, "unexpected": 0, "findings": [],
               "paper_claims": [{"id": "lemma:x", "equations": "(30)", "statement": r"\|h\|^2_{\bar L} \le 1",
                                 "verdict": "SURVIVED", "strength": "", "findings": {"SURVIVED": 1}}]}
    html = render_html(payload, [(f"the limit of {m(GRAD2_LINV)} against γ", "n.png")])
    assert html.count("<svg") == 2
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "ids stay unique across formulas"
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", "", html, flags=re.S))
    assert "$" not in visible and "\\bar" not in visible
    assert "alt='the limit of \\mathbb{E}" in html  # alt text: the TeX without dollars
