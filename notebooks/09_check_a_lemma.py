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
# # 09 — Check a lemma: a claim as a piece of data
#
# `isttheory.lemmas` turns a claim into data: a one-line **statement** over a fixed vocabulary of exact quantities
# (`isttheory check --vocabulary` lists them), optional **hypotheses** (`assume`) and the **space** of instances it is
# claimed on (problem family, `n`, `d`, sketch, form, `γ`, `K`, …). The same object comes from a TOML file
# (`Lemma.from_toml`, as for the paper's claims in `isttheory/lemmas/paper/*.toml`) or from keyword arguments
# (`Lemma.create`). `lemma.check(...)` then searches the space for a counterexample in three seeded stages:
#
# 1. **random instances** drawn from the space and evaluated in float64 by closed-form engines;
# 2. **Nelder–Mead on the normalised slack** `(allowed − violation)/(|lhs| + |rhs|)`, started from the tightest
#    instances of stage 1, over the continuous parameters (the factors `A_i` of `L_i = A_iA_iᵀ`, `b_i`, `x⁰`, `log γ`);
# 3. **shrinking** a violating instance: smaller `K`, fewer clients and coordinates, a simpler `γ`, entries rounded to
#    dyadic rationals with as few bits as keep the violation.
#
# The shrunk instance is then **certified**: both sides and every hypothesis are recomputed by an independent exact
# engine (exact rationals, or 50-digit mpmath when an irrational number enters — the preconditioned sketches (23) scale
# by $\sqrt n/\sqrt{(L_i)_{jj}}$). Only a certified violation is reported. The answer is one of
#
# * **REFUTED** — a certified counterexample (exact lhs, rhs and margin, and the instance itself);
# * **SURVIVED** — no counterexample was found in the budget, with the worst ratio lhs/rhs seen. This is **not**
#   "verified": a search can only fail to find a counterexample;
# * **INAPPLICABLE** — no instance of the space met the hypotheses.
#
# With `max_instances` the search is deterministic (it ignores the clock), so every number below is reproducible, and the
# cells assert the conclusions: the notebook fails if a result changes.

# %%
import time

import numpy as np
from IPython.display import Math, display

from isttheory.lemmas import Lemma, Outcome, evaluate_point, paper_lemma_path
from isttheory.lemmas.results import exact_text

T0 = time.perf_counter()
CORRECTED_FILE = paper_lemma_path("thm2-corrected")
PRINTED_FILE = paper_lemma_path("thm2-printed")

# %% [markdown]
# ## 1. A false conjecture, stated from scratch
#
# Under the preconditioned Perm-1 sketch (23) (`precond-perm`, $n = d$), Theorem 2 bounds the gradient norm by a term
# that vanishes with $K$, the irreducible bias $\|h\|^2_{\bar L}$ and $\gamma\sigma^2$. A tempting conjecture is that the
# **exact limit** never exceeds the bias alone:
#
# $$\lim_{k\to\infty}\mathbb E\|\nabla f(x^k)\|^2_{\bar L^{-1}} \;\le\; \|h\|^2_{\bar L}\qquad (0.01 \le \gamma \le 1).$$
#
# It is false: the limit is $\|h\|^2_{\bar L} + \gamma\sigma^2/(2-\gamma)$ (lemma file `lemma_thm2-limit.toml`), so it fails as
# soon as $\sigma^2 > 0$. As a lemma file it would read
#
# ```toml
# id = "perm1-limit-at-most-bias"
# statement = "lim_grad2_Linv <= h_norm2_L"
# [space]
# sketch = ["precond-perm"]
# n = { min = 2, max = 4 }
# d = "n"
# gamma = { min = 0.01, max = 1.0 }
# ```
#
# `Lemma.create` builds the same object from keyword arguments.

# %%
conjecture = Lemma.create(
    "perm1-limit-at-most-bias",
    "lim_grad2_Linv <= h_norm2_L",
    title="Under Perm-1 the exact limit of Theorem 2 is at most ||h||^2_L (false)",
    space={"sketch": ["precond-perm"], "n": {"min": 2, "max": 4}, "d": "n", "gamma": {"min": 0.01, "max": 1.0}},
)
print(conjecture)
refuted = conjecture.check(max_instances=20, seed=0)
display(refuted)   # the HTML table in Jupyter, the summary in a terminal

