"""IST on the two-layer network (isttheory.network) and the exact bridge to the quadratic (12).

The bridge tests assert:

* iterates: with the same seed (so the same permutation stream, ``run_seed_sequences(seed, r)[0]``) the
  network's ``W₂`` iterates equal :func:`simulate`'s ``x^k`` on :func:`last_layer_problem` with
  ``form="ist"``, ``local_steps=t``, at every round, to ``max|Δ| ≤ 1e-12 · max(1, max|x|)``
  (:data:`ITERATE_RTOL`), for t = 1 and t > 1, one output (Perm-q) and several (perm-groups), iid and
  sorted splits, and the weights have moved by far more than that;
* Monte Carlo: the mean over R = 200 runs of ``F(W^k) − offset`` equals ExactDynamics' ``E f(x^k)`` at
  every round 1..K by :func:`isttheory.stats.mean_equals` (two-sided z-tests, Bonferroni over the rounds,
  family-wise false-alarm rate 1e-3 per check; the seeds are fixed, so the outcome is deterministic);
* mutations: the hidden output scaled by n − 1 or not at all, or ``L_i`` normalised by ``m_i − 1`` or
  without the ½ of (12), make those same checks fail (by orders of magnitude).
"""

from __future__ import annotations

import numpy as np
import pytest

from isttheory.errors import DatasetError, ISTError, NetworkShapeError, ParameterError
from isttheory.generators import split_rows
from isttheory.network import (
    ITERATE_RTOL,
    compare_exact,
    compare_iterates,
    init_network,
    last_layer_problem,
    loss_offset,
    network_data,
    network_loss,
    neuron_sketch,
    to_vector,
    train_gd,
    train_ist,
)
from isttheory.network import train as train_module
from isttheory.network.model import features
from isttheory.problem import QuadraticProblem
from isttheory.simulate import simulate
from isttheory.sketches import Identity


def _setup(name: str, split: str, hidden: int = 16, n: int = 4, activation: str = "relu", rows: int = 200):
    data = network_data(name, n=n, split=split, rows=rows, seed=1)
    net = init_network(data, hidden, activation, seed=2)
    prob = last_layer_problem(data, net)
    gamma = 1.0 / (n * float(np.linalg.eigvalsh(prob.L).max()))  # Perm-q: each client's step is γ·n·L_i
    return data, net, prob, gamma


# ---------------------------------------------------------------------------------------------- the quadratic

@pytest.mark.parametrize("name", ["diabetes", "breast_cancer"])
def test_last_layer_problem_is_the_loss(name):
    """F(W₂) = f(vec W₂ᵀ) + offset, with L_i = Φ_iᵀΦ_i/m_i ⊗ I and b_i = vec(Φ_iᵀY_i/m_i), checked on
    unpadded client data at random W₂."""
    data, net, prob, _ = _setup(name, "sorted")
    rng = np.random.default_rng(0)
    for _ in range(3):
        V = rng.standard_normal(net.V.shape)
        moved = type(net)(net.W1, V, net.activation)
        assert network_loss(moved, data) == pytest.approx(float(prob.f(to_vector(V))) + loss_offset(data), rel=1e-12)
    for i in range(data.n):
        Xi, Yi = data.client(i)
        Phi = np.maximum(Xi @ net.W1.T, 0)
        m = Xi.shape[0]
        np.testing.assert_allclose(prob.L[i], np.kron(Phi.T @ Phi / m, np.eye(data.outputs)), atol=1e-13)
        np.testing.assert_allclose(prob.b[i], (Phi.T @ Yi / m).ravel(), atol=1e-13)


# ---------------------------------------------------------------------------------------------- iterates

