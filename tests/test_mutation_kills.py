"""Tests written to kill mutants that survived the rest of the suite (see MUTATION.md, mutation/run.py).

Each one checks mathematics against a hand-worked case or an independent computation; none pins a
literal of the code under test.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path
from statistics import NormalDist
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import scipy.linalg as sla

from isttheory import constants, generators
from isttheory.constants import (
    SDPResult,
    SolverOptions,
    SolveStatus,
    optimal_step,
    optimal_step_eigen,
    theta_eigen,
    theta_star,
)
from isttheory.dynamics import ExactDynamics
from isttheory.errors import IncompatibleSketchError, LemmaError, ParameterError, SingularError
from isttheory.lemmas import Lemma
from isttheory.lemmas.arith import ExactArith, FloatArith
from isttheory.lemmas.engines import FloatEngine
from isttheory.lemmas.expr import Undefined
from isttheory.lemmas.points import Point, factor_of
from isttheory.lemmas.vocabulary import MAX_ITERATION, VOCABULARY, Evaluator
from isttheory.moments import SketchMoments
from isttheory.problem import QuadraticProblem
from isttheory.sketches import Identity, Permutation, PreconditionedPerm
from isttheory.sketches.clients import PermClients
from isttheory.sketches.finite import FiniteSketch
from isttheory.stats import holm, mean_equals, mean_interval, upper_test
from isttheory.validation import MOMENT_DIVERGENCE_FACTOR as DIVERGENCE_FACTOR

ROOT = Path(__file__).resolve().parent.parent

# ================================================================================ Holm's procedure


@pytest.mark.parametrize("p, alpha, expected", [
    # m = 3, α = .05, thresholds α/3 = .0167, α/2 = .025, α/1 = .05:
    # .01 ≤ .0167 reject; .02 ≤ .025 reject; .03 ≤ .05 reject
    ([0.01, 0.02, 0.03], 0.05, [True, True, True]),
    # .01 ≤ .0167 reject; next smallest .03 > .025: stop, .04 is retained although .04 ≤ .05
    ([0.01, 0.04, 0.03], 0.05, [True, False, False]),
    # m = 4, thresholds .0125, .0167, .025, .05: .001 and .012 rejected, then .04 > .025 stops
    ([0.04, 0.001, 0.2, 0.012], 0.05, [False, True, False, True]),
    # step-down stops for good: .03 > .0167 at rank 2, so .045 ≤ .05 at rank 4 is not reached
    ([0.04, 0.03, 0.001, 0.045], 0.05, [False, False, True, False]),
    # m = 3, α = .03, thresholds .01, .015, .03: .005 and .011 rejected, .5 retained
    ([0.005, 0.5, 0.011], 0.03, [True, False, True]),
    # ties: both ≤ α/2 = .025 → both rejected; both .03 > .025 → none (though each ≤ α)
    ([0.02, 0.02], 0.05, [True, True]),
    ([0.03, 0.03], 0.05, [False, False]),
    # on the threshold counts as rejected (p ≤ α/(m − rank)): .025 = .05/2, then .05 = .05/1
    ([0.05, 0.025], 0.05, [True, True]),
    # one hypothesis: plain level-α test
    ([0.05], 0.05, [True]),
    ([0.0500001], 0.05, [False]),
    # the smallest above α/m rejects nothing, however small the rest are relative to α
    ([0.011, 0.012, 0.013, 0.014, 0.015], 0.05, [False] * 5),
    ([], 0.05, []),
])
def test_holm_hand_worked(p: list[float], alpha: float, expected: list[bool]) -> None:
    assert holm(p, alpha) == expected


def _holm_adjusted(p: list[float], alpha: float) -> list[bool]:
    """Independent formulation: Holm-adjusted p-values ``p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j))``
    (1-based ranks), reject ``H_(i)`` iff ``p̃_(i) ≤ α``."""
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * np.asarray(p)[order]))
    out = [False] * m
    for rank, i in enumerate(order):
        out[int(i)] = bool(adj[rank] <= alpha)
    return out


def test_holm_equals_adjusted_p_value_formulation() -> None:
    rng = np.random.default_rng(20240601)
    for _ in range(400):
        m = int(rng.integers(1, 9))
        # a mixture of null-like and small p-values; rounded so the products are not on a threshold
        p = np.round(np.where(rng.random(m) < 0.5, rng.random(m), rng.random(m) * 0.02), 6).tolist()
        alpha = float(rng.choice([0.01, 0.05, 0.1]))
        assert holm(p, alpha) == _holm_adjusted(p, alpha), (p, alpha)


N_FAMILIES = 20_000


def _fwer(p_values: np.ndarray, true_null: np.ndarray, alpha: float) -> float:
    return float(np.mean([any(r and t for r, t in zip(holm(row.tolist(), alpha), true_null, strict=True))
                          for row in p_values]))


@pytest.mark.parametrize("n_false", [0, 2])
def test_holm_family_wise_error_rate(n_false: int) -> None:
    """m = 5 hypotheses, the last ``5 − n_false`` true (independent uniform p-values), the first
    ``n_false`` false with p = 1e-12 (always rejected first). Holm rejects a true null only if the
    smallest of the ``m0 = 5 − n_false`` true-null p-values is ≤ α/m0 (the false ones use up the first
    ranks), so the exact FWER is ``1 − (1 − α/m0)^m0`` (0.0490 for m0 = 5, 0.0492 for m0 = 3), just
    under α = 0.05. The estimate from 20 000 seeded families is Binomial/N with standard error
    SE = √(q(1 − q)/N) ≈ 0.0015: it must be ≤ α + 4·SE (FWER control) and within 4·SE of the exact
    value (the procedure is not trivially conservative: Bonferroni over all 5 with a true-null count
    of 3 would give 0.030, and the level α/(m − rank) replaced by α gives 0.226)."""
    alpha, m = 0.05, 5
    m0 = m - n_false
    rng = np.random.default_rng(1234 + n_false)
    p = rng.random((N_FAMILIES, m))
    p[:, :n_false] = 1e-12
    true_null = np.arange(m) >= n_false
    est = _fwer(p, true_null, alpha)
    exact = 1 - (1 - alpha / m0) ** m0
    se = math.sqrt(exact * (1 - exact) / N_FAMILIES)
    assert est <= alpha + 4 * se
    assert abs(est - exact) <= 4 * se, (est, exact, se)


# ================================================================================ mean tests


def test_mean_equals_hand_worked() -> None:
    # samples 1, 2, 3, 4: mean 2.5, s = √(5/3), SE = s/2 = 0.6455, z = 2.5/0.6455 = 3.873 against 0
    x = np.array([1.0, 2.0, 3.0, 4.0])
    r = mean_equals(x[:, None], np.array([0.0]), alpha=0.05)
    assert r.max_z == pytest.approx(2.5 / (math.sqrt(5 / 3) / 2), rel=1e-12)
    assert r.threshold == pytest.approx(NormalDist().inv_cdf(1 - 0.05 / 2), rel=1e-9)  # 1.95996
    assert not r.passed and r.samples == 4
    # against its own mean: z = 0, passes
    assert mean_equals(x[:, None], np.array([2.5]), alpha=0.05).passed
    # z = 1.5/0.6455 = 2.324: rejected at one entry (1.960), not with Bonferroni over 8 (Φ⁻¹(1 − .05/16) = 2.734)
    one = mean_equals(x[:, None], np.array([1.0]), alpha=0.05)
    assert one.max_z == pytest.approx(1.5 / 0.6454972243679028, rel=1e-12) and not one.passed
    eight = mean_equals(np.repeat(x[:, None], 8, axis=1), np.ones(8), alpha=0.05)
    assert eight.threshold == pytest.approx(NormalDist().inv_cdf(1 - 0.05 / 16), rel=1e-9) and eight.passed


def test_mean_equals_zero_variance_entries_must_be_exact() -> None:
    x = np.full((5, 2), 3.0)
    exact = mean_equals(x, np.array([3.0, 3.0]))
    assert exact.passed and exact.max_z == 0.0  # |mean − target|/SE: no deviation, statistic 0
    r = mean_equals(x, np.array([3.0, 3.0 + 1e-6]))
    assert not r.passed and r.max_z == math.inf
    # relative tolerance 1e-12 of the target's size, not absolute
    big = np.full((5, 1), 1e9)
    assert mean_equals(big, np.array([1e9 * (1 + 1e-13)])).passed
    # a deterministic quantity that is zero up to round-off (0.1 + 0.2 − 0.3 = 5.6e-17) equals target 0
    assert mean_equals(np.full((5, 1), 0.1 + 0.2 - 0.3), np.array([0.0])).passed


def test_mean_equals_false_alarm_rate() -> None:
    """Under H0 (normal samples, N = 200, m = 3 entries) the family-wise rejection rate over 4000 seeded
    repetitions is close to α = 0.05 (normal approximation to the t statistic; 4·SE = 0.014)."""
    rng = np.random.default_rng(7)
    rej = np.mean([not mean_equals(rng.standard_normal((200, 3)), np.zeros(3), alpha=0.05).passed
                   for _ in range(4000)])
    se = math.sqrt(0.05 * 0.95 / 4000)
    assert abs(rej - 0.05) <= 4 * se + 0.01  # + the t-vs-normal excess at N = 200 (≈ 0.002)


def test_default_level_is_a_small_probability() -> None:
    """At the default family level: a sample centred exactly on its target passes (z ≈ 0 is below any
    two-sided threshold of a level below 1), the threshold exceeds the 95% one (the level is below 5%),
    and the interval and the one-sided UCB lie on the correct sides of the mean."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((50, 3))
    x += np.array([1.0, -2.0, 0.5]) - x.mean(axis=0)
    r = mean_equals(x, np.array([1.0, -2.0, 0.5]))
    assert r.passed and r.max_z < 1e-9 and 0 < r.alpha < 0.05
    assert r.threshold > NormalDist().inv_cdf(1 - 0.05 / 6)
    m, lo, hi = mean_interval(x[:, 0])
    assert lo < m < hi
    u = upper_test(x[:, 0], 0.0)
    assert u.ucb > u.mean


