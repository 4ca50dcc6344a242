"""QuadraticProblem (objective (1)/(12)) and the instance generators.

Every derived quantity is checked against a direct formula from the Setting of
docs/paper.md, never against the implementation it tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isttheory import generators
from isttheory.errors import (
    ISTError,
    NonFiniteError,
    NotPSDError,
    NotSymmetricError,
    ParameterError,
    ShapeError,
    SingularError,
)
from isttheory.problem import SYMMETRY_RTOL, QuadraticProblem


def _spd(rng, n, d):
    A = rng.standard_normal((n, d, d))
    return np.swapaxes(A, 1, 2) @ A / d + 0.2 * np.eye(d)


@pytest.fixture
def problem():
    rng = np.random.default_rng(11)
    return QuadraticProblem(_spd(rng, 3, 5), rng.standard_normal((3, 5)))


# --------------------------------------------------------------------------- validation

def test_valid_problem_accepted_and_sized(problem):
    assert (problem.n, problem.d) == (3, 5)
    assert problem.L.shape == (3, 5, 5) and problem.b.shape == (3, 5)
    assert problem.L.dtype == np.float64 and problem.b.dtype == np.float64


def test_non_symmetric_L_rejected():
    L = np.array([[[2.0, 0.5], [0.0, 2.0]], [[1.0, 0.0], [0.0, 1.0]]])
    with pytest.raises(NotSymmetricError):
        QuadraticProblem(L, np.zeros((2, 2)))


def test_non_symmetric_second_client_rejected():
    L = np.stack([np.eye(3), np.eye(3)])
    L[1, 0, 2] += 1e-3
    with pytest.raises(NotSymmetricError, match="L_1"):
        QuadraticProblem(L, np.zeros((2, 3)))


def test_non_psd_L_rejected():
    L = np.array([[[1.0, 2.0], [2.0, 1.0]]])  # eigenvalues -1, 3
    with pytest.raises(NotPSDError):
        QuadraticProblem(L, np.zeros((1, 2)))


def test_negative_diagonal_rejected_as_not_psd():
    L = np.stack([np.eye(2), np.diag([1.0, -0.5])])
    with pytest.raises(NotPSDError, match="L_1"):
        QuadraticProblem(L, np.zeros((2, 2)))


def test_psd_roundoff_within_tolerance_accepted():
    # a smallest eigenvalue of -1e-14 is round-off, not an error (PSD_RTOL = 1e-10)
    L = np.diag([2.0, -1e-14])[None]
    p = QuadraticProblem(L, np.zeros((1, 2)))
    assert p.L[0, 1, 1] == -1e-14


@pytest.mark.parametrize("where", ["L", "b"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rejected(where, bad):
    L = np.stack([np.eye(2), 2 * np.eye(2)])
    b = np.ones((2, 2))
    if where == "L":
        L[1, 0, 0] = bad
    else:
        b[1, 1] = bad
    with pytest.raises(NonFiniteError):
        QuadraticProblem(L, b)


def test_nan_off_diagonal_symmetric_pair_rejected_as_non_finite():
    L = np.eye(2)[None].copy()
    L[0, 0, 1] = L[0, 1, 0] = np.nan
    with pytest.raises(NonFiniteError):
        QuadraticProblem(L, np.zeros((1, 2)))


@pytest.mark.parametrize(
    "L, b",
    [
        (np.eye(3)[None].repeat(2, 0), np.zeros((2, 2))),    # b of wrong length d
        (np.eye(3)[None].repeat(2, 0), np.zeros((3, 3))),    # b of wrong n
        (np.eye(3)[None].repeat(2, 0), np.zeros(6)),         # b flat, n > 1
        (np.ones((2, 3, 2)), np.zeros((2, 3))),              # L not square
        (np.ones((2, 2, 2, 2)), np.zeros((2, 2))),           # L 4-D
        (np.ones(3), np.zeros(3)),                           # L 1-D
        (np.zeros((0, 2, 2)), np.zeros((0, 2))),             # n = 0
        (np.zeros((1, 0, 0)), np.zeros((1, 0))),             # d = 0
        ([[[1.0, 0.0], [0.0]]], [[0.0, 0.0]]),               # ragged L
    ],
    ids=["b-short", "b-wrong-n", "b-flat", "L-not-square", "L-4d", "L-1d", "n0", "d0", "ragged"],
)
def test_shape_errors(L, b):
    with pytest.raises(ShapeError):
        QuadraticProblem(L, b)


def test_two_dimensional_L_is_one_client():
    p = QuadraticProblem(2 * np.eye(3), np.arange(3.0))
    assert (p.n, p.d) == (1, 3)
    np.testing.assert_array_equal(p.b, [[0.0, 1.0, 2.0]])


def test_x_star_on_singular_L_bar_raises():
    L = np.stack([np.diag([1.0, 0.0]), np.diag([3.0, 0.0])])
    p = QuadraticProblem(L, np.ones((2, 2)))
    assert not p.is_L_bar_positive_definite
    with pytest.raises(SingularError):
        _ = p.x_star
    with pytest.raises(SingularError):
        p.solve_L_bar(np.ones(2))
    with pytest.raises(SingularError):
        _ = p.f_star
    # f and grad still work without L̄ ≻ 0
    assert p.f(np.array([1.0, 1.0])) == pytest.approx(0.5 * 2.0 - 2.0)


def test_L_bar_definite_although_each_L_i_singular():
    L = np.stack([np.diag([1.0, 0.0]), np.diag([0.0, 1.0])])
    p = QuadraticProblem(L, np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert p.is_L_bar_positive_definite
    np.testing.assert_allclose(p.x_star, [1.0, 1.0])


def test_tiny_asymmetry_accepted_and_symmetrised_exactly():
    rng = np.random.default_rng(5)
    L = _spd(rng, 2, 4)
    eps = 0.1 * SYMMETRY_RTOL * max(1.0, np.abs(L[1]).max())
    L[1, 0, 3] += eps
    assert L[1, 0, 3] != L[1, 3, 0]
    p = QuadraticProblem(L, np.zeros((2, 4)))
    np.testing.assert_array_equal(p.L, np.swapaxes(p.L, 1, 2))
    np.testing.assert_array_equal(p.L, 0.5 * (L + np.swapaxes(L, 1, 2)))


def test_asymmetry_tolerance_is_relative_to_scale():
    big = 1e6 * np.eye(2)[None].copy()
    big[0, 0, 1] = 1e6 * 0.5 * SYMMETRY_RTOL  # far below 1e-10 x 1e6
    QuadraticProblem(big, np.zeros((1, 2)))
    small = np.eye(2)[None].copy()
    small[0, 0, 1] = 100 * SYMMETRY_RTOL  # above 1e-10 x max(1, 1)
    with pytest.raises(NotSymmetricError):
        QuadraticProblem(small, np.zeros((1, 2)))


def test_input_arrays_are_copied():
    L = np.stack([np.eye(2), np.eye(2)])
    b = np.ones((2, 2))
    p = QuadraticProblem(L, b)
    L[0, 0, 0] = 99.0
    b[0, 0] = 99.0
    assert p.L[0, 0, 0] == 1.0 and p.b[0, 0] == 1.0


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_validated_L_stays_finite_for_huge_entries():
    # entries near the float64 maximum are finite and symmetric; validation must
    # either reject them with an ISTError or store a finite L, never inf
    L = np.array([[[1e308, 0.0], [0.0, 1e308]]])
    try:
        p = QuadraticProblem(L, np.zeros((1, 2)))
    except ISTError:
        return
    assert np.all(np.isfinite(p.L)), "validated problem stores a non-finite L"


# --------------------------------------------------------------------------- derived quantities

def test_averages_and_diagonals(problem):
    L, b = problem.L, problem.b
    np.testing.assert_allclose(problem.L_bar, sum(L[i] for i in range(3)) / 3, rtol=1e-14)
    np.testing.assert_allclose(problem.b_bar, sum(b[i] for i in range(3)) / 3, rtol=1e-14)
    D = np.array([[L[i, j, j] for j in range(5)] for i in range(3)])
    np.testing.assert_array_equal(problem.D, D)
    np.testing.assert_allclose(problem.D_bar, D.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(problem.D_bar, np.diag(problem.L_bar), rtol=1e-14)


def test_x_star_solves_normal_equations(problem):
    x = problem.x_star
    np.testing.assert_allclose(problem.L_bar @ x, problem.b_bar, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x, np.linalg.solve(problem.L_bar, problem.b_bar), rtol=1e-10)
    np.testing.assert_allclose(problem.grad(x), 0.0, atol=1e-12)


def test_f_and_grad_direct_formula(problem):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 5))
    for x in X:
        f_direct = np.mean([0.5 * x @ problem.L[i] @ x - problem.b[i] @ x for i in range(3)])
        assert problem.f(x) == pytest.approx(f_direct, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(problem.grad(x), problem.L_bar @ x - problem.b_bar, rtol=1e-12, atol=1e-12)
    # batched over leading axes
    np.testing.assert_allclose(problem.f(X), [problem.f(x) for x in X], rtol=1e-13)
    np.testing.assert_allclose(problem.grad(X), [problem.grad(x) for x in X], rtol=1e-13)


def test_grad_matches_central_difference(problem):
    x = np.random.default_rng(2).standard_normal(5)
    h = 1e-5
    fd = np.array([(problem.f(x + h * e) - problem.f(x - h * e)) / (2 * h) for e in np.eye(5)])
    np.testing.assert_allclose(problem.grad(x), fd, rtol=1e-6, atol=1e-7)


def test_client_values_average_to_global(problem):
    X = np.random.default_rng(3).standard_normal((2, 6, 5))
    fc = problem.f_clients(X)
    gc = problem.grad_clients(X)
    assert fc.shape == (2, 6, 3) and gc.shape == (2, 6, 3, 5)
    np.testing.assert_allclose(fc.mean(axis=-1), problem.f(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gc.mean(axis=-2), problem.grad(X), rtol=1e-12, atol=1e-12)
    x = X[0, 0]
    for i in range(3):
        assert fc[0, 0, i] == pytest.approx(0.5 * x @ problem.L[i] @ x - problem.b[i] @ x, rel=1e-12)
        np.testing.assert_allclose(gc[0, 0, i], problem.L[i] @ x - problem.b[i], rtol=1e-12, atol=1e-13)


def test_f_star_and_solve_L_bar(problem):
    assert problem.f_star == pytest.approx(float(problem.f(problem.x_star)), rel=1e-12)
    assert problem.f_star <= problem.f(np.zeros(5))
    V = np.random.default_rng(4).standard_normal((2, 3, 5))
    sol = problem.solve_L_bar(V)
    assert sol.shape == V.shape
    np.testing.assert_allclose(sol @ problem.L_bar, V, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(problem.solve_L_bar(V[0, 0]), np.linalg.solve(problem.L_bar, V[0, 0]), rtol=1e-10)


@pytest.mark.parametrize("attr", ["L", "b", "L_bar", "b_bar", "D", "D_bar", "x_star", "eigvals_L_bar"])
def test_arrays_are_read_only(problem, attr):
    arr = getattr(problem, attr)
    with pytest.raises(ValueError):
        arr.reshape(-1)[0] = 123.0


def test_problem_is_frozen(problem):
    with pytest.raises(AttributeError):
        problem.L = np.eye(5)


def test_client_index_access_agrees_with_fancy_indexing(problem):
    rng = np.random.default_rng(7)
    n, d = problem.n, problem.d
    for m in (1, 3, 5):
        coords = rng.integers(0, d, size=(4, n, m))  # (runs, n, m), repeats allowed
        blocks = problem.client_blocks(coords)
        diag = problem.client_diagonal(coords)
        bsub = problem.client_b(coords)
        assert blocks.shape == (4, n, m, m) and diag.shape == (4, n, m) and bsub.shape == (4, n, m)
        for r in range(4):
            for i in range(n):
                c = coords[r, i]
                np.testing.assert_array_equal(blocks[r, i], problem.L[i][np.ix_(c, c)])
                np.testing.assert_array_equal(diag[r, i], problem.L[i][c, c])
                np.testing.assert_array_equal(bsub[r, i], problem.b[i][c])
    coords = rng.integers(0, d, size=(n, 2))  # without a leading run axis
    np.testing.assert_array_equal(problem.client_blocks(coords)[1], problem.L[1][np.ix_(coords[1], coords[1])])


def test_flags_on_hand_made_problems():
    L = np.stack([np.eye(2), np.eye(2)])
    assert QuadraticProblem(L, np.ones((2, 2))).is_homogeneous
    assert not QuadraticProblem(L, np.array([[1.0, 1.0], [1.0, 2.0]])).is_homogeneous
    assert not QuadraticProblem(np.stack([np.eye(2), 2 * np.eye(2)]), np.ones((2, 2))).is_homogeneous
    assert QuadraticProblem(L, np.zeros((2, 2))).is_interpolation
    assert not QuadraticProblem(L, np.array([[0.0, 0.0], [0.0, 1e-300]])).is_interpolation


# --------------------------------------------------------------------------- generators

def test_homogeneous_generator():
    p = generators.homogeneous(4, 3, seed=2)
    assert (p.n, p.d) == (4, 3)
    assert p.is_homogeneous and not p.is_interpolation
    for i in range(1, 4):
        np.testing.assert_array_equal(p.L[i], p.L[0])
        np.testing.assert_array_equal(p.b[i], p.b[0])
    assert generators.homogeneous(4, 3, seed=2, interpolation=True).is_interpolation


def test_heterogeneous_knob():
    h0 = generators.heterogeneous(4, 3, heterogeneity=0.0, seed=1)
    assert h0.is_homogeneous
    for h in (1e-3, 0.5, 1.0):
        p = generators.heterogeneous(4, 3, heterogeneity=h, seed=1)
        assert not p.is_homogeneous
        assert not np.allclose(p.L[0], p.L[1])
        assert not np.allclose(p.b[0], p.b[1])


@pytest.mark.parametrize("h", [-0.1, 1.1, np.nan, np.inf])
def test_heterogeneity_out_of_range(h):
    with pytest.raises(ParameterError):
        generators.heterogeneous(3, 3, heterogeneity=h)
    with pytest.raises(ParameterError):
        generators.interpolation(3, 3, heterogeneity=h)


@pytest.mark.parametrize("n, d", [(0, 3), (3, 0), (-1, 2), (2.0, 3)])
def test_generator_sizes_validated(n, d):
    with pytest.raises(ParameterError):
        generators.heterogeneous(n, d)


def test_interpolation_generator():
    p = generators.interpolation(3, 4, heterogeneity=0.7, seed=9)
    assert p.is_interpolation
    np.testing.assert_array_equal(p.b, 0.0)
    np.testing.assert_array_equal(p.x_star, 0.0)
    assert not p.is_homogeneous  # L_i still differ
    assert p.f_star == 0.0


@pytest.mark.parametrize("cond", [1.0, 10.0, 1e3])
@pytest.mark.parametrize(
    "make",
    [
        lambda cond: generators.homogeneous(3, 6, seed=4, cond=cond),
        lambda cond: generators.heterogeneous(3, 6, 0.4, seed=4, cond=cond),
        lambda cond: generators.heterogeneous(3, 6, 1.0, seed=4, cond=cond),
        lambda cond: generators.interpolation(3, 6, 0.9, seed=4, cond=cond),
    ],
    ids=["homogeneous", "het-0.4", "het-1", "interp"],
)
def test_generated_eigenvalues_in_range(make, cond):
    p = make(cond)
    ev = np.linalg.eigvalsh(p.L)
    assert ev.min() >= 1.0 - 1e-9
    assert ev.max() <= cond + 1e-9 * cond
    np.testing.assert_array_equal(p.L, np.swapaxes(p.L, 1, 2))


def test_random_psd_spectrum_is_exactly_geomspace():
    M = generators.random_psd(5, np.random.default_rng(0), cond=100.0)
    np.testing.assert_allclose(np.linalg.eigvalsh(M), np.geomspace(1.0, 100.0, 5), rtol=1e-10)
    with pytest.raises(ParameterError):
        generators.random_psd(3, np.random.default_rng(0), cond=0.5)


@pytest.mark.parametrize(
    "make",
    [
        lambda s: generators.homogeneous(3, 4, seed=s),
        lambda s: generators.heterogeneous(3, 4, 0.5, seed=s),
        lambda s: generators.interpolation(3, 4, 0.5, seed=s),
    ],
    ids=["homogeneous", "heterogeneous", "interpolation"],
)
def test_seed_determinism(make):
    a, b, c = make(17), make(17), make(18)
    np.testing.assert_array_equal(a.L, b.L)
    np.testing.assert_array_equal(a.b, b.b)
    assert not np.array_equal(a.L, c.L)


def _design(m=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    A = np.column_stack([np.ones(m), rng.standard_normal((m, d - 1))])  # column 0: intercept
    y = rng.standard_normal(m)
    return A, y


def test_least_squares_sorted_split():
    A, y = _design()
    n, ridge = 4, 1e-2
    p = generators.least_squares(A, y, n, split="sorted", ridge=ridge)
    # with an intercept column, b_i[0] = mean of client i's targets
    means = p.b[:, 0]
    assert np.all(np.diff(means) > 0), means
    # direct construction from the sorted rows
    for i, rows in enumerate(np.array_split(np.argsort(y, kind="stable"), n)):
        Ai, yi = A[rows], y[rows]
        np.testing.assert_allclose(p.L[i], Ai.T @ Ai / len(rows) + ridge * np.eye(4), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(p.b[i], Ai.T @ yi / len(rows), rtol=1e-12, atol=1e-14)
        assert p.L[i, 0, 0] == pytest.approx(1.0 + ridge)
    # every client sees a band of targets: client i's max <= client i+1's min
    bands = [y[rows] for rows in np.array_split(np.argsort(y, kind="stable"), n)]
    assert all(bands[i].max() <= bands[i + 1].min() for i in range(n - 1))


def test_least_squares_iid_split():
    A, y = _design()
    n, ridge = 4, 1e-2
    p = generators.least_squares(A, y, n, split="iid", seed=3, ridge=ridge)
    sizes = [len(r) for r in np.array_split(np.arange(len(y)), n)]
    # the split is a partition: the client sums recombine to the full data
    full_L = sum(m_i * (p.L[i] - ridge * np.eye(4)) for i, m_i in enumerate(sizes))
    full_b = sum(m_i * p.b[i] for i, m_i in enumerate(sizes))
    np.testing.assert_allclose(full_L, A.T @ A, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(full_b, A.T @ y, rtol=1e-12, atol=1e-12)
    # iid is not the sorted split, and is not sorted by target
    sorted_p = generators.least_squares(A, y, n, split="sorted", ridge=ridge)
    assert not np.allclose(p.b, sorted_p.b)
    assert not np.all(np.diff(p.b[:, 0]) > 0)
    # each client's block is A_S^T A_S / m_i + ridge I for some set S of rows:
    # its intercept entry is exactly 1 + ridge
    np.testing.assert_allclose(p.L[:, 0, 0], 1.0 + ridge)
    # deterministic in the seed
    np.testing.assert_array_equal(p.L, generators.least_squares(A, y, n, split="iid", seed=3, ridge=ridge).L)
    assert not np.array_equal(p.L, generators.least_squares(A, y, n, split="iid", seed=4, ridge=ridge).L)


@pytest.mark.parametrize(
    "kwargs",
    [dict(n=61), dict(n=2, split="random"), dict(n=2, ridge=-1.0), dict(n=0)],
)
def test_least_squares_bad_parameters(kwargs):
    A, y = _design()
    with pytest.raises(ParameterError):
        generators.least_squares(A, y, **kwargs)


def test_least_squares_shape_mismatch():
    A, y = _design()
    with pytest.raises(ParameterError):
        generators.least_squares(A, y[:-1], 2)


@pytest.mark.parametrize("name", generators.DATASETS)
def test_dataset_least_squares_offline(name, monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("dataset loading tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    p = generators.dataset_least_squares(name, n=3)
    assert p.n == 3
    assert p.is_L_bar_positive_definite
    assert np.linalg.eigvalsh(p.L_bar)[0] > 0
    assert np.all(np.isfinite(p.x_star))
    assert not p.is_homogeneous


def test_unknown_dataset():
    with pytest.raises(ParameterError):
        generators.dataset_least_squares("no-such-dataset")


def test_remark1_default():
    p = generators.remark1()
    a, bb, c = p.L[0, 0, 0], p.L[0, 1, 1], p.L[0, 0, 1]
    assert p.is_homogeneous and p.is_interpolation and p.d == 2
    assert np.linalg.eigvalsh(p.L[0])[0] >= 0
    assert c > 2 * a * bb / (a + bb)
    assert c * c <= a * bb


def test_remark1_outside_psd_range_rejected():
    with pytest.raises(NotPSDError):
        generators.remark1(a=1.0, b=2.0, c=1.5)  # c^2 > ab


# --------------------------------------------------------------------------- property test

@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 6),
    d=st.integers(1, 7),
    h=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
    cond=st.floats(1.0, 1e4),
    interp=st.booleans(),
)
def test_generated_problems_are_valid(n, d, h, seed, cond, interp):
    p = generators.heterogeneous(n, d, heterogeneity=h, seed=seed, cond=cond, interpolation=interp)
    assert (p.n, p.d) == (n, d)
    np.testing.assert_array_equal(p.L, np.swapaxes(p.L, 1, 2))
    assert np.all(np.isfinite(p.L)) and np.all(np.isfinite(p.b))
    assert np.linalg.eigvalsh(p.L).min() >= 1.0 - 1e-9
    # the generator skipped the PSD test; a fully validated copy must accept it
    q = QuadraticProblem(np.array(p.L), np.array(p.b))
    np.testing.assert_array_equal(q.L, p.L)
    x = p.x_star
    res = np.linalg.norm(p.L_bar @ x - p.b_bar)
    assert res <= 1e-8 * max(np.linalg.norm(p.b_bar), np.linalg.norm(p.L_bar, 2) * np.linalg.norm(x), 1e-300)
    assert p.is_interpolation == (not np.any(p.b))
    if interp:
        assert p.is_interpolation
        np.testing.assert_array_equal(x, 0.0)
    if h == 0.0:
        assert p.is_homogeneous
    elif h > 1e-6 and n > 1 and not interp:  # with b = 0 and cond = 1 every L_i = I
        assert not p.is_homogeneous


# --------------------------------------------------------------------------- sizes refused before allocating
HUGE = {
    "homogeneous": lambda: generators.homogeneous(4, 200_000),
    "heterogeneous": lambda: generators.heterogeneous(n=4, d=200_000),
    "heterogeneous_structured": lambda: generators.heterogeneous_structured(4, 200_000),
    "interpolation": lambda: generators.interpolation(4, 200_000),
    "low_rank_diagonal": lambda: generators.low_rank_diagonal(10**6, 10**6),
    "least_squares": lambda: generators.least_squares(np.broadcast_to(np.zeros(1), (8, 200_000)), np.zeros(8), 4),
    "random_psd": lambda: generators.random_psd(200_000, np.random.default_rng(0)),
}


@pytest.mark.parametrize("name", sorted(HUGE))
def test_every_generator_refuses_a_huge_size_before_allocating(name, monkeypatch):
    """``heterogeneous(n=4, d=200000)`` raised numpy's _ArrayMemoryError with a traceback: now one line,
    :class:`ResourceError`, before any array of that size exists (tracemalloc sees no large allocation)."""
    import tracemalloc

    from isttheory.errors import ResourceError

    tracemalloc.start()
    try:
        with pytest.raises(ResourceError, match=r"needs about [\d.]+ GiB, more than 80% of this machine") as ei:
            HUGE[name]()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, f"{peak / 2**20:.0f} MiB allocated before refusing"
    assert "\n" not in str(ei.value)
    assert isinstance(ei.value, MemoryError)  # ResourceError is a MemoryError too


def test_the_estimate_follows_the_machine(monkeypatch):
    """The same size fits a bigger machine: the limit is 80% of physical memory, not a constant."""
    from isttheory.errors import ResourceError

    need = generators.dense_bytes(2, 64)
    monkeypatch.setattr(generators, "_available_memory", lambda: need)
    with pytest.raises(ResourceError):
        generators.heterogeneous(2, 64)
    monkeypatch.setattr(generators, "_available_memory", lambda: 2 * need)
    assert generators.heterogeneous(2, 64).d == 64


# --------------------------------------------------------------------------- PSD test in one pass (issue 16)

def _with_smallest_eigenvalue(lam_min: float, d: int = 6, seed: int = 0) -> np.ndarray:
    """A symmetric d×d matrix with eigenvalues ``lam_min, 1, …, 5`` in a random orthonormal basis."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    M = (q * np.r_[lam_min, np.linspace(1.0, 5.0, d - 1)]) @ q.T
    return 0.5 * (M + M.T)


