"""The symbolic engine: inclusion probabilities against brute-force counting,
closed forms against enumeration with symbolic matrix entries (d ≤ 5), and
against Monte Carlo for larger d."""

from __future__ import annotations

import itertools
import math
import zlib

import numpy as np
import pytest
import sympy as sp

from isttheory import generators
from isttheory.moments import SketchMoments
from isttheory.sketches import Identity, PermBlocks, PermClients, Permutation, PreconditionedPerm, RandQ
from isttheory.symbolic import contractions
from isttheory.symbolic.engine import expectation, pattern_weights
from isttheory.symbolic.inclusion import UniformPartition, d, q
from isttheory.symbolic.patterns import lattice, mobius, refines, set_partitions
from tests.test_sketches import CASES

# ---------------------------------------------------------------- patterns


def test_bell_numbers_and_mobius_inversion():
    assert [len(set_partitions(p)) for p in range(6)] == [1, 1, 2, 5, 15, 52]
    for p in range(1, 5):
        parts = set_partitions(p)
        finest = tuple((i,) for i in range(p))
        for s, pairs in lattice(p):
            assert sum(m for _, m in pairs) == (1 if s == finest else 0)
            assert all(refines(t, s) for t, _ in pairs)
        # zeta * mu = delta on intervals
        for a in parts:
            for c in parts:
                if refines(a, c):
                    tot = sum(mobius(a, b) for b in parts if refines(a, b) and refines(b, c))
                    assert tot == (1 if a == c else 0)


# ---------------------------------------------------------------- inclusion probabilities


def _ownership(sketch):
    """All outcomes of the support as 0/1 ownership arrays (K, n, d) with probabilities."""
    sup = sketch.support()
    own = (sup.draw.diagonals(sketch.d) != 0).astype(int)
    return sup.probs, own


@pytest.mark.parametrize("make", [lambda: Permutation(2, 4), lambda: Permutation(3, 6), lambda: Permutation(4, 4),
                                  lambda: RandQ(2, 4, 2), lambda: RandQ(3, 3, 2), lambda: PermBlocks(2, 5),
                                  lambda: PermBlocks(4, 3), lambda: PermClients(4, 2), lambda: PermClients(6, 3),
                                  lambda: Identity(2, 3)])
def test_inclusion_probabilities_match_counting(make):
    sk = make()
    model = sk.inclusion_model()
    probs, own = _ownership(sk)
    coords = range(sk.d)
    for t in range(0, min(sk.d, 4) + 1):
        for U in itertools.combinations(coords, t):
            emp = float(probs @ own[:, 0, list(U)].all(axis=1)) if t else 1.0
            assert float(model.evaluate(model.p_same(t))) == pytest.approx(emp, abs=1e-12)
            break  # exchangeable: one subset per size suffices, checked below for all
    if sk.n < 2:
        return
    for u, v, w in itertools.product(range(3), range(3), range(3)):
        if u + v + w > sk.d:
            continue
        U, V, W = list(range(u)), list(range(u, u + v)), list(range(u + v, u + v + w))
        a = own[:, 0, U + W].all(axis=1) if U + W else np.ones(len(probs), bool)
        b = own[:, 1, V + W].all(axis=1) if V + W else np.ones(len(probs), bool)
        emp = float(probs @ (a & b))
        assert float(model.evaluate(model.p_cross(u, v, w))) == pytest.approx(emp, abs=1e-12), (u, v, w)


def test_uniform_partition_closed_forms_are_falling_factorials():
    for t in range(5):
        assert sp.simplify(UniformPartition.p_same_expr(t) - sp.ff(q, t) / sp.ff(d, t)) == 0
    for u, v in itertools.product(range(3), range(3)):
        expr = UniformPartition.p_cross_expr(u, v, 0)
        assert sp.simplify(expr - sp.ff(q, u) * sp.ff(q, v) / sp.ff(d, u + v)) == 0
    assert UniformPartition.p_cross_expr(1, 0, 1) == 0


# ---------------------------------------------------------------- engine vs enumeration


def _reference(sketch, A, Mat, b, m):
    sup = sketch.support()
    Cs, p = sup.draw.dense(sketch.d), sup.probs
    Bk = np.einsum("knij,njl,knlm->kim", Cs, A, Cs)
    cb = np.einsum("knij,nj->ki", Cs, b)
    Pk = Cs.sum(1)
    return {
        "C": np.einsum("k,knjj->nj", p, Cs), "CAC": np.einsum("k,knij,njl,knlm->nim", p, Cs, A, Cs),
        "B": np.einsum("k,kij->ij", p, Bk), "CB": p @ cb, "BMB": np.einsum("k,kij,jl,klm->im", p, Bk, Mat, Bk),
        "CBCB": np.einsum("k,ki,kj->ij", p, cb, cb), "BMCB": np.einsum("k,kij,j,kl->il", p, Bk, m, cb),
        "P": np.einsum("k,kjj->j", p, Pk), "PMP": np.einsum("k,kij,jl,klm->im", p, Pk, Mat, Pk),
        "PMB": np.einsum("k,kij,jl,klm->im", p, Pk, Mat, Bk), "PMCB": np.einsum("k,kij,j,kl->il", p, Pk, m, cb),
    }


