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
# # 03 — Preconditioning: §3.1.1 (20)–(22) and §3.1.2 (23)–(25)
#
# Theorem 1 needs (14) `E[B̄L̄B̄] ⪯ θW̄`. Two remedies make it hold with the best possible constant:
#
# * **§3.1.1, homogeneous preconditioning** (20): change variables `x̃ = D^{1/2}x` with `D = Diag(L)`, so the
#   problem becomes `L̃ = D^{-1/2}LD^{-1/2}` with unit diagonal; with Perm-1, `B̄ = nI` on every draw and
#   (14) holds for `θ ≥ n`, giving the GD-like rate (22).
# * **§3.1.2, heterogeneous sketch preconditioning** (23): scale each client's Perm-1 coordinate by
#   `√n((L_i)_{π_iπ_i})^{-1/2}`. Then `E[C̃_iL_iC̃_i] = I`, `B̄ = I` on every draw, `W̄ = L̄`, `θ* = 1`, the
#   rate (24), and at `γ = 1` the contraction factor of (16) is 0 (25): one-step convergence in interpolation.
#
# The paper prints the scale of (23) as `[L_i^{-1/2}]_{π_iπ_i}`; that version is wrong (ERRATA
# `precond-scale`), which the last section shows. Everything below is computed by the library and asserted.

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Math, display

from isttheory import generators, montecarlo
from isttheory.constants import contraction, rate, theta_star
from isttheory.derivations import precond_heterogeneous, precond_homogeneous
from isttheory.dynamics import ExactDynamics
from isttheory.moments import SketchMoments
from isttheory.simulate import simulate
from isttheory.sketches import Permutation, PreconditionedPerm

np.set_printoptions(precision=4, suppress=True, linewidth=110)




def outcomes_B(problem, sketch):
    """B̄ = (1/n)Σ_i C_iL_iC_i on every outcome of the sketch's enumerated support (index form)."""
    sup = sketch.support()
    c = sup.draw.diagonals(sketch.d)
    return sup.probs, np.einsum("kni,nij,knj->kij", c, np.asarray(problem.L), c) / sketch.n


# %% [markdown]
# ## 1. §3.1.1 — homogeneous preconditioning (20)
#
# A homogeneous problem (`L_i ≡ L`, `b_i ≡ b`), `n = d = 4`. `precond_homogeneous.precondition` returns the
# problem in the variables `x̃ = D^{1/2}x`: `L̃ = D^{-1/2}LD^{-1/2}`, `b̃ = D^{-1/2}b`. Then
# `f̃(x̃) = f(D^{-1/2}x̃)`, `∇f̃(x̃) = D^{-1/2}∇f(x)` — so the gradient norms of (21)–(22) are
# `‖∇f̃‖² = ‖∇f‖²_{D⁻¹}` in the original variables (ERRATA `sec311-norms`) — and `Diag(L̃) = I`.

# %%
n = 4
hom = generators.homogeneous(n, n, seed=0, cond=30.0)
pre = precond_homogeneous.precondition(hom)
D = hom.D[0]
Lt = pre.L_bar
print("Diag(L) =", D)
print("L̃ =\n", Lt)
assert np.allclose(Lt, hom.L_bar / np.sqrt(np.outer(D, D)))  # D^{-1/2} L D^{-1/2}
assert np.allclose(np.diag(Lt), 1.0) and pre.is_homogeneous

x = np.random.default_rng(0).standard_normal(n)
xt = np.sqrt(D) * x  # x̃ = D^{1/2} x
assert np.isclose(pre.f(xt), hom.f(x))
assert np.allclose(pre.grad(xt), hom.grad(x) / np.sqrt(D))
assert np.isclose(pre.grad(xt) @ pre.grad(xt), hom.grad(x) @ (hom.grad(x) / D))  # ‖∇f̃‖² = ‖∇f‖²_{D⁻¹}

# %% [markdown]
# **Perm-1 on `L̃`.** Client `i` owns coordinate `π_i` with scale `n`: `B̄ = (1/n)Σ_i n²L̃_{π_iπ_i}e_{π_i}e_{π_i}ᵀ =
# n·Diag(L̃) = nI` on **every** one of the `4! = 24` draws. Hence `E[B̄] = nI`, `W̃ = nL̃`, `E[B̄L̃B̄] = n²L̃`,
# `θW̃ − E[B̄L̃B̄] = n(θ − n)L̃`, and (14) holds iff `θ ≥ n`.

