# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 10 — IST on a real two-layer network, against the quadratic theory
#
# The paper analyses IST on quadratics (12). The method it abstracts trains a network `y = W₂ σ(W₁ x)` by dealing
# disjoint blocks of hidden neurons to the workers. `isttheory.network` runs IST **as the public IST code runs it**
# (Yuan et al.'s release, ResIST): each round the hidden neurons are shuffled and dealt in equal blocks of
# `q = h/n`, a neuron's incoming row of `W₁` and outgoing column of `W₂` travelling together; client `i` takes `t`
# local gradient steps on its own data with the hidden output scaled by `n` (the sketch scale of Perm-q (7)); the
# server puts the blocks back.
#
# This notebook shows, with assertions that fail when the theory or the code is wrong:
#
# 1. **the exact bridge** — with `W₁` fixed and the squared loss, the network's objective *is* the quadratic (12)
#    (`L_i = Φ_iᵀΦ_i/m_i`, `b_i = Φ_iᵀy_i/m_i` from client `i`'s hidden features) and a round of the network's IST
#    *is* Algorithm 1: the iterates equal `simulate`'s to round-off, and the Monte Carlo mean equals
#    `ExactDynamics`' expectation within its error;
# 2. **predicted against measured plateaus** over several `γ`, both splits, a few `n` and `t`: the exact limit
#    `lim E F(W^k) − min F` from the theory's engine, against IST on the network;
# 3. **both layers training** — the Gauss–Newton local quadratic at a trained point, an *approximation*, against the
#    plateau the network reaches: where it predicts and where it does not.
#
# Sizes are small so the notebook runs in well under a minute (`diabetes`: one output, `breast_cancer`: two).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from isttheory.labels import NETWORK_PLATEAU, STEP_SIZE, m
from isttheory.network import (
    ITERATE_RTOL,
    compare_exact,
    compare_iterates,
    init_network,
    last_layer_problem,
    network_data,
    neuron_sketch,
)
from isttheory.network.run import network_experiment

T0 = time.perf_counter()
Z_TOL = 4.0  # agreement: |measured − exact expectation over the same rounds| ≤ Z_TOL standard errors

# %% [markdown]
# ## 1. The exact bridge: the network's last layer is Algorithm 1 on (12)
#
# `breast_cancer` (two one-hot outputs), `h = 16` hidden ReLU units, `n = 4` clients, rows sorted by label (each
# client sees mostly one class). With two outputs a neuron owns two coordinates of `x = vec(W₂ᵀ)`, so the deal is
# the `perm-groups` sketch (a neuron's outgoing column is one group); with one output it is Perm-q (7).

# %%
bc = network_data("breast_cancer", n=4, split="sorted", rows=200, seed=1)
bc_net = init_network(bc, 16, "relu", seed=2)
bc_problem = last_layer_problem(bc, bc_net)
GAMMA_BRIDGE = 0.05
print(f"clients n = {bc.n}, rows per client {bc.counts.tolist()}, hidden h = {bc_net.hidden}, outputs c = {bc.outputs}")
print(f"quadratic (12): d = h·c = {bc_problem.d}; IST's deal as a sketch: {neuron_sketch(bc.n, bc_net.hidden, bc.outputs).spec}")

# %% [markdown]
# **Iterates.** Same seed, hence the same permutation stream: the network's `W₂` after every round against
# `simulate(problem, sketch, γ, form="ist", local_steps=t)` on the derived quadratic, for `t = 1` and `t = 3` local
# steps. The tolerance is `ITERATE_RTOL · max(1, max|x|)` with `ITERATE_RTOL = 1e-12`: round-off only.

# %%
for t in (1, 3):
    it = compare_iterates(bc, bc_net, GAMMA_BRIDGE, 30, local_steps=t, runs=3, seed=5, problem=bc_problem)
    print(f"t = {t}: max |W₂ − x| over 3 runs × 31 rounds = {it.max_abs_diff:.2e} "
          f"(tolerance {ITERATE_RTOL * it.scale:.1e})")
    assert it.passed and it.max_abs_diff <= ITERATE_RTOL * it.scale, f"bridge iterates differ at t = {t}"

# %% [markdown]
# The scale `n` of the hidden output is what makes the network Algorithm 1: without it (`scale = 1`, as a naive
# port would do) the same comparison fails by many orders of magnitude.

