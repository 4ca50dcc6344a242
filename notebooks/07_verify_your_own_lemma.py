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
# # 07 — Tutorial: verify your own lemma
#
# `isttheory verify` runs every *claim* in a registry on a set of *instances* and reports one *verdict* per
# (claim, instance, variant). The paper's claims are registered by the library itself; you can add your own with the
# same public API and have them checked beside the paper's:
#
# | object | role |
# |---|---|
# | `Claim(id, equations, statement, verify, applies=…, known_refuted=…)` | the lemma: an id, the equations it is about, a LaTeX statement, a verifier and (optionally) its hypotheses |
# | `verify(instance, settings)` | a generator yielding `Finding(verdict, numbers, method, message, variant=…)` |
# | `Verdict.VERIFIED / REFUTED / CORRECTED / INCONCLUSIVE` | what the verifier concluded |
# | `Instance(name, problem)` | a named `QuadraticProblem` (12) to run on; `default_instances()` are the eight built-in ones |
# | `Settings(fast=True, seed=0)` | how hard to look |
# | `register(claim)` / `unregister(id)` / `get(id)` | the registry |
# | `verify.run_verify(instances, settings)` | the main job: every registered claim on every instance |
#
# We verify one **true** lemma (a fixed point of the scaled Perm-1 sketch, generalising §4's (31)) and one **false**
# lemma (one-step convergence of Algorithm 1 with two local steps under (23)), and watch the tool refute the second.

# %%
import dataclasses
import time

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
from IPython.display import Math, display

from isttheory import generators
from isttheory.claims import (
    Claim,
    Finding,
    Instance,
    Settings,
    Verdict,
    claims,
    default_instances,
    get,
    register,
    unregister,
)
from isttheory.derivations.precond_homogeneous import precondition
from isttheory.dynamics import ExactDynamics
from isttheory.moments import SketchMoments
from isttheory.problem import QuadraticProblem
from isttheory.report.table import format_numbers, format_table
from isttheory.sketches import Permutation, PreconditionedPerm
from isttheory.verify import run_verify

T0 = time.perf_counter()
TRUE_ID, FALSE_ID = "tutorial-scaled-perm1-fixed-point", "tutorial-two-local-steps-one-shot"
for cid in (TRUE_ID, FALSE_ID):   # make the notebook re-runnable in one kernel: ids must be unique
    unregister(cid)

# %% [markdown]
# ## 1. A true lemma: the fixed point of scaled Perm-1
#
# **Lemma.** Let $C_i = s\,e_{\pi_i}e_{\pi_i}^\top$ (Perm-1 with scale $s>0$, $n=d$). The mean recursion of the SGD form (2),
# $\mathbb E[x^{k+1}] = (I-\gamma\mathbb E[\bar B])\mathbb E[x^k] + \gamma\mathbb E[(Cb)^-]$ (26), has the fixed point
# $x^\infty=\mathbb E[\bar B]^{-1}\mathbb E[(Cb)^-]$ (28). For the §4 homogeneous problem preconditioned by
# $\tilde x=D^{1/2}x$ ($\tilde L = D^{-1/2}LD^{-1/2}$ with unit diagonal, $\tilde b = D^{-1/2}b$),
#
# $$x^\infty = \tilde b/s\qquad\text{for every } s>0 ,$$
#
# and $s=\sqrt n$ is the paper's (31). *Why:* every draw has $\bar B = \frac{s^2}{n}I$ and $(Cb)^- = \frac sn\tilde b$.
#
# **Verifier.** For each $s\in\{1,\sqrt2,2,3\}$ (one *variant* each): the closed-form moments give
# $x^\infty$ (`SketchMoments.x_inf`); the exact mean recursion (`ExactDynamics`, independent code) is iterated
# $K=60$ times at $\gamma = n/(2s^2)$ and must land on the same point; and both must equal $\tilde b/s$. The hypotheses
# (homogeneous, $n=d$, positive diagonal) go into `applies`, so the claim is skipped on other instances.