def test_mean_interval_hand_worked() -> None:
    # t_{0.975, 3} = 3.18245; half width = 3.18245 · 0.64550 = 2.05426
    m, lo, hi = mean_interval(np.array([1.0, 2.0, 3.0, 4.0]), alpha=0.05)
    assert m == 2.5
    assert hi - m == pytest.approx(3.182446305283708 * 0.6454972243679028, rel=1e-9)
    assert m - lo == pytest.approx(hi - m, rel=1e-12)
    assert mean_interval(np.array([7.0])) == (7.0, -math.inf, math.inf)
    # two points 1, 3: mean 2, s = √2, SE = 1; t with 1 degree of freedom is Cauchy, t_{0.975} = tan(0.475π)
    m2, lo2, hi2 = mean_interval(np.array([1.0, 3.0]), alpha=0.05)
    assert m2 == 2.0 and hi2 - m2 == pytest.approx(math.tan(0.475 * math.pi), rel=1e-9)  # 12.706
    assert m2 - lo2 == pytest.approx(hi2 - m2, rel=1e-12)


def _t3_sf(t: float) -> float:
    """Survival function of Student's t with 3 degrees of freedom in closed form (no scipy):
    ``P(T > t) = 1/2 − (1/π)(atan(t/√3) + (t/√3)/(1 + t²/3))``."""
    u = t / math.sqrt(3)
    return 0.5 - (math.atan(u) + u / (1 + u * u)) / math.pi


