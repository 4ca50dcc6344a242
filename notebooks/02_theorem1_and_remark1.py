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
# # 02 — Theorem 1 (14)–(16), its examples, and Remark 1
#
# **Theorem 1** (interpolation, `b_i ≡ 0`, `L̄ ≻ 0`, general sketches). With
# `B̄ = (1/n)Σ_i C_iL_iC_i` and `W̄ = ½E[L̄B̄ + B̄L̄]`: if `W̄ ⪰ 0` and
#
# (14)  `E[B̄L̄B̄] ⪯ θ W̄`,
#
# then for `0 < γ ≤ 1/θ`
#
# (15)  `(1/K)Σ_{k<K} E‖∇f(x^k)‖²_{L̄⁻¹W̄L̄⁻¹} ≤ 2(f(x⁰) − E f(x^K))/(γK)`,
#
# (16)  `E‖x^k − x*‖²_{L̄} ≤ (1 − γλ_min(L̄^{-1/2}W̄L̄^{-1/2}))^k ‖x⁰ − x*‖²_{L̄}`.
#
# This notebook computes every ingredient with the library — exact moments (`SketchMoments`), the
# smallest θ of (14) as an SDP cross-checked by a generalised eigenvalue (`constants.theta_star`), the
# rate, exact expected dynamics and Monte Carlo — then runs the checked derivations of Theorem 1,
# its identity and Perm-1 examples, and Remark 1, and finishes with the erratum on (17).

# %%
import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
from IPython.display import Math, display

from isttheory import generators, tightness
from isttheory.constants import contraction, rate, theta_eigen, theta_star
from isttheory.derivations import identity_example, perm1_example, remark1, theorem1
from isttheory.dynamics import ExactDynamics
from isttheory.moments import SketchMoments
from isttheory.problem import weighted_norm2
from isttheory.simulate import simulate
from isttheory.sketches import Identity, Permutation

np.set_printoptions(precision=4, suppress=True, linewidth=110)




# %% [markdown]
# ## 1. The moments of Theorem 1 on a heterogeneous instance
#
# Interpolation problem with `n = 4` clients, `d = 8`, heterogeneity `0.5`; sketch Perm-2 (7).
# `SketchMoments` gives `E[B̄]` (26), `W̄` and `E[B̄L̄B̄]` in closed form (SymPy-derived inclusion
# probabilities, no sampling). We check them against exact enumeration of all `8! = 40320` permutations
# (index form: `B̄^{(k)} = (1/n)Σ_i (c_ic_iᵀ)∘L_i` per outcome).

# %%
prob = generators.interpolation(n=4, d=8, heterogeneity=0.5, seed=0)
sk = Permutation(4, 8)
mo = SketchMoments(prob, sk)
Lb = prob.L_bar
print("E[B̄] =\n", mo.expected_B)

sup = sk.support()
c = sup.draw.diagonals(sk.d)  # (K, n, d)
Bk = np.einsum("kni,nij,knj->kij", c, np.asarray(prob.L), c) / sk.n  # B̄ on every outcome
EB_enum = np.einsum("k,kij->ij", sup.probs, Bk)
BLB_enum = np.einsum("k,kij,jl,klm->im", sup.probs, Bk, Lb, Bk)
assert np.allclose(mo.expected_B, EB_enum, atol=1e-10)
assert np.allclose(mo.BLB, BLB_enum, atol=1e-8)
assert np.allclose(mo.W, 0.5 * (Lb @ mo.expected_B + mo.expected_B @ Lb))  # W̄ = ½E[L̄B̄ + B̄L̄]
w_eigs = np.linalg.eigvalsh(mo.W)
print("eigenvalues of W̄:", w_eigs)
assert w_eigs[0] > 0  # W̄ ≻ 0 here: Theorem 1 applies

