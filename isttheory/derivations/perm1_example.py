"""Theorem 1, Perm-1 example: ``E[B̄] = Σ_i D_i = nD̄`` and (17) ``nD̄L̄D̄ ⪯ (θ/2)(L̄D̄ + D̄L̄)``.

Perm-1 is Perm-q with ``q = 1``, so ``n = d`` (our copy's "``n = d²``" is
wrong: ``d = q·n`` with ``q = 1``). On a permutation ``π`` client ``i`` owns
coordinate ``π_i`` and ``C_iL_iC_i = n²(L_i)_{π_iπ_i}e_{π_i}e_{π_i}ᵀ``, so

    B̄ = n Diag(v),   v_j = (L_{owner(j)})_{jj},   E v = D̄,   E[B̄] = nD̄ = Σ_i D_i.

Second moment: ``E[B̄L̄B̄] = n² L̄ ∘ E[vvᵀ]`` with
``E[v_j²] = (1/n)Σ_i (L_i)_{jj}²`` and, for ``j ≠ k``,
``E[v_jv_k] = (n²D̄_jD̄_k − Σ_i (L_i)_{jj}(L_i)_{kk})/(n(n−1))``. Hence

    E[B̄L̄B̄] = n²D̄L̄D̄ + n² L̄ ∘ Cov(v),   Cov(v) = (n Diag(S) − S)/(n − 1) ⪰ 0,

``S = (1/n)Σ_i (a_i − D̄)(a_i − D̄)ᵀ`` (``a_i`` the diagonal of ``L_i``), and
``n²L̄∘Cov(v) = (n²/n!) Σ_π Diag(v_π − D̄)L̄Diag(v_π − D̄) ⪰ 0``.

* Homogeneous (``Cov(v) = 0``): (14) is exactly ``n`` times (17).
* Heterogeneous: (14) ⇔ ``nL̄∘E[vvᵀ] ⪯ (θ/2)(L̄D̄ + D̄L̄)``, strictly stronger than
  (17): (17) is necessary but not sufficient, and its ``θ`` can be smaller
  than the true ``θ*`` of (14); with that ``θ`` the descent step of (15) fails.
* (17) (and (14)) can fail for every ``θ``: Remark 1's instance.

Constants: ``n_rel`` (``n`` as a function of ``d`` for Perm-1; correct ``d``,
our copy ``d²``), ``ebar_scale`` (``E[B̄] = ebar_scale·D̄``; correct ``n``, checked against the engine at
``n = d = 2, 3, 4`` so that a form agreeing with ``n`` at one size only fails) and
``correction`` (coefficient of the heterogeneous term ``Cov(v)``; correct 1,
the paper's reduction to (17) implicitly uses 0).
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache
from typing import TypedDict

import numpy as np
import scipy.linalg as sla
import sympy as sp

from ..errors import IncompatibleSketchError
from ..generators import homogeneous, interpolation, remark1
from ..moments import SketchMoments
from ..problem import QuadraticProblem
from ..sketches import Permutation
from ..symbolic import moments as MM
from .base import Derivation, Step, stack, symbolic_B_moments, symbolic_expectation, symmetric_matrix

n_s, d_s = sp.symbols("n d", positive=True, integer=True)
N = 3  # n = d = 3 for the symbolic checks


class _Symbolic(TypedDict):
    """The constant-free symbolic results of :func:`_symbolic` (n = d = 3, symbolic L_i)."""

    Ls: list[sp.Matrix]
    Lb: sp.Matrix
    EB: sp.Matrix
    BLB: sp.Matrix
    Eform: sp.Matrix
    Dbar: sp.Matrix
    Evv: sp.Matrix
    ok_draw: bool | None  # SymPy's ``is_zero_matrix`` is three-valued (None: undecided)
    cov: sp.Matrix
    DL: sp.Matrix
    cert: sp.Matrix
    EBh: sp.Matrix
    Dh: sp.Matrix
    BLBh: sp.Matrix
    LDLh: sp.Matrix
    red: sp.Matrix


def _ev(Ls: list[sp.Matrix], n: int) -> tuple[sp.Matrix, sp.Matrix]:
    """Closed-form E[vvᵀ] and D̄ (as a column) for symbolic L_i."""
    d = n
    a = [[Ls[i][j, j] for j in range(d)] for i in range(n)]
    Dbar = sp.Matrix([sum(a[i][j] for i in range(n)) / n for j in range(d)])
    E = sp.zeros(d, d)
    for j in range(d):
        for k in range(d):
            if j == k:
                E[j, j] = sum(a[i][j] ** 2 for i in range(n)) / n
            else:
                E[j, k] = (n**2 * Dbar[j] * Dbar[k] - sum(a[i][j] * a[i][k] for i in range(n))) / (n * (n - 1))
    return E, Dbar


@lru_cache(maxsize=1)
def _symbolic() -> _Symbolic:
    """Everything symbolic that does not depend on the constants (n = d = 3, symbolic L_i)."""
    n = d = N
    Ls = [symmetric_matrix(f"L{i}", d) for i in range(n)]
    sk = Permutation(n, d)
    Lb, EB, BLB = symbolic_B_moments(sk, Ls)
    Eform, Dbar = _ev(Ls, n)
    perms = list(itertools.permutations(range(d)))
    vs: list[sp.Matrix] = []
    ok_draw: bool | None = True
    for perm in perms:
        Bp = sp.zeros(d, d)
        for i, j in enumerate(perm):
            Ct = sp.zeros(d, d)
            Ct[j, j] = n
            Bp += Ct * Ls[i] * Ct / n
        v = sp.Matrix([Ls[perm.index(j)][j, j] for j in range(d)])
        vs.append(v)
        ok_draw = ok_draw and (Bp - n * sp.diag(*v)).is_zero_matrix
    Evv = sum((v * v.T for v in vs), sp.zeros(d, d)) / len(perms)
    a = [sp.Matrix([Ls[i][j, j] for j in range(d)]) for i in range(n)]
    S = sum(((ai - Dbar) * (ai - Dbar).T for ai in a), sp.zeros(d, d)) / n
    cov = (n * sp.diag(*[S[j, j] for j in range(d)]) - S) / (n - 1)
    DL = sp.diag(*Dbar)
    cert = sum((sp.diag(*(v - Dbar)) * Lb * sp.diag(*(v - Dbar)) for v in vs), sp.zeros(d, d)) * n**2 / len(perms)
    # homogeneous: L_i ≡ L
    L = symmetric_matrix("L", d)
    Dh = sp.diag(*[L[j, j] for j in range(d)])
    Lh = [L] * n
    EBh = sp.Matrix(symbolic_expectation(MM.B, sk, [stack(Lh)]).tolist()) / n
    BLBh = sp.Matrix(symbolic_expectation(MM.BMB, sk, [stack(Lh), np.array(L.tolist(), dtype=object),
                                                       stack(Lh)]).tolist()) / n**2
    th = sp.Symbol("theta", positive=True)
    Wh = (L * EBh + EBh * L) / 2
    red = (th * Wh - BLBh) - n * (th / 2 * (L * Dh + Dh * L) - n * Dh * L * Dh)
    return {"Ls": Ls, "Lb": Lb, "EB": EB, "BLB": BLB, "Eform": Eform, "Dbar": Dbar, "Evv": Evv, "ok_draw": ok_draw,
            "cov": cov, "DL": DL, "cert": cert, "EBh": EBh, "Dh": Dh, "BLBh": BLBh, "LDLh": Dh * L * Dh, "red": red}


FIRST_MOMENT_SIZES = (2, 3, 4)


@lru_cache(maxsize=4)
def _first_moment(k: int) -> tuple[list[sp.Matrix], sp.Matrix]:
    """Symbolic L_i and the engine's E[B̄] for Perm-1 with n = d = k (constant-free)."""
    if k == N:
        S = _symbolic()
        return S["Ls"], S["EB"]
    Ls = [symmetric_matrix(f"L{i}", k) for i in range(k)]
    return Ls, sp.Matrix(symbolic_expectation(MM.B, Permutation(k, k), [stack(Ls)]).tolist()) / k


