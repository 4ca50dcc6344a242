"""The sweep's figure: the neighbourhood ``E‖x − x*‖²_{L̄}`` (Theorem 2 / (30)) against ``γ`` over the grid."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

MAX_LINES = 12


def neighbourhood_figure(records: list[dict[str, Any]], path: Path) -> Path:
    """One line per combination of the other grid parameters (averaged over instance seeds):
    the exact limit where it was computed (solid), the Monte Carlo value at iteration K with a
    ±2 SEM bar (markers). Only cells that ran and did not diverge are drawn."""
    import matplotlib.pyplot as plt

    from ..report.figures import _save  # selects the Agg backend before pyplot draws

    groups: dict[tuple[tuple[str, Any], ...], dict[float, dict[str, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: {"exact": [], "mc": [], "sem": []}))
    varying = _varying(records)
    for r in records:
        res = r["result"]
        if res["status"] != "ok":
            continue
        key = tuple((k, r["params"][k]) for k in varying if k not in ("gamma", "seed") and k in r["params"])
        slot = groups[key][float(r["params"]["gamma"])]
        exact = (res.get("exact") or {}).get("limit_dist2_L")
        if exact is not None:
            slot["exact"].append(exact)
        mc = res["monte_carlo"]
        if mc.get("dist2_L") is not None:
            slot["mc"].append(mc["dist2_L"])
            slot["sem"].append(mc.get("dist2_L_sem") or 0.0)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    drawn = 0
    for key, by_gamma in sorted(groups.items(), key=lambda kv: repr(kv[0])):
        if drawn == MAX_LINES:
            break
        g = np.array(sorted(by_gamma))
        label = ", ".join(f"{k}={v}" for k, v in key) or "all cells"
        ex = np.array([np.mean(by_gamma[x]["exact"]) if by_gamma[x]["exact"] else np.nan for x in g])
        mc = np.array([np.mean(by_gamma[x]["mc"]) if by_gamma[x]["mc"] else np.nan for x in g])
        sem = np.array([np.sqrt(np.mean(np.square(by_gamma[x]["sem"]))) if by_gamma[x]["sem"] else np.nan
                        for x in g])
        if not (np.any(np.isfinite(ex)) or np.any(np.isfinite(mc))):
            continue
        line = None
        if np.any(np.isfinite(ex)):
            (line,) = ax.plot(g, ex, "-", label=label + " (exact)")
        colour = None if line is None else line.get_color()
        ax.errorbar(g, mc, yerr=2 * sem, fmt="o", ms=4, color=colour, capsize=2,
                    label=label + " (Monte Carlo)" if line is None else None)
        drawn += 1
    if drawn == 0:
        ax.text(0.5, 0.5, "no cell ran without diverging", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.set_yscale("log")
        ax.legend(fontsize=7)
        gammas = [float(r["params"]["gamma"]) for r in records]
        if max(gammas) >= 20 * min(gammas):  # step sizes spanning decades
            ax.set_xscale("log")
    if drawn == MAX_LINES and len(groups) > MAX_LINES:
        ax.set_title(f"first {MAX_LINES} of {len(groups)} parameter combinations", fontsize=9)
    ax.set_xlabel("step size γ")
    ax.set_ylabel(r"$E\|x - x^*\|^2_{\bar L}$  (exact limit; Monte Carlo at $K$)")
    return _save(fig, path)


def _varying(records: list[dict[str, Any]]) -> list[str]:
    """Parameters that take more than one value over the records (the legend names only those)."""
    values: dict[str, set[str]] = defaultdict(set)
    for r in records:
        for k, v in r["params"].items():
            values[k].add(repr(v))
    return sorted(k for k, vs in values.items() if len(vs) > 1)
