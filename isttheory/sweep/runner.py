"""Run a sweep on ``dask.distributed``: a ``LocalCluster`` by default, or an existing scheduler.

Cells are submitted once each; as each finishes its record is appended to the stream
(:mod:`.store`) before the next is looked at, so an interruption loses no finished
cell and a rerun computes only the missing ones.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ParameterError, SchedulerError
from ..io import atomic_write_bytes
from .cell import UNFIT, run_cell
from .spec import Cell, SweepSpec
from .store import FIGURE, SUMMARY, CellStore, dumps

CONNECT_TIMEOUT = "10s"
"""How long to try reaching a ``--scheduler`` before giving up."""


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


def timed_cell(params: dict[str, Any], mc_seed: int, runs: int, iters: int, max_d: int) -> dict[str, Any]:
    """Worker-side wrapper: the cell's result and its wall time (provenance, not part of results)."""
    start = time.perf_counter()
    result = run_cell(params, mc_seed, runs, iters, max_d)
    return {"result": result, "elapsed_s": time.perf_counter() - start, "pid": os.getpid()}


@contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A client on ``scheduler`` (an address) or on a new loopback ``LocalCluster`` with
    ``workers`` single-threaded worker processes (default: the machine's cores)."""
    from distributed import Client, LocalCluster

    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ParameterError(f"--workers must be an integer >= 1; got {workers!r}")
    if scheduler is not None:
        if workers is not None:
            raise ParameterError("--workers applies to the local cluster only; the scheduler at "
                                 f"{scheduler} has its own workers")
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
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
                yield client
            except BaseException:
                # stopping early (Ctrl-C, an error): Dask's complaints about cancelled tasks and closed
                # connections while the cluster shuts down are expected; the CLI's one line says what happened
                logging.disable(logging.CRITICAL)
                raise
    finally:
        logging.disable(previous)


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
              on_cell: Callable[[int, int], None] | None = None) -> SweepReport:
    """Run (or resume) ``spec`` into the folder ``out``; see :mod:`isttheory.sweep`."""
    start = time.perf_counter()
    store = CellStore(out, spec)
    try:
        return _run(spec, store, scheduler, workers, on_cell, start)
    finally:
        store.close()


def _run(spec: SweepSpec, store: CellStore, scheduler: str | None, workers: int | None,
         on_cell: Callable[[int, int], None] | None, start: float) -> SweepReport:
    from distributed import as_completed

    done = store.load()
    pending: list[Cell] = [c for c in spec.cells if c.id not in done]
    report = SweepReport(total=len(spec.cells), reused=len(done), computed=0, dropped=store.dropped,
                         duplicates=store.duplicates)
    session = uuid.uuid4().hex[:12]
    if pending:
        with dask_client(scheduler, workers) as client:
            by_key = {}
            futures = []
            for c in pending:
                fut = client.submit(timed_cell, c.params, c.mc_seed, spec.runs, spec.iters, spec.max_d,
                                    key=f"isttheory-cell-{spec.digest}-{c.id}-{session}", pure=False)
                by_key[fut.key] = c
                futures.append(fut)
            for fut in as_completed(futures):
                c = by_key[fut.key]
                try:
                    got = fut.result()
                except Exception as exc:  # a bug or a lost worker: reported, not stored (a rerun retries it)
                    report.failures.append((c.id, f"{type(exc).__name__}: {exc}".splitlines()[0]))
                    continue
                if got["result"]["status"] == UNFIT:  # depends on the machine: reported, not stored
                    report.failures.append((c.id, got["result"]["error"]))
                    continue
                rec = {"id": c.id, "params": c.params, "mc_seed": c.mc_seed,
                       "result": got["result"],
                       "provenance": {"session": session, "elapsed_s": round(got["elapsed_s"], 3),
                                      "pid": got["pid"]}}
                store.append(rec)
                done[c.id] = rec
                report.computed += 1
                if on_cell is not None:
                    on_cell(len(done), len(spec.cells))
    report.records = store.finish(done)
    summary = {"digest": spec.digest, **{k: v for k, v in report.counts().items()
                                         if k not in ("reused", "computed", "dropped_partial_lines",
                                                      "duplicate_lines")}}
    from .figure import neighbourhood_figure  # matplotlib: imported only when a sweep finishes

    atomic_write_bytes(store.out / SUMMARY, (dumps(summary) + "\n").encode())
    neighbourhood_figure(report.records, store.out / FIGURE)
    report.seconds = time.perf_counter() - start
    return report
