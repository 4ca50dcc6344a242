"""A thread pool over Monte Carlo runs: the runs of a batch split into contiguous slices, one per thread.

NumPy's gathers and arithmetic release the GIL, so work on disjoint slices of runs scales with cores.
:func:`~isttheory.simulate.simulate` uses it to sample sketches and to take fused Perm-1 steps.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from .errors import ParameterError

T = TypeVar("T")
R = TypeVar("R")

THREADED_MIN_WORK = 2**16
"""Runs × d below which one thread is used by default (thread hand-off costs ~50 µs per iteration)."""

MAX_DEFAULT_THREADS = 8
"""The most threads :func:`default_threads` chooses, however many cores there are."""


def default_threads(work: int) -> int:
    """Threads for a batch of ``work = runs × d``: one below :data:`THREADED_MIN_WORK`, else the cores this
    process may run on (at most :data:`MAX_DEFAULT_THREADS`)."""
    if work < THREADED_MIN_WORK:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_DEFAULT_THREADS, cores))


class RunPool:
    """Splits ``runs`` into contiguous slices, one per thread (at most ``threads``, at most ``runs``);
    with one thread everything runs inline. ``slices`` lists them in order. :meth:`close` it when done."""

    def __init__(self, runs: int, threads: int) -> None:
        """Raises :class:`~isttheory.errors.ParameterError` unless ``threads`` is an integer ``>= 1``."""
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
            raise ParameterError(f"threads must be an integer >= 1; got {threads!r}")
        k = int(min(threads, runs))
        bounds = np.linspace(0, runs, k + 1).round().astype(int)
        self.slices: list[slice] = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        self._ex = ThreadPoolExecutor(k) if k > 1 else None

    def each(self, fn: Callable[[slice], object]) -> None:
        """Call ``fn(runs)`` for every slice of runs (in parallel when threaded); re-raises its exceptions."""
        if self._ex is None:
            fn(self.slices[0])
        else:
            for f in [self._ex.submit(fn, sl) for sl in self.slices]:
                f.result()

    def map(self, fn: Callable[[T], R], items: list[T]) -> list[R]:
        """``[fn(item) for item in items]`` (in parallel when threaded), in order."""
        return list(self._ex.map(fn, items)) if self._ex is not None else [fn(it) for it in items]

    def close(self) -> None:
        """Shut the threads down (waiting for pending calls); a no-op with one thread."""
        if self._ex is not None:
            self._ex.shutdown()
