"""Fixed points x^∞ = E[B̄]⁻¹E[(Cb)‾] and the exact condition h = 0."""

from __future__ import annotations

import numpy as np
import sympy as sp

from isttheory import generators
from isttheory.derivations.base import symmetric_matrix, vector
from isttheory.fixedpoint import bias_operator, symbolic_fixed_point, unbiased_subspace
from isttheory.moments import SketchMoments
from isttheory.problem import QuadraticProblem
from isttheory.simulate import simulate
from isttheory.sketches import Permutation, PreconditionedPerm


def test_bias_operator_reproduces_h():
    p = generators.heterogeneous(4, 8, 0.6, seed=1)
    sk = Permutation(4, 8)
    np.testing.assert_allclose(bias_operator(p, sk) @ p.b.ravel(), SketchMoments(p, sk).h, atol=1e-12)


def test_unbiased_subspace_is_exactly_the_zero_bias_set():
    p = generators.heterogeneous(3, 3, 0.7, seed=2)
    sk = PreconditionedPerm.from_problem(p)
    U = unbiased_subspace(p, sk)
    assert U.shape == (9, 6)  # rank of Φ is d = 3
    rng = np.random.default_rng(0)
    b0 = (U @ rng.standard_normal(U.shape[1])).reshape(3, 3)
    q0 = QuadraticProblem(p.L, b0)
    assert np.abs(SketchMoments(q0, PreconditionedPerm.from_problem(q0)).h).max() < 1e-12
    b1 = b0 + 0.1 * rng.standard_normal((3, 3))
    q1 = QuadraticProblem(p.L, b1)
    assert np.abs(SketchMoments(q1, PreconditionedPerm.from_problem(q1)).h).max() > 1e-3


def test_zero_bias_fixed_point_is_reached_by_the_method():
    """With b in the unbiased subspace (h = 0), Monte Carlo E‖x^k − x*‖²_L̄ approaches the pure-noise
    level γσ²/(2−γ) of the corrected Theorem 2 (within 5 standard errors), not a bias floor."""
    p = generators.heterogeneous(3, 3, 0.7, seed=2)
    U = unbiased_subspace(p, PreconditionedPerm.from_problem(p))
    q0 = QuadraticProblem(p.L, (U[:, 0] * 3).reshape(3, 3))
    sk = PreconditionedPerm.from_problem(q0)
    sigma2, gamma = SketchMoments(q0, sk).sigma2_at_x_star, 0.5
    m = simulate(q0, sk, gamma, 60, runs=400, seed=1).metrics["dist2_L"]
    assert abs(m.mean[-1] - gamma * sigma2 / (2 - gamma)) <= 5 * m.sem[-1]


def test_symbolic_fixed_point_of_perm1_is_bbar_over_n_dbar():
    Ls = [symmetric_matrix(f"L{i}", 3) for i in range(3)]
    bs = [vector(f"b{i}", 3) for i in range(3)]
    EB, Ec, x_inf = symbolic_fixed_point(Permutation(3, 3), Ls, bs)
    assert EB.is_diagonal()
    for j in range(3):
        bbar = sum(b[j] for b in bs) / 3
        Dbar = sum(L[j, j] for L in Ls) / 3
        assert sp.simplify(x_inf[j] - bbar / (3 * Dbar)) == 0


def test_symbolic_fixed_point_non_diagonal_case_solves():
    Ls = [symmetric_matrix("L", 4)] * 2
    bs = [vector("b", 4)] * 2
    EB, Ec, x_inf = symbolic_fixed_point(Permutation(2, 4), Ls, bs)
    assert not EB.is_diagonal()
    assert (EB * x_inf - Ec).applyfunc(sp.simplify) == sp.zeros(4, 1)
