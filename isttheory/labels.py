"""Formulas of figure axes, legends and report captions: one home for each.

Every formula is a matplotlib *mathtext* string (a TeX subset, no ``$``); :func:`m` wraps one for a label.
The figures (``isttheory.report.figures``, ``isttheory.sweep.figure``) draw them with mathtext and the HTML
report renders the same strings to inline SVG (``isttheory.report.mathsvg``), so a label reads the same in
both. A Monte Carlo statistic has a plain-text name (tables, ``results.json``) and its formula
(:data:`BOUND_STATISTICS`, the y-axis of ``bound_checks.png``), defined side by side in :class:`Label`.
"""

from __future__ import annotations

from typing import NamedTuple


def m(tex: str) -> str:
    """A formula as a mathtext label segment: ``$tex$``."""
    return f"${tex}$"


def dist2_L(k: str = "k") -> str:
    """``E‖x^k − x*‖²_L̄`` at iteration ``k`` (``"k"``, ``"K"``, ``"0"``): the quantity of (16) and (30)."""
    return rf"\mathbb{{E}}\,\|x^{{{k}}} - x^\star\|^2_{{\bar L}}"


DIST2_L_REL = rf"{dist2_L()}\;/\;\|x^0 - x^\star\|^2_{{\bar L}}"
"""The relative error of the experiment figures."""
GRAD2_LINV = r"\mathbb{E}\,\|\nabla f(x^k)\|^2_{\bar L^{-1}}"
"""``E‖∇f(x^k)‖²_{L̄⁻¹}`` (equal to :func:`dist2_L` when ``L̄ ≻ 0``): the neighbourhood of Theorem 2."""
H2_L = r"\|h\|^2_{\bar L}"
"""The irreducible bias ``‖h‖²_L̄`` of Theorem 2."""
THM2_LIMIT = r"\|h\|^2_{\bar L} + \gamma\sigma^2/(2-\gamma)"
"""The exact limit of :data:`GRAD2_LINV` under (23)."""
THM2_CORRECTED = r"\|h\|^2_{\bar L} + \gamma\sigma^2"
"""The corrected neighbourhood of (30)."""
GAP = r"f(x^k) - f^\star"
"""The optimality gap of the logistic-regression figure."""
EPS2 = r"\epsilon_{\mathrm{mach}}^2"
"""Machine precision squared: the floor of a squared-error axis."""
GAMMA = r"\gamma"
ITERATION = f"iteration {m('k')}"
STEP_SIZE = f"step size {m(GAMMA)}"


class Label(NamedTuple):
    """A quantity's plain-text name (tables, JSON) and its formula (figures, HTML)."""

    plain: str
    tex: str


STAT_EQ15 = Label("avg ‖∇f‖²_{L̄⁻¹W̄L̄⁻¹} − RHS",
                  r"\mathrm{avg}_{k<K}\,\|\nabla f(x^k)\|^2_{\bar L^{-1}\bar W\bar L^{-1}} - \mathrm{RHS}")
STAT_EQ16 = Label("‖x^K − x*‖²_L̄", r"\|x^K - x^\star\|^2_{\bar L}")
STAT_DESCENT = Label("avg ‖∇f‖² − 2λ(f(x⁰) − f(x^K))/K",
                     r"\mathrm{avg}_{k<K}\,\|\nabla f(x^k)\|^2 - 2\lambda(f(x^0) - f(x^K))/K")
STAT_EQ25 = Label("‖x¹ − x*‖²_L̄ (claimed 0)", r"\|x^1 - x^\star\|^2_{\bar L}\ \mathrm{(claimed\ 0)}")
STAT_EQ28 = Label("E[x^K] (coordinate furthest from the closed form)", r"x^K_j\ \mathrm{(furthest\ coordinate)}")
STAT_EQ30 = Label("avg ‖∇f‖²_{L̄⁻¹} − 2(f(x⁰) − f(x^K))/(γK)",
                  r"\mathrm{avg}_{k<K}\,\|\nabla f(x^k)\|^2_{\bar L^{-1}} - 2(f(x^0) - f(x^K))/(\gamma K)")
STAT_EQ30_LIMIT = Label("avg_{K/2≤k≤K} ‖x^k − x*‖²_L̄ (→ lim E‖∇f‖²_{L̄⁻¹})",
                        r"\mathrm{avg}_{K/2\leq k\leq K}\,\|x^k - x^\star\|^2_{\bar L}")
STAT_EQ31 = Label("x^K (every run)", r"x^K_j\ \mathrm{(every\ run)}")

BOUND_STATISTICS: dict[str, str] = {s.plain: s.tex for s in (STAT_EQ15, STAT_EQ16, STAT_DESCENT, STAT_EQ25,
                                                               STAT_EQ28, STAT_EQ30, STAT_EQ30_LIMIT, STAT_EQ31)}
"""Plain statistic name to its formula (the y-axis label of each bound-check panel)."""

NETWORK_GAP = r"F(W^k) - F_{\mathrm{ref}}"
"""The network's loss gap (``isttheory network``): ``F_ref`` is ``min F`` over ``W₂`` (train = last) or ``F(w*)``."""
NETWORK_PLATEAU = r"\mathrm{plateau\ of}\ F(W^k) - F_{\mathrm{ref}}"
"""The plateau of :data:`NETWORK_GAP` (the figure of plateau against γ)."""
