"""The structured theory (:mod:`isttheory.structured_theory`) agrees with the dense path on ``to_dense()``.

Tolerance ``RTOL = 1e-8`` relative (to the largest entry of the dense value): both sides are
double-precision evaluations of the same exact quantity (closed forms against the symbolic engine of
:class:`~isttheory.moments.SketchMoments`; ARPACK at ``tol = 1e-13`` against LAPACK), observed agreement
is ``1e-14``–``1e-16``, and ``1e-8`` leaves room for the condition number of ``L̄`` and ``E[B̄]`` (≤ 1e3 for
these generators) without letting a wrong factor (≥ 1e-2 relative, see the mutation test) through.
"""

from __future__ import annotations

import numpy as np
import pytest

from isttheory import constants
from isttheory.diaglowrank import DiagLowRank, sym_product
from isttheory.errors import IncompatibleSketchError
from isttheory.generators import low_rank_diagonal
from isttheory.moments import SketchMoments
from isttheory.sketches import parse_sketch
from isttheory.structured_theory import StructuredMoments
from isttheory.summary import CONSTANTS_KEYS, constants_summary, structured_constants_summary

RTOL = 1e-8

CASES = [(n, d, cr, spec) for (n, d, cr) in [(5, 5, 0), (7, 7, 2), (16, 16, 1), (64, 64, 0)]
         for spec in ("perm", "scaled-perm", "precond-perm")] + \
        [(n, d, cr, spec) for (n, d, cr) in [(3, 6, 1), (4, 12, 2), (8, 64, 0)] for spec in ("perm", "scaled-perm:2.5")]


def _rel(a: object, b: object) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.finfo(float).tiny, float(np.max(np.abs(b)))))


def _agreement(sm: StructuredMoments, mo: SketchMoments) -> dict[str, float]:
    P = mo.problem
    out = {"E[B]": _rel(sm.expected_B.dense(), mo.expected_B), "E[Cb]": _rel(sm.expected_Cb, mo.expected_Cb),
           "W": _rel(sm.W.dense(), mo.W), "x_inf": _rel(sm.x_inf, mo.x_inf), "h": _rel(sm.h, mo.h),
           "h_norm2_L": _rel(sm.h_norm2_L, mo.h @ P.L_bar @ mo.h),
           "rate": _rel(sm.rate.value, constants.rate(mo.W, P.L_bar))}
    if sm.q == 1:
        out["E[BLB]"] = _rel(sm.BLB_apply(np.eye(sm.d)), mo.BLB)
        out["sigma2"] = _rel(sm.sigma2_at_x_star, mo.sigma2_at_x_star)
    return out


@pytest.mark.parametrize("n,d,client_rank,spec", CASES)
def test_structured_values_agree_with_the_dense_twin(n: int, d: int, client_rank: int, spec: str) -> None:
    p = low_rank_diagonal(n, d, seed=n + d, client_rank=client_rank)
    sk = parse_sketch(spec, p)
    sm, mo = StructuredMoments(p, sk), SketchMoments(p.to_dense(), sk)
    bad = {k: v for k, v in _agreement(sm, mo).items() if not v <= RTOL}
    assert not bad, bad
    assert sm.rate.residual <= RTOL * max(1.0, abs(sm.rate.value)) and sm.rate.none_beyond is True


@pytest.mark.parametrize("spec", ["perm", "scaled-perm", "precond-perm"])
def test_theta_agrees_with_the_sdp_checked_dense_constant(spec: str) -> None:
    """θ* of (14) on operators against ``constants_summary`` (SDP cross-checked with the eigen answer)."""
    p = low_rank_diagonal(12, 12, seed=3, client_rank=1, heterogeneity=0.1)
    sk = parse_sketch(spec, p)
    dense = constants_summary(p.to_dense(), sk)
    struct = structured_constants_summary(p, sk)
    assert set(CONSTANTS_KEYS) <= set(dense) and set(CONSTANTS_KEYS) <= set(struct)
    assert struct["W_psd"] == dense["W_psd"]
    if dense["theta"] is None:
        assert struct["theta"] is None and "theta" in struct["null_reasons"]
    else:
        assert _rel(struct["theta"], dense["theta"]) <= RTOL
    for k in ("rate", "h_norm2_L", "sigma2", "step_paper", "factor_paper"):
        if dense[k] is None:
            assert struct[k] is None
        elif k == "factor_paper":  # 1 − rate/θ: an O(1) difference, exactly 0 under (23): error relative to 1
            assert abs(struct[k] - dense[k]) <= RTOL, k
        else:
            assert _rel(struct[k], dense[k]) <= RTOL, k
    assert struct["sigma2_constant"] == dense["sigma2_constant"]
    for k in CONSTANTS_KEYS:  # a null is never silent
        if struct[k] is None:
            assert k in struct["null_reasons"], k


def test_precond_perm_closed_forms_of_section_4() -> None:
    """(23): ``E[B̄] = I``, θ* = 1, rate = 1 (W̄ = L̄) and (28) ``x^∞ = (1/(n√n)) Σ_i D_i^{-1/2} b_i``."""
    p = low_rank_diagonal(32, 32, seed=5)
    sm = StructuredMoments(p, parse_sketch("precond-perm", p))
    assert _rel(sm.expected_B.diag, np.ones(32)) <= RTOL and sm.expected_B.Y.shape[1] == 0
    theta, _ = sm.theta
    assert theta is not None and abs(theta.value - 1) <= RTOL and abs(sm.rate.value - 1) <= RTOL
    x_inf = (p.b / np.sqrt(p.D)).sum(axis=0) / (32 * np.sqrt(32))
    assert _rel(sm.x_inf, x_inf) <= RTOL


