"""§4.3: earlier IST theory needs ``ω ≲ μ²/L²``; Theorem 1 with (23) needs nothing of the kind.

With ``μ = λ_min``, ``L = λ_max``, ``κ = L/μ ≥ 1``, the condition read with
constant 1 is ``ω ≤ 1/κ² ≤ 1``.

* Perm-q: ``ω = n − 1``. Writing ``n = 2 + m``, ``κ = 1 + t`` (``m, t ≥ 0``),
  ``ω − 1/κ² = m + t(t + 2)/(1 + t)² ≥ 0``, zero only at ``m = t = 0``: the
  condition holds only for ``n = 1`` (no sketching), or ``n = 2`` with ``κ = 1``.
* Rand-q: ``ω = d/q − 1`` is decreasing in ``q`` and
  ``ω ≤ 1/κ² ⇔ q ≥ dκ²/(1 + κ²)``, and ``dκ²/(1 + κ²) − d/2 = d(κ² − 1)/(2(κ² + 1)) ≥ 0``:
  each client keeps at least half of the coordinates, and ``q → d`` as ``κ → ∞``
  ("almost no sparsification").
* Contrast: with the preconditioned sketches (23), ``E[B̄] = I``, ``W̄ = L̄`` and
  ``E[B̄L̄B̄] = L̄ = θW̄`` with ``θ = 1`` for every ``n = d`` (so (14) is tight at
  ``θ = 1``) and the contraction factor of (16) at ``γ = 1/θ`` is
  ``1 − λ_min(L̄^{-1/2}W̄L̄^{-1/2}) = 0``, whatever ``κ``.

(With a hidden constant, ``ω ≤ c/κ²``, Perm-q still needs ``n ≤ 1 + c/κ²``:
bounded ``n``, and ``n = 1`` once ``κ² > c``.)
"""

from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp

from ..generators import heterogeneous
from ..moments import SketchMoments
from ..sketches import PreconditionedPerm
from ..symbolic import moments as MM
from ..symbolic.inclusion import UniformPartition, d, n, q
from .base import Derivation, stack, symbolic_expectation, symmetric_matrix
from .def1 import OMEGA_PERM, OMEGA_RAND

kappa = sp.Symbol("kappa", positive=True)
THRESHOLD = d * kappa**2 / (1 + kappa**2)
THETA = sp.Integer(1)


@cache
def _precond_symbolic(nn: int) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix, sp.Matrix]:
    """(E[B̄], E[B̄L̄B̄], W̄, L̄) for (23) with symbolic ``L_i`` (positive diagonals), n = d = nn; computed once."""
    Ls = []
    for i in range(nn):
        L = symmetric_matrix(f"L{i}", nn)
        Ls.append(L.subs({L[j, j]: sp.Symbol(f"L{i}_{j}{j}", positive=True) for j in range(nn)}))
    T = np.array([[sp.sqrt(nn) / sp.sqrt(Ls[i][j, j]) for j in range(nn)] for i in range(nn)], dtype=object)
    carrier = PreconditionedPerm(nn, nn, np.ones((nn, nn)))  # supplies the inclusion model; scales are T
    EB = sp.Matrix(symbolic_expectation(MM.B, carrier, [stack(Ls)], scale=T).tolist()) / nn
    Lbar = sum(Ls, sp.zeros(nn, nn)) / nn
    W = (Lbar * EB + EB * Lbar) / 2
    BLB = sp.Matrix(symbolic_expectation(MM.BMB, carrier, [stack(Ls), np.array(Lbar.tolist(), dtype=object),
                                                            stack(Ls)], scale=T).tolist()) / nn**2
    return EB.applyfunc(sp.simplify), BLB.applyfunc(sp.simplify), W.applyfunc(sp.simplify), Lbar


