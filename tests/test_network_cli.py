"""The local quadratic model (Gauss–Newton at a trained point) and the ``isttheory network`` command (issue 18).

* derivatives: the exact NumPy gradient of the squared loss against central finite differences of the loss,
  and the Jacobian behind ``L_i = J_iᵀJ_i/m_i`` against central finite differences of the outputs (tanh, where
  the loss is smooth);
* grouping: neuron ``j``'s ``perm-groups`` group is its incoming row of ``W₁`` and its outgoing column of ``W₂``;
* the command: JSON keys and types on digits, hidden 16, 4 clients, 50 rounds; a bad input is one line, exit 2;
  ``--out`` writes figures the readability checker passes;
* agreement on the exact case (train = last): ``|measured − exact E(F − F_ref) over the same rounds| ≤ 4 SEM``
  (``Z_TOL``), and the same assertion fails when the engine is deliberately wrong (γ divided by 4 inside it).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from isttheory import resources
from isttheory.cli import main
from isttheory.errors import ResourceError
from isttheory.network import init_network, network_data
from isttheory.network import outputs as outputs_module
from isttheory.network.local_model import (
    all_layer_sketch,
    client_gradients,
    from_params,
    jacobians,
    local_quadratic,
    neuron_groups,
    to_params,
)
from isttheory.network.model import client_losses, features
from isttheory.network.run import network_experiment
from tests.cli_harness import assert_one_line_error, run
from tests.test_figures_readable import unreadable

Z_TOL = 4.0
"""Agreement: ``|measured − predicted| ≤ Z_TOL · sem`` (R = 100 runs, the exact expectation at the same rounds)."""
SMALL = dict(data="digits", hidden=16, clients=4, rounds=50, runs=100, seed=0)


def _small_net(activation: str = "tanh"):
    data = network_data("breast_cancer", n=2, rows=40, seed=1)
    return data, init_network(data, 4, activation, seed=2)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gradient_matches_central_differences(activation):
    data, net = _small_net(activation)
    w = to_params(net)
    g = client_gradients(data, net)
    eps = 1e-6
    fd = np.zeros_like(g)
    for a in range(w.size):
        e = np.zeros(w.size)
        e[a] = eps
        up, down = from_params(w + e, net), from_params(w - e, net)
        fd[:, a] = (client_losses(up.W1, up.V, data, activation, "squared")
                    - client_losses(down.W1, down.V, data, activation, "squared")) / (2 * eps)
    assert np.abs(fd - g).max() <= 1e-7 * max(1.0, np.abs(g).max())


def test_gauss_newton_matches_jacobian_differences():
    data, net = _small_net("tanh")
    w = to_params(net)
    eps = 1e-6

    def outputs(v):
        t = from_params(v, net)
        return features(t.W1, data, "tanh") @ t.V

    J_fd = np.stack([(outputs(w + eps * e) - outputs(w - eps * e)) / (2 * eps) for e in np.eye(w.size)], axis=-1)
    assert np.abs(J_fd - jacobians(data, net)).max() <= 1e-8
    L_fd = np.einsum("nmkP,nm,nmkQ->nPQ", J_fd, data.weights, J_fd)
    model = local_quadratic(data, net)
    L = np.asarray(model.problem.L)
    assert np.abs(L - L_fd).max() <= 1e-7 * np.abs(L).max()
    # b_i = L_i w* − ∇ℓ_i(w*): the model's gradient at w* is the network's
    grad_model = np.einsum("nPQ,Q->nP", L, w) - np.asarray(model.problem.b)
    assert np.allclose(grad_model, client_gradients(data, net), atol=1e-12)


def test_a_neurons_incoming_row_and_outgoing_column_are_one_group():
    data, net = _small_net()
    p, c = net.inputs, net.outputs
    groups = neuron_groups(net.hidden, p, c)
    w = to_params(net)
    for j, grp in enumerate(groups):
        assert np.array_equal(w[grp], np.concatenate([net.W1[j], net.V[j]]))
    assert all_layer_sketch(data.n, net).groups == tuple(tuple(g) for g in groups) or \
        [list(g) for g in all_layer_sketch(data.n, net).groups] == groups
    back = from_params(w, net)
    assert np.array_equal(back.W1, net.W1) and np.array_equal(back.V, net.V)


def test_local_quadratic_refuses_what_would_not_fit(monkeypatch):
    data, net = _small_net()
    monkeypatch.setattr(resources, "available_memory", lambda: 1000)
    with pytest.raises(ResourceError):
        local_quadratic(data, net)


# ------------------------------------------------------------------------------------------------ the command
@pytest.fixture(scope="module")
def small_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("network")
    res = network_experiment(train="last", gammas=[0.05, 0.2], out=str(out), **SMALL)
    return res, out


def test_json_keys_and_types(small_result, capsys):
    res, _ = small_result
    assert set(res) == {"settings", "bridge", "gammas", "seconds"}
    assert isinstance(res["seconds"], float)
    br = res["bridge"]
    assert isinstance(br["max_abs_diff"], float) and isinstance(br["mc_vs_exact_z"], float)
    assert br["max_abs_diff"] <= 1e-12 and br["passed"] is True
    for row in res["gammas"]:
        assert {"gamma", "predicted_plateau", "measured_plateau", "sem", "model"} <= set(row)
        assert row["model"] == "exact"
        for key in ("gamma", "predicted_plateau", "measured_plateau", "sem", "ms_rate", "predicted_bias",
                    "predicted_bias_at_rounds", "measured_bias"):
            assert isinstance(row[key], float)
        assert row["predicted_converges"] is True and row["measured_bounded"] is True
        assert 0 < row["ms_rate"] < 1
    json.dumps(res, allow_nan=False)  # strict JSON


def test_command_prints_the_json(capsys):
    code = main(["network", "--hidden", "8", "--clients", "4", "--rounds", "10", "--runs", "3", "--gamma", "0.1",
                 "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["settings"]["hidden"] == 8 and doc["gammas"][0]["model"] == "exact"


@pytest.mark.parametrize("bad", [("--hidden", "10", "--clients", "4", "--gamma", "0.1"),
                                 ("--gamma", "-1"), ("--gamma", "0.1", "--data", "nope")])
def test_bad_input_is_one_line_exit_2(bad, tmp_path):
    assert_one_line_error(run("network", "--rounds", "5", "--runs", "2", *bad, cwd=tmp_path), empty_stdout=True)


def test_out_writes_readable_figures(small_result, monkeypatch):
    from isttheory.network import figures

    _, out = small_result
    for name in ("plateau.png", "loss_curve.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    built = []
    for fn in ("plateau_figure", "curve_figure"):
        orig = getattr(figures, fn)
        monkeypatch.setattr(figures, fn, lambda *a, _orig=orig, **k: built.append(_orig(*a, **k)) or built[-1])
    network_experiment(train="last", gammas=[0.1], out=str(out / "again"), data="digits", hidden=8, clients=4,
                       rounds=10, runs=3)
    assert len(built) == 2
    for fig in built:
        assert unreadable(fig) == []


def _agreement(res):
    """The agreement assertion's statistic: max over γ of |measured − exact E over the same rounds| / sem
    (infinite when there is no prediction where the network has a plateau)."""
    return max(float("inf") if r["z_at_plateau_rounds"] is None else r["z_at_plateau_rounds"] for r in res["gammas"])


def test_exact_prediction_agrees_with_the_network(small_result):
    res, _ = small_result
    assert _agreement(res) <= Z_TOL
    for r in res["gammas"]:  # the limit itself is close at 50 rounds from x*
        assert abs(r["predicted_plateau"] - r["measured_plateau"]) <= 0.05 * r["predicted_plateau"]


def test_a_wrong_engine_is_caught(monkeypatch):
    real = outputs_module.ExactDynamics

    def wrong(problem, sketch, gamma, *a, **k):  # the mutation: the engine runs at a quarter of the step
        return real(problem, sketch, 0.25 * gamma, *a, **k)

    monkeypatch.setattr(outputs_module, "ExactDynamics", wrong)
    res = network_experiment(train="last", gammas=[0.2], **SMALL)
    assert _agreement(res) > Z_TOL


def test_train_all_reports_the_local_quadratic_model():
    res = network_experiment(data="diabetes", hidden=4, clients=2, train="all", gammas=[0.1], rounds=60, runs=10,
                             rows=100, pretrain_rounds=500, activation="tanh")
    assert res["bridge"] is None
    (row,) = res["gammas"]
    assert row["model"] == "local-quadratic"
    assert res["settings"]["hessian"] == "gauss-newton"
    assert isinstance(row["measured_plateau"], float)
    assert row["predicted_plateau"] is None or isinstance(row["predicted_plateau"], float)


def test_train_all_refuses_a_model_too_big(monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda: 10_000)
    with pytest.raises(ResourceError):
        network_experiment(data="diabetes", hidden=4, clients=2, train="all", gammas=[0.1], rounds=5, runs=2,
                           rows=100, pretrain_rounds=5)
