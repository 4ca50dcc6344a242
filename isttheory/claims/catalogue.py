"""The claims of docs/paper.md, each mapped to the registry verifiers that decide it.

A paper claim's verdict rolls up its verifiers' findings: REFUTED if any finding is an unexpected
refutation; INCONCLUSIVE if any is inconclusive; CORRECTED if a derivation checks a corrected
statement (ERRATA.md; the row's ``strength`` says PROVED or CHECKED); otherwise PROVED when its derivations are
PROVED (every decisive step general) and CHECKED when not. A verifier entry with
``confirms_by_refutation`` counts a REFUTED finding as confirmation (Remark 1 *claims* that (14) fails on its instance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .registry import Claim, Finding, Verdict


@dataclass(frozen=True)
class Source:
    claim: str
    variants: frozenset[str] | None = None
    confirms_by_refutation: bool = False

    def matches(self, claim: Claim, finding: Finding) -> bool:
        return claim.id == self.claim and (self.variants is None or finding.variant in self.variants)


@dataclass(frozen=True)
class PaperClaim:
    id: str
    equations: str
    statement: str
    sources: tuple[Source, ...] = field(default_factory=tuple)


def _s(claim: str, *variants: str, refutes: bool = False) -> Source:
    return Source(claim, frozenset(variants) if variants else None, refutes)


PAPER_CLAIMS: tuple[PaperClaim, ...] = (
    PaperClaim("def1", "Def. 1, (3), (4), (7)", "unbiased sketches; Rand-q has ω = d/q − 1, Perm-q ω = n − 1",
               (_s("def1-unbiased"), _s("def1-omega-randq"), _s("proof:def1"))),
    PaperClaim("forms", "(2), (6)", "forms (2) and (6) coincide exactly under perfect reconstruction",
               (_s("perfect-reconstruction"),)),
    PaperClaim("assumption1", "(8)", "f of (12) is L̄-smooth", (_s("proof:smoothness"),)),
    PaperClaim("eq10", "(10)", "compressed-model gradients are biased", (_s("proof:eq10"),)),
    PaperClaim("eq11", "(11)", "the bounded-gradient assumption fails", (_s("proof:eq11"),)),
    PaperClaim("theorem1", "(14)–(16)", "Theorem 1: descent (15) and linear rate (16) under (14)",
               (_s("proof:theorem1"), _s("thm1-condition14"), _s("mc-bounds", "(15)", "(16)"))),
    PaperClaim("identity", "Thm 1 example", "identity sketch: θ = λ_max(L̄), the GD rates",
               (_s("proof:identity_example"),)),
    PaperClaim("perm1", "(17)", "Perm-1: E[B̄] = nD̄ and (14) reduces to (17)", (_s("proof:perm1_example"),)),
    PaperClaim("remark1", "(18)–(19)", "Remark 1: W̄ is not PSD for c > 2ab/(a+b)",
               (_s("proof:remark1"), _s("thm1-condition14", "remark1/perm", refutes=True))),
    PaperClaim("sec311", "(20)–(22)", "homogeneous preconditioning matches GD",
               (_s("proof:precond_homogeneous"), _s("mc-bounds", "(22)"))),
    PaperClaim("sec312", "(23)–(25)", "sketch preconditioning: E[B̄] = I, θ = 1, one-step convergence",
               (_s("proof:precond_heterogeneous"), _s("mc-bounds", "(24)", "(25)"))),
    PaperClaim("estimator", "(26)–(27)", "the estimator's mean is L̄⁻¹∇f + h", (_s("proof:estimator_bias"),)),
    PaperClaim("mean-recursion", "(28)", "the mean recursion and its fixed point x^∞; bias vanishing as n = d → ∞",
               (_s("proof:mean_recursion"), _s("mc-bounds", "(28)"), _s("sec41-bias-vanishes"))),
    PaperClaim("theorem2", "(29)–(30)", "Theorem 2: convergence to a neighbourhood", (_s("proof:theorem2"),
                                                                                     _s("mc-bounds", "(30)"))),
    PaperClaim("sec4-homogeneous", "(31)", "homogeneous case: g = x − b̃/√n, σ² = 0, eigenvector condition",
               (_s("proof:homogeneous_bias"), _s("mc-bounds", "(31)"))),
    PaperClaim("compressed-gd", "(32)–(35)", "contrast with SGD and compressed GD", (_s("proof:compressed_gd"),)),
    PaperClaim("sec43", "§4.3", "earlier IST theory needs ω ≲ μ²/L²", (_s("proof:ist_comparison"),)),
)


def verdict_label(verdict: str, numbers: dict[str, Any]) -> str:
    """``CORRECTED (PROVED)`` / ``CORRECTED (CHECKED)``: what a corrected statement is, from a finding's numbers
    or a roll-up row (``corrected`` or ``strength``); any other verdict unchanged."""
    extra = numbers.get("corrected") or numbers.get("strength")
    return f"{verdict} ({extra})" if verdict == "CORRECTED" and extra else verdict


_PRECEDENCE = (Verdict.PROVED, Verdict.VERIFIED, Verdict.CHECKED, Verdict.SURVIVED, Verdict.CORRECTED,
               Verdict.INCONCLUSIVE, Verdict.REFUTED)
_HOLDS = (Verdict.PROVED, Verdict.VERIFIED, Verdict.CHECKED)


def roll_up(findings: Sequence[tuple[Claim, Finding]]) -> list[dict[str, Any]]:
    """One row per paper claim: its verdict and how many findings of each kind support it.

    A paper claim whose findings all hold is PROVED when every derivation among them is PROVED, and CHECKED
    otherwise (a check on instances, however many, is never a proof). Any other finding decides the row as
    before (SURVIVED < CORRECTED < INCONCLUSIVE < REFUTED). A CORRECTED row's ``strength`` says whether the
    corrected statement is PROVED or CHECKED."""
    rows = []
    for pc in PAPER_CLAIMS:
        counts: dict[str, int] = {}
        worst = Verdict.PROVED
        derivations: list[str] = []
        seen = False
        for c, f in findings:
            for s in pc.sources:
                if not s.matches(c, f):
                    continue
                seen = True
                if f.verdict is Verdict.REFUTED and s.confirms_by_refutation:
                    key, effective = "VERIFIED (by the expected counterexample)", Verdict.VERIFIED
                elif f.verdict is Verdict.REFUTED and not c.unexpected(f):
                    key, effective = "REFUTED (expected)", Verdict.VERIFIED
                else:
                    key, effective = f.verdict.value, f.verdict
                counts[key] = counts.get(key, 0) + 1
                if "G/F/N" in f.numbers and f.verdict in (Verdict.PROVED, Verdict.CHECKED, Verdict.CORRECTED):
                    derivations.append(str(f.numbers.get("corrected", f.verdict.value)))  # a derivation's finding
                if _PRECEDENCE.index(effective) > _PRECEDENCE.index(worst):
                    worst = effective
        strength = "PROVED" if derivations and all(x == "PROVED" for x in derivations) else "CHECKED"
        verdict = (Verdict(strength) if worst in _HOLDS else worst) if seen else Verdict.INCONCLUSIVE
        rows.append({"id": pc.id, "equations": pc.equations, "statement": pc.statement, "verdict": verdict.value,
                     "strength": strength if seen else "", "findings": counts,
                     "verifiers": sorted({s.claim for s in pc.sources})})
    covered = {s.claim for pc in PAPER_CLAIMS for s in pc.sources}
    extra: dict[str, list[Finding]] = {}
    claim_of: dict[str, Claim] = {}
    for c, f in findings:  # lemma files and plugin claims: one row each
        if c.id not in covered:
            extra.setdefault(c.id, []).append(f)
            claim_of[c.id] = c
    for cid, fs in extra.items():
        counts = {}
        worst = Verdict.PROVED
        for f in fs:
            expected = f.verdict is Verdict.REFUTED and not claim_of[cid].unexpected(f)
            key = "REFUTED (expected)" if expected else f.verdict.value
            counts[key] = counts.get(key, 0) + 1
            effective = Verdict.CORRECTED if expected else f.verdict
            if _PRECEDENCE.index(effective) > _PRECEDENCE.index(worst):
                worst = effective
        c = claim_of[cid]
        rows.append({"id": cid, "equations": ", ".join(c.equations), "statement": c.statement,
                     "verdict": "REFUTED (expected)" if counts.get("REFUTED (expected)") and worst is
                     Verdict.CORRECTED else worst.value, "strength": "", "findings": counts, "verifiers": [cid]})
    return rows
