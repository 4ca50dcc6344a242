"""The main job: run every registered claim on every instance and summarise."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from .claims import Finding, Instance, Settings, Verdict, claims
from .claims.catalogue import roll_up
from .claims.registry import Claim
from .progress import ProgressBar


@dataclass
class VerifyRun:
    """All findings of one ``verify`` run."""

    settings: Settings
    instances: list[Instance]
    findings: list[tuple[Claim, Finding]]

    @property
    def unexpected(self) -> list[Finding]:
        """REFUTED findings not recorded as expected, and verifiers that errored."""
        return [f for c, f in self.findings if c.unexpected(f)]

    def summary(self) -> dict[str, int]:
        counts = Counter(f.verdict.value for _, f in self.findings)
        return {v.value: counts.get(v.value, 0) for v in Verdict}

    def to_payload(self) -> dict[str, Any]:
        return {
            "schema": "isttheory.results/1",
            "settings": {"fast": self.settings.fast, "seed": self.settings.seed},
            "instances": [{"name": i.name, "n": i.problem.n, "d": i.problem.d, "description": i.description}
                          for i in self.instances],
            "findings": [f.to_dict() for _, f in self.findings],
            "summary": self.summary(),
            "unexpected": len(self.unexpected),
            "paper_claims": roll_up(self.findings),
        }


def run_verify(instances: list[Instance], settings: Settings, progress: ProgressBar | None = None,
               only: set[str] | None = None) -> VerifyRun:
    """Run every applicable claim (or those whose ids are in ``only``) on every instance (``progress``, a
    :func:`~isttheory.progress.progress_bar`, is told each claim and instance as it starts, and gets
    ``update(1)`` per pair)."""
    out: list[tuple[Claim, Finding]] = []
    chosen = [c for c in claims() if only is None or c.id in only]
    for claim in chosen:
        if claim.scope == "global":
            if progress is not None:
                progress.set_postfix_str(claim.id)
            out += [(claim, f) for f in claim.run(GLOBAL_INSTANCE, settings)]
            if progress is not None:
                progress.update(1)
    for inst in instances:
        for claim in chosen:
            if claim.scope != "global" and claim.applies(inst):
                if progress is not None:
                    progress.set_postfix_str(f"{claim.id} on {inst.name}")
                out += [(claim, f) for f in claim.run(inst, settings)]
            if progress is not None and claim.scope != "global":
                progress.update(1)
    return VerifyRun(settings, instances, out)


GLOBAL_INSTANCE = Instance("derivation", None, description="derivations (each step's reach in its finding)")  # type: ignore[arg-type]
