"""Structured (diagonal + low-rank) problems and the fused Perm-1 path of the simulator.

Reference: the same problem as a dense ``QuadraticProblem`` (``to_dense``), and
the general index-form step (the fused path switched off), on the same draws.
Tolerance 1e-12 relative: same draws, different summation order only.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from isttheory import generators
from isttheory import simulate as sim_mod
from isttheory.errors import (
    IncompatibleSketchError,
    NonFiniteError,
    NotPSDError,
    ResourceError,
    ShapeError,
    SingularError,
)
from isttheory.simulate import affine_table, estimate_bytes, simulate
from isttheory.sketches import PermBlocks, PermClients, Permutation, PreconditionedPerm, RandQ
from isttheory.structured import LowRankDiagonalProblem
from tests.test_sketches import _finite

RTOL = 1e-12


@pytest.mark.parametrize("client_rank,shared_rank", [(0, 0), (0, 3), (2, 2), (5, 1)])
def test_structured_matches_its_dense_form(client_rank, shared_rank):
    p = generators.low_rank_diagonal(3, 7, 0.6, seed=client_rank, shared_rank=shared_rank, client_rank=client_rank)
    q = p.to_dense()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 7))
    np.testing.assert_allclose(p.L_bar, q.L_bar, rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(p.L_bar_apply(x), q.L_bar_apply(x), rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(p.x_star, q.x_star, rtol=1e-10)
    np.testing.assert_allclose(p.solve_L_bar(x), q.solve_L_bar(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(p.f(x), q.f(x), rtol=RTOL)
    np.testing.assert_allclose(p.grad(x), q.grad(x), rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(p.D, q.D, rtol=RTOL)
    coords = np.stack([rng.permutation(7)[:6].reshape(3, 2) for _ in range(5)])  # (5, n=3, m=2)
    np.testing.assert_allclose(p.client_blocks(coords), q.client_blocks(coords), rtol=RTOL, atol=RTOL)
    u = rng.standard_normal(coords.shape)
    np.testing.assert_allclose(p.client_operator(coords)(u), q.client_operator(coords)(u), rtol=RTOL, atol=RTOL)
    assert p.is_L_bar_positive_definite and q.is_L_bar_positive_definite


def test_woodbury_and_dense_solves_agree():
    """k = columns of W ≥ d switches to a dense Cholesky factor; both equal the dense problem's solve."""
    small_k = generators.low_rank_diagonal(2, 9, 0.5, seed=1, shared_rank=1, client_rank=1)  # k = 3 < d
    big_k = generators.low_rank_diagonal(4, 6, 0.5, seed=1, shared_rank=2, client_rank=2)  # k = 10 >= d
    for p in (small_k, big_k):
        v = np.arange(p.d, dtype=float)
        np.testing.assert_allclose(p.solve_L_bar(v), p.to_dense().solve_L_bar(v), rtol=1e-10)
        np.testing.assert_allclose(p.L_bar_apply(p.solve_L_bar(v)), v, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("n,d,sketch", [(4, 16, "perm"), (16, 16, "perm"), (16, 16, "precond"), (8, 8, "scaled")])
@pytest.mark.parametrize("form,steps", [("sgd", 1), ("ist", 1), ("ist", 3)])
def test_simulate_structured_equals_dense(n, d, sketch, form, steps):
    p = generators.low_rank_diagonal(n, d, 0.7, seed=n + d, shared_rank=2, client_rank=1)
    sk = {"perm": lambda: Permutation(n, d), "precond": lambda: PreconditionedPerm.from_problem(p),
          "scaled": lambda: Permutation(n, d, scale=2.0)}[sketch]()
    gamma = 0.2 / (n * float(p.D.max()))
    a = simulate(p, sk, gamma, 12, runs=4, seed=3, form=form, local_steps=steps, keep_iterates=True)
    b = simulate(p.to_dense(), sk, gamma, 12, runs=4, seed=3, form=form, local_steps=steps, keep_iterates=True)
    np.testing.assert_allclose(a.iterates, b.iterates, rtol=RTOL, atol=RTOL)
    for m in b.metrics:
        np.testing.assert_allclose(a.metrics[m].mean, b.metrics[m].mean, rtol=1e-10)


def _general_path(monkeypatch):
    monkeypatch.setattr(sim_mod, "_fused_scales", lambda *a: None)


@pytest.mark.parametrize("make", [lambda p: Permutation(p.n, p.d), lambda p: Permutation(p.n, p.d, scale=3.0),
                                  lambda p: PreconditionedPerm.from_problem(p),
                                  lambda p: PreconditionedPerm.from_problem(p, "printed"),
                                  lambda p: PermBlocks(p.n, p.d), lambda p: PermClients(p.n, p.d)])
@pytest.mark.parametrize("form,steps", [("sgd", 1), ("ist", 1), ("ist", 4)])
def test_fused_perm1_path_equals_general_path(monkeypatch, make, form, steps):
    p = generators.heterogeneous(6, 6, 0.8, seed=4)
    sk = make(p)
    calls = []
    real = sim_mod.affine_table
    monkeypatch.setattr(sim_mod, "affine_table", lambda *a: calls.append(1) or real(*a))
    fused = simulate(p, sk, 0.03, 30, runs=5, seed=2, form=form, local_steps=steps, keep_iterates=True)
    assert calls, "the fused path was not taken"
    _general_path(monkeypatch)
    general = simulate(p, sk, 0.03, 30, runs=5, seed=2, form=form, local_steps=steps, keep_iterates=True)
    np.testing.assert_allclose(fused.iterates, general.iterates, rtol=RTOL, atol=RTOL)


def test_fused_path_not_taken_with_noise_or_multi_coordinate_draws(monkeypatch):
    def boom(*a):
        raise AssertionError("fused path taken")

    monkeypatch.setattr(sim_mod, "affine_table", boom)
    p = generators.heterogeneous(4, 4, 0.5, seed=0)
    simulate(p, Permutation(4, 4), 0.05, 5, runs=2, noise=0.1)
    simulate(generators.heterogeneous(2, 4, 0.5, seed=0), Permutation(2, 4), 0.05, 5, runs=2)
    simulate(p, RandQ(4, 4, 1), 0.05, 5, runs=2)


def test_fused_path_refused_when_draw_scales_differ_from_the_scale_table(monkeypatch):
    """A diagonal sketch whose draws do not use its scale_table() must take the general path."""
    sk = Permutation(4, 4)
    monkeypatch.setattr(sk, "scale_table", lambda: np.full((4, 4), 2.0))
    probe = sk.sample(np.random.default_rng(0), 1)
    assert sim_mod._fused_scales(sk, probe, 0.0) is None
    assert sim_mod._fused_scales(Permutation(4, 4), probe, 0.0) is not None


def test_a_wrong_affine_table_is_detected(monkeypatch):
    """Mutation: forgetting one factor of the scale in α (s instead of s²) changes the iterates."""
    p = generators.heterogeneous(5, 5, 0.5, seed=1)
    sk = Permutation(5, 5, scale=2.0)
    good = simulate(p, sk, 0.05, 10, runs=3, seed=0, keep_iterates=True)
    real = sim_mod.affine_table

    def wrong(problem, scales, gamma, form, steps):
        t = real(problem, scales, gamma, form, steps).copy()
        t[:, 0] = 1 - (1 - t[:, 0]) / 2.0
        return t

    monkeypatch.setattr(sim_mod, "affine_table", wrong)
    bad = simulate(p, sk, 0.05, 10, runs=3, seed=0, keep_iterates=True)
    assert not np.allclose(bad.iterates, good.iterates, rtol=1e-6)


def test_affine_table_closed_form_for_local_steps():
    """Algorithm 1 with t steps on one coordinate: z_t = aᵗ s x + γ s b (1 − aᵗ)/(1 − a)."""
    p = generators.heterogeneous(3, 3, 0.5, seed=2)
    sk = Permutation(3, 3)
    g, t = 0.07, 5
    tab = affine_table(p, sk.scale_table(), g, "ist", t).reshape(3, 3, 2)
    a = 1 - g * 3 * p.D
    np.testing.assert_allclose(tab[..., 0], a**t * 3 / 3, rtol=1e-14)
    np.testing.assert_allclose(tab[..., 1], g * 3 * p.b * (1 - a**t) / (1 - a) / 3, rtol=1e-12)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(D=np.ones((2, 3)), b=np.ones((2, 4))), ShapeError, "b must have shape"),
    (dict(D=np.ones(3), b=np.ones(3)), ShapeError, "D must have shape"),
    (dict(D=np.ones((2, 3)), b=np.ones((2, 3)), V=np.ones((4, 1))), ShapeError, "V must have shape"),
    (dict(D=np.ones((2, 3)), b=np.ones((2, 3)), U=np.ones((2, 4, 1))), ShapeError, "U must have shape"),
    (dict(D=np.full((2, 3), np.nan), b=np.ones((2, 3))), NonFiniteError, "D has a non-finite"),
    (dict(D=np.ones((2, 3)), b=np.ones((2, 3)), V=np.full((3, 1), 2.0)), NotPSDError, "delta_0 >= 0"),
])
def test_structured_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        LowRankDiagonalProblem(**kwargs)


