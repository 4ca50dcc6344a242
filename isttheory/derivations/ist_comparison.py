"""§4.3: earlier IST theory needs ``ω ≲ μ²/L²``; Theorem 1 with (23) needs nothing of the kind.

With ``μ = λ_min``, ``L = λ_max``, ``κ = L/μ ≥ 1``, the condition read with
constant 1 is ``ω ≤ 1/κ² ≤ 1``. Every decisive step is general (symbolic ``n, q, d, κ``):

* Perm-q (7): ``ω = n − 1``. Writing ``n = 2 + m``, ``κ = 1 + t`` (``m, t ≥ 0``),
  ``ω − 1/κ² = m + t(t + 2)/(1 + t)² ≥ 0``, zero only at ``m = t = 0``: the
  condition holds only for ``n = 1`` (no sketching), or ``n = 2`` with ``κ = 1``.
* Rand-q (4): ``ω = d/q − 1`` is decreasing in ``q`` and
  ``ω ≤ 1/κ² ⇔ q ≥ dκ²/(1 + κ²)``, and ``dκ²/(1 + κ²) − d/2 = d(κ² − 1)/(2(κ² + 1)) ≥ 0``:
  each client keeps at least half of the coordinates, and ``q → d`` as ``κ → ∞``
  ("almost no sparsification").
* Contrast: with the preconditioned sketches (23) (Perm-1, ``n = d``, scale ``√n/√(L_i)_jj``),
  for every ``n``: ``(L_i)_jj·s_ij²/n = 1`` and ``P(j, k ∈ S_i) = 0`` (``q = 1``), so
  ``B̄ = Diag(N_1, …, N_n)`` with ``N_j`` the number of clients owning ``j``; from the inclusion
  probabilities of :mod:`isttheory.symbolic.inclusion` (symbolic ``n``) ``E[N_j] = 1`` and
  ``E[N_jN_k] = 1`` for all ``j, k``, hence ``E[B̄] = I``, ``W̄ = L̄`` and ``E[B̄L̄B̄] = L̄ = W̄``:
  (14) holds exactly for ``θ ≥ 1`` (``θ* = 1``) and the contraction factor of (16) at
  ``γ = 1/θ = 1`` is ``1 − λ_min(L̄^{-1/2}W̄L̄^{-1/2}) = 0`` (25), whatever ``κ``. The entrywise
  formulas of a diagonal sketch (``E[B̄]_jj = (1/n)Σ_i s_ij²P(j ∈ S_i)(L_i)_jj``, and
  ``E[B̄MB̄]_jk = M_jk E[B̄_jj B̄_kk]`` once ``B̄`` is diagonal) are written by hand from the definitions;
  the sums over clients and the probabilities are SymPy's.

With a hidden constant, ``ω ≤ c/κ²``, Perm-q still needs ``n ≤ 1 + c/κ²``:
bounded ``n``, and ``n = 1`` once ``κ² > c``.

Evidence only (not counted): the (23) moments through the closed-form engine with symbolic
``L_i`` at ``n = d = 2, 3``, and in floating point on heterogeneous instances with
``n = d ∈ {2, 3, 4, 6}``.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp

from ..generators import heterogeneous
from ..moments import SketchMoments
from ..sketches import PreconditionedPerm
from ..symbolic import contractions
from ..symbolic.inclusion import UniformPartition, d, n, q
from .base import GENERAL, Derivation, at, stack, symbolic_expectation, symmetric_matrix
from .def1 import OMEGA_PERM, OMEGA_RAND
from .matrix_algebra import matrix_coefficients

kappa = sp.Symbol("kappa", positive=True)
#: a diagonal entry (L_i)_jj of one client
ell = sp.Symbol("ell", positive=True)
THRESHOLD = d * kappa**2 / (1 + kappa**2)
THETA = sp.Integer(1)
#: the scale of (23), √n ((L_i)_jj)^{-1/2}
PRECOND_SCALE = sp.sqrt(n) / sp.sqrt(ell)
#: the fraction of coordinates Rand-q must keep at least (q ≥ d/2)
KEPT_FRACTION = sp.Rational(1, 2)


@cache
def _precond_symbolic(nn: int, scale: sp.Expr) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix, sp.Matrix]:
    """(E[B̄], E[B̄L̄B̄], W̄, L̄) for (23) with symbolic ``L_i`` (positive diagonals), n = d = nn, through the
    closed-form engine, the scale ``T_ij = scale(n = nn, ℓ = (L_i)_jj)``; computed once per (nn, scale)."""
    Ls = []
    for i in range(nn):
        L = symmetric_matrix(f"L{i}", nn)
        Ls.append(L.subs({L[j, j]: sp.Symbol(f"L{i}_{j}{j}", positive=True) for j in range(nn)}))
    T = np.array([[scale.subs({n: nn, ell: Ls[i][j, j]}) for j in range(nn)] for i in range(nn)], dtype=object)
    carrier = PreconditionedPerm(nn, nn, np.ones((nn, nn)))  # supplies the inclusion model; scales are T
    EB = sp.Matrix(symbolic_expectation(contractions.B, carrier, [stack(Ls)], scale=T).tolist()) / nn
    Lbar = sum(Ls, sp.zeros(nn, nn)) / nn
    W = (Lbar * EB + EB * Lbar) / 2
    BLB = sp.Matrix(symbolic_expectation(contractions.BMB, carrier, [stack(Ls), np.array(Lbar.tolist(), dtype=object),
                                                            stack(Ls)], scale=T).tolist()) / nn**2
    return EB.applyfunc(sp.simplify), BLB.applyfunc(sp.simplify), W.applyfunc(sp.simplify), Lbar


@cache
def _precond_numeric() -> tuple[tuple[int, float, float, float, float], ...]:
    """Per n = d ∈ {2, 3, 4, 6}: (n, κ, relative max(|W̄ − L̄|, |E[B̄L̄B̄] − L̄|), θ*, λ_min(L̄^{-1/2}W̄L̄^{-1/2})),
    on heterogeneous instances with (23) built from the problem (floats)."""
    rows = []
    for nn in (2, 3, 4, 6):
        prob = heterogeneous(nn, nn, 0.8, seed=nn, cond=100.0)
        mo = SketchMoments(prob, PreconditionedPerm.from_problem(prob))
        L = prob.L_bar
        w, V = np.linalg.eigh(mo.W)
        Wis = (V / np.sqrt(w)) @ V.T
        th = float(np.linalg.eigvalsh(Wis @ mo.BLB @ Wis)[-1])
        ev = np.linalg.eigvalsh(L)
        Lis = np.linalg.inv(np.linalg.cholesky(L))
        lam = float(np.linalg.eigvalsh(Lis @ mo.W @ Lis.T)[0])
        err = float(max(np.abs(mo.W - L).max(), np.abs(mo.BLB - L).max()) / np.abs(L).max())
        rows.append((nn, float(ev[-1] / ev[0]), err, th, lam))
    return tuple(rows)


def derive(omega_perm: sp.Expr = OMEGA_PERM, omega_rand: sp.Expr = OMEGA_RAND, threshold: sp.Expr = THRESHOLD,
           theta: sp.Expr = THETA, precond_scale: sp.Expr = PRECOND_SCALE,
           kept_fraction: sp.Expr = KEPT_FRACTION) -> Derivation:
    """§4.3 with Perm-q ``ω = omega_perm`` (n − 1), Rand-q ``ω = omega_rand`` (d/q − 1), the Rand-q
    threshold ``q ≥ threshold`` (dκ²/(1+κ²)) ``≥ kept_fraction·d`` (d/2), and under (23) (scale
    ``precond_scale``, √n/√ℓ) the θ of (14) and of the step γ = 1/θ in (16)/(25) (1)."""
    D = Derivation("§4.3 comparison with earlier IST theory", ("(14)", "(16)", "(23)", "(25)", "§4.3"),
                   constants={"omega_perm": omega_perm, "omega_rand": omega_rand, "threshold": threshold,
                              "theta": theta, "precond_scale": precond_scale, "kept_fraction": kept_fraction})
    D.premise("entrywise moments of a diagonal sketch, E[B̄]_jj = (1/n)Σ_i s_ij²P(j ∈ S_i)(L_i)_jj and "
              "E[B̄MB̄]_jk = M_jk E[B̄_jj B̄_kk] once B̄ is diagonal, written from the definitions")
    omega_perm, omega_rand, threshold, theta, precond_scale, kept_fraction = (
        sp.sympify(v) for v in (omega_perm, omega_rand, threshold, theta, precond_scale, kept_fraction))
    m, t = sp.symbols("m t", nonnegative=True)  # n = 2 + m, κ = 1 + t

    # ω of the two families from the engine's inclusion probabilities (cf. def1)
    D.symbolic("Perm-q: ω = n²P(j ∈ S_i) − 1 = n − 1 (every n, q)", "(7)",
               n**2 * UniformPartition.p_same_expr(1).subs(d, q * n) - 1 - omega_perm, reach=GENERAL)
    D.symbolic("Rand-q: ω = (d/q)²P(j ∈ S) − 1 = d/q − 1 (every d, q)", "(4)",
               (d / q) ** 2 * UniformPartition.p_same_expr(1) - 1 - omega_rand, reach=GENERAL)
    inv = 1 / (1 + t) ** 2  # μ²/L² = 1/κ²
    D.symbolic("1 − 1/κ² = t(t + 2)/(1 + t)² (κ = 1 + t)", "§4.3", 1 - inv - t * (t + 2) / (1 + t) ** 2,
               reach=GENERAL)
    D.symbolic_true("μ²/L² = 1/κ² ≤ 1", "§4.3", sp.Ge(t * (t + 2) / (1 + t) ** 2, 0), reach=GENERAL)

    # Perm-q: ω − 1/κ² = m + t(t+2)/(1+t)² ≥ 0 for n ≥ 2, zero only at n = 2, κ = 1
    cert = m + t * (t + 2) / (1 + t) ** 2
    gap = omega_perm.subs(n, 2 + m) - inv  # ω − μ²/L² for n = 2 + m, κ = 1 + t
    D.symbolic("Perm-q, n = 2 + m: ω − 1/κ² = m + t(t + 2)/(1 + t)²", "§4.3", gap - cert, reach=GENERAL)
    num, den = sp.fraction(sp.together(gap))
    D.symbolic_true("… ≥ 0: ω ≤ μ²/L² fails for every n ≥ 2 except n = 2, κ = 1", "§4.3",
                    sp.Ge(sp.expand(num) / sp.expand(den), 0), f"ω − 1/κ² = ({sp.expand(num)})/({sp.expand(den)})",
                    reach=GENERAL)
    mp, tp = sp.symbols("m_+ t_+", positive=True)
    D.symbolic_true("equality needs m = 0: ω − 1/κ² > 0 for every n = 2 + m with m > 0 (any κ ≥ 1)", "§4.3",
                    sp.Gt(sp.factor(gap.subs(m, mp)), 0), f"ω − 1/κ² = {sp.factor(gap.subs(m, mp))}", reach=GENERAL)
    D.symbolic_true("… and t = 0: at n = 2, ω − 1/κ² > 0 for every κ = 1 + t with t > 0", "§4.3",
                    sp.Gt(sp.factor(gap.subs({m: 0, t: tp})), 0), f"ω − 1/κ² = {sp.factor(gap.subs({m: 0, t: tp}))}",
                    reach=GENERAL)
    D.symbolic("… while n = 2, κ = 1 gives equality ω = 1/κ²", "§4.3", gap.subs({m: 0, t: 0}), reach=GENERAL)
    D.symbolic_true("n = 1: ω = 0 ≤ 1/κ² (no sketching)", "§4.3", sp.Le(omega_perm.subs(n, 1), inv), reach=GENERAL)
    c_ = sp.Symbol("c", positive=True)  # a hidden constant: ω ≤ c/κ²
    n_roots = sp.solve(sp.Eq(omega_perm, c_ / kappa**2), n)
    D.symbolic("hidden constant c: Perm-q's ω = c/κ² at n = 1 + c/κ² and ω increases with n (dω/dn = 1), so "
               "ω ≤ c/κ² ⇔ n ≤ 1 + c/κ²", "§4.3",
               sp.Matrix([n_roots[0] - 1 - c_ / kappa**2 if len(n_roots) == 1 else sp.Integer(1),
                          sp.diff(omega_perm, n) - 1]),
               f"solved n = {n_roots}; dω/dn = {sp.diff(omega_perm, n)}", reach=GENERAL)

    # Rand-q: ω ≤ 1/κ² ⇔ q ≥ dκ²/(1 + κ²) ≥ d/2
    roots = sp.solve(sp.Eq(omega_rand, 1 / kappa**2), q)
    D.symbolic_true("Rand-q: ω = 1/κ² has exactly one root q", "§4.3", sp.Eq(len(roots), 1), f"solved q = {roots}",
                    reach=GENERAL)
    D.symbolic("Rand-q: the root is q = threshold = dκ²/(1 + κ²)", "§4.3",
               roots[0] - threshold if len(roots) == 1 else sp.Integer(1), f"solved q = {roots}, claimed {threshold}",
               reach=GENERAL)
    D.symbolic_true("ω decreasing in q (dω/dq < 0), so ω ≤ 1/κ² ⇔ q ≥ threshold", "§4.3",
                    sp.Lt(sp.diff(omega_rand, q), 0), reach=GENERAL)
    D.symbolic("threshold − d/2 = d(κ² − 1)/(2(κ² + 1))", "§4.3",
               threshold - kept_fraction * d - d * (kappa**2 - 1) / (2 * (kappa**2 + 1)),
               f"kept fraction {kept_fraction}", reach=GENERAL)
    half_gap = sp.factor(sp.together((threshold - kept_fraction * d).subs(kappa, 1 + t)))
    D.symbolic_true("threshold ≥ d/2 for every κ = 1 + t ≥ 1: at least half of the coordinates kept", "§4.3",
                    sp.Ge(half_gap, 0), f"threshold − {kept_fraction}·d = {half_gap}", reach=GENERAL)
    D.symbolic("threshold/d → 1 as κ → ∞ (no sparsification for ill-conditioned problems)", "§4.3",
               sp.limit(threshold / d, kappa, sp.oo) - 1, reach=GENERAL)

    # contrast: (23) for every n = d, from the inclusion probabilities of Perm-1 (q = 1, d = n)
    perm1 = {q: 1, d: n}
    p1, p2 = (sp.simplify(UniformPartition.p_same_expr(t_).subs(perm1)) for t_ in (1, 2))
    both, cross = (sp.simplify(UniformPartition.p_cross_expr(*uvw).subs(perm1)) for uvw in ((0, 0, 1), (1, 1, 0)))
    u = sp.simplify(ell * precond_scale**2 / n)  # (L_i)_jj s_ij² / n: B̄_jj = Σ_i u·1[j ∈ S_i]
    D.symbolic("(23), every n = d: (L_i)_jj·s_ij²/n = 1 and P(j, k ∈ S_i) = 0 (q = 1), so B̄ = Diag(N_j), "
               "N_j = #{i : j ∈ S_i}", "(23)", sp.Matrix([u - 1, p2]), f"s = {precond_scale}, u = {u}, "
               f"P(j, k ∈ S_i) = {p2}", reach=GENERAL)
    if ell in u.free_symbols:  # the weight would differ between clients: no closed form below
        u = sp.Symbol("u_client_dependent")
    e_B = sp.simplify(n * u * p1)  # E[B̄]_jj = Σ_i u P(j ∈ S_i)
    D.symbolic("(23), every n = d: E[B̄] = I (E[B̄]_jj = Σ_i u·P(j ∈ S_i) = 1, off-diagonal 0)", "(23)",
               sp.Matrix([e_B - 1, n * u * p2]), f"P(j ∈ S_i) = {p1}", reach=GENERAL)
    Lb = sp.MatrixSymbol("Lbar", n, n)
    W = (Lb * (e_B * sp.Identity(n)) + (e_B * sp.Identity(n)) * Lb) / 2
    D.symbolic("(23), every n = d: W̄ = ½(L̄E[B̄] + E[B̄]L̄) = L̄", "(23)", matrix_coefficients(W - Lb), reach=GENERAL)
    # E[B̄L̄B̄]_jk = L̄_jk u² E[N_j N_k]; E[N_j²] = nP(j ∈ S_i) + n(n−1)P(j ∈ S_i ∩ S_i'), E[N_jN_k] likewise
    ENjj = sp.simplify(n * p1 + n * (n - 1) * both)
    ENjk = sp.simplify(n * p2 + n * (n - 1) * cross)
    theta_star = sp.simplify(u**2 * ENjj / e_B)
    D.symbolic("(23), every n = d: E[B̄L̄B̄] = W̄ (E[N_j²] = E[N_jN_k] = 1): (14) holds for θ ≥ θ* = 1", "(14)",
               sp.Matrix([u**2 * ENjj - e_B, u**2 * ENjk - e_B]),
               f"E[N_j²] = {ENjj}, E[N_jN_k] = {ENjk}, P(j ∈ S_i ∩ S_i') = {both}, P(j ∈ S_i, k ∈ S_i') = {cross}",
               reach=GENERAL)
    D.bound("(14) under (23): the stated θ against the smallest θ* (E[B̄L̄B̄] = θ*W̄, L̄ ≻ 0)", "(14)", theta,
            theta_star, valid_if=">=", reach=GENERAL)
    D.symbolic("(16)/(25) at γ = 1/θ: 1 − γλ_min(L̄^{-1/2}W̄L̄^{-1/2}) = 1 − e/θ = 0 (W̄ = e·L̄, every n)", "(16)",
               1 - e_B / theta, f"θ = {theta}, e = {e_B}", reach=GENERAL)

    # evidence: the engine with symbolic L_i at n = d = 2, 3; floats at n = d ∈ {2, 3, 4, 6}
    for nn in (2, 3):
        EB, BLB, Wn, Lbar = _precond_symbolic(nn, precond_scale)
        D.symbolic(f"(23), n = d = {nn}, engine (symbolic L_i): E[B̄] = I, W̄ = L̄, E[B̄L̄B̄] = θ*W̄", "(23)",
                   sp.Matrix.vstack(EB - sp.eye(nn), Wn - Lbar, BLB - theta_star.subs(n, nn) * Wn),
                   f"θ* = {theta_star.subs(n, nn)}", reach=at(n=nn, d=nn), role="evidence")
    rows, ok = [], True
    for nn, kap, err, th, lam in _precond_numeric():
        t_star = float(theta_star.subs(n, nn))
        rate = 1 - lam / t_star
        ok = ok and err < 1e-10 and abs(th - t_star) < 1e-9 and abs(rate) < 1e-9 and (nn - 1) > 1 / kap**2
        rows.append(f"n={nn}: κ={kap:.3g}, Perm-1 ω={nn - 1} > 1/κ²={1 / kap**2:.2g}; (23): θ*={th:.6g}, "
                    f"rate {rate:.1g}")
    D.numeric("(23) on heterogeneous instances, n = d ∈ {2, 3, 4, 6} (floats): W̄ = E[B̄L̄B̄] = L̄, θ* = 1, rate 0 "
              "at γ = 1", "(14)", ok, "; ".join(rows), role="evidence")
    D.latex["threshold"] = sp.latex(threshold)
    return D
