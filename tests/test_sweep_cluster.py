"""Sweeps on a real multi-process cluster: a separate ``dask scheduler`` and ``dask worker`` processes.

Each cluster is started here (loopback, random ports, no dashboard, the workers' working directory
elsewhere than the client's, as on another machine) and always killed by its fixture. What a user
would meet on several machines: sketch files the workers cannot see, a file whose content is not the one
the cell id was made from, a worker with another isttheory version, a ``--scheduler`` port that is not a
scheduler, and a scheduler without workers.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from isttheory.errors import WorkerEnvironmentError
from isttheory.io import atomic_write_bytes
from isttheory.sweep import parse_spec, run_cell, run_sweep
from isttheory.sweep.store import RESULTS, STREAM
from tests.cli_harness import ISTTHEORY, run
from tests.test_sketches import _finite

pytestmark = pytest.mark.skipif(ISTTHEORY is None, reason="console script not installed")

DASK = str(Path(sys.executable).parent / "dask")

SPEC = """
[sweep]
seed = 11
[grid]
generator = "heterogeneous"
heterogeneity = [0.0, 0.6]
n = 3
d = 3
sketch = ["perm", "finite:sk.json", "perm-groups:groups.json"]
gamma = [0.05, 0.3]
seed = [0, 1]
[monte_carlo]
runs = 40
iters = 30
"""

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
           PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
"""Workers import the isttheory under test, whatever their working directory."""


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes, each in its own session (killed by group)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: list[subprocess.Popen[bytes]] = []
        self.address = ""

    def _spawn(self, args: list[str], cwd: Path, name: str) -> None:
        cwd.mkdir(parents=True, exist_ok=True)
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs.append(subprocess.Popen(args, cwd=cwd, env=ENV, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True))
        log.close()

    def scheduler(self) -> str:
        sfile = self.root / "scheduler.json"
        self._spawn([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(sfile)], self.root / "scheduler", "scheduler")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sfile.exists():
                try:
                    self.address = json.loads(sfile.read_text())["address"]
                    return self.address
                except (ValueError, KeyError):
                    pass
            assert self.procs[0].poll() is None, (self.root / "scheduler.log").read_text()
            time.sleep(0.1)
        raise AssertionError("dask scheduler did not start")

    def worker(self, name: str, *extra: str) -> None:
        self._spawn([DASK, "worker", self.address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                     "--host", "127.0.0.1", "--local-directory", str(self.root / name / "space"), *extra],
                    self.root / name, name)

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(n, timeout=90)

    def kill(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)  # the process and the worker its nanny started
        for p in self.procs:
            p.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        c.scheduler()
        c.worker("worker-a")
        c.worker("worker-b")
        c.wait_for_workers(2)
        yield c
    finally:
        c.kill()


@pytest.fixture
def lone_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("lone"))
    try:
        c.scheduler()
        yield c
    finally:
        c.kill()


def _client_dir(tmp_path: Path) -> Path:
    """The client's folder: the spec and the sketch files, by relative paths (absent where workers run)."""
    d = tmp_path / "client"
    d.mkdir()
    (d / "spec.toml").write_text(SPEC)
    sk = _finite(3, 3, k=3, seed=4)
    atomic_write_bytes(d / "sk.json", json.dumps({"probs": sk.probs.tolist(), "C": sk.table.tolist()}).encode())
    (d / "groups.json").write_text("[[0], [1], [2]]")
    return d


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_external_cluster_gives_the_local_results_and_sketch_files_travel(cluster, tmp_path):
    """The workers' cwd has no sk.json/groups.json: before, those cells were stored as invalid (exit 0)."""
    d = _client_dir(tmp_path)
    ext = run("sweep", "spec.toml", "--scheduler", cluster.address, "--out", "ext", "--quiet", cwd=d)
    assert ext.returncode == 0, ext.stdout + ext.stderr
    local = run("sweep", "spec.toml", "--workers", "1", "--out", "local", "--quiet", cwd=d)
    assert local.returncode == 0, local.stdout + local.stderr
    assert (d / "ext" / RESULTS).read_bytes() == (d / "local" / RESULTS).read_bytes()
    rows = _lines(d / "ext" / RESULTS)
    assert len(rows) == 24 and not [r for r in rows if r["result"]["status"] != "ok"]
    assert {r["params"]["sketch"] for r in rows if "sketch_sha256" in r["params"]} == {"finite:sk.json",
                                                                                      "perm-groups:groups.json"}
    import isttheory

    prov = [r["provenance"] for r in _lines(d / "ext" / STREAM)]
    assert len({p["pid"] for p in prov}) == 2  # both workers computed cells
    assert {p["hostname"] for p in prov} == {socket.gethostname()}
    assert {p["isttheory"] for p in prov} == {isttheory.__version__} and all(p["numpy"] and p["scipy"] for p in prov)