def test_upper_test_hand_worked() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    se = math.sqrt(5 / 3) / 2
    r = upper_test(y, 2.0, alpha=0.05)
    assert (r.mean, r.n) == (2.5, 4) and r.se == pytest.approx(se, rel=1e-12)
    assert r.p_value == pytest.approx(_t3_sf((2.5 - 2.0) / se), rel=1e-9)  # 0.2474: the bound holds
    # the UCB is the level-(1 − α) one-sided bound: P(T₃ > (ucb − mean)/SE) = α
    assert _t3_sf((r.ucb - r.mean) / se) == pytest.approx(0.05, rel=1e-7)
    # a bound well below the mean is rejected: p = P(T₃ > (2.5 − 0)/SE) = P(T₃ > 3.873) ≈ 0.015
    low = upper_test(y, 0.0, alpha=0.05)
    assert low.p_value == pytest.approx(_t3_sf(2.5 / se), rel=1e-9) and low.p_value < 0.05
    # symmetric: the bound above the mean by the same distance has p = 1 − that
    assert upper_test(y, 5.0).p_value == pytest.approx(1 - low.p_value, rel=1e-9)


def test_upper_test_deterministic_values() -> None:
    y = np.full(6, 3.0)
    held = upper_test(y, 3.0)
    assert (held.p_value, held.se, held.ucb) == (1.0, 0.0, 3.0)
    assert upper_test(y, 2.9).p_value == 0.0  # E[Y] = 3 > 2.9: the bound is violated, exactly
    assert upper_test(y, 3.1).p_value == 1.0
    assert upper_test(y, 3.0 - 1e-14).p_value == 1.0  # within the 1e-12 relative tolerance
    assert upper_test(y, 3.0 - 1e-9).p_value == 0.0  # beyond it
    assert upper_test(np.array([5.0]), 4.0).p_value == 0.0  # one run: no spread, compared exactly


def test_upper_test_level_under_h0() -> None:
    """E[Y] = bound exactly: the one-sided test rejects (p ≤ α) with probability α (t is exact for
    normal data); 4000 seeded repetitions at α = 0.1, 4·SE = 0.019."""
    rng = np.random.default_rng(11)
    rej = np.mean([upper_test(1.0 + rng.standard_normal(10), 1.0).p_value <= 0.1 for _ in range(4000)])
    assert abs(rej - 0.1) <= 4 * math.sqrt(0.1 * 0.9 / 4000)


# ================================================================================ SDP / eigen cross-check

# θ* = min θ s.t. θW − Q ⪰ 0 with W = diag(2, 1), Q = diag(1, 3): the generalised eigenvalues are
# 1/2 and 3, so θ* = 3 (hand-worked: 3·diag(2, 1) − diag(1, 3) = diag(5, 0) ⪰ 0, and any θ < 3 leaves
# θ − 3 < 0 in the second entry).
W_HAND = np.diag([2.0, 1.0])
Q_HAND = np.diag([1.0, 3.0])


def _fake_sdp(answer: float) -> Any:
    """A stand-in for the SDP solve that sets the optimisation variable to ``answer`` (status optimal)."""
    def solve(problem: Any, options: SolverOptions) -> tuple[SolveStatus, str, str]:
        (var,) = problem.variables()
        var.value = answer
        return SolveStatus.OPTIMAL, "FAKE", ""
    return solve


def test_theta_hand_worked_sdp_and_eigen_agree() -> None:
    th, cert, status = theta_eigen(W_HAND, Q_HAND)
    assert status == "optimal" and cert is None and th == pytest.approx(3.0, rel=1e-12)
    r = theta_star(W_HAND, Q_HAND)
    assert r.trustworthy and r.agrees and r.value == pytest.approx(3.0, rel=1e-6)


@pytest.mark.parametrize("scale", [1.0, 0.1])
def test_cross_check_flags_a_disagreement_of_one_in_a_thousand(monkeypatch: pytest.MonkeyPatch,
                                                              scale: float) -> None:
    """The SDP answer off by 1e-3 relative from the eigen answer must not be trusted (scale 0.1: θ* = 0.3,
    where the comparison is absolute, ``|a − b| ≤ rtol·max(1, |b|)``)."""
    W, Q = W_HAND, scale * Q_HAND
    eig = 3.0 * scale
    monkeypatch.setattr(constants, "_solve", _fake_sdp(eig * (1 + 1e-3)))
    r = theta_star(W, Q)
    assert r.status == "optimal" and r.eigen_value == pytest.approx(eig, rel=1e-12)
    assert r.agrees is False and not r.trustworthy
    assert "SDP" in r.message and "eigen" in r.message