# %% [markdown]
# ## 2. θ* of (14): SDP and eigen answer
#
# `constants.theta_star(W̄, E[B̄L̄B̄])` solves `min θ s.t. θW̄ − E[B̄L̄B̄] ⪰ 0` with cvxpy (CVXOPT, SCS as
# fallback) and cross-checks the answer against the largest generalised eigenvalue of
# `(E[B̄L̄B̄], W̄)`. A value counts only with status `optimal` and agreement to `1e-6`.

# %%
res = theta_star(mo.W, mo.BLB)
print(f"SDP θ* = {res.value:.8f}  eigen θ* = {res.eigen_value:.8f}  status = {res.status}  "
      f"solver = {res.solver}  agrees = {res.agrees}")
assert res.status == "optimal" and res.agrees and res.trustworthy
assert abs(res.value - res.eigen_value) <= 1e-6 * res.eigen_value
th = res.eigen_value
# θ* is the smallest θ: (14) holds at θ*, fails just below it
assert np.linalg.eigvalsh(th * mo.W - mo.BLB)[0] >= -1e-9 * th
assert np.linalg.eigvalsh(0.99 * th * mo.W - mo.BLB)[0] < 0

# %% [markdown]
# **Rate of (16).** `constants.rate(W̄, L̄) = λ_min(L̄^{-1/2}W̄L̄^{-1/2})`; with the paper's step `γ = 1/θ*`
# the factor of (16) is `1 − γλ_min`. `constants.contraction(γ, …)` is the *tight* one-step factor
# `ρ(γ) = max_x E‖(I − γB̄)x‖²_{L̄}/‖x‖²_{L̄}`, which (16) bounds from above.

# %%
lam = rate(mo.W, Lb)
gamma = 1.0 / th
factor = 1 - gamma * lam
rho = contraction(gamma, Lb, mo.W, mo.BLB)
print(f"λ_min(L̄^-1/2 W̄ L̄^-1/2) = {lam:.4f}; γ = 1/θ* = {gamma:.5f}; "
      f"(16) factor 1 − γλ = {factor:.4f}; tight ρ(γ) = {rho:.4f}")
assert 0 < factor < 1 and rho <= factor + 1e-12

# %% [markdown]
# **(15) and (16) against the exact expected dynamics and Monte Carlo.** `ExactDynamics` propagates the
# first and second moments of `x^k` exactly (closed-form second-moment map, no sampling);
# `tightness.theorem1` evaluates both sides of (15) and (16) from them; `simulate` gives a Monte Carlo
# estimate with `R = 300` runs.

# %%
K = 25
exact = ExactDynamics(prob, sk, gamma).run(K).metrics["dist2_L"]
mc = simulate(prob, sk, gamma, iters=K, runs=300, seed=2, record=range(K + 1)).metrics["dist2_L"]
d0 = weighted_norm2(np.ones(8), Lb)
ks = np.arange(K + 1)
bound16 = factor**ks * d0
assert np.isclose(exact[0], d0) and np.all(exact <= bound16 * (1 + 1e-12))
assert np.all(np.abs(mc.mean[1:6] - exact[1:6]) <= 5 * mc.sem[1:6])  # MC agrees with the exact values

t = tightness.theorem1(prob, sk, gamma, K)
print(f"(15): lhs {t.lhs15:.4f} ≤ rhs {t.rhs15:.4f} (ratio {t.ratio15:.3f});"
      f" (16) at K: exact {t.exact_dist2_L:.3e} ≤ bound {t.bound16:.3e}")