def test_a_tampered_file_is_a_failure_to_retry_never_a_result(cluster, tmp_path, monkeypatch):
    d = _client_dir(tmp_path)
    monkeypatch.chdir(d)
    spec = parse_spec(SPEC)
    good = dict(spec.files)
    finite_sha = next(c.params["sketch_sha256"] for c in spec.cells if c.params["sketch"] == "finite:sk.json")
    spec.files[finite_sha] = good[finite_sha].replace(b"0.", b"0.1", 1)  # what a worker's copy might hold
    first = run_sweep(spec, d / "out", scheduler=cluster.address)
    finite_ids = {c.id for c in spec.cells if c.params["sketch"] == "finite:sk.json"}
    assert {cid for cid, _ in first.failures} == finite_ids
    assert all(err.startswith("WorkerEnvironmentError: sketch file 'sk.json': the content here has SHA-256")
               for _, err in first.failures)
    assert not finite_ids & {r["id"] for r in _lines(d / "out" / STREAM)}  # not stored, not invalid
    spec.files.update(good)
    again = run_sweep(spec, d / "out", scheduler=cluster.address)  # the rerun retries exactly those cells
    assert not again.failures and again.computed == len(finite_ids) and again.reused == 24 - len(finite_ids)


def test_a_worker_file_that_differs_is_never_read_and_a_local_mismatch_raises(tmp_path, monkeypatch):
    d = _client_dir(tmp_path)
    monkeypatch.chdir(d)
    spec = parse_spec(SPEC)
    c = next(c for c in spec.cells if c.params["sketch"] == "finite:sk.json")
    shipped = spec.files[c.params["sketch_sha256"]]
    before = run_cell(c.params, c.mc_seed, spec.runs, spec.iters, spec.max_d, shipped)
    sk = _finite(3, 3, k=3, seed=5)
    atomic_write_bytes(d / "sk.json", json.dumps({"probs": sk.probs.tolist(), "C": sk.table.tolist()}).encode())
    assert run_cell(c.params, c.mc_seed, spec.runs, spec.iters, spec.max_d, shipped) == before
    with pytest.raises(WorkerEnvironmentError, match="the cell was defined with"):
        run_cell(c.params, c.mc_seed, spec.runs, spec.iters, spec.max_d)  # no content shipped: the file here
    (d / "sk.json").unlink()
    with pytest.raises(WorkerEnvironmentError, match="cannot read sketch file 'sk.json' on this machine"):
        run_cell(c.params, c.mc_seed, spec.runs, spec.iters, spec.max_d)


def test_finished_futures_are_released_as_cells_are_written(cluster, tmp_path, monkeypatch):
    """Held to the end, a lost worker made Dask recompute cells already stored."""
    from distributed import Client

    d = _client_dir(tmp_path)
    monkeypatch.chdir(d)
    spec = parse_spec(SPEC)

    def held(dask_scheduler) -> list[str]:  # noqa: ANN001 - run on the scheduler
        return [str(k) for k, ts in dask_scheduler.tasks.items()
                if str(k).startswith("isttheory-cell") and ts.state == "memory"]

    counts: list[int] = []
    with Client(cluster.address, timeout=30) as observer:
        def on_cell(done: int, total: int) -> None:
            """How many cells already written still have their result held on the cluster."""
            written = {r["id"] for r in _lines(d / "out" / STREAM)}
            deadline = time.monotonic() + 5
            while True:
                n = sum(1 for k in observer.run_on_scheduler(held) if k.split("-")[3] in written)
                if not n or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            counts.append(n)

        report = run_sweep(spec, d / "out", scheduler=cluster.address, on_cell=on_cell)
    assert report.computed == 24 and len(counts) == 24 and set(counts) == {0}


