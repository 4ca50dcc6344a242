"""All outputs of the last-layer quadratic at once (:mod:`isttheory.network.outputs`), the deterministic merge
``P̄ = κI`` of partition sketches (:attr:`DiagonalSketch.merge_constant`), and the bias predictions (issue 18).

* ``merge_constant``: ``(1/n) Σ C_i = κI`` on every sampled draw of Perm-q, scaled Perm-q, perm-blocks and
  perm-groups, and the closed forms ``E[P̄MP̄] = κ²M``, ``E[P̄MB̄] = κM E[B̄]``, ``E[P̄m(Cb)‾ᵀ] = κ m E[(Cb)‾]ᵀ`` equal
  the symbolic engine's (``rtol`` 1e-12: the engine sums O(10) terms of size ``‖M‖``, round-off ~1e-15);
* :class:`OutputsDynamics`: the summed loss and limit equal the sum over outputs of
  :class:`~isttheory.dynamics.ExactDynamics` to round-off (``rtol`` 1e-10 over 30 steps; a mutation dropping
  the cross term ``R`` is caught);
* the exact mean ``E x^K`` against the runs' mean ``W₂`` at ``K`` (z-tests, Bonferroni, family-wise 1e-3), and the
  unbiased squared-norm estimator behind ``measured_bias``;
* the preconditioned deal (23) on the network is Algorithm 1 with :class:`PreconditionedPerm` (iterates to
  round-off; a 1% wrong scale is caught), and it converges where Perm-q diverges, as predicted.
"""

from __future__ import annotations

import numpy as np
import pytest

from isttheory.dynamics import ExactDynamics
from isttheory.errors import ParameterError
from isttheory.generators import heterogeneous
from isttheory.moments import SketchMoments
from isttheory.network import bridge as bridge_module
from isttheory.network import init_network, network_data
from isttheory.network import outputs as outputs_module
from isttheory.network.bridge import ITERATE_RTOL, compare_iterates, output_problems
from isttheory.network.outputs import OutputMoments
from isttheory.network.predict import LastLayerTheory, last_layer_optimum, measured_bias, predict_at
from isttheory.network.run import network_experiment
from isttheory.network.train import NetworkRun, train_ist
from isttheory.sketches import PermBlocks, PermGroups, Permutation, ScaledPermutation
from isttheory.stats import mean_equals


def _partition_sketches():
    return [Permutation(2, 4), ScaledPermutation(2, 6, 1.5), Permutation(3, 3), PermBlocks(2, 6),
            PermGroups(2, 6, [[0, 3], [1], [2, 5], [4]])]


@pytest.mark.parametrize("sketch", _partition_sketches(), ids=lambda s: s.spec)
def test_the_merge_is_kappa_identity_on_every_draw(sketch):
    kappa = sketch.merge_constant
    assert kappa is not None
    C = sketch.sample(np.random.default_rng(0), 200).dense(sketch.d)   # (draws, n, d, d)
    assert np.array_equal(C.mean(axis=1), np.broadcast_to(kappa * np.eye(sketch.d), C.mean(axis=1).shape))


@pytest.mark.parametrize("sketch", _partition_sketches(), ids=lambda s: s.spec)
def test_merge_closed_forms_equal_the_engine(sketch, monkeypatch):
    prob = heterogeneous(sketch.n, sketch.d, seed=3)
    rng = np.random.default_rng(4)
    M = rng.standard_normal((sketch.d, sketch.d))
    M = M + M.T
    m = rng.standard_normal(sketch.d)
    short = SketchMoments(prob, sketch)
    got = (short.expected_P, short.PMP(M), short.PMB(M), short.PmCb(m))
    monkeypatch.setattr(SketchMoments, "merge_constant", property(lambda self: None))
    engine = SketchMoments(prob, sketch)
    want = (engine.expected_P, engine.PMP(M), engine.PMB(M), engine.PmCb(m))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12 * np.abs(w).max())


def test_a_wrong_merge_constant_is_caught(monkeypatch):
    """The mutation: ``κ`` 1% off makes the closed forms disagree with the engine."""
    sk = Permutation(2, 4)
    prob = heterogeneous(2, 4, seed=3)
    M = np.eye(4) + 0.1
    monkeypatch.setattr(Permutation, "merge_constant", property(lambda self: 1.01))
    short = SketchMoments(prob, sk).PMB(M)
    monkeypatch.setattr(SketchMoments, "merge_constant", property(lambda self: None))
    assert not np.allclose(short, SketchMoments(prob, sk).PMB(M), rtol=1e-6)