@pytest.mark.parametrize("scale", [1.0, 0.1])
def test_cross_check_trusts_agreement_to_1e_9(monkeypatch: pytest.MonkeyPatch, scale: float) -> None:
    W, Q = W_HAND, scale * Q_HAND
    monkeypatch.setattr(constants, "_solve", _fake_sdp(3.0 * scale * (1 + 1e-9)))
    r = theta_star(W, Q)
    assert r.agrees is True and r.trustworthy and r.message == ""


def test_cross_check_flags_a_wrong_eigen_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other side: the real SDP against an eigen-solver that is off by 1e-3 relative."""
    monkeypatch.setattr(constants, "theta_eigen", lambda W, Q: (3.0 * (1 + 1e-3), None, SolveStatus.OPTIMAL))
    r = theta_star(W_HAND, Q_HAND)
    assert r.value == pytest.approx(3.0, rel=1e-6)
    assert r.agrees is False and not r.trustworthy


def test_default_tolerance_separates_the_two_cases() -> None:
    """Independently of any solver: the default options accept a relative 1e-9 and reject 1e-3."""
    rtol = SolverOptions().cross_check_rtol
    assert abs(3.0 * 1e-9) <= rtol * 3.0 < abs(3.0 * 1e-3)


# ρ(γ) with L̄ = diag(1, 4), W̄ = L̄ and E[B̄L̄B̄] = 2L̄ (a sketch with E[B̄] = I and second moment 2L̄):
# L̄^{-1/2}(L̄ − 2γL̄ + 2γ²L̄)L̄^{-1/2} = (1 − 2γ + 2γ²) I, minimised at γ = 1/2 with ρ = 1/2.
L_HAND = np.diag([1.0, 4.0])


def test_optimal_step_hand_worked() -> None:
    r = optimal_step(L_HAND, L_HAND, 2 * L_HAND)
    assert r.trustworthy and r.value == pytest.approx(0.5, rel=1e-6)
    assert r.eigen_value == pytest.approx(0.5, rel=1e-9)
    assert r.extra["gamma"] == pytest.approx(0.5, rel=1e-3)
    assert r.extra["gamma_eigen"] == pytest.approx(0.5, rel=1e-6)
    assert r.extra["rho_at_sdp_gamma"] == pytest.approx(0.5, rel=1e-6)


@pytest.mark.parametrize("rel, trusted", [(1e-3, False), (1e-9, True)])
def test_optimal_step_cross_check(monkeypatch: pytest.MonkeyPatch, rel: float, trusted: bool) -> None:
    """The Brent answer moved by ``rel`` relative from the (correct, 1/2) SDP answer."""
    monkeypatch.setattr(constants, "optimal_step_eigen", lambda L, W, Q, A0=None: (0.5, 0.5 * (1 + rel)))
    r = optimal_step(L_HAND, L_HAND, 2 * L_HAND)
    assert r.status == "optimal" and r.agrees is trusted and r.trustworthy is trusted
    assert (r.message == "") is trusted


def test_theta_degenerate_W_hand_worked() -> None:
    """W = 0 and Q = 0: every θ ≥ 0 is feasible, θ* = 0. W = diag(2, 0), Q = diag(1, 0) (Q vanishes on
    ker W = span e₂): on the range, 2θ − 1 ≥ 0, θ* = 1/2."""
    assert theta_eigen(np.zeros((2, 2)), np.zeros((2, 2))) == (0.0, None, "optimal")
    th, cert, status = theta_eigen(np.diag([2.0, 0.0]), np.diag([1.0, 0.0]))
    assert status == "optimal" and cert is None and th == pytest.approx(0.5, rel=1e-12)


def test_optimal_step_small_sketch_scale() -> None:
    """B̄ = ½I deterministic: W̄ = ½L̄, E[B̄L̄B̄] = ¼L̄, ρ(γ) = (1 − γ/2)², so γ* = 2 and ρ* = 0 (θ* = ½,
    the search runs over (0, 2/θ*) = (0, 4))."""
    g, rho = optimal_step_eigen(L_HAND, 0.5 * L_HAND, 0.25 * L_HAND)
    assert g == pytest.approx(2.0, rel=1e-6) and rho == pytest.approx(0.0, abs=1e-12)


def test_optimal_step_when_no_step_helps() -> None:
    """The sketch never moves coordinate 2 (W̄ = E[B̄L̄B̄] = diag(1, 0), L̄ = I): ρ(γ) = max((1 − γ)², 1) = 1
    for every γ, so no step beats γ = 0 and the answer is (0, ρ(0)) = (0, 1)."""
    L, W = np.eye(2), np.diag([1.0, 0.0])
    g, rho = optimal_step_eigen(L, W, W)
    assert g == 0.0 and rho == pytest.approx(1.0, rel=1e-12)


class _StubProblem:
    """Stands in for a cvxpy problem: each solver name gives a fixed status (records the calls)."""

    def __init__(self, statuses: dict[str, str]) -> None:
        self.statuses, self.status = statuses, ""
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def solve(self, solver: str, **kw: Any) -> None:
        self.calls.append((solver, kw))
        self.status = self.statuses[solver]


@pytest.mark.parametrize("statuses, accept, expected", [
    ({"CVXOPT": "optimal", "SCS": "optimal"}, False, ("optimal", "CVXOPT", "")),
    ({"CVXOPT": "infeasible", "SCS": "optimal"}, False, ("infeasible", "CVXOPT", "")),
    # an inaccurate optimum is refused by default and the fallback is tried
    ({"CVXOPT": "optimal_inaccurate", "SCS": "optimal"}, False, ("optimal", "SCS", "")),
    ({"CVXOPT": "optimal_inaccurate", "SCS": "optimal_inaccurate"}, False,
     ("failed", "CVXOPT", "CVXOPT: optimal_inaccurate; SCS: optimal_inaccurate")),
    # accepted when asked, and reported as optimal
    ({"CVXOPT": "optimal_inaccurate", "SCS": "optimal"}, True, ("optimal", "CVXOPT", "")),
    # accepting inaccurate optima does not accept anything else
    ({"CVXOPT": "unbounded_inaccurate", "SCS": "optimal"}, True, ("optimal", "SCS", "")),
    ({"CVXOPT": "infeasible_inaccurate", "SCS": "unbounded"}, True,
     ("failed", "CVXOPT", "CVXOPT: infeasible_inaccurate; SCS: unbounded")),
])
def test_solver_status_policy(statuses: dict[str, str], accept: bool, expected: tuple[str, str, str]) -> None:
    prob = _StubProblem(statuses)
    options = SolverOptions(accept_inaccurate=accept)
    status, solver, tried = constants._solve(prob, options)
    assert isinstance(status, SolveStatus) and (status, solver, tried) == expected
    # SCS runs at the options' tolerance, the others with their defaults
    assert all((kw.get("eps") == options.scs_eps) if name == "SCS" else not kw for name, kw in prob.calls)


def test_trustworthy_needs_a_definite_status() -> None:
    ok = SDPResult(1.0, SolveStatus.OPTIMAL, "X", 1.0, True)
    assert ok.trustworthy
    assert not SDPResult(None, SolveStatus.FAILED, "X", 1.0, None, message="X: SolverError").trustworthy
    assert not SDPResult(1.0, SolveStatus.OPTIMAL, "X", 2.0, False).trustworthy
    assert SDPResult(None, SolveStatus.INFEASIBLE, "X", None, True).trustworthy


# ================================================================================ moments of a finite sketch


def test_finite_sketch_moments_equal_the_structured_engine() -> None:
    """A Perm-1 sketch written out as a user-defined finite distribution goes through the support
    enumeration path of SketchMoments (B̄ = (1/n) Σ C_i L_i C_i per outcome); the diagonal sketch goes
    through the symbolic engine: two independent computations of the same moments."""
    p = generators.heterogeneous(3, 6, 0.5, seed=2)
    perm = Permutation(3, 6)
    sup = perm.support()
    finite = FiniteSketch(sup.probs, sup.draw.dense(6))
    a, b = SketchMoments(p, finite), SketchMoments(p, perm)
    assert not a.structured and b.structured
    for name in ("expected_B", "expected_Cb", "BLB", "W", "x_inf", "h"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-10, atol=1e-12, err_msg=name)


def test_finite_sketch_moments_hand_worked() -> None:
    """n = 1, d = 2, L = diag(2, 4), b = (2, 8) (x* = (1, 2)); C = I or diag(2, 0) with probability ½ each:
    E[B̄] = ½(L + diag(8, 0)) = diag(5, 2), E[(Cb)‾] = ½(b + (4, 0)) = (3, 4), x^∞ = (3/5, 2)."""
    p = QuadraticProblem(np.array([np.diag([2.0, 4.0])]), np.array([[2.0, 8.0]]))
    finite = FiniteSketch(np.array([0.5, 0.5]), np.array([[np.eye(2)], [np.diag([2.0, 0.0])]]))
    mo = SketchMoments(p, finite)
    np.testing.assert_allclose(mo.expected_B, np.diag([5.0, 2.0]), rtol=1e-14)
    np.testing.assert_allclose(mo.expected_Cb, [3.0, 4.0], rtol=1e-14)
    np.testing.assert_allclose(mo.x_inf, [0.6, 2.0], rtol=1e-13)
    np.testing.assert_allclose(mo.h, [0.4, 0.0], atol=1e-13)


def test_singular_expected_B_has_no_fixed_point() -> None:
    """C_i = diag(1, 0) always: coordinate 2 never moves, E[B̄] = diag(L̄₁₁, 0) is singular and the mean
    recursion has no unique fixed point."""
    p = generators.heterogeneous(2, 2, 0.5, seed=4)
    finite = FiniteSketch(np.array([1.0]), np.array([[np.diag([1.0, 0.0])] * 2]))
    mo = SketchMoments(p, finite)
    assert np.linalg.eigvalsh(mo.expected_B)[0] == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(SingularError):
        _ = mo.x_inf


# ================================================================================ dynamics: the power-iteration rate


def test_power_iteration_rate_equals_the_dense_spectral_radius() -> None:
    """The fallback power iteration on T: X ↦ E[AXAᵀ] against the spectral radius of T assembled as a
    dense d² × d² matrix (ms_rate's path for d ≤ 20): the same number."""
    p = generators.heterogeneous(2, 4, 0.5, seed=6)
    for form in ("sgd", "ist"):
        dyn = ExactDynamics(p, Permutation(2, 4), 0.1, form)
        assert dyn._power_rate() == pytest.approx(dyn.ms_rate, rel=1e-8), form


def test_power_iteration_rate_of_a_one_step_solver_is_zero() -> None:
    """L_i = I for every worker, the identity sketch and γ = 1: A = I − γB̄ = 0, every step lands on x*,
    so T = 0 and the mean-square rate is 0."""
    p = QuadraticProblem(np.array([np.eye(3)] * 2), np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]))
    dyn = ExactDynamics(p, Identity(2, 3), 1.0, "sgd")
    assert dyn.ms_rate == pytest.approx(0.0, abs=1e-15)
    with np.errstate(invalid="ignore", divide="ignore"):
        assert dyn._power_rate() == 0.0