@pytest.mark.parametrize("name, split, t", [
    ("diabetes", "iid", 1), ("diabetes", "sorted", 3),             # one output: Perm-q (7)
    ("breast_cancer", "sorted", 1), ("breast_cancer", "iid", 2),   # two outputs (one-hot): perm-groups
    ("digits", "sorted", 2),                                       # ten outputs
])
def test_bridge_iterates_equal_simulate(name, split, t):
    data, net, _, gamma = _setup(name, split)
    rounds = 15
    b = compare_iterates(data, net, gamma, rounds, local_steps=t, runs=3, seed=5)
    assert b.passed and b.max_abs_diff <= ITERATE_RTOL * b.scale
    run = train_ist(data, net, gamma, rounds, local_steps=t, runs=3, seed=5, record=[rounds])
    assert np.abs(run.V - net.V).max() > 1e-3  # the iterates moved: the agreement is not trivial


def test_bridge_iterates_past_a_draw_chunk():
    """300 rounds: both simulate and the network draw their permutations in chunks of at most 256 rounds."""
    data, net, _, gamma = _setup("diabetes", "sorted", hidden=8, n=4, rows=80)
    b = compare_iterates(data, net, gamma, 300, runs=2, seed=11)
    assert b.passed, b


def test_divergence_stops_the_run():
    data, net, _, gamma = _setup("diabetes", "iid")
    run = train_ist(data, net, 1e3 * gamma, 200, runs=2, record=np.arange(201))
    assert run.diverged and run.settings["diverged_at"] is not None
    assert np.all(np.isnan(run.loss[run.settings["diverged_at"]:]))
    gd = train_gd(data, net, 1e3 * gamma, 200)
    assert gd.diverged


def test_bridge_sketch_and_form():
    assert neuron_sketch(4, 16, 1).spec == "perm"
    assert neuron_sketch(4, 16, 3).spec == "perm-groups"
    assert neuron_sketch(4, 16, 3).d == 48


def test_permutation_chunks_do_not_change_the_run(monkeypatch):
    """Draws are sequential: drawing 3 rounds at a time gives the same run as all at once."""
    data, net, _, gamma = _setup("diabetes", "iid")
    a = train_ist(data, net, gamma, 10, runs=2, seed=4, keep_iterates=True)
    monkeypatch.setattr(train_module, "CHUNK_ROUNDS", 3)
    b = train_ist(data, net, gamma, 10, runs=2, seed=4, keep_iterates=True)
    assert np.array_equal(a.V_iterates, b.V_iterates)