# ------------------------------------------------------------------------------------------------ all outputs
@pytest.fixture(scope="module")
def digits_small():
    data = network_data("digits", n=4, rows=120, seed=0)
    net = init_network(data, 8, "relu", seed=1)
    start, _ = last_layer_optimum(data, net)
    return data, start


def _per_output(data, start, gamma, rounds):
    probs = output_problems(data, start)
    total = np.zeros(rounds + 1)
    lim = 0.0
    sk = Permutation(data.n, start.hidden)
    for k, p in enumerate(probs):
        ex = ExactDynamics(p, sk, gamma, "ist", 1, x0=start.V[:, k])
        total += ex.run(rounds).metrics["f"]
        lim += ex.limit_metrics["f"]
    return total, lim


def test_all_outputs_at_once_equal_the_sum_over_outputs(digits_small):
    data, start = digits_small
    assert data.outputs == 10
    theory = LastLayerTheory(data, start)
    dyn = theory.dynamics(0.3)
    res = dyn.run(30, np.arange(31))
    total, lim = _per_output(data, start, 0.3, 30)
    np.testing.assert_allclose(res.f, total, rtol=1e-10)
    assert dyn.limit_f == pytest.approx(lim, rel=1e-10)


def test_dropping_the_cross_term_is_caught(digits_small, monkeypatch):
    data, start = digits_small
    real = outputs_module.OutputsDynamics.forcing

    def no_cross(self, m):  # the mutation: forget Σ_k (R_k + R_kᵀ)
        return real(self, np.zeros_like(m))

    monkeypatch.setattr(outputs_module.OutputsDynamics, "forcing", no_cross)
    res = LastLayerTheory(data, start).dynamics(0.3).run(30, np.arange(31))
    total, _ = _per_output(data, start, 0.3, 30)
    assert not np.allclose(res.f, total, rtol=1e-6)


def test_output_moments_refuse_problems_with_different_L(digits_small):
    data, start = digits_small
    probs = output_problems(data, start)
    other = heterogeneous(data.n, start.hidden, seed=0)
    with pytest.raises(ValueError, match="share L_i"):
        OutputMoments([probs[0], other], Permutation(data.n, start.hidden))


def test_the_exact_mean_is_the_runs_mean(digits_small):
    """``E x^K`` (exact) against the mean over 400 runs of ``W₂`` at ``K = 15``: per-weight z-tests, Bonferroni over
    the 80 weights, family-wise false-alarm rate 1e-3; and the exact bias ``‖E x^K − x*‖`` against
    :func:`measured_bias` within 10% (its Monte Carlo error here is ~2%)."""
    data, start = digits_small
    K, R = 15, 400
    dyn = LastLayerTheory(data, start).dynamics(0.3)
    res = dyn.run(K, np.array([K]))
    run = train_ist(data, start, 0.3, K, runs=R, seed=5, record=[K])
    test = mean_equals(run.V, res.mean[-1], alpha=1e-3)
    assert test.passed, test.max_z
    pred = predict_at(data, start, 0.3, K, np.array([K]), theory=LastLayerTheory(data, start))
    assert pred.bias_at_rounds == pytest.approx(float(np.linalg.norm(res.mean[-1] - start.V)), rel=1e-12)
    assert measured_bias(run, start) == pytest.approx(pred.bias_at_rounds, rel=0.1)


def test_measured_bias_is_unbiased_in_square():
    """Runs ``w* + δ + noise`` (noise N(0, 1) per weight, 50 weights, R = 10): the squared estimate averages to
    ``‖δ‖²`` over 2000 repetitions within 5 standard errors, while ``‖mean‖²`` alone is off by ``50/R = 5``."""
    rng = np.random.default_rng(0)
    h, c, R = 25, 2, 10
    delta = rng.standard_normal((h, c)) * 0.3
    start = init_network(network_data("breast_cancer", n=2, rows=20, seed=0), h, "relu", seed=0)
    est, naive = [], []
    for _ in range(2000):
        V = start.V[None] + delta[None] + rng.standard_normal((R, h, c))
        run = NetworkRun("ist", np.array([1]), np.zeros((1, R)), np.tile(start.W1, (R, 1, 1)), V,
                         settings={"train": "last"})
        b = measured_bias(run, start)
        D = (V - start.V[None]).reshape(R, -1)
        est.append(float(D.mean(0) @ D.mean(0) - D.var(0, ddof=1).sum() / R))
        naive.append(float(D.mean(0) @ D.mean(0)))
        assert b == pytest.approx(np.sqrt(max(est[-1], 0.0)))
    truth = float(np.sum(delta**2))
    se = np.std(est, ddof=1) / np.sqrt(len(est))
    assert abs(np.mean(est) - truth) <= 5 * se
    assert abs(np.mean(naive) - truth) > 20 * se


