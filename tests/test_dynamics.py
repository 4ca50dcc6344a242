"""Exact expected dynamics against Monte Carlo, enumeration, closed forms and divergence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isttheory import generators
from isttheory.derivations.theorem2 import exact_limit
from isttheory.dynamics import ExactDynamics
from isttheory.moments import SketchMoments
from isttheory.simulate import simulate
from isttheory.sketches import Permutation, PreconditionedPerm, RandQ
from isttheory.testing import problems, sketches, step_sizes
from isttheory.tightness import mean_recursion, theorem1, theorem2
from tests.test_sketches import _finite

Z = 4.0  # cross-validation: |exact − MC| ≤ 4 SE; normal approximation, per-check false alarm 6e-5


def _mc_agrees(problem, sketch, gamma, K, form="sgd", steps=1, runs=3000, seed=0):
    exact = ExactDynamics(problem, sketch, gamma, form, steps).run(K)
    mc = simulate(problem, sketch, gamma, K, runs=runs, seed=seed, form=form, local_steps=steps, record=[K])
    e, m, s = exact.metrics["dist2_L"][-1], mc.metrics["dist2_L"].mean[-1], mc.metrics["dist2_L"].sem[-1]
    return abs(e - m) <= Z * s + 1e-12 * abs(e), (e, m, s)


@settings(max_examples=10, deadline=None)
@given(data=st.data(), p=problems(n=3, d=6), form=st.sampled_from(["sgd", "ist"]), seed=st.integers(0, 999))
def test_exact_matches_monte_carlo(data, p, form, seed):
    """Mean-square-stable settings only: when the second moment diverges (rate > 1), ‖x^k‖² is
    heavy-tailed and the Monte Carlo standard error is not a valid yardstick. (Rand-q under the
    merge (6) is unstable at this small γ: see test_merge_with_rand_q_is_unstable_for_small_steps.)
    ``γ = c/λ_max(L̄)`` with ``c ≤ 1/16`` is small for every drawn problem (``L_i ⪯ n L̄``)."""
    sk = data.draw(sketches(3, 6, ["perm", "rand:3", "perm-blocks"]))
    if sk.family == "rand" and form == "ist":
        form = "sgd"
    gamma = data.draw(step_sizes(p, low=2.0**-6, high=2.0**-4))
    assert ExactDynamics(p, sk, gamma, form).ms_rate < 1
    ok, info = _mc_agrees(p, sk, gamma, 15, form, seed=seed)
    assert ok, info


@pytest.mark.parametrize("q", [1, 2, 3])
def test_merge_with_rand_q_is_unstable_for_small_steps(q):
    """Algorithm 1's merge (6) with independent Rand-q: E[P̄²] = (1 + ω/n) I, so the mean-square rate
    tends to 1 + ω/n > 1 as γ → 0 — small steps diverge in mean square (a window of moderate γ can
    be stable); permutation sketches (perfect reconstruction, P̄ = I) tend to 1 from below."""
    p = generators.heterogeneous(3, 6, 0.5, seed=1)
    omega = 6 / q - 1
    assert ExactDynamics(p, RandQ(3, 6, q), 1e-7, "ist").ms_rate == pytest.approx(1 + omega / 3, rel=1e-5)
    assert ExactDynamics(p, Permutation(3, 6), 1e-7, "ist").ms_rate < 1


@pytest.mark.parametrize("steps", [2, 3])
def test_local_steps_by_enumeration_match_monte_carlo(steps):
    p = generators.heterogeneous(2, 4, 0.6, seed=1)
    ok, info = _mc_agrees(p, Permutation(2, 4), 0.05, 12, "ist", steps, runs=4000)
    assert ok, info


def test_finite_sketch_dynamics_match_monte_carlo():
    sk = _finite(2, 3)
    p = generators.heterogeneous(2, 3, 0.5, seed=2)
    ok, info = _mc_agrees(p, sk, 0.05, 10, "sgd", runs=4000)
    assert ok, info


def test_structured_equals_enumerated_path():
    p = generators.heterogeneous(2, 4, 0.6, seed=1)
    for form in ("sgd", "ist"):
        a = ExactDynamics(p, Permutation(2, 4), 0.05, form)
        b = ExactDynamics(p, Permutation(2, 4), 0.05, form)
        b.structured = False
        assert a.structured
        np.testing.assert_allclose(a.run(10).metrics["f"], b.run(10).metrics["f"], atol=1e-12)
        assert a.ms_rate == pytest.approx(b.ms_rate, rel=1e-9)


def test_theorem2_limit_closed_form():
    """Exact limit = ‖h‖²_L̄ + γσ²/(2−γ) under (23) (corrected Theorem 2)."""
    p = generators.heterogeneous(4, 4, 0.8, seed=0)
    sk = PreconditionedPerm.from_problem(p)
    mo = SketchMoments(p, sk)
    H, S = float(mo.h @ p.L_bar @ mo.h), mo.sigma2_at_x_star
    for g in (0.2, 0.5, 1.0, 1.5):
        dyn = ExactDynamics(p, sk, g)
        assert dyn.limit_metrics["dist2_L"] == pytest.approx(exact_limit(H, S, g), rel=1e-9)
        assert dyn.ms_rate == pytest.approx((1 - g) ** 2, abs=1e-12)


def test_limit_is_a_fixed_point_and_matches_long_runs():
    p = generators.heterogeneous(4, 8, 0.5, seed=3)
    dyn = ExactDynamics(p, Permutation(4, 8), 0.03)
    m, X = dyn.limit
    m2, X2 = dyn.step(m, X)
    np.testing.assert_allclose(m2, m, atol=1e-12)
    np.testing.assert_allclose(X2, X, atol=1e-10)
    long = dyn.run(600).metrics["dist2_L"][-1]
    assert long == pytest.approx(dyn.limit_metrics["dist2_L"], rel=1e-8)


def test_ms_rate_is_the_asymptotic_decay_in_interpolation():
    p = generators.interpolation(4, 8, 0.5, seed=1)
    dyn = ExactDynamics(p, Permutation(4, 8), 0.02)
    d = dyn.run(400).metrics["dist2_L"]
    observed = (d[-1] / d[-101]) ** (1 / 100)
    assert observed == pytest.approx(dyn.ms_rate, rel=1e-4)


def test_divergence_gives_no_limit():
    p = generators.interpolation(4, 8, 0.5, seed=1)
    dyn = ExactDynamics(p, Permutation(4, 8), 1.0)
    assert dyn.ms_rate > 1 and dyn.limit is None and dyn.limit_metrics is None
    r = dyn.run(200)
    assert r.diverged_at is not None and all(np.isfinite(v).all() for v in r.metrics.values())


def test_d64_is_fast():
    """d = 64, Perm-q with n = 16: structured operator (no 4096×4096 matrix)."""
    import time

    p = generators.heterogeneous_structured(16, 64, 0.5, seed=0)
    dyn = ExactDynamics(p, Permutation(16, 64), 0.02)
    t = time.perf_counter()
    dyn.run(50)
    assert dyn.limit is not None and 0 < dyn.ms_rate < 1
    assert time.perf_counter() - t < 60  # generous: a guard against a dense d²×d² fallback, not a benchmark


def test_tightness_ratios_are_at_least_one():
    pi = generators.interpolation(4, 8, 0.5, seed=1)
    t1 = theorem1(pi, Permutation(4, 8), 0.01, 50)
    assert t1.ratio16 >= 1 and t1.ratio15 >= 1 and t1.factor_ratio >= 1 - 1e-12
    p = generators.heterogeneous(4, 4, 0.8, seed=0)
    t2 = theorem2(p, PreconditionedPerm.from_problem(p), 0.5, 100)
    assert t2.ratio_corrected >= 1 and t2.ratio_paper >= t2.ratio_corrected
    assert t2.ratio_neighbourhood_corrected >= 1
    assert theorem2(p, Permutation(4, 4), 0.5, 10) is None  # hypotheses of Theorem 2 not met
    mr = mean_recursion(p, PreconditionedPerm.from_problem(p), 0.3, 20)
    assert mr.max_abs_diff < 1e-12 and mr.ratio == pytest.approx(1.0)


def test_corrected_thm2_tight_at_gamma_one_K_one():
    p = generators.heterogeneous(4, 4, 0.8, seed=0)
    t2 = theorem2(p, PreconditionedPerm.from_problem(p), 1.0, 1)
    assert t2.ratio_corrected == pytest.approx(1.0, rel=1e-10)
    assert t2.paper is None  # (29) admits no β at γ = 1
    assert math.isfinite(t2.limit)


def test_limit_metrics_is_a_property_like_ms_rate():
    """``ed.limit_metrics["grad2_Linv"]`` (it was a method: TypeError)."""
    p = generators.heterogeneous(3, 3, 0.5, seed=0)
    ed = ExactDynamics(p, Permutation(3, 3), 0.02)
    assert isinstance(ed.limit_metrics["grad2_Linv"], float)
    assert ed.limit_metrics["dist2_L"] == pytest.approx(ed.metrics(*ed.limit)["dist2_L"], rel=1e-12)


# ------------------------------------------------------------------ certified mean-square rate (issue 16)

def _dense_T(dyn):
    """``T: X ↦ E[AXAᵀ]`` assembled on the d² basis (symmetrised input): the d²×d² reference."""
    d = dyn.d
    basis = np.eye(d * d)
    return np.column_stack([dyn.T(0.5 * (E + E.T)).ravel() for E in (basis[:, j].reshape(d, d)
                                                                        for j in range(d * d))])


@pytest.mark.parametrize("spec, n, d", [("perm", 2, 8), ("perm", 4, 4), ("rand:2", 3, 6), ("scaled-perm", 2, 6),
                                        ("perm-blocks", 3, 7)])
@pytest.mark.parametrize("form", ["sgd", "ist"])
@pytest.mark.parametrize("gamma", [1e-4, 0.05, 0.5])
def test_certified_rate_brackets_the_dense_spectral_radius(spec, n, d, form, gamma):
    """The Davidson bracket of :meth:`ms_rate_bracket` against the spectral radius of T assembled densely
    (d ≤ 8): certified, contains it (up to 1e-12 rounding), and its Ritz value agrees to 1e-8 relative —
    also with ``ms_rate`` (the dense path at these sizes), stable and divergent γ alike."""
    from isttheory.sketches import parse_sketch

    p = generators.heterogeneous(n, d, 0.6, seed=4)
    dyn = ExactDynamics(p, parse_sketch(spec, p), gamma, form)
    rho = float(np.abs(np.linalg.eigvals(_dense_T(dyn))).max())
    br = dyn.ms_rate_bracket()
    assert br.certified and br.width <= 1e-9
    assert br.lower <= rho * (1 + 1e-12) and br.upper >= rho * (1 - 1e-12), (br, rho)
    assert br.rate == pytest.approx(rho, rel=1e-8)
    assert dyn.ms_rate == pytest.approx(rho, rel=1e-8)


def test_structured_second_moment_map_is_self_adjoint():
    """⟨Y, T(X)⟩ = ⟨T(Y), X⟩ for symmetric X, Y (A symmetric in (2) and (6)): what makes the Ritz value a
    lower bound of ρ(T)."""
    p = generators.heterogeneous(3, 6, 0.6, seed=2)
    rng = np.random.default_rng(0)
    X, Y = (0.5 * (G + G.T) for G in rng.standard_normal((2, 6, 6)))
    for form in ("sgd", "ist"):
        dyn = ExactDynamics(p, RandQ(3, 6, 2), 0.1, form)
        assert np.vdot(Y, dyn.T(X)) == pytest.approx(np.vdot(dyn.T(Y), X), rel=1e-12)


def test_certified_rate_at_d21_uses_davidson_and_matches_dense():
    """d² > 400: ``ms_rate`` is the Davidson Ritz value (no ARPACK), within its bracket and 1e-8 of dense."""
    p = generators.heterogeneous(3, 21, 0.5, seed=8)
    dyn = ExactDynamics(p, Permutation(3, 21), 0.02, "ist")
    rho = float(np.abs(np.linalg.eigvals(_dense_T(dyn))).max())
    br = dyn.ms_rate_bracket()
    assert br.method == "davidson" and br.certified and br.lower <= rho * (1 + 1e-12) <= br.upper * (1 + 2e-12)
    assert dyn.ms_rate == pytest.approx(rho, rel=1e-8)
    assert dyn.ms_rate_bracket(seed=0) == br  # deterministic: seeded start


def test_certified_rate_of_a_one_step_solver_is_exactly_zero():
    """L_i = I, identity sketch, γ = 1: A = 0, T = 0 up to rounding (T(I) = 0 exactly) — ρ = 0 to 1e-15,
    certified, and no floating-point warning (a division by ‖T(X)‖ = 0 used to warn)."""
    from isttheory.problem import QuadraticProblem
    from isttheory.sketches import Identity

    p = QuadraticProblem(np.array([np.eye(3)] * 2), np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]))
    dyn = ExactDynamics(p, Identity(2, 3), 1.0, "sgd")
    with np.errstate(all="raise"):
        br = dyn.ms_rate_bracket()
        assert br.certified and 0.0 <= br.lower <= br.rate <= br.upper <= 1e-15
        assert dyn._power_rate() == 0.0


@pytest.mark.parametrize("form", ["sgd", "ist"])
def test_power_rate_does_not_stop_early(form):
    """Regression (review's bug candidate ``dynamics._power_rate``): it stopped when two successive norm
    ratios agreed to 1e-12, which for |λ₂/λ₁| ≈ 0.998 (γ = 1e-3) left it 7e-7 below ρ (and after 2000
    iterations it returned its last ratio silently, 8e-5 low at γ = 1e-4). Now the Collatz–Wielandt
    bracket decides: within 1e-8 of the dense radius, or ConvergenceError."""
    from isttheory.errors import ConvergenceError

    p = generators.heterogeneous(2, 4, 0.5, seed=6)
    dyn = ExactDynamics(p, Permutation(2, 4), 1e-3, form)
    rho = float(np.abs(np.linalg.eigvals(_dense_T(dyn))).max())
    assert dyn._power_rate() == pytest.approx(rho, rel=1e-8)
    slow = ExactDynamics(p, Permutation(2, 4), 1e-4, form)
    with pytest.raises(ConvergenceError):
        slow._power_rate(iters=500)