# %%
SCALES = (1.0, float(np.sqrt(2)), 2.0, 3.0)


def applies_homogeneous_perm1(instance: Instance) -> bool:
    p = instance.problem
    return p.is_homogeneous and p.n == p.d and bool(np.all(p.D > 0))


def verify_scaled_fixed_point(instance, settings):
    pt = precondition(instance.problem)                 # x̃ = D^{1/2}x: unit diagonal, b̃ = D^{-1/2} b
    b_t = np.asarray(pt.b[0])
    for s in SCALES:
        sk = Permutation(pt.n, pt.d, scale=s)
        mo = SketchMoments(pt, sk)
        gamma = pt.n / (2 * s**2)                         # mean contraction ½ per step
        mean_K = ExactDynamics(pt, sk, gamma).run(60).mean[-1]
        gap_closed = float(np.abs(mo.x_inf - b_t / s).max())
        gap_dyn = float(np.abs(mean_K - mo.x_inf).max())
        scale = max(1.0, float(np.abs(b_t).max()))
        ok = gap_closed <= 1e-10 * scale and gap_dyn <= 1e-10 * scale
        yield Finding(Verdict.VERIFIED if ok else Verdict.REFUTED,
                      {"max|x_inf - b/s|": gap_closed, "max|E[x^60] - x_inf|": gap_dyn,
                       "bias |x_inf - x*|": float(np.linalg.norm(mo.x_inf - pt.x_star))},
                      "closed-form moments + exact mean recursion",
                      "" if ok else "fixed point differs from b̃/s", variant=f"s={s:.4g}")


true_claim = register(Claim(
    id=TRUE_ID, equations=("(26)", "(28)", "(31)"),
    statement=r"C_i = s\,e_{\pi_i}e_{\pi_i}^\top:\ x^\infty = \mathbb{E}[\bar B]^{-1}\mathbb{E}[(Cb)^-] = \tilde b/s",
    verify=verify_scaled_fixed_point, applies=applies_homogeneous_perm1, section="tutorial"))
display(Math(true_claim.statement))
assert get(TRUE_ID) is true_claim

# %% [markdown]
# ## 2. A false lemma: Algorithm 1 with two local steps converges in one iteration
#
# (25) says that with the preconditioned sketches (23) and $\gamma=1$, the SGD form (2) reaches $x^*=0$ in one step in the
# interpolation case ($\bar B=I$ on every draw). A tempting "variant":
#
# **False lemma.** *Algorithm 1 with the merge (6) and two local steps, sketches (23), $\gamma=1$, $b_i=0$: $x^1=x^*$.*
#
# **Verifier.** On each applicable instance (with its $b_i$ set to 0), compute the exact
# $\mathbb E\|x^1-x^*\|^2_{\bar L}$ with `ExactDynamics(..., form="ist", local_steps=2)` (exact enumeration of all $n!$
# draws) and declare VERIFIED only if it vanishes (to round-off relative to $\|x^0-x^*\|^2_{\bar L}$). The numbers also
# record the SGD form (2), Algorithm 1 with one local step, and $\max|\mathbb E[\bar P]-I|$ with $\bar P=\frac1n\sum_iC_i$.

# %%
def applies_precond(instance: Instance) -> bool:
    p = instance.problem
    return p.n == p.d and bool(np.all(p.D > 0))