# %%
interp_pre = precond_homogeneous.precondition(generators.homogeneous(n, n, seed=0, cond=30.0, interpolation=True))
perm1 = Permutation(n, n)
probs, Bk = outcomes_B(interp_pre, perm1)
print(f"{len(probs)} outcomes; max_k |B̄^(k) − nI| = {np.abs(Bk - n * np.eye(n)).max():.2e}")
assert len(probs) == 24 and np.allclose(Bk, n * np.eye(n), atol=1e-12)

mo_h = SketchMoments(interp_pre, perm1)
assert np.allclose(mo_h.expected_B, n * np.eye(n))
assert np.allclose(mo_h.W, n * Lt) and np.allclose(mo_h.BLB, n**2 * Lt)
res_h = theta_star(mo_h.W, mo_h.BLB)
lam_h = rate(mo_h.W, Lt)
print(f"θ* = {res_h.value:.6f} (SDP, {res_h.status}, agrees with eigen: {res_h.agrees}); "
      f"λ_min(L̃^-1/2 W̃ L̃^-1/2) = {lam_h:.6f}")
assert res_h.status == "optimal" and res_h.agrees and abs(res_h.eigen_value - n) < 1e-9
assert abs(lam_h - n) < 1e-9

# %% [markdown]
# **(21)** relates the norm of (15) to the Euclidean one: `‖∇f̃‖²_{L̃⁻¹W̃L̃⁻¹} = n‖∇f̃‖²_{L̃⁻¹} ≥
# (n/λ_max(L̃))‖∇f̃‖²`. **(22)** then follows from (15) at `γ = 1/θ = 1/n`. But the iteration is deterministic,
# `x̃^{k+1} = (1 − γn)x̃^k`, so at `γ = 1/n` it reaches `x* = 0` in one step and (22) is very loose there. We
# check the trajectories for `γ = c/n`, and (22) itself with `montecarlo.check_eq22` (Monte Carlo beside the exact
# expectation).

# %%
g = pre.grad(xt)
Lt_inv = np.linalg.inv(Lt)
lhs21 = g @ Lt_inv @ mo_h.W @ Lt_inv @ g
assert np.isclose(lhs21, n * g @ Lt_inv @ g) and lhs21 >= n / np.linalg.eigvalsh(Lt)[-1] * (g @ g)

fig, ax = plt.subplots(figsize=(4.8, 3))
K = 8
for cfac in (0.25, 0.5, 1.0):
    r = simulate(interp_pre, perm1, cfac / n, iters=K, runs=20, seed=1, record=range(K + 1), keep_iterates=True)
    ref = np.array([(1 - cfac) ** k for k in range(K + 1)])  # x̃^k = (1 − γn)^k x̃⁰, x̃⁰ = 1
    assert np.allclose(r.iterates, ref[:, None, None] * np.ones((1, 20, n)), atol=1e-13)  # every run, every k
    ax.semilogy(r.iters, np.maximum(r.metrics["dist2_L"].mean, 1e-32), "o-", ms=3, label=f"γ = {cfac}/n")
ax.set_xlabel("iteration k")
ax.set_ylabel(r"$\|\tilde x^k\|^2_{\tilde L}$ (all runs; 0 drawn at $10^{-32}$)")
ax.set_title("§3.1.1: Perm-1 on L̃ is deterministic", fontsize=9)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

c22 = montecarlo.check_eq22(runs=200, seed=0)
print(f"(22): avg ‖∇f̃‖² − 2λ_max(L̃)(f̃⁰ − f̃^K)/K = {c22.estimate:.4f} (exact {c22.exact:.4f}) ≤ 0; "
      f"bound/exact = {c22.tightness:.2f}")
assert not c22.rejected and c22.exact <= 0 and c22.estimate <= 0

# %% [markdown]
# ## 2. §3.1.2 — heterogeneous sketch preconditioning (23)
#
# `C̃_i = √n((L_i)_{π_iπ_i})^{-1/2}e_{π_i}e_{π_i}ᵀ` uses only diagonal entries of `L_i`.
# `PreconditionedPerm.from_problem(problem)` builds it; its scale table is `T_ij = √n/√((L_i)_jj)`.
# Heterogeneous interpolation problem, `n = d = 4`, heterogeneity `0.8`.

