"""The Hypothesis strategies of :mod:`isttheory.testing`: valid objects, good shrinking, and the property
tests a user writes with them (with a deliberately wrong one that Hypothesis must refute).

Every run is derandomized and uses no example database, so the file is deterministic.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from isttheory.dynamics import ExactDynamics
from isttheory.errors import IncompatibleSketchError, LemmaError, ParameterError, SketchSpecError
from isttheory.lemmas import evaluate_point, paper_lemmas
from isttheory.lemmas.search import certify
from isttheory.lemmas.space import FAMILIES
from isttheory.problem import QuadraticProblem
from isttheory.simulate import simulate
from isttheory.sketches import FiniteSketch, Identity, IndexDraw, PermGroups, parse_sketch, registered_families
from isttheory.sketches import base as sketch_base
from isttheory.testing import (
    FINITE_OUTCOMES,
    SMALL_RIDGE,
    dyadics,
    lemma_instances,
    problems,
    sketch_families,
    sketches,
    step_sizes,
)

FAST = {"deadline": None, "derandomize": True, "database": None}
NO_EXPLAIN = (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink)
"""Without the explain phase, which reruns a minimal failing example with its parts varied (slow here)."""
FIND = settings(max_examples=60, phases=NO_EXPLAIN, **FAST)


def _is_dyadic(x: float, bits: int = 12) -> bool:
    return float(x * 2**bits).is_integer()


def _lemma(lid: str):
    return next(m for m in paper_lemmas() if m.id == lid)


# ------------------------------------------------------------------------------------------ problems

@settings(max_examples=60, **FAST)
@given(p=problems(n=(1, 4), d=(1, 4)))
def test_problems_are_valid(p):
    assert isinstance(p, QuadraticProblem) and 1 <= p.n <= 4 and 1 <= p.d <= 4
    assert p.L.shape == (p.n, p.d, p.d) and p.b.shape == (p.n, p.d)
    np.testing.assert_array_equal(p.L, np.swapaxes(p.L, 1, 2))
    assert np.linalg.eigvalsh(p.L).min() >= SMALL_RIDGE * (1 - 1e-12)  # PSD, and positive definite by default
    assert p.is_L_bar_positive_definite
    QuadraticProblem(np.array(p.L), np.array(p.b))  # the fully validated constructor accepts it
    assert all(_is_dyadic(v) for v in p.L.ravel()) and all(_is_dyadic(v) for v in p.b.ravel())


@settings(max_examples=40, **FAST)
@given(data=st.data(), family=st.sampled_from(FAMILIES))
def test_each_family_has_its_structure(data, family):
    p = data.draw(problems(n=(2, 3), d=(1, 3), family=family))
    lam_min = np.linalg.eigvalsh(p.L)[:, 0]
    if family == "homogeneous":
        assert p.is_homogeneous
    if family == "interpolation":
        assert p.is_interpolation
        np.testing.assert_array_equal(p.x_star, 0.0)
    if family == "random":
        assert np.all(lam_min >= SMALL_RIDGE * (1 - 1e-12))
    else:
        assert np.all(lam_min >= 1 / 8 * (1 - 1e-12))  # ridges are dyadics >= 1/8


def test_every_family_is_reached_and_heterogeneous_ones_too():
    for family in FAMILIES:
        find(problems(family=family), lambda p: p.n >= 2, settings=FIND)
    p = find(problems(family="heterogeneous"), lambda p: not p.is_homogeneous and not p.is_interpolation,
             settings=FIND)
    assert p.n == 2 and p.d == 1


@settings(max_examples=30, **FAST)
@given(data=st.data())
def test_sizes_accept_ints_ranges_tuples_lists_strategies_and_functions_of_n(data):
    for n_spec, d_spec, ok in [
        (2, 3, lambda n, d: (n, d) == (2, 3)),
        (range(1, 3), (2, 4), lambda n, d: n in (1, 2) and 2 <= d <= 4),
        ([1, 3], st.integers(1, 2), lambda n, d: n in (1, 3) and d in (1, 2)),
        ((1, 3), lambda n: [n, 2 * n], lambda n, d: d in (n, 2 * n)),
        (st.just(2), lambda n: n, lambda n, d: n == d == 2),
    ]:
        p = data.draw(problems(n=n_spec, d=d_spec))
        assert ok(p.n, p.d), (n_spec, d_spec, p.n, p.d)


@settings(max_examples=20, **FAST)
@given(p=problems(scale=(2.0**-4, 2.0**4)))
def test_scaled_problems_stay_dyadic_and_positive_definite(p):
    assert all(_is_dyadic(v, 40) for v in p.L.ravel()) and all(_is_dyadic(v, 40) for v in p.b.ravel())
    assert np.linalg.eigvalsh(p.L).min() >= 2.0**-4 * SMALL_RIDGE * (1 - 1e-12)


def test_scale_multiplies_L_by_s_and_b_by_root_s():
    scaled = problems(n=1, d=1, family="homogeneous", scale=st.just(9.0))
    assert find(scaled, lambda p: True, settings=FIND).L.tolist() == [[[9.0]]]  # 9·(0 + 1)
    assert find(scaled, lambda p: p.b.any(), settings=FIND).b.tolist() == [[3.0]]  # √9·1


def test_scale_shrinks_to_one_and_is_a_power_of_four():
    p = find(problems(n=1, d=1, family="homogeneous", scale=(2.0**-4, 2.0**4)), lambda p: True, settings=FIND)
    assert p.L.tolist() == [[[1.0]]]
    big = find(problems(n=1, d=1, family="homogeneous", scale=(2.0**-4, 2.0**4)), lambda p: p.L[0, 0, 0] > 2,
               settings=FIND)
    assert big.L.tolist() == [[[4.0]]]  # s = 4 (not 2: √s stays dyadic), A = 0, ρ = 1


def test_positive_definite_false_allows_singular_problems():
    p = find(problems(positive_definite=False), lambda p: not p.is_L_bar_positive_definite, settings=FIND)
    assert (p.n, p.d) == (1, 1) and p.L.tolist() == [[[0.0]]]


# ------------------------------------------------------------------------------------------ shrinking

def test_shrinking_reaches_the_smallest_sizes_and_simplest_entries():
    p = find(problems(n=(1, 5), d=(1, 5)), lambda p: p.n >= 3 or p.d >= 3, settings=FIND)
    assert (p.n, p.d) == (3, 1)
    np.testing.assert_array_equal(p.L, np.ones((3, 1, 1)))  # A = 0, ρ = 1: L_i = I
    np.testing.assert_array_equal(p.b, 0.0)
    p = find(problems(n=(1, 5), d=(1, 5)), lambda p: p.d >= 3, settings=FIND)
    assert (p.n, p.d) == (1, 3)
    np.testing.assert_array_equal(p.L[0], np.eye(3))


def test_shrinking_simplifies_entries_to_small_integers():
    p = find(problems(n=1, d=2, family="heterogeneous"), lambda p: p.L[0, 0, 1] != 0, settings=FIND)
    assert p.L[0].tolist() == [[2.0, 1.0], [1.0, 2.0]]  # one unit entry in each row of A, ρ = 1
    np.testing.assert_array_equal(p.b, 0.0)
    p = find(problems(n=(1, 3), d=(1, 3), family="heterogeneous"), lambda p: p.b.min() < 0, settings=FIND)
    assert p.b.tolist() == [[-1.0]] and p.L.tolist() == [[[1.0]]]


def test_dyadics_shrink_to_integers_then_zero():
    assert find(dyadics(), lambda x: True, settings=FIND) == 0.0
    assert find(dyadics(), lambda x: x > 0.3, settings=FIND) == 1.0
    assert find(dyadics(), lambda x: not x.is_integer(), settings=FIND) == 0.5
    assert find(dyadics(), lambda x: x < 0, settings=FIND) == -1.0
    assert find(dyadics(bound=1, bits=0), lambda x: x < 0, settings=FIND) == -1.0


# ------------------------------------------------------------------------------------------ sketches

@settings(max_examples=60, **FAST)
@given(data=st.data(), n=st.integers(1, 4), d=st.integers(1, 6))
def test_sketches_are_valid_for_their_shape(data, n, d):
    sk = data.draw(sketches(n, d))
    assert (sk.n, sk.d) == (n, d)
    assert sk.family in sketch_families()
    if sk.family == "perm":
        assert d % n == 0
    if sk.family == "perm-clients":
        assert n % d == 0
    if sk.family == "rand":
        assert 1 <= sk.q <= d
    if sk.family in ("perm-groups", "finite"):  # drawn, not read from a file: the spec does not rebuild them
        assert sk.source is None and sk.spec == sk.family and repr(sk).startswith(type(sk).__name__ + "(")
    else:
        assert parse_sketch(sk.spec, n, d).spec == sk.spec
    draw = sk.sample(np.random.default_rng(0), 3)
    if isinstance(draw, IndexDraw):
        assert draw.coords.min() >= 0 and draw.coords.max() < d
    else:
        assert draw.table.shape[1:] == (n, d, d)


def test_sketches_draw_only_valid_families_and_all_of_them():
    valid = {"perm": (2, 4), "perm-clients": (4, 2), "identity": (3, 5), "rand": (3, 5), "perm-blocks": (3, 5),
             "scaled-perm": (2, 2), "perm-groups": (3, 5), "finite": (3, 5)}
    for family, (n, d) in valid.items():
        sk = find(sketches(n, d), lambda s, f=family: s.spec.partition(":")[0] == f, settings=FIND)
        assert (sk.n, sk.d) == (n, d)
    with pytest.raises(NoSuchExample):
        find(sketches(3, 5), lambda s: s.family in ("perm", "perm-clients"), settings=FIND)
    with pytest.raises(NoSuchExample):  # g = q·n groups of at least one coordinate: n <= d
        find(sketches(4, 2), lambda s: s.family == "perm-groups", settings=FIND)


def _families_drawn(strategy, examples=300):
    """The families of the sketches ``strategy`` draws in ``examples`` examples."""
    seen = set()

    @settings(max_examples=examples, phases=(Phase.generate,), **FAST)
    @given(sk=strategy)
    def collect(sk):
        seen.add(sk.family)

    collect()
    return seen


def test_the_default_sketches_draw_every_registered_family():
    """The strategy reads the registry: a family registered without a way to draw it fails here (as
    ``tests/test_sketches.py`` fails for a family without a case in its table)."""
    assert sketch_families() == tuple(registered_families())
    p = QuadraticProblem(np.array([np.diag([1.0, 4.0]), np.diag([2.0, 1.0])]), np.zeros((2, 2)))
    assert _families_drawn(sketches(2, 2, problem=p)) == set(registered_families())
    assert _families_drawn(sketches(2, 2)) == set(registered_families()) - {"precond-perm"}  # needs problem=


def test_a_family_registered_later_is_drawn_by_default(monkeypatch):
    monkeypatch.setattr(sketch_base, "_REGISTRY", dict(sketch_base._REGISTRY))  # forgotten after the test

    class Plain(Identity):
        family = "test-plain"

    class Parametrised(Identity):  # a parameter the strategy cannot draw: the family's own examples
        family = "test-param"

        @classmethod
        def check_param(cls, param, spec):
            if param is None:
                raise SketchSpecError("test-param needs a parameter")

        @classmethod
        def examples(cls, target):
            return [(cls(*target), True, True)]

    assert {"test-plain", "test-param"} <= set(sketch_families())
    assert {"test-plain", "test-param"} <= _families_drawn(sketches(2, 2))
    assert type(find(sketches(2, 2, ["test-param"]), lambda s: True, settings=FIND)) is Parametrised
    assert type(find(sketches(2, 2, ["test-plain"]), lambda s: True, settings=FIND)) is Plain


@settings(max_examples=60, **FAST)
@given(data=st.data(), n=st.integers(1, 4), d=st.integers(1, 8))
def test_perm_groups_are_drawn_as_partitions_without_a_file(data, n, d):
    if n > d:
        with pytest.raises(IncompatibleSketchError, match="perm-groups"):
            sketches(n, d, ["perm-groups"])
        return
    sk = data.draw(sketches(n, d, ["perm-groups"]))
    assert isinstance(sk, PermGroups) and sk.source is None
    assert sorted(j for grp in sk.groups for j in grp) == list(range(d))  # a partition of 0..d-1
    assert sk.g % sk.n == 0 and sk.g <= d
    assert eval(repr(sk), {"PermGroups": PermGroups}).groups == sk.groups  # the falsifying example rebuilds it
    np.testing.assert_allclose(sk.expected_C(), np.broadcast_to(np.eye(d), (n, d, d)), atol=1e-12)


def test_perm_groups_shrink_to_one_group_per_client():
    sk = find(sketches(2, 5, ["perm-groups"]), lambda s: True, settings=FIND)
    assert sk.groups == ((0, 2, 3, 4), (1,))
    assert find(sketches(2, 5, ["perm-groups"]), lambda s: s.q > 1, settings=FIND).groups == ((0, 4), (1,), (2,), (3,))
    pairs = find(sketches(2, 6, ["perm-groups"]), lambda s: s.width == 2 and s.g == 4, settings=FIND)
    assert pairs.groups == ((0, 4), (1, 5), (2,), (3,))


def test_finite_sketches_are_drawn_without_a_file_and_shrink_to_the_identity():
    sk = find(sketches(2, 3, ["finite"]), lambda s: True, settings=FIND)
    assert isinstance(sk, FiniteSketch) and sk.source is None
    np.testing.assert_array_equal(sk.table, np.broadcast_to(np.eye(3), (1, 2, 3, 3)))
    many = find(sketches(2, 3, ["finite"]), lambda s: s.support_size() == FINITE_OUTCOMES, settings=FIND)
    np.testing.assert_allclose(many.probs, np.full(FINITE_OUTCOMES, 1 / FINITE_OUTCOMES))
    biased = find(sketches(2, 3, ["finite"]), lambda s: not s.unbiased, settings=FIND)
    assert biased.support_size() == 1 and biased.table.sum() == 5  # C_1 = I, C_2 = diag(1, 1, 0)


def test_sketches_shrink_to_the_first_valid_family_listed():
    assert find(sketches(2, 4, ["perm-clients", "rand", "perm"]), lambda s: True, settings=FIND).spec == "rand:1"
    assert find(sketches(2, 4, ["perm", "rand"]), lambda s: True, settings=FIND).spec == "perm"
    assert find(sketches(2, 4, ["rand"]), lambda s: s.q > 2, settings=FIND).spec == "rand:3"


def test_sketches_with_a_problem_include_precond_perm():
    p = QuadraticProblem(np.array([np.diag([1.0, 4.0]), np.diag([2.0, 1.0])]), np.zeros((2, 2)))
    sk = find(sketches(2, 2, problem=p), lambda s: s.family == "precond-perm", settings=FIND)
    np.testing.assert_allclose(sk.expected_CAC(p.L), np.broadcast_to(np.eye(2), (2, 2, 2)), atol=1e-12)
    assert find(sketches(2, 2, ["precond-perm:printed"], problem=p), lambda s: True,
                settings=FIND).spec == "precond-perm:printed"


def test_sketch_arguments_are_validated():
    with pytest.raises(SketchSpecError, match="unknown sketch"):
        sketches(2, 2, ["perm", "prem"])
    with pytest.raises(SketchSpecError):
        sketches(2, 2, [])
    with pytest.raises(IncompatibleSketchError, match=r"no sketch family .* n = 3, d = 4.*perm.*d = q\*n"):
        sketches(3, 4, ["perm", "rand:5"])
    with pytest.raises(IncompatibleSketchError, match="problem="):
        sketches(2, 2, ["precond-perm"])
    with pytest.raises(ParameterError):
        sketches(0, 2)
    with pytest.raises(ParameterError):
        sketches(2, True)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="problem has n = 1"):
        sketches(2, 2, problem=QuadraticProblem(np.eye(2)[None], np.zeros((1, 2))))


# ------------------------------------------------------------------------------------------ step sizes

@settings(max_examples=40, **FAST)
@given(data=st.data(), p=problems(n=(1, 3), d=(1, 3)))
def test_step_sizes_lie_in_their_range_and_are_dyadic(data, p):
    g = data.draw(step_sizes(low=2.0**-6, high=0.75))
    assert 2.0**-6 <= g <= 0.75 and _is_dyadic(g, 10)
    lam = p.eigvals_L_bar[-1]
    c = data.draw(step_sizes(p)) * lam  # γ = c/λ_max(L̄), c dyadic up to the division's round-off
    assert 2.0**-10 * (1 - 1e-15) <= c <= 1.0 + 1e-15 and abs(c * 2**12 - round(c * 2**12)) < 1e-9


def test_step_sizes_shrink_to_powers_of_two():
    assert find(step_sizes(), lambda g: True, settings=FIND) == 1.0
    assert find(step_sizes(), lambda g: g < 0.3, settings=FIND) == 0.25
    assert find(step_sizes(low=0.1, high=3.0), lambda g: g > 1.1, settings=FIND) == 2.0
    p = QuadraticProblem(np.array([[[4.0]]]), np.zeros((1, 1)))
    assert find(step_sizes(p), lambda g: True, settings=FIND) == 0.25  # 1/λ_max(L̄)


def test_problem_and_step_arguments_are_validated():
    for kw in ({"n": 0}, {"n": (3, 1)}, {"n": "2"}, {"n": True}, {"d": []}, {"d": range(0)}, {"family": "convex"},
               {"family": []}, {"scale": -1.0}, {"scale": (2.0, 1.0)}, {"entries": [1.0]},
               {"positive_definite": "yes"}):
        with pytest.raises(ParameterError):
            problems(**kw)
    with pytest.raises(ParameterError, match="d \\(for n = 1\\)"):  # a function of n is checked at draw time
        find(problems(n=1, d=lambda n: 0), lambda p: True, settings=FIND)
    for kw in ({"low": 0.0}, {"low": 2.0, "high": 1.0}, {"high": float("inf")}, {"bits": 11}):
        with pytest.raises(ParameterError):
            step_sizes(**kw)
    with pytest.raises(ParameterError, match="lambda_max"):
        step_sizes(QuadraticProblem(np.zeros((1, 1, 1)), np.zeros((1, 1))))
    with pytest.raises(ParameterError):
        dyadics(bound=0)
    with pytest.raises(ParameterError):
        dyadics(bound=1e6, bits=10)


# ------------------------------------------------------------------------------------------ the user's property test

@st.composite
def perm_cases(draw):
    """A problem with ``d = q·n``, Perm-q for it and a step size (for ``find``, which takes one strategy)."""
    p = draw(problems(n=(1, 3), d=lambda n: [n, 2 * n]))
    return p, draw(sketches(p.n, p.d, families=["perm"])), draw(step_sizes(p))


def _forms_agree(p, sk, gamma, local_steps=1, gamma_sgd=None, K=3):
    ist = ExactDynamics(p, sk, gamma, "ist", local_steps).run(K)
    sgd = ExactDynamics(p, sk, gamma if gamma_sgd is None else gamma_sgd, "sgd").run(K)
    return (np.allclose(ist.mean, sgd.mean, rtol=1e-10, atol=1e-12)
            and np.allclose(ist.metrics["f"], sgd.metrics["f"], rtol=1e-10, atol=1e-12))


@settings(max_examples=40, **FAST)
@given(data=st.data())
def test_one_local_step_of_algorithm_1_is_form_2(data):
    """For every problem and Perm-q, Algorithm 1 with one local step equals form (2) (exact moments)."""
    p = data.draw(problems(n=(1, 3), d=lambda n: [n, 2 * n]))
    sk = data.draw(sketches(p.n, p.d, families=["perm"]))
    gamma = data.draw(step_sizes(p))
    ist, sgd = ExactDynamics(p, sk, gamma, "ist", local_steps=1), ExactDynamics(p, sk, gamma, "sgd")
    np.testing.assert_allclose(ist.run(3).mean, sgd.run(3).mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ist.run(3).metrics["f"], sgd.run(3).metrics["f"], rtol=1e-10, atol=1e-12)


@settings(max_examples=25, **FAST)
@given(case=perm_cases())
def test_one_local_step_is_form_2_draw_by_draw(case):
    """The same identity on every draw: the simulator's two forms on the same sketches give the same iterates."""
    p, sk, gamma = case
    ist = simulate(p, sk, gamma, 3, runs=2, seed=1, form="ist", local_steps=1)
    sgd = simulate(p, sk, gamma, 3, runs=2, seed=1, form="sgd")
    np.testing.assert_allclose(ist.x_mean, sgd.x_mean, rtol=1e-12, atol=1e-12)