assert t.lhs15 <= t.rhs15 and t.exact_dist2_L <= t.bound16
assert np.isclose(t.theta, th) and np.isclose(t.rate, lam)

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.semilogy(ks, bound16, "k--", label=r"bound (16): $(1-\gamma\lambda_{\min})^k\|x^0\|^2_{\bar L}$")
ax.semilogy(ks, rho**ks * d0, ":", color="gray", label=r"tight factor $\rho(\gamma)^k$")
ax.semilogy(ks, exact, label="exact E (ExactDynamics)")
err_lo = np.minimum(2 * mc.sem, 0.9 * mc.mean)  # keep the lower whisker positive on the log axis
ax.errorbar(ks, mc.mean, yerr=[err_lo, 2 * mc.sem], fmt=".", ms=3, label="Monte Carlo, R = 300 (± 2 s.e.)")
ax.set_xlabel("iteration k")
ax.set_ylabel(r"$E\|x^k-x^*\|^2_{\bar L}$")
ax.set_title("Theorem 1, Perm-2, n=4, d=8, γ = 1/θ*", fontsize=9)
ax.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Example: identity sketch (distributed GD)
#
# `C_i = I` gives `B̄ = L̄`, `W̄ = L̄²`, `E[B̄L̄B̄] = L̄³`; (14) holds with `θ = λ_max(L̄)`, (16)'s factor is
# `1 − λ_min(L̄)/λ_max(L̄)`: the gradient-descent condition-number rate.

# %%
mo_id = SketchMoments(prob, Identity(4, 8))
ev = prob.eigvals_L_bar
res_id = theta_star(mo_id.W, mo_id.BLB)
lam_id = rate(mo_id.W, Lb)
print(f"θ* = {res_id.value:.6f} (SDP), λ_max(L̄) = {ev[-1]:.6f}; rate = {lam_id:.6f}, λ_min(L̄) = {ev[0]:.6f}")
assert np.allclose(mo_id.expected_B, Lb) and np.allclose(mo_id.W, Lb @ Lb) and np.allclose(mo_id.BLB, Lb @ Lb @ Lb)
assert res_id.status == "optimal" and res_id.agrees and abs(res_id.eigen_value - ev[-1]) < 1e-9 * ev[-1]
assert abs(lam_id - ev[0]) < 1e-9
D_id = identity_example.derive().require()
display(Math(r"\theta = " + D_id.latex["theta"] + r",\qquad 1-\gamma\lambda_{\min} = " + D_id.latex["rate"]
             + r"\quad\text{(derivation: eigenvalues of }\bar L\text{ are } l \le l+p \le l+p+r)"))

# %% [markdown]
# ## 4. Example: Perm-1
#
# Perm-1 is Perm-q with `q = 1`, i.e. **`n = d`** (our copy of the paper says `n = d²`: a typo, ERRATA
# `perm1-n`). Client `i` owns coordinate `π_i` with scale `n`, so `B̄ = n Diag(v)` with
# `v_j = (L_{owner(j)})_{jj}` and `E[B̄] = Σ_i D_i = nD̄`.

# %%
p4 = generators.interpolation(n=4, d=4, heterogeneity=0.9, seed=0, cond=20.0)
mo4 = SketchMoments(p4, Permutation(4, 4))
print("E[B̄] =", np.diag(mo4.expected_B), "  nD̄ =", 4 * p4.D_bar)
assert np.allclose(mo4.expected_B, np.diag(4 * p4.D_bar)) and np.allclose(mo4.expected_B, np.diag(p4.D.sum(0)))

# %% [markdown]
# ## 5. The derivations
#
# Each `derive()` returns a list of checked steps, each with its reach — *general* (SymPy reduces an identity
# to 0 or decides an inequality for all values of its symbols), *fixed-size* (symbolic at the stated sizes) or
# *numeric* (a certificate on concrete instances, exact or in floats) — and `require()` raises if any step
# fails. A derivation is PROVED only when every decisive step is general; otherwise CHECKED (`D.strength`).

# %%
derivations = {}
for name, mod in (("theorem1", theorem1), ("identity_example", identity_example),
                  ("perm1_example", perm1_example), ("remark1", remark1)):
    derivations[name] = mod.derive().require()
    print(derivations[name].table())
    print()
assert all(D.holds for D in derivations.values())
display(Math(r"\text{Theorem 1: descent coefficient } " + derivations["theorem1"].latex["descent"]
             + r",\quad \text{factor of (16): } " + derivations["theorem1"].latex["rate"]))
