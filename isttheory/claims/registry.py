"""The claims registry: each claim of docs/paper.md is one :class:`Claim` object.

A claim names its equations, states itself in LaTeX, says which instances it
applies to, and verifies itself on an instance, returning one
:class:`Finding` per (instance, variant) with a :class:`Verdict`, the key
numbers, and the method used. Users register their own lemmas the same way::

    from isttheory.claims import Claim, Finding, Verdict, register

    def check(instance, settings):
        ...
        return [Finding(verdict=Verdict.VERIFIED, numbers={"gap": 0.0}, method="exact")]

    register(Claim(id="my-lemma", equations=("(A1)",), statement=r"...", verify=check))
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..budget import Budget, budget
from ..errors import ISTError, RegistryError
from .instances import Instance


class Verdict(str, enum.Enum):
    """PROVED: a derivation whose every decisive step is general (valid for all values of its symbols);
    CHECKED: a derivation that holds, with some decisive step at fixed sizes or on instances;
    VERIFIED: holds on the instance (a check on one problem: evidence about that problem only);
    REFUTED: fails (counterexample recorded);
    CORRECTED: the paper's version fails, a corrected one holds (see ERRATA.md; a derivation's finding says
    whether the corrected statement is PROVED or CHECKED);
    SURVIVED: a search for a counterexample found none (evidence, never a proof);
    INCONCLUSIVE: could not be decided (reason recorded)."""

    PROVED = "PROVED"
    CHECKED = "CHECKED"
    VERIFIED = "VERIFIED"
    SURVIVED = "SURVIVED"
    REFUTED = "REFUTED"
    CORRECTED = "CORRECTED"
    INCONCLUSIVE = "INCONCLUSIVE"


@dataclass(frozen=True)
class Settings:
    """How hard to look: ``fast`` for CI, otherwise full; ``seed`` for all randomness."""

    fast: bool = True
    seed: int = 0
    problem: Instance | None = None
    """``verify --problem``: instance-dependent checks run on this problem (or say why they cannot)."""

    @property
    def budget(self) -> Budget:
        """The run and sample counts of this setting (:mod:`isttheory.budget`): ``FAST`` or ``FULL``."""
        return budget(self.fast)


@dataclass
class Finding:
    """One verdict on one instance (and, where a claim has variants, one variant)."""

    verdict: Verdict
    numbers: dict[str, float | int | str | bool | None] = field(default_factory=dict)
    method: str = ""
    message: str = ""
    variant: str = ""
    claim_id: str = ""
    instance: str = ""
    seconds: float = 0.0
    errored: bool = False
    detail: object = None
    """The typed result behind ``numbers`` (a :class:`~isttheory.montecarlo.BoundCheck` for ``mc-bounds``, the
    :class:`~isttheory.derivations.base.Derivation` for a ``proof:`` claim), for tools that need more than the
    flattened numbers: ``verify --out`` draws ``bound_checks.png`` from it instead of running the Monte Carlo
    family again, and the docs site lists a derivation's steps. Not serialised: ``numbers`` is the record."""

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim_id, "instance": self.instance, "variant": self.variant,
                "verdict": self.verdict.value, "method": self.method, "numbers": self.numbers,
                "message": self.message, "seconds": round(self.seconds, 4), "errored": self.errored}


Verifier = Callable[[Instance, Settings], Iterable[Finding]]


@dataclass(frozen=True)
class Claim:
    """A claim: ``id``, the paper's ``equations``, a LaTeX ``statement``,
    ``applies(instance)`` (its hypotheses) and ``verify(instance, settings)``.

    ``known_refuted`` lists variants whose REFUTED/CORRECTED verdict is
    expected (a recorded erratum or a claim the paper itself says can fail);
    they do not make ``verify`` exit non-zero.
    """

    id: str
    equations: tuple[str, ...]
    statement: str
    verify: Verifier
    applies: Callable[[Instance], bool] = lambda inst: True
    known_refuted: frozenset[str] = frozenset()
    section: str = ""
    scope: str = "instance"
    """``"instance"``: run on every instance; ``"global"``: run once (derivations)."""

    def run(self, instance: Instance, settings: Settings) -> list[Finding]:
        """Verify on one instance; a verifier that raises gives an INCONCLUSIVE finding."""
        start = time.perf_counter()
        try:
            findings = list(self.verify(instance, settings))
        except ISTError as exc:
            findings = [Finding(Verdict.INCONCLUSIVE, message=f"not applicable: {exc}", method="error")]
        except Exception as exc:  # a bug in a verifier: reported, and verify exits non-zero
            findings = [Finding(Verdict.INCONCLUSIVE, message=f"verifier error: {type(exc).__name__}: {exc}",
                                method="error", errored=True)]
        for f in findings:
            f.claim_id = self.id
            f.instance = f.instance or instance.name  # a global claim may name its own instances
            f.seconds = (time.perf_counter() - start) / max(1, len(findings))
        return findings

    def unexpected(self, finding: Finding) -> bool:
        """A REFUTED finding that the registry does not already record as expected, or an errored verifier."""
        if finding.errored:
            return True
        return finding.verdict is Verdict.REFUTED and finding.variant not in self.known_refuted


_REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    """Add a claim to the registry (ids are unique)."""
    if claim.id in _REGISTRY:
        raise RegistryError(f"claim {claim.id!r} is already registered")
    _REGISTRY[claim.id] = claim
    return claim


def unregister(claim_id: str) -> None:
    """Remove a claim (for tests and interactive use)."""
    _REGISTRY.pop(claim_id, None)


def claims() -> list[Claim]:
    """All registered claims, in registration order."""
    return list(_REGISTRY.values())


def get(claim_id: str) -> Claim:
    return _REGISTRY[claim_id]
