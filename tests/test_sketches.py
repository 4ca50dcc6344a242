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
    SPECS,
    FiniteSketch,
    Identity,
    IndexDraw,
    PermBlocks,
    PermClients,
    PermGroups,
    Permutation,
    PreconditionedPerm,
    RandQ,
    Sketch,
    parse_sketch,
    registered_families,
)
from isttheory.sketches.spec import check_sketch_spec
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
    "groups-singletons": lambda: PermGroups(2, 4, [[0], [1], [2], [3]]),
    "groups-unequal": lambda: PermGroups(2, 6, [[0, 5], [1, 2], [3], [4]]),
    "groups-pairs-n3": lambda: PermGroups(3, 6, [[0, 1], [2, 3], [4, 5]]),
    "groups-two-each": lambda: PermGroups(2, 5, [[4, 0], [1], [2], [3]]),
}
"""The shared test table: every registered family appears (:func:`test_cases_cover_every_registered_family`);
``tests/test_symbolic.py`` reuses it."""


def spec_name(sk: Sketch) -> str:
    """The registry name of a sketch: its spec up to ``:``."""
    return sk.spec.partition(":")[0]


def test_cases_cover_every_registered_family():
    """A new family without an entry in CASES (so without the enumeration, flag, ω and sampler tests) fails."""
    covered = {spec_name(make()) for make in CASES.values()}
    missing = set(registered_families()) - covered
    assert not missing, f"sketch families without a test case in CASES: {sorted(missing)}"


def test_registry_builds_specs_and_parsing():
    """SPECS, check_sketch_spec and parse_sketch come from the registry: one entry per family."""
    fams = registered_families()
    assert list(SPECS) == [cls.syntax for cls in fams.values()]
    assert all(SPECS[cls.syntax] for cls in fams.values())
    assert {"identity", "perm", "scaled-perm", "precond-perm", "rand", "perm-blocks", "perm-clients", "finite",
            "perm-groups"} == set(fams)
    for name, cls in fams.items():
        assert cls.family == name and issubclass(cls, Sketch)
        assert cls.syntax.startswith(name)
    with pytest.raises(SketchSpecError, match="known: identity, perm, scaled-perm"):
        check_sketch_spec("no-such")


def test_a_family_defined_twice_is_refused():
    with pytest.raises(TypeError, match="registered twice"):
        class Again(Identity):  # noqa: F841  (the class statement is the test)
            family = "perm"


@pytest.mark.parametrize("case", sorted(k for k in CASES if k not in ("finite", "precond", "precond-printed")))
def test_exact_scale_matches_numeric_table(case):
    """Each family's exact scale table (its one home, read by derivations and lemmas) equals the float table."""
    sk = CASES[case]()
    T = sk.exact_scale()
    np.testing.assert_allclose(np.asarray(T, dtype=float), sk.scale_table(), rtol=1e-15, atol=0)


def test_exact_scale_of_precond_from_exact_L():
    from fractions import Fraction

    p = generators.heterogeneous(3, 3, 0.7, seed=5)
    sk = PreconditionedPerm.from_problem(p)
    L = np.vectorize(Fraction, otypes=[object])(p.L)
    assert sk.exact_scale() is None  # the table is built from the problem
    np.testing.assert_allclose(np.asarray(sk.exact_scale(L), dtype=float), sk.scale_table(), rtol=1e-13)
    printed = PreconditionedPerm.from_problem(p, "printed")
    np.testing.assert_allclose(np.asarray(printed.exact_scale(L), dtype=float), printed.scale_table(), rtol=1e-12)


def enumerate_moments(sketch, A):
    sup = sketch.support()
    C = sup.draw.dense()  # (K, n, d, d): the draw knows its d
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


# --------------------------------------------------------------------------- perm-groups