def test_structured_singular_diagonal_part_is_reported():
    p = LowRankDiagonalProblem(np.array([[1.0, 0.0], [1.0, 0.0]]), np.ones((2, 2)))
    assert not p.is_L_bar_positive_definite
    with pytest.raises(SingularError, match="cannot be certified"):
        _ = p.x_star


def test_structured_refuses_dense_draws_and_printed_preconditioner():
    p = generators.low_rank_diagonal(2, 3, seed=0)
    with pytest.raises(IncompatibleSketchError, match="structured problem"):
        simulate(p, _finite(2, 3), 0.1, 3)
    q = generators.low_rank_diagonal(3, 3, seed=0)
    with pytest.raises(IncompatibleSketchError, match="printed variant"):
        PreconditionedPerm.from_problem(q, variant="printed")


def test_memory_is_estimated_before_allocating(monkeypatch):
    """The generator and the simulator refuse before allocating when the estimate exceeds 80% of memory."""
    monkeypatch.setattr(generators, "_available_memory", lambda: 2**30)
    with pytest.raises(ResourceError, match="needs about"):
        generators.low_rank_diagonal(10**5, 10**5)  # 80 GB of diagonals: refused without allocating
    p = generators.low_rank_diagonal(64, 64, seed=0)
    monkeypatch.setattr(sim_mod, "_available_memory", lambda: 2**20)
    need = estimate_bytes(p, Permutation(64, 64), 100, 64)
    assert need > 0.8 * 2**20
    with pytest.raises(ResourceError, match="needs about"):
        simulate(p, Permutation(64, 64), 0.001, 5, runs=100)