# %%
naive = compare_iterates(bc, bc_net, GAMMA_BRIDGE, 30, runs=3, seed=5, scale=1.0, problem=bc_problem)
print(f"scale 1 instead of n: max |W₂ − x| = {naive.max_abs_diff:.2e}")
assert not naive.passed and naive.max_abs_diff > 1e6 * ITERATE_RTOL * naive.scale

# %% [markdown]
# **Monte Carlo against the exact expectation.** `R = 200` runs of the network's IST; the mean of
# `F(W^k) − offset` (the squared loss minus the constant `(1/n)Σ‖Y_i‖²/(2m_i)`) against `ExactDynamics`'
# exact `E f(x^k)` at every round `1…K`: two-sided z-tests with a Bonferroni correction over the rounds
# (family-wise false-alarm rate `alpha`; the seeds are fixed, so the outcome is deterministic).

# %%
mc = compare_exact(bc, bc_net, GAMMA_BRIDGE, 15, runs=200, seed=3, problem=bc_problem)
print(f"max z over rounds 1..15 = {mc.max_z:.2f}  (threshold {mc.threshold:.2f} at alpha = {mc.alpha:g})")
for k in (1, 5, 15):
    j = int(np.searchsorted(mc.iters, k))
    print(f"  k = {k:2d}: Monte Carlo {mc.mc_mean[j]:.5f} ± {mc.mc_sem[j]:.5f}   exact {mc.exact[j]:.5f}")
assert mc.passed, f"Monte Carlo mean disagrees with ExactDynamics: max z {mc.max_z:.2f} > {mc.threshold:.2f}"
assert mc.exact[0] - mc.exact[-1] > 0.1  # the loss moved: the agreement is not trivial

# %% [markdown]
# ## 2. Predicted against measured plateaus (last layer trained)
#
# `network_experiment` is the `isttheory network --json` command as a function. With `train="last"` it starts IST at
# `W₂ = argmin F` (`W₁` at its random initialisation) and reports, per `γ`:
#
# * `predicted_plateau`: the exact limit `lim_k E F(W^k) − min F` of Algorithm 1 on the quadratic (12)
#   (`ExactDynamics.limit_metrics`; `None` where the recursion diverges in mean square, rate ≥ 1);
# * `measured_plateau`: IST on the network, each run's gap averaged over the last fifth of the `K` rounds, then over
#   `R` runs, with its standard error `sem`;
# * `predicted_at_plateau_rounds`: the exact `E F(W^k) − min F` averaged over the *same* rounds. Where the limit is not
#   yet reached at `K` rounds (small `γ`), this — not the limit — is the fair comparison.
#
# Each experiment also runs the bridge checks of §1 on its first `γ` (output 0).
#
# `t > 1` local steps: the exact engine enumerates the deals, so those cases use `h = 4` neurons on `n = 2` clients.

# %%
CASES = [  # (label, keyword arguments of network_experiment)
    ("iid, n=4, t=1", dict(hidden=16, clients=4, split="iid", local_steps=1, gammas=[0.005, 0.02, 0.05, 0.2])),
    ("sorted, n=4, t=1", dict(hidden=16, clients=4, split="sorted", local_steps=1, gammas=[0.005, 0.02, 0.05, 0.2])),
    ("iid, n=8, t=1", dict(hidden=32, clients=8, split="iid", local_steps=1, gammas=[0.005, 0.02, 0.1])),
    ("iid, n=2, t=2", dict(hidden=4, clients=2, split="iid", local_steps=2, gammas=[0.05, 0.2, 0.4])),
    ("sorted, n=2, t=3", dict(hidden=4, clients=2, split="sorted", local_steps=3, gammas=[0.05, 0.2, 0.4])),
]
ROUNDS, RUNS = 200, 50
results = {}
for label, kw in CASES:
    results[label] = network_experiment(data="diabetes", train="last", rounds=ROUNDS, runs=RUNS, seed=0, **kw)


def fmt(v, spec=".5f"):
    return "—" if v is None else format(v, spec)


print(f"diabetes, last layer, K = {ROUNDS} rounds, R = {RUNS} runs; plateau = mean gap over rounds "
      f"{ROUNDS - ROUNDS // 5}..{ROUNDS}")