def verify_two_local_steps(instance, settings):
    p = instance.problem
    interp = QuadraticProblem(np.asarray(p.L), np.zeros((p.n, p.d)))   # the lemma is about interpolation
    sk = PreconditionedPerm.from_problem(interp)
    if sk.support_size() > 50_000:
        yield Finding(Verdict.INCONCLUSIVE, message="support too large to enumerate", method="hypotheses")
        return
    d0 = ExactDynamics(interp, sk, 1.0).run(0).metrics["dist2_L"][0]
    sgd = ExactDynamics(interp, sk, 1.0, "sgd").run(1).metrics["dist2_L"][-1]
    ist1 = ExactDynamics(interp, sk, 1.0, "ist", local_steps=1).run(1).metrics["dist2_L"][-1]
    ist2 = ExactDynamics(interp, sk, 1.0, "ist", local_steps=2).run(1).metrics["dist2_L"][-1]
    p_dev = float(np.abs(SketchMoments(interp, sk).expected_P - np.eye(p.d)).max())
    holds = ist2 <= 1e-12 * d0
    yield Finding(Verdict.VERIFIED if holds else Verdict.REFUTED,
                  {"E|x1-x*|^2_L (6), 2 local": ist2, "E|x0-x*|^2_L": d0, "(2) form": sgd, "(6), 1 local": ist1,
                   "max|E[P]-I|": p_dev, "perfect reconstruction": sk.perfect_reconstruction},
                  "exact dynamics (enumerated support)",
                  "" if holds else "x^1 != x*: (23) has no perfect reconstruction, so (25) does not carry over to (6)")


false_claim = register(Claim(
    id=FALSE_ID, equations=("(6)", "(23)", "(25)"),
    statement=r"\gamma = 1,\ b_i = 0,\ \text{(23)},\ \text{Algorithm 1 with 2 local steps}:\ x^1 = x^*",
    verify=verify_two_local_steps, applies=applies_precond, section="tutorial"))
display(Math(false_claim.statement))
assert [c.id for c in claims()][-2:] == [TRUE_ID, FALSE_ID]

# %% [markdown]
# ## 3. Run it with `run_verify`
#
# We run the whole registry (the paper's claims and our two) on the eight default instances plus two instances built
# from our own problems: a hand-written homogeneous $3\times3$ `QuadraticProblem` and a generated homogeneous one with
# $n=d=4$. (`run_verify` runs every claim, so this cell is the slow one, ≈10 s.)

# %%
L_own = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 3.0]])
b_own = np.array([1.0, -1.0, 0.5])
own = QuadraticProblem(np.broadcast_to(L_own, (3, 3, 3)), np.broadcast_to(b_own, (3, 3)))
mine = [Instance("own-homogeneous-3", own, description="hand-written, n = d = 3"),
        Instance("homogeneous-4x4", generators.homogeneous(4, 4, seed=3), description="n = d = 4, seed 3")]
instances = default_instances() + mine

settings = Settings(fast=True)
run = run_verify(instances, settings)
ours = [(c, f) for c, f in run.findings if c.id in (TRUE_ID, FALSE_ID)]
rows = [(f.claim_id.removeprefix("tutorial-"), f.instance, f.variant or "—", f.verdict.value,
         format_numbers(f.numbers, limit=3), f"{f.seconds:.3f}") for _, f in ours]
print(format_table(["claim", "instance", "variant", "verdict", "key numbers", "s"], rows, max_width=80))
print("\nwhole run:", run.summary(), "| unexpected:", len(run.unexpected))

# %%
true_findings = [f for c, f in ours if c.id == TRUE_ID]
false_findings = [f for c, f in ours if c.id == FALSE_ID]
# the true lemma: applies to the homogeneous n = d instances (remark1 and our two), 4 scales each, all VERIFIED
assert {f.instance for f in true_findings} == {"remark1", "own-homogeneous-3", "homogeneous-4x4"}
assert len(true_findings) == 3 * len(SCALES)
assert all(f.verdict is Verdict.VERIFIED for f in true_findings)
# the false lemma: every applicable instance REFUTES it
assert {f.instance for f in false_findings} == {"perm1-heterogeneous", "remark1", "own-homogeneous-3",
                                               "homogeneous-4x4"}
assert all(f.verdict is Verdict.REFUTED for f in false_findings)
# and run_verify flags exactly these as unexpected (this is what makes `isttheory verify` exit non-zero)
assert sorted(id(f) for f in run.unexpected) == sorted(id(f) for f in false_findings)

# %% [markdown]
# A lemma need not go through `run_verify`: `Claim.run(instance, settings)` verifies it on a single instance (it also
# stamps each finding with the claim id, instance and time, and turns a verifier exception into an INCONCLUSIVE finding).