@pytest.fixture
def eigvalsh_calls(monkeypatch):
    """Count the matrices handed to ``eigvalsh`` during validation."""
    seen = []
    real = np.linalg.eigvalsh

    def counting(a, *args, **kwargs):
        a = np.asarray(a)
        seen.append(1 if a.ndim == 2 else a.shape[0])
        return real(a, *args, **kwargs)

    monkeypatch.setattr(np.linalg, "eigvalsh", counting)
    return seen


@pytest.mark.parametrize("path", ["cholesky", "eigvalsh only"])
@pytest.mark.parametrize("c, accepted", [(0.0, True), (0.05, True), (0.99, True), (1.0 - 1e-3, True),
                                         (1.01, False), (1.5, False), (1e3, False)])
def test_psd_boundary_is_the_documented_tolerance(monkeypatch, eigvalsh_calls, path, c, accepted):
    """λ_min = −c·PSD_RTOL·max(1, λ_max) (λ_max = 5): accepted iff c ≤ 1, whichever path decides — the batched
    Cholesky certificate (eigvalsh only where it fails) or eigvalsh of every L_i (d above the certified size)."""
    from isttheory import problem as prob

    if path == "eigvalsh only":
        monkeypatch.setattr(prob, "PSD_CHOLESKY_MAX_D", 0)
    tol = prob.PSD_RTOL * 5.0
    L = np.stack([np.eye(6), _with_smallest_eigenvalue(-c * tol), 2 * np.eye(6)])
    if accepted:
        QuadraticProblem(L, np.zeros((3, 6)))
    else:
        with pytest.raises(NotPSDError, match=r"L_1 is not positive semidefinite: smallest eigenvalue -"):
            QuadraticProblem(L, np.zeros((3, 6)))
    if path == "eigvalsh only":
        assert sum(eigvalsh_calls) == 3
    elif c <= 0.05:  # well inside: the factorisation of L_i + eps I certifies every matrix, no eigenvalues
        assert sum(eigvalsh_calls) == 0
    else:  # near or past the boundary, only the matrix that failed the factorisation gets eigenvalues
        assert sum(eigvalsh_calls) == 1