cx = refuted.counterexample
assert refuted.verdict is Outcome.REFUTED, refuted.summary()
assert cx is not None and cx.certified, "the counterexample must be certified in exact arithmetic"
assert cx.certified_by == "exact rational" or cx.certified_by.startswith("mpmath"), cx.certified_by
assert "REFUTED" in refuted._repr_html_() and exact_text(cx.margin) in refuted._repr_html_()

# %% [markdown]
# The result also carries the statement as mathematics (`_repr_latex_`), and the counterexample displays itself:
# the instance, exact lhs, rhs and margin, and the exact matrices $L_i$ when they are small. `cx.problem` is an ordinary
# `QuadraticProblem`; `cx.sketch`, `cx.gamma`, `cx.K` are its sketch, step size and iteration.

# %%
display(Math(refuted.latex))
display(cx)
print(type(cx.problem).__name__, cx.problem.n, cx.problem.d, "| sketch", cx.point.sketch, "| gamma", cx.gamma, "| K", cx.K)
assert refuted._repr_latex_() == f"$\\displaystyle {conjecture.latex()}$"
assert exact_text(cx.lhs) in cx._repr_html_() and "L_i (exact)" in cx._repr_html_()
assert np.array_equal(cx.problem.L, cx.point.float_L())

# %% [markdown]
# The counterexample's two sides and their difference, as the exact engine computed them (a rational prints as `p/q`,
# an mpmath number with 50 significant digits). The margin is many orders of magnitude above the engine's precision,
# so the violation is not round-off.

# %%
print("certified by:", cx.certified_by)
print("lhs          =", exact_text(cx.lhs))
print("rhs          =", exact_text(cx.rhs))
print("lhs - rhs    =", exact_text(cx.margin))
print("instance     :", cx.point.describe())
assert cx.margin > 0 and cx.lhs > cx.rhs
assert float(cx.margin) > 1e-6 * float(abs(cx.lhs) + abs(cx.rhs))   # far above 50-digit round-off
assert 0.01 <= cx.gamma <= 1.0 and cx.point.n == cx.point.d and 2 <= cx.point.n <= 4   # it lies in the space

# %% [markdown]
# The shrunk instance itself: after shrinking, the entries of the factors, $b_i$ and $x^0$ are dyadic rationals, so
# $L_i = A_iA_i^\top$ is exact (and exactly symmetric PSD). `cx.problem` is the `QuadraticProblem` (12),
# `cx.point.exact_L()` the exact matrices.

# %%
prob = cx.problem
L_exact = cx.point.exact_L()
for i in range(prob.n):
    print(f"L_{i + 1} =", [[str(v) for v in row] for row in L_exact[i]],
          f"   b_{i + 1} =", [str(v) for v in cx.point.b[i]])
print("x0 =", [str(v) for v in cx.point.x0], "  gamma =", cx.point.gamma, "  sketch:", cx.sketch)
assert np.array_equal(np.asarray(L_exact, dtype=float), np.asarray(prob.L))   # the float problem is the exact one
assert all(np.allclose(Li, Li.T) and np.linalg.eigvalsh(Li).min() >= -1e-12 for Li in prob.L)

# %% [markdown]
# **Feeding it back.** The counterexample is an ordinary instance, so the rest of the library runs on it in one line:
# the exact moment recursion (`ExactDynamics`, enumerating every draw of the sketch) and the Monte Carlo simulator.
# The left side is a limit; we run $K = 20$ iterations (the recursion contracts at the mean-square rate `ms_rate`;
# here it is 0 up to round-off: at $\gamma = 1$ this instance's moments sit at their limit from $k = 1$ on).
#
# *Agreement rules:* the exact dynamics must match the certified lhs to a relative $10^{-9}$; the Monte Carlo mean over
# $R = 20\,000$ runs must lie within **4 standard errors** (SEM $=$ std$/\sqrt R$) of the exact value. With the fixed seed
# the outcome is deterministic; for a fresh seed a 4-SEM deviation has probability about $6\cdot10^{-5}$ under the normal
# approximation.