def test_large_d_sparse_paths_equal_the_dense_computation() -> None:
    """d = 21 (d² > 400): ms_rate comes from ARPACK and the limit from GMRES on X ↦ X − T(X). Against T
    assembled densely on the d² basis: its spectral radius, and the Lyapunov solution X = T(X) + R."""
    p = generators.heterogeneous(3, 21, 0.5, seed=8)
    dyn = ExactDynamics(p, Permutation(3, 21), 0.02, "sgd")
    d = 21
    basis = np.eye(d * d)
    dense = np.column_stack([dyn.T(0.5 * (E + E.T)).ravel() for E in (basis[:, j].reshape(d, d)
                                                                        for j in range(d * d))])
    rho = float(np.abs(np.linalg.eigvals(dense)).max())
    assert dyn.ms_rate == pytest.approx(rho, rel=1e-8)
    lim = dyn.limit
    assert lim is not None
    m, X = lim
    np.testing.assert_allclose(m, np.linalg.solve(np.eye(d) - dyn.EA, dyn.Ev), rtol=1e-10)
    R = dyn.cross(m)
    rhs = 0.5 * (R + R.T + dyn.Evv + (R + R.T + dyn.Evv).T)
    X_dense = np.linalg.lstsq(np.eye(d * d) - dense, rhs.ravel(), rcond=None)[0].reshape(d, d)
    np.testing.assert_allclose(X, 0.5 * (X_dense + X_dense.T), rtol=1e-9, atol=1e-12 * np.abs(X_dense).max())


