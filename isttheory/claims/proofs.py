"""Derivations as claims: each derivation module becomes one registry claim.

The verdict says exactly what the derivation shows (see :mod:`isttheory.derivations.base`):

- PROVED: every step holds and every decisive step is *general* (valid for all values of its symbols);
- CHECKED: every step holds, but some decisive step is *fixed-size* (symbolic at stated sizes) or
  *numeric* (on instances), or a stated constant is valid but looser than the sharp one (``loose``);
- CORRECTED: ERRATA.md records that the paper's version is wrong and this derivation checks a corrected one;
  ``numbers["corrected"]`` says whether the corrected statement is PROVED or CHECKED, and
  ``numbers["refutation"]`` whether the counterexample to the printed version is certified (general or
  exact arithmetic) or only in floating point;
- REFUTED: a step of the derivation is disproved or fails (those steps are the message);
- INCONCLUSIVE: no step fails, but some step is *undecided* (SymPy could neither prove nor refute it).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..derivations import Derivation, discover
from ..errata import ERRATA
from .instances import Instance
from .registry import Claim, Finding, Settings, Verdict, register

_CORRECTING = {e.proof for e in ERRATA if e.kind in ("typo", "wrong", "loose", "unsupported")}


def derivation_numbers(d: Derivation) -> dict[str, float | int | str | bool | None]:
    """The key numbers of a derivation's finding: step counts per kind and its strength."""
    c = d.counts()
    refuted = d.refutation_certified
    return {"G/F/N": d.gfn(), "steps": len(d.steps), "general": c["general"], "fixed": c["fixed-size"],
            "numeric": c["numeric"], "strength": d.strength, "loose": len(d.loose()), "premises": len(d.premises),
            "refutation": "" if refuted is None else "certified" if refuted else "float only",
            "equations": ", ".join(d.equations)}


def derivation_finding(name: str, d: Derivation) -> Finding:
    """The finding of derivation ``name`` (see the module docstring for the verdicts)."""
    numbers = derivation_numbers(d)
    method = f"derivation ({d.gfn()} general/fixed-size/numeric steps)"
    if d.refuting():
        msg = "; ".join(f"{s.equation} {s.name}" for s in d.refuting())
        return Finding(Verdict.REFUTED, numbers, method, f"failed: {msg}", variant=name)
    if not d.holds:  # only undecided steps: SymPy could neither prove nor refute them
        msg = "; ".join(f"{s.equation} {s.name}: {s.detail}" for s in d.failed())
        return Finding(Verdict.INCONCLUSIVE, numbers, method, f"undecided: {msg}", variant=name)
    notes = []
    if d.weakest():
        kinds = sorted({s.reach for s in d.weakest()})
        notes.append(f"{len(d.weakest())} decisive step(s) not general ({'; '.join(kinds)})")
    if d.loose():
        notes.append("loose: " + "; ".join(s.detail.removeprefix("loose: ") for s in d.loose()))
    if d.refutation_certified is False:
        notes.append("a counterexample to the printed version is in floating point only")
    if d.premises:
        notes.append("premises: " + "; ".join(d.premises))
    strength = d.strength
    if name in _CORRECTING:
        numbers["corrected"] = strength
        return Finding(Verdict.CORRECTED, numbers, method,
                       "; ".join([f"corrected statement {strength} (ERRATA.md)", *notes]), variant=name)
    verdict = Verdict.PROVED if strength == "PROVED" else Verdict.CHECKED
    return Finding(verdict, numbers, method, "; ".join(notes), variant=name)


def _verifier(name: str) -> object:
    derive = discover()[name]

    def verify(inst: Instance, settings: Settings) -> Iterator[Finding]:
        d = derive()
        finding = derivation_finding(name, d)
        finding.detail = d  # the steps, for pages that show them (isttheory.report.site)
        yield finding

    return verify


for _name in discover():
    register(Claim(id=f"proof:{_name}", equations=(), statement=f"derivation {_name}",
                   verify=_verifier(_name), scope="global", section="proofs"))  # type: ignore[arg-type]