# %%
K_RUN, RUNS = 20, 20_000
exact_run = cx.exact_dynamics().run(K_RUN)
ms_rate = cx.exact_dynamics().ms_rate
mc = cx.simulate(runs=RUNS, seed=0, iters=K_RUN, record=[K_RUN])   # its sketch, form, local steps, γ and x⁰

exact_value = exact_run.metrics["grad2_Linv"][-1]
mc_mean, mc_sem = float(mc.metrics["grad2_Linv"].mean[-1]), float(mc.metrics["grad2_Linv"].sem[-1])
print(f"mean-square rate of the recursion: {ms_rate:.3g}")
print(f"certified lhs (limit)           : {float(cx.lhs):.12f}")
print(f"ExactDynamics, k = {K_RUN}            : {exact_value:.12f}")
print(f"Monte Carlo, {RUNS} runs        : {mc_mean:.6f} ± {mc_sem:.6f} (SEM)   -> {abs(mc_mean - exact_value) / mc_sem:.2f} SEM away")
print(f"bias ||h||^2_L (the rhs)        : {float(cx.rhs):.12f}")
assert exact_run.diverged_at is None and ms_rate < 1e-12   # converged after one step, as said above
assert abs(exact_value - float(cx.lhs)) <= 1e-9 * float(cx.lhs)
assert abs(mc_mean - exact_value) <= 4 * mc_sem
assert mc_mean - 4 * mc_sem > float(cx.rhs)   # the simulation alone already contradicts the conjecture

# %% [markdown]
# ## 2. How tight is a true bound? The corrected Theorem 2
#
# The corrected form of (30) (ERRATA `thm2-constants`, `thm2-norm`) is stored in a lemma file; the statement is read from
# it, not retyped here:

# %%
corrected = Lemma.from_toml(CORRECTED_FILE)
print(corrected)
print("space:", corrected.space.sketch.values, "n in", (corrected.space.n.lo, corrected.space.n.hi),
      "gamma in", (corrected.space.gamma.lo, corrected.space.gamma.hi), "K in", (corrected.space.K.lo, corrected.space.K.hi))
assert corrected.expect == "holds"

# %% [markdown]
# We search it with a fixed budget of 100 instances (50 random, then Nelder–Mead on the slack). **SURVIVED means only
# that these 100 instances held no counterexample**; it is evidence and a tightness measurement, not a proof. The worst
# ratio lhs/rhs measures how close the search pushed the left side to the bound.

# %%
survived = corrected.check(max_instances=100, seed=0)
display(survived)
w = survived.worst
print(f"worst ratio lhs/rhs = {w.ratio:.6f} at {w.point.describe()}  (lhs = {w.lhs:.9g}, rhs = {w.rhs:.9g})")
assert survived.verdict is Outcome.SURVIVED, "thm2-corrected: expected SURVIVED\n" + survived.summary()
assert survived.matches_expect and survived.counterexample is None
assert survived.skipped == 0 and survived.instances_tried == 100
assert 0.99 <= w.ratio <= 1.0 + 1e-9, f"worst ratio {w.ratio} should be close to, and not above, 1"

# %% [markdown]
# The ratio approaches 1 because the bound is **attained**: at $\gamma = 1$ the corrected (30) holds with equality for
# every $K$ (the file's `notes`). We evaluate both sides directly with `evaluate_point` on the worst instance, moved to
# $\gamma = 1$ (and a few other steps for comparison), in float64 and in the exact engine.

# %%
print("notes:", corrected.notes)
for g in (1e-3, 1e-2, 0.1, 0.5, 1.0):
    e = evaluate_point(corrected, w.point.with_(gamma=g))
    print(f"gamma = {g:<6}  lhs = {float(e.lhs):.12f}  rhs = {float(e.rhs):.12f}  ratio = {e.ratio:.12f}  ({e.status})")
    assert e.status == "holds", (g, e)

at_one = w.point.with_(gamma=1.0)
e_float = evaluate_point(corrected, at_one)
e_exact = evaluate_point(corrected, at_one, exact=True)
print("\nat gamma = 1:")
print("  float64: lhs - rhs =", float(e_float.margin), "  relative:", float(e_float.margin) / float(e_float.rhs))
print("  exact  : lhs - rhs =", exact_text(e_exact.margin))
assert e_float.status == "holds" and abs(e_float.ratio - 1.0) <= 1e-12, e_float
assert e_exact.status == "holds" and abs(float(e_exact.margin)) <= 1e-40 * float(abs(e_exact.rhs)), e_exact