@pytest.mark.parametrize("kw", [{"gamma": 0.0}, {"gamma": -0.1}, {"local_steps": 0}])
def test_dynamics_rejects_parameters_outside_the_algorithm(kw: dict[str, Any]) -> None:
    """γ must be positive (γ = 0 never moves) and Algorithm 1 takes at least one local step."""
    p = generators.heterogeneous(2, 4, 0.5, seed=1)
    args: dict[str, Any] = {"gamma": 0.1, "form": "ist", "local_steps": 1} | kw
    with pytest.raises(ParameterError):
        ExactDynamics(p, Permutation(2, 4), **args)


@pytest.mark.parametrize("growth, x0, step", [(1.5, 1.0, 1), (0.5, 1.0, 2), (1.5, 10.0, 1), (0.5, 10.0, 2)])
def test_divergence_is_declared_when_the_second_moment_blows_up(growth: float, x0: float, step: int) -> None:
    """d = 1, L = 1, b = 0, identity sketch: x^k = (1 − γ)^k x⁰ deterministically, E[x²] grows by (1 − γ)²
    per step. With (1 − γ)² = growth·DIVERGENCE_FACTOR the second moment passes DIVERGENCE_FACTOR times its
    initial size max(1, (x⁰)²) at step 1 when growth > 1, at step 2 otherwise — for x⁰ = 1 and x⁰ = 10."""
    p = QuadraticProblem(np.array([[[1.0]]]), np.array([[0.0]]))
    gamma = 1 + math.sqrt(growth * DIVERGENCE_FACTOR)
    res = ExactDynamics(p, Identity(1, 1), gamma, "sgd", x0=[x0]).run(5)
    assert res.diverged_at == step


# ================================================================================ sketches


def test_perm_clients_with_one_client_per_coordinate_is_perm_1() -> None:
    """n = d: PermClients is the Perm-1 sketch of the paper (same support, within its hypotheses);
    n = 2d shares each coordinate between two clients, outside them."""
    one, two = PermClients(3, 3), PermClients(6, 3)
    assert one.within_paper_hypotheses and not two.within_paper_hypotheses
    a, b = one.support(), Permutation(3, 3).support()
    dense_a, dense_b = a.draw.dense(3), b.draw.dense(3)
    # the same distribution: the same multiset of outcomes with the same probabilities
    key = sorted(zip(map(bytes, dense_a.round(12)), a.probs.round(12), strict=True))
    assert key == sorted(zip(map(bytes, dense_b.round(12)), b.probs.round(12), strict=True))


