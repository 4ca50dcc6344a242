"""Figures of the ``network`` command: predicted against measured plateaus, and loss curves with the prediction.

Built as :class:`matplotlib.figure.Figure` (no pyplot state) so the tests can inspect them with the readability
checker of ``tests/test_figures_readable.py``; axis formulas from :mod:`isttheory.labels`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..io import atomic_write_bytes
from ..labels import ITERATION, NETWORK_GAP, NETWORK_PLATEAU, STEP_SIZE, m


def plateau_figure(rows: Sequence[dict[str, Any]], model: str) -> Figure:
    """Plateau against γ: predicted (``model``) and measured (mean over runs, ±2 SEM)."""
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    g = np.array([r["gamma"] for r in rows], dtype=float)
    pred = np.array([np.nan if r["predicted_plateau"] is None else r["predicted_plateau"] for r in rows])
    meas = np.array([np.nan if r["measured_plateau"] is None else r["measured_plateau"] for r in rows])
    sem = np.array([0.0 if r["sem"] is None or not np.isfinite(r["sem"]) else r["sem"] for r in rows])
    ax.plot(g, pred, "s--", label=f"predicted ({model})")
    ax.errorbar(g, meas, yerr=2 * sem, fmt="o", capsize=3, label="measured (mean ± 2 SEM)")
    ax.set_xlabel(STEP_SIZE)
    ax.set_ylabel(m(NETWORK_PLATEAU))
    if g.size > 1 and g.min() > 0 and g.max() / g.min() > 10:
        ax.set_xscale("log")
    ax.legend()
    return fig


def curve_figure(curves: Sequence[dict[str, Any]], model: str) -> Figure:
    """The measured mean loss gap against rounds, one line per γ, with the predicted plateau (dashed) and, for the
    exact model, the exact ``E F − F_ref`` at the plateau rounds (dotted)."""
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    for i, c in enumerate(curves):
        colour = f"C{i % 10}"
        ax.plot(c["iters"], c["measured"], "-", color=colour, marker="." if len(c["iters"]) == 1 else None,
                label=f"measured, γ = {c['gamma']:g}")
        if c.get("predicted") is not None:
            ax.axhline(c["predicted"], ls="--", color=colour, label=f"predicted plateau ({model})")
        if c.get("exact_iters") is not None:
            ax.plot(c["exact_iters"], c["exact"], ":", color=colour, lw=2,
                    marker="." if len(c["exact_iters"]) == 1 else None, label="exact expectation")
    ax.set_xlabel(ITERATION)
    ax.set_ylabel(m(NETWORK_GAP))
    ax.legend(fontsize="small")
    return fig


def save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as PNG (atomically)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    return path