def test_a_wrong_factor_in_the_closed_form_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mutation test: the inclusion probability of a pair (``p₂``) or the ``1/n`` of E[(Cb)‾] off by a
    factor makes the agreement test fail."""
    p = low_rank_diagonal(4, 12, seed=1, client_rank=1)
    sk = parse_sketch("perm", p)
    mo = SketchMoments(p.to_dense(), sk)
    good = StructuredMoments(p, sk)
    assert max(_agreement(good, mo).values()) <= RTOL
    wrong = StructuredMoments(p, sk)
    wrong.p2 *= 1.5  # a wrong factor in E[B̄]'s off-diagonal
    bad = _agreement(wrong, mo)
    assert bad["E[B]"] > 1e-2 and bad["x_inf"] > RTOL
    monkeypatch.setattr(StructuredMoments, "expected_Cb",
                        property(lambda self: self.problem.b.mean(axis=0) * self.scale))  # 1/n dropped
    assert _agreement(StructuredMoments(p, sk), mo)["E[Cb]"] > 1e-2


def test_perm1_second_moments_mutation_is_caught() -> None:
    """Mutation of the table a_ij (a wrong scale) breaks E[B̄L̄B̄] and σ² agreement at n = d."""
    p = low_rank_diagonal(9, 9, seed=2, client_rank=1)
    sk = parse_sketch("scaled-perm", p)
    mo = SketchMoments(p.to_dense(), sk)
    wrong = StructuredMoments(p, sk)
    wrong.scale = float(sk.scale) * 1.01
    bad = _agreement(wrong, mo)
    assert bad["E[BLB]"] > 1e-3 and bad["sigma2"] > 1e-3


def test_diag_low_rank_algebra_against_dense() -> None:
    rng = np.random.default_rng(0)
    d = 9
    X = DiagLowRank(rng.uniform(1, 2, d), rng.standard_normal((d, 2)), np.eye(2))
    Z = DiagLowRank(rng.uniform(-1, 2, d), rng.standard_normal((d, 3)), np.diag([1.0, -2.0, 0.0]))
    P = sym_product(X, Z)
    Xd, Zd = X.dense(), Z.dense()
    assert _rel(P.dense(), (Xd @ Zd + Zd @ Xd) / 2) <= 1e-12
    v = rng.standard_normal(d)
    for op, dense in ((X, Xd), (Z, Zd), (P, P.dense())):
        assert _rel(op.solve(v), np.linalg.solve(dense, v)) <= 1e-9
        assert op.negative_count() == int(np.sum(np.linalg.eigvalsh(dense) < 0))


def test_unsupported_families_are_refused_in_one_line() -> None:
    p = low_rank_diagonal(4, 8, seed=0)
    with pytest.raises(IncompatibleSketchError, match="no structured closed form"):
        StructuredMoments(p, parse_sketch("rand:2", p))
    out = structured_constants_summary(p, parse_sketch("perm", p))
    assert out["theta"] is None and "Perm-1" in out["null_reasons"]["theta"]


@pytest.mark.parametrize("spec", ["perm", "precond-perm"])
def test_blocked_tables_and_AtA_products_match_the_whole_array_formulas(spec: str) -> None:
    """The (23) table and ``a_ij`` built by row blocks equal the whole-array formulas bit for bit; ``AᵀA X`` by
    gemv (few columns) and by gemm (many) agrees with ``Aᵀ(AX)`` to rounding (n = d = 600: three blocks of
    about 1 MB)."""
    import isttheory.structured_theory as st

    p = low_rank_diagonal(600, 600, seed=7)
    sk = parse_sketch(spec, p)
    if spec == "precond-perm":
        assert np.array_equal(sk.table, np.sqrt(600) / np.sqrt(p.D))
    sm = StructuredMoments(p, sk)
    T = np.asarray(sm._T())
    assert np.array_equal(sm.A, (T**2) * p.D / 600)
    rng = np.random.default_rng(0)
    for m in (1, 2, st.GEMV_COLUMNS, st.GEMV_COLUMNS + 2):
        X = rng.standard_normal((600, m))
        ref = sm.A.T @ (sm.A @ X)
        assert _rel(sm._AtA_apply(X), ref) <= 1e-13


def test_precond_table_names_the_first_non_positive_diagonal_entry_in_a_later_block() -> None:
    """The blocked build of (23) names the first non-positive ``(L_i)_jj`` in C order, wherever its block."""
    from types import SimpleNamespace

    from isttheory.sketches.precond import PreconditionedPerm

    D = np.ones((600, 600))
    D[500, 3], D[400, 17], D[400, 20] = -1.0, 0.0, -2.0
    with pytest.raises(IncompatibleSketchError, match=r"\(L_400\)_1717 = 0 is not positive"):
        PreconditionedPerm.from_problem(SimpleNamespace(n=600, d=600, D=D))  # type: ignore[arg-type]