def test_finite_sketch_stores_symmetric_matrices_and_knows_reconstruction() -> None:
    """C_i given with an asymmetry below the tolerance are stored exactly symmetric; perfect reconstruction
    ((1/n) Σ_i C_i = I on every outcome) holds for Perm-1 written out, not for {I, diag(2, 0)} with n = 1."""
    C = np.array([[[[1.0, 1e-14], [0.0, 1.0]]]])
    fs = FiniteSketch(np.array([1.0]), C)
    assert np.array_equal(fs.table, np.swapaxes(fs.table, 2, 3))
    assert fs.table[0, 0, 0, 1] == pytest.approx(0.5e-14, rel=1e-12)
    sup = Permutation(3, 3).support()
    assert FiniteSketch(sup.probs, sup.draw.dense(3)).perfect_reconstruction
    # the same up to round-off ((0.1 + 0.2)/0.3 = 1 + 2.2e-16) still reconstructs perfectly
    assert FiniteSketch(sup.probs, sup.draw.dense(3) * ((0.1 + 0.2) / 0.3)).perfect_reconstruction
    assert not FiniteSketch(np.array([0.5, 0.5]), np.array([[np.eye(2)], [np.diag([2.0, 0.0])]])).perfect_reconstruction


def test_precond_perm_names_the_non_positive_diagonal_entry() -> None:
    """(23) needs D_i^(-1/2): a zero diagonal entry (second worker, second coordinate; 0-based (L_1)_11 in
    the message) is refused with that entry named."""
    L = np.array([np.eye(2), np.diag([1.0, 0.0])])
    p = QuadraticProblem(L, np.zeros((2, 2)))
    with pytest.raises(IncompatibleSketchError, match=r"\(L_1\)_11"):
        PreconditionedPerm.from_problem(p)


# ================================================================================ lemma vocabulary: functions


@pytest.mark.parametrize("arith", [FloatArith(), ExactArith()], ids=["float", "exact"])
def test_vocabulary_functions_and_their_domains(arith: Any) -> None:
    """sqrt, log, exp, abs, min, max of the statement language on both arithmetics: values where defined
    (√4 = 2, log 1 = 0, exp 0 = 1, |−3| = 3), Undefined outside the domain (√ and log of a negative
    number, log 0), never a silent NaN or −∞."""
    ev = Evaluator(SimpleNamespace(arith=arith))  # type: ignore[arg-type]
    num = arith.number
    assert float(ev._function("sqrt", [num(Fraction(4))])) == pytest.approx(2.0, rel=1e-15)
    assert float(ev._function("log", [num(Fraction(1))])) == 0.0
    assert float(ev._function("log", [num(Fraction(8))])) == pytest.approx(math.log(8), rel=1e-15)
    assert float(ev._function("exp", [num(Fraction(0))])) == 1.0
    assert ev._function("abs", [num(Fraction(-3))]) == 3
    assert ev._function("min", [num(Fraction(2)), num(Fraction(-1)), num(Fraction(5))]) == -1
    assert ev._function("max", [num(Fraction(2)), num(Fraction(-1)), num(Fraction(5))]) == 5
    for name, x in (("sqrt", -1), ("log", -1), ("log", 0)):
        with pytest.raises(Undefined):
            ev._function(name, [num(Fraction(x))])
    assert float(ev._function("sqrt", [num(Fraction(0))])) == 0.0  # √0 is defined


def _float_evaluator(sketch: str = "perm", form: str = "sgd", n: int = 3, d: int = 3, gamma: float = 0.1,
                     K: int = 4) -> Evaluator:
    pr = generators.heterogeneous(n, d, 0.5, seed=3)
    A, rho = factor_of(np.asarray(pr.L))
    x0 = np.random.default_rng(3).standard_normal(d)
    return Evaluator(FloatEngine(Point("heterogeneous", A, rho, np.asarray(pr.b), x0, sketch, form, 1, gamma, K)))


def test_vocabulary_quantities_against_independent_computations() -> None:
    """Each vocabulary name on one instance against NumPy/SciPy from the problem and SketchMoments."""
    ev = _float_evaluator()
    e = ev.engine
    pr, sk = e.problem, e.sketch  # type: ignore[attr-defined]
    L = np.asarray(pr.L_bar)
    lam = np.linalg.eigvalsh(L)
    xs = np.linalg.solve(L, np.asarray(pr.b_bar))
    mo = SketchMoments(pr, sk)
    D = np.diag(np.diag(L))
    right = (L @ D + D @ L) / 2
    expected = {
        "lambda_min": lam[0], "lambda_max": lam[-1], "kappa": lam[-1] / lam[0],
        "f_star": 0.5 * xs @ L @ xs - np.asarray(pr.b_bar) @ xs,  # f(x*) = ½x*ᵀL̄x* − b̄ᵀx*
        "theta_eq17": sla.eigh(pr.n * D @ L @ D, right, eigvals_only=True)[-1],
        "lambda_min_W": np.linalg.eigvalsh(mo.W)[0],
        "EB_minus_I_fro2": np.sum((mo.expected_B - np.eye(pr.d)) ** 2),
        "h_norm2": mo.h @ mo.h, "h_norm2_L2": mo.h @ L @ L @ mo.h,
        "x_star_norm2_L": xs @ L @ xs, "x_inf_norm2_L": mo.x_inf @ L @ mo.x_inf,
    }
    for name, want in expected.items():
        assert float(ev.value(name)) == pytest.approx(float(want), rel=1e-10), name
    dyn = ExactDynamics(pr, sk, 0.1, "sgd", 1, e.x0)
    assert float(ev.value("mean_rate")) == pytest.approx(dyn.mean_rate, rel=1e-10)
    assert float(ev.value("ms_rate_ist")) == pytest.approx(ExactDynamics(pr, sk, 0.1, "ist", 1).ms_rate, rel=1e-10)
    run = dyn.run(4)
    # (1/K) Σ_{k<K}, K = 1 … 4, and E_f at an iteration given as an integer, a float or a fraction
    for K in (1, 2, 4):
        assert float(VOCABULARY["avg_grad2"].compute(ev, K)) == pytest.approx(np.mean(run.metrics["grad2"][:K]),
                                                                             rel=1e-12)
    for k in (3, 3.0, Fraction(3)):
        assert float(ev.call("E_f", [k], ())) == pytest.approx(run.metrics["f"][3], rel=1e-12)
    with pytest.raises(Undefined):
        VOCABULARY["avg_grad2"].compute(ev, 0)


