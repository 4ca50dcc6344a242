"""Run a sweep on ``dask.distributed``: a ``LocalCluster`` by default, or an existing scheduler.

Cells are submitted once each; as each finishes its record is appended to the stream
(:mod:`.store`) before the next is looked at, so an interruption loses no finished
cell and a rerun computes only the missing ones.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ParameterError, SchedulerError, WorkerVersionError
from ..io import atomic_write_bytes
from .cell import UNFIT, run_cell
from .spec import Cell, SweepSpec
from .store import FIGURE, SUMMARY, CellStore, dumps

CONNECT_TIMEOUT: float | str = 10.0
"""Seconds (or a Dask time string) to reach a ``--scheduler`` and have it answer as a Dask scheduler; a port
that accepts and says nothing (a web server, a dashboard) is refused after this. Default of
``--connect-timeout`` and of :data:`CONNECT_TIMEOUT_ENV`."""
WORKER_TIMEOUT: float | str = 60.0
"""Seconds to wait for a first worker on a ``--scheduler`` that has none (a one-line message says so while
waiting); then the sweep is refused. Default of ``--worker-timeout`` and of :data:`WORKER_TIMEOUT_ENV`."""
CONNECT_TIMEOUT_ENV = "ISTTHEORY_SWEEP_CONNECT_TIMEOUT"
WORKER_TIMEOUT_ENV = "ISTTHEORY_SWEEP_WORKER_TIMEOUT"
VERSIONED = ("isttheory", "numpy", "scipy")
"""Packages whose version must be the same on every worker as on the client."""


def worker_environment() -> dict[str, str]:
    """Where a cell runs: host name, Python, and the versions of :data:`VERSIONED` as this process has them
    imported (the module attributes, read at call time). Runs on each worker at connect and with each cell."""
    import numpy
    import scipy

    import isttheory

    return {"hostname": socket.gethostname(), "python": platform.python_version(),
            "isttheory": str(isttheory.__version__), "numpy": str(numpy.__version__), "scipy": str(scipy.__version__)}


def _versions(env: dict[str, str]) -> str:
    return ", ".join(f"{k} {env.get(k)}" for k in VERSIONED)


def _seconds(value: float | str | None, env: str, default: float | str, what: str) -> float:
    """A timeout in seconds: ``value``, else the environment variable ``env``, else ``default``."""
    from dask.utils import parse_timedelta

    raw: float | str = value if value is not None else os.environ.get(env, "") or default
    try:
        t = parse_timedelta(raw, default="seconds")
    except (ValueError, KeyError, TypeError):
        raise ParameterError(f"{what} must be a number of seconds; got {raw!r}") from None
    if t is None or not t > 0:
        raise ParameterError(f"{what} must be a positive number of seconds; got {raw!r}")
    return float(t)


@dataclass
class SweepReport:
    """What a sweep did: cell counts, the records in grid order, and failures (cells whose
    computation raised something other than a user-input error; they are not stored,
    so a rerun tries them again)."""

    total: int
    reused: int
    computed: int
    dropped: int
    duplicates: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        """Cell counts. ``ok``, ``diverged``, ``invalid`` and ``failed`` partition the cells: a cell whose
        Monte Carlo runs diverged is counted as ``diverged`` only, not also as ``ok``."""
        outcome = [_outcome(r["result"]) for r in self.records]
        return {"cells": self.total, "reused": self.reused, "computed": self.computed,
                "ok": outcome.count("ok"), "invalid": outcome.count("invalid"), "diverged": outcome.count("diverged"),
                "failed": len(self.failures), "dropped_partial_lines": self.dropped,
                "duplicate_lines": self.duplicates}


def _outcome(result: dict[str, Any]) -> str:
    """One of ``ok``, ``diverged`` (status ok, Monte Carlo diverged) or ``invalid``."""
    if result["status"] == "ok" and result.get("monte_carlo", {}).get("diverged"):
        return "diverged"
    return str(result["status"])


def timed_cell(params: dict[str, Any], mc_seed: int, runs: int, iters: int, max_d: int,
               sketch_content: bytes | None = None) -> dict[str, Any]:
    """Worker-side wrapper: the cell's result, its wall time and where it ran (provenance, not part of
    results). A :class:`~isttheory.errors.WorkerEnvironmentError` (shipped file content that does not match
    the cell's hash) propagates: the client reports the cell as failed and does not store it."""
    start = time.perf_counter()
    result = run_cell(params, mc_seed, runs, iters, max_d, sketch_content)
    return {"result": result, "elapsed_s": time.perf_counter() - start, "pid": os.getpid(),
            "environment": worker_environment()}


def _probe_scheduler(address: str, timeout: float) -> None:
    """Ask ``address`` who it is, all within ``timeout`` seconds: a port that accepts but is not a Dask
    scheduler (it says nothing, or something else) is a one-line :class:`SchedulerError`, never a hang."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.core import rpc

    scheme, location = parse_address(address)
    if scheme in ("tcp", "tls"):  # a refused or unroutable port is told apart from a silent one, at once
        host, port = parse_host_port(location)
        try:
            socket.create_connection((host, port), timeout=timeout).close()
        except OSError as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
            raise SchedulerError(f"cannot reach the Dask scheduler at {address}: {reason}") from None

    async def identity() -> Any:
        r = rpc(address, timeout=timeout)
        try:
            return await r.identity()
        finally:
            await r.close_rpc()

    def ask() -> Any:
        return asyncio.run(asyncio.wait_for(identity(), timeout))

    with ThreadPoolExecutor(1, thread_name_prefix="isttheory-probe") as pool:  # works under a running loop too
        try:
            answer = pool.submit(ask).result()
        except TimeoutError:
            raise SchedulerError(f"{address} did not answer as a Dask scheduler within {timeout:g} s (is it the "
                                 "scheduler's port, not its dashboard or another service?)") from None
        except Exception as exc:  # noqa: BLE001 - any reply of a foreign service is one line
            if scheme in ("tcp", "tls"):  # the port accepted: what came back is not the Dask protocol
                raise SchedulerError(f"{address} accepts connections but does not speak the Dask protocol (is "
                                     "it the scheduler's port, not its dashboard or another service?)") from None
            msg = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
            raise SchedulerError(f"cannot reach the Dask scheduler at {address}: {msg}") from None
    kind = answer.get("type") if isinstance(answer, dict) else None
    if kind != "Scheduler":
        raise SchedulerError(f"{address} answered but is not a Dask scheduler (it is a {kind or 'unknown service'})")


def check_workers(client: Any, address: str) -> dict[str, dict[str, str]]:
    """Every worker's :func:`worker_environment`; a worker with other isttheory, NumPy or SciPy versions than
    this process (or without them) is a one-line :class:`WorkerVersionError`."""
    here = worker_environment()
    found = client.run(worker_environment, on_error="return")
    for addr in sorted(found):
        env = found[addr]
        if isinstance(env, BaseException):
            raise WorkerVersionError(f"worker {addr} of {address} cannot report its versions "
                                     f"({type(env).__name__}: {str(env).splitlines()[0] if str(env) else ''}); "
                                     "install isttheory on every worker")
        if any(env.get(k) != here[k] for k in VERSIONED):
            raise WorkerVersionError(f"worker {addr} on {env.get('hostname')} runs {_versions(env)}; here "
                                     f"{_versions(here)}: install the same versions on every machine")
    return dict(found)


@contextmanager
def dask_client(scheduler: str | None, workers: int | None, connect_timeout: float | str | None = None,
                worker_timeout: float | str | None = None,
                notify: Callable[[str], None] | None = None) -> Iterator[Any]:
    """A client on ``scheduler`` (an address) or on a new loopback ``LocalCluster`` with
    ``workers`` single-threaded worker processes (default: the machine's cores).

    On a ``scheduler``: a bounded handshake (``connect_timeout``), then, if it has no worker, ``notify`` of a
    one-line wait and a refusal after ``worker_timeout``; then every worker's versions are checked
    (:func:`check_workers`). Each failure is a one-line :class:`SchedulerError`."""
    from distributed import Client, LocalCluster

    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ParameterError(f"--workers must be an integer >= 1; got {workers!r}")
    if scheduler is not None:
        if workers is not None:
            raise ParameterError("--workers applies to the local cluster only; the scheduler at "
                                 f"{scheduler} has its own workers")
        t_connect = _seconds(connect_timeout, CONNECT_TIMEOUT_ENV, CONNECT_TIMEOUT, "--connect-timeout")
        t_workers = _seconds(worker_timeout, WORKER_TIMEOUT_ENV, WORKER_TIMEOUT, "--worker-timeout")
        _probe_scheduler(scheduler, t_connect)
        try:
            client = Client(scheduler, timeout=t_connect)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            if not client.nthreads():
                say = notify or _stderr_line
                say(f"isttheory: the Dask scheduler at {scheduler} has no worker; waiting up to {t_workers:g} s "
                    "for one")
                try:
                    client.wait_for_workers(1, timeout=t_workers)
                except TimeoutError:
                    raise SchedulerError(f"no worker joined the Dask scheduler at {scheduler} within {t_workers:g} s; "
                                         f"start some with 'dask worker {scheduler}'") from None
            check_workers(client, scheduler)
            yield client
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    # no dashboard; the scheduler's HTTP endpoint (health, metrics) on a free port rather than 8787
    with _workers_ignore_ctrl_c():
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                               silence_logs=logging.CRITICAL)  # task errors reach the client; worker chatter not
    previous = logging.root.manager.disable
    try:
        with cluster, Client(cluster) as client:
            try:
                check_workers(client, "the local cluster")
                yield client
            except BaseException:
                # stopping early (Ctrl-C, an error): Dask's complaints about cancelled tasks and closed
                # connections while the cluster shuts down are expected; the CLI's one line says what happened
                logging.disable(logging.CRITICAL)
                raise
    finally:
        logging.disable(previous)


def _stderr_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Worker processes inherit SIGINT ignored: a terminal's Ctrl-C (sent to the whole process group)
    then reaches only this process, which shuts the cluster down in order."""
    main = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGINT, old)


def run_sweep(spec: SweepSpec, out: str | Path, scheduler: str | None = None, workers: int | None = None,
              on_cell: Callable[[int, int], None] | None = None, *, connect_timeout: float | str | None = None,
              worker_timeout: float | str | None = None, notify: Callable[[str], None] | None = None) -> SweepReport:
    """Run (or resume) ``spec`` into the folder ``out``; see :mod:`isttheory.sweep`.

    A new ``out`` is created only once the cluster is connected and its workers' versions checked (a
    refused connection leaves no folder behind). An existing ``out`` is checked (settings, lock) first, and a
    cluster is contacted only if some cell is missing. ``notify`` receives one-line status messages (default:
    stderr); the timeouts are those of :func:`dask_client`."""
    start = time.perf_counter()
    out = Path(out)
    with ExitStack() as stack:
        store: CellStore | None = None
        done: dict[str, dict[str, Any]] = {}
        if out.exists():
            store = CellStore(out, spec)
            stack.callback(store.close)
            done = store.load()
        pending = [c for c in spec.cells if c.id not in done]
        client = None
        if pending:
            client = stack.enter_context(dask_client(scheduler, workers, connect_timeout, worker_timeout, notify))
        if store is None:
            store = CellStore(out, spec)
            stack.callback(store.close)
            done = store.load()
        report = SweepReport(total=len(spec.cells), reused=len(done), computed=0, dropped=store.dropped,
                             duplicates=store.duplicates)
        if client is not None:
            _compute(client, spec, store, pending, done, report, on_cell)
        report.records = store.finish(done)
        summary = {"digest": spec.digest, **{k: v for k, v in report.counts().items()
                                             if k not in ("reused", "computed", "dropped_partial_lines",
                                                          "duplicate_lines")}}
        from .figure import neighbourhood_figure  # matplotlib: imported only when a sweep finishes

        atomic_write_bytes(store.out / SUMMARY, (dumps(summary) + "\n").encode())
        neighbourhood_figure(report.records, store.out / FIGURE)
    report.seconds = time.perf_counter() - start
    return report


def _compute(client: Any, spec: SweepSpec, store: CellStore, pending: list[Cell], done: dict[str, dict[str, Any]],
             report: SweepReport, on_cell: Callable[[int, int], None] | None) -> None:
    """Submit the pending cells; write each as it finishes, then release its future at once, so the cluster
    keeps no finished result (a lost worker then makes Dask recompute nothing already stored)."""
    from distributed import as_completed

    session = uuid.uuid4().hex[:12]
    here = worker_environment()
    # each sketch file's content is sent to the cluster once (on every worker), not with every task
    shipped = {sha: client.scatter(content, hash=True, broadcast=True) for sha, content in spec.files.items()}
    by_key = {}
    futures = []
    for c in pending:
        content = shipped.get(c.params.get("sketch_sha256", ""))
        fut = client.submit(timed_cell, c.params, c.mc_seed, spec.runs, spec.iters, spec.max_d, content,
                            key=f"isttheory-cell-{spec.digest}-{c.id}-{session}", pure=False)
        by_key[fut.key] = c
        futures.append(fut)
    finished = as_completed(futures)
    futures.clear()  # from here on only ``finished`` holds a future until it is handed out below
    for fut in finished:
        c = by_key.pop(fut.key)
        try:
            got = fut.result()
        except Exception as exc:  # a bug, a lost worker, a worker's environment: reported, not stored
            report.failures.append((c.id, f"{type(exc).__name__}: {exc}".splitlines()[0]))
            fut.release()
            continue
        fut.release()
        env = got["environment"]
        if got["result"]["status"] == UNFIT:  # depends on the machine: reported, not stored
            report.failures.append((c.id, got["result"]["error"]))
            continue
        if any(env.get(k) != here[k] for k in VERSIONED):  # a worker that joined after the check
            report.failures.append((c.id, f"WorkerVersionError: computed on {env.get('hostname')} with "
                                          f"{_versions(env)}; here {_versions(here)}; not stored"))
            continue
        rec = {"id": c.id, "params": c.params, "mc_seed": c.mc_seed,
               "result": got["result"],
               "provenance": {"session": session, "elapsed_s": round(got["elapsed_s"], 3),
                              "pid": got["pid"], **env}}
        store.append(rec)
        done[c.id] = rec
        report.computed += 1
        if on_cell is not None:
            on_cell(len(done), len(spec.cells))
    for f in shipped.values():
        f.release()