display(Math(r"\text{Perm-1: } E[\bar B] = " + derivations["perm1_example"].latex["EB"]
             + r",\quad E[\bar B\bar L\bar B] = " + derivations["perm1_example"].latex["BLB"]))

# %% [markdown]
# ## 6. Remark 1 (18)–(19): `W̄` need not be PSD
#
# Homogeneous, `d = 2`, `L = [[a, c], [c, b]]` (18), Perm-1 (`n = d = 2`). Then `E[B̄] = nD` and
# `W̄ = (n/2)(LD + DL) = n·M₁₉` with `M₁₉` below (19). The paper leaves the factor open; it is `n = 2`
# (ERRATA `remark1-scale`). Default instance: `a = 1`, `b = 2`, `c = 1.4`.

# %%
D_r1 = derivations["remark1"]
display(Math(r"\bar W = 2\,M_{19},\qquad M_{19} = " + D_r1.latex["W19"]))
a_, b_, c_ = sp.symbols("a b c", positive=True)
M19 = sp.Matrix([[a_**2, c_ * (a_ + b_) / 2], [c_ * (a_ + b_) / 2, b_**2]])
det19 = sp.factor(M19.det())
display(Math(r"\det M_{19} = " + sp.latex(det19) + r",\qquad \det M_{19} < 0 \iff c > " + D_r1.latex["threshold"]))

r1 = generators.remark1()  # a = 1, b = 2, c = 1.4
mo_r1 = SketchMoments(r1, Permutation(2, 2))
M19_num = np.array(M19.subs({a_: 1, b_: 2, c_: 1.4}), dtype=float)
print("W̄ =\n", mo_r1.W, "\neigenvalues:", np.linalg.eigvalsh(mo_r1.W))
assert np.allclose(mo_r1.W, 2 * M19_num)
assert np.linalg.eigvalsh(mo_r1.W)[0] < 0 and np.linalg.eigvalsh(r1.L_bar)[0] > 0  # W̄ indefinite, L ≻ 0

# %% [markdown]
# **No θ satisfies (14).** `theta_star` returns status `infeasible` with a certificate `v`: `vᵀW̄v < 0` while
# `vᵀE[B̄L̄B̄]v ≥ 0`, hence `vᵀ(θW̄ − E[B̄L̄B̄])v < 0` for every `θ > 0`.

# %%
res_r1 = theta_star(mo_r1.W, mo_r1.BLB)
v = res_r1.certificate
print(f"status = {res_r1.status!r}, agrees = {res_r1.agrees}, message = {res_r1.message!r}")
print(f"certificate v = {v}: vᵀW̄v = {v @ mo_r1.W @ v:.4f}, vᵀE[B̄L̄B̄]v = {v @ mo_r1.BLB @ v:.4f}")
assert res_r1.status == "infeasible" and res_r1.value is None and res_r1.agrees
assert v @ mo_r1.W @ v < 0 and v @ mo_r1.BLB @ v >= 0
for theta_try in (1.0, 1e3, 1e6):
    assert v @ (theta_try * mo_r1.W - mo_r1.BLB) @ v < 0

# %% [markdown]
# **The determinant of (19) against `c`** (`a = 1`, `b = 2`), computed from the library's `W̄` for each `c`
# (`det M₁₉ = det W̄ / n²`). It changes sign exactly at `c = 2ab/(a+b) = 4/3`; `L` is PSD only for
# `c ≤ √(ab) = √2` (`generators.remark1` refuses larger `c`), so the counterexample lives in
# `4/3 < c ≤ √2` — non-empty because `a ≠ b`.