# %%
single = Instance("own-homogeneous-3", own)
for f in get(TRUE_ID).run(single, settings):
    assert f.verdict is Verdict.VERIFIED
    display(Math(r"s = {}:\quad \max|x^\infty - \tilde b/s| = {:.1e},\quad |x^\infty - x^*| = {:.4f}".format(f.variant.removeprefix("s="), f.numbers["max|x_inf - b/s|"], f.numbers["bias |x_inf - x*|"])))

# %% [markdown]
# The fixed point $\tilde b/s$ is not $x^* = \tilde L^{-1}\tilde b$: the bias $|x^\infty-x^*|$ above is non-zero for every
# scale (§4.1). Here is $x^\infty$ against $s$ on our hand-written problem, from the library's moments:

# %%
pt = precondition(own)
ss = np.linspace(0.5, 4, 15)
xs_inf = np.array([SketchMoments(pt, Permutation(3, 3, scale=s)).x_inf for s in ss])
assert np.allclose(xs_inf * ss[:, None], pt.b[0], atol=1e-12)       # s · x^∞ = b̃ for every s
assert np.linalg.matrix_rank(np.stack([pt.b[0], pt.x_star]), tol=1e-8) == 2  # x* ∦ b̃: no s gives x^∞ = x*
fig, ax = plt.subplots(figsize=(7, 3.3))
for j in range(3):
    ax.plot(ss, xs_inf[:, j], "o-", ms=3, label=rf"$x^\infty_{j}$")
    ax.axhline(pt.x_star[j], ls=":", color=f"C{j}", label=rf"$x^*_{j}$")
ax.axvline(np.sqrt(3), color="grey", lw=0.8)
ax.text(np.sqrt(3), ax.get_ylim()[1] * 0.9, r" $s=\sqrt{n}$ (31)")
ax.set_xlabel("scale s")
ax.set_title(r"scaled Perm-1: $x^\infty = \tilde b/s$ never reaches $x^* = \tilde L^{-1}\tilde b$ here")
ax.legend(fontsize=7, ncol=2)
plt.show()

# %% [markdown]
# ## 4. Why the false lemma fails
#
# (25) works for the SGD form because $\bar B=I$ on every draw: $x^1 = x^0-\gamma\bar Bx^0 = 0$. Algorithm 1 instead
# *merges* the clients' submodels, $x^{k+1}=\frac1n\sum_i z_i$, starting each client at $z_i = \tilde C_ix^k$; the merge
# is the identity only under perfect reconstruction $\bar P=\frac1n\sum_i\tilde C_i=I$. Under (23)
# $\bar P=\frac1{\sqrt n}\,\mathrm{Diag}\big((L_{\mathrm{owner}(j)})_{jj}^{-1/2}\big)\ne I$: with one local step
# $x^1=(\bar P-\gamma\bar B)x^0=(\bar P-I)x^0\ne0$ at $\gamma=1$. A second local step multiplies each client's
# coordinate once more by $1-\gamma\,\tilde c_{ij}(L_i)_{jj} = 1-\sqrt{n\,(L_i)_{jj}}$, which is far from 0: it makes
# things worse, not better.

# %%
f = next(f for f in false_findings if f.instance == "perm1-heterogeneous")
print(format_table(["quantity", "value"], list(f.numbers.items())))
assert f.numbers["(2) form"] <= 1e-12 * f.numbers["E|x0-x*|^2_L"]         # (25) holds for the SGD form …
assert f.numbers["(6), 1 local"] > 1e-3 and f.numbers["E|x1-x*|^2_L (6), 2 local"] > f.numbers["E|x0-x*|^2_L"]
assert f.numbers["perfect reconstruction"] is False and f.numbers["max|E[P]-I|"] > 0.1

