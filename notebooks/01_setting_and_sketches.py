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
# # 01 — The setting (12) and the sketch families
#
# Shulgin & Richtárik, *Towards a Better Theoretical Understanding of Independent Subnetwork
# Training* (ICML 2024). This notebook walks through the objects every later notebook uses:
#
# 1. the distributed quadratic (1)/(12), `f(x) = (1/n) Σ_i ½ xᵀL_i x − b_iᵀx`, built with
#    `isttheory.generators` (homogeneous, heterogeneous with a knob, interpolation, least squares on
#    scikit-learn's diabetes data);
# 2. the sketches `C_1, …, C_n` of Algorithm 1: identity, Rand-q (4), Perm-q (7) / Perm-1, the
#    scaled Perm-1 of §4, the preconditioned Perm-1 (23), and the two permutation compressors for
#    shapes outside `d = q·n` (`PermBlocks`, `PermClients`);
# 3. their moments — `E[C_i] = I` (Def. 1, (3)) and `ω` — in closed form (SymPy-derived inclusion
#    probabilities) and by exact enumeration of the support;
# 4. a Monte Carlo run of IST, and the difference between the SGD form (2) and the merge (6).
#
# Every conclusion is an `assert`: if the library's answer changes, the notebook fails.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
from IPython.display import Math, display

from isttheory import generators
from isttheory.constants import theta_eigen
from isttheory.dynamics import ExactDynamics
from isttheory.moments import SketchMoments
from isttheory.problem import weighted_norm2
from isttheory.simulate import simulate
from isttheory.sketches import (
    Identity,
    PermBlocks,
    PermClients,
    Permutation,
    PreconditionedPerm,
    RandQ,
)
from isttheory.symbolic.inclusion import UniformPartition
from isttheory.symbolic.inclusion import d as d_sym
from isttheory.symbolic.inclusion import n as n_sym
from isttheory.symbolic.inclusion import q as q_sym

np.set_printoptions(precision=4, suppress=True, linewidth=110)

# %% [markdown]
# ## 1. The setting (12)
#
# A `QuadraticProblem` holds `L` (n×d×d, each `L_i` symmetric PSD) and `b` (n×d). It exposes the
# averages `L̄ = (1/n)ΣL_i`, `b̄`, the diagonals `D_i = Diag(L_i)`, the solution `x* = L̄⁻¹b̄` and
# `f`, `∇f(x) = L̄x − b̄`.
#
# **Homogeneous case** (`L_i ≡ L`, `b_i ≡ b`): `generators.homogeneous` draws `L` with eigenvalues
# log-spaced in `[1, cond]`.

# %%
hom = generators.homogeneous(n=4, d=8, seed=0, cond=10.0)
print(hom)
print("eigenvalues of L̄:", hom.eigvals_L_bar)
print("x* =", hom.x_star)
assert hom.is_homogeneous and not hom.is_interpolation
assert np.allclose(hom.L, hom.L[0]) and np.allclose(hom.b, hom.b[0])
assert np.isclose(hom.eigvals_L_bar[0], 1.0) and np.isclose(hom.eigvals_L_bar[-1], 10.0)
assert np.allclose(hom.grad(hom.x_star), 0.0, atol=1e-12)  # x* solves ∇f(x) = L̄x − b̄ = 0

# %% [markdown]
# **Heterogeneous case with a knob** `h ∈ [0, 1]`: `L_i = (1−h)L + hM_i`, `b_i = (1−h)b + hc_i`.
# `h = 0` is the homogeneous case. For a fixed seed the random draws do not depend on `h`, and the shared
# part cancels in `L_i − L̄ = h(M_i − M̄)` and `b_i − b̄ = h(c_i − c̄)`: the client spreads
# `max_i ‖L_i − L̄‖_F` and `max_ij |b_ij − b̄_j|` are exactly linear in `h`.