# %%
het = generators.interpolation(n, n, heterogeneity=0.8, seed=0)
sk = PreconditionedPerm.from_problem(het)
print("scale table T =\n", sk.table)
assert np.allclose(sk.table, np.sqrt(n) / np.sqrt(het.D))
display(Math(r"\tilde C_i = " + precond_heterogeneous.derive().latex["scale"] + r"\; e_{\pi_i}e_{\pi_i}^\top"))

# %% [markdown]
# **`E[C̃_iL_iC̃_i] = I` and `B̄ = I` on every draw.** `C̃_iL_iC̃_i = n(L_i)_{π_iπ_i}/(L_i)_{π_iπ_i}·e_{π_i}e_{π_i}ᵀ
# = n e_{π_i}e_{π_i}ᵀ`, so `B̄ = (1/n)Σ_i n e_{π_i}e_{π_i}ᵀ = I`. Closed form (`sketch.expected_CAC`), enumeration
# of the 24 outcomes, and `SketchMoments.expected_B`:

# %%
cac = sk.expected_CAC(np.asarray(het.L))
print("max_i |E[C̃_i L_i C̃_i] − I| =", np.abs(cac - np.eye(n)).max())
assert np.allclose(cac, np.eye(n), atol=1e-12)
probs, Bk = outcomes_B(het, sk)
assert np.allclose(Bk, np.eye(n), atol=1e-12)  # B̄ = I on all 24 draws

mo = SketchMoments(het, sk)
Lb = het.L_bar
print("E[B̄] =\n", mo.expected_B)
assert np.allclose(mo.expected_B, np.eye(n), atol=1e-12)
assert np.allclose(mo.W, Lb) and np.allclose(mo.BLB, Lb)  # W̄ = L̄, E[B̄L̄B̄] = L̄

# %% [markdown]
# **θ* = 1 and the contraction at γ = 1 is 0 (25).** `θW̄ − E[B̄L̄B̄] = (θ − 1)L̄`, so the smallest θ of (14) is 1;
# `λ_min(L̄^{-1/2}W̄L̄^{-1/2}) = 1`, so (16)'s factor is `1 − γ`. The tight one-step factor
# `constants.contraction(γ)` is `(1 − γ)²` (the step is deterministic: `x¹ = (1 − γ)x⁰`); both vanish at `γ = 1`.

# %%
res = theta_star(mo.W, mo.BLB)
lam = rate(mo.W, Lb)
print(f"θ* = {res.value:.8f} (SDP {res.status}, eigen {res.eigen_value:.8f}, agrees {res.agrees}); rate = {lam:.8f}")
assert res.status == "optimal" and res.agrees and abs(res.eigen_value - 1) < 1e-6 and abs(res.value - 1) < 1e-6
assert abs(lam - 1) < 1e-9
rho1 = contraction(1.0, Lb, mo.W, mo.BLB)
print("contraction at γ = 1:", rho1)
assert abs(rho1) < 1e-12

gammas = np.linspace(0.0, 2.0, 81)
rhos = np.array([contraction(gm, Lb, mo.W, mo.BLB) for gm in gammas])
assert np.allclose(rhos, (1 - gammas) ** 2, atol=1e-10)
fig, ax = plt.subplots(figsize=(4.8, 3))
ax.plot(gammas, rhos, label=r"tight $\rho(\gamma)$ (constants.contraction)")
ax.plot(gammas[gammas <= 1], 1 - gammas[gammas <= 1], "--", label=r"(16) factor $1-\gamma$, $\gamma\leq 1/\theta^*$")
ax.axvline(1.0, color="k", lw=0.6, ls=":")
ax.set_xlabel(r"step size $\gamma$")
ax.set_title("(23): contraction factor vanishes at γ = 1 (25)", fontsize=9)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **One-step convergence in interpolation.** Simulate one step at `γ = 1` from a random `x⁰`, 200 runs, keeping
# every run's iterate: all are at `x* = 0` (to round-off). The exact expected dynamics agree (their
# `E‖x¹‖²_{L̄}` is a difference of second moments, zero to about `1e-15`), and
# `montecarlo.check_eq25` is the registered Monte Carlo check.