OPERANDS = {"C": lambda A, M, b, m: [], "CAC": lambda A, M, b, m: [A], "B": lambda A, M, b, m: [A],
            "CB": lambda A, M, b, m: [b], "BMB": lambda A, M, b, m: [A, M, A], "CBCB": lambda A, M, b, m: [b, b],
            "BMCB": lambda A, M, b, m: [A, m, b], "P": lambda A, M, b, m: [], "PMP": lambda A, M, b, m: [M],
            "PMB": lambda A, M, b, m: [M, A], "PMCB": lambda A, M, b, m: [m, b]}


@pytest.mark.parametrize("case", sorted(k for k in CASES if k != "finite"))
def test_engine_matches_enumeration_numerically(case):
    sk = CASES[case]()
    rng = np.random.default_rng(zlib.crc32(case.encode()))  # not hash(case): salted per process
    n, dd = sk.n, sk.d
    A = rng.standard_normal((n, dd, dd))
    A = A + A.transpose(0, 2, 1)
    Mat, b, m = rng.standard_normal((dd, dd)), rng.standard_normal((n, dd)), rng.standard_normal(dd)
    ref = _reference(sk, A, Mat, b, m)
    for name, c in contractions.__dict__.items():
        if name in OPERANDS:
            got = expectation(c, sk.inclusion_model(), OPERANDS[name](A, Mat, b, m), sk.scale_table())
            np.testing.assert_allclose(got, ref[name], rtol=0, atol=1e-12 * max(1, np.abs(ref[name]).max()),
                                       err_msg=name)


def _symbolic_operands(n, dd):
    A = np.empty((n, dd, dd), dtype=object)
    for i in range(n):
        for j in range(dd):
            for k in range(j, dd):
                A[i, j, k] = A[i, k, j] = sp.Symbol(f"L{i}_{j}{k}")
    Mat = np.array([[sp.Symbol(f"M{j}{k}") for k in range(dd)] for j in range(dd)], dtype=object)
    b = np.array([[sp.Symbol(f"b{i}_{j}") for j in range(dd)] for i in range(n)], dtype=object)
    m = np.array([sp.Symbol(f"m{j}") for j in range(dd)], dtype=object)
    return A, Mat, b, m


def _outcome_value(name, Bk, ck, Pk, Mat, m):
    if name == "B":
        return Bk
    if name == "CB":
        return ck
    if name == "BMB":
        return Bk.dot(Mat).dot(Bk)
    if name == "CBCB":
        return np.outer(ck, ck)
    if name == "BMCB":
        return np.outer(Bk.dot(m), ck)
    if name == "PMP":
        return Pk.dot(Mat).dot(Pk)
    return Pk.dot(Mat).dot(Bk)  # PMB


def _symbolic_enumeration(sketch, name, A, Mat, b, m):
    """Exact expectation by summing over all outcomes with rational probabilities."""
    sup = sketch.support()
    Cs = sup.draw.dense(sketch.d)
    probs = [sp.Rational(1, len(sup.probs))] * len(sup.probs)  # uniform supports
    total = 0
    for pk, C in zip(probs, Cs, strict=True):
        C = np.array([[[sp.nsimplify(x) for x in row] for row in Ci] for Ci in C], dtype=object)
        Bk = sum(C[i].dot(A[i]).dot(C[i]) for i in range(sketch.n))
        ck = sum(C[i].dot(b[i]) for i in range(sketch.n))
        Pk = sum(C[i] for i in range(sketch.n))
        val = _outcome_value(name, Bk, ck, Pk, Mat, m)
        total = total + pk * val
    return total


SYMBOLIC_CASES = {
    "perm-q2-d4": (lambda: Permutation(2, 4), ("B", "CB", "BMB", "CBCB", "BMCB", "PMP", "PMB")),
    "perm-1-d3": (lambda: Permutation(3, 3), ("B", "CB", "BMB", "CBCB", "BMCB", "PMP", "PMB")),
    "perm-1-d5": (lambda: Permutation(5, 5), ("B", "CB")),
    "scaled-perm-1-d3": (lambda: Permutation(3, 3, scale=2.0), ("B", "BMB", "PMB")),
    "rand-2of3": (lambda: RandQ(2, 3, 2), ("B", "CB", "BMB", "CBCB", "BMCB", "PMP")),
    "blocks-3-2": (lambda: PermBlocks(2, 3), ("B", "CB", "BMB", "CBCB", "PMP")),
    "clients-4-2": (lambda: PermClients(4, 2), ("B", "CB", "BMB", "CBCB", "BMCB", "PMB")),
}