def test_psd_cholesky_shift_never_reaches_the_tolerance():
    """The shift is half the tolerance at most (λ_max ≥ max diagonal) and the certified size bound holds."""
    from isttheory import problem as prob

    assert 400 < prob.PSD_CHOLESKY_MAX_D < 700
    assert prob._cholesky_backward_error(prob.PSD_CHOLESKY_MAX_D) <= 0.4 * prob.PSD_RTOL
    assert prob._cholesky_backward_error(prob.PSD_CHOLESKY_MAX_D + 1) > 0.4 * prob.PSD_RTOL


def test_psd_first_offending_matrix_is_named_across_blocks(monkeypatch):
    """Blocks of the batched factorisation: the first non-PSD L_i is named, as eigvalsh of the whole stack did."""
    from isttheory import problem as prob

    monkeypatch.setattr(prob, "BLOCK_BYTES", 2 * 8 * 4 * 4)  # two 4×4 matrices per block
    L = np.stack([np.eye(4)] * 7)
    L[5, 0, 0] = L[3, 1, 1] = -1.0
    with pytest.raises(NotPSDError, match="L_3 is not positive semidefinite: smallest eigenvalue -1"):
        QuadraticProblem(L, np.zeros((7, 4)))


def test_validation_matches_eigvalsh_on_random_stacks():
    """On random symmetric stacks around the boundary the one-pass test decides as eigvalsh of every L_i."""
    from isttheory import problem as prob

    rng = np.random.default_rng(11)
    for trial in range(40):
        L = np.stack([_with_smallest_eigenvalue(-rng.uniform(0, 2) * prob.PSD_RTOL * 5.0, seed=100 * trial + i)
                      for i in range(3)])
        ev = np.linalg.eigvalsh(L)
        expect_ok = bool(np.all(ev[:, 0] >= -prob.PSD_RTOL * np.maximum(1.0, ev[:, -1])))
        try:
            QuadraticProblem(L, np.zeros((3, 6)))
            ok = True
        except NotPSDError:
            ok = False
        assert ok == expect_ok