# %%
a, b = 1.0, 2.0
thr, root = 2 * a * b / (a + b), np.sqrt(a * b)
cs = np.linspace(0.02, root, 120)
dets = np.array([np.linalg.det(SketchMoments(generators.remark1(a, b, cc), Permutation(2, 2)).W) / 4 for cc in cs])
ref = np.array([float(det19.subs({a_: a, b_: b, c_: cc})) for cc in cs])
assert np.allclose(dets, ref, atol=1e-10)
assert np.all(dets[cs < thr - 1e-9] > 0) and np.all(dets[cs > thr + 1e-9] < 0)

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(cs, dets, label=r"$\det M_{19} = \det\bar W/n^2$")
ax.axhline(0, color="k", lw=0.6)
ax.axvline(thr, color="C3", ls="--", label=r"$2ab/(a+b)=4/3$")
ax.axvline(root, color="C2", ls=":", label=r"$\sqrt{ab}=\sqrt{2}$ (L PSD up to here)")
ax.axvspan(thr, root, color="C3", alpha=0.15)
ax.set_xlabel("c")
ax.set_title("Remark 1, a = 1, b = 2: W̄ indefinite in the shaded band", fontsize=9)
ax.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 7. Erratum: (17) is wrong for heterogeneous problems
#
# The paper reduces (14) for Perm-1 to (17) `nD̄L̄D̄ ⪯ (θ/2)(L̄D̄ + D̄L̄)`. That uses `E[B̄L̄B̄] = n²D̄L̄D̄`,
# true only in the homogeneous case. In general `B̄ = n Diag(v)` with a *random* `v`, and
# `E[B̄L̄B̄] = n²D̄L̄D̄ + n²L̄∘Cov(v)` (ERRATA `eq17-heterogeneous`). So (17) is necessary but not
# sufficient: its smallest θ (`perm1_example.theta_17`, the generalised eigenvalue of
# `(nD̄L̄D̄, ½(L̄D̄ + D̄L̄))`) is *smaller* than the true θ* of (14).

# %%
th17 = perm1_example.theta_17(p4)
res4 = theta_star(mo4.W, mo4.BLB)
print(f"heterogeneous n = d = 4: θ from (17) = {th17:.4f} < θ* of (14) = {res4.value:.4f} (SDP, {res4.status}); "
      f"ratio {res4.value / th17:.3f}")
assert res4.status == "optimal" and res4.agrees
assert th17 < 0.9 * res4.eigen_value

hom4 = generators.homogeneous(4, 4, seed=0, cond=20.0, interpolation=True)
mo_h = SketchMoments(hom4, Permutation(4, 4))
th_h, _, _ = theta_eigen(mo_h.W, mo_h.BLB)
print(f"homogeneous n = d = 4: θ from (17) = {perm1_example.theta_17(hom4):.6f} = θ* = {th_h:.6f}")
assert abs(perm1_example.theta_17(hom4) - th_h) <= 1e-9 * th_h

# %% [markdown]
# **Consequence:** the step `γ = 1/θ₁₇` breaks the per-step descent of (15) already at `K = 1`. Start at the
# worst direction `x⁰` of (14) (generalised eigenvector from `perm1_example.theta_14`); the exact expected
# objective after one step (`theorem1.exact_one_step`: `E f(x¹) = ½x⁰ᵀ(L̄ − 2γW̄ + γ²E[B̄L̄B̄])x⁰`) exceeds the
# bound `f(x⁰) − (γ/2)x⁰ᵀW̄x⁰` that (15) needs.

# %%
_, x_worst = perm1_example.theta_14(mo4)
g17 = 1.0 / th17
Qf, _ = theorem1.exact_one_step(mo4, g17)
Ef1 = float(x_worst @ Qf @ x_worst)
bound = float(p4.f(x_worst) - g17 / 2 * x_worst @ mo4.W @ x_worst)
print(f"γ = 1/θ₁₇: E f(x¹) = {Ef1:.6f} > f(x⁰) − (γ/2)‖∇f‖²_W = {bound:.6f}")
assert Ef1 > bound
g_ok = 1.0 / res4.eigen_value
Qf_ok, _ = theorem1.exact_one_step(mo4, g_ok)
assert x_worst @ Qf_ok @ x_worst <= p4.f(x_worst) - g_ok / 2 * x_worst @ mo4.W @ x_worst + 1e-12