@pytest.mark.parametrize("case", sorted(SYMBOLIC_CASES))
def test_engine_matches_enumeration_symbolically(case):
    """Closed forms with symbolic matrix entries equal brute-force enumeration exactly."""
    make, names = SYMBOLIC_CASES[case]
    sk = make()
    A, Mat, b, m = _symbolic_operands(sk.n, sk.d)
    T = np.array([[sp.nsimplify(x) for x in row] for row in sk.scale_table()], dtype=object)
    for name in names:
        operands = OPERANDS[name](A, Mat, b, m)
        got = expectation(getattr(contractions, name), sk.inclusion_model(), operands, T, exact=True)
        ref = _symbolic_enumeration(sk, name, A, Mat, b, m)
        diff = np.vectorize(lambda e: sp.expand(e))(np.asarray(got, dtype=object) - ref)
        assert all(e == 0 for e in np.ravel(diff)), (case, name)


def test_closed_form_of_expected_CAC_is_the_textbook_one():
    """E[C_i A C_i] = s²[ q(q−1)/(d(d−1)) A + (q/d − q(q−1)/(d(d−1))) Diag(A) ] for Perm-q."""
    terms = dict(pattern_weights(UniformPartition(2, 4), contractions.CAC, same=True))
    assert sp.simplify(terms[((0,), (1,))] - q * (q - 1) / (d * (d - 1))) == 0
    assert sp.simplify(terms[((0, 1),)] - (q / d - q * (q - 1) / (d * (d - 1)))) == 0


# ---------------------------------------------------------------- larger d: engine vs Monte Carlo


@pytest.mark.parametrize("make", [lambda p: Permutation(p.n, p.d), lambda p: RandQ(p.n, p.d, 3)])
def test_second_moment_matches_monte_carlo_at_larger_d(make):
    """d = 24: E[B̄ L̄ B̄] from the engine vs the mean of N = 4000 draws; each entry within
    5 standard errors (normal approximation; Bonferroni over d² entries keeps the
    family-wise false-alarm rate below 3e-4)."""
    p = generators.heterogeneous(4, 24, 0.5, seed=2)
    sk = make(p)
    exact = SketchMoments(p, sk).BLB
    c = sk.sample(np.random.default_rng(0), 4000).diagonals(p.d)  # C_i = Diag(c_i)
    Bk = np.einsum("kni,nij,knj->kij", c, np.asarray(p.L), c) / p.n
    samples = np.einsum("kij,jl,klm->kim", Bk, p.L_bar, Bk)
    se = samples.std(axis=0, ddof=1) / math.sqrt(samples.shape[0])
    assert np.all(np.abs(samples.mean(axis=0) - exact) <= 5.5 * se + 1e-9)


def test_precond_moments_are_those_of_section_312():
    """(23): E[B̄] = I, W̄ = L̄, E[B̄L̄B̄] = L̄, and B̄ = I on every draw."""
    p = generators.heterogeneous(5, 5, 0.8, seed=3)
    sk = PreconditionedPerm.from_problem(p)
    mo = SketchMoments(p, sk)
    np.testing.assert_allclose(mo.expected_B, np.eye(5), atol=1e-12)
    np.testing.assert_allclose(mo.W, p.L_bar, atol=1e-12)
    np.testing.assert_allclose(mo.BLB, p.L_bar, atol=1e-12)
    x_inf = (p.b / np.sqrt(p.D)).sum(axis=0) / (p.n * math.sqrt(p.n))  # (28)
    np.testing.assert_allclose(mo.x_inf, x_inf, atol=1e-12)


@pytest.mark.parametrize("make", [lambda: Permutation(2, 4), lambda: RandQ(2, 3, 2), lambda: PermBlocks(2, 3),
                                  lambda: Permutation(3, 3, scale=1.7)])
@pytest.mark.parametrize("form", ["sgd", "ist"])
def test_structured_transition_equals_dense_kronecker_operator(make, form):
    """E[A M Aᵀ] from the engine equals (E[A ⊗ A]) vec(M) built densely from the enumerated support."""
    sk = make()
    p = generators.heterogeneous(sk.n, sk.d, 0.6, seed=4)
    mo = SketchMoments(p, sk)
    gamma = 0.3
    sup = sk.support()
    C = sup.draw.dense(sk.d)
    Bk = np.einsum("knij,njl,knlm->kim", C, np.asarray(p.L), C) / sk.n
    Ak = (np.eye(sk.d) if form == "sgd" else C.mean(axis=1)) - gamma * Bk
    kron = np.einsum("k,kij,klm->iljm", sup.probs, Ak, Ak).reshape(sk.d**2, sk.d**2)
    Mat = generators.random_psd(sk.d, np.random.default_rng(1))
    np.testing.assert_allclose(mo.transition(Mat, gamma, form), (kron @ Mat.ravel()).reshape(sk.d, sk.d),
                               atol=1e-12)
