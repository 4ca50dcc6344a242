"""Figures for the report (matplotlib, Agg backend, PNG files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..io import atomic_write_bytes  # noqa: E402


def _save(fig: Any, path: Path) -> Path:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def experiment_figure(exp: Any, path: Path) -> Path:
    """Relative (left) and absolute (right) error against iterations: Monte Carlo mean, 95% band,
    exact expectation (dashed)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0))
    for ax, scale, ylabel in ((axes[0], 1.0, "E‖x^k − x*‖²_L̄ / ‖x⁰ − x*‖²_L̄ (relative)"),
                              (axes[1], exp.scale, "E‖x^k − x*‖²_L̄ (absolute)")):
        for i, c in enumerate(exp.curves):
            col = f"C{i}"
            ax.fill_between(c.iters, np.maximum(c.mc_low * scale, 1e-300), c.mc_high * scale, color=col, alpha=0.25,
                            lw=0)
            ax.plot(c.iters, c.mc_mean * scale, color=col, lw=1.5, label=f"γ = {c.gamma:g} (MC mean, 95% band)")
            ax.plot(c.iters, c.exact * scale, color="k", lw=0.9, ls="--")
        ax.plot([], [], color="k", lw=0.9, ls="--", label="exact expectation")
        ax.set_yscale("log")
        ax.set_xlabel("iteration k")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7)
    fig.suptitle(exp.title, fontsize=10)
    return _save(fig, path)


def neighbourhood_figure(nb: Any, path: Path) -> Path:
    """Exact limit of E‖∇f‖²_{L̄⁻¹} against γ with the printed and corrected neighbourhoods of (30)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(nb.gammas, nb.exact, "k-", lw=2, label="exact limit ‖h‖²_L̄ + γσ²/(2−γ)")
    ax.plot(nb.gammas, nb.corrected, "C2--", label="corrected (30): ‖h‖²_L̄ + γσ²")
    ax.plot(nb.gammas, nb.paper, "C3:", label="printed (30), best β of (29), L̄ norm")
    ax.axhline(nb.H, color="0.5", lw=0.8, label="irreducible ‖h‖²_L̄")
    ax.set_yscale("log")
    ax.set_xlabel("step size γ")
    ax.set_ylabel("neighbourhood of E‖∇f‖²_{L̄⁻¹}")
    ax.set_title("Theorem 2: neighbourhood against the step size", fontsize=10)
    ax.legend(fontsize=7)
    return _save(fig, path)


def bounds_figure(checks: list[Any], path: Path) -> Path:
    """Each Monte Carlo bound check: the bound (or claimed value), the estimate with its band
    (3.1 SE: one-sided 99.9% for bounds, about 99.8% two-sided for identities), and the exact value."""
    n = len(checks)
    cols = 3
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(9, 2.6 * rows), squeeze=False)
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
        ax.ticklabel_format(axis="y", useOffset=False, style="sci", scilimits=(-3, 4))
        vals = [c.bound, c.estimate] + ([c.exact] if c.exact is not None else [])
        spread = max(vals) - min(vals) + 6.2 * c.se
        if spread < 1e-6 * max(1.0, abs(c.bound)):  # deterministic: show a readable window
            pad = 1e-3 * max(1.0, abs(c.bound))
            ax.set_ylim(min(vals) - pad, max(vals) + pad)
        status = "REJECTED" if c.rejected else "holds"
        ax.set_title(f"{c.equation} — {status}\n{c.instance}", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Monte Carlo bound checks (Student t, Holm, family α = 1e-3)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def logistic_figure(results: dict[str, Any], path: Path) -> Path:
    """IST (Algorithm 1, Perm-q) vs distributed GD on logistic regression: f(x^k) − f* for each split and γ."""
    fig, axes = plt.subplots(1, len(results), figsize=(5.2 * len(results), 3.8), squeeze=False)
    for ax, (split, runs) in zip(axes[0], results.items(), strict=True):
        for i, (g, r) in enumerate(runs.items()):
            ax.plot(r.iters, np.maximum(r.gap_ist, 1e-16), color=f"C{i}", label=f"IST, γ = {g:g}")
            ax.plot(r.iters, np.maximum(r.gap_gd, 1e-16), color=f"C{i}", ls=":", label=f"distributed GD, γ = {g:g}")
        ax.set_yscale("log")
        ax.set_xlabel("iteration k")
        ax.set_ylabel("f(x^k) − f*")
        ax.set_title(f"logistic regression, breast cancer data, {split} split", fontsize=9)
        ax.legend(fontsize=6)
    return _save(fig, path)
