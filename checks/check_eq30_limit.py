"""Monte Carlo check of Theorem 2's exact neighbourhood ``lim E‖∇f‖²_{L̄⁻¹} = ‖h‖²_L̄ + γσ²/(2 − γ)`` under (23)
(lemma ``thm2-limit``, ERRATA thm2-tradeoff); mutation: the σ² term as ``γσ²/(2 + γ)`` (σ² scaled by
``(2 − γ)/(2 + γ)`` at γ = 1/2).

Method: two-sided Student-t test of the per-run average of ``‖x^k − x*‖²_L̄`` over ``K/2 ≤ k ≤ K`` from ``x*``
(level 1e-3; Holm across the family in ``isttheory verify``); the estimate is also compared with the exact
expectation from the dynamics engine, whose own limit (a Lyapunov solve) matches the closed form.
"""

import pytest
from bound_asserts import assert_holds, assert_mutation_detected

from isttheory.montecarlo import check_eq30_limit


def test_bound_holds(runs):
    c = check_eq30_limit(runs, seed=0)
    assert_holds(c)
    assert c.constants["exact_limit"] == pytest.approx(c.bound, rel=1e-9)
    assert c.exact == pytest.approx(c.bound, rel=1e-9)


def test_mutation_fails(runs):
    assert_mutation_detected(check_eq30_limit(runs, seed=0, sigma_coef=(2 - 0.5) / (2 + 0.5)))


def test_the_exact_engine_limit_must_match_its_recursion(runs, monkeypatch):
    from isttheory.dynamics import ExactDynamics

    wrong = {"grad2_Linv": 1.01 * 0.2319411066751191}
    monkeypatch.setattr(ExactDynamics, "limit_metrics", property(lambda self: wrong))
    assert check_eq30_limit(runs, seed=0).exact_p_value == 0.0