def _ev_numeric(Ls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numeric E[vvᵀ] and D̄ for Perm-1 (n = d)."""
    n = Ls.shape[0]
    a = np.diagonal(Ls, axis1=1, axis2=2)  # (n, d)
    Dbar = a.mean(0)
    E = (n**2 * np.outer(Dbar, Dbar) - a.T @ a) / (n * (n - 1))
    np.fill_diagonal(E, (a**2).mean(0))
    return E, Dbar


def theta_17(problem: QuadraticProblem) -> float | None:
    """Smallest θ in (17), ``λ_max(nD̄L̄D̄, ½(L̄D̄ + D̄L̄))``; ``None`` if ``½(L̄D̄ + D̄L̄)`` is not PD."""
    L, Dv, n = problem.L_bar, problem.D_bar, problem.n
    W17 = 0.5 * (L * Dv[None, :] + Dv[:, None] * L)
    if np.linalg.eigvalsh(W17)[0] <= 1e-10:
        return None
    return float(sla.eigh(n * (Dv[:, None] * L * Dv[None, :]), W17, eigvals_only=True)[-1])


def theta_14(mo: SketchMoments) -> tuple[float, np.ndarray] | None:
    """Smallest θ in (14) and its generalised eigenvector; ``None`` unless ``W̄ ≻ 0``."""
    if np.linalg.eigvalsh(mo.W)[0] <= 1e-10:
        return None
    w, V = sla.eigh(mo.BLB, mo.W)
    return float(w[-1]), V[:, -1]


def derive(n_rel: sp.Expr = d_s, ebar_scale: sp.Expr = n_s, correction: sp.Expr | int = 1) -> Derivation:
    """Check the Perm-1 example with ``n = n_rel(d)``, ``E[B̄] = ebar_scale·D̄`` and the second moment
    ``E[vvᵀ] = D̄D̄ᵀ + correction·Cov(v)`` (correct: ``n = d``, ``ebar_scale = n``, ``correction = 1``)."""
    n_rel, ebar_scale, correction = sp.sympify(n_rel), sp.sympify(ebar_scale), sp.sympify(correction)
    D = Derivation("Perm-1 example", ("(7)", "(14)", "(17)"),
                   constants={"n_rel": n_rel, "ebar_scale": ebar_scale, "correction": correction})
    S = _symbolic()
    n = N

    # 1. Perm-1 means q = 1 in d = q·n
    D.symbolic("Perm-1: q = d/n = 1, i.e. n = d", "(7)", sp.simplify(d_s / n_rel - 1), f"n = {n_rel}")
    built = []
    for dd in (2, 3):
        nn = int(n_rel.subs(d_s, dd))
        try:
            built.append(f"d={dd}: q={Permutation(nn, dd).q}")
        except IncompatibleSketchError as exc:
            built.append(f"d={dd}, n={nn}: {type(exc).__name__}")
    D.numeric("Perm-1 sketch with n = n_rel(d) exists and has q = 1 (d = 2, 3)", "(7)",
              all(b.endswith("q=1") for b in built), "; ".join(built))

    # 2. first moment, at n = d = 2, 3, 4 (the engine's E[B̄] with symbolic L_i): ebar_scale must equal n at
    # every size, so a constant (or any other form agreeing with n at one size only) fails
    for k in FIRST_MOMENT_SIZES:
        Ls, EBk = _first_moment(k)
        Dsum = sum((sp.diag(*[L[j, j] for j in range(k)]) for L in Ls), sp.zeros(k, k))
        Dbar = Dsum / k
        D.symbolic(f"E[B̄] = Σ_i D_i (engine, n = d = {k}, symbolic L_i)", "(17)", EBk - Dsum)
        val = ebar_scale.subs({n_s: k, d_s: k})
        D.symbolic(f"E[B̄] = ebar_scale · D̄ (n = d = {k})", "(17)", EBk - val * Dbar,
                   f"ebar_scale = {ebar_scale} = {val} at n = d = {k}")
    D.steps.append(_step("B̄ = n Diag(v_π), v_j = (L_{owner(j)})_{jj}, on all 6 permutations", S["ok_draw"]))

    # 3. homogeneous: (14) is n × (17)
    D.symbolic("homogeneous: E[B̄] = nD (engine)", "(17)", S["EBh"] - n * S["Dh"])
    D.symbolic("homogeneous: E[B̄L̄B̄] = n²DLD (B̄ = nD on every draw)", "(17)", S["BLBh"] - n**2 * S["LDLh"])
    D.symbolic("homogeneous: θW̄ − E[B̄L̄B̄] = n[(θ/2)(LD + DL) − nDLD], so (14) ⇔ (17)", "(17)", S["red"])

    # 4. heterogeneous second moment
    DD = S["Dbar"] * S["Dbar"].T
    claimed = DD + correction * (S["Eform"] - DD)
    D.symbolic("E[vvᵀ]: E v_j² = (1/n)Σ(L_i)_jj², E v_jv_k = (n²D̄_jD̄_k − Σ_i(L_i)_jj(L_i)_kk)/(n(n−1))", "(14)",
               (S["Evv"] - claimed).expand(), f"correction = {correction} (enumeration of the 6 permutations)")
    Lb = S["Lb"]
    D.symbolic("E[B̄L̄B̄] = n² L̄ ∘ E[vvᵀ] (engine BMB contraction)", "(14)",
               (S["BLB"] - n**2 * Lb.multiply_elementwise(claimed)).expand(), f"correction = {correction}")
    D.symbolic("Cov(v) = E[vvᵀ] − D̄D̄ᵀ = (n Diag(S) − S)/(n − 1)", "(14)", (S["Eform"] - DD - S["cov"]).expand())
    D.symbolic("certificate: E[B̄L̄B̄] − n²D̄L̄D̄ = (n²/n!)Σ_π Diag(v_π − D̄)L̄Diag(v_π − D̄) ⪰ 0, so (14) ⇒ (17)",
               "(17)", (S["BLB"] - n**2 * S["DL"] * Lb * S["DL"] - S["cert"]).expand())

    # consequence: if xᵀE[B̄L̄B̄]x = s > θw (w = xᵀW̄x) then at γ = 1/θ the descent step of (15) fails
    fx, w, th = sp.Symbol("f", real=True), sp.Symbol("w", positive=True), sp.Symbol("theta", positive=True)
    s_ = sp.Symbol("s", positive=True)
    gm = 1 / th
    D.symbolic("at γ = 1/θ: E f(x⁺) − (f − γw/2) = (s − θw)/(2θ²) > 0 whenever s > θw", "(15)",
               (fx - gm * w + gm**2 / 2 * s_) - (fx - gm * w / 2) - (s_ - th * w) / (2 * th**2))

    # 5. numeric: the reduction with the claimed second moment gives the true θ* of (14)
    corr = float(correction)
    worst_red, strict, tried, ratio, fails15 = 0.0, 0, 0, 1.0, None
    for seed in range(8):
        for nn in (3, 4):
            prob = interpolation(nn, nn, 0.9, seed=seed, cond=20.0)
            mo = SketchMoments(prob, Permutation(nn, nn))
            t14, t17 = theta_14(mo), theta_17(prob)
            if t14 is None or t17 is None:
                continue
            tried += 1
            E, Dv = _ev_numeric(np.asarray(prob.L))
            Ec = np.outer(Dv, Dv) + corr * (E - np.outer(Dv, Dv))
            W17 = 0.5 * (prob.L_bar * Dv[None, :] + Dv[:, None] * prob.L_bar)
            t_red = float(sla.eigh(nn * prob.L_bar * Ec, W17, eigvals_only=True)[-1])
            worst_red = max(worst_red, abs(t_red - t14[0]) / t14[0])
            if t17 < t14[0] * (1 - 1e-6):
                strict += 1
                ratio = max(ratio, t14[0] / t17)
                # (15) with K = 1 at θ = θ₁₇, γ = 1/θ₁₇, x⁰ = worst direction of (14)
                x, gam = t14[1], 1 / t17
                w = x @ mo.W @ x
                Ef1 = 0.5 * x @ (prob.L_bar - 2 * gam * mo.W + gam**2 * mo.BLB) @ x
                bound = 0.5 * x @ prob.L_bar @ x - gam / 2 * w
                if Ef1 > bound * (1 + 1e-9) and fails15 is None:
                    fails15 = (nn, seed, Ef1, bound)
    D.numeric("heterogeneous: θ from nL̄∘E[vvᵀ] ⪯ (θ/2)(L̄D̄ + D̄L̄) equals θ* of (14) (SketchMoments)", "(14)",
              tried >= 8 and worst_red <= 1e-9, f"{tried} instances, max relative difference {worst_red:.3g}")
    D.numeric("finding: (17) is not sufficient — θ₁₇ < θ*(14) on heterogeneous instances, and (15) fails at θ₁₇",
              "(17)", strict >= 1 and fails15 is not None,
              f"θ₁₇ < θ* on {strict}/{tried} (max θ*/θ₁₇ = {ratio:.4g}); (15) with K = 1, γ = 1/θ₁₇: "
              + ("none" if fails15 is None else
                 f"n = d = {fails15[0]}, seed {fails15[1]}: E f(x¹) = {fails15[2]:.6g} > {fails15[3]:.6g}"))
    worst_h = 0.0
    for seed in range(3):
        prob = homogeneous(3, 3, seed=seed, cond=20.0, interpolation=True)
        t14, t17 = theta_14(SketchMoments(prob, Permutation(3, 3))), theta_17(prob)
        if t14 is not None and t17 is not None:
            worst_h = max(worst_h, abs(t14[0] - t17) / t14[0])
    D.numeric("homogeneous: θ₁₇ = θ*(14) on random instances", "(17)", worst_h <= 1e-9, f"max rel. diff {worst_h:.2g}")

    # 6. (17)/(14) can fail for every θ: Remark 1
    prob = remark1()
    L, Dv, nn = prob.L_bar, prob.D_bar, prob.n
    W17 = 0.5 * (L * Dv[None, :] + Dv[:, None] * L)
    ev, V = np.linalg.eigh(W17)
    v = V[:, 0]
    lhs = nn * v @ (Dv[:, None] * L * Dv[None, :]) @ v
    BLB = SketchMoments(prob, Permutation(nn, 2)).BLB
    D.numeric("Remark 1 instance: vᵀ(L̄D̄ + D̄L̄)v < 0 ≤ vᵀ(nD̄L̄D̄)v, vᵀE[B̄L̄B̄]v ≥ 0: no θ satisfies (17) or (14)",
              "(17)", bool(ev[0] < 0 and lhs >= 0 and v @ BLB @ v >= 0),
              f"λ_min(½(L̄D̄+D̄L̄)) = {ev[0]:.4g}, vᵀnD̄L̄D̄v = {lhs:.4g}")
    D.latex["EB"] = sp.latex(ebar_scale) + r"\bar D"
    D.latex["BLB"] = r"n^2\bar L\circ(\bar D\bar D^\top + " + sp.latex(correction) + r"\,\mathrm{Cov}(v))"
    return D


def _step(name: str, ok: bool | None) -> Step:
    return Step(name, "(17)", "fixed-size", bool(ok), f"all {math.factorial(N)} outcomes" if ok else "a draw differs",
                sizes=f"n=d={N}")