p5 = next(i.problem for i in default_instances() if i.name == "perm1-heterogeneous")
interp5 = QuadraticProblem(np.asarray(p5.L), np.zeros((p5.n, p5.d)))
sk5 = PreconditionedPerm.from_problem(interp5)
display(Math(r"\mathbb E[\bar P] = " + sp.latex(sp.Matrix(np.round(SketchMoments(interp5, sk5).expected_P, 3)))
             + r"\ne I"))

K = 4
fig, ax = plt.subplots(figsize=(7, 3.5))
for label, kw in (("SGD form (2)", dict(form="sgd")), ("Algorithm 1, 1 local step", dict(form="ist", local_steps=1)),
                  ("Algorithm 1, 2 local steps", dict(form="ist", local_steps=2))):
    res = ExactDynamics(interp5, sk5, 1.0, **kw).run(K)
    ax.semilogy(res.iters, np.maximum(res.metrics["dist2_L"], 1e-32), "o-", label=label)
ax.set_xlabel("iteration k")
ax.set_ylabel(r"exact $\mathbb{E}\|x^k - x^*\|^2_{\bar L}$")
ax.set_title("(23), γ = 1, interpolation, n = d = 5 (floor 1e-32 = exactly 0)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 5. Expected refutations: `known_refuted`
#
# A REFUTED finding makes `isttheory verify` exit non-zero unless the claim lists its variant in `known_refuted` (that is
# how the registry records the paper's errata). Marking our false lemma as a *known* counterexample:

# %%
finding = false_findings[0]
assert false_claim.unexpected(finding)
documented = dataclasses.replace(false_claim, known_refuted=frozenset({finding.variant}))
assert not documented.unexpected(finding)
print(f"unexpected as registered: {false_claim.unexpected(finding)}; with known_refuted: "
      f"{documented.unexpected(finding)}")

# %% [markdown]
# ## 6. Clean up
#
# Registered claims live in a module-level registry for the rest of the session; remove ours.

# %%
unregister(TRUE_ID)
unregister(FALSE_ID)
assert TRUE_ID not in {c.id for c in claims()} and FALSE_ID not in {c.id for c in claims()}
try:
    get(TRUE_ID)
    raise AssertionError("claim still registered")
except KeyError:
    pass

# %% [markdown]
# ## 7. The same from the command line
#
# Put the claim in a Python file that calls `register(...)` at import time — `examples/my_lemma.py` in this repository
# is a complete one (it registers the *corrected* version of our false lemma: form (2) converges in one step under (23)
# while Algorithm 1 with two local steps does not) — and pass it to `verify`:
#
# ```bash
# isttheory verify --plugin examples/my_lemma.py            # default instances, fast settings
# isttheory verify --plugin my_lemmas.py --problem my.npz   # your own problem file (arrays L, b, x0)
# isttheory verify --plugin my_lemmas.py --full --json      # 10× more Monte Carlo runs, machine-readable output
# ```
#
# A minimal plugin file:
#
# ```python
# # my_lemmas.py
# import numpy as np
# from isttheory.claims import Claim, Finding, Verdict, register
# from isttheory.moments import SketchMoments
# from isttheory.sketches import Permutation
#
# def verify(instance, settings):
#     p = instance.problem
#     mo = SketchMoments(p, Permutation(p.n, p.d))
#     ok = np.allclose(mo.expected_Cb, p.b_bar)   # Perm-q is unbiased: E[(Cb)‾] = b̄
#     yield Finding(Verdict.VERIFIED if ok else Verdict.REFUTED, {"ok": ok}, "closed-form moments")
#
# register(Claim(id="my-unbiased-Cb", equations=("(26)",), statement=r"\mathbb{E}[(Cb)^-] = \bar b",
#                verify=verify, applies=lambda inst: inst.problem.d % inst.problem.n == 0))
# ```
#
# The findings appear in the table of every finding (claim, instance, variant, verdict, key numbers, time), and
# `--out DIR` writes them to `results.json`. The exit code is 0 unless a claim is REFUTED without being listed in
# `known_refuted`, or a verifier raises.

# %%
elapsed = time.perf_counter() - T0
print(f"notebook body ran in {elapsed:.1f} s")
assert elapsed < 40
