"""§4 homogeneous case (31): scaled Perm-1 on the preconditioned homogeneous problem.

``L_i ≡ L``, ``b_i ≡ b``; change of variables ``x̃ = D^{1/2}x`` gives
``L̃ = D^{-1/2}LD^{-1/2}`` (``Diag(L̃) = I``) and ``b̃ = D^{-1/2}b``. With the
scaled Perm-1 ``C_i = s e_{π_i}e_{π_i}ᵀ`` (paper: ``s = √n``), on *every* draw

    B̄ = (1/n) Σ_i s² L̃_{π_iπ_i} e_{π_i}e_{π_i}ᵀ = (s²/n) Diag(L̃) = (s²/n) I,   (Cb)‾ = (s/n) b̃,

so for ``s = √n``: ``g = x − b̃/√n`` exactly, ``σ² = 0``, fixed point
``x^∞ = b̃/√n`` (in general ``b̃/s``). With ``x* = L̃⁻¹b̃``,
``L̃h = L̃(x* − x^∞) = −(1/√n)(L̃ − √n I) b̃``, so (``L̃ ≻ 0``)

    h = 0  ⇔  L̃b̃ = √n b̃  ⇔  b̃ = 0 or b̃ is an eigenvector of L̃ with eigenvalue √n
           (equivalently of L̃⁻¹ with eigenvalue 1/√n).

Statement (31) is correct (add the trivial case ``b̃ = 0``). It is never
vacuous: ``tr L̃ = n`` and ``√n < n`` for ``n ≥ 2``; ``d = 2``:
``L̃ = [[1, r], [r, 1]]`` has eigenpairs ``(1 ± r, (1, ±1))`` and ``h = 0`` for
``b̃ ≠ 0`` exactly when ``r = ±(√2 − 1)`` with ``b̃ ∝ (1, ±1)``.

Coordinates matter (clarification): the statement is about the iterates
``x̃``. Running the heterogeneous sketch (23) directly on ``(L, b)`` also gives
``B̄ = I`` and ``σ² = 0`` but the fixed point ``x^∞ = b̃/√n`` *in the original
coordinates*, where ``x* = D^{-1/2}L̃⁻¹b̃``: its bias vanishes iff
``L̃⁻¹b̃ = D^{1/2}b̃/√n``, a different condition when ``D ≠ I`` (numeric step).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy as sp

from ..moments import SketchMoments
from ..problem import QuadraticProblem
from ..simulate import simulate
from ..sketches import Permutation, PreconditionedPerm
from ..symbolic import moments as MM
from .base import Derivation, Step, is_zero, stack, symbolic_expectation, vector
from .estimator_bias import N

ZERO = sp.Integer(0)
#: the paper's sketch scale and eigenvalue, √n
SQRT_N = sp.sqrt(N)


def unit_diagonal_matrix(d: int, name: str = "r") -> sp.Matrix:
    """Symbolic symmetric ``L̃`` with unit diagonal and real off-diagonal symbols ``r_jk``."""
    return sp.Matrix(d, d, lambda j, k: sp.Integer(1) if j == k else sp.Symbol(f"{name}_{min(j, k)}{max(j, k)}",
                                                                                 real=True))


def per_draw(Lt: sp.Matrix, bt: sp.Matrix, s: sp.Expr) -> list[tuple[sp.Matrix, sp.Matrix]]:
    """``(B̄, (Cb)‾)`` for every permutation of the scaled Perm-1 with scale ``s`` (homogeneous ``L̃, b̃``)."""
    d = Lt.shape[0]
    n = d
    out = []
    for perm in itertools.permutations(range(d)):
        B, c = sp.zeros(d, d), sp.zeros(d, 1)
        for j in perm:  # each client owns one coordinate; homogeneous, so only the coordinate matters
            C = sp.zeros(d, d)
            C[j, j] = s
            B += C * Lt * C
            c += C * bt
        out.append((B / n, c / n))
    return out


def eigen_instance(n: int = 4, eps: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """A unit-diagonal ``L̃ ≻ 0`` (n×n) with eigenpair ``(√n, 1)``: equicorrelation
    ``ρ = (√n − 1)/(n − 1)`` plus ``eps·E`` with ``E`` symmetric, zero diagonal and zero row sums."""
    rho = (math.sqrt(n) - 1) / (n - 1)
    C = np.roll(np.eye(n), 1, axis=1)  # cyclic shift
    E = (C + C.T) - (C @ C + (C @ C).T)  # symmetric, zero diagonal (n ≥ 3), zero row sums
    Lt = (1 - rho) * np.eye(n) + rho * np.ones((n, n)) + eps * E
    np.fill_diagonal(Lt, 1.0)
    return Lt, np.ones(n)


def derive(scale: sp.Expr = SQRT_N, eigenvalue: sp.Expr = SQRT_N, sigma2: sp.Expr = ZERO, n: int = 3) -> Derivation:
    """Check (31) with the sketch scale ``s`` (paper: ``√n``), the claimed eigenvalue of ``L̃`` for
    ``h = 0`` (paper: ``√n``, i.e. ``1/√n`` for ``L̃⁻¹``) and the claimed ``σ²`` (paper: 0)."""
    D = Derivation("§4 homogeneous bias", ("(31)",),
                   constants={"scale": scale, "eigenvalue": eigenvalue, "sigma2": sigma2})
    d = n
    s = sp.sympify(scale).subs(N, n)
    lam = sp.sympify(eigenvalue).subs(N, n)
    Lt, bt, x = unit_diagonal_matrix(d), vector("bt", d), vector("x", d)
    rootn = sp.sqrt(n)

    # every draw: B̄ = I, (Cb)‾ = b̃/√n, g = x − b̃/√n (n! permutations, symbolic L̃ and b̃)
    draws = per_draw(Lt, bt, s)
    D.symbolic(f"B̄ = (1/n)Σ C_i L̃ C_i = Diag(L̃) = I on every draw ({len(draws)} permutations)", "(31)",
               sp.Matrix.vstack(*[B - sp.eye(d) for B, _ in draws]), f"scale s = {s}")
    D.symbolic("(Cb)‾ = (1/n)Σ C_i b̃ = b̃/√n on every draw", "(31)",
               sp.Matrix.vstack(*[c - bt / rootn for _, c in draws]), f"scale s = {s}")
    D.symbolic("g = B̄x − (Cb)‾ = x − b̃/√n on every draw", "(31)",
               sp.Matrix.vstack(*[B * x - c - (x - bt / rootn) for B, c in draws]), f"scale s = {s}")
    # for a general scale ς: B̄ = (ς²/n) I, (Cb)‾ = (ς/n) b̃, fixed point b̃/ς (e.g. b̃/n for ς = n)
    vs = sp.Symbol("varsigma", positive=True)
    gen = per_draw(Lt, bt, vs)
    D.symbolic("any scale ς: B̄ = (ς²/n)I, (Cb)‾ = (ς/n)b̃ on every draw, so x^∞ = b̃/ς", "(31)",
               sp.Matrix.vstack(*[sp.Matrix.vstack((B - vs**2 / n * sp.eye(d)).reshape(d * d, 1), c - vs / n * bt)
                                  for B, c in gen]))

    # engine: E[B̄], E[(Cb)‾] with the scale table of the sketch
    sk = Permutation(n, d)
    T = np.full((n, d), s, dtype=object)
    EB = sp.Matrix(symbolic_expectation(MM.B, sk, [stack([Lt] * n)], scale=T).tolist()) / n
    ECb = sp.Matrix(symbolic_expectation(MM.CB, sk, [np.array([list(bt)] * n, dtype=object)], scale=T).tolist()) / n
    D.symbolic("engine: E[B̄] = I and E[(Cb)‾] = b̃/√n", "(31)",
               sp.Matrix.vstack((EB - sp.eye(d)).reshape(d * d, 1), ECb - bt / rootn), f"scale s = {s}")

    # σ² = E‖g − E g‖²_{L̃} over the n! equally likely draws
    gs = [B * x - c for B, c in draws]
    Eg = sum(gs, sp.zeros(d, 1)) / len(gs)
    var = sum((((gk - Eg).T * Lt * (gk - Eg))[0] for gk in gs), ZERO) / len(gs)
    D.symbolic("σ² = E‖g − E g‖²_{L̃} equals the claimed value", "(31)", var - sigma2, f"claimed σ² = {sigma2}")

    # h = x* − x^∞ = L̃⁻¹b̃ − b̃/√n: L̃h = −(1/√n)(L̃ − λI)b̃ (no inverse needed)
    Lh = bt - Lt * bt / rootn
    D.symbolic("L̃h = b̃ − L̃b̃/√n = −(1/√n)(L̃ − λI)b̃, so h = 0 ⇔ L̃b̃ = λb̃ (L̃ ≻ 0)", "(31)",
               Lh + (Lt - lam * sp.eye(d)) * bt / rootn, f"λ = {lam}")

    # d = 2 example, n = d = 2: L̃ = [[1, r], [r, 1]]; everything through L̃h = b̃ − L̃x^∞ (no inverse of L̃)
    r, t, u, v = sp.symbols("r t u v", real=True)
    L2 = sp.Matrix([[1, r], [r, 1]])
    lam2 = sp.sympify(eigenvalue).subs(N, 2)
    s2 = sp.sympify(scale).subs(N, 2)  # x^∞ = b̃/ς (the "any scale" step)
    D.symbolic("d = 2: L̃(1, ±1) = (1 ± r)(1, ±1)", "(31)",
               sp.Matrix.vstack(L2 * sp.Matrix([1, 1]) - (1 + r) * sp.Matrix([1, 1]),
                                L2 * sp.Matrix([1, -1]) - (1 - r) * sp.Matrix([1, -1])))
    b2 = sp.Matrix([t, t])
    Lh2 = b2 - L2 * b2 / s2  # L̃h for b̃ = t(1, 1)
    roots = sp.solve(Lh2[0] / t, r)
    D.symbolic_true("d = 2, b̃ = t(1, 1), t ≠ 0: L̃h = 0 has exactly one solution r", "(31)", sp.Eq(len(roots), 1),
                    f"solutions r = {roots}")
    D.symbolic("… and it is r = λ − 1 (1 + r = λ: b̃ is an eigenvector for the claimed λ)", "(31)",
               roots[0] - (lam2 - 1) if len(roots) == 1 else sp.Integer(1),
               f"solutions r = {roots}, claimed λ − 1 = {lam2 - 1}")
    D.symbolic("(⇐) r = λ − 1 and b̃ = t(1, 1) give L̃h = 0, hence h = 0 (L̃ ≻ 0, next steps)", "(31)",
               Lh2.subs(r, lam2 - 1))
    bg = sp.Matrix([u, v])
    Lhg = bg - L2 * bg / s2
    sols = sp.solve(list(Lhg), [v, r], dict=True)  # u ≠ 0 a parameter
    ok = len(sols) == 2 and all(is_zero((L2.subs(so) - lam2 * sp.eye(2)) * bg.subs(so)) for so in sols)
    ok = ok and all(is_zero((so[r] - (lam2 - 1)) * (so[r] + (lam2 - 1))) for so in sols)
    D.steps.append(Step("(⇒) d = 2, b̃ = (u, v), u ≠ 0: every solution of L̃h = 0 has L̃b̃ = λb̃, r = ±(λ − 1)",
                        "(31)", "fixed-size", ok, f"{len(sols)} solutions: {sols}", sizes="d=2"))
    D.symbolic_true("d = 2: L̃ = [[1, r], [r, 1]] ≻ 0 at r = ±(λ − 1), i.e. |λ − 1| < 1", "(31)",
                    sp.Lt(sp.Abs(lam2 - 1), 1), f"λ = {lam2}")
    # feasibility for every n ≥ 2 (n = 2 + m): a unit-diagonal L̃ ≻ 0 has tr L̃ = n and eigenvalues in (0, n),
    # so the claimed λ must satisfy 0 < λ < n; both sides positive, so λ < n ⇔ n² − λ² > 0
    mm = sp.Symbol("m", nonnegative=True)
    lam_n = sp.sympify(eigenvalue).subs(N, 2 + mm)
    D.symbolic_true("feasible for every n = 2 + m ≥ 2: tr L̃ = n, and 0 < λ < n (λ > 0, n² − λ² > 0)", "(31)",
                    sp.And(sp.Gt(lam_n, 0), sp.Gt(sp.expand((2 + mm) ** 2 - lam_n**2), 0)),
                    f"λ = {lam_n}, n² − λ² = {sp.expand((2 + mm) ** 2 - lam_n**2)}")

    # numeric, n = d = 4: L̃ with eigenpair (√n, 1); h = 0 for that b̃, h ≠ 0 for a generic b̃; σ² = 0
    n4 = 4
    s4 = float(sp.sympify(scale).subs(N, n4))
    lam4 = float(sp.sympify(eigenvalue).subs(N, n4))
    Lt4, b4 = eigen_instance(n4)
    ev = np.linalg.eigvalsh(Lt4)
    rq = float(b4 @ Lt4 @ b4 / (b4 @ b4))
    resid = float(np.linalg.norm(Lt4 @ b4 - rq * b4))
    D.numeric("instance: Diag(L̃) = I, L̃ ≻ 0, L̃b̃ = λb̃ with the claimed λ (n = d = 4)", "(31)",
              bool(np.allclose(np.diag(Lt4), 1.0)) and ev[0] > 0 and resid <= 1e-12 and abs(rq - lam4) <= 1e-12,
              f"eigenvalues {np.round(ev, 4).tolist()}, Rayleigh quotient of b̃ {rq:.6g}, claimed λ = {lam4:.6g}")
    sk4 = Permutation(n4, n4, scale=s4)
    s2 = float(sp.sympify(sigma2).subs(N, n4))
    p_eig = QuadraticProblem(np.broadcast_to(Lt4, (n4, n4, n4)), np.broadcast_to(b4, (n4, n4)))
    mo = SketchMoments(p_eig, sk4)
    rng = np.random.default_rng(3)
    bgen = rng.standard_normal(n4)
    p_gen = QuadraticProblem(np.broadcast_to(Lt4, (n4, n4, n4)), np.broadcast_to(bgen, (n4, n4)))
    mg = SketchMoments(p_gen, sk4)
    D.numeric("SketchMoments: x^∞ = b̃/√n; h = 0 for the eigenvector b̃, h ≠ 0 for a generic b̃", "(31)",
              float(np.abs(mo.x_inf - b4 / 2).max()) <= 1e-12 and float(np.linalg.norm(mo.h)) <= 1e-12
              and float(np.linalg.norm(mg.h)) > 1e-3,
              f"‖h‖ = {np.linalg.norm(mo.h):.2g} (eigenvector), {np.linalg.norm(mg.h):.4g} (generic b̃), "
              f"‖x^∞ − b̃/√n‖_∞ = {np.abs(mo.x_inf - b4 / 2).max():.2g}")
    D.numeric("SketchMoments: the fixed point is b̃/s for the sketch's scale s (both instances)", "(31)",
              float(np.abs(mo.x_inf - b4 / s4).max()) <= 1e-12 and float(np.abs(mg.x_inf - bgen / s4).max()) <= 1e-12,
              f"s = {s4:.6g}: ‖x^∞ − b̃/s‖_∞ = {np.abs(mo.x_inf - b4 / s4).max():.2g}, "
              f"{np.abs(mg.x_inf - bgen / s4).max():.2g}")
    D.numeric("SketchMoments: σ² at x* equals the claimed value (both instances)", "(31)",
              abs(mo.sigma2_at_x_star - s2) <= 1e-10 and abs(mg.sigma2_at_x_star - s2) <= 1e-10,
              f"σ² = {mo.sigma2_at_x_star:.2g}, {mg.sigma2_at_x_star:.2g}; claimed {s2}")
    gam, K = 0.5, 12
    res = simulate(p_gen, sk4, gam, K, runs=4, seed=5, record=[K], x0=np.zeros(n4))
    det = (1 - (1 - gam) ** K) * bgen / math.sqrt(n4)
    sem = res.metrics["f"].sem
    if sem is None:  # the simulator reports no standard error for a single run
        raise ValueError("simulate(runs=4) returned no standard error")
    spread = float(sem.max())
    D.numeric("simulator: all runs coincide (σ² = 0) and follow x^k = (1 − (1−γ)^k) b̃/√n", "(31)",
              spread <= 1e-14 and float(np.abs(res.x_mean[0] - det).max()) <= 1e-12,
              f"s.e. of f(x^K) over 4 runs {spread:.2g}, ‖x̄^K − closed form‖_∞ = "
              f"{np.abs(res.x_mean[0] - det).max():.2g} (K = {K}, γ = {gam})")

    # clarification: sketch (23) applied to the original (L, b) is not the change of variables
    Dg = np.array([1.0, 2.0, 0.5, 3.0])
    Lo = np.sqrt(Dg)[:, None] * Lt4 * np.sqrt(Dg)[None, :]
    bo = np.sqrt(Dg) * b4
    p_orig = QuadraticProblem(np.broadcast_to(Lo, (n4, n4, n4)), np.broadcast_to(bo, (n4, n4)))
    mp = SketchMoments(p_orig, PreconditionedPerm.from_problem(p_orig))
    x_cv = (b4 / math.sqrt(n4)) / np.sqrt(Dg)  # x = D^{-1/2} x̃^∞ from the change of variables
    D.numeric("(23) on (L, b): B̄ = I, σ² = 0, x^∞ = b̃/√n in x-coordinates ≠ D^{-1/2}b̃/√n; biased although "
              "the change of variables is not", "(31)",
              float(np.abs(mp.expected_B - np.eye(n4)).max()) <= 1e-12 and mp.sigma2_at_x_star <= 1e-12
              and float(np.abs(mp.x_inf - b4 / math.sqrt(n4)).max()) <= 1e-12
              and float(np.abs(p_orig.x_star - x_cv).max()) <= 1e-12 and float(np.linalg.norm(mp.h)) > 1e-3,
              f"D = {Dg.tolist()}: ‖h‖ = {np.linalg.norm(mp.h):.4g} under (23); x* = D^(-1/2)x̃* matches the "
              f"change-of-variables fixed point to {np.abs(p_orig.x_star - x_cv).max():.2g}")
    D.latex["x_inf"] = r"\tilde b/" + sp.latex(scale)
    D.latex["condition"] = r"\tilde L\tilde b = " + sp.latex(eigenvalue) + r"\,\tilde b"
    return D
