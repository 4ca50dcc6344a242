"""What a notebook shows of a lemma check: ``CheckResult`` and ``Counterexample`` display themselves, and a
counterexample feeds back into the library in one line (``ExactDynamics``, ``simulate``).

The refuted lemma is the printed (30) (``thm2-printed``; a certified counterexample within 10 instances at seed
0), the surviving one the corrected (30)."""

from __future__ import annotations

import numpy as np
import pytest

from isttheory.lemmas import Outcome, paper_lemma
from isttheory.lemmas.results import exact_text
from isttheory.problem import QuadraticProblem


@pytest.fixture(scope="module")
def refuted():  # type: ignore[no-untyped-def]
    res = paper_lemma("thm2-printed").check(max_instances=20, seed=0)
    assert res.verdict is Outcome.REFUTED and res.counterexample is not None
    return res


def test_the_result_html_has_verdict_counts_and_the_exact_counterexample(refuted) -> None:  # type: ignore[no-untyped-def]
    page = refuted._repr_html_()
    cx = refuted.counterexample
    assert "REFUTED" in page and f"{refuted.instances_tried} tried, {refuted.skipped} skipped" in page
    for value in (cx.lhs, cx.rhs, cx.margin):
        assert exact_text(value) in page
    assert cx.certified_by in page


def test_the_result_shows_its_statement_as_latex(refuted) -> None:  # type: ignore[no-untyped-def]
    assert refuted._repr_latex_() == f"$\\displaystyle {paper_lemma('thm2-printed').latex()}$"


def test_a_survived_result_shows_the_worst_ratio_and_its_instance() -> None:
    res = paper_lemma("thm2-corrected").check(max_instances=10, seed=0)
    assert res.verdict is Outcome.SURVIVED and res.worst is not None
    page = res._repr_html_()
    assert f"{res.worst.ratio:.6g} at {res.worst.point.describe()}" in page
    assert "counterexample" not in page


def test_the_counterexample_displays_its_exact_matrices(refuted) -> None:  # type: ignore[no-untyped-def]
    cx = refuted.counterexample
    page = cx._repr_html_()
    assert "L_i (exact)" in page
    for Li in cx.point.exact_L():
        for v in np.asarray(Li).flat:
            assert f"<td>{exact_text(v)}</td>" in page


def test_the_counterexample_is_a_problem_with_its_sketch_step_and_K(refuted) -> None:  # type: ignore[no-untyped-def]
    cx = refuted.counterexample
    assert isinstance(cx.problem, QuadraticProblem)
    assert np.array_equal(cx.problem.L, cx.point.float_L())
    assert cx.sketch.n == cx.point.n and cx.gamma == float(cx.point.gamma) and cx.K == cx.point.K


def test_feeding_it_back_exact_dynamics_and_simulate_agree(refuted) -> None:  # type: ignore[no-untyped-def]
    """ExactDynamics gives the certified lhs (an average of E‖∇f‖²_{L̄⁻¹} over k < K); the simulator's mean over
    20 000 runs lies within 4 standard errors of the exact value at K (error rate ≈ 6e-5 under the normal
    approximation; deterministic for the fixed seed)."""
    cx = refuted.counterexample
    exact = cx.exact_dynamics().run(cx.K)
    avg = float(np.mean(exact.metrics["grad2_Linv"][:cx.K]))
    assert avg == pytest.approx(float(cx.lhs), rel=1e-9)
    mc = cx.simulate(runs=20_000, seed=1, iters=cx.K + 1, record=[cx.K])
    mean, sem = float(mc.metrics["grad2_Linv"].mean[-1]), float(mc.metrics["grad2_Linv"].sem[-1])
    assert abs(mean - exact.metrics["grad2_Linv"][cx.K]) <= 4 * sem + 1e-15
