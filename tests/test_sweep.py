"""Sweeps on Dask: spec parsing, per-cell determinism, the resumable stream, and real clusters.

The cluster tests use a two-worker ``LocalCluster`` on loopback (127.0.0.1): a small sweep
through ``--scheduler``, equality of results between 1 and 2 workers, and a sweep killed
with SIGKILL midway and resumed (no cell lost, none recomputed).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from isttheory.errors import ParameterError, SchedulerError, SweepSpecError
from isttheory.simulate import simulate
from isttheory.sketches import parse_sketch
from isttheory.sweep import build_problem, load_spec, parse_spec, run_cell, run_sweep
from isttheory.sweep import runner as runner_mod
from isttheory.sweep.spec import EXAMPLE
from isttheory.sweep.store import RESULTS, STREAM, CellStore
from tests.cli_harness import ISTTHEORY, run

SMALL = """
[sweep]
seed = 3
[grid]
generator = "heterogeneous"
heterogeneity = [0.0, 0.6]
n = 3
q = [1, 2]
sketch = ["perm", "precond-perm"]
gamma = [0.05, 0.3, 1.0]
seed = [0, 1]
[monte_carlo]
runs = 40
iters = 30
"""

SLOW = """
[sweep]
seed = 5
[grid]
generator = "heterogeneous"
heterogeneity = [0.2, 0.5, 0.8]
n = 6
d = 6
sketch = "precond-perm"
gamma = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
[monte_carlo]
runs = 3000
iters = 400
[exact]
max_d = 0
"""


# --------------------------------------------------------------------------- spec
def test_example_spec_parses_and_expands():
    spec = parse_spec(EXAMPLE)
    assert len(spec.cells) == 3 * 2 * 2 * 4 * 2
    assert {c.params["d"] for c in spec.cells} == {4, 8}
    assert len({c.id for c in spec.cells}) == len(spec.cells)
    assert len({c.mc_seed for c in spec.cells}) == len(spec.cells)


def test_cell_ids_and_seeds_depend_only_on_the_cell():
    small = parse_spec(SMALL)
    bigger = parse_spec(SMALL.replace("gamma = [0.05, 0.3, 1.0]", "gamma = [0.05, 0.1, 0.3, 1.0]"))
    by_id = {c.id: c for c in bigger.cells}
    for c in small.cells:
        assert by_id[c.id].params == c.params and by_id[c.id].mc_seed == c.mc_seed
    other_seed = parse_spec(SMALL.replace("seed = 3", "seed = 4"))
    assert [c.id for c in other_seed.cells] == [c.id for c in small.cells]
    assert all(a.mc_seed != b.mc_seed for a, b in zip(other_seed.cells, small.cells, strict=True))


def test_axes_a_generator_does_not_take_are_dropped():
    spec = parse_spec(SMALL.replace('generator = "heterogeneous"', 'generator = ["homogeneous", "heterogeneous"]'))
    homo = [c for c in spec.cells if c.params["generator"] == "homogeneous"]
    assert homo and all("heterogeneity" not in c.params for c in homo)
    assert len(homo) == len([c for c in spec.cells if c.params["generator"] == "heterogeneous"]) // 2


BAD_SPECS = [
    ("[grid\n", "not valid TOML"),
    ("[oops]\n", "unknown section [oops]"),
    ("[grid]\nn = 2\nd = 2\nsketch = 'perm'\ngamma = 0.1\n", "grid.generator is required"),
    ("[grid]\ngenerator = 'heterogeneous'\nn = 2\nd = 2\nsketch = 'perm'\ngamma = 0.1\nwidth = 3\n",
     "unknown key 'width'"),
    ("[grid]\ngenerator = 'nope'\nn = 2\nd = 2\nsketch = 'perm'\ngamma = 0.1\n", "unknown generator 'nope'"),
    ("[grid]\ngenerator = 'heterogeneous'\nn = 2\nd = 2\nq = 1\nsketch = 'perm'\ngamma = 0.1\n", "not both"),
    ("[grid]\ngenerator = 'heterogeneous'\nn = 2\nsketch = 'perm'\ngamma = 0.1\n", "grid.d or grid.q"),
    ("[grid]\ngenerator = 'heterogeneous'\nn = 2\nd = 2\nsketch = 'perm'\ngamma = -0.1\n", "must be positive"),
    ("[grid]\ngenerator = 'heterogeneous'\nn = 2\nd = 2\nsketch = 'perm'\ngamma = nan\n", "must be finite"),
    ("[grid]\ngenerator = 'heterogeneous'\nn = 2\nd = 2\nsketch = 'perm'\ngamma = '0.1'\n", "must be int or float"),
    ("[grid]\ngenerator = 'heterogeneous'\nn = 0\nd = 2\nsketch = 'perm'\ngamma = 0.1\n", "grid.n values must be"),
    ("[grid]\ngenerator = 'heterogeneous'\nn = 2\nd = 2\nsketch = 'perm'\ngamma = []\n", "empty list"),
    ("[grid]\ngenerator = 'heterogeneous'\nn = 2\nd = 2\nsketch = 'perm'\ngamma = [0.1, 0.1]\n", "twice"),
    ("[grid]\ngenerator = 'heterogeneous'\nn = 2\nd = 2\nsketch = 'perm'\ngamma = 0.1\nform = 'adam'\n",
     "'sgd' or 'ist'"),
    ("[grid]\ngenerator = 'heterogeneous'\nheterogeneity = 2.0\nn = 2\nd = 2\nsketch = 'perm'\ngamma = 0.1\n",
     "[0, 1]"),
    ("[grid]\ngenerator = 'heterogeneous'\nn = 2\nd = 2\nsketch = 'perm'\ngamma = 0.1\n[monte_carlo]\nruns = 1\n",
     "runs must be an integer >= 2"),
    ("[grid]\ngenerator = 'heterogeneous'\nn = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nd = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
     "sketch = 'perm'\ngamma = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nseed = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
     "cond = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n", "at most 100000"),
]


_BASE = "[grid]\ngenerator = 'heterogeneous'\nn = 2\nd = 2\ngamma = 0.1\n"
BAD_SPECS += [
    (_BASE + "sketch = 'prem'\n", "unknown sketch 'prem'"),
    (_BASE + "sketch = 'rand'\n", "rand needs the number"),
    (_BASE + "sketch = 'perm:3'\n", "takes no parameter"),
    (_BASE + "sketch = 'perm'\ncond = 0.5\n", "must be >= 1"),
    (_BASE + "sketch = 'perm'\nrank = [1, 2]\n", "grid.rank is not a parameter of generator(s) heterogeneous"),
    (_BASE + "sketch = 'finite:/no/such/file.json'\n", "cannot be read"),
]


@pytest.mark.parametrize("text,message", BAD_SPECS)
def test_bad_specs_are_refused_with_one_line(text, message):
    with pytest.raises(SweepSpecError) as info:
        parse_spec(text)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_bad_specs_through_the_cli(tmp_path):
    (tmp_path / "bad.toml").write_text(BAD_SPECS[3][0])
    (tmp_path / "ok.toml").write_text(SMALL)
    (tmp_path / "file").write_text("x")
    cases = [(("sweep", "missing.toml"), "does not exist"), (("sweep", "bad.toml"), "unknown key"),
             (("sweep",), "needs a spec file"), (("sweep", "ok.toml", "--workers", "0"), "positive integer"),
             (("sweep", "ok.toml", "--out", "file"), "not a folder")]
    for args, message in cases:
        proc = run(*args, cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, proc.stderr)


def test_example_flag_prints_a_spec_that_loads(tmp_path):
    proc = run("sweep", "--example", cwd=tmp_path)
    assert proc.returncode == 0
    (tmp_path / "ex.toml").write_text(proc.stdout)
    assert len(load_spec(tmp_path / "ex.toml").cells) == len(parse_spec(EXAMPLE).cells)


def test_sgd_cells_have_one_local_step():
    spec = parse_spec(SMALL.replace("seed = [0, 1]", "seed = 0\nform = ['sgd', 'ist']\nlocal_steps = [1, 3]"))
    sgd = [c for c in spec.cells if c.params["form"] == "sgd"]
    ist = [c for c in spec.cells if c.params["form"] == "ist"]
    assert {c.params["local_steps"] for c in sgd} == {1} and len(ist) == 2 * len(sgd)


def test_a_finite_sketch_file_enters_the_cell_id_by_content(tmp_path):
    from tests.test_sketches import _finite

    path = tmp_path / "sk.json"
    text = SMALL.replace('sketch = ["perm", "precond-perm"]', f'sketch = "finite:{path}"').replace("q = [1, 2]",
                                                                                                  "q = 1")
    sk = _finite(3, 3)
    from isttheory.io import atomic_write_bytes

    atomic_write_bytes(path, json.dumps({"probs": sk.probs.tolist(), "C": sk.table.tolist()}).encode())
    first = parse_spec(text)
    atomic_write_bytes(path, json.dumps({"probs": sk.probs[::-1].tolist(), "C": sk.table.tolist()}).encode())
    second = parse_spec(text)
    assert {c.id for c in first.cells}.isdisjoint(c.id for c in second.cells)


# --------------------------------------------------------------------------- cells
def test_cell_is_deterministic_and_its_monte_carlo_is_the_simulator_with_the_cell_seed():
    spec = parse_spec(SMALL)
    c = next(c for c in spec.cells if c.params["sketch"] == "precond-perm" and c.params["d"] == 3
             and c.params["gamma"] == 1.0 and c.params["heterogeneity"] == 0.6)
    a = run_cell(c.params, c.mc_seed, spec.runs, spec.iters, spec.max_d)
    b = run_cell(c.params, c.mc_seed, spec.runs, spec.iters, spec.max_d)
    assert a == b and a["status"] == "ok"
    p = build_problem(c.params)
    sim = simulate(p, parse_sketch(c.params["sketch"], p), c.params["gamma"], spec.iters, runs=spec.runs,
                   seed=c.mc_seed, record=[0, spec.iters])
    assert a["monte_carlo"]["dist2_L"] == pytest.approx(sim.metrics["dist2_L"].mean[-1], rel=1e-12)
    # the exact limit lies within 5 standard errors of the Monte Carlo value at K (γ = 1: stationary after step 1)
    mc, se = a["monte_carlo"]["dist2_L"], a["monte_carlo"]["dist2_L_sem"]
    assert abs(mc - a["exact"]["limit_dist2_L"]) < 5 * se + 1e-3


def test_invalid_combinations_are_recorded_not_raised():
    spec = parse_spec(SMALL)
    c = next(c for c in spec.cells if c.params["sketch"] == "precond-perm" and c.params["d"] == 6)
    out = run_cell(c.params, c.mc_seed, spec.runs, spec.iters, spec.max_d)
    assert out["status"] == "invalid" and "needs n = d" in out["error"]


def test_cells_that_overflow_or_do_not_fit_are_answered_not_raised():
    spec = parse_spec(SMALL)
    c = spec.cells[0]
    over = run_cell({**c.params, "gamma": 1e200}, c.mc_seed, spec.runs, spec.iters, spec.max_d)
    assert over["status"] == "invalid" and "\n" not in over["error"]
    unfit = run_cell(c.params, c.mc_seed, 10**11, spec.iters, spec.max_d)
    assert unfit["status"] == "unfit" and "needs about" in unfit["error"]


def test_a_huge_instance_is_an_invalid_cell_with_its_line_not_a_memory_error():
    """A sweep with d = 200000 printed "FAILED cell …: MemoryError" and exited 1."""
    spec = parse_spec(SMALL)
    c = spec.cells[0]
    out = run_cell({**c.params, "n": 4, "d": 200_000}, c.mc_seed, spec.runs, spec.iters, spec.max_d)
    assert out["status"] == "invalid" and out["error"].startswith("ResourceError: a dense problem with n = 4, "
                                                                  "d = 200000 needs about")
    assert "\n" not in out["error"]


TINY = """
[sweep]
seed = 1
[grid]
generator = "heterogeneous"
n = 2
d = [4, 200000]
sketch = "perm"
gamma = [0.1, 50.0]
[monte_carlo]
runs = 3
iters = 20
[exact]
max_d = 0
"""


@pytest.mark.skipif(ISTTHEORY is None, reason="console script not installed")
def test_sweep_counts_partition_the_cells(tmp_path):
    """ok, diverged, invalid and failed partition the cells: the diverged cell was also counted as ok
    ("ok 4 … diverged 1" for 4 cells); the d = 200000 cells are invalid, each with its one line, exit 0."""
    (tmp_path / "tiny.toml").write_text(TINY)
    proc = run("sweep", "tiny.toml", "--out", "out", "--workers", "1", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok 1, diverged 1, invalid 2, failed 0" in proc.stdout, proc.stdout
    invalid = [ln for ln in proc.stdout.splitlines() if ln.startswith("invalid cell ")]
    assert len(invalid) == 2 and all("d = 200000 needs about" in ln for ln in invalid)
    assert "FAILED" not in proc.stdout and "Traceback" not in proc.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["ok"] + summary["diverged"] + summary["invalid"] + summary["failed"] == summary["cells"] == 4


def test_structured_cells_skip_dense_engines():
    params = {"generator": "low_rank_diagonal", "n": 50, "d": 200, "sketch": "perm", "gamma": 0.001,
              "form": "sgd", "local_steps": 1, "seed": 0, "noise": 0.0, "heterogeneity": 0.5}
    out = run_cell(params, 1, 10, 5, 64)
    assert out["constants"] is None and out["exact"] is None and "dense problem" in out["skipped"]
    assert out["monte_carlo"]["dist2_L"] is not None


# --------------------------------------------------------------------------- store
def test_store_drops_a_torn_last_line_and_keeps_other_grids(tmp_path):
    spec = parse_spec(SMALL)
    store = CellStore(tmp_path, spec)
    c0, c1 = spec.cells[:2]
    store.append({"id": c0.id, "params": c0.params, "result": {"status": "ok"}})
    store.append({"id": "feedfacefeedface", "params": {}, "result": {"status": "ok"}})  # from a larger grid
    with open(tmp_path / STREAM, "ab") as fh:
        fh.write(b'{"id": "' + c1.id.encode() + b'", "res')  # the write a SIGKILL interrupted
    store.close()
    again = CellStore(tmp_path, spec)
    done = again.load()
    again.close()
    assert set(done) == {c0.id} and again.dropped == 1
    assert (tmp_path / STREAM).read_bytes().count(b"\n") == 2 and b"res\n" not in (tmp_path / STREAM).read_bytes()


def test_store_drops_malformed_and_duplicate_lines(tmp_path):
    spec = parse_spec(SMALL)
    store = CellStore(tmp_path, spec)
    c0 = spec.cells[0]
    rec = {"id": c0.id, "params": c0.params, "result": {"status": "ok"}}
    store.append(rec)
    store.append(rec)
    store.append({"id": spec.cells[1].id, "result": {"status": "ok"}})  # no params
    store.append({"id": spec.cells[2].id, "params": {}, "result": {}})  # no status
    store.close()
    again = CellStore(tmp_path, spec)
    assert set(again.load()) == {c0.id} and again.dropped == 2 and again.duplicates == 1
    again.close()


def test_one_sweep_at_a_time_per_folder(tmp_path):
    spec = parse_spec(SMALL)
    holder = CellStore(tmp_path, spec)
    try:
        with pytest.raises(SweepSpecError, match="another sweep is running"):
            run_sweep(spec, tmp_path, workers=1)
    finally:
        holder.close()


def test_store_refuses_a_folder_of_other_settings(tmp_path):
    CellStore(tmp_path, parse_spec(SMALL)).close()
    with pytest.raises(SweepSpecError, match="other settings"):
        CellStore(tmp_path, parse_spec(SMALL.replace("runs = 40", "runs = 41")))
    CellStore(tmp_path, parse_spec(SMALL.replace("gamma = [0.05, 0.3, 1.0]", "gamma = 0.2"))).close()  # may grow


# --------------------------------------------------------------------------- clusters
@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"}) as c:
        yield c


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_two_worker_cluster_sweep_matches_cells_computed_here(cluster, tmp_path):
    spec = parse_spec(SMALL)
    report = run_sweep(spec, tmp_path, scheduler=cluster.scheduler_address)
    assert report.computed == len(spec.cells) and not report.failures
    assert {r["provenance"]["pid"] for r in _lines(tmp_path / STREAM)} != {os.getpid()}
    rows = _lines(tmp_path / RESULTS)
    assert [r["index"] for r in rows] == list(range(len(spec.cells)))
    for row in rows[::5]:
        c = spec.cells[row["index"]]
        here = run_cell(c.params, c.mc_seed, spec.runs, spec.iters, spec.max_d)
        assert row["result"]["status"] == here["status"]
        if here["status"] == "ok" and not here["monte_carlo"]["diverged"]:
            assert row["result"]["monte_carlo"]["dist2_L"] == pytest.approx(here["monte_carlo"]["dist2_L"],
                                                                            rel=1e-9)
    assert (tmp_path / "neighbourhood.png").stat().st_size > 10_000
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["cells"] == len(spec.cells)
    assert summary["ok"] + summary["diverged"] + summary["invalid"] == len(spec.cells)
    again = run_sweep(spec, tmp_path, scheduler=cluster.scheduler_address)
    assert again.computed == 0 and again.reused == len(spec.cells)


def test_one_and_two_workers_give_identical_results(tmp_path):
    spec = parse_spec(SMALL)
    run_sweep(spec, tmp_path / "one", workers=1)
    run_sweep(spec, tmp_path / "two", workers=2)
    assert (tmp_path / "one" / RESULTS).read_bytes() == (tmp_path / "two" / RESULTS).read_bytes()


def test_a_grown_grid_reuses_cells_and_equals_a_fresh_run(tmp_path):
    small = parse_spec(SMALL.replace("gamma = [0.05, 0.3, 1.0]", "gamma = [0.3, 1.0]"))
    grown = parse_spec(SMALL)
    run_sweep(small, tmp_path / "grown", workers=1)
    report = run_sweep(grown, tmp_path / "grown", workers=1)
    assert report.reused == len(small.cells) and report.computed == len(grown.cells) - len(small.cells)
    run_sweep(grown, tmp_path / "fresh", workers=1)
    assert (tmp_path / "grown" / RESULTS).read_bytes() == (tmp_path / "fresh" / RESULTS).read_bytes()


def test_cells_that_do_not_fit_are_reported_and_not_stored(tmp_path):
    spec = parse_spec(SMALL.replace("runs = 40", "runs = 100000000000").replace("q = [1, 2]", "q = 1")
                      .replace("seed = [0, 1]", "seed = 0").replace("gamma = [0.05, 0.3, 1.0]", "gamma = 0.3"))
    report = run_sweep(spec, tmp_path, workers=1)
    assert report.failures and all("needs about" in err for _, err in report.failures)
    assert not (tmp_path / STREAM).exists() or all(
        r["result"]["status"] != "unfit" for r in _lines(tmp_path / STREAM))


def test_a_port_answering_in_another_protocol_is_named_as_such(monkeypatch, tmp_path):
    """A service that answers at once with bytes of its own (an HTTP proxy's "400 Bad Request") is read by
    Dask as a frame length of exabytes; the user sees that the port is not a Dask scheduler, not that."""
    import threading

    monkeypatch.setattr(runner_mod, "CONNECT_TIMEOUT", "5s")
    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        while True:
            try:
                conn = server.accept()[0]
            except OSError:
                return
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
            conn.close()

    threading.Thread(target=answer, daemon=True).start()
    try:
        with pytest.raises(SchedulerError, match="accepts connections but does not speak the Dask protocol"):
            run_sweep(parse_spec(SMALL), tmp_path, scheduler=f"tcp://127.0.0.1:{server.getsockname()[1]}")
    finally:
        server.close()


def test_unreachable_scheduler_and_conflicting_options(monkeypatch, tmp_path):
    spec = parse_spec(SMALL)
    monkeypatch.setattr(runner_mod, "CONNECT_TIMEOUT", "1s")
    with socket.socket() as closed:  # a port nobody listens on: bound, never listening
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        with pytest.raises(SchedulerError, match="cannot reach the Dask scheduler .*: Connection refused"):
            run_sweep(spec, tmp_path, scheduler=f"tcp://127.0.0.1:{port}")
    with pytest.raises(ParameterError, match="local cluster only"):
        run_sweep(spec, tmp_path, scheduler="tcp://127.0.0.1:9", workers=2)


def _start_and_stop(tmp_path: Path, at_lines: int, sig: int) -> subprocess.CompletedProcess | int:
    """Start ``isttheory sweep slow.toml`` in its own process group; once the stream has ``at_lines``
    lines, send ``sig`` to the whole group (as a terminal's Ctrl-C does, or a kill of everything)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.Popen([ISTTHEORY, "sweep", "slow.toml", "--out", "out", "--workers", "2", "--quiet"],
                            cwd=tmp_path, env=env, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    stream = tmp_path / "out" / STREAM
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if stream.exists() and stream.read_bytes().count(b"\n") >= at_lines:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, sig)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.skipif(ISTTHEORY is None, reason="console script not installed")
def test_interrupted_and_killed_sweep_resumes_without_losing_or_recomputing_cells(tmp_path):
    (tmp_path / "slow.toml").write_text(SLOW)
    spec = parse_spec(SLOW)
    out = tmp_path / "out"
    stream = out / STREAM
    # 1. Ctrl-C: exit 130, one line, finished cells kept
    first = _start_and_stop(tmp_path, 3, signal.SIGINT)
    assert first.returncode == 130, first.stderr
    assert first.stderr.strip().splitlines() == [
        "isttheory: interrupted; finished cells are saved in out; run the same command to resume"]
    after_ctrl_c = _lines(stream)
    assert 3 <= len(after_ctrl_c) < len(spec.cells)
    # 2. resumed, then SIGKILL to the CLI, its cluster and workers
    _start_and_stop(tmp_path, len(after_ctrl_c) + 3, signal.SIGKILL)
    before = _lines(stream)
    assert before[: len(after_ctrl_c)] == after_ctrl_c
    assert len(after_ctrl_c) + 3 <= len(before) < len(spec.cells), "the sweep was not interrupted midway"
    assert not (out / RESULTS).exists()
    with open(stream, "ab") as fh:  # and as if the kill had torn the next write
        fh.write(b'{"id":"' + spec.cells[-1].id.encode() + b'","result":{"sta')
    # 3. resumed to the end
    resumed = run("sweep", "slow.toml", "--out", "out", "--workers", "2", "--json", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    counts = json.loads(resumed.stdout)
    assert counts["reused"] == len(before) and counts["computed"] == len(spec.cells) - len(before)
    assert counts["dropped_partial_lines"] == 1 and counts["duplicate_lines"] == 0
    after = _lines(stream)
    assert after[: len(before)] == before  # finished cells kept exactly, with their sessions
    assert sorted(r["id"] for r in after) == sorted(c.id for c in spec.cells)  # none lost, none twice
    assert len({r["provenance"]["session"] for r in after}) == 3
    # and the resumed sweep's results equal a straight run's, cell for cell
    straight = run_sweep(spec, tmp_path / "straight", workers=1)
    assert (out / RESULTS).read_bytes() == (tmp_path / "straight" / RESULTS).read_bytes()
    assert straight.computed == len(spec.cells)


def test_results_hold_no_nan(tmp_path):
    spec = parse_spec(SMALL.replace("gamma = [0.05, 0.3, 1.0]", "gamma = [5.0]"))  # diverges
    run_sweep(spec, tmp_path, workers=1)
    text = (tmp_path / RESULTS).read_text()
    json.loads("[" + ",".join(text.splitlines()) + "]", parse_constant=lambda t: pytest.fail(t))
    rows = _lines(tmp_path / RESULTS)
    assert any(r["result"].get("monte_carlo", {}).get("diverged_at") for r in rows)


def test_python_api_is_exported():
    import isttheory.sweep as sw

    assert callable(sw.run_sweep) and np.all([hasattr(sw, n) for n in sw.__all__])
    assert sys.modules["isttheory.sweep"] is sw


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[1] / "examples" / "sweeps").glob("*.toml")))
def test_example_sweep_specs_load(path):
    spec = load_spec(path)
    assert spec.cells and all(c.params["d"] >= 1 for c in spec.cells)
