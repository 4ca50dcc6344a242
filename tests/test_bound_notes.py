"""Why a bound of ``isttheory exact`` is null: one reason per unmet hypothesis.

The hypotheses live in :func:`isttheory.tightness.theorem1_unmet` and
:func:`isttheory.tightness.theorem2_unmet`; ``exact_summary`` reports their answer as
``bound_notes`` for every null bound, and the CLI prints it in the bound's table row.
"""

from __future__ import annotations

import numpy as np
import pytest

from isttheory import generators
from isttheory.constants import theta_eigen
from isttheory.io import write_problem
from isttheory.moments import SketchMoments
from isttheory.problem import QuadraticProblem
from isttheory.sketches import Permutation, PreconditionedPerm
from isttheory.summary import BOUNDS, exact_summary
from isttheory.tightness import applies_theorem2, theorem1, theorem1_unmet, theorem2, theorem2_unmet
from tests.cli_harness import ISTTHEORY, ok, ok_json, run_concurrently

PRECOND = generators.heterogeneous(4, 4, 0.8, seed=0)       # n = d = 4, b_i ≠ 0
INTERP = generators.interpolation(4, 8, 0.5, seed=1)        # b_i = 0, Perm-2
INTERP_SQ = generators.interpolation(4, 4, 0.5, seed=2)     # b_i = 0, n = d: both theorems can apply
REMARK1 = generators.remark1()                              # (18): W̄ not PSD under Perm-1
SINGULAR = QuadraticProblem(np.ones((2, 2, 2)), np.zeros((2, 2)))  # L_i = 11ᵀ: L̄ singular, diagonals 1


def pre(p):
    return PreconditionedPerm.from_problem(p)


def notes(problem, sketch, gamma, iters=10, **kw):
    out = exact_summary(problem, sketch, gamma, iters, **kw)
    assert set(out["bound_notes"]) == {b for b in BOUNDS if out[b] is None}  # a note for every null bound
    return out["bound_notes"]


# --------------------------------------------------------------------------- Theorem 1

def test_not_interpolation():
    reason = "not interpolation: b_i != 0 (Theorem 1 needs b_i = 0)"
    assert theorem1_unmet(PRECOND, pre(PRECOND), 0.5) == reason
    assert notes(PRECOND, pre(PRECOND), 0.5) == {"bound_thm1": reason}  # Theorem 2's bounds are there


def test_gamma_above_one_over_theta():
    mo = SketchMoments(INTERP, Permutation(4, 8))
    theta = theta_eigen(mo.W, mo.BLB)[0]
    assert theta is not None and theta > 0
    sk = Permutation(4, 8)
    below, above = 0.99 / theta, 1.01 / theta
    assert theorem1_unmet(INTERP, sk, below) is None and theorem1(INTERP, sk, below, 5) is not None
    reason = theorem1_unmet(INTERP, sk, above)
    assert reason is not None and reason.startswith("gamma > 1/theta*")
    assert f"1/theta* = {1 / theta:.6g}" in reason
    assert theorem1(INTERP, sk, above, 5) is None
    assert notes(INTERP, sk, above, 5)["bound_thm1"] == reason


def test_condition14_infeasible():
    reason = theorem1_unmet(REMARK1, Permutation(2, 2), 0.01)
    assert reason == "(14) not met: W is not PSD (Theorem 1 needs theta with theta W >= E[BLB])"
    assert notes(REMARK1, Permutation(2, 2), 0.01, 3)["bound_thm1"] == reason


def test_L_bar_singular():
    sk = pre(SINGULAR)
    assert theorem1_unmet(SINGULAR, Permutation(2, 2), 0.1) == \
        "L_bar is not positive definite (Theorem 1 needs L_bar > 0)"
    assert theorem2_unmet(SINGULAR, sk, 0.5) == "L_bar is not positive definite (Theorem 2 needs L_bar > 0)"


@pytest.mark.parametrize("form, steps", [("ist", 1), ("ist", 2)])
def test_other_form_or_local_steps(form, steps):
    got = notes(INTERP_SQ, pre(INTERP_SQ), 0.5, 5, form=form, local_steps=steps)
    assert set(got) == set(BOUNDS)
    assert got["bound_thm1"].startswith(f"Theorem 1 is for the SGD form (2) with one step; here form {form} with "
                                        f"{steps} local step")
    assert got["bound_thm2"].startswith("Theorem 2 is for the SGD form (2) with one step")
    assert got["bound_thm2_corrected"] == got["bound_thm2"]


def test_no_iterations():
    got = notes(INTERP_SQ, pre(INTERP_SQ), 0.5, 0)
    assert set(got) == set(BOUNDS)
    assert all(r.startswith("K = 0: the bounds are computed for K >= 1") for r in got.values())


# --------------------------------------------------------------------------- Theorem 2