# %% [markdown]
# ## 3. Theorem 2 as printed: refuted, with a certified counterexample
#
# As printed, (30) measures $\|h\|^2$ in the $\bar L^2$ norm (with the best $\beta$ of (29), coefficient $4 + 5\gamma$).
# The search refutes it (ERRATA `thm2-norm`); the lemma file says `expect = "fails"`.
# $\|h\|^2_{\bar L^2} = \|\bar L h\|^2$ carries one more power of $\bar L$ than the other terms, so the bound is not
# invariant under rescaling the problem; the counterexample found has small curvature (entries of order $1/32$).

# %%
printed = Lemma.from_toml(PRINTED_FILE)
print(printed)
refuted_printed = printed.check(max_instances=20, seed=0)
display(refuted_printed)
pc = refuted_printed.counterexample
assert refuted_printed.verdict is Outcome.REFUTED and refuted_printed.matches_expect, refuted_printed.summary()
assert pc is not None and pc.certified and pc.margin > 0
assert pc.gamma < 1   # the hypothesis gamma < 1 holds (it was rechecked exactly, with no tolerance)
assert np.abs(pc.problem.L).max() < 0.25   # small curvature, as said above
print("\ncertified by:", pc.certified_by)
print("lhs       =", exact_text(pc.lhs))
print("rhs       =", exact_text(pc.rhs))
print("lhs - rhs =", exact_text(pc.margin))
print("L_i =", [[[str(v) for v in row] for row in Li] for Li in pc.point.exact_L()])
print("b_i =", [[str(v) for v in row] for row in pc.point.b], "  x0 =", [str(v) for v in pc.point.x0])

# %% [markdown]
# Cross-checks on the same instance: the left side is the average of $\mathbb E\|\nabla f(x^k)\|^2_{\bar L^{-1}}$ over
# $k < K$, which the exact dynamics reproduces; and the corrected bound (the $\bar L$ norm and coefficient 1) **holds**
# there, exactly.

# %%
run_p = pc.exact_dynamics().run(pc.K)
avg = float(np.mean(run_p.metrics["grad2_Linv"][:pc.K]))
on_corrected = evaluate_point(corrected, pc.point, exact=True)
print(f"ExactDynamics average over k < K = {pc.K}: {avg:.15g}   certified lhs: {float(pc.lhs):.15g}")
print(f"corrected bound on this instance: {on_corrected.status}, ratio lhs/rhs = {on_corrected.ratio:.6f}")
assert abs(avg - float(pc.lhs)) <= 1e-9 * abs(float(pc.lhs))
assert on_corrected.status == "holds"

# %% [markdown]
# From a terminal, the same checks are `isttheory check isttheory/lemmas/paper/lemma_thm2-printed.toml --max-instances 20
# --seed 0` (add `--out DIR` to write `counterexample.json`, a problem file `isttheory exact` accepts, and
# `counterexample.meta.json` with the exact entries and the command that reproduces it), or `isttheory check --paper`
# for every paper lemma.
#
# ## 4. A lemma's statement in LaTeX
#
# `lemma.latex()` renders the statement and its hypotheses from the vocabulary's symbols; `_repr_latex_` makes a lemma
# display as mathematics when it is the value of a cell.

# %%
limit = Lemma.from_toml(paper_lemma_path("thm2-limit"))
display(Math(conjecture.latex()))
display(limit)   # uses limit._repr_latex_()
print(conjecture.latex())
print(limit._repr_latex_())
assert conjecture.latex() == r"\lim_{k\to\infty}\mathbb{E}\,\|\nabla f(x^k)\|^2_{\bar L^{-1}} \leq \|h\|^2_{\bar L}"
assert limit._repr_latex_().startswith(r"$\displaystyle ") and limit._repr_latex_().endswith("$")
assert r"\frac{\gamma\,\sigma^2}{2 - \gamma}" in limit.latex()

# %%
elapsed = time.perf_counter() - T0
print(f"notebook body ran in {elapsed:.1f} s")
assert elapsed < 40