def test_perm1_at_d_equals_n_ten_thousand():
    """The issue's scale: Perm-1 at d = n = 10⁴, R = 100, storing only diagonals (1.6 GB, not 8 TB)."""
    p = generators.low_rank_diagonal(10_000, 10_000, 0.5, seed=0, shared_rank=2)
    assert p.nbytes < 2 * 2**30
    gamma = 1.0 / (p.n * float(p.D.max()))
    res = simulate(p, Permutation(p.n, p.d), gamma, 6, runs=100, seed=0, record=[0, 6])
    assert not res.diverged
    m = res.metrics["dist2_L"].mean
    assert np.all(np.isfinite(m)) and m[-1] < m[0]


def test_heterogeneous_perm_q_at_d_4096():
    """The issue's second scale: heterogeneous Perm-q, d = 4096, q = 16 (n = 256), client factors of rank 4."""
    p = generators.low_rank_diagonal(256, 4096, 0.5, seed=0, shared_rank=4, client_rank=4)
    gamma = 0.5 / (p.n * float(p.D.max()))
    res = simulate(p, Permutation(256, 4096), gamma, 8, runs=100, seed=0, record=[0, 8])
    assert not res.diverged
    m = res.metrics["dist2_L"].mean
    assert np.all(np.isfinite(m)) and m[-1] < m[0]


@pytest.mark.parametrize("sketch", ["perm1", "permq", "rand"])
def test_results_do_not_depend_on_threads(sketch):
    p = generators.low_rank_diagonal(12, 12, 0.5, seed=5, shared_rank=2) if sketch != "permq" else \
        generators.low_rank_diagonal(3, 12, 0.5, seed=5, shared_rank=2, client_rank=1)
    sk = {"perm1": Permutation(12, 12), "permq": Permutation(3, 12), "rand": RandQ(12, 12, 2)}[sketch]
    runs = [simulate(p, sk, 0.004, 20, runs=7, seed=9, keep_iterates=True, threads=th) for th in (1, 2, 3)]
    for other in runs[1:]:
        np.testing.assert_array_equal(other.iterates, runs[0].iterates)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_bad_thread_count_is_refused(threads):
    from isttheory.errors import ParameterError

    with pytest.raises(ParameterError, match="threads"):
        simulate(generators.low_rank_diagonal(2, 2, seed=0), Permutation(2, 2), 0.1, 2, threads=threads)


