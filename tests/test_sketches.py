"""Each sketch's closed-form moments against exact enumeration of its support,
its stated flags against the enumeration, and its sampler against both."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isttheory import generators
from isttheory.errors import EnumerationTooLargeError, IncompatibleSketchError, SketchError, SketchSpecError
from isttheory.sketches import (
    FiniteSketch,
    Identity,
    IndexDraw,
    PermBlocks,
    PermClients,
    Permutation,
    PreconditionedPerm,
    RandQ,
    parse_sketch,
)
from isttheory.testing import problems, sketches
from tests.conftest import random_spd

ATOL = 1e-12  # closed form vs enumeration: both exact up to summation round-off


def _precond(n, variant="diagonal"):
    return PreconditionedPerm.from_problem(generators.heterogeneous(n, n, 0.7, seed=5), variant)


def _finite(n=2, d=3, k=4, seed=0):
    rng = np.random.default_rng(seed)
    table = random_spd(rng, d, k * n).reshape(k, n, d, d)
    p = rng.random(k)
    return FiniteSketch(p / p.sum(), table)


CASES = {
    "identity": lambda: Identity(2, 3),
    "rand-2-of-4": lambda: RandQ(2, 4, 2),
    "rand-1-of-3": lambda: RandQ(3, 3, 1),
    "rand-full": lambda: RandQ(2, 3, 3),
    "perm-q2": lambda: Permutation(2, 4),
    "perm-1": lambda: Permutation(4, 4),
    "perm-n1": lambda: Permutation(1, 3),
    "scaled-perm-1": lambda: Permutation(3, 3, scale=math.sqrt(3)),
    "scaled-perm-q2": lambda: Permutation(2, 4, scale=1.5),
    "blocks-5-2": lambda: PermBlocks(2, 5),
    "blocks-5-3": lambda: PermBlocks(3, 5),
    "blocks-d<n": lambda: PermBlocks(4, 3),
    "blocks-exact": lambda: PermBlocks(2, 4),
    "clients-q2": lambda: PermClients(4, 2),
    "clients-q3": lambda: PermClients(6, 2),
    "clients-q1": lambda: PermClients(3, 3),
    "precond": lambda: _precond(4),
    "precond-printed": lambda: _precond(3, "printed"),
    "finite": lambda: _finite(),
}


def enumerate_moments(sketch, A):
    sup = sketch.support()
    C = sup.draw.dense(sketch.d)  # (K, n, d, d)
    EC = np.einsum("k,knij->nij", sup.probs, C)
    ECAC = np.einsum("k,knij,njl,knlm->nim", sup.probs, C, A, C)
    return sup, C, EC, ECAC


@pytest.fixture(params=sorted(CASES))
def sketch(request):
    return CASES[request.param]()


def test_probabilities_sum_to_one(sketch):
    sup = sketch.support()
    assert np.all(sup.probs >= 0)
    assert sup.probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert sup.probs.size == sketch.support_size()


def test_closed_form_moments_match_enumeration(sketch):
    rng = np.random.default_rng(11)
    A = random_spd(rng, sketch.d, sketch.n)
    _, _, EC, ECAC = enumerate_moments(sketch, A)
    np.testing.assert_allclose(sketch.expected_C(), EC, rtol=0, atol=ATOL)
    np.testing.assert_allclose(sketch.expected_CAC(A), ECAC, rtol=0, atol=ATOL * np.abs(ECAC).max())


def test_flags_match_enumeration(sketch):
    sup, C, EC, _ = enumerate_moments(sketch, np.broadcast_to(np.eye(sketch.d), (sketch.n, sketch.d, sketch.d)))
    unbiased = np.allclose(EC, np.eye(sketch.d), atol=ATOL)
    recon = all(np.allclose(C[k].mean(axis=0), np.eye(sketch.d), atol=ATOL) for k in range(C.shape[0]))
    assert sketch.unbiased == unbiased
    assert sketch.perfect_reconstruction == recon


def test_omega_matches_enumeration(sketch):
    """Def. 1 (3): ω = max_i max_x E‖C_i x − x‖²/‖x‖² for unbiased sketches."""
    sup, C, EC, _ = enumerate_moments(sketch, np.broadcast_to(np.eye(sketch.d), (sketch.n, sketch.d, sketch.d)))
    if not sketch.unbiased:
        assert sketch.omega() is None
        return
    I = np.eye(sketch.d)
    var = np.einsum("k,knji,knjl->nil", sup.probs, C - I, C - I)  # E[(C−I)ᵀ(C−I)]
    assert sketch.omega() == pytest.approx(max(np.linalg.eigvalsh(v)[-1] for v in var), abs=1e-10)


@pytest.mark.parametrize("d,q", [(4, 1), (4, 2), (6, 4), (5, 5)])
def test_rand_q_omega_is_d_over_q_minus_one(d, q):
    sk = RandQ(3, d, q)
    assert sk.omega() == pytest.approx(d / q - 1, abs=1e-12)
    assert sk.omega_stated == d / q - 1


def test_perm_q_omega_is_n_minus_one():
    assert Permutation(3, 6).omega() == pytest.approx(2.0)


def test_samples_lie_in_support_and_match_closed_form(sketch):
    """Monte Carlo: N draws; the sample mean of C_i is within 5 standard errors of
    E[C_i] entrywise (normal approximation; per-entry false-alarm rate 6e-7)."""
    rng = np.random.default_rng(2)
    N = 4000
    draw = sketch.sample(rng, N)
    C = draw.dense(sketch.d)
    outcomes = sketch.support().draw.dense(sketch.d).reshape(sketch.support_size(), -1)
    keys = {o.round(12).tobytes() for o in outcomes}
    assert all(c.round(12).tobytes() in keys for c in C[:200].reshape(200, -1))
    mean = C.mean(axis=0)
    se = C.std(axis=0, ddof=1) / math.sqrt(N)
    assert np.all(np.abs(mean - sketch.expected_C()) <= 5 * se + 1e-12)


def test_sampling_is_sequential(sketch):
    """sample(a) then sample(b) equals sample(a + b): chunking cannot change a run."""
    r1, r2 = np.random.default_rng(9), np.random.default_rng(9)
    a = sketch.sample(r1, 3), sketch.sample(r1, 5)
    b = sketch.sample(r2, 8)
    dense_a = np.concatenate([a[0].dense(sketch.d), a[1].dense(sketch.d)])
    np.testing.assert_array_equal(dense_a, b.dense(sketch.d))


def test_disjoint_and_cover_promises_hold(sketch):
    draw = sketch.sample(np.random.default_rng(4), 50)
    if not isinstance(draw, IndexDraw) or not draw.disjoint:
        return
    for coords in draw.coords:
        flat = coords.ravel()
        assert len(set(flat.tolist())) == flat.size
        if draw.covers:
            assert sorted(flat.tolist()) == list(range(sketch.d))


def test_blocks_reduce_to_perm_q_when_divisible():
    a, b = PermBlocks(2, 6), Permutation(2, 6)
    A = random_spd(np.random.default_rng(0), 6, 2)
    np.testing.assert_allclose(a.expected_CAC(A), b.expected_CAC(A), atol=1e-12)
    assert a.within_paper_hypotheses and not PermBlocks(2, 5).within_paper_hypotheses


def test_precond_gives_identity_expected_B():
    """§3.1.2 (23): E[C̃_i L_i C̃_i] = I for every client, hence E[B̄] = I."""
    p = generators.heterogeneous(5, 5, 0.8, seed=1)
    sk = PreconditionedPerm.from_problem(p)
    np.testing.assert_allclose(sk.expected_CAC(p.L), np.broadcast_to(np.eye(5), (5, 5, 5)), atol=1e-12)
    printed = PreconditionedPerm.from_problem(p, "printed")
    assert not np.allclose(printed.expected_CAC(p.L), np.eye(5), atol=1e-3)


@settings(max_examples=25, deadline=None)
@given(p=problems(n=(1, 3), d=lambda n: [n, 2 * n]), scale=st.none() | st.floats(0.5, 3))
def test_property_perm_q_moments(p, scale):
    sk = Permutation(p.n, p.d, scale=scale)
    A = np.asarray(p.L)
    _, _, EC, ECAC = enumerate_moments(sk, A)
    np.testing.assert_allclose(sk.expected_C(), EC, atol=1e-12)
    np.testing.assert_allclose(sk.expected_CAC(A), ECAC, atol=1e-11)


@settings(max_examples=25, deadline=None)
@given(p=problems(n=(1, 4), d=(1, 5)))
def test_property_blocks_moments(p):
    n, d = p.n, p.d
    sk = PermBlocks(n, d)
    A = np.asarray(p.L)
    _, C, EC, ECAC = enumerate_moments(sk, A)
    np.testing.assert_allclose(EC, np.broadcast_to(np.eye(d), (n, d, d)), atol=1e-12)
    np.testing.assert_allclose(sk.expected_CAC(A), ECAC, atol=1e-11)
    assert np.allclose(C.mean(axis=1), np.eye(d), atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(data=st.data(), p=problems(n=(1, 2), d=(1, 4)))
def test_property_rand_moments(data, p):
    sk = data.draw(sketches(p.n, p.d, ["rand"]))  # Rand-Q with Q in 1..d
    A = np.asarray(p.L)
    _, _, EC, ECAC = enumerate_moments(sk, A)
    np.testing.assert_allclose(sk.expected_C(), EC, atol=1e-12)
    np.testing.assert_allclose(sk.expected_CAC(A), ECAC, atol=1e-11)


def test_enumeration_refuses_huge_support():
    with pytest.raises(EnumerationTooLargeError):
        Permutation(12, 12).support()


@pytest.mark.parametrize("make", [lambda: Permutation(3, 7), lambda: Permutation(4, 2), lambda: PermClients(3, 2),
                                  lambda: RandQ(2, 3, 4), lambda: RandQ(2, 3, 0), lambda: Permutation(2, 4, -1.0)])
def test_incompatible_shapes_raise(make):
    with pytest.raises(IncompatibleSketchError):
        make()


def test_precond_needs_positive_diagonal():
    L = np.zeros((2, 2, 2))
    L[:, 0, 0] = 1.0
    from isttheory.problem import QuadraticProblem

    with pytest.raises(IncompatibleSketchError, match="not positive"):
        PreconditionedPerm.from_problem(QuadraticProblem(L, np.zeros((2, 2))))


def test_finite_sketch_validation():
    t = np.broadcast_to(np.eye(2), (1, 1, 2, 2))
    with pytest.raises(SketchError, match="sum to 1"):
        FiniteSketch(np.array([0.5]), t)
    bad = np.array([[[[1.0, 2.0], [0.0, 1.0]]]])
    with pytest.raises(SketchError, match="symmetric"):
        FiniteSketch(np.array([1.0]), bad)
    neg = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    with pytest.raises(SketchError, match="semidefinite"):
        FiniteSketch(np.array([1.0]), neg)


@pytest.mark.parametrize("spec,cls", [("identity", Identity), ("perm", Permutation), ("scaled-perm", Permutation),
                                      ("scaled-perm:2.5", Permutation), ("precond-perm", PreconditionedPerm),
                                      ("rand:2", RandQ), ("perm-blocks", PermBlocks)])
def test_parse_spec(spec, cls):
    p = generators.heterogeneous(4, 4, 0.5, seed=0)
    sk = parse_sketch(spec, p)
    assert isinstance(sk, cls)
    assert parse_sketch(sk.spec, p).spec == sk.spec
    if spec == "scaled-perm":
        assert sk.scale == pytest.approx(2.0)


@pytest.mark.parametrize("spec", ["bogus", "rand", "rand:x", "rand:1.5", "scaled-perm:-1", "scaled-perm:nan",
                                  "perm:3", "finite:", "identity:2", "__import__('os')"])
def test_parse_spec_rejects(spec):
    with pytest.raises(SketchSpecError):
        parse_sketch(spec, generators.heterogeneous(4, 4, 0.5, seed=0))
