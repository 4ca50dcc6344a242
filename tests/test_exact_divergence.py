"""``isttheory exact`` reports divergence in mean square (rate ≥ 1) even before anything overflows.

Closed form: under the preconditioned Perm-1 sketch (23) ``B̄ = I`` for every outcome, so
``x⁺ = (1 − γ)x + γc`` and the mean-square rate is ``(1 − γ)²`` exactly: ``γ = 2.5`` gives 2.25,
``γ = 0.5`` gives 0.25. On the small Perm-2 problem, ``γ = 0.3`` is far beyond the stable region
(rate ≈ 17.5) yet three iterations stay well inside the floating-point range.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from isttheory import generators
from isttheory.io import write_problem
from isttheory.sketches import PreconditionedPerm
from isttheory.summary import exact_summary
from tests.cli_harness import ISTTHEORY, ok, ok_json, run_concurrently

PRECOND = generators.heterogeneous(4, 4, 0.8, seed=0)   # n = d = 4, for precond-perm
SMALL = generators.heterogeneous(2, 4, 0.5, seed=1)     # n = 2, d = 4, Perm-2
INTERP = generators.interpolation(4, 8, 0.5, seed=1)    # b_i = 0, Perm-2

PRE = ("exact", "precond.json", "--sketch", "precond-perm", "--iters", "5", "--gamma")
SM = ("exact", "small.json", "--sketch", "perm", "--iters", "3", "--gamma")
COMMANDS = {
    "pre-beyond": (*PRE, "2.5"),
    "pre-beyond-json": (*PRE, "2.5", "--json"),
    "pre-stable": (*PRE, "0.5"),
    "pre-stable-json": (*PRE, "0.5", "--json"),
    "small-beyond": (*SM, "0.3"),
    "small-beyond-json": (*SM, "0.3", "--json"),
    "small-stable": (*SM, "0.05"),
    "small-stable-json": (*SM, "0.05", "--json"),
    "overflow-json": ("exact", "interp.json", "--sketch", "perm", "--gamma", "1", "--iters", "50", "--json"),
}
RATE = re.compile(r"diverges in mean square \(rate ([0-9.eE+-]+)\)")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    if ISTTHEORY is None:
        pytest.skip("console script 'isttheory' is not installed")
    d = tmp_path_factory.mktemp("exact_divergence")
    write_problem(d / "precond.json", PRECOND)
    write_problem(d / "small.json", SMALL)
    write_problem(d / "interp.json", INTERP)
    return run_concurrently(COMMANDS, list(COMMANDS), lambda k: d)


@pytest.mark.parametrize("name, rate", [("pre-beyond", 2.25), ("small-beyond", None)])
def test_beyond_the_stable_region_before_any_overflow(results, name, rate):
    out = ok_json(results, name + "-json")
    assert out["diverged"] is True
    assert out["diverged_at"] is None and np.isfinite(out["dist2_L"])  # nothing has overflowed by K
    assert out["ms_rate"] >= 1
    if rate is not None:
        assert out["ms_rate"] == pytest.approx(rate, rel=1e-12)  # (1 − γ)² with γ = 2.5
    assert out["limit_dist2_L"] is None
    text = ok(results, name).stdout
    m = RATE.search(text)
    assert m, text
    assert float(m.group(1)) == pytest.approx(out["ms_rate"], rel=1e-5)
    assert re.search(r"^diverged\s+True$", text, re.M), text


@pytest.mark.parametrize("name", ["pre-stable", "small-stable"])
def test_stable_step_is_not_diverged(results, name):
    out = ok_json(results, name + "-json")
    assert out["diverged"] is False and out["diverged_at"] is None
    assert out["ms_rate"] < 1 and out["limit_dist2_L"] is not None
    text = ok(results, name).stdout
    assert "diverges" not in text and "overflowed" not in text
    assert re.search(r"^diverged\s+False$", text, re.M), text


def test_overflow_is_diverged_too(results):
    out = ok_json(results, "overflow-json")
    assert out["diverged"] is True and isinstance(out["diverged_at"], int) and out["ms_rate"] > 1


@pytest.mark.parametrize("gamma, diverged", [(0.5, False), (1.5, False), (2.0 + 1e-9, True), (2.5, True)])
def test_summary_diverged_follows_the_closed_form_rate(gamma, diverged):
    """``(1 − γ)² ≥ 1`` exactly when ``γ ≥ 2``; three iterations never overflow here."""
    out = exact_summary(PRECOND, PreconditionedPerm.from_problem(PRECOND), gamma, 3)
    assert out["ms_rate"] == pytest.approx((1 - gamma) ** 2, rel=1e-9)
    assert out["diverged"] is diverged and out["diverged_at"] is None
