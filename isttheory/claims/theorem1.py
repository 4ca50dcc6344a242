"""Theorem 1's condition (14) on every instance, by SDP cross-checked with eigenvalues.

VERIFIED: ``W̄ ⪰ 0`` and (14) holds for the computed ``θ*`` (SDP optimal and agreeing with the
generalised eigenvalue to 1e-6). REFUTED: (14) is infeasible, with a certificate — expected for
Perm-1 on Remark 1's instance (the paper says (14) can fail), so recorded as a known refutation.
INCONCLUSIVE: the solver failed or disagrees with the eigen-solver (never VERIFIED then).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..constants import SolveStatus, rate, theta_star
from ..errors import IncompatibleSketchError
from ..moments import SketchMoments
from ..sketches import Identity, Permutation, PreconditionedPerm
from .instances import Instance
from .registry import Claim, Finding, Settings, Verdict, register


def verify_condition14(inst: Instance, settings: Settings) -> Iterator[Finding]:
    p = inst.problem
    if not p.is_L_bar_positive_definite:
        yield Finding(Verdict.INCONCLUSIVE, message="L̄ is singular: Theorem 1 needs L̄ ≻ 0", method="hypotheses")
        return
    for make in (lambda: Identity(p.n, p.d), lambda: Permutation(p.n, p.d), lambda: PreconditionedPerm.from_problem(p)):
        try:
            sk = make()
        except IncompatibleSketchError:
            continue
        mo = SketchMoments(p, sk)
        r = theta_star(mo.W, mo.BLB)
        numbers: dict[str, float | int | str | bool | None] = {
            "theta": r.eigen_value, "theta_sdp": r.value, "status": r.status, "solver": r.solver,
            "rate": rate(mo.W, p.L_bar)}
        if not r.trustworthy:
            yield Finding(Verdict.INCONCLUSIVE, numbers, "SDP + generalised eigenvalues",
                          f"solver not trusted: {r.status} {r.message}", variant=f"{inst.name}/{sk.spec}")
        elif r.status is SolveStatus.INFEASIBLE:
            v = np.asarray(r.certificate)
            numbers["certificate_vWv"] = float(v @ mo.W @ v)
            yield Finding(Verdict.REFUTED, numbers, "SDP + certificate", f"(14) infeasible: {r.message}",
                          variant=f"{inst.name}/{sk.spec}")
        else:
            yield Finding(Verdict.VERIFIED, numbers, "SDP + generalised eigenvalues", variant=f"{inst.name}/{sk.spec}")


register(Claim(
    id="thm1-condition14", equations=("(14)",), section="Theorem 1",
    statement=r"\exists\,\theta>0:\ \mathbb{E}[\bar B\bar L\bar B] \preceq \theta \bar W,\ \bar W \succeq 0",
    verify=verify_condition14, known_refuted=frozenset({"remark1/perm"})))