# --------------------------------------------------------------------------- problem files
@pytest.mark.parametrize("client_rank", [0, 2])
def test_structured_problem_files_round_trip(tmp_path, client_rank):
    from isttheory.io import read_problem, write_problem

    p = generators.low_rank_diagonal(3, 6, 0.5, seed=2, client_rank=client_rank)
    write_problem(tmp_path / "p.npz", p, x0=np.arange(6.0))
    back = read_problem(tmp_path / "p.npz")
    assert isinstance(back.problem, LowRankDiagonalProblem)
    for name in ("D", "b", "V", "U"):
        a, b = getattr(p, name), getattr(back.problem, name)
        assert (a is None and b is None) or np.array_equal(a, b)
    np.testing.assert_array_equal(back.x0, np.arange(6.0))


def test_structured_problem_file_errors(tmp_path):
    from isttheory.errors import ProblemFileError
    from isttheory.io import read_problem, write_problem

    p = generators.low_rank_diagonal(2, 3, seed=0)
    with pytest.raises(ProblemFileError, match="written as NPZ"):
        write_problem(tmp_path / "p.json", p)
    np.savez(tmp_path / "both.npz", L=np.ones((2, 3, 3)), D=np.ones((2, 3)))
    with pytest.raises(ProblemFileError, match="unknown arrays"):
        read_problem(tmp_path / "both.npz")
    np.savez(tmp_path / "flat.npz", D=np.ones(3))
    with pytest.raises(ShapeError, match="D must be a 2-dimensional"):
        read_problem(tmp_path / "flat.npz")
    np.savez(tmp_path / "obj.npz", D=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ProblemFileError, match="pickle"):
        read_problem(tmp_path / "obj.npz")
    np.savez(tmp_path / "neg.npz", D=np.ones((2, 3)), V=np.full((3, 1), 2.0))
    with pytest.raises(NotPSDError):
        read_problem(tmp_path / "neg.npz")


def test_a_dense_command_refuses_a_structured_file_from_its_member_names(tmp_path, monkeypatch):
    """The refusal reads no array and not the whole file (a 1.6 GB file took 10 s and 7.9 GB to refuse)."""
    import time
    import zipfile
    from pathlib import Path

    from isttheory.errors import ProblemFileError
    from isttheory.io import read_problem

    n, d = 8, 250_000  # D and b: 16 MB each
    with open(tmp_path / "big.npz", "wb") as fh:
        np.savez(fh, D=np.ones((n, d)), b=np.zeros((n, d)), V=np.zeros((d, 0)))
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"{self} was read whole"))
    start = time.perf_counter()
    with pytest.raises(ProblemFileError, match="constants needs a dense problem file") as ei:
        read_problem(tmp_path / "big.npz", dense_for="constants")
    assert time.perf_counter() - start < 1.0
    assert opened == [], f"members read before refusing: {opened}"
    assert "\n" not in str(ei.value)
    assert isinstance(read_problem(tmp_path / "big.npz").problem, LowRankDiagonalProblem)  # simulate reads it
    assert opened  # the spy works: reading the problem opens its members


def test_cli_simulates_a_structured_file_and_the_dense_commands_refuse_it(tmp_path):
    from isttheory.io import write_problem
    from tests.cli_harness import ISTTHEORY, run

    if ISTTHEORY is None:
        pytest.skip("console script not installed")
    write_problem(tmp_path / "big.npz", generators.low_rank_diagonal(64, 64, 0.5, seed=0))
    ok = run("simulate", "big.npz", "--sketch", "perm", "--gamma", "0.001", "--iters", "5", "--runs", "3", "--json",
             cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["settings"]["d"] == 64
    const = run("constants", "big.npz", "--sketch", "perm", "--json", cwd=tmp_path)  # issue 16: answered
    assert const.returncode == 0, const.stderr
    assert json.loads(const.stdout)["rate"] is not None
    for args in (("exact", "big.npz", "--sketch", "perm", "--gamma", "0.1", "--iters", "2"),
                 ("verify", "--problem", "big.npz", "--quiet")):
        proc = run(*args, cwd=tmp_path)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1
        assert "needs a dense problem file" in proc.stderr