print(f"{'case':18s} {'γ':>6s} {'predicted (limit)':>17s} {'exact at rounds':>15s} {'measured':>9s} {'± sem':>8s} "
      f"{'z':>5s}  note")
for label, res in results.items():
    for r in res["gammas"]:
        meas = r["measured_plateau"]
        shown = "blows up" if r["predicted_plateau"] is None and meas is not None else fmt(meas)
        print(f"{label:18s} {r['gamma']:6g} {fmt(r['predicted_plateau']):>17s} "
              f"{fmt(r['predicted_at_plateau_rounds']):>15s} {shown:>9s} "
              f"{fmt(r['sem'] if r['predicted_plateau'] is not None else None):>8s} "
              f"{fmt(r['z_at_plateau_rounds'], '.2f'):>5s}  {r['note']}")

# %% [markdown]
# **What the assertions check.** In every case the bridge passed; wherever the theory predicts a plateau, the network's
# measured plateau equals the exact expectation over the same rounds within `Z_TOL = 4` standard errors; wherever the
# theory says IST diverges in mean square, the network's loss blows up (its "plateau" is more than 10× the largest
# predicted one of that case).

# %%
not_reached = []
for label, res in results.items():
    br = res["bridge"]
    assert br["passed"], f"{label}: bridge failed ({br})"
    stable = [r["predicted_plateau"] for r in res["gammas"] if r["predicted_plateau"] is not None]
    for r in res["gammas"]:
        if r["predicted_plateau"] is None:
            assert r["measured_plateau"] is None or r["measured_plateau"] > 10 * max(stable), (
                f"{label}, γ = {r['gamma']}: the theory says divergence, the network has a plateau")
            continue
        assert r["z_at_plateau_rounds"] <= Z_TOL, (
            f"{label}, γ = {r['gamma']}: measured plateau disagrees with the exact prediction "
            f"(z = {r['z_at_plateau_rounds']:.2f})")
        if abs(r["predicted_plateau"] - r["predicted_at_plateau_rounds"]) > 2 * r["sem"]:
            not_reached.append((label, r["gamma"], r["predicted_plateau"], r["predicted_at_plateau_rounds"]))
print("limit not yet reached at K rounds (|limit − exact at the plateau rounds| > 2 sem):")
for label, g, lim, at in not_reached:
    print(f"  {label}, γ = {g:g}: limit {lim:.5f}, exact over the plateau rounds {at:.5f}")

# %% [markdown]
# **The figure.** Plateau against `γ`: the exact limit (line), the exact expectation over the plateau rounds (open
# squares) and the network's measured plateau (points, ± 2 standard errors). `γ` at which the theory predicts
# divergence are marked on the axis with a cross: the network diverged there too.

# %%
fig, grid = plt.subplots(2, 3, figsize=(11, 6.4))
fig.subplots_adjust(wspace=0.45, hspace=0.4)
axes = grid.ravel()
for ax, (label, res) in zip(axes, results.items(), strict=False):
    rows = [r for r in res["gammas"] if r["predicted_plateau"] is not None]
    g = np.array([r["gamma"] for r in rows])
    ax.plot(g, [r["predicted_plateau"] for r in rows], "-", color="C0", label="exact limit")
    ax.plot(g, [r["predicted_at_plateau_rounds"] for r in rows], "s", mfc="none", color="C0",
            label="exact, same rounds")
    ax.errorbar(g, [r["measured_plateau"] for r in rows], yerr=[2 * r["sem"] for r in rows], fmt="o", color="C1",
                capsize=3, ms=4, label="network (± 2 sem)")
    bad = [r["gamma"] for r in res["gammas"] if r["predicted_plateau"] is None]
    ax.plot(bad, [ax.get_ylim()[0]] * len(bad), "x", color="C3", ms=9, clip_on=False,
            label="theory: diverges (network blew up)")
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks([r["gamma"] for r in res["gammas"]], [f"{r['gamma']:g}" for r in res["gammas"]])
    ax.set_title(f"diabetes, {label}", fontsize=10)
    ax.set_xlabel(STEP_SIZE)
    ax.set_ylabel(m(NETWORK_PLATEAU))
handles, names = axes[0].get_legend_handles_labels()
axes[-1].axis("off")
axes[-1].legend(handles, names, loc="center")
plt.show()

