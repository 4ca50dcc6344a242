"""Convergence regions (:mod:`isttheory.region`): step sizes with ``ρ(X ↦ E[AXAᵀ]) < 1`` (mean square)
and ``ρ(E[A]) < 1`` (mean), as unions of open intervals with ends to 1e-6 relative.

Cross-checks, independent of the scan where the mathematics allows:

* identity sketch, form (2) (distributed GD): ``A = I − γL̄`` is deterministic, so both regions are
  ``(0, 2/λ_max(L̄))``;
* preconditioned Perm-1 (23), form (2): ``B̄ = I`` for every outcome (``E[B̄] = I``), so both are ``(0, 2)``;
* any sketch, form (2): ``E[A] = I − γE[B̄]``, so the mean region is ``(0, 2/λ_max(E[B̄]))``;
* every reported interval: a random γ inside has rate < 1 and γ just outside has rate ≥ 1, recomputed
  with a fresh :class:`~isttheory.dynamics.ExactDynamics`;
* mutations (a perturbed rate) move the ends beyond the tolerance;
* synthetic rate functions with known ends (two windows, a window narrower than the grid, unbounded).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import isttheory.region as region_mod
from isttheory import generators
from isttheory.cli import main
from isttheory.dynamics import ExactDynamics
from isttheory.errors import IncompatibleSketchError, ParameterError
from isttheory.io import write_problem
from isttheory.moments import SketchMoments
from isttheory.problem import QuadraticProblem
from isttheory.region import Interval, Region, convergence_region, region_of_rate
from isttheory.sketches import parse_sketch
from tests.cli_harness import loads_strict

TOL = 1e-6

HET = generators.heterogeneous(2, 4, 0.8, seed=0)        # n = 2, d = 4
PRE = generators.heterogeneous(3, 3, 0.8, seed=1)        # n = d = 3, for precond-perm (23)
# a singular L̄ (the third coordinate is flat for every client): the rates need no x*
SINGULAR = QuadraticProblem(np.stack([np.diag([1.0, 2.0, 0.0]), np.diag([3.0, 1.0, 0.0])]), np.ones((2, 3)))


def close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol * abs(b)


def rates(problem, sketch, gamma, form="sgd", t=1):
    e = ExactDynamics(problem, sketch, gamma, form, t)
    return {"mean_square": e.ms_rate, "mean": e.mean_rate}


def check_inside_outside(problem, sketch, reg: Region, rng, form="sgd", t=1) -> None:
    """A random γ inside each interval has rate < 1; γ just outside each finite end has rate ≥ 1."""
    for kind in ("mean_square", "mean"):
        for iv in getattr(reg, kind):
            hi = iv.hi if math.isfinite(iv.hi) else 10 * iv.lo
            g = float(np.exp(rng.uniform(np.log(max(iv.lo, hi * 1e-6)), np.log(hi))))
            assert rates(problem, sketch, g, form, t)[kind] < 1, (kind, iv, g)
            assert rates(problem, sketch, iv.lo * (1 + 10 * TOL), form, t)[kind] < 1 if iv.lo > 0 else True
            assert rates(problem, sketch, hi * (1 - 10 * TOL), form, t)[kind] < 1
            if iv.lo > 0:
                assert rates(problem, sketch, iv.lo * (1 - 10 * TOL), form, t)[kind] >= 1, (kind, iv)
            if math.isfinite(iv.hi):
                assert rates(problem, sketch, iv.hi * (1 + 10 * TOL), form, t)[kind] >= 1, (kind, iv)


# ---------------------------------------------------------------- closed forms
@pytest.fixture(scope="module")
def identity_region():
    return convergence_region(HET, parse_sketch("identity", HET))


def test_identity_sgd_is_gradient_descent(identity_region):
    """Distributed GD: A = I − γL̄, so both regions are exactly (0, 2/λ_max(L̄))."""
    edge = 2.0 / np.linalg.eigvalsh(HET.L_bar)[-1]
    for ivs in (identity_region.mean_square, identity_region.mean):
        assert len(ivs) == 1
        assert ivs[0].lo == 0.0 and close(ivs[0].hi, edge)
    check_inside_outside(HET, parse_sketch("identity", HET), identity_region, np.random.default_rng(0))


def test_precond_perm_sgd_is_0_2():
    """(23): B̄ = I for every outcome (E[B̄] = I), so A = (1 − γ)I and both regions are (0, 2)."""
    sk = parse_sketch("precond-perm", PRE)
    assert np.allclose(SketchMoments(PRE, sk).expected_B, np.eye(3))
    reg = convergence_region(PRE, sk)
    for ivs in (reg.mean_square, reg.mean):
        assert len(ivs) == 1 and ivs[0].lo == 0.0 and close(ivs[0].hi, 2.0)


@pytest.fixture(scope="module")
def perm_region():
    return convergence_region(HET, parse_sketch("perm", HET))


def test_sgd_mean_region_is_two_over_lambda_max_of_expected_B(perm_region):
    """Form (2): E[A] = I − γE[B̄], so the mean region is (0, 2/λ_max(E[B̄])); mean square is inside it."""
    sk = parse_sketch("perm", HET)
    edge = 2.0 / np.linalg.eigvalsh(SketchMoments(HET, sk).expected_B)[-1]
    (iv,) = perm_region.mean
    assert iv.lo == 0.0 and close(iv.hi, edge)
    (ms,) = perm_region.mean_square
    assert ms.lo == 0.0 and ms.hi < iv.hi
    check_inside_outside(HET, sk, perm_region, np.random.default_rng(1))


def test_singular_expected_B_never_converges():
    """λ_min(E[B̄]) = 0: B̄u = 0 a.s., so Au = u and neither rate is ever below 1 (and no x* is needed)."""
    assert not SINGULAR.is_L_bar_positive_definite
    reg = convergence_region(SINGULAR, parse_sketch("identity", SINGULAR))
    assert reg.mean_square == () and reg.mean == ()
    assert any("λ_min(E[B̄]) = 0" in n for n in reg.notes)


# ---------------------------------------------------------------- Algorithm 1 (6): windows away from 0
@pytest.fixture(scope="module")
def rand_ist_region():
    return convergence_region(HET, parse_sketch("rand:2", HET), "ist")


def test_rand2_ist_mean_square_window_excludes_small_steps(rand_ist_region):
    """Rand-2 under (6): A → P̄ = (1/n)ΣC_i as γ → 0 and ρ(X ↦ E[P̄XP̄]) > 1, so small steps diverge in
    mean square: the region is a window (γ₁, γ₂) with γ₁ > 0, while the mean (E[P̄] = I) converges from 0."""
    sk = parse_sketch("rand:2", HET)
    (ms,) = rand_ist_region.mean_square
    (mean,) = rand_ist_region.mean
    assert ms.lo > 0 and math.isfinite(ms.hi)
    assert mean.lo == 0.0
    assert rates(HET, sk, ms.lo / 100, "ist")["mean_square"] > 1       # small steps diverge
    assert any("small steps diverge" in n for n in rand_ist_region.notes)
    check_inside_outside(HET, sk, rand_ist_region, np.random.default_rng(2), "ist")


def test_one_local_step_rates_are_convex_so_regions_are_intervals(rand_ist_region):
    """Why no real instance gave two windows with one local step (module docstring): T(γ) = E[A⊗A] with
    A = P̄ − γB̄ symmetric is a quadratic in γ with second derivative 2E[B̄⊗B̄] ⪰ 0, so ρ(T(γ)) = λ_max(T(γ))
    is convex in γ; and the eigenvalues of E[A] = E[P̄] − γE[B̄] are non-increasing in γ. Checked here on
    Rand-2 under (6), where the window does not start at 0."""
    sk = parse_sketch("rand:2", HET)
    (ms,) = rand_ist_region.mean_square
    rng = np.random.default_rng(3)
    for a, b in rng.uniform(0.2 * ms.lo, 1.5 * ms.hi, (8, 2)):
        mid = rates(HET, sk, (a + b) / 2, "ist")["mean_square"]
        ra, rb = rates(HET, sk, a, "ist")["mean_square"], rates(HET, sk, b, "ist")["mean_square"]
        assert mid <= (ra + rb) / 2 + 1e-12
    moments = SketchMoments(HET, sk)
    g = np.sort(rng.uniform(0, 2 * ms.hi, 6))
    eig = np.array([np.linalg.eigvalsh(moments.expected_P - x * moments.expected_B) for x in g])
    assert np.all(np.diff(eig, axis=0) <= 1e-12)


# ---------------------------------------------------------------- mutations move the ends
def test_perturbed_rate_moves_the_ends(monkeypatch):
    """A rate scaled by (1 + 1e-4) gives ends that miss the closed form 2/λ_max(L̄) by far more than 1e-6
    (and match the perturbed closed form), so the closed-form test would catch such a bug."""
    eps = 1e-4

    class Perturbed(ExactDynamics):
        @property
        def ms_rate(self) -> float:  # type: ignore[override]
            return (1 + eps) * float(np.abs(1 - self.gamma * np.linalg.eigvalsh(self.problem.L_bar)).max() ** 2)

    monkeypatch.setattr(region_mod, "ExactDynamics", Perturbed)
    reg = convergence_region(HET, parse_sketch("identity", HET))
    lam = np.linalg.eigvalsh(HET.L_bar)[-1]
    (ms,) = reg.mean_square
    assert not close(ms.hi, 2.0 / lam)
    assert close(ms.hi, (1 + 1 / math.sqrt(1 + eps)) / lam)
    assert close(reg.mean[0].hi, 2.0 / lam)  # the mean rate was not perturbed


def test_mutated_grid_misses_a_narrow_window_without_refinement(monkeypatch):
    """The refinement of local extrema is what finds a window narrower than the grid spacing."""
    def dip(g: float) -> float:
        return 1.0 + (g - 2.3) ** 2 - 1e-6
    assert [(round(iv.lo, 5), round(iv.hi, 5)) for iv in region_of_rate(dip, 1.0).intervals] == [(2.299, 2.301)]
    monkeypatch.setattr(region_mod, "MAX_REFINEMENTS", 0)
    assert region_of_rate(dip, 1.0).intervals == ()


# ---------------------------------------------------------------- the machinery on synthetic rates
def test_synthetic_two_windows():
    """rate = 1 + (γ−½)(γ−3/2)(γ−5/2)(γ−7/2): below 1 exactly on (½, 3/2) ∪ (5/2, 7/2); ρ₀ = 1 + 105/16 > 1."""
    def quartic(g: float) -> float:
        return 1.0 + (g - 0.5) * (g - 1.5) * (g - 2.5) * (g - 3.5)

    s = region_of_rate(quartic, 1.0)
    assert len(s.intervals) == 2 and not s.small_gamma_converges
    for iv, (lo, hi) in zip(s.intervals, [(0.5, 1.5), (2.5, 3.5)], strict=True):
        assert close(iv.lo, lo) and close(iv.hi, hi)
    moved = region_of_rate(lambda g: quartic(g) + 1e-3, 1.0)  # mutation: every end moves
    for iv, (lo, hi) in zip(moved.intervals, [(0.5, 1.5), (2.5, 3.5)], strict=True):
        assert not close(iv.lo, lo) and not close(iv.hi, hi)


def test_synthetic_open_at_zero_and_unbounded():
    gd = region_of_rate(lambda g: abs(1 - 3 * g), 1.0)
    assert gd.intervals == (Interval(0.0, gd.intervals[0].hi),) and close(gd.intervals[0].hi, 2 / 3)
    unb = region_of_rate(lambda g: 1 / (1 + g), 1.0)
    assert len(unb.intervals) == 1 and unb.intervals[0].lo == 0.0 and math.isinf(unb.intervals[0].hi)
    assert unb.intervals[0].to_dict() == {"lo": 0.0, "hi": None}
    assert any("unbounded" in n for n in unb.notes)
    never = region_of_rate(lambda g: 1.0 + g, 1.0)
    assert never.intervals == ()


def test_region_to_dict_is_strict_json(identity_region):
    d = identity_region.to_dict()
    assert set(d) >= {"sketch", "form", "local_steps", "mean_square", "mean", "tolerance", "notes"}
    assert d["tolerance"] == TOL and d["mean_square"][0][0] == 0.0
    json.dumps(d, allow_nan=False)
    assert identity_region.converges(d["mean"][0][1] / 2, "mean")


@pytest.mark.parametrize("kwargs", [{"form": "nope"}, {"local_steps": 0}, {"local_steps": 2},
                                    {"form": "ist", "local_steps": 1.5}])
def test_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        convergence_region(HET, parse_sketch("identity", HET), **kwargs)


def test_sketch_of_other_size():
    with pytest.raises(IncompatibleSketchError, match="sketch is for n = "):
        convergence_region(HET, parse_sketch("identity", PRE))


# ---------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("region")
    write_problem(d / "het.json", HET)
    write_problem(d / "singular.json", SINGULAR)
    (d / "malformed.json").write_text('{"L": [[[1.0, 0.0], [0.0, 1.0]]],, }')
    return d


def test_cli_json(files, capsys):
    assert main(["region", str(files / "het.json"), "--sketch", "identity", "--json"]) == 0
    out = loads_strict(capsys.readouterr().out)
    edge = 2.0 / np.linalg.eigvalsh(HET.L_bar)[-1]
    assert out["sketch"] == "identity" and out["form"] == "sgd" and out["local_steps"] == 1
    assert out["tolerance"] == TOL and isinstance(out["notes"], list) and out["notes"]
    for kind in ("mean_square", "mean"):
        assert len(out[kind]) == 1 and out[kind][0][0] == 0.0 and close(out[kind][0][1], edge)


def test_cli_table(files, capsys):
    assert main(["region", str(files / "singular.json"), "--sketch", "identity"]) == 0
    out = capsys.readouterr().out
    assert "mean square" in out and "empty" in out
    assert "narrower than the grid spacing" in out  # the caveat is always printed


def test_cli_ist_local_steps(files, capsys):
    assert main(["region", str(files / "het.json"), "--sketch", "rand:1", "--form", "ist", "--local-steps", "2",
                 "--json"]) == 0
    out = loads_strict(capsys.readouterr().out)
    assert out["form"] == "ist" and out["local_steps"] == 2
    (lo, hi), = out["mean_square"]
    assert lo > 0 and hi > lo  # a window that excludes small steps


@pytest.mark.parametrize("argv", [
    ["--sketch", "identity", "--local-steps", "2"],             # local steps need form ist
    ["--sketch", "no-such-sketch"],
    ["--sketch", "precond-perm"],                               # needs n = d
    ["--sketch", "rand:9"],                                     # q > d
])
def test_cli_bad_input_one_line(files, capsys, argv):
    assert main(["region", str(files / "het.json"), *argv]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("isttheory: error:")


def test_cli_bad_files_and_arguments(files, capsys):
    for path in (files / "malformed.json", files / "missing.json"):
        assert main(["region", str(path), "--sketch", "identity"]) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and err[0].startswith("isttheory: error:")
    with pytest.raises(SystemExit) as exc:
        main(["region", str(files / "het.json"), "--sketch", "identity", "--form", "ist", "--local-steps", "0"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith("isttheory: error:")