@cache
def _precond_numeric() -> tuple[tuple[int, float, float, float, float], ...]:
    """Per n = d ∈ {2, 3, 4, 6}: (n, κ, relative ‖W̄ − L̄‖, ‖E[B̄L̄B̄] − L̄‖ max, θ*, λ_min(L̄^{-1/2}W̄L̄^{-1/2})),
    on heterogeneous instances with (23) built from the problem."""
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
           theta: sp.Expr = THETA) -> Derivation:
    """§4.3 with Perm-q ``ω = omega_perm`` (n − 1), Rand-q ``ω = omega_rand`` (d/q − 1), the Rand-q
    threshold ``q ≥ threshold`` (dκ²/(1+κ²)) and θ of (14) under (23) (1)."""
    D = Derivation("§4.3 comparison with earlier IST theory", ("(14)", "(16)", "(23)", "§4.3"),
                   constants={"omega_perm": omega_perm, "omega_rand": omega_rand, "threshold": threshold,
                              "theta": theta})
    omega_perm, omega_rand, threshold, theta = (sp.sympify(v) for v in (omega_perm, omega_rand, threshold, theta))
    m, t = sp.symbols("m t", nonnegative=True)  # n = 2 + m, κ = 1 + t

    # ω of the two families from the engine's inclusion probabilities (cf. def1)
    D.symbolic("Perm-q: ω = n²P(j ∈ S_i) − 1 = n − 1", "(7)",
               n**2 * UniformPartition.p_same_expr(1).subs(d, q * n) - 1 - omega_perm)
    D.symbolic("Rand-q: ω = (d/q)²P(j ∈ S) − 1 = d/q − 1", "(4)",
               (d / q) ** 2 * UniformPartition.p_same_expr(1) - 1 - omega_rand)
    inv = 1 / (1 + t) ** 2  # μ²/L² = 1/κ²
    D.symbolic("1 − 1/κ² = t(t + 2)/(1 + t)² (κ = 1 + t)", "§4.3", 1 - inv - t * (t + 2) / (1 + t) ** 2)
    D.symbolic_true("μ²/L² = 1/κ² ≤ 1", "§4.3", sp.Ge(t * (t + 2) / (1 + t) ** 2, 0))

    # Perm-q: ω − 1/κ² = m + t(t+2)/(1+t)² ≥ 0 for n ≥ 2, zero only at n = 2, κ = 1
    cert = m + t * (t + 2) / (1 + t) ** 2
    gap = omega_perm.subs(n, 2 + m) - inv  # ω − μ²/L² for n = 2 + m, κ = 1 + t
    D.symbolic("Perm-q, n = 2 + m: ω − 1/κ² = m + t(t + 2)/(1 + t)²", "§4.3", gap - cert)
    num, den = sp.fraction(sp.together(gap))
    D.symbolic_true("… ≥ 0: ω ≤ μ²/L² fails for every n ≥ 2 except n = 2, κ = 1", "§4.3",
                    sp.Ge(sp.expand(num) / sp.expand(den), 0), f"ω − 1/κ² = ({sp.expand(num)})/({sp.expand(den)})")
    mp, tp = sp.symbols("m_+ t_+", positive=True)
    D.symbolic_true("equality needs m = 0: ω − 1/κ² > 0 for every n = 2 + m with m > 0 (any κ ≥ 1)", "§4.3",
                    sp.Gt(sp.factor(gap.subs(m, mp)), 0), f"ω − 1/κ² = {sp.factor(gap.subs(m, mp))}")
    D.symbolic_true("… and t = 0: at n = 2, ω − 1/κ² > 0 for every κ = 1 + t with t > 0", "§4.3",
                    sp.Gt(sp.factor(gap.subs({m: 0, t: tp})), 0), f"ω − 1/κ² = {sp.factor(gap.subs({m: 0, t: tp}))}")
    D.symbolic("… while n = 2, κ = 1 gives equality ω = 1/κ²", "§4.3", gap.subs({m: 0, t: 0}))
    D.symbolic_true("n = 1: ω = 0 ≤ 1/κ² (no sketching)", "§4.3", sp.Le(omega_perm.subs(n, 1), inv))

    # Rand-q: ω ≤ 1/κ² ⇔ q ≥ dκ²/(1 + κ²) ≥ d/2
    roots = sp.solve(sp.Eq(omega_rand, 1 / kappa**2), q)
    D.symbolic_true("Rand-q: ω = 1/κ² has exactly one root q", "§4.3", sp.Eq(len(roots), 1), f"solved q = {roots}")
    D.symbolic("Rand-q: the root is q = threshold = dκ²/(1 + κ²)", "§4.3",
               roots[0] - threshold if len(roots) == 1 else sp.Integer(1), f"solved q = {roots}, claimed {threshold}")
    D.symbolic_true("ω decreasing in q (dω/dq < 0), so ω ≤ 1/κ² ⇔ q ≥ threshold", "§4.3",
                    sp.Lt(sp.diff(omega_rand, q), 0))
    D.symbolic("threshold − d/2 = d(κ² − 1)/(2(κ² + 1))", "§4.3",
               threshold - d / 2 - d * (kappa**2 - 1) / (2 * (kappa**2 + 1)))
    D.symbolic_true("… ≥ 0 for κ ≥ 1: at least half of the coordinates kept", "§4.3",
                    sp.Ge(sp.expand(d * ((1 + t) ** 2 - 1)) / sp.expand(2 * ((1 + t) ** 2 + 1)), 0))
    D.symbolic("threshold/d → 1 as κ → ∞ (no sparsification for ill-conditioned problems)", "§4.3",
               sp.limit(threshold / d, kappa, sp.oo) - 1)

    # contrast: Theorem 1 with (23): θ = 1 for every n, one-step convergence at γ = 1/θ
    for nn in (2, 3):
        EB, BLB, W, Lbar = _precond_symbolic(nn)
        D.symbolic(f"(23), n = d = {nn}: E[B̄] = I (symbolic L_i)", "(23)", EB - sp.eye(nn))
        D.symbolic(f"(23), n = d = {nn}: W̄ = L̄", "(23)", W - Lbar)
        D.symbolic(f"(23), n = d = {nn}: E[B̄L̄B̄] = θW̄ with θ = 1 ((14) tight, smallest θ)", "(14)",
                   BLB - theta * W, f"θ = {theta}")
    D.symbolic("(16) at γ = 1/θ: 1 − γλ_min(L̄^{-1/2}W̄L̄^{-1/2}) = 1 − 1/θ = 0 (W̄ = L̄)", "(16)", 1 - 1 / theta)
    rows, ok = [], True
    for nn, kap, err, th, lam in _precond_numeric():
        rate = 1 - lam / float(theta)
        ok = ok and err < 1e-10 and abs(th - float(theta)) < 1e-9 and abs(rate) < 1e-9 and (nn - 1) > 1 / kap**2
        rows.append(f"n={nn}: κ={kap:.3g}, Perm-1 ω={nn - 1} > 1/κ²={1 / kap**2:.2g}; (23): θ*={th:.6g}, "
                    f"rate {rate:.1g}")
    D.numeric("(23) on heterogeneous instances: W̄ = E[B̄L̄B̄] = L̄, θ* = θ, rate 0, for every n", "(14)", ok,
              "; ".join(rows))
    D.latex["threshold"] = sp.latex(threshold)
    return D