# %%
knobs = np.linspace(0.0, 1.0, 6)
spread_L, spread_b = [], []
for h in knobs:
    p = generators.heterogeneous(n=4, d=8, heterogeneity=float(h), seed=0)
    dev = np.asarray(p.L) - p.L_bar
    spread_L.append(max(np.linalg.norm(dev[i]) for i in range(p.n)))
    spread_b.append(float(np.abs(np.asarray(p.b) - p.b_bar).max()))
    if h == 0:
        assert p.is_homogeneous
    else:
        assert not p.is_homogeneous
    assert np.all(np.linalg.eigvalsh(p.L) >= 1 - 1e-9)  # convex combination: eigenvalues stay in [1, cond]
spread_L, spread_b = np.array(spread_L), np.array(spread_b)
print("h          :", knobs)
print("spread of L:", spread_L)
print("spread of b:", spread_b)
assert spread_L[0] == 0 and spread_b[0] == 0 and np.all(np.diff(spread_L) > 0)
assert np.allclose(spread_L, knobs * spread_L[-1]) and np.allclose(spread_b, knobs * spread_b[-1])  # linear in h

fig, ax = plt.subplots(figsize=(4.5, 3))
ax.plot(knobs, spread_L, "o-", label=r"$\max_i\|L_i-\bar L\|_F$")
ax.plot(knobs, spread_b, "s--", label=r"$\max_{ij}|b_{ij}-\bar b_j|$")
ax.set_xlabel("heterogeneity knob h")
ax.legend(fontsize=8)
ax.set_title("generators.heterogeneous(n=4, d=8)", fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Interpolation case** (Theorem 1): all `b_i = 0`, hence `x* = 0`.

# %%
interp = generators.interpolation(n=4, d=8, heterogeneity=0.5, seed=0)
print(interp, "x* =", interp.x_star)
assert interp.is_interpolation and not interp.is_homogeneous
assert np.allclose(interp.x_star, 0.0)

# %% [markdown]
# **Least squares on real data.** `generators.dataset_least_squares("diabetes", n, split)` splits
# scikit-learn's diabetes data (442 rows, `d = 10` standardised features) over `n` clients:
# `L_i = A_iᵀA_i/m_i + ridge·I`, `b_i = A_iᵀy_i/m_i`. With two equal halves (221 rows each) `L̄` is the
# full-data Gram matrix, so `x*` is the ordinary ridge solution (a one-line reference value) for either
# split. The `"sorted"` split (clients see bands of the target) is the heterogeneous one: with `n = 4`
# clients their local solutions `L_i⁻¹b_i` scatter far more around `x*` than under the `"iid"` split.

# %%
X, y = generators.load_dataset("diabetes")
ridge = 1e-3
ls_iid = generators.dataset_least_squares("diabetes", n=2, split="iid", ridge=ridge)
ls_sorted = generators.dataset_least_squares("diabetes", n=2, split="sorted", ridge=ridge)
x_ridge = np.linalg.solve(X.T @ X / len(y) + ridge * np.eye(X.shape[1]), X.T @ y / len(y))  # reference
print(ls_sorted, "rows:", X.shape)
assert X.shape == (442, 10) and ls_sorted.d == 10 and ls_sorted.n == 2
assert np.allclose(ls_iid.x_star, x_ridge) and np.allclose(ls_sorted.x_star, x_ridge)


def local_scatter(p):
    """max_i ‖L_i⁻¹b_i − x*‖ / ‖x*‖: how far the clients' own solutions are from the global one."""
    local = [np.linalg.solve(p.L[i], p.b[i]) for i in range(p.n)]
    return max(np.linalg.norm(x_i - p.x_star) for x_i in local) / np.linalg.norm(p.x_star)


scatter = {split: local_scatter(generators.dataset_least_squares("diabetes", n=4, split=split, ridge=ridge))
           for split in ("iid", "sorted")}
print("n = 4 clients, local-solution scatter:", {k: round(v, 3) for k, v in scatter.items()})
assert scatter["sorted"] > 3 * scatter["iid"]

# %% [markdown]
# ## 2. Sketches
#
# A sketch is a distribution over `(C_1, …, C_n)`. All families here are diagonal,
# `C_i = Diag(c_i)`, and are sampled in **index form**: client `i` owns the coordinates
# `coords[i, :]` with scales `scales[i, :]` — no `d×d` matrix is ever formed by the simulator.
#
# Perm-q (7) with `n = 3`, `d = 6` (`q = 2`): one uniformly random permutation `π` per iteration,
# client `i` owns block `i` of `π` with scale `n`.

# %%
perm2 = Permutation(3, 6)
draw = perm2.sample(np.random.default_rng(0), 2)
print(perm2, "q =", perm2.q)
print("coords (2 draws × 3 clients × q slots):\n", draw.coords)
print("scales:", draw.scales.ravel())
dense = draw.dense(6)[0]  # (n, d, d): the first draw as dense matrices
print("C_1 of the first draw (dense):\n", dense[0])
assert draw.coords.shape == (2, 3, 2)
assert all(sorted(draw.coords[k].ravel()) == list(range(6)) for k in range(2))  # disjoint blocks cover [d]
assert np.allclose(dense.mean(axis=0), np.eye(6))  # (1/n) Σ C_i = I on this draw (perfect reconstruction)

# %% [markdown]
# The families, all at small sizes so their supports can be enumerated exactly:
#
# | sketch | definition | paper |
# |---|---|---|
# | identity | `C_i = I` | distributed GD |
# | Rand-q | `(d/q) Σ_{j∈S} e_je_jᵀ`, independent per client | (4) |
# | Perm-q, Perm-1 | block `i` of a shared permutation, scale `n` | (7) |
# | scaled Perm-1 | Perm-1 with scale `√n` | §4, homogeneous case |
# | preconditioned Perm-1 | scale `√n ((L_i)_{π_iπ_i})^{-1/2}` | (23) |
# | PermBlocks | near-equal random blocks, `d` not a multiple of `n` | outside `d = q·n` |
# | PermClients | `n = q·d` clients, one coordinate each, scale `d` | Szlendak et al. 2022 |

# %%
het6 = generators.heterogeneous(6, 6, 0.5, seed=1)
sketches = {
    "identity": Identity(3, 6),
    "Rand-2": RandQ(3, 6, 2),
    "Perm-2": Permutation(3, 6),
    "Perm-1": Permutation(6, 6),
    "scaled Perm-1": Permutation(6, 6, scale=math.sqrt(6)),
    "precond Perm-1 (23)": PreconditionedPerm.from_problem(het6),
    "PermBlocks n=4,d=6": PermBlocks(4, 6),
    "PermClients n=6,d=3": PermClients(6, 3),
}
for name, sk in sketches.items():
    print(f"{name:<21} spec={sk.spec!r:<28} n={sk.n} d={sk.d}  |support|={sk.support_size()}")

# %% [markdown]
# **Unbiasedness (Def. 1, (3)), `ω` and perfect reconstruction, two ways.**
#
# * closed form: `sketch.expected_C()` (from the inclusion model), `sketch.omega()`
#   (`max_i λ_max(E[C_iᵀC_i]) − 1`), `sketch.perfect_reconstruction`;
# * exact enumeration: `sketch.support()` lists every outcome with its probability; in index form
#   `draw.diagonals(d)` gives the vectors `c_i` of every outcome, so `E[C_i] = Σ_k p_k Diag(c_i^{(k)})`,
#   `E[C_i²] = Σ_k p_k Diag(c_i^{(k)})²`, and perfect reconstruction means `(1/n)Σ_i c_i^{(k)} = 1` on every outcome.

# %%
rows = []
for name, sk in sketches.items():
    sup = sk.support()
    c = sup.draw.diagonals(sk.d)  # (K, n, d)
    assert np.isclose(sup.probs.sum(), 1.0)
    EC_enum = np.einsum("k,knj->nj", sup.probs, c)
    EC2_enum = np.einsum("k,knj->nj", sup.probs, c**2)
    EC_closed = sk.expected_C()
    assert np.allclose(EC_closed, EC_closed[:, :, :] * np.eye(sk.d))  # diagonal
    assert np.allclose(np.diagonal(EC_closed, axis1=1, axis2=2), EC_enum, atol=1e-12), name
    unbiased_enum = bool(np.allclose(EC_enum, 1.0, atol=1e-12))
    assert sk.unbiased == unbiased_enum, name
    pr_enum = bool(np.allclose(c.mean(axis=1), 1.0, atol=1e-12))
    assert sk.perfect_reconstruction == pr_enum, name
    om = sk.omega()
    if sk.unbiased:
        assert np.isclose(om, EC2_enum.max() - 1.0), name
    else:
        assert om is None
    rows.append((name, len(sup.probs), sk.unbiased, pr_enum, om))

print(f"{'sketch':<21} {'|support|':>9} {'unbiased':>9} {'perfect recon.':>15} {'omega':>7}")
for name, k, ub, pr, om in rows:
    print(f"{name:<21} {k:>9} {str(ub):>9} {str(pr):>15} {('-' if om is None else f'{om:.4g}'):>7}")

unbiased = {r[0] for r in rows if r[2]}
assert unbiased == {"identity", "Rand-2", "Perm-2", "Perm-1", "PermBlocks n=4,d=6", "PermClients n=6,d=3"}
assert {r[0] for r in rows if not r[3]} == {"Rand-2", "scaled Perm-1", "precond Perm-1 (23)"}

# %% [markdown]
# The biased ones are exactly the two §4 sketches: the scaled Perm-1 has `E[C_i] = (√n/n) I = I/√n`,
# and (23) is designed for `E[C̃_iL_iC̃_i] = I`, not `E[C̃_i] = I`.
#
# **`ω` of Rand-q is `d/q − 1`** (Def. 1); Perm-q has `ω = n − 1` (each coordinate is kept w.p. `1/n`
# with scale `n`) and the identity `ω = 0`.

# %%
rq = sketches["Rand-2"]
print("Rand-2 on d = 6: omega() =", rq.omega(), " d/q − 1 =", rq.d / rq.q - 1, " omega_stated =", rq.omega_stated)
assert math.isclose(rq.omega(), rq.d / rq.q - 1) and math.isclose(rq.omega(), rq.omega_stated)
for q in (1, 3, 6):
    assert math.isclose(RandQ(2, 6, q).omega(), 6 / q - 1, abs_tol=1e-12)
assert math.isclose(sketches["Perm-2"].omega(), 3 - 1) and math.isclose(sketches["Perm-1"].omega(), 6 - 1)
assert math.isclose(sketches["identity"].omega(), 0.0, abs_tol=1e-12)

# %% [markdown]
# The closed forms go beyond first moments: `sketch.expected_CAC(A)` is `E[C_iA_iC_i]`, the building block of
# `E[B̄] = (1/n)ΣE[C_iL_iC_i]` (26). Check it against enumeration (`E[c_ic_iᵀ] ∘ A` per outcome) for a random
# symmetric `A`.

# %%
rng = np.random.default_rng(5)
A = rng.standard_normal((6, 6))
A = A + A.T
for name in ("Rand-2", "Perm-2", "PermBlocks n=4,d=6"):
    sk = sketches[name]
    sup = sk.support()
    c = sup.draw.diagonals(sk.d)
    enum = np.einsum("k,kni,knj->nij", sup.probs, c, c) * A  # E[C_i A C_i] = E[c_i c_iᵀ] ∘ A
    assert np.allclose(sk.expected_CAC(A), enum, atol=1e-10), name
print("E[C_i A C_i]: closed form = enumeration for Rand-2, Perm-2, PermBlocks")

# %% [markdown]
# **Inclusion probabilities, derived with SymPy.** Every moment of a diagonal sketch needs only the law of
# the ownership sets `S_i`. For the uniform partition of Perm-q (7):
# `p_same(t)` is the probability that `t` given coordinates all lie in one client's block, and
# `p_cross(u, v, 0)` that `u` coordinates lie in block `i` and `v` others in block `i' ≠ i`.

# %%
p1 = UniformPartition.p_same_expr(1)
p2 = UniformPartition.p_same_expr(2)
pc = UniformPartition.p_cross_expr(1, 1, 0)
pc_both = UniformPartition.p_cross_expr(0, 0, 1)
display(Math(r"P(j \in S_i) = " + sp.latex(p1)))
display(Math(r"P(\{j,k\} \subseteq S_i) = " + sp.latex(p2)))
display(Math(r"P(j \in S_i,\ k \in S_{i'}) = " + sp.latex(pc) + r"\qquad (i \ne i',\ j \ne k)"))
display(Math(r"P(j \in S_i \cap S_{i'}) = " + sp.latex(pc_both) + r"\qquad\text{(disjoint blocks)}"))
# with d = q·n, a coordinate is owned by each client with probability 1/n
assert sp.simplify(p1.subs(d_sym, q_sym * n_sym) - 1 / n_sym) == 0
assert sp.simplify(p2 - q_sym * (q_sym - 1) / (d_sym * (d_sym - 1))) == 0
assert pc_both == 0

# %% [markdown]
# The same numbers from the enumerated support of Perm-2 (`n = 3`, `d = 6`, `q = 2`): ownership frequencies
# of coordinates 0 and 1 by clients 0 and 1.

# %%
model = UniformPartition(3, 6)
own = sketches["Perm-2"].support().draw.diagonals(6) > 0  # (K, n, d) ownership indicators
freq = {
    "p_same(1)": (own[:, 0, 0].mean(), model.evaluate(p1)),
    "p_same(2)": ((own[:, 0, 0] & own[:, 0, 1]).mean(), model.evaluate(p2)),
    "p_cross(1,1,0)": ((own[:, 0, 0] & own[:, 1, 1]).mean(), model.evaluate(pc)),
}
for key, (f_enum, exact) in freq.items():
    print(f"{key:<15} enumeration {f_enum:.6f}   closed form {exact} = {float(exact):.6f}")
    assert abs(f_enum - float(exact)) < 1e-12
assert freq["p_same(1)"][1] == sp.Rational(1, 3) and freq["p_cross(1,1,0)"][1] == sp.Rational(2, 15)

# %% [markdown]
# ## 3. A run of IST with Perm-q
#
# `simulate(problem, sketch, gamma, iters, runs, seed)` runs `R` independent runs of the SGD form (2),
# `x^{k+1} = x^k − γ(1/n)Σ_i C_i∇f_i(C_ix^k)`, vectorised over runs, and records the mean ± standard error of
# `‖x^k − x*‖²_{L̄}`. We use Perm-2 (`n = 4`, `d = 8`) with the step `γ = 1/θ*` of Theorem 1 (θ* from
# the generalised eigenvalue of (14), `constants.theta_eigen`) on an interpolation problem and on the same
# `L_i` with `b_i ≠ 0`. In interpolation the error decays linearly (16); otherwise it stalls at a
# neighbourhood — the bias of §4 — which we compare with the exact limit of `ExactDynamics`.

# %%
perm_q = Permutation(4, 8)
gen = generators.heterogeneous(4, 8, 0.5, seed=0)
mo = SketchMoments(interp, perm_q)
theta, _, status = theta_eigen(mo.W, mo.BLB)
gamma = 1.0 / theta
print(f"θ* = {theta:.4f} ({status}), γ = 1/θ* = {gamma:.4f}")
assert status == "optimal"

K, R = 60, 200
res_int = simulate(interp, perm_q, gamma, iters=K, runs=R, seed=1)
res_gen = simulate(gen, perm_q, gamma, iters=K, runs=R, seed=1)
limit = ExactDynamics(gen, perm_q, gamma).limit_metrics["dist2_L"]
d_int, d_gen = res_int.metrics["dist2_L"], res_gen.metrics["dist2_L"]
print("interpolation: ‖x^k − x*‖²_L̄ at k = 0, K:", d_int.mean[0], d_int.mean[-1])
print(f"general b_i  : at k = K: {d_gen.mean[-1]:.4f} ± {d_gen.sem[-1]:.4f}; exact limit {limit:.4f}")
assert not res_int.diverged and not res_gen.diverged
assert np.isclose(d_int.mean[0], weighted_norm2(np.ones(8), interp.L_bar))  # x⁰ = 1, x* = 0
assert d_int.mean[-1] < 1e-20 * d_int.mean[0]
assert limit > 0.1 and abs(d_gen.mean[-1] - limit) < 5 * d_gen.sem[-1]

fig, axes = plt.subplots(1, 2, figsize=(8, 3.0))
axes[0].semilogy(res_int.iters, d_int.mean, color="C0")
axes[0].set_title("interpolation ($b_i=0$): linear convergence (16)", fontsize=9)
axes[1].plot(res_gen.iters, d_gen.mean, color="C1", label=f"Monte Carlo mean, R = {R}")
axes[1].fill_between(res_gen.iters, d_gen.mean - 2 * d_gen.sem, d_gen.mean + 2 * d_gen.sem, color="C1", alpha=0.3,
                     label="± 2 s.e.")
axes[1].axhline(limit, color="k", ls=":", lw=1, label="exact limit (ExactDynamics)")
axes[1].set_yscale("log")
axes[1].set_title("general $b_i$: a neighbourhood (bias, §4)", fontsize=9)
axes[1].legend(fontsize=7)
for ax in axes:
    ax.set_xlabel("iteration k")
    ax.set_ylabel(r"$\|x^k-x^*\|^2_{\bar L}$")
fig.suptitle("Perm-2, n = 4, d = 8, γ = 1/θ*", fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Forms (2) and (6)
#
# Algorithm 1 runs the merge (6): `x^{k+1} = (1/n)Σ_i [C_ix^k − γC_i∇f_i(C_ix^k)]`; the analysis uses the
# SGD form (2) `x^{k+1} = x^k − γ(1/n)Σ_iC_i∇f_i(C_ix^k)`. They differ by `(P̄ − I)x^k` with
# `P̄ = (1/n)Σ_iC_i`, so they coincide exactly under perfect reconstruction. The simulator reports it in
# `settings["forms_coincide"]`; with the same seed the two forms then give the same iterates.

# %%
kw = dict(iters=40, runs=50, seed=3)
r2 = simulate(gen, perm_q, gamma, form="sgd", **kw)
r6 = simulate(gen, perm_q, gamma, form="ist", **kw)
print("Perm-2      : forms_coincide =", r6.settings["forms_coincide"],
      " max |x̄(2) − x̄(6)| =", np.abs(r2.x_mean - r6.x_mean).max())
assert r2.settings["forms_coincide"] and r6.settings["forms_coincide"]
assert np.allclose(r2.x_mean, r6.x_mean, atol=1e-10)

gen4 = generators.heterogeneous(4, 4, 0.5, seed=0)
scaled = Permutation(4, 4, scale=2.0)  # √n with n = 4: the §4 homogeneous scale
s2 = simulate(gen4, scaled, 0.1, form="sgd", **kw)
s6 = simulate(gen4, scaled, 0.1, form="ist", **kw)
assert not (s2.diverged or s6.diverged)
gap = np.abs(s2.x_mean - s6.x_mean).max()
print("scaled Perm-1: forms_coincide =", s6.settings["forms_coincide"], " max |x̄(2) − x̄(6)| =", gap)
assert not scaled.perfect_reconstruction and not s6.settings["forms_coincide"]
assert gap > 0.1

fig, ax = plt.subplots(figsize=(5, 3.0))
ax.plot(r2.iters, np.linalg.norm(r2.x_mean - r6.x_mean, axis=1), "o-", ms=3, label="Perm-2 (perfect reconstruction)")
ax.plot(s2.iters, np.linalg.norm(s2.x_mean - s6.x_mean, axis=1), "s-", ms=3, label="scaled Perm-1, s = √n")
ax.set_xlabel("iteration k")
ax.set_ylabel(r"$\|\bar x^k_{(2)} - \bar x^k_{(6)}\|$ (run means)")
ax.set_title("same seed, form (2) vs form (6)", fontsize=9)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# With the scaled Perm-1, `P̄ = (√n/n) I = I/2`: Algorithm 1 halves the model at every merge, so its
# iterates shrink toward a different point than the SGD form's. Which form a result refers to matters
# for every sketch without perfect reconstruction (Rand-q, scaled Perm-1, (23)).
