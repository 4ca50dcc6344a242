"""Issue 18's findings: the quadratic theory against IST on a real two-layer network. Not claims of the paper
(:data:`~isttheory.claims.catalogue.PAPER_CLAIMS` does not list them): each gets a row of its own.

``network-bridge`` (exact): with ``W₁`` fixed and squared loss, IST on the network's last layer *is* Algorithm 1
on the quadratic (12) with ``L_i = (Φ_iᵀΦ_i/m_i) ⊗ I_c`` and ``b_i = vec(Φ_iᵀY_i/m_i)``
(:mod:`isttheory.network.bridge`). On digits (``settings.budget``'s hidden size, clients and rows; split sorted
by label; ReLU; ``W₁``, data and draws from ``settings.seed``), at ``γ = 1/(n·max_i λ_max(L_i))``:

* **iterates**: the network's ``W₂`` iterates against :func:`~isttheory.simulate.simulate`'s ``x^k`` on the
  derived problem, same seed and permutation stream, all outputs (``d = h·c``), 2 runs;
  equal when ``max|W₂ − x| ≤ ITERATE_RTOL · max(1, max|x|)`` (``1e-12``): the two codes do the same arithmetic
  in a different order, so they differ by floating-point round-off only (``~1e-16`` per operation, a few
  hundred operations per entry); a wrong scale or normalisation moves them by more than ``1e-6``;
* **Monte Carlo**: the mean over ``settings.budget.network_runs`` runs of the network's loss minus its constant
  offset against :class:`~isttheory.dynamics.ExactDynamics`' exact ``E f(x^k)``, on output 0's sub-problem
  (``d = h``: the quadratic separates over outputs, and the exact engine on ``d = h·c`` is slow), by
  :func:`isttheory.stats.mean_equals` (Bonferroni z-tests over the rounds, family-wise false-alarm rate
  :data:`~isttheory.stats.FAMILY_ALPHA`).

VERIFIED when both agree; REFUTED otherwise, with ``max_abs_diff`` and ``mc_max_z`` against ``mc_threshold``.

``network-local-model`` (an approximation, never exact): when both layers train, the Gauss–Newton local
quadratic at a trained point ``w*`` (:func:`~isttheory.network.local_model.local_quadratic`) predicts the
plateau ``lim E F − F(w*)`` of IST from ``w*`` (:func:`~isttheory.network.predict.predict_plateau`). The stated
tolerance: the measured plateau (:func:`~isttheory.network.predict.measure_plateau`, last fifth of the rounds) is
within a factor :data:`LOCAL_FACTOR` of the prediction, on :data:`LOCAL_CASE` (diabetes, tanh, 4 hidden units,
2 clients, both splits, ``γ = 0.1``). On this case (seed 0, ``verify --full``) the ratio measured/predicted is
0.56 on both splits (z ≈ 400: far from exact agreement): the local model over-predicts. Development runs with
shorter training gave 0.38 with 4 clients and 0.39 with 2 hidden units, outside the factor 2, so the tolerance is
stated for this case only. The second-moment engine (ExactDynamics) on the local model (``P = 44`` parameters,
``perm-groups`` over neurons) takes seconds per prediction, so the claim runs under
``verify --full`` only; ``verify`` (fast) records it INCONCLUSIVE with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..network.bridge import ITERATE_RTOL, compare_exact, compare_iterates, last_layer_problem
from ..network.data import network_data
from ..network.local_model import local_quadratic, trained_point
from ..network.model import Activation, init_network
from ..network.predict import measure_plateau, output_data, output_net, predict_plateau, tail_rounds
from ..network.train import train_ist
from .instances import Instance
from .registry import Claim, Finding, Settings, Verdict, register

Numbers = dict[str, float | int | str | bool | None]



@dataclass(frozen=True)
class LocalCase:
    data: str = "diabetes"
    activation: Activation = "tanh"
    hidden: int = 4
    clients: int = 2
    gamma: float = 0.1
    pretrain_rounds: int = 2000
    rounds: int = 400


LOCAL_CASE = LocalCase()
"""The case of ``network-local-model`` (module docstring): small enough for the second-moment engine on its local
model."""
LOCAL_SPLITS = ("iid", "sorted")
LOCAL_FACTOR = 2.0
"""The stated tolerance: ``1/LOCAL_FACTOR ≤ measured/predicted ≤ LOCAL_FACTOR``."""


def verify_bridge(inst: Instance, settings: Settings) -> Iterator[Finding]:
    b = settings.budget
    data = network_data("digits", n=b.network_clients, split="sorted", seed=settings.seed, rows=b.network_rows)
    net = init_network(data, b.network_hidden, "relu", seed=settings.seed)
    prob = last_layer_problem(data, net)
    gamma = 1.0 / (data.n * float(np.linalg.eigvalsh(prob.L).max()))
    it = compare_iterates(data, net, gamma, b.network_rounds, runs=2, seed=settings.seed, problem=prob)
    d0, n0 = output_data(data, 0), output_net(net, 0)
    mc = compare_exact(d0, n0, gamma, b.network_rounds, runs=b.network_runs, seed=settings.seed,
                       problem=last_layer_problem(d0, n0))
    numbers: Numbers = {"max_abs_diff": it.max_abs_diff, "tolerance": ITERATE_RTOL * it.scale,
                        "mc_max_z": mc.max_z, "mc_threshold": mc.threshold, "gamma": gamma, "d": prob.d,
                        "rounds": b.network_rounds, "mc_runs": mc.runs}
    method = (f"exact bridge (12): network IST (last layer, squared loss) vs simulate on the derived quadratic, same "
              f"draws, {it.runs} runs, |diff| <= {ITERATE_RTOL:g}*max(1,|x|) (round-off); Monte Carlo mean loss "
              f"({mc.runs} runs, output 0, d = {net.hidden}) vs ExactDynamics, Bonferroni z-tests at family "
              f"alpha = {mc.alpha:g}")
    ok = it.passed and mc.passed
    why = [] if it.passed else [f"iterates differ by {it.max_abs_diff:.3g} > {ITERATE_RTOL * it.scale:.3g}"]
    why += [] if mc.passed else [f"Monte Carlo z = {mc.max_z:.3g} > {mc.threshold:.3g}"]
    yield Finding(Verdict.VERIFIED if ok else Verdict.REFUTED, numbers, method, "; ".join(why),
                  variant="iterates+monte-carlo",
                  instance=f"digits network, hidden {net.hidden}, n = {data.n}, {b.network_rows} rows, sorted")


def verify_local_model(inst: Instance, settings: Settings) -> Iterator[Finding]:
    c = LOCAL_CASE
    where = f"{c.data} network, {c.activation}, hidden {c.hidden}, n = {c.clients}, gamma = {c.gamma:g}"
    method = ("local quadratic (Gauss-Newton) model at a trained point w*: an approximation; the model's plateau "
              "lim E f - f(w*) (second-moment recursion, perm-groups over neurons) against the plateau IST on both "
              f"layers reaches from w*; tolerance: a factor {LOCAL_FACTOR:g}")
    if settings.fast:
        for split in LOCAL_SPLITS:
            yield Finding(Verdict.INCONCLUSIVE, {}, method, "runs under verify --full (the second-moment engine on "
                          "the local model takes seconds)", variant=split, instance=where)
        return
    for split in LOCAL_SPLITS:
        yield _local_finding(split, settings, where, method)


def _local_finding(split: str, settings: Settings, where: str, method: str) -> Finding:
    c = LOCAL_CASE
    gamma, rounds = c.gamma, c.rounds
    data = network_data(c.data, n=c.clients, split=split, seed=settings.seed)
    net = init_network(data, c.hidden, c.activation, seed=settings.seed)
    start, _ = trained_point(data, net, c.pretrain_rounds)
    local = local_quadratic(data, start)
    pred = predict_plateau(data, start, gamma, 1, local)
    run = train_ist(data, start, gamma, rounds, loss="squared", train="all", runs=settings.budget.network_local_runs,
                    seed=settings.seed, record=tail_rounds(rounds))
    numbers: Numbers = {"predicted": pred.plateau, "measured": None, "ratio": None, "sem": None,
                        "factor": LOCAL_FACTOR, "grad_norm_at_w_star": local.grad_norm, "model": pred.model}
    if pred.plateau is None:
        return Finding(Verdict.INCONCLUSIVE, numbers, method, f"no prediction: {pred.note}", variant=split,
                       instance=where)
    if run.diverged:
        return Finding(Verdict.REFUTED, numbers, method, "the network diverged where the local model predicts a "
                       "plateau", variant=split, instance=where)
    mp = measure_plateau(run, local.loss_at_star)
    ratio = mp.plateau / pred.plateau
    numbers.update(measured=mp.plateau, ratio=ratio, sem=mp.sem, z=abs(mp.plateau - pred.plateau) / mp.sem,
                   runs=mp.runs)
    ok = 1.0 / LOCAL_FACTOR <= ratio <= LOCAL_FACTOR
    gap = f"z = |measured - predicted|/sem = {numbers['z']:.3g}"
    message = (f"within a factor {LOCAL_FACTOR:g} (measured/predicted = {ratio:.3g}); an approximation: {gap}" if ok
               else f"measured/predicted = {ratio:.3g}, outside a factor {LOCAL_FACTOR:g}; {gap}")
    return Finding(Verdict.VERIFIED if ok else Verdict.REFUTED, numbers, method, message, variant=split,
                   instance=where)


register(Claim(
    id="network-bridge", equations=("(12)", "(6)", "(7)"), section="issue 18 (beyond the paper)", scope="global",
    statement=r"W_1 \text{ fixed, squared loss: IST on } y = W_2\sigma(W_1x) \text{ is Algorithm 1 on (12) with } "
              r"L_i = \Phi_i^\top\Phi_i/m_i \otimes I_c,\ b_i = \mathrm{vec}(\Phi_i^\top Y_i/m_i)",
    verify=verify_bridge))

register(Claim(
    id="network-local-model", equations=("(12)", "(6)"), section="issue 18 (beyond the paper)", scope="global",
    statement=r"\text{(an approximation) } \tfrac12 \le \frac{\text{measured plateau}}"
              r"{\lim_k \mathbb{E} f_{GN}(x^k) - f_{GN}(w^*)} \le 2,\ L_i = J_i^\top J_i/m_i,\ "
              r"b_i = L_i w^* - \nabla\ell_i(w^*)",
    verify=verify_local_model))