def test_wrong_statement_two_local_steps_is_refuted_with_a_small_counterexample():
    @settings(max_examples=25, report_multiple_bugs=False, phases=NO_EXPLAIN, **FAST)
    @given(case=perm_cases())
    def two_local_steps_are_form_2(case):
        assert _forms_agree(*case, local_steps=2)

    with pytest.raises(AssertionError) as failure:
        two_local_steps_are_form_2()
    report = "\n".join(getattr(failure.value, "__notes__", []))  # what pytest prints under the traceback
    assert "QuadraticProblem(L=array([[[1.]]]), b=array([[0.]]))" in report and "0.5" in report
    p, sk, gamma = find(perm_cases(), lambda c: not _forms_agree(*c, local_steps=2), settings=FIND)
    assert (p.n, p.d, sk.spec) == (1, 1, "perm")
    assert p.L.tolist() == [[[1.0]]] and p.b.tolist() == [[0.0]]
    assert gamma == 0.5  # γ = 1 passes here: both forms reach x* = 0 in one step


def test_wrong_statement_step_size_is_refuted_with_a_small_counterexample():
    @settings(max_examples=25, report_multiple_bugs=False, phases=NO_EXPLAIN, **FAST)
    @given(case=perm_cases())
    def half_step_is_form_2(case):
        p, sk, gamma = case
        assert _forms_agree(p, sk, gamma, gamma_sgd=gamma / 2)

    with pytest.raises(AssertionError):
        half_step_is_form_2()
    p, sk, gamma = find(perm_cases(), lambda c: not _forms_agree(c[0], c[1], c[2], gamma_sgd=c[2] / 2),
                        settings=FIND)
    assert (p.n, p.d) == (1, 1) and p.L.tolist() == [[[1.0]]] and p.b.tolist() == [[0.0]] and gamma == 1.0


