"""The sweep's figure: the neighbourhood ``E‖x − x*‖²_{L̄}`` (Theorem 2 / (30)) against ``γ`` over the grid:
exact and Monte Carlo at the same iteration K, and the exact limit as its own series."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..labels import STEP_SIZE, dist2_L, m

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_LINES = 12


def neighbourhood_fig(records: list[dict[str, Any]]) -> Figure:
    """One colour per combination of the other grid parameters (averaged over instance seeds), like with
    like: the exact value at iteration K (solid, circles) beside the Monte Carlo mean at K with a ±2 SEM bar
    (squares), and the exact limit as its own series (dotted, crosses), which a short sweep has not reached.
    Every series has markers, so a grid with one γ still shows. Only cells that ran and did not diverge are
    drawn; cells stored before ``at_K_dist2_L`` existed show the limit and Monte Carlo only."""
    from matplotlib.figure import Figure

    groups: dict[tuple[tuple[str, Any], ...], dict[float, dict[str, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: {"limit": [], "at_K": [], "mc": [], "sem": []}))
    varying = _varying(records)
    iters: set[int] = set()
    for r in records:
        res = r["result"]
        if res["status"] != "ok":
            continue
        key = tuple((k, r["params"][k]) for k in varying if k not in ("gamma", "seed") and k in r["params"])
        slot = groups[key][float(r["params"]["gamma"])]
        exact = res.get("exact") or {}
        for name, field in (("limit", "limit_dist2_L"), ("at_K", "at_K_dist2_L")):
            if exact.get(field) is not None:
                slot[name].append(exact[field])
        mc = res["monte_carlo"]
        if mc.get("dist2_L") is not None:
            slot["mc"].append(mc["dist2_L"])
            slot["sem"].append(mc.get("dist2_L_sem") or 0.0)
            iters.add(int(mc["iters"]))
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    K = f"K = {iters.pop()}" if len(iters) == 1 else "K"
    drawn = 0
    for key, by_gamma in sorted(groups.items(), key=lambda kv: repr(kv[0])):
        if drawn == MAX_LINES:
            break
        g = np.array(sorted(by_gamma))
        lim, at_k, mc = (np.array([np.mean(by_gamma[x][name]) if by_gamma[x][name] else np.nan for x in g])
                         for name in ("limit", "at_K", "mc"))
        sem = np.array([np.sqrt(np.mean(np.square(by_gamma[x]["sem"]))) if by_gamma[x]["sem"] else np.nan
                        for x in g])
        if not any(np.any(np.isfinite(v)) for v in (lim, at_k, mc)):
            continue
        colour = f"C{drawn % 10}"
        label = ", ".join(f"{k}={v}" for k, v in key) or "all cells"
        if np.any(np.isfinite(at_k)):
            ax.plot(g, at_k, "-o", ms=4, color=colour, label=f"{label}: exact at {K}")
        if np.any(np.isfinite(mc)):
            ax.errorbar(g, mc, yerr=2 * sem, fmt="s", ms=8, mfc="none", mew=1.3, color=colour, capsize=3, zorder=3,
                        label=f"{label}: Monte Carlo at {K} (±2 SEM)")
        if np.any(np.isfinite(lim)):
            ax.plot(g, lim, ":x", ms=6, color=colour, label=f"{label}: exact limit " + r"$k\to\infty$")
        drawn += 1
    if drawn == 0:
        ax.text(0.5, 0.5, "no cell ran without diverging", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.set_yscale("log")
        ax.legend(fontsize=6.5, ncol=1 if drawn <= 4 else 2)
        gammas = [float(r["params"]["gamma"]) for r in records]
        if max(gammas) >= 20 * min(gammas):  # step sizes spanning decades
            ax.set_xscale("log")
    title = f"exact and Monte Carlo at the same iteration {K}; the exact limit dotted"
    if drawn == MAX_LINES and len(groups) > MAX_LINES:
        title += f"\nfirst {MAX_LINES} of {len(groups)} parameter combinations"
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(STEP_SIZE)
    ax.set_ylabel(m(dist2_L("K")) + " (and its limit)")
    return fig


def neighbourhood_figure(records: list[dict[str, Any]], path: Path) -> Path:
    """Write :func:`neighbourhood_fig` to ``path`` (PNG)."""
    from ..report.figures import _save  # selects the Agg backend before anything draws

    return _save(neighbourhood_fig(records), path)


def _varying(records: list[dict[str, Any]]) -> list[str]:
    """Parameters that take more than one value over the records (the legend names only those)."""
    values: dict[str, set[str]] = defaultdict(set)
    for r in records:
        for k, v in r["params"].items():
            values[k].add(repr(v))
    return sorted(k for k, vs in values.items() if len(vs) > 1)
