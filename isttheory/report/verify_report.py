"""The report folder of ``isttheory verify --out DIR``: figures, ``constants.tex``, ``results.json``,
``report.md`` and ``report.html``, each written atomically.

The bound-check figure is drawn from the :class:`~isttheory.montecarlo.BoundCheck` objects that the
``mc-bounds`` claim judged during the run (``Finding.detail``), so the Monte Carlo family runs once and
the figure shows exactly the runs behind the verdicts. Only when that claim did not run (``--only``)
does the report run the family itself, with the same budget and seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import generators
from ..claims.registry import Settings
from ..experiments import PAPER_EXPERIMENTS, experiment_title, neighbourhood, paper_experiment
from ..labels import DIST2_L_REL, GAMMA, GRAD2_LINV, m
from ..logistic import logistic_problem, run_ist_vs_gd
from ..montecarlo import BoundCheck, run_family
from ..progress import ProgressBar, SilentBar
from ..verify import VerifyRun
from .figures import bounds_figure, experiment_figure, logistic_figure, neighbourhood_figure
from .files import write_results
from .latex import fragment

LOGISTIC_CAPTION = ("Beyond quadratics: IST (Algorithm 1, Perm-q) vs distributed GD on logistic regression with "
                    "iid and label-sorted clients. GD converges; IST stalls at about 9% of the initial gap, a bias "
                    f"that does not shrink with {m(GAMMA)} (as in the corrected Theorem 2). The two splits agree: "
                    "GD sees only the average f, the same whoever holds the rows, and IST moves by a few percent "
                    "(right panel)")
NEIGHBOURHOOD_CAPTION = (f"Theorem 2: exact limit of {m(GRAD2_LINV)} against the step size {m(GAMMA)}, with the "
                         "printed and corrected bounds")
BOUNDS_CAPTION = "Monte Carlo checks of every bound, with exact values"


def judged_bound_checks(run: VerifyRun) -> list[BoundCheck]:
    """The bound checks behind the run's ``mc-bounds`` findings, in the order they were judged."""
    return [f.detail for _, f in run.findings if isinstance(f.detail, BoundCheck)]


FIGURES: tuple[tuple[str, str], ...] = (
    *((f"Relative error {m(DIST2_L_REL)} against iterations: {experiment_title(i)}", f"experiment_{i + 1}.png")
      for i in range(len(PAPER_EXPERIMENTS))),
    (NEIGHBOURHOOD_CAPTION, "neighbourhood.png"),
    (BOUNDS_CAPTION, "bound_checks.png"),
    (LOGISTIC_CAPTION, "logistic.png"))
"""``(caption, file name)`` of each figure :func:`draw_figures` draws, in order."""
FIGURE_STEPS = len(FIGURES)
"""How many figures :func:`draw_figures` draws (a progress bar's total)."""


def draw_figures(out: str | Path, run: VerifyRun, settings: Settings,
                 progress: ProgressBar | None = None) -> list[tuple[str, str]]:
    """Draw the report's figures into the folder ``out`` (created if missing); return their ``(caption, file
    name)`` pairs. ``progress`` is told each figure as it starts and gets ``update(1)`` when it is written."""
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    bar: ProgressBar = progress if progress is not None else SilentBar()
    budget = settings.budget
    figures: list[tuple[str, str]] = []
    for i in range(len(PAPER_EXPERIMENTS)):
        name = f"experiment_{i + 1}.png"
        bar.set_postfix_str(name)
        experiment_figure(paper_experiment(i, settings.fast, settings.seed), d / name)
        figures.append(FIGURES[i])
        bar.update(1)
    bar.set_postfix_str("neighbourhood.png")
    neighbourhood_figure(neighbourhood(generators.heterogeneous(8, 8, 0.7, seed=2)), d / "neighbourhood.png")
    figures.append(FIGURES[-3])
    bar.update(1)
    bar.set_postfix_str("bound_checks.png")
    checks = judged_bound_checks(run) or run_family(budget.bound_runs, settings.seed)
    bounds_figure(checks, d / "bound_checks.png")
    figures.append(FIGURES[-2])
    bar.update(1)
    bar.set_postfix_str("logistic.png")
    results = {split: {g: run_ist_vs_gd(logistic_problem(split=split), g, budget.logistic_iters,
                                        budget.logistic_runs, settings.seed)
                       for g in (0.1, 0.3)} for split in ("iid", "sorted")}
    logistic_figure(results, d / "logistic.png")
    figures.append(FIGURES[-1])
    bar.update(1)
    return figures


REPORT_STEPS = FIGURE_STEPS + 2
"""The steps of :func:`write_verify_report`: the figures, ``constants.tex`` (it runs the derivations), then
``results.json``, ``report.md`` and ``report.html``."""


def write_verify_report(out: str | Path, payload: dict[str, Any], run: VerifyRun, settings: Settings,
                        progress: ProgressBar | None = None) -> list[Path]:
    """Write the report folder ``out`` (created if missing); return the paths written, figures first.
    ``progress`` (total :data:`REPORT_STEPS`) is told each figure or file as it starts."""
    d = Path(out)
    bar: ProgressBar = progress if progress is not None else SilentBar()
    figures = draw_figures(d, run, settings, bar)
    bar.set_postfix_str("constants.tex (derivations)")
    latex = fragment(run)
    bar.update(1)
    bar.set_postfix_str("report.html, report.md, results.json")
    written = [d / n for _, n in figures] + write_results(d, payload, figures, latex)
    bar.update(1)
    return written