def test_gd_is_simulate_with_identity():
    """Distributed GD on the last layer is (2) with C_i = I on the derived quadratic."""
    data, net, prob, gamma = _setup("breast_cancer", "sorted")
    rec = np.arange(11)
    gd = train_gd(data, net, gamma, 10, record=rec, keep_iterates=True)
    sim = simulate(prob, Identity(data.n, prob.d), gamma, 10, x0=to_vector(net.V), record=rec,
                   keep_iterates=True, warn=False)
    np.testing.assert_allclose(to_vector(gd.V_iterates[:, 0]), sim.iterates[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(gd.loss[:, 0] - loss_offset(data), sim.metrics["f"].mean, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------- Monte Carlo

@pytest.mark.parametrize("name, split, hidden", [("diabetes", "sorted", 16), ("breast_cancer", "iid", 8)])
def test_bridge_monte_carlo_matches_exact(name, split, hidden):
    data, net, _, gamma = _setup(name, split, hidden=hidden, activation="tanh")
    r = compare_exact(data, net, gamma, 12, runs=200, seed=3)
    assert r.passed, (r.max_z, r.threshold)
    assert np.all(np.abs(r.mc_mean - r.exact) <= r.threshold * r.mc_sem)


def test_bridge_monte_carlo_two_local_steps_enumerated():
    """t = 2: ExactDynamics enumerates Perm-q's 4! = 24 deals (hidden 4, n = 2)."""
    data, net, _, gamma = _setup("diabetes", "sorted", hidden=4, n=2)
    r = compare_exact(data, net, gamma, 8, runs=200, seed=3, local_steps=2)
    assert r.passed, (r.max_z, r.threshold)


# ---------------------------------------------------------------------------------------------- mutations

@pytest.mark.parametrize("scale", [3.0, 1.0])  # n − 1 and no scaling, n = 4
def test_wrong_scale_breaks_the_bridge(scale):
    data, net, _, gamma = _setup("breast_cancer", "sorted")
    b = compare_iterates(data, net, gamma, 10, local_steps=2, runs=2, seed=5, scale=scale)
    assert not b.passed and b.max_abs_diff > 1e6 * ITERATE_RTOL * b.scale
    data, net, _, gamma = _setup("diabetes", "sorted", activation="tanh")
    r = compare_exact(data, net, gamma, 12, runs=200, seed=3, scale=scale)
    assert not r.passed and r.max_z > 3 * r.threshold


def _renormalised(prob: QuadraticProblem, data, L_factor, b_factor) -> QuadraticProblem:
    return QuadraticProblem(prob.L * L_factor[:, None, None], prob.b * b_factor[:, None], check_psd=False)


def test_wrong_normalisation_breaks_the_bridge():
    data, net, prob, gamma = _setup("breast_cancer", "iid")
    m = data.counts.astype(float)
    off_by_one = _renormalised(prob, data, m / (m - 1), m / (m - 1))  # Φᵀ Φ/(m_i − 1)
    b = compare_iterates(data, net, gamma, 10, runs=2, seed=5, problem=off_by_one)
    assert not b.passed and b.max_abs_diff > 1e6 * ITERATE_RTOL * b.scale
    data, net, prob, gamma = _setup("diabetes", "sorted", activation="tanh")
    ones = np.ones(data.n)
    no_half = _renormalised(prob, data, 2 * ones, ones)  # f_i = xᵀL_i x − b_iᵀx: the ½ of (12) dropped
    r = compare_exact(data, net, gamma / 2, 12, runs=200, seed=3, problem=no_half)
    assert not r.passed and r.max_z > 3 * r.threshold


# ---------------------------------------------------------------------------------------------- both layers, CE

@pytest.mark.parametrize("loss, train, activation", [("squared", "all", "relu"), ("cross_entropy", "all", "tanh"),
                                                     ("cross_entropy", "last", "relu")])
def test_one_client_ist_is_gd(loss, train, activation):
    """n = 1: one client holds every neuron, scale 1, step γ: IST is gradient descent (any neuron order)."""
    data = network_data("digits", n=1, split="iid", rows=120, seed=0)
    net = init_network(data, 12, activation, seed=1)
    rec = np.arange(6)
    ist = train_ist(data, net, 0.1, 5, loss=loss, train=train, record=rec, seed=7)
    gd = train_gd(data, net, 0.1, 5, loss=loss, train=train, record=rec)
    np.testing.assert_allclose(ist.loss, gd.loss, rtol=1e-12)
    np.testing.assert_allclose(ist.W1, gd.W1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ist.V, gd.V, rtol=0, atol=1e-12)


@pytest.mark.parametrize("loss, activation", [("squared", "tanh"), ("cross_entropy", "tanh"), ("squared", "relu")])
def test_gd_step_is_the_gradient(loss, activation):
    """One GD step of both layers is −γ∇F, ∇F checked by central differences of network_loss."""
    data = network_data("breast_cancer", n=3, split="sorted", rows=60, seed=0)
    net = init_network(data, 6, activation, seed=3)
    gamma = 1e-3
    step = train_gd(data, net, gamma, 1, loss=loss, train="all", record=[1])
    gW1, gV = (net.W1 - step.W1[0]) / gamma, (net.V - step.V[0]) / gamma
    eps = 1e-6
    for W, grad, which in ((net.W1, gW1, 0), (net.V, gV, 1)):
        for idx in [(0, 0), (2, 1), (5, 0)]:
            E = np.zeros_like(W)
            E[idx] = eps
            nets = [type(net)(net.W1 + s * E, net.V, activation) if which == 0 else
                    type(net)(net.W1, net.V + s * E, activation) for s in (1, -1)]
            fd = (network_loss(nets[0], data, loss) - network_loss(nets[1], data, loss)) / (2 * eps)
            assert grad[idx] == pytest.approx(fd, rel=1e-5, abs=1e-8)


def test_ist_trains_both_layers_vectorised_like_a_loop():
    """train='all', n = 2, t = 2, cross-entropy: the batched run equals a plain per-client loop with the same
    neuron deals (the loop written from the method's definition: scale n, step γ/n, place back)."""
    data = network_data("digits", n=2, split="sorted", rows=100, seed=0)
    net = init_network(data, 8, "tanh", seed=1)
    gamma, rounds, t, n = 0.3, 4, 2, 2
    run = train_ist(data, net, gamma, rounds, loss="cross_entropy", train="all", local_steps=t, seed=9,
                    record=[rounds])
    from isttheory.network.train import neurons_of
    from isttheory.simulate import run_seed_sequences

    rng = np.random.Generator(np.random.PCG64(run_seed_sequences(9, 0)[0]))
    sk = neuron_sketch(n, 8, data.outputs)
    W1, V = net.W1.copy(), net.V.copy()
    for _ in range(rounds):
        deal = neurons_of(sk.sample(rng, 1), data.outputs)[0]
        W1n, Vn = W1.copy(), V.copy()
        for i in range(n):
            S = deal[i]
            Xi, Yi = data.client(i)
            a, v = W1[S].copy(), V[S].copy()
            for _ in range(t):
                H = Xi @ a.T
                A = np.tanh(H)
                out = n * A @ v
                P = np.exp(out - out.max(1, keepdims=True))
                G = (P / P.sum(1, keepdims=True) - Yi) / Xi.shape[0]
                gv = n * A.T @ G
                ga = ((n * G @ v.T) * (1 - A * A)).T @ Xi
                a, v = a - gamma / n * ga, v - gamma / n * gv
            W1n[S], Vn[S] = a, v
        W1, V = W1n, Vn
    np.testing.assert_allclose(run.W1[0], W1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(run.V[0], V, rtol=0, atol=1e-12)


def test_minibatch_of_every_row_is_full_batch():
    data, net, _, gamma = _setup("diabetes", "iid", rows=200)  # 50 rows per client
    full = train_ist(data, net, gamma, 5, runs=2, seed=1, local_steps=2, record=[5])
    mb = train_ist(data, net, gamma, 5, runs=2, seed=1, local_steps=2, batch=50, record=[5])
    np.testing.assert_allclose(mb.V, full.V, rtol=0, atol=1e-12)
    small = train_ist(data, net, gamma, 5, runs=2, seed=1, local_steps=2, batch=10, record=[5])
    again = train_ist(data, net, gamma, 5, runs=2, seed=1, local_steps=2, batch=10, record=[5])
    assert np.array_equal(small.V, again.V) and not np.allclose(small.V, full.V)


def test_training_lowers_the_loss():
    data = network_data("digits", n=4, split="iid", rows=400, seed=0)
    net = init_network(data, 32, "relu", seed=0)
    for loss in ("squared", "cross_entropy"):
        gd = train_gd(data, net, 0.1, 30, loss=loss, train="all", record=[0, 30])
        ist = train_ist(data, net, 0.1, 30, loss=loss, train="all", local_steps=2, runs=2, record=[0, 30])
        assert gd.loss[1, 0] < gd.loss[0, 0] and np.all(ist.loss[1] < ist.loss[0])
        assert not ist.diverged and ist.loss_sem is not None


# ---------------------------------------------------------------------------------------------- bad input

def test_split_rows_is_shared():
    parts = split_rows(np.array([3.0, 1.0, 2.0, 0.0]), 2, "sorted")
    assert [p.tolist() for p in parts] == [[3, 1], [2, 0]]
    with pytest.raises(ParameterError):
        split_rows(np.zeros(3), 4, "iid")
    with pytest.raises(ParameterError):
        split_rows(np.zeros(3), 2, "shuffled")


def test_bad_input_is_a_clear_error():
    data = network_data("diabetes", n=4, split="iid", rows=80, seed=0)
    net = init_network(data, 16, "relu", seed=0)
    with pytest.raises(DatasetError, match="unknown dataset"):
        network_data("mnist")
    with pytest.raises(DatasetError, match="regression"):
        network_data("diabetes", task="classification")
    with pytest.raises(NetworkShapeError, match="multiple of the number of clients"):
        train_ist(data, init_network(data, 10, "relu"), 0.1, 5)
    with pytest.raises(NetworkShapeError, match="multiple"):
        last_layer_problem(data, init_network(data, 10, "relu"))
    other = network_data("breast_cancer", n=4, rows=80)
    with pytest.raises(NetworkShapeError, match="inputs"):
        train_gd(other, net, 0.1, 5)
    for gamma in (0, -1.0, float("nan"), True):
        with pytest.raises(ParameterError, match="gamma"):
            train_ist(data, net, gamma, 5)
    cases = [dict(rounds=0), dict(local_steps=0), dict(runs=0), dict(seed=-1), dict(train="first"),
             dict(loss="hinge"), dict(loss="cross_entropy"), dict(batch=0), dict(batch=1000), dict(record=[99]),
             dict(scale=0.0)]
    for kw in cases:
        args = {"rounds": 5, **kw}
        with pytest.raises(ParameterError):
            train_ist(data, net, 0.1, **args)
    with pytest.raises(ParameterError, match="activation"):
        init_network(data, 16, "sigmoid")
    with pytest.raises(ISTError):
        init_network(data, 0)
    assert issubclass(DatasetError, ParameterError) and issubclass(NetworkShapeError, ParameterError)


def test_digits_has_no_nan_features():
    data = network_data("digits", n=8, split="sorted")
    assert np.all(np.isfinite(data.X)) and data.outputs == 10 and data.counts.sum() == 1797
    assert np.all(np.isfinite(features(init_network(data, 16).W1, data, "relu")))


def test_a_network_round_on_both_layers_is_form_2_with_the_all_layer_sketch():
    """One IST round (t = 1, both layers, the real non-quadratic loss) equals ``x − (γ/n) Σ_i C_i∇ℓ_i(C_i x)`` with
    ``C_i`` the :func:`all_layer_sketch` draw of the same stream (scale n on outgoing, 1 on incoming weights), to
    round-off; with scale n on the incoming weights too (Algorithm 1 with plain perm-groups), it does not."""
    from isttheory.network.local_model import all_layer_sketch, client_gradients, from_params, to_params
    from isttheory.network.model import TwoLayerNet
    from isttheory.simulate import run_seed_sequences
    from isttheory.sketches import PermGroups

    data = network_data("diabetes", n=2, rows=60, seed=0)
    net = init_network(data, 4, "tanh", seed=1)
    gamma = 0.3
    run = train_ist(data, net, gamma, 1, train="all", runs=1, seed=7, record=[1])
    x = to_params(net)
    sk = all_layer_sketch(data.n, net)

    def one_round(sketch):
        rng = np.random.Generator(np.random.PCG64(run_seed_sequences(7, 0)[0]))
        C = sketch.sample(rng, 1).diagonals()[0]                     # (n, P)
        step = sum(C[i] * client_gradients(data, from_params(C[i] * x, net))[i] for i in range(data.n))
        return x - gamma / data.n * step

    got = to_params(TwoLayerNet(run.W1[0], run.V[0], net.activation))
    assert np.abs(got - one_round(sk)).max() <= 1e-12 * max(1.0, np.abs(x).max())
    plain = PermGroups(data.n, sk.d, sk.groups)
    assert np.abs(got - one_round(plain)).max() > 1e-3
