"""The paper's lemma files (``isttheory/lemmas/paper/``) as registry claims, one per file.

On the default run each lemma is searched over its own space (``scope = "global"``); with
``verify --problem FILE`` it is checked on that problem (:func:`~isttheory.lemmas.search.check_on_problem`),
or its finding says which hypothesis the problem does not meet. Verdicts: REFUTED (a certified
counterexample; expected for the printed versions the errata correct), SURVIVED (no counterexample in
the search budget: never called VERIFIED), INCONCLUSIVE (no instance met the hypotheses).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..lemmas import Lemma, Outcome, check, paper_lemmas
from ..lemmas.search import check_on_problem
from .instances import Instance
from .registry import Claim, Finding, Settings, Verdict, register


def _verifier(lemma: Lemma):  # type: ignore[no-untyped-def]
    def verify(inst: Instance, settings: Settings) -> Iterator[Finding]:
        cap = settings.budget.lemma_instances
        if settings.problem is not None:
            pr = settings.problem.problem
            res = check_on_problem(lemma, np.asarray(pr.L), np.asarray(pr.b), settings.problem.x0, settings.seed,
                                   cap)
            where = settings.problem.name
        else:
            res = check(lemma, seed=settings.seed, max_instances=cap)
            where = "search over the lemma's space"
        numbers: dict[str, float | int | str | bool | None] = {
            "instances": res.instances_tried, "skipped": res.skipped,
            "worst_ratio": None if res.worst is None else res.worst.ratio, "uncertified": res.uncertified}
        message = ""
        if res.verdict is Outcome.REFUTED and res.counterexample is not None:
            verdict = Verdict.REFUTED
            cx = res.counterexample
            numbers.update(margin=float(cx.margin), certified_by=cx.certified_by)
            message = f"counterexample: {cx.line()}"
        elif res.verdict is Outcome.SURVIVED and res.uncertified:
            verdict = Verdict.INCONCLUSIVE  # float64 saw it fail, exact arithmetic could not confirm: never SURVIVED
            message = (f"float64 says the statement fails on {res.uncertified} instance(s) that could not be "
                       "certified in exact arithmetic")
        elif res.verdict is Outcome.SURVIVED:
            verdict = Verdict.SURVIVED if lemma.expect != "fails" else Verdict.INCONCLUSIVE
            if lemma.expect == "fails":
                message = "expected a counterexample; none found within the budget"
        else:
            verdict = Verdict.INCONCLUSIVE
            message = "; ".join(res.skip_reasons) or "no instance met the hypotheses"
        yield Finding(verdict, numbers, "search + exact certification", message, variant="", instance=where)
    return verify


def register_paper_lemmas() -> None:
    for lemma in paper_lemmas():
        register(Claim(id=f"lemma:{lemma.id}", equations=lemma.equations, statement=lemma.latex(),
                       verify=_verifier(lemma), known_refuted=frozenset({""}) if lemma.expect == "fails" else
                       frozenset(), section="lemmas", scope="global"))


register_paper_lemmas()
