"""The command line, run as a user runs it: the installed console script in a subprocess.

Every user mistake must exit with code 2 and print exactly one line
``isttheory: error: ...`` on stderr, never a traceback (unless ``--debug``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from isttheory import generators
from isttheory.io import write_problem
from isttheory.problem import QuadraticProblem
from isttheory.sketches import SPECS
from tests.cli_harness import ISTTHEORY, assert_one_line_error, loads_strict, ok, ok_json, run_concurrently

pytestmark = pytest.mark.skipif(ISTTHEORY is None, reason="console script 'isttheory' is not installed")

METRIC_KEYS = ("f", "grad2", "grad2_Linv", "dist2_L")


X0_STORED = np.array([0.25, -1.0, 2.0, 0.5])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Small problem files, written once for the module."""
    d = tmp_path_factory.mktemp("cli")
    p = generators.heterogeneous(2, 4, 0.5, seed=1)
    write_problem(d / "het.json", p)
    write_problem(d / "het_x0.json", p, X0_STORED)
    write_problem(d / "het_x0.npz", p, X0_STORED)
    write_problem(d / "odd.json", generators.heterogeneous(2, 3, 0.5, seed=2))  # d not a multiple of n
    write_problem(d / "square.json", generators.heterogeneous(3, 3, 0.5, seed=3))  # n = d
    # n = d = 2, each L_i PSD, L_0 has a zero diagonal entry (and so a zero row)
    zero_diag = QuadraticProblem(np.stack([np.diag([0.0, 1.0]), np.eye(2)]), np.ones((2, 2)))
    write_problem(d / "zero_diag.json", zero_diag)
    (d / "nonsym.json").write_text(json.dumps({"L": [[[1.0, 0.5], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]}))
    (d / "nonpsd.json").write_text(json.dumps({"L": [[[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]}))
    (d / "nan.json").write_text('{"L": [[[1.0, 0.0], [0.0, NaN]], [[1.0, 0.0], [0.0, 1.0]]]}')
    (d / "shapes.json").write_text(json.dumps({"L": [[[1.0, 0.0], [0.0, 1.0]]] * 2, "b": [[1.0, 2.0, 3.0]] * 2}))
    (d / "malformed.json").write_text('{"L": [[[1.0, 0.0], [0.0, 1.0]]],, }')
    full = json.dumps({"L": p.L.tolist(), "b": p.b.tolist()})
    (d / "truncated.json").write_text(full[: len(full) // 2])
    np.savez(d / "object.npz", L=np.array([object()], dtype=object))
    (d / "bad.npz").write_bytes(np.random.default_rng(0).bytes(512))  # garbage under an NPZ name
    write_problem(d / "singular.json", QuadraticProblem(np.stack([np.diag([1.0, 0.0])] * 2), np.ones((2, 2))))
    (d / "groups3.json").write_text("[[0, 3], [1], [2]]")  # 3 groups: not a multiple of n = 2
    (d / "pairs.json").write_text("[[0, 3], [1, 2]]")
    (d / "overlap.json").write_text("[[0, 1], [1, 2], [3]]")
    (d / "groups_bad.json").write_text("{not json")
    return {"dir": d, "problem": p}


SIM = ("--gamma", "0.1", "--iters", "3")
BASE = ("simulate", "het.json", "--sketch", "perm", "--gamma", "0.1", "--iters", "20", "--runs", "4", "--seed", "1",
        "--json")
BASE_X0 = ("simulate", "het_x0.json", *BASE[2:])

# Every command the tests run, by name. They are independent processes, so the
# ``results`` fixture runs them concurrently to keep this module fast.
COMMANDS: dict[str, tuple[str, ...]] = {
    "sketches": ("sketches",),
    "no-command": (),
    "base": BASE,
    "record-every": BASE + ("--record-every", "7"),
    "base-again": BASE,
    "base-seed2": (*BASE[:-2], "2", "--json"),
    "ist-2-steps": (*BASE, "--form", "ist", "--local-steps", "2"),
    "ist-1-step": (*BASE, "--form", "ist"),
    "x0-file-json": BASE_X0,
    "x0-file-npz": ("simulate", "het_x0.npz", *BASE[2:]),
    "x0-scalar": (*BASE_X0, "--x0", "0.5"),
    "x0-list": (*BASE_X0, "--x0", "1,2,3,-4"),
    "human": ("simulate", "het.json", "--sketch", "perm", "--gamma", "0.1", "--iters", "20", "--runs", "3"),
    "human-scaled": ("simulate", "het.json", "--sketch", "scaled-perm", "--gamma", "0.1", "--iters", "10"),
    "diverge-human": ("simulate", "het.json", "--sketch", "perm", "--gamma", "100", "--iters", "50"),
    "diverge-json": ("simulate", "het.json", "--sketch", "perm", "--gamma", "100", "--iters", "50", "--runs", "3",
                     "--json"),
    "extreme-x0-json": ("simulate", "het.json", "--sketch", "perm", "--gamma", "0.1", "--iters", "5", "--runs", "2",
                        "--x0", "1e200", "--json"),
    "verify": ("verify", "--quiet"),
    "verify-json": ("verify", "--json"),
    "verify-out": ("verify", "--quiet", "--out", "reports/run1"),
    "verify-problem": ("verify", "--problem", "square.json", "--json"),
    "singular-simulate": ("simulate", "singular.json", "--sketch", "perm", "--gamma", "0.1", "--iters", "5"),
    "sketch-groups-simulate": ("simulate", "het.json", "--sketch", "perm-groups:pairs.json", "--gamma", "0.1",
                               "--iters", "5", "--runs", "3", "--seed", "1", "--json"),
    "sketch-groups-exact": ("exact", "het.json", "--sketch", "perm-groups:pairs.json", "--gamma", "0.1", "--iters",
                            "5", "--json"),
    "debug-nonsym": ("--debug", "simulate", "nonsym.json", "--sketch", "perm", *SIM),
    "debug-missing": ("--debug", "simulate", "no-such-file.json", "--sketch", "perm", *SIM),
}

# Bad input: each must exit 2 with one line "isttheory: error: ..." on stderr.
BAD_INPUT: dict[str, tuple[str, ...]] = {
    "non-symmetric-L": ("simulate", "nonsym.json", "--sketch", "perm", *SIM),
    "non-psd-L": ("simulate", "nonpsd.json", "--sketch", "perm", *SIM),
    "nan-in-json": ("simulate", "nan.json", "--sketch", "perm", *SIM),
    "mismatched-shapes": ("simulate", "shapes.json", "--sketch", "perm", *SIM),
    "malformed-json": ("simulate", "malformed.json", "--sketch", "perm", *SIM),
    "truncated-json": ("simulate", "truncated.json", "--sketch", "perm", *SIM),
    "missing-file": ("simulate", "no-such-file.json", "--sketch", "perm", *SIM),
    "directory": ("simulate", ".", "--sketch", "perm", *SIM),
    "npz-object-array": ("simulate", "object.npz", "--sketch", "perm", *SIM),
    "npz-garbage": ("constants", "bad.npz", "--sketch", "perm"),
    "unknown-sketch": ("simulate", "het.json", "--sketch", "no-such-sketch", *SIM),
    "perm-d-not-multiple-of-n": ("simulate", "odd.json", "--sketch", "perm", *SIM),
    "precond-perm-n-ne-d": ("simulate", "het.json", "--sketch", "precond-perm", *SIM),
    "precond-perm-zero-diagonal": ("simulate", "zero_diag.json", "--sketch", "precond-perm", *SIM),
    "rand-q-too-large": ("simulate", "het.json", "--sketch", "rand:9", *SIM),
    "gamma-0": ("simulate", "het.json", "--sketch", "perm", "--gamma", "0", "--iters", "3"),
    "record-every-0": ("simulate", "het.json", "--sketch", "perm", *SIM, "--record-every", "0"),
    "record-every-text": ("simulate", "het.json", "--sketch", "perm", *SIM, "--record-every", "two"),
    "record-every-float": ("simulate", "het.json", "--sketch", "perm", *SIM, "--record-every", "2.5"),
    "gamma-negative": ("simulate", "het.json", "--sketch", "perm", "--gamma", "-1", "--iters", "3"),
    "gamma-nan": ("simulate", "het.json", "--sketch", "perm", "--gamma", "nan", "--iters", "3"),
    "gamma-inf": ("simulate", "het.json", "--sketch", "perm", "--gamma", "inf", "--iters", "3"),
    "iters-0": ("simulate", "het.json", "--sketch", "perm", "--gamma", "0.1", "--iters", "0"),
    "runs-0": ("simulate", "het.json", "--sketch", "perm", *SIM, "--runs", "0"),
    "x0-not-a-number": ("simulate", "het.json", "--sketch", "perm", *SIM, "--x0", "abc"),
    "x0-wrong-length": ("simulate", "het.json", "--sketch", "perm", *SIM, "--x0", "1,2"),
    "local-steps-with-sgd": ("simulate", "het.json", "--sketch", "perm", *SIM, "--form", "sgd",
                             "--local-steps", "2"),
    "negative-noise": ("simulate", "het.json", "--sketch", "perm", *SIM, "--noise", "-1"),
    "missing-sketch": ("simulate", "het.json", *SIM),
    "unknown-option": ("simulate", "het.json", "--sketch", "perm", *SIM, "--frobnicate"),
    "unknown-command": ("frobnicate",),
    "verify-bad-problem": ("verify", "--problem", "nonpsd.json", "--quiet"),
    "singular-L-bar-constants": ("constants", "singular.json", "--sketch", "perm"),
    "singular-L-bar-exact": ("exact", "singular.json", "--sketch", "perm", "--gamma", "0.1", "--iters", "3"),
    "too-large-for-memory": ("simulate", "het.json", "--sketch", "perm", "--gamma", "0.1", "--iters", "5",
                             "--runs", "100000000000"),
    "plugin-missing": ("verify", "--plugin", "no_such_plugin.py"),
    "sketch-groups-not-json": ("simulate", "het.json", "--sketch", "perm-groups:groups_bad.json", *SIM),
    "sketch-groups-overlap": ("simulate", "het.json", "--sketch", "perm-groups:overlap.json", *SIM),
    "sketch-groups-not-multiple-of-n": ("simulate", "het.json", "--sketch", "perm-groups:groups3.json", *SIM),
    "sketch-groups-missing-file": ("simulate", "het.json", "--sketch", "perm-groups:none.json", *SIM),
    "sketch-groups-no-file": ("simulate", "het.json", "--sketch", "perm-groups", *SIM),
    "sketch-groups-exact-d-mismatch": ("exact", "square.json", "--sketch", "perm-groups:pairs.json", "--gamma", "0.1",
                                       "--iters", "3"),
}


@pytest.fixture(scope="module")
def results(files):
    """Run every command of COMMANDS and BAD_INPUT once, concurrently; name -> CompletedProcess."""
    cwd = files["dir"]
    (cwd / "empty").mkdir()
    jobs = {**COMMANDS, **{"bad:" + k: v for k, v in BAD_INPUT.items()}}
    slow_first = sorted(jobs, key=lambda k: not jobs[k][:1] == ("verify",))
    return run_concurrently(jobs, slow_first, lambda k: cwd / "empty" if k == "verify-json" else cwd)


# --------------------------------------------------------------------------- sketches

def test_sketches_lists_every_spec(results):
    proc = ok(results, "sketches")
    lines = proc.stdout.splitlines()
    for spec, description in SPECS.items():
        assert any(line.split()[:1] == [spec] for line in lines), spec
        assert description[:20] in proc.stdout
    assert proc.stderr == ""


def test_sketch_groups_simulate_and_exact(results):
    """perm-groups:FILE runs in simulate (Monte Carlo) and exact (closed-form moments through the engine)."""
    sim = ok_json(results, "sketch-groups-simulate")
    ex = ok_json(results, "sketch-groups-exact")
    assert sim["settings"]["sketch"] == ex["sketch"] == "perm-groups:pairs.json"
    assert sim["settings"]["forms_coincide"] is True  # every coordinate owned once with scale n
    assert results["sketch-groups-simulate"].stderr == results["sketch-groups-exact"].stderr == ""


def test_no_command_prints_help(results):
    proc = results["no-command"]
    assert proc.returncode == 2
    assert "simulate" in proc.stdout and "verify" in proc.stdout


# --------------------------------------------------------------------------- simulate --json

def test_simulate_json_schema(results):
    out = ok_json(results, "base")
    assert out["iters"] == list(range(21))
    for key in METRIC_KEYS:
        assert set(out[key]) >= {"mean", "sem"}
        assert len(out[key]["mean"]) == len(out["iters"])
        assert len(out[key]["sem"]) == len(out["iters"])
        assert all(np.isfinite(out[key]["mean"])) and all(v >= 0 for v in out[key]["sem"])
    assert out["diverged"] is False
    assert out["diverged_at"] is None
    st = out["settings"]
    assert st["sketch"] == "perm" and st["gamma"] == 0.1 and st["iters"] == 20
    assert st["runs"] == 4 and st["seed"] == 1 and st["form"] == "sgd" and st["forms_coincide"] is True
    # runs start at the same x0, so iteration 0 has zero spread, and the method makes progress
    assert out["f"]["sem"][0] == 0.0
    assert out["dist2_L"]["mean"][-1] < out["dist2_L"]["mean"][0]


def test_simulate_json_metrics_are_consistent(results, files):
    out = ok_json(results, "base")
    p = files["problem"]
    x_mean = np.array(out["x_mean"])
    # f is convex, so f(mean x) <= mean f(x) (Jensen), with equality at k = 0
    f_of_mean = p.f(x_mean)
    assert np.all(f_of_mean <= np.array(out["f"]["mean"]) + 1e-12)
    assert f_of_mean[0] == pytest.approx(out["f"]["mean"][0], rel=1e-12)
    # ‖∇f(x)‖²_{L̄⁻¹} = ‖x − x*‖²_{L̄} for the quadratic (12)
    np.testing.assert_allclose(out["grad2_Linv"]["mean"], out["dist2_L"]["mean"], rtol=1e-9)


def test_simulate_record_every_thins_the_records(results):
    """--record-every 7 over K = 20 records 0, 7, 14 and 20, with the values the default records have there."""
    thin, full = ok_json(results, "record-every"), ok_json(results, "base")
    assert thin["iters"] == [0, 7, 14, 20]
    for key in METRIC_KEYS:
        assert thin[key]["mean"] == [full[key]["mean"][k] for k in thin["iters"]]
    assert thin["x_mean"] == [full["x_mean"][k] for k in thin["iters"]]


def test_simulate_same_seed_same_output(results):
    a, b = ok(results, "base"), ok(results, "base-again")
    assert a.stdout == b.stdout
    assert ok_json(results, "base-seed2")["f"]["mean"] != loads_strict(a.stdout)["f"]["mean"]


def test_simulate_ist_form_with_local_steps(results):
    out, sgd = ok_json(results, "ist-2-steps"), ok_json(results, "base")
    st = out["settings"]
    assert st["form"] == "ist" and st["local_steps"] == 2 and st["forms_coincide"] is False
    assert out["f"]["mean"][0] == sgd["f"]["mean"][0]
    assert out["f"]["mean"][1:] != sgd["f"]["mean"][1:]


def test_simulate_ist_one_step_equals_sgd_for_perm(results):
    # perm has perfect reconstruction, so forms (2) and (6) coincide with one local step
    ist, sgd = ok_json(results, "ist-1-step"), ok_json(results, "base")
    assert ist["settings"]["form"] == "ist"
    np.testing.assert_allclose(ist["f"]["mean"], sgd["f"]["mean"], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["x0-file-json", "x0-file-npz"])
def test_simulate_uses_x0_from_file(results, files, name):
    out = ok_json(results, name)
    assert out["f"]["mean"][0] == pytest.approx(float(files["problem"].f(X0_STORED)), rel=1e-12, abs=1e-14)
    np.testing.assert_array_equal(out["x_mean"][0], X0_STORED)


def test_simulate_x0_option_overrides_file(results, files):
    p = files["problem"]
    out = ok_json(results, "x0-scalar")
    assert out["f"]["mean"][0] == pytest.approx(float(p.f(np.full(4, 0.5))), rel=1e-12)
    np.testing.assert_array_equal(out["x_mean"][0], [0.5] * 4)
    out = ok_json(results, "x0-list")
    np.testing.assert_array_equal(out["x_mean"][0], [1.0, 2.0, 3.0, -4.0])
    assert out["f"]["mean"][0] == pytest.approx(float(p.f(np.array([1.0, 2.0, 3.0, -4.0]))), rel=1e-12)


def test_simulate_default_x0_is_ones(results, files):
    out = ok_json(results, "base")  # het.json stores no x0
    assert out["f"]["mean"][0] == pytest.approx(float(files["problem"].f(np.ones(4))), rel=1e-12)
    np.testing.assert_array_equal(out["x_mean"][0], np.ones(4))


# --------------------------------------------------------------------------- simulate, human output

def test_simulate_human_output_has_table(results):
    proc = ok(results, "human")
    lines = proc.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["k"])
    assert lines[header].split() == ["k", *METRIC_KEYS]
    assert set(lines[header + 1].replace(" ", "")) == {"-"}
    rows = [line.split()[0] for line in lines[header + 2:] if line.strip()]
    assert rows[0] == "0" and rows[-1] == "20"
    assert "±" in proc.stdout  # standard errors with R > 1
    assert "forms (2) and (6) differ" not in proc.stdout
    assert "DIVERGED" not in proc.stdout


def test_simulate_scaled_perm_notes_forms_differ(results):
    proc = ok(results, "human-scaled")
    assert "forms (2) and (6) differ" in proc.stdout
    assert "scaled-perm" in proc.stdout


# --------------------------------------------------------------------------- divergence

def test_divergent_step_human(results):
    proc = ok(results, "diverge-human")
    assert "DIVERGED" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_divergent_step_json_has_no_nan(results):
    out = ok_json(results, "diverge-json")  # raises on NaN/Infinity
    assert out["diverged"] is True
    assert isinstance(out["diverged_at"], int) and 0 < out["diverged_at"] <= 50
    assert isinstance(out["divergence_reason"], str) and out["divergence_reason"]
    assert out["iters"][-1] < out["diverged_at"]
    for key in METRIC_KEYS:
        assert len(out[key]["mean"]) == len(out["iters"])
        assert all(np.isfinite(out[key]["mean"]))


def test_extreme_x0_json_no_traceback(results):
    proc = results["extreme-x0-json"]
    assert "Traceback" not in proc.stderr
    assert proc.returncode in (0, 2)
    if proc.returncode == 0:
        out = loads_strict(proc.stdout)
        assert out["diverged"] and "overflow" in out["divergence_reason"]


# --------------------------------------------------------------------------- verify

def test_verify_table(results):
    proc = ok(results, "verify")
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:4] == ["claim", "instance", "variant", "verdict"]
    assert sum("VERIFIED" in line for line in lines) >= 5
    summary = [line for line in lines if line.startswith("summary:")]
    assert len(summary) == 1 and "VERIFIED" in summary[0] and "REFUTED" in summary[0]
    assert "UNEXPECTED" not in proc.stdout
    assert "Traceback" not in proc.stderr
    assert "warning" not in proc.stderr  # no simulation of verify's own claims has an unreliable mean


def test_verify_json(results, files):
    out = ok_json(results, "verify-json")
    assert out["schema"] == "isttheory.results/1"
    assert out["unexpected"] == 0
    assert sum(out["summary"].values()) == len(out["findings"]) > 0
    assert {"claim", "instance", "variant", "verdict"} <= set(out["findings"][0])
    assert list((files["dir"] / "empty").iterdir()) == []  # --json alone writes no files


def test_verify_out_writes_reports(results, files):
    proc = ok(results, "verify-out")
    out_dir = files["dir"] / "reports" / "run1"
    names = {p.name for p in out_dir.iterdir()}
    assert {"report.md", "report.html", "results.json", "constants.tex", "bound_checks.png"} <= names
    assert not [n for n in names if n.startswith(".")]  # atomic writes leave no temporary files
    payload = loads_strict((out_dir / "results.json").read_text())
    assert payload["schema"] == "isttheory.results/1"
    report = (out_dir / "report.md").read_text()
    assert report.startswith("#") and "VERIFIED" in report
    assert "results.json" in proc.stdout and "report.md" in proc.stdout


def test_verify_user_problem(results):
    out = ok_json(results, "verify-problem")
    assert out["schema"] == "isttheory.results/1"
    assert len(out["instances"]) == 1
    inst = out["instances"][0]
    assert (inst["n"], inst["d"]) == (3, 3)
    assert inst["description"] == "user problem"
    # per-instance claims run on the user's problem only; global claims (symbolic proofs, the Monte
    # Carlo bound checks on their own instances) run once
    from isttheory.claims import claims

    global_claims = {c.id for c in claims() if c.scope == "global"}
    assert {"mc-bounds", "sec41-bias-vanishes"} <= global_claims
    per_instance = [f for f in out["findings"] if f["claim"] not in global_claims]
    assert per_instance and {f["instance"] for f in per_instance} == {inst["name"]}


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_one_line_error(results, case):
    assert_one_line_error(results["bad:" + case])


@pytest.mark.parametrize(
    "case, needle",
    [
        ("non-symmetric-L", "symmetric"),
        ("non-psd-L", "semidefinite"),
        ("nan-in-json", "NaN"),
        ("missing-file", "not found"),
        ("npz-object-array", "pickle"),
        ("npz-garbage", "bad.npz is not a valid NPZ archive"),
        ("perm-d-not-multiple-of-n", "multiple"),
        ("precond-perm-n-ne-d", "n = d"),
        ("precond-perm-zero-diagonal", "diagonal"),
        ("unknown-sketch", "unknown sketch"),
        ("gamma-0", "gamma"),
        ("record-every-0", "--record-every: expected a positive integer, got '0'"),
        ("record-every-text", "--record-every: expected a positive integer, got 'two'"),
        ("record-every-float", "--record-every: expected a positive integer, got '2.5'"),
        ("missing-sketch", "--sketch"),
        ("local-steps-with-sgd", "local steps"),
        ("singular-L-bar-constants", "singular"),
        ("singular-L-bar-exact", "singular"),
        ("too-large-for-memory", "GiB"),
        ("sketch-groups-not-json", "not valid JSON"),
        ("sketch-groups-overlap", "disjoint"),
        ("sketch-groups-not-multiple-of-n", "multiple of n"),
        ("sketch-groups-missing-file", "cannot read"),
        ("sketch-groups-no-file", "perm-groups:FILE"),
        ("sketch-groups-exact-d-mismatch", "d = 3"),
    ],
)
def test_bad_input_messages_are_specific(results, case, needle):
    assert needle in results["bad:" + case].stderr


def test_debug_shows_traceback(results):
    for name, exc in (("debug-nonsym", "NotSymmetricError"), ("debug-missing", "ProblemFileError")):
        proc = results[name]
        assert proc.returncode != 0
        assert "Traceback" in proc.stderr
        assert exc in proc.stderr


def test_singular_L_bar_simulates_without_solution_metrics(results):
    """simulate needs no x*: it reports f and ‖∇f‖² and says why the others are missing."""
    proc = ok(results, "singular-simulate")
    assert "singular" in proc.stdout and "grad2_Linv" not in proc.stdout and "dist2_L" not in proc.stdout