def test_groups_with_singletons_are_perm_q():
    """perm-groups with singleton groups is Perm-q (7) exactly: same support distribution, moments and draws."""
    n, d = 2, 6
    g, p = PermGroups(n, d, [[j] for j in range(d)]), Permutation(n, d)
    A = random_spd(np.random.default_rng(1), d, n)
    np.testing.assert_allclose(g.expected_C(), p.expected_C(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(g.expected_CAC(A), p.expected_CAC(A), rtol=0, atol=1e-12)
    np.testing.assert_allclose(g.expected_B(A), p.expected_B(A), rtol=0, atol=1e-12)
    sg, sp_ = g.support(), p.support()
    np.testing.assert_array_equal(sg.probs, sp_.probs)
    np.testing.assert_array_equal(sg.draw.dense(), sp_.draw.dense())
    np.testing.assert_array_equal(g.sample(np.random.default_rng(7), 50).dense(),
                                  p.sample(np.random.default_rng(7), 50).dense())
    assert g.support_size() == p.support_size() and g.within_paper_hypotheses


def test_groups_second_moments_match_enumeration():
    """E[B̄MB̄], E[P̄MB̄], E[P̄MP̄], E[B̄m(Cb)ᵀ], E[(Cb)(Cb)ᵀ] of perm-groups (engine, lifted to groups)
    against the enumerated support."""
    from isttheory.moments import SketchMoments

    prob = generators.heterogeneous(2, 5, 0.7, seed=3)
    m = SketchMoments(prob, PermGroups(2, 5, [[0, 3], [1], [2], [4]]))
    probs, Bk, ck, Pk, _ = m._support
    M = random_spd(np.random.default_rng(0), 5, 1)[0]
    v = np.arange(5.0)
    np.testing.assert_allclose(m.BMB(M), np.einsum("k,kij,jl,klm->im", probs, Bk, M, Bk), atol=1e-10)
    np.testing.assert_allclose(m.PMB(M), np.einsum("k,kij,jl,klm->im", probs, Pk, M, Bk), atol=1e-11)
    np.testing.assert_allclose(m.PMP(M), np.einsum("k,kij,jl,klm->im", probs, Pk, M, Pk), atol=1e-12)
    np.testing.assert_allclose(m.BmCb(v), np.einsum("k,kij,j,kl->il", probs, Bk, v, ck), atol=1e-11)
    np.testing.assert_allclose(m.CbCb, np.einsum("k,ki,kj->ij", probs, ck, ck), atol=1e-12)


def test_groups_second_moment_monte_carlo():
    """Monte Carlo: the sample mean of C_i A_i C_i is within 5 standard errors of the closed form."""
    sk = PermGroups(2, 6, [[0, 5], [1, 2], [3], [4]])
    A = random_spd(np.random.default_rng(3), 6, 2)
    C = sk.sample(np.random.default_rng(5), 6000).dense()
    X = np.einsum("knij,njl,knlm->knim", C, A, C)
    se = X.std(axis=0, ddof=1) / math.sqrt(X.shape[0])
    assert np.all(np.abs(X.mean(axis=0) - sk.expected_CAC(A)) <= 5 * se + 1e-12)


class _WrongDeal(PermGroups):
    """Mutant dealing: the last client's first group is not dealt (its slots get scale 0)."""

    def _draws(self, sigma):
        draw = super()._draws(sigma)
        scales = np.broadcast_to(draw.scales, draw.coords.shape).copy()
        scales[..., -1, : self.width] = 0.0
        return IndexDraw(draw.coords, scales, d=self.d)


class _WrongScale(PermGroups):
    def scale_table(self):
        return np.full((self.n, self.d), float(self.n) + 0.5)


@pytest.mark.parametrize("mutant", [_WrongDeal, _WrongScale])
def test_groups_mutants_are_caught(mutant):
    """The enumeration oracle catches a wrong dealing and a wrong scale (the tests can fail)."""
    sk = mutant(2, 6, [[0, 5], [1, 2], [3], [4]])
    A = random_spd(np.random.default_rng(11), sk.d, sk.n)
    _, _, EC, ECAC = enumerate_moments(sk, A)
    assert not (np.allclose(sk.expected_C(), EC, atol=ATOL) and np.allclose(sk.expected_CAC(A), ECAC, atol=1e-9))


def test_groups_support_and_limits():
    sk = PermGroups(2, 8, [[0, 1], [2, 3], [4, 5], [6, 7]])
    assert sk.support_size() == math.factorial(4)
    assert sk.unbiased and sk.perfect_reconstruction and not sk.within_paper_hypotheses
    with pytest.raises(EnumerationTooLargeError):
        PermGroups(2, 24, [[j, j + 12] for j in range(12)]).support()


@pytest.mark.parametrize("text, n, d, err, needle", [
    ("not json", 2, 4, SketchSpecError, "not valid JSON"),
    ('{"a": 1}', 2, 4, SketchSpecError, "list of lists"),
    ("[[0, 1], 2]", 2, 3, SketchSpecError, "group 1 must be a non-empty list"),
    ('[[0, "1"], [2, 3]]', 2, 4, SketchSpecError, "not an integer"),
    ("[[0, 1.5], [2, 3]]", 2, 4, SketchSpecError, "not an integer"),
    ("[[0, true], [2, 3]]", 2, 4, SketchSpecError, "not an integer"),
    ("[[0, -1], [2, 3]]", 2, 4, SketchSpecError, "negative"),
    ("[[0, 1], [1, 2], [3]]", 3, 4, SketchSpecError, "disjoint"),
    ("[[0, 1], [3]]", 2, 4, SketchSpecError, "cover"),
    ("[[0, 1], [2], [3]]", 2, 4, IncompatibleSketchError, "multiple of n"),
    ("[[0, 1], [2, 3]]", 2, 6, SketchSpecError, "cover"),
    ("[[0, 1], [2, 3], [4, 5]]", 3, 4, IncompatibleSketchError, "d = 4"),
    ("[]", 2, 4, SketchSpecError, "non-empty"),
])
def test_groups_file_mistakes_are_one_line(tmp_path, text, n, d, err, needle):
    f = tmp_path / "groups.json"
    f.write_text(text)
    with pytest.raises(err, match=needle) as info:
        parse_sketch(f"perm-groups:{f}", n, d)
    assert "\n" not in str(info.value)


def test_groups_file_limits(tmp_path, monkeypatch):
    from isttheory.sketches import groups

    with pytest.raises(SketchSpecError, match="cannot read"):
        parse_sketch(f"perm-groups:{tmp_path / 'none.json'}", 2, 4)
    with pytest.raises(SketchSpecError, match="needs a JSON file"):
        parse_sketch("perm-groups", 2, 4)
    f = tmp_path / "g.json"
    f.write_text("[[0, 1], [2, 3]]")
    monkeypatch.setattr(groups, "MAX_GROUPS_FILE_BYTES", 8)
    with pytest.raises(SketchSpecError, match="more than the limit"):
        parse_sketch(f"perm-groups:{f}", 2, 4)


def test_groups_example_file_parses():
    from pathlib import Path

    f = Path(__file__).resolve().parents[1] / "examples" / "sketches" / "groups_n2_d6.json"
    sk = parse_sketch(f"perm-groups:{f}", 2, 6)
    assert isinstance(sk, PermGroups) and sk.g % 2 == 0 and parse_sketch(sk.spec, 2, 6).groups == sk.groups


# --------------------------------------------------------------------------- API: dense() and symbolic E[B]

def test_index_draw_knows_its_d():
    draw = Permutation(2, 4).sample(np.random.default_rng(0), 3)
    assert draw.d == 4
    np.testing.assert_array_equal(draw.dense(), draw.dense(4))
    with pytest.raises(ValueError, match="d = 4"):
        draw.dense(5)
    with pytest.raises(ValueError, match="pass d"):
        IndexDraw(draw.coords, draw.scales).dense()


@pytest.mark.parametrize("make", [lambda: Permutation(2, 4), lambda: RandQ(2, 3, 2), lambda: PermBlocks(2, 3),
                                  lambda: PermGroups(2, 4, [[0, 3], [1, 2]])])
def test_expected_B_of_sympy_matrices_is_the_exact_closed_form(make):
    """``expected_B`` of SymPy matrices (one d×d matrix, or n of them) equals the enumerated
    ``(1/n) Σ_k p_k Σ_i C_i L_i C_i`` with symbols, exactly."""
    import sympy as sp

    sk = make()
    n, d = sk.n, sk.d
    Ls = [sp.Matrix(d, d, lambda j, k, i=i: sp.Symbol(f"a{i}_{min(j, k)}{max(j, k)}")) for i in range(n)]
    sup = sk.support()
    C = sup.draw.dense()
    want = sp.zeros(d, d)
    for k in range(len(sup.probs)):
        for i in range(n):
            Ck = sp.Matrix(C[k, i].tolist()).applyfunc(sp.nsimplify)  # entries n, d/q: exact after nsimplify
            want += sp.nsimplify(sup.probs[k]) * Ck * Ls[i] * Ck
    want = want / n
    got = sk.expected_B(Ls)
    assert isinstance(got, sp.MatrixBase)
    assert (got - want).applyfunc(sp.simplify) == sp.zeros(d, d)
    one = sk.expected_B(Ls[0])  # one d×d matrix for every client
    assert (one - sk.expected_B([Ls[0]] * n)).applyfunc(sp.simplify) == sp.zeros(d, d)