def test_a_worker_with_another_version_is_refused_in_one_line(tmp_path_factory, tmp_path):
    c = Cluster(tmp_path_factory.mktemp("other-version"))
    preload = c.root / "other_version.py"
    preload.write_text("import isttheory\nisttheory.__version__ = '0.0.0+other'\n")
    try:
        c.scheduler()
        c.worker("worker-old", "--preload", str(preload))
        c.wait_for_workers(1)
        d = _client_dir(tmp_path)
        proc = run("sweep", "spec.toml", "--scheduler", c.address, "--out", "out", cwd=d)
    finally:
        c.kill()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("isttheory: error: worker tcp://127.0.0.1:"), proc.stderr
    assert "runs isttheory 0.0.0+other" in lines[0] and "install the same versions on every machine" in lines[0]
    assert not (d / "out").exists()


class _Silent(threading.Thread):
    """A TCP server that accepts connections and never says anything."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []

    def run(self) -> None:
        try:
            while True:
                self.conns.append(self.sock.accept()[0])
        except OSError:
            return

    def close(self) -> None:
        self.sock.close()
        for conn in self.conns:
            conn.close()


@pytest.mark.parametrize("kind", ["silent", "http"])
def test_a_port_that_is_not_a_scheduler_is_one_line_within_the_timeout(tmp_path, kind):
    if kind == "silent":
        server: _Silent | http.server.ThreadingHTTPServer = _Silent()
        port = server.port
        server.start()
    else:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
    d = _client_dir(tmp_path)
    try:
        t = time.monotonic()
        proc = run("sweep", "spec.toml", "--scheduler", f"tcp://127.0.0.1:{port}", "--connect-timeout", "2",
                   "--out", "out", cwd=d)
        elapsed = time.monotonic() - t
    finally:
        if isinstance(server, _Silent):
            server.close()
        else:
            server.shutdown()
            server.server_close()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("isttheory: error: "), proc.stderr
    assert f"127.0.0.1:{port}" in lines[0]
    # an HTTP server waits for a request line that Dask's binary frames never complete: silent, too, here
    assert "did not answer as a Dask scheduler" in lines[0] or "does not speak the Dask protocol" in lines[0]
    assert elapsed < 40, elapsed  # process start-up plus the 2 s handshake; before, it never returned
    assert not (d / "out").exists()


def test_a_scheduler_without_workers_says_so_then_refuses(lone_scheduler, tmp_path):
    d = _client_dir(tmp_path)
    proc = run("sweep", "spec.toml", "--scheduler", lone_scheduler.address, "--worker-timeout", "3",
               "--out", "out", cwd=d)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [f"isttheory: the Dask scheduler at {lone_scheduler.address} has no worker; waiting up to 3 s "
                     "for one",
                     f"isttheory: error: no worker joined the Dask scheduler at {lone_scheduler.address} within 3 s; "
                     f"start some with 'dask worker {lone_scheduler.address}'"], proc.stderr
    assert not (d / "out").exists()


def test_a_worker_that_joins_during_the_wait_is_used(lone_scheduler, tmp_path, monkeypatch):
    d = _client_dir(tmp_path)
    monkeypatch.chdir(d)
    spec = parse_spec(SPEC.replace('sketch = ["perm", "finite:sk.json", "perm-groups:groups.json"]',
                                   'sketch = "finite:sk.json"'))
    said: list[str] = []

    def notify(line: str) -> None:
        said.append(line)
        lone_scheduler.worker("late-worker")

    report = run_sweep(spec, d / "out", scheduler=lone_scheduler.address, worker_timeout=90, notify=notify)
    assert len(said) == 1 and "has no worker; waiting up to 90 s" in said[0]
    assert report.computed == len(spec.cells) == 8 and not report.failures


def test_timeouts_are_checked(tmp_path, monkeypatch):
    from isttheory.errors import ParameterError

    spec = parse_spec(SPEC.replace('sketch = ["perm", "finite:sk.json", "perm-groups:groups.json"]',
                                   'sketch = "perm"'))
    with pytest.raises(ParameterError, match="--connect-timeout must be a positive number of seconds"):
        run_sweep(spec, tmp_path / "o", scheduler="tcp://127.0.0.1:9", connect_timeout=0)
    monkeypatch.setenv("ISTTHEORY_SWEEP_WORKER_TIMEOUT", "soon")
    with pytest.raises(ParameterError, match="--worker-timeout must be a number of seconds; got 'soon'"):
        run_sweep(spec, tmp_path / "o", scheduler="tcp://127.0.0.1:9")
    assert not (tmp_path / "o").exists()
