"""The fast index-form simulator against the dense oracle, on the same draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isttheory import generators
from isttheory.errors import ParameterError
from isttheory.simulate import simulate
from isttheory.sketches import (
    Identity,
    PermBlocks,
    PermClients,
    Permutation,
    PreconditionedPerm,
    RandQ,
)
from tests.oracle import dense_trajectories
from tests.test_sketches import _finite

RTOL = 1e-12  # same draws, same arithmetic up to summation order: round-off only

SHAPES = {
    "identity": ((3, 4), lambda p: Identity(p.n, p.d)),
    "rand": ((3, 5), lambda p: RandQ(p.n, p.d, 2)),
    "perm-q": ((2, 6), lambda p: Permutation(p.n, p.d)),
    "perm-1": ((5, 5), lambda p: Permutation(p.n, p.d)),
    "scaled-perm": ((4, 4), lambda p: Permutation(p.n, p.d, scale=2.0)),
    "precond": ((4, 4), lambda p: PreconditionedPerm.from_problem(p)),
    "blocks": ((3, 7), lambda p: PermBlocks(p.n, p.d)),
    "blocks-d<n": ((5, 3), lambda p: PermBlocks(p.n, p.d)),
    "clients": ((6, 3), lambda p: PermClients(p.n, p.d)),
    "finite": ((2, 3), lambda p: _finite(2, 3)),
}


def _compare(problem, sketch, **kw):
    K, R = kw.pop("iters", 7), kw.pop("runs", 3)
    fast = simulate(problem, sketch, iters=K, runs=R, record=np.arange(K + 1), **kw)
    ref = dense_trajectories(problem, sketch, iters=K, runs=R, **kw)
    scale = max(1.0, np.abs(ref).max())
    np.testing.assert_allclose(fast.x_mean, ref.mean(axis=0), rtol=RTOL, atol=RTOL * scale)
    f_ref = problem.f(ref).mean(axis=0)
    np.testing.assert_allclose(fast.metrics["f"].mean, f_ref, rtol=1e-10, atol=1e-10 * scale**2)
    return fast, ref


@pytest.mark.parametrize("case", sorted(SHAPES))
@pytest.mark.parametrize("form,steps", [("sgd", 1), ("ist", 1), ("ist", 3)])
def test_fast_matches_oracle(case, form, steps):
    (n, d), make = SHAPES[case]
    p = generators.heterogeneous(n, d, 0.7, seed=hash(case) % 1000)
    _compare(p, make(p), gamma=0.1, form=form, local_steps=steps, seed=5)


@pytest.mark.parametrize("case", sorted(SHAPES))
@pytest.mark.parametrize("form,steps", [("sgd", 1), ("ist", 2)])
def test_fast_matches_oracle_with_noise(case, form, steps):
    (n, d), make = SHAPES[case]
    p = generators.heterogeneous(n, d, 0.7, seed=1)
    _compare(p, make(p), gamma=0.05, form=form, local_steps=steps, seed=8, noise=0.3, x0=np.linspace(-1, 1, d))


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 4), q=st.integers(1, 3), het=st.floats(0, 1), seed=st.integers(0, 10**6),
       form=st.sampled_from(["sgd", "ist"]))
def test_property_perm_q_matches_oracle(n, q, het, seed, form):
    p = generators.heterogeneous(n, n * q, het, seed=seed)
    _compare(p, Permutation(n, n * q), gamma=0.2, form=form, seed=seed, iters=4, runs=2)


def test_forms_coincide_under_perfect_reconstruction():
    p = generators.heterogeneous(3, 6, 0.5, seed=0)
    a = simulate(p, Permutation(3, 6), 0.1, 20, runs=4, seed=1, form="sgd")
    b = simulate(p, Permutation(3, 6), 0.1, 20, runs=4, seed=1, form="ist")
    np.testing.assert_allclose(a.x_mean, b.x_mean, rtol=1e-12, atol=1e-12)
    assert a.settings["forms_coincide"]
    c = simulate(p, Permutation(3, 6, scale=2.0), 0.1, 20, runs=4, seed=1, form="sgd")
    e = simulate(p, Permutation(3, 6, scale=2.0), 0.1, 20, runs=4, seed=1, form="ist")
    assert not c.settings["forms_coincide"]
    assert not np.allclose(c.x_mean[-1], e.x_mean[-1])


def test_same_seed_same_output_and_different_seed_differs():
    p = generators.heterogeneous(4, 8, 0.5, seed=0)
    sk = Permutation(4, 8)
    a = simulate(p, sk, 0.1, 30, runs=5, seed=3)
    b = simulate(p, sk, 0.1, 30, runs=5, seed=3)
    c = simulate(p, sk, 0.1, 30, runs=5, seed=4)
    np.testing.assert_array_equal(a.x_mean, b.x_mean)
    assert not np.array_equal(a.x_mean, c.x_mean)


@pytest.mark.parametrize("make", [lambda p: Permutation(p.n, p.d), lambda p: RandQ(p.n, p.d, 3)])
def test_results_do_not_depend_on_how_runs_are_split(make):
    p = generators.heterogeneous(4, 8, 0.5, seed=0)
    sk = make(p)
    whole = simulate(p, sk, 0.1, 40, runs=6, seed=2, noise=0.1)
    parts = [simulate(p, sk, 0.1, 40, runs=r, seed=2, first_run=f, noise=0.1) for f, r in ((0, 1), (1, 3), (4, 2))]
    combined = sum(r.settings["runs"] * r.x_mean for r in parts) / 6
    np.testing.assert_allclose(whole.x_mean, combined, rtol=1e-13, atol=1e-13)


def test_metrics_are_consistent():
    """‖∇f‖²_{L̄⁻¹} = ‖x − x*‖²_{L̄} = 2(f − f*) on quadratics (∇f = L̄(x − x*))."""
    p = generators.heterogeneous(4, 8, 0.5, seed=0)
    r = simulate(p, Permutation(4, 8), 0.1, 30, runs=4, seed=2)
    m = r.metrics
    np.testing.assert_allclose(m["grad2_Linv"].mean, m["dist2_L"].mean, rtol=1e-9)
    np.testing.assert_allclose(2 * (m["f"].mean - p.f_star), m["dist2_L"].mean, rtol=1e-8, atol=1e-12)
    assert r.metrics["f"].sem is not None and np.all(r.metrics["f"].sem >= 0)
    assert simulate(p, Permutation(4, 8), 0.1, 3, runs=1).metrics["f"].sem is None


def test_identity_converges_like_gd():
    p = generators.heterogeneous(3, 6, 0.5, seed=0)
    r = simulate(p, Identity(3, 6), 1.0 / p.eigvals_L_bar[-1], 400, runs=1)
    assert r.metrics["dist2_L"].mean[-1] < 1e-12


def test_divergence_is_reported_not_nan():
    p = generators.heterogeneous(4, 8, 0.5, seed=0)
    r = simulate(p, Permutation(4, 8), 50.0, 500, runs=3, seed=0)
    assert r.diverged and r.diverged_at is not None and 0 < r.diverged_at <= 500
    assert "exceeded" in r.divergence_reason or "non-finite" in r.divergence_reason
    for m in r.metrics.values():
        assert np.all(np.isfinite(m.mean))
    assert r.iters[-1] < r.diverged_at


def test_singular_L_bar_omits_solution_metrics():
    L = np.zeros((2, 3, 3))
    L[:, 0, 0] = 1.0
    from isttheory.problem import QuadraticProblem

    r = simulate(QuadraticProblem(L, np.zeros((2, 3))), Identity(2, 3), 0.5, 5)
    assert set(r.metrics) == {"f", "grad2"}


@pytest.mark.parametrize("kw", [dict(gamma=0.0), dict(gamma=-1.0), dict(gamma=float("nan")), dict(gamma=float("inf")),
                                dict(iters=0), dict(runs=0), dict(runs=2.5), dict(local_steps=2),
                                dict(form="adam"), dict(noise=-1.0), dict(seed=-1), dict(x0=np.ones(3)),
                                dict(record=[-1])])
def test_bad_parameters_raise(kw):
    p = generators.heterogeneous(2, 4, 0.5, seed=0)
    args = dict(gamma=0.1, iters=5, runs=2)
    args.update(kw)
    with pytest.raises(ParameterError):
        simulate(p, Permutation(2, 4), **args)
