"""Symbolic proofs as claims: each derivation module becomes one registry claim.

Verdict: VERIFIED when every step holds; CORRECTED when it holds and
ERRATA.md records that it proves a corrected version of the paper's
statement; REFUTED when a step fails (with the failed steps as message).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..derivations import discover
from ..errata import ERRATA
from .instances import Instance
from .registry import Claim, Finding, Settings, Verdict, register

_CORRECTING = {e.proof for e in ERRATA if e.kind in ("typo", "wrong", "loose", "unsupported")}


def _verifier(name: str) -> object:
    derive = discover()[name]

    def verify(inst: Instance, settings: Settings) -> Iterator[Finding]:
        d = derive()
        sym = sum(s.kind == "symbolic" for s in d.steps)
        numbers: dict[str, float | int | str | bool | None] = {
            "steps": len(d.steps), "symbolic": sym, "numeric": len(d.steps) - sym,
            "equations": ", ".join(d.equations)}
        if not d.holds:
            msg = "; ".join(f"{s.equation} {s.name}" for s in d.failed())
            yield Finding(Verdict.REFUTED, numbers, "symbolic proof", f"failed: {msg}", variant=name)
            return
        verdict = Verdict.CORRECTED if name in _CORRECTING else Verdict.VERIFIED
        note = "corrected statement proved (ERRATA.md)" if verdict is Verdict.CORRECTED else ""
        yield Finding(verdict, numbers, "symbolic proof", note, variant=name)

    return verify


for _name in discover():
    register(Claim(id=f"proof:{_name}", equations=(), statement=f"derivation {_name}",
                   verify=_verifier(_name), scope="global", section="proofs"))  # type: ignore[arg-type]
