"""§4.1 exact mean recursion (28) under the sketches (23), and the claim that the bias vanishes as n = d → ∞.

Recursion (28). ``x^{k+1} = x^k − γ(B̄^k x^k − (Cb)‾^k)`` with a fresh sketch
independent of ``x^k``, so (tower property) ``E[x^{k+1}] = E[x^k] − γ(E[B̄]E[x^k] − E[(Cb)‾])
= (1−γ)E[x^k] + (γ/√n) D̃b̃`` (``E[B̄] = I``, ``E[(Cb)‾] = D̃b̃/√n``, see
:mod:`.estimator_bias`). The closed form ``E[x^k] = (1−γ)^k x⁰ + (1 − (1−γ)^k) D̃b̃/√n``
satisfies the recursion and ``E[x⁰] = x⁰`` (symbolic ``k``); ``|1−γ| < 1 ⇔ 0 < γ < 2``
and then ``E[x^k] → x^∞ = (1/(n√n)) Σ_i D_i^{-1/2} b_i``. Checked against the
Monte Carlo simulator and :class:`~isttheory.moments.SketchMoments`; ``x^∞ ≠ x*``
on a heterogeneous instance.

"The bias vanishes as n = d → ∞" (finding). Coordinatewise
``|x^∞_j| ≤ (1/(n√n)) Σ_i |b_ij|/√(L_i)_jj ≤ (1/√n) max_{i,j} |b_ij|/√(L_i)_jj``
(equality for homogeneous problems on the maximising coordinate): it is the
*fixed point* that shrinks to 0, not the bias. Since ``h = x* − x^∞``,
``|‖h‖/‖x*‖ − 1| ≤ ‖x^∞‖/‖x*‖``; on the natural families (heterogeneous with
h = 0.5 and h = 1, homogeneous; n = d = 2 … 64) ``‖x^∞‖/‖x*‖ ≈ C/√n`` so the
relative bias ``‖h‖/‖x*‖ → 1``, and ``‖h‖²_{L̄}`` does not decrease. The bias is
not scale invariant: replacing ``f`` by ``αf`` leaves ``x*`` fixed and multiplies
``x^∞`` by ``√α``; for isotropic ``L_i = δI`` one gets ``h = (1 − √(δ/n)) x*``,
zero iff ``δ = n``. Under the normalisation "mean diagonal of ``L_i`` equals
``n``" the relative bias does vanish for fully heterogeneous clients (``L̄`` near
isotropic) but stays of order one for the homogeneous and h = 0.5 families. The
claim is false as stated; see :func:`bias_study`.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from ..generators import heterogeneous, homogeneous
from ..moments import SketchMoments
from ..problem import QuadraticProblem
from ..simulate import simulate
from ..sketches import PreconditionedPerm
from .base import Derivation, vector
from .estimator_bias import N, client_matrices, client_vectors, dtilde_b, engine_moments

g_ = sp.Symbol("gamma", real=True)
k_ = sp.Symbol("k", nonnegative=True, integer=True)
SIZES = (2, 4, 8, 16, 32, 64)
SEEDS = (0, 1, 2)
#: the paper's limit coefficient 1/(n√n) (28)
INV_N_SQRT_N = N ** sp.Rational(-3, 2)
FAMILIES = ("heterogeneous h=0.5", "heterogeneous h=1", "homogeneous")


def make_family(family: str, n: int, seed: int) -> QuadraticProblem:
    """The natural n = d families of the study."""
    if family == "homogeneous":
        return homogeneous(n, n, seed=seed)
    return heterogeneous(n, n, float(family.split("=")[1]), seed=seed)


def x_inf_closed(problem: QuadraticProblem, coef: float | None = None) -> np.ndarray:
    """``x^∞ = coef · Σ_i D_i^{-1/2} b_i`` (paper: ``coef = 1/(n√n)``)."""
    n = problem.n
    c = n**-1.5 if coef is None else coef
    return c * (np.asarray(problem.b) / np.sqrt(problem.D)).sum(axis=0)


@lru_cache(maxsize=8)
def bias_study(sizes: tuple[int, ...] = SIZES, seeds: tuple[int, ...] = SEEDS,
               families: tuple[str, ...] = FAMILIES) -> tuple[dict[str, Any], ...]:
    """Bias of (23) on growing n = d: one row per (family, n, seed).

    ``hL2 = ‖h‖²_{L̄}``, ``rel_h = ‖h‖/‖x*‖``, ``rel_xinf = ‖x^∞‖/‖x*‖``,
    ``bound_ratio = ‖x^∞‖_∞ / ((1/√n) max|b_ij|/√(L_i)_jj)``, ``closed_err`` (SketchMoments
    against the closed form), ``rel_h_best`` (the smallest relative bias over all rescalings
    ``f → αf``, the sine of the angle between ``x^∞`` and ``x*``), and ``rel_h_normalised``
    (relative bias after rescaling ``f`` so that the mean diagonal entry of the ``L_i`` is ``n``),
    ``h_sup = ‖h‖_∞`` and ``xstar_sup = ‖x*‖_∞``."""
    rows = []
    for fam in families:
        for n in sizes:
            for seed in seeds:
                p = make_family(fam, n, seed)
                mo = SketchMoments(p, PreconditionedPerm.from_problem(p))
                xs, xi, h = p.x_star, mo.x_inf, mo.h
                nx = float(np.linalg.norm(xs))
                cos = float(xi @ xs) / (float(np.linalg.norm(xi)) * nx)
                alpha = n / float(np.mean(p.D))
                q = QuadraticProblem(np.asarray(p.L) * alpha, np.asarray(p.b) * alpha, check_psd=False)
                mq = SketchMoments(q, PreconditionedPerm.from_problem(q))
                rows.append({
                    "family": fam, "n": n, "seed": seed,
                    "hL2": float(h @ p.L_bar @ h),
                    "rel_h": float(np.linalg.norm(h)) / nx,
                    "rel_xinf": float(np.linalg.norm(xi)) / nx,
                    "bound_ratio": float(np.abs(xi).max() * math.sqrt(n) / np.max(np.abs(p.b) / np.sqrt(p.D))),
                    "closed_err": float(np.abs(xi - x_inf_closed(p)).max()),
                    "rel_h_best": math.sqrt(max(0.0, 1 - cos**2)),
                    "rel_h_normalised": float(np.linalg.norm(mq.h)) / float(np.linalg.norm(q.x_star)),
                    "h_sup": float(np.abs(h).max()), "xstar_sup": float(np.abs(xs).max()),
                })
    return tuple(rows)


def seed_means(rows: tuple[dict[str, Any], ...], key: str) -> dict[str, dict[int, float]]:
    """``{family: {n: mean over seeds of row[key]}}``."""
    out: dict[str, dict[int, list[float]]] = {}
    for r in rows:
        out.setdefault(r["family"], {}).setdefault(r["n"], []).append(r[key])
    return {f: {n: float(np.mean(v)) for n, v in d.items()} for f, d in out.items()}


def format_study(rows: tuple[dict[str, Any], ...]) -> str:
    """A plain-text table of the seed means."""
    keys = ("hL2", "rel_h", "rel_xinf", "bound_ratio", "rel_h_best", "rel_h_normalised", "h_sup", "xstar_sup")
    means = {k: seed_means(rows, k) for k in keys}
    lines = ["family                n    " + "  ".join(f"{k:>16}" for k in keys)]
    for fam, per_n in means["rel_h"].items():
        for n in per_n:
            lines.append(f"{fam:<20} {n:>3}    " + "  ".join(f"{means[k][fam][n]:>16.4g}" for k in keys))
    return "\n".join(lines)


@lru_cache(maxsize=4)
def monte_carlo(gamma: float = 0.5, runs: int = 2000, record: tuple[int, ...] = (1, 2, 3, 5),
                seed: int = 11) -> tuple[QuadraticProblem, np.ndarray, np.ndarray, np.ndarray]:
    """Simulated run means of ``x^k`` (form (2), x⁰ = 1) on heterogeneous n = d = 4 with (23):
    ``(problem, x_mean at record, E[(Cb)‾], Cov((Cb)‾))`` (exact moments from SketchMoments)."""
    prob = heterogeneous(4, 4, 0.8, seed=1)
    sk = PreconditionedPerm.from_problem(prob)
    mo = SketchMoments(prob, sk)
    res = simulate(prob, sk, gamma, max(record), runs=runs, seed=seed, record=list(record), x0=np.ones(4))
    Ec = mo.expected_Cb
    return prob, res.x_mean, Ec, mo.CbCb - np.outer(Ec, Ec)


def derive(limit_coef: sp.Expr = INV_N_SQRT_N, exponent_shift: int = 0,
           relative_bias_limit: float = 1.0, n: int = 3) -> Derivation:
    """Check (28) with the closed form ``(1−γ)^{k+exponent_shift}`` (paper: shift 0), the limit
    ``x^∞ = limit_coef · Σ_i D_i^{-1/2} b_i`` (paper: ``1/(n√n)``), and the n = d → ∞ study with
    the claimed limit of the relative bias ``‖h‖/‖x*‖`` (the paper's "bias vanishes" is 0; the truth is 1)."""
    D = Derivation("§4.1 mean recursion", ("(27)", "(28)"),
                   constants={"limit_coef": limit_coef, "exponent_shift": exponent_shift,
                              "relative_bias_limit": relative_bias_limit})
    d = n
    Ls, bs = client_matrices(n, d), client_vectors(n, d)
    EB, ECb, _ = engine_moments(Ls, bs)
    Dtb = dtilde_b(Ls, bs)

    # (28) one step in expectation (fresh sketch independent of x^k: E[B̄^k x^k] = E[B̄] E[x^k])
    m = vector("m", d)
    step = m - g_ * (EB * m - ECb)
    D.symbolic("E[x^{k+1}] = E[x^k] − γ(E[B̄]E[x^k] − E[(Cb)‾]) = (1−γ)E[x^k] + (γ/√n)D̃b̃", "(28)",
               step - ((1 - g_) * m + g_ / sp.sqrt(n) * Dtb))

    # closed form with symbolic k
    x0, u = vector("x0", d), vector("u", d)  # u stands for D̃b̃/√n

    def closed(k: sp.Expr) -> sp.Matrix:
        p = (1 - g_) ** (k + exponent_shift)
        return p * x0 + (1 - p) * u

    D.symbolic("closed form satisfies E[x^{k+1}] = (1−γ)E[x^k] + γ D̃b̃/√n (symbolic k)", "(28)",
               closed(k_ + 1) - ((1 - g_) * closed(k_) + g_ * u), f"exponent k + {exponent_shift}")
    D.symbolic("closed form satisfies E[x⁰] = x⁰", "(28)", closed(sp.Integer(0)) - x0,
               f"exponent k + {exponent_shift}")

    # convergence: |1−γ| < 1 ⇔ 0 < γ < 2, and ρ^k → 0 for ρ = 1/(1+s) ∈ (0, 1)
    sol = sp.solve_univariate_inequality(sp.Abs(1 - g_) < 1, g_, relational=False)
    D.symbolic_true("|1 − γ| < 1 ⇔ γ ∈ (0, 2)", "(28)", sp.Eq(sol, sp.Interval.open(0, 2)), f"solution set {sol}")
    s_ = sp.Symbol("s", positive=True)
    lim = sp.limit((1 + s_) ** (-k_), k_, sp.oo)
    D.symbolic("|1−γ|^k → 0 for |1−γ| = 1/(1+s) < 1", "(28)", lim, f"lim = {lim}")
    xinf_claimed = sp.sympify(limit_coef).subs(N, n) * dtilde_b(Ls, bs) * n
    D.symbolic("x^∞ = D̃b̃/√n = limit_coef · Σ_i D_i^{-1/2} b_i", "(28)", Dtb / sp.sqrt(n) - xinf_claimed,
               f"limit_coef = {limit_coef}")

    # ‖x^∞‖_∞ ≤ (1/√n) max_ij |b_ij|/√(L_i)_jj: with a_i = b_ij/√(L_i)_jj and M ≥ |a_i|,
    #   M/√n ∓ x^∞_j = (1/(n√n)) Σ_i (M ∓ a_i), every summand ≥ 0
    M = sp.Symbol("M", positive=True)
    u, dl = sp.Symbol("u", nonnegative=True), sp.Symbol("delta", nonnegative=True)
    signs = []
    for j in range(d):
        a = [bs[i][j] / sp.sqrt(Ls[i][j, j]) for i in range(n)]
        for sgn in (1, -1):
            op = "−" if sgn > 0 else "+"
            D.symbolic(f"M/√n {op} x^∞_{j} = (1/(n√n)) Σ_i (M {op} a_i)", "(28)",
                       M / sp.sqrt(n) - sgn * xinf_claimed[j] - sum(M - sgn * ai for ai in a) / (n * sp.sqrt(n)),
                       "a_i = b_ij/√(L_i)_jj")
            # M ≥ |a_i|: M = |a_i| + δ (δ ≥ 0); cases b_ij = ±u (u ≥ 0) make |a_i| explicit
            for i, ai in enumerate(a):
                for sig in (1, -1):
                    signs.append(sp.Ge((sp.Abs(ai) + dl - sgn * ai).subs(bs[i][j], sig * u), 0))
    D.symbolic_true("each summand M ∓ a_i ≥ 0: M = |a_i| + δ (δ ≥ 0), cases b_ij = ±u (u ≥ 0), so |x^∞_j| ≤ M/√n",
                    "(28)", sp.And(*signs), f"{len(signs)} cases (every j, i, sign of a_i and of ∓)")

    # scale dependence and the isotropic case
    al, de = sp.symbols("alpha delta", positive=True)
    bbar = sum(bs, sp.zeros(d, 1)) / n
    scaled_xinf = sp.sympify(limit_coef).subs(N, n) * n * dtilde_b([al * L for L in Ls], [al * b for b in bs])
    D.symbolic("f → αf (L_i → αL_i, b_i → αb_i): x^∞ → √α x^∞, while x* = (αL̄)⁻¹(αb̄) = L̄⁻¹b̄ is unchanged",
               "(28)", scaled_xinf - sp.sqrt(al) * xinf_claimed)
    iso_L = [de * sp.eye(d) for _ in range(n)]
    iso_xinf = sp.sympify(limit_coef).subs(N, n) * n * dtilde_b(iso_L, bs)
    iso_xs = bbar / de
    D.symbolic("isotropic L_i = δI: h = x* − x^∞ = (1 − √(δ/n)) x*, zero iff δ = n", "(28)",
               (iso_xs - iso_xinf) - (1 - sp.sqrt(de / n)) * iso_xs)

    # numeric: SketchMoments.x_inf and Monte Carlo on heterogeneous n = d = 4
    gam, R, rec = 0.5, 2000, (1, 2, 3, 5)
    prob, x_mean, _, cov = monte_carlo(gam, R, rec)
    mo = SketchMoments(prob, PreconditionedPerm.from_problem(prob))
    coef4 = float(sp.sympify(limit_coef).subs(N, 4))
    xinf4 = x_inf_closed(prob, coef4)
    err = float(np.abs(mo.x_inf - xinf4).max())
    D.numeric("SketchMoments.x_inf = limit_coef · Σ D_i^{-1/2} b_i (heterogeneous n = d = 4)", "(28)",
              err <= 1e-12, f"max deviation {err:.2g}")
    hn = float(np.linalg.norm(mo.h))
    D.numeric("x^∞ ≠ x*: ‖h‖ > 0 (heterogeneous n = d = 4)", "(28)", hn > 1e-3,
              f"‖h‖ = {hn:.4g}, ‖x*‖ = {np.linalg.norm(prob.x_star):.4g}")
    x0n = np.ones(4)
    zmax = 0.0
    for j, kk in enumerate(rec):
        p = (1 - gam) ** (kk + exponent_shift)
        mean_k = p * x0n + (1 - p) * xinf4
        var_k = gam**2 * np.diag(cov) * (1 - (1 - gam) ** (2 * kk)) / (1 - (1 - gam) ** 2)  # exact Var(x^k)
        zmax = max(zmax, float(np.max(np.abs(x_mean[j] - mean_k) / np.sqrt(var_k / R))))
    D.numeric("Monte Carlo run mean of x^k within 5 exact standard errors of the closed form", "(28)", zmax <= 5.0,
              f"max |z| = {zmax:.3g} over 4 coordinates × k ∈ {list(rec)}, R = {R}, γ = {gam}; SE from the exact "
              f"Var(x^k) = γ²Cov((Cb)‾)(1−(1−γ)^{{2k}})/(1−(1−γ)²); false-alarm rate ≤ 16·2Φ(−5) ≈ 9e-6 (CLT)")

    # the n = d → ∞ study
    rows = bias_study()
    closed_err = max(r["closed_err"] for r in rows)
    D.numeric("study: SketchMoments.x_inf = (1/(n√n)) Σ D_i^{-1/2} b_i for n = d = 2 … 64", "(28)",
              closed_err <= 1e-10, f"max deviation {closed_err:.2g}")
    worst_bound = max(r["bound_ratio"] for r in rows)
    hom_tight = min(r["bound_ratio"] for r in rows if r["family"] == "homogeneous")
    D.numeric("‖x^∞‖_∞ ≤ (1/√n) max|b_ij|/√(L_i)_jj on every instance; equality for homogeneous ones", "(28)",
              worst_bound <= 1 + 1e-12 and hom_tight >= 1 - 1e-12,
              f"max ratio {worst_bound:.6g}, homogeneous min ratio {hom_tight:.6g}")
    rx = seed_means(rows, "rel_xinf")
    dec = all(all(per[a] > per[b] for a, b in zip(SIZES[1:], SIZES[2:], strict=False)) for per in rx.values())
    D.numeric("‖x^∞‖/‖x*‖ decreases from n = 4 to 64 (≈ C/√n): the fixed point collapses to 0", "(28)",
              dec and all(per[64] < 0.3 for per in rx.values()),
              "; ".join(f"{f}: " + ", ".join(f"{per[s]:.3g}" for s in SIZES) for f, per in rx.items()))
    rh = seed_means(rows, "rel_h")
    trend_sizes = [sz for sz in SIZES if sz >= 8]
    dev = {f: [abs(per[sz] - relative_bias_limit) for sz in trend_sizes] for f, per in rh.items()}
    D.numeric(f"relative bias ‖h‖/‖x*‖ → {relative_bias_limit}: |‖h‖/‖x*‖ − {relative_bias_limit}| decreases "
              f"along n = {trend_sizes[0]} … {trend_sizes[-1]} (seed means, every family)", "(28)",
              all(all(a > b for a, b in zip(v, v[1:], strict=False)) for v in dev.values()),
              "; ".join(f"{f}: " + ", ".join(f"{x:.3g}" for x in v) for f, v in dev.items()))
    lim_ok = all(abs(r["rel_h"] - relative_bias_limit) <= r["rel_xinf"] + 1e-12 for r in rows if r["n"] >= 16)
    D.numeric(f"consequence of the previous steps (for the limit 1 this is the triangle inequality for h = x* − x^∞): "
              f"relative bias |‖h‖/‖x*‖ − {relative_bias_limit}| ≤ ‖x^∞‖/‖x*‖ → 0 (n ≥ 16, every instance)", "(28)",
              lim_ok, "; ".join(f"{f}: " + ", ".join(f"{per[s]:.3g}" for s in SIZES) for f, per in rh.items()))
    hl = seed_means(rows, "hL2")
    D.numeric("‖h‖²_{L̄} does not decrease (n = 8 → 64, seed means)", "(28)",
              all(per[64] >= per[8] for per in hl.values()),
              "; ".join(f"{f}: " + ", ".join(f"{per[s]:.3g}" for s in SIZES) for f, per in hl.items()))
    rn = seed_means(rows, "rel_h_normalised")
    het1, hom = rn["heterogeneous h=1"], rn["homogeneous"]
    D.numeric("normalised (mean diag L_i = n): relative bias → 0 only when L̄ is near isotropic (h = 1)", "(28)",
              all(het1[a] > het1[b] for a, b in zip(SIZES, SIZES[1:], strict=False)) and het1[64] < 0.15
              and min(hom.values()) > 0.4,
              "; ".join(f"{f}: " + ", ".join(f"{per[s]:.3g}" for s in SIZES) for f, per in rn.items()))
    D.latex["closed_form"] = (r"(1-\gamma)^{k" + (f"+{exponent_shift}" if exponent_shift else "") +
                              r"}x^0 + (1-(1-\gamma)^{k" + (f"+{exponent_shift}" if exponent_shift else "") +
                              r"})\tfrac{1}{\sqrt n}\tilde D\tilde b")
    D.latex["x_inf"] = sp.latex(limit_coef) + r"\sum_i D_i^{-1/2} b_i"
    return D