def test_sketch_is_not_23():
    assert theorem2_unmet(INTERP, Permutation(4, 8), 0.01) == "(23) not met: sketch is perm"
    got = notes(INTERP, Permutation(4, 8), 0.01, 5)
    assert got == {"bound_thm2": "(23) not met: sketch is perm", "bound_thm2_corrected": "(23) not met: sketch is perm"}
    printed = PreconditionedPerm.from_problem(PRECOND, variant="printed")
    assert theorem2_unmet(PRECOND, printed, 0.5) == "(23) not met: sketch is precond-perm:printed"
    other = pre(generators.heterogeneous(4, 4, 0.8, seed=5))  # (23) of another problem
    assert theorem2_unmet(PRECOND, other, 0.5) == \
        "(23) not met: the scales are not sqrt(n) (L_i)_jj^(-1/2) of this problem"
    assert theorem2(PRECOND, other, 0.5, 5) is None and not applies_theorem2(PRECOND, other, 0.5)


def test_gamma_above_one():
    reason = "gamma > 1 (gamma = 1.5; Theorem 2 needs 0 < gamma <= 1)"
    assert theorem2_unmet(PRECOND, pre(PRECOND), 1.5) == reason
    assert not applies_theorem2(PRECOND, pre(PRECOND), 1.5)
    got = notes(PRECOND, pre(PRECOND), 1.5, 5)
    assert got["bound_thm2"] == got["bound_thm2_corrected"] == reason
    assert theorem2_unmet(PRECOND, pre(PRECOND), 0.0).startswith("gamma <= 0")


def test_gamma_one_only_the_printed_bound_is_null():
    sk = pre(PRECOND)
    assert theorem2_unmet(PRECOND, sk, 1.0) is None and applies_theorem2(PRECOND, sk, 1.0)
    reason = theorem2_unmet(PRECOND, sk, 1.0, printed=True)
    assert reason == "gamma = 1: (29) admits no beta > 0 (the printed (30) needs gamma < 1)"
    out = exact_summary(PRECOND, sk, 1.0, 5)
    assert out["bound_thm2"] is None and out["bound_thm2_corrected"] is not None
    assert out["bound_notes"]["bound_thm2"] == reason and "bound_thm2_corrected" not in out["bound_notes"]
    assert theorem2_unmet(PRECOND, sk, 0.5, printed=True) is None


def test_every_bound_applies_no_notes():
    out = exact_summary(INTERP_SQ, pre(INTERP_SQ), 0.5, 10)
    assert all(out[b] is not None for b in BOUNDS)
    assert out["bound_notes"] == {}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_hypotheses_hold_but_moments_overflow():
    out = exact_summary(PRECOND, pre(PRECOND), 0.5, 10, x0=np.full(4, 1e200))
    at = out["diverged_at"]
    assert isinstance(at, int)
    expected = f"the exact moments overflowed the floating-point range at iteration {at}"
    assert out["bound_notes"]["bound_thm2"] == expected
    assert out["bound_notes"]["bound_thm2_corrected"] == out["bound_notes"]["bound_thm2"]
    assert out["bound_notes"]["bound_thm1"].startswith("not interpolation")  # an unmet hypothesis comes first


# --------------------------------------------------------------------------- the CLI

COMMANDS = {
    "pre": ("exact", "precond.json", "--sketch", "precond-perm", "--gamma", "1", "--iters", "5"),
    "interp": ("exact", "interp.json", "--sketch", "perm", "--gamma", "1", "--iters", "3"),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    if ISTTHEORY is None:
        pytest.skip("console script 'isttheory' is not installed")
    d = tmp_path_factory.mktemp("bound_notes")
    write_problem(d / "precond.json", PRECOND)
    write_problem(d / "interp.json", INTERP)
    jobs = {**COMMANDS, **{k + "-json": (*v, "--json") for k, v in COMMANDS.items()}}
    return run_concurrently(jobs, list(jobs), lambda k: d)


@pytest.mark.parametrize("name, expected", [
    ("pre", {"bound_thm1": "not interpolation: b_i != 0 (Theorem 1 needs b_i = 0)",
             "bound_thm2": "gamma = 1: (29) admits no beta > 0 (the printed (30) needs gamma < 1)"}),
    ("interp", {"bound_thm1": "gamma > 1/theta*", "bound_thm2": "(23) not met: sketch is perm",
                "bound_thm2_corrected": "(23) not met: sketch is perm"}),
])
def test_cli_prints_and_reports_the_notes(results, name, expected):
    out = ok_json(results, name + "-json")
    assert set(out["bound_notes"]) == set(expected) == {b for b in BOUNDS if out[b] is None}
    for bound, reason in expected.items():
        assert out["bound_notes"][bound].startswith(reason)
    text = ok(results, name).stdout
    rows = {ln.split()[0]: ln for ln in text.splitlines() if ln.startswith("bound_")}
    for bound, reason in out["bound_notes"].items():  # the reason in the table row itself, whole
        assert rows[bound].split(None, 1)[1].strip() == f"null: {reason}"
