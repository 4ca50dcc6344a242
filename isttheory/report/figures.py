"""Figures for the report (matplotlib, Agg backend, PNG files).

Each figure has a builder returning the :class:`~matplotlib.figure.Figure` (``*_fig``: what
``tests/test_figures_readable.py`` inspects: every axis labelled, no log axis over 40 decades) and a
writer that saves it (``*_figure``). Labels are mathtext strings from :mod:`isttheory.labels`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..io import atomic_write_bytes  # noqa: E402
from ..labels import (  # noqa: E402
    BOUND_STATISTICS,
    DIST2_L_REL,
    EPS2,
    GAP,
    GRAD2_LINV,
    H2_L,
    ITERATION,
    STEP_SIZE,
    THM2_CORRECTED,
    THM2_LIMIT,
    dist2_L,
    m,
)

MACHINE_FLOOR = float(np.finfo(float).eps) ** 2
"""Floor of a squared-error axis, relative to the starting error: an iterate known to machine precision
``ε`` relative has a squared error known to ``ε²``; below it a log axis would span hundreds of decades of
round-off (the interpolation experiment at γ = 1 reaches 1e-280, then exactly 0)."""


def _save(fig: Any, path: Path) -> Path:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def zero_from(iters: Any, values: Any) -> int | None:
    """The first recorded iteration from which ``values`` is exactly 0 to the end, or ``None``."""
    v = np.asarray(values, dtype=float)
    nonzero = np.flatnonzero(v != 0)
    last = int(nonzero[-1]) if nonzero.size else -1
    return None if last == v.size - 1 else int(np.asarray(iters)[last + 1])


def experiment_fig(exp: Any) -> Figure:
    """Relative (left) and absolute (right) error against iterations: Monte Carlo mean, 95% band, exact
    expectation (dashed). An axis whose values go below ``ε²`` of the starting error is floored there
    (curves continue off the axis) and a curve that reaches exactly 0 says from which iteration."""
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, scale, ylabel in ((axes[0], 1.0, f"{m(DIST2_L_REL)} (relative)"),
                              (axes[1], exp.scale, f"{m(dist2_L())} (absolute)")):
        floor = MACHINE_FLOOR * scale
        shown = np.concatenate([np.concatenate([c.mc_mean, c.exact, c.mc_low]) for c in exp.curves]) * scale
        shown = shown[np.isfinite(shown) & (shown > 0)]
        floored = bool(shown.size) and float(shown.min()) < floor
        zeros: list[tuple[str, str]] = []
        for i, c in enumerate(exp.curves):
            col = f"C{i}"
            ax.fill_between(c.iters, np.maximum(c.mc_low * scale, floor / 10), c.mc_high * scale, color=col,
                            alpha=0.25, lw=0)
            ax.plot(c.iters, c.mc_mean * scale, color=col, lw=1.5, label=f"$\\gamma$ = {c.gamma:g} (MC mean, 95% band)")
            ax.plot(c.iters, c.exact * scale, color="k", lw=0.9, ls="--")
            k_mc, k_ex = zero_from(c.iters, c.mc_mean), zero_from(c.iters, c.exact)
            if k_mc is not None or k_ex is not None:
                parts = [f"MC mean from iteration {k_mc}" if k_mc is not None else "",
                         f"exact expectation from iteration {k_ex}" if k_ex is not None else ""]
                k0 = min(k for k in (k_mc, k_ex) if k is not None)
                zeros.append((f"$\\gamma$ = {c.gamma:g}: exact 0 — " + "; ".join(p for p in parts if p), col))
                ax.plot([k0], [floor], marker="v", ms=9, color=col, clip_on=False, zorder=5)
        ax.plot([], [], color="k", lw=0.9, ls="--", label="exact expectation")
        ax.set_yscale("log")
        if floored:  # autoscaling would add 5% of the decades down to 1e-280 above the curves as well
            top = float(shown.max())
            ax.set_ylim(floor, top * (top / floor) ** 0.05)
            ax.axhline(floor, color="0.4", lw=0.6, ls=":",
                       label=f"axis floor {m(EPS2)}" + (" (relative)" if scale == 1.0 else r" $\times$ start"))
        for j, (text, col) in enumerate(zeros):
            ax.text(0.98, 0.03 + 0.07 * j, text + r" ($\blacktriangledown$)", transform=ax.transAxes, ha="right",
                    va="bottom", fontsize=7.5, color=col,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
        ax.set_xlabel(ITERATION)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7, loc="upper right")
    fig.suptitle(exp.title, fontsize=10)
    return fig


def experiment_figure(exp: Any, path: Path) -> Path:
    return _save(experiment_fig(exp), path)


def neighbourhood_fig(nb: Any) -> Figure:
    """Exact limit of E‖∇f‖²_{L̄⁻¹} against γ with the printed and corrected neighbourhoods of (30)."""
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.plot(nb.gammas, nb.exact, "k-", lw=2, label=f"exact limit {m(THM2_LIMIT)}")
    ax.plot(nb.gammas, nb.corrected, "C2--", label=f"corrected (30): {m(THM2_CORRECTED)}")
    ax.plot(nb.gammas, nb.paper, "C3:", label=r"printed (30), best $\beta$ of (29), $\bar L$ norm")
    ax.axhline(nb.H, color="0.5", lw=0.8, label=f"irreducible {m(H2_L)}")
    ax.set_yscale("log")
    ax.set_xlabel(STEP_SIZE)
    ax.set_ylabel(f"neighbourhood of {m(GRAD2_LINV)}")
    ax.set_title("Theorem 2: neighbourhood against the step size", fontsize=10)
    ax.legend(fontsize=7)
    return fig


def neighbourhood_figure(nb: Any, path: Path) -> Path:
    return _save(neighbourhood_fig(nb), path)


def bounds_fig(checks: list[Any]) -> Figure:
    """Each Monte Carlo bound check: the bound (or claimed value), the estimate with its band
    (3.1 SE: one-sided 99.9% for bounds, about 99.8% two-sided for identities), and the exact value.
    The y-axis is the checked statistic ``Y`` (plain tick labels: no offset text over the title)."""
    n = len(checks)
    cols = 3
    rows = -(-n // cols)
    fig = Figure(figsize=(11, 2.9 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    for ax, c in zip(axes.ravel(), checks, strict=False):
        err = [[3.1 * c.se if c.kind == "equal" else 0.0], [3.1 * c.se]]
        ax.errorbar([0], [c.estimate], yerr=err, fmt="o", color="C0", label="Monte Carlo")
        if c.exact is not None:
            ax.plot([0.3], [c.exact], "k^", label="exact")
        ax.axhline(c.bound, color="C3", lw=1.5, label="bound" if c.kind == "upper" else "claimed value")
        ax.set_xticks([])
        ax.set_xlim(-0.5, 0.8)
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        vals = [c.bound, c.estimate] + ([c.exact] if c.exact is not None else [])
        spread = max(vals) - min(vals) + 6.2 * c.se
        if spread < 1e-6 * max(1.0, abs(c.bound)):  # deterministic: show a readable window
            pad = 1e-3 * max(1.0, abs(c.bound))
            ax.set_ylim(min(vals) - pad, max(vals) + pad)
        status = "REJECTED" if c.rejected else "holds"
        ax.set_title(f"{c.equation} — {status}\n{c.instance}", fontsize=8)
        tex = BOUND_STATISTICS.get(c.statistic)
        ax.set_ylabel(m(tex) if tex else c.statistic, fontsize=7.5)
        ax.set_xlabel(f"{c.runs} runs", fontsize=7)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7, loc="best")
    fig.suptitle("Monte Carlo bound checks (Student t, Holm, family α = 1e-3); y: the per-run statistic Y",
                 fontsize=10)
    return fig


def bounds_figure(checks: list[Any], path: Path) -> Path:
    return _save(bounds_fig(checks), path)


def logistic_fig(results: dict[str, Any]) -> Figure:
    """IST (Algorithm 1, Perm-q) vs distributed GD on logistic regression: ``f(x^k) − f*`` for every split
    and γ on one axis (left) and each split's relative difference from the first split (right).

    The splits look alike, and the right panel says why: distributed GD sees only ``f = (1/n)Σ f_i``, the
    same function whoever holds which rows (up to the clients' row counts), so its curves agree to a few
    parts in a thousand; IST trains each coordinate block on one client's rows, the only place the split
    enters, and differs by a few percent (same sketch draws for every split)."""
    fig = Figure(figsize=(11.5, 4.3), layout="constrained")
    ax, dax = fig.subplots(1, 2)
    splits = list(results)
    styles = {"ist": ("-", "--", "-.", (0, (5, 1))), "gd": (":", (0, (1, 3)), (0, (3, 1, 1, 1)), (0, (1, 1)))}
    worst = {"ist": 0.0, "gd": 0.0}
    for s_i, split in enumerate(splits):
        for i, (g, r) in enumerate(results[split].items()):
            ax.plot(r.iters, np.maximum(r.gap_ist, 1e-16), color=f"C{i}", ls=styles["ist"][s_i % 4],
                    label=f"IST, {split}, $\\gamma$ = {g:g}")
            ax.plot(r.iters, np.maximum(r.gap_gd, 1e-16), color=f"C{i}", ls=styles["gd"][s_i % 4], lw=1.2,
                    label=f"distributed GD, {split}, $\\gamma$ = {g:g}")
            if s_i == 0:
                continue
            ref = results[splits[0]][g]
            for kind, mine, base in (("ist", r.gap_ist, ref.gap_ist), ("gd", r.gap_gd, ref.gap_gd)):
                rel = 100 * (mine - base) / np.abs(base)
                worst[kind] = max(worst[kind], float(np.max(np.abs(rel))))
                dax.plot(r.iters, rel, color=f"C{i}", ls="-" if kind == "ist" else ":",
                         label=f"{'IST' if kind == 'ist' else 'distributed GD'}, $\\gamma$ = {g:g}")
    ax.set_yscale("log")
    ax.set_xlabel(ITERATION)
    ax.set_ylabel(m(GAP))
    ax.set_title("logistic regression, breast cancer data: " + " and ".join(splits) + " splits", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    dax.axhline(0, color="0.5", lw=0.6)
    dax.set_xlabel(ITERATION)
    if len(splits) > 1:
        dax.set_ylabel(f"({splits[1]} − {splits[0]}) / {splits[0]} of {m(GAP)}  [%]")
        dax.set_title(f"{splits[1]} vs {splits[0]}: GD differs by ≤ {worst['gd']:.2g}% (it sees only "
                      f"$f = \\frac{{1}}{{n}}\\sum_i f_i$,\nthe same whoever holds the rows); IST by ≤ "
                      f"{worst['ist']:.2g}% (the split enters only through each client's block step)", fontsize=8.5)
        dax.legend(fontsize=6)
    else:
        dax.set_ylabel("difference between splits [%]")
        dax.text(0.5, 0.5, "one split: nothing to compare", ha="center", va="center", transform=dax.transAxes)
    return fig


def logistic_figure(results: dict[str, Any], path: Path) -> Path:
    return _save(logistic_fig(results), path)
