"""The issue-18 findings of ``verify`` (isttheory/claims/network.py): the exact bridge is VERIFIED and a wrong
bridge is REFUTED; the local quadratic model is judged against its stated tolerance (a factor 2), called an
approximation, and a wrong prediction is REFUTED."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from isttheory.claims import Settings, Verdict, get
from isttheory.claims import network as claim_module
from isttheory.claims.catalogue import PAPER_CLAIMS, roll_up
from isttheory.network import bridge as bridge_module
from isttheory.problem import QuadraticProblem
from isttheory.verify import GLOBAL_INSTANCE

FAST = Settings(fast=True, seed=0)
FULL = Settings(fast=False, seed=0)


def _run(claim_id: str, settings: Settings = FAST):
    return get(claim_id).run(GLOBAL_INSTANCE, settings)


def test_fast_findings():
    (bridge,) = _run("network-bridge")
    assert bridge.verdict is Verdict.VERIFIED, bridge.message
    assert bridge.numbers["max_abs_diff"] <= bridge.numbers["tolerance"] == pytest.approx(1e-12)
    assert bridge.numbers["mc_max_z"] <= bridge.numbers["mc_threshold"]
    assert "simulate" in bridge.method and "ExactDynamics" in bridge.method
    local = _run("network-local-model")
    assert {f.variant for f in local} == set(claim_module.LOCAL_SPLITS)
    assert all(f.verdict is Verdict.INCONCLUSIVE and "verify --full" in f.message for f in local)
    assert all("approximation" in f.method and "exact" not in f.method.lower() for f in local)
    assert all(not get(f.claim_id).unexpected(f) for f in [bridge, *local])


def test_network_findings_are_not_paper_claims_and_get_rows_of_their_own():
    pairs = [(get(f.claim_id), f) for f in _run("network-bridge") + _run("network-local-model")]
    covered = {s.claim for pc in PAPER_CLAIMS for s in pc.sources}
    assert not {"network-bridge", "network-local-model"} & covered
    rows = {r["id"]: r for r in roll_up(pairs)}
    assert rows["network-bridge"]["verdict"] == "VERIFIED"
    assert rows["network-local-model"]["verdict"] == "INCONCLUSIVE"
    assert "(12)" in rows["network-bridge"]["equations"]


def _scaled_b(factor: float):
    real = claim_module.last_layer_problem

    def wrong(data, net):  # the mutation: b_i off by a factor
        p = real(data, net)
        return QuadraticProblem(p.L, p.b * factor, check_psd=False)
    return wrong


@pytest.mark.parametrize("factor", [1.1, 1.5])
def test_mutation_wrong_b_refutes_the_bridge(monkeypatch, factor):
    """b_i off by 10%: the iterates catch it (the Monte Carlo test, at 400 runs and 12 small steps, does not:
    z = 2.7 under its threshold 3.9); off by 50%, both do."""
    monkeypatch.setattr(claim_module, "last_layer_problem", _scaled_b(factor))
    (f,) = _run("network-bridge")
    assert f.verdict is Verdict.REFUTED and get("network-bridge").unexpected(f)
    assert f.numbers["max_abs_diff"] > 1e6 * f.numbers["tolerance"]
    assert "iterates differ" in f.message
    if factor == 1.5:
        assert f.numbers["mc_max_z"] > f.numbers["mc_threshold"] and "Monte Carlo" in f.message


def test_mutation_wrong_scale_refutes_the_bridge(monkeypatch):
    """The hidden output scaled by n − 1 instead of n (the sketch's scale): the network is no longer Algorithm 1
    on (12)."""
    real = bridge_module.train_ist

    def wrong(data, net, *a, **k):
        k["scale"] = data.n - 1
        return real(data, net, *a, **k)

    monkeypatch.setattr(bridge_module, "train_ist", wrong)
    (f,) = _run("network-bridge")
    assert f.verdict is Verdict.REFUTED
    assert f.numbers["max_abs_diff"] > 1e6 * f.numbers["tolerance"]
    assert f.numbers["mc_max_z"] > f.numbers["mc_threshold"]


# ------------------------------------------------------------------------------------ the local model (FULL)

@pytest.fixture(scope="module")
def local_full():
    """The FULL finding on one split, and the real prediction it used (so mutations need not rerun the engine)."""
    mp = pytest.MonkeyPatch()
    seen = []
    real = claim_module.predict_at

    def spy(*a, **k):
        seen.append(real(*a, **k))
        return seen[-1]

    mp.setattr(claim_module, "LOCAL_SPLITS", ("iid",))
    mp.setattr(claim_module, "predict_at", spy)
    try:
        (f,) = _run("network-local-model", FULL)
    finally:
        mp.undo()
    return f, seen[0]


def test_local_model_over_predicts_as_stated_and_is_called_an_approximation(local_full):
    f, th = local_full
    assert f.verdict is Verdict.VERIFIED, f.message
    n = f.numbers
    assert n["predicted_at_rounds"] == pytest.approx(float(th.exact_tail.mean())) and n["model"] == "local-quadratic"
    assert n["ratio"] == pytest.approx(n["predicted_at_rounds"] / n["measured"])
    assert n["ratio"] > 1.0 and n["z_tolerance"] == 4.0
    assert np.isfinite(n["sem"]) and n["sem"] > 0
    assert "approximation" in f.method and "Gauss-Newton" in f.method
    claim = get("network-local-model")
    for text in (f.method, f.message, f.instance, claim.statement):
        assert "exact" not in text.lower()  # an approximation is never called exact
    assert "approximation" in claim.statement


def test_mutation_an_under_predicting_model_refutes_the_local_model(monkeypatch, local_full):
    """The mutation: the model's value divided by 100 (below the measured plateau) must come out REFUTED."""
    _, th = local_full
    monkeypatch.setattr(claim_module, "LOCAL_SPLITS", ("iid",))
    monkeypatch.setattr(claim_module, "predict_at", lambda *a, **k: replace(th, exact_tail=th.exact_tail / 100))
    (f,) = _run("network-local-model", FULL)
    assert f.verdict is Verdict.REFUTED and get("network-local-model").unexpected(f)
    assert f.numbers["ratio"] < 1.0
    assert "exceeds the model's value" in f.message