# ------------------------------------------------------------------------------------------ lemma instances

@settings(max_examples=30, **FAST)
@given(data=st.data())
def test_lemma_instances_lie_in_the_space_and_evaluate(data):
    lemma = _lemma("identity-theta")  # expect = "holds": theta* = lambda_max(L̄) for C_i = I
    point = data.draw(lemma_instances(lemma))
    assert lemma.space.allows(point)
    assert lemma.space.problem.contains(point.family) and lemma.space.sketch.contains(point.sketch)
    assert point.factors.shape == (point.n, point.d, point.d) and point.x0.shape == (point.d,)
    e = evaluate_point(lemma, point)
    assert e.status == "holds", (e, point.describe())


@settings(max_examples=15, **FAST)
@given(data=st.data())
def test_lemma_instances_of_a_space_with_d_a_function_of_n(data):
    lemma = _lemma("precond-scale")  # d = "n", precond-perm; holds
    point = data.draw(lemma_instances(lemma))
    assert point.d == point.n and lemma.space.allows(point)
    assert evaluate_point(lemma, point).status == "holds"


def test_lemma_instances_find_the_counterexample_of_a_false_paper_lemma():
    lemma = _lemma("eq17-printed")
    assert lemma.expect == "fails"
    point = find(lemma_instances(lemma), lambda p: evaluate_point(lemma, p).status == "fails", settings=FIND)
    assert (point.n, point.d) == (2, 2) and point.family == "heterogeneous"
    # the simplest heterogeneous pair: L_1 = I, L_2 = 2I (A = 0, ridges 1 and 2), b = 0
    assert point.ridge.tolist() == [1.0, 2.0] and not np.any(point.factors) and not np.any(point.b)
    cx = certify(lemma, point)  # the violation holds in exact rational arithmetic
    assert cx is not None and cx.certified  # exact rationals, or mpmath agreeing at 50 and 100 digits


def test_lemma_instances_argument_validation():
    with pytest.raises(LemmaError, match="Lemma or a Space"):
        lemma_instances(3)  # type: ignore[arg-type]
    with pytest.raises(ParameterError):
        lemma_instances(_lemma("eq24"), entries=[0.0])  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ no runtime dependency

def test_nothing_else_in_the_package_imports_the_testing_module():
    root = Path(__file__).resolve().parents[1] / "isttheory"
    offenders = [str(f.relative_to(root)) for f in root.rglob("*.py") if f.name != "testing.py"
                 and ("isttheory.testing" in f.read_text(encoding="utf-8")
                      or "from .testing" in f.read_text(encoding="utf-8")
                      or "from ..testing" in f.read_text(encoding="utf-8"))]
    assert offenders == []
    out = subprocess.run([sys.executable, "-c", "import sys, isttheory.cli; print('hypothesis' in sys.modules)"],
                         capture_output=True, text=True, check=True, cwd=root.parent)
    assert out.stdout.strip() == "False"