# %% [markdown]
# ## 3. Both layers training: the Gauss–Newton local quadratic (an approximation)
#
# When `W₁` trains too, the loss is not quadratic and no bridge is exact. `network_experiment(train="all")` runs
# gradient descent on both layers to a near-stationary point `w*`, builds the **local quadratic model** there
# (`local_quadratic`: `L_i = J_iᵀJ_i/m_i`, the Gauss–Newton part of the Hessian, and `b_i = L_i w* − ∇ℓ_i(w*)`), and
# runs the exact second-moment recursion of that model under the network's own round. One network round on both
# layers is the SGD-type form (2) with `all_layer_sketch`: a neuron's outgoing weights scaled by `n` (the release
# code scales the hidden output) and its incoming weights by `1` (`tests/test_network.py` checks one real round
# against it to round-off; Algorithm 1 with `n` on every coordinate is off by more than 1e-3). IST on the network then
# starts at `w*`; the measured plateau is `F(W^k) − F(w*)`, and the model's value over the same rounds ("at rounds")
# is the fair comparison: its mean-square rate is within `10⁻⁴` of 1, so its limit is reached only after ~10⁵ rounds.
#
# The model's parameter count is `h·(p + c)` and its recursion works with `(h·(p+c))²` second moments, so the case is
# small: `diabetes` (`p = 10`, one output), `h = 4` tanh units.

# %%
LOCAL = {n: network_experiment(data="diabetes", train="all", hidden=4, clients=n, split="iid", activation="tanh",
                               gammas=[0.02, 0.1], rounds=400, runs=20, seed=0, pretrain_rounds=2000)
         for n in (2, 4)}
print("diabetes, both layers, h = 4 tanh units, iid, K = 400 rounds, R = 20 runs; Gauss–Newton local quadratic")
print(f"{'n':>2s} {'‖∇F(w*)‖':>9s} {'γ':>5s} {'model limit':>11s} {'model at rounds':>15s} {'measured':>9s} "
      f"{'± sem':>8s} {'model/measured':>14s} {'ms rate':>10s}")
for n, res in LOCAL.items():
    s = res["settings"]
    assert s["hessian"] == "gauss-newton" and s["grad_norm_at_w_star"] < 0.05, s
    for r in res["gammas"]:
        assert r["model"] == "local-quadratic" and r["predicted_at_plateau_rounds"] is not None, r
        print(f"{n:2d} {s['grad_norm_at_w_star']:9.1e} {r['gamma']:5g} {r['predicted_plateau']:11.4f} "
              f"{r['predicted_at_plateau_rounds']:15.4f} {r['measured_plateau']:9.5f} {r['sem']:8.5f} "
              f"{r['predicted_at_plateau_rounds'] / r['measured_plateau']:14.1f} {r['ms_rate']:10.7f}")

# %% [markdown]
# **Where the local model predicts, and where it does not** (the assertions pin down both, so the notebook fails if
# either changes):
#
# * it gets the **stability** (a plateau, not divergence, at these `γ`, as the network has) and the **growth with the
#   number of clients**: both the model's value and the measured plateau are larger at `n = 4` than at `n = 2`;
# * it does **not** give the value: it **over-predicts** the measured plateau several-fold (8–60× here). The model's
#   mean drifts along nearly flat directions of `L̄` (mean-square rate `1 − 10⁻⁵`): the bias `‖x^∞ − x*‖` it predicts
#   (3–6) is larger than the network's measured drift (1–2), because the network's loss is not quadratic there and
#   holds the weights back. So the quadratic theory bounds the plateau from above on this case (the registered claim
#   `network-local-model` states exactly that); use the exact bridge of §1–2 for statements about IST.

# %%
for n, res in LOCAL.items():
    for r in res["gammas"]:
        ratio = r["predicted_at_plateau_rounds"] / r["measured_plateau"]
        assert ratio > 2.0, f"n = {n}, γ = {r['gamma']}: model/measured = {ratio:.2f}"
        assert r["predicted_converges"] and r["measured_bounded"], r
        assert r["predicted_bias"] > r["measured_bias"], r
for key in ("predicted_at_plateau_rounds", "measured_plateau"):
    assert all(a[key] < b[key] for a, b in zip(LOCAL[2]["gammas"], LOCAL[4]["gammas"], strict=True)), key

# %%
elapsed = time.perf_counter() - T0
print(f"notebook ran in {elapsed:.1f} s")