# %%
x0 = np.random.default_rng(3).standard_normal(n)
one = simulate(het, sk, 1.0, iters=1, runs=200, seed=4, x0=x0, record=[0, 1], keep_iterates=True)
print("max over runs |x¹| =", np.abs(one.iterates[1]).max(), "  (‖x⁰‖ =", np.linalg.norm(x0), ")")
assert np.abs(one.iterates[1]).max() < 1e-12
exact1 = ExactDynamics(het, sk, 1.0, x0=x0).run(1)
print("exact: E‖x¹‖²_L̄ =", exact1.metrics["dist2_L"][1], " E[x¹] =", exact1.mean[1])
assert exact1.metrics["dist2_L"][1] < 1e-12 * exact1.metrics["dist2_L"][0]  # zero up to round-off
c25 = montecarlo.check_eq25(runs=100, seed=0)
assert not c25.rejected and abs(c25.exact) < 1e-12  # exactly 0 up to round-off of O(1) moments

c24 = montecarlo.check_eq24(runs=100, seed=0)
print(f"(24): avg ‖∇f‖² − 2λ_max(L̄)(f⁰ − f^K)/K = {c24.estimate:.4f} (exact {c24.exact:.4f}) ≤ 0")
assert not c24.rejected and c24.exact <= 0

# %% [markdown]
# ## 3. Erratum: the printed scale of (23)
#
# Our copy of the paper prints the scale as `[L_i^{-1/2}]_{π_iπ_i}` — a diagonal entry of the inverse square
# root of `L_i` — instead of `((L_i)_{π_iπ_i})^{-1/2}`. `PreconditionedPerm.from_problem(p, "printed")` builds that
# variant. Then `E[C̃_iL_iC̃_i] = Diag((L_i)_jj([L_i^{-1/2}]_jj)²)`, whose entries are `≥ 1` (Jensen) and `≠ 1`
# unless the coordinate vectors are eigenvectors of `L_i`: `E[B̄] ≠ I` and one step at `γ = 1` no longer converges.

# %%
printed = PreconditionedPerm.from_problem(het, "printed")
cac_p = printed.expected_CAC(np.asarray(het.L))
diag_p = np.array([np.diag(c) for c in cac_p])
print("diagonals of E[C̃_i L_i C̃_i] with the printed scale (rows: clients):\n", diag_p)
assert np.abs(cac_p - np.eye(n)).max() > 1e-2
assert np.all(diag_p >= 1 - 1e-12)
mo_p = SketchMoments(het, printed)
assert not np.allclose(mo_p.expected_B, np.eye(n), atol=1e-3)
d1 = ExactDynamics(het, printed, 1.0, x0=x0).run(1).metrics["dist2_L"]
one_p = simulate(het, printed, 1.0, iters=1, runs=200, seed=4, x0=x0, record=[0, 1])
print(f"printed scale, γ = 1: E‖x¹‖²_L̄ = {d1[1]:.4f} (exact), {one_p.metrics['dist2_L'].mean[1]:.4f} (MC); "
      f"‖x⁰‖²_L̄ = {d1[0]:.4f}")
assert d1[1] > 1e-3 * d1[0] and one_p.metrics["dist2_L"].mean[1] > 1e-3 * d1[0]

# %% [markdown]
# ## 4. The derivations (each step general, fixed-size or numeric)
#
# `precond_homogeneous.derive()` checks (20)–(22) in general `n` (symbolic `n`, matrix identities for any size),
# with cross-checks at `n = d ∈ {2, 3}` and numeric evidence; `precond_heterogeneous.derive()` checks (23)–(25) in
# general `n` and refutes the printed scale for every `n` and on an exact instance. `require()` raises if any step
# fails.

# %%
D_hom = precond_homogeneous.derive().require()
print(D_hom.table())
print()
D_het = precond_heterogeneous.derive().require()
print(D_het.table())
display(Math(r"\text{(14) holds for } \theta \ge " + D_hom.latex["theta_min"] + r",\qquad \text{(22): } "
             r"\frac1K\sum_{k<K}\|\nabla \tilde f(\tilde x^k)\|^2 \le " + D_hom.latex["bound"]))
display(Math(r"\text{(25): factor of (16) at } \gamma = 1 \text{ is } " + D_het.latex["factor"]))
assert D_hom.holds and D_het.holds
# the printed variant fails its own derivation (the (23) identities do not hold)
D_printed = precond_heterogeneous.derive(variant="printed")
print("\nprinted variant: holds =", D_printed.holds, "; failed steps:", [s.name[:60] for s in D_printed.failed()])
assert not D_printed.holds
