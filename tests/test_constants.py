"""SDP constants against eigen-solvers, infeasibility certificates, and Theorem 2's choices."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import given, settings
from hypothesis import strategies as st

from isttheory import generators
from isttheory.bounds import thm2_paper_rhs
from isttheory.constants import (
    SolverOptions,
    contraction,
    optimal_step,
    optimal_step_eigen,
    rate,
    theta_eigen,
    theta_star,
    thm2_best_step,
    thm2_beta,
)
from isttheory.moments import SketchMoments
from isttheory.sketches import Identity, Permutation, PreconditionedPerm, RandQ
from isttheory.testing import problems


def _moments(p, sk):
    mo = SketchMoments(p, sk)
    return mo.W, mo.BLB


@pytest.mark.parametrize("make", [lambda p: Permutation(p.n, p.d), lambda p: RandQ(p.n, p.d, 3),
                                  lambda p: Identity(p.n, p.d), lambda p: Permutation(p.n, p.d, scale=1.5)])
def test_theta_sdp_agrees_with_generalised_eigenvalue(make):
    p = generators.heterogeneous(4, 8, 0.3, seed=5)
    W, Q = _moments(p, make(p))
    r = theta_star(W, Q)
    if r.status == "infeasible":
        assert r.certificate is not None and r.certificate @ W @ r.certificate < 0
        return
    assert r.status == "optimal" and r.agrees and r.trustworthy
    assert r.value == pytest.approx(sla.eigh(Q, W, eigvals_only=True)[-1], rel=1e-6)
    # θ* is the smallest feasible θ: θ*W − Q ⪰ 0 and (θ* − ε)W − Q is not
    th = r.eigen_value
    assert np.linalg.eigvalsh(th * W - Q)[0] >= -1e-8 * th
    assert np.linalg.eigvalsh((th * (1 - 1e-4)) * W - Q)[0] < 0


def test_identity_theta_is_lambda_max():
    p = generators.heterogeneous(3, 6, 0.5, seed=1)
    W, Q = _moments(p, Identity(3, 6))
    assert theta_star(W, Q).eigen_value == pytest.approx(p.eigvals_L_bar[-1], rel=1e-10)
    assert rate(W, p.L_bar) == pytest.approx(p.eigvals_L_bar[0], rel=1e-10)


def test_remark1_is_infeasible_with_certificate():
    p = generators.remark1()
    W, Q = _moments(p, Permutation(2, 2))
    r = theta_star(W, Q)
    assert r.value is None and r.status == "infeasible" and r.agrees
    v = r.certificate
    assert v @ W @ v < 0 and v @ Q @ v >= 0
    for theta in (1e-3, 1.0, 1e3, 1e6):
        assert v @ (theta * W - Q) @ v < 0


def test_singular_W_with_Q_outside_range_is_infeasible():
    W = np.diag([1.0, 0.0])
    Q = np.array([[1.0, 0.5], [0.5, 1.0]])
    th, cert, status = theta_eigen(W, Q)
    assert th is None and status.startswith("infeasible") and cert @ Q @ cert > 0 and abs(cert @ W @ cert) < 1e-12


def test_asymmetric_input_is_symmetrised():
    p = generators.heterogeneous(4, 8, 0.3, seed=5)
    W, Q = _moments(p, Permutation(4, 8))
    skew = np.triu(np.ones_like(W)) * 1e-3
    skew = skew - skew.T
    a, b = theta_star(W + skew, Q), theta_star(W, Q)
    assert a.value == pytest.approx(b.value, rel=1e-6)


@settings(max_examples=8, deadline=None)
@given(p=problems(n=3, d=6), form=st.sampled_from(["sgd", "ist"]))
def test_optimal_step_lmi_agrees_with_brent(p, form):
    mo = SketchMoments(p, Permutation(3, 6))
    A0, Wf = (None, mo.W) if form == "sgd" else (mo.PMP(p.L_bar), 0.5 * (mo.PMB(p.L_bar) + mo.PMB(p.L_bar).T))
    r = optimal_step(p.L_bar, Wf, mo.BLB, A0=A0)
    assert r.status == "optimal" and r.agrees
    g, rho = optimal_step_eigen(p.L_bar, Wf, mo.BLB, A0)
    # the optimum is a minimum: nearby steps are no better
    for dg in (-1e-3, 1e-3):
        assert contraction(max(g + dg * g, 0), p.L_bar, Wf, mo.BLB, A0) >= rho - 1e-12
    assert 0 <= rho <= 1 + 1e-12  # ρ = 1 at γ = 0 (W̄ indefinite, Remark 1) comes out 1 + O(ε)


def test_precond_optimal_step_is_one_with_zero_contraction():
    """(25): under (23), γ = 1 gives contraction factor 0."""
    p = generators.heterogeneous(4, 4, 0.8, seed=0)
    W, Q = _moments(p, PreconditionedPerm.from_problem(p))
    g, rho = optimal_step_eigen(p.L_bar, W, Q)
    assert g == pytest.approx(1.0, abs=1e-6) and rho == pytest.approx(0.0, abs=1e-9)


def test_contraction_matches_exact_worst_case_over_x():
    """ρ(γ) = max_x E‖x⁺‖²_L̄/‖x‖²_L̄, checked by enumerating the support on random x."""
    p = generators.interpolation(2, 4, 0.5, seed=3)
    sk = Permutation(2, 4)
    W, Q = _moments(p, sk)
    gamma = 0.05
    rho = contraction(gamma, p.L_bar, W, Q)
    sup = sk.support()
    C = sup.draw.dense(4)
    B = np.einsum("knij,njl,knlm->kim", C, np.asarray(p.L), C) / 2
    A = np.eye(4) - gamma * B
    E = np.einsum("k,kji,jl,klm->im", sup.probs, A, p.L_bar, A)
    worst = sla.eigh(E, p.L_bar, eigvals_only=True)[-1]
    assert rho == pytest.approx(worst, rel=1e-10)


def test_thm2_beta_and_best_step():
    for g in (0.1, 0.5, 0.9):
        b = thm2_beta(g)
        assert g == pytest.approx((0.5 - b) / (b + 0.5))  # (29) holds with equality at the best β
        # oracle: (30) as printed for any admissible β; the lemma file states it with the best β
        vals = [2 / (g * 10) + (2 * (1 - g) / bb + g) + g for bb in np.linspace(1e-3, b, 50)]
        assert thm2_paper_rhs(g, 10, 1.0, 1.0, 1.0) == pytest.approx(min(vals), rel=1e-12)
    g, _ = thm2_best_step(100, 2.0, 0.1, 0.5)
    grid = np.linspace(1e-3, 0.999, 2000)
    best = grid[np.argmin([thm2_paper_rhs(x, 100, 2.0, 0.1, 0.5) for x in grid])]
    assert g == pytest.approx(best, abs=2e-3)
    gc, _ = thm2_best_step(100, 2.0, 0.1, 0.5, corrected=True)
    assert gc == pytest.approx(min(1.0, np.sqrt(2 * 2.0 / (100 * 0.5))))


def test_solver_failure_is_surfaced_not_swallowed():
    p = generators.heterogeneous(4, 8, 0.3, seed=5)
    W, Q = _moments(p, Permutation(4, 8))
    r = theta_star(W, Q, SolverOptions(solver="NO_SUCH_SOLVER", fallback=None))
    assert r.status.startswith("failed") and r.value is None and not r.trustworthy


def test_solver_statuses_are_a_type() -> None:
    """Statuses are :class:`SolveStatus` members (a StrEnum: JSON and tables show the value), never free text
    tested with ``startswith``; the eigen answer of (14) says why it is infeasible."""
    from isttheory.constants import SolveStatus

    W = np.diag([1.0, -1.0])
    th, cert, status = theta_eigen(W, np.eye(2))
    assert th is None and status is SolveStatus.INFEASIBLE_W_NOT_PSD and status.infeasible
    assert status.reason == "W is not PSD" and str(status) == "infeasible: W is not PSD"
    r = theta_star(W, np.eye(2))
    assert r.status is SolveStatus.INFEASIBLE and r.message.startswith("infeasible: W is not PSD; solver says")
    assert theta_eigen(np.eye(2), np.eye(2))[2] is SolveStatus.OPTIMAL and not SolveStatus.OPTIMAL.infeasible
