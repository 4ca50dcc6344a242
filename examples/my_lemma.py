"""Verify your own lemma with isttheory: ``isttheory verify --plugin examples/my_lemma.py``.

Lemma (a variant of (25)): with the preconditioned sketch (23) at γ = 1 on an interpolation problem,
the SGD form (2) reaches x* = 0 in one iteration on every draw, but Algorithm 1 (the merge (6), here
with two local steps) does not: (23) has no perfect reconstruction (P̄ ≠ I), so (25) does not carry
over to the method as run. Checked exactly (dynamics engine, enumerated support) on every default
instance where (23) applies; the first draft of this lemma ("Algorithm 1 also converges in one step")
was refuted by exactly this check.
"""

import numpy as np

from isttheory.claims import Claim, Finding, Verdict, register
from isttheory.dynamics import ExactDynamics
from isttheory.errors import IncompatibleSketchError
from isttheory.problem import QuadraticProblem
from isttheory.sketches import PreconditionedPerm


def verify(instance, settings):
    p = instance.problem
    interp = QuadraticProblem(np.asarray(p.L), np.zeros((p.n, p.d)))  # the lemma is about interpolation
    try:
        sk = PreconditionedPerm.from_problem(interp)
    except IncompatibleSketchError as exc:
        yield Finding(Verdict.INCONCLUSIVE, message=f"not applicable: {exc}", method="hypotheses")
        return
    if sk.support_size() > 50_000:
        yield Finding(Verdict.INCONCLUSIVE, message="support too large to enumerate", method="hypotheses")
        return
    d0, sgd = ExactDynamics(interp, sk, 1.0, form="sgd").run(1).metrics["dist2_L"]
    ist = ExactDynamics(interp, sk, 1.0, form="ist", local_steps=2).run(1).metrics["dist2_L"][-1]
    holds = sgd <= 1e-12 * d0 and ist > 1e-6 * d0  # round-off tolerance relative to the initial error
    yield Finding(Verdict.VERIFIED if holds else Verdict.REFUTED, {"sgd_E_dist2": sgd, "ist_E_dist2": ist},
                  "exact dynamics (enumerated support)")


register(Claim(id="my-one-step-contrast", equations=("(23)", "(25)", "(6)"),
               statement=r"x^1_{(2)} = x^* \ne x^1_{(6)}", verify=verify))
