"""The Monte Carlo bound checks of :mod:`isttheory.montecarlo` as one registry claim (Holm across them).

Verdicts: VERIFIED when the bound is not rejected; CORRECTED for (30), whose corrected form
(ERRATA: thm2-constants, thm2-norm) is what is checked; REFUTED when Holm rejects it. When Holm rejects
the Monte Carlo estimate against the exact expectation instead, the simulator and the exact engine
disagree: the finding is INCONCLUSIVE and marked as an error (``verify`` exits non-zero), since a bug in
either engine says nothing about the paper.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..montecarlo import run_family, run_on_problem
from .instances import Instance
from .registry import Claim, Finding, Settings, Verdict, register


def verify_bounds(inst: Instance, settings: Settings) -> Iterator[Finding]:
    """The family on its own instances, or with ``verify --problem`` on that problem: each check whose
    hypotheses it meets runs there (Holm across them), the others say which hypothesis it does not meet."""
    runs = settings.budget.bound_runs
    if settings.problem is not None:
        checks, skipped = run_on_problem(settings.problem.problem, runs, settings.seed)
        for eq, reason in skipped.items():
            yield Finding(Verdict.INCONCLUSIVE, {}, "not run", f"{eq}: hypothesis unmet: {reason}", variant=eq,
                          instance=settings.problem.name)
    else:
        checks = run_family(runs, settings.seed)
    for c in checks:
        numbers: dict[str, float | int | str | bool | None] = {
            "bound": c.bound, "estimate": c.estimate, "exact": c.exact, "tightness": c.tightness,
            "margin": c.margin, "p_value": c.p_value, "runs": c.runs, "mc_vs_exact_z": c.mc_vs_exact_z,
            "exact_p_value": c.exact_p_value, "equations": c.equation}
        method = "Monte Carlo, Student t, Holm (family α = 1e-3); exact dynamics"
        where = c.instance if settings.problem is None else settings.problem.name
        if c.disagrees:
            yield Finding(Verdict.INCONCLUSIVE, numbers, method,
                          f"Monte Carlo and the exact dynamics disagree (p = {c.exact_p_value:.2g}, Holm): a bug in "
                          f"the simulator or the exact engine, so the bound is not judged; {c.statistic}",
                          variant=c.equation, instance=where, errored=True, detail=c)
            continue
        if c.rejected:
            verdict = Verdict.REFUTED
        else:
            verdict = Verdict.CORRECTED if c.equation == "(30)" else Verdict.VERIFIED
        yield Finding(verdict, numbers, method, c.statistic, variant=c.equation, instance=where, detail=c)


register(Claim(id="mc-bounds", equations=("(15)", "(16)", "(22)", "(24)", "(25)", "(28)", "(30)", "(31)"),
               statement=r"\text{the paper's bounds hold on Monte Carlo runs (Holm-corrected)}",
               verify=verify_bounds, scope="global", section="bounds"))