def test_vocabulary_iteration_domain_is_0_to_max_iteration() -> None:
    ev = _float_evaluator(gamma=0.01)
    assert math.isfinite(float(ev.call("E_f", [MAX_ITERATION], ())))
    for k in (MAX_ITERATION + 1, -1, 2.5):
        with pytest.raises(Undefined):
            ev.call("E_f", [k], ())


def test_vocabulary_refuses_singular_matrices() -> None:
    """x* needs L̄ ≻ 0, θ* of (14) needs W̄ ≻ 0 and θ of (17) needs (L̄D̄ + D̄L̄)/2 ≻ 0 — relative to their
    largest eigenvalue: an eigenvalue 1e-15 of the largest is singular, even when it is the smallest of
    several small ones; κ of a singular L̄ is ∞."""
    L = np.diag([1.0, 1e-14, 1e-15])
    eng = SimpleNamespace(arith=FloatArith(), L_bar=L, b_bar=np.ones(3), EB=np.diag([1.0, 1e-14, 1e-15]),
                          BLB=np.eye(3), D_bar=np.diag(L), n=3)
    ev = Evaluator(eng)  # type: ignore[arg-type]
    with pytest.raises(Undefined):
        ev.x_star()
    with pytest.raises(Undefined):
        ev.value("theta")
    with pytest.raises(Undefined):
        ev.value("theta_eq17")
    ok = Evaluator(SimpleNamespace(arith=FloatArith(), L_bar=np.diag([2.0, 1.0]), b_bar=np.array([2.0, 3.0]),
                                   EB=np.eye(2), BLB=np.diag([4.0, 1.0]), D_bar=np.array([2.0, 1.0]), n=1))  # type: ignore[arg-type]
    np.testing.assert_allclose(ok.x_star(), [1.0, 3.0])
    assert float(ok.value("theta")) == pytest.approx(2.0)  # W̄ = L̄ = diag(2, 1): max(4/2, 1/1)
    sing = Evaluator(SimpleNamespace(arith=FloatArith(), L_bar=np.diag([1.0, 0.0])))  # type: ignore[arg-type]
    assert sing.value("kappa") == math.inf


def test_lemma_language_arities() -> None:
    """abs, sqrt, log, exp take one argument; min and max at least two."""
    for ok in ("abs(gamma) <= 1", "sqrt(gamma) <= 1", "max(gamma, 1) <= 1", "min(gamma, 1) <= 1"):
        Lemma.create("x", ok)
    for bad in ("max(gamma) <= 1", "min(gamma) <= 1", "sqrt(gamma, 1) <= 1", "abs(gamma, 1) <= 1", "sqrt() <= 1",
                "log() <= 1"):
        with pytest.raises(LemmaError, match="takes"):
            Lemma.create("x", bad)


# ================================================================================ derivations: registration


def test_every_derivation_module_is_discovered() -> None:
    """``isttheory verify`` proves what discover() returns: every module of isttheory/derivations (other than
    the package and base.py) that defines a derive function — helper modules without one are not claims."""
    import importlib

    from isttheory.derivations import discover

    found = discover()
    files = {f.stem for f in (ROOT / "isttheory" / "derivations").glob("*.py")} - {"__init__", "base"}
    claims = {f for f in files
              if callable(getattr(importlib.import_module(f"isttheory.derivations.{f}"), "derive", None))}
    assert {"theorem1", "theorem2", "remark1"} <= claims
    assert set(found) == claims and all(callable(d) for d in found.values())


# ================================================================================ MUTATION.md stays


MODULES = ("constants", "stats", "moments", "dynamics", "sketches", "symbolic", "vocabulary")


def test_mutation_report_lists_a_kill_rate_per_module() -> None:
    """MUTATION.md (written by ``python mutation/run.py``, which this test does not run) exists and has a
    kill rate for each mathematical module."""
    text = (ROOT / "MUTATION.md").read_text()
    for name in MODULES:
        row = re.search(rf"^\| {re.escape(name)} \|.*\*\*(\d+(?:\.\d+)?)%\*\*", text, re.M)
        assert row, f"no kill rate for {name} in MUTATION.md"
        assert 0 <= float(row.group(1)) <= 100
    assert re.search(r"^\| \*\*overall\*\* \|.*\*\*(\d+(?:\.\d+)?)%\*\*", text, re.M)
    assert "cosmic-ray" in text and "python mutation/run.py" in text