# ------------------------------------------------------------------------------------------------ precond deal
@pytest.fixture(scope="module")
def diabetes6():
    data = network_data("diabetes", n=6, rows=120, seed=0)
    return data, init_network(data, 6, "relu", seed=1)


@pytest.mark.parametrize("t", [1, 3])
def test_preconditioned_deal_is_algorithm1_with_sketch_23(diabetes6, t):
    """The network dealing with (23) (client ``i`` scales neuron ``j`` by ``√n (G_i)_jj^{-1/2}``) against
    :func:`simulate` with :class:`PreconditionedPerm` on the last-layer problem: the same iterates to round-off."""
    data, net = diabetes6
    r = compare_iterates(data, net, 0.2, 15, local_steps=t, runs=3, precond=True)
    assert r.passed and r.max_abs_diff <= ITERATE_RTOL * r.scale


def test_a_wrong_preconditioned_scale_is_caught(diabetes6, monkeypatch):
    """The mutation: the network scales by ``1.01 T`` while simulate uses ``T``."""
    data, net = diabetes6
    real = bridge_module.train_ist

    def off(*a, scale_table=None, **k):
        return real(*a, scale_table=None if scale_table is None else 1.01 * scale_table, **k)

    monkeypatch.setattr(bridge_module, "train_ist", off)
    assert not compare_iterates(data, net, 0.2, 15, runs=3, precond=True).passed


def test_the_preconditioned_deal_needs_perm1(diabetes6):
    data = network_data("diabetes", n=3, rows=60, seed=0)
    with pytest.raises(ParameterError, match="hidden = clients"):
        network_experiment(data="diabetes", hidden=6, clients=3, rows=60, gammas=[0.1], rounds=5, runs=2,
                           precond=True)
    with pytest.raises(ParameterError, match="train = last"):
        network_experiment(data="diabetes", hidden=3, clients=3, rows=60, gammas=[0.1], rounds=5, runs=2,
                           precond=True, train="all")
    assert data.n == 3


def test_precond_converges_where_perm_diverges(diabetes6):
    """The theory's region (ms rate < 1) against the network's: at γ = 0.5 Perm-q (7) diverges and (23) does not,
    in both the exact prediction and the network, and the network's plateau agrees with the exact value at the
    measured rounds within 4 SEM."""
    kw = dict(data="diabetes", hidden=6, clients=6, rows=120, gammas=[0.5], rounds=60, runs=40)
    plain = network_experiment(**kw)["gammas"][0]
    pre = network_experiment(precond=True, **kw)["gammas"][0]
    assert plain["predicted_converges"] is False and plain["measured_bounded"] is False
    assert pre["predicted_converges"] is True and pre["measured_bounded"] is True
    assert pre["z_at_plateau_rounds"] <= 4.0


def test_theorem2_neighbourhood_is_form_2s_limit_under_the_preconditioned_deal(diabetes6):
    """``thm2_plateau`` (Theorem 2's ``‖h‖²_L̄ + γσ²/(2 − γ)``, halved: a loss gap) equals the exact limit of the
    SGD-type form (2) under (23) on the network's last-layer problem to 1e-9, and differs from the network's
    Algorithm 1 (6) limit, which is what the network reaches."""
    data, net = diabetes6
    start, _ = last_layer_optimum(data, net)
    th = LastLayerTheory(data, start, precond=True)
    pred = predict_at(data, start, 0.2, theory=th)
    prob, sk = th.moments.problems[0], th.moments.sketch
    form2 = ExactDynamics(prob, sk, 0.2, "sgd", 1, x0=start.V[:, 0]).limit_metrics
    assert pred.thm2_plateau == pytest.approx(0.5 * form2["grad2_Linv"], rel=1e-9)
    assert abs(pred.thm2_plateau - pred.plateau.plateau) > 0.1 * pred.plateau.plateau
