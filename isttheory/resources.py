"""Memory estimates checked before allocating (never after a MemoryError)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import ResourceError

LIMIT_FRACTION = 0.8
"""A computation is refused when its estimate exceeds this fraction of physical memory."""


def available_memory() -> int:
    """Physical memory of this machine in bytes (8 GiB when the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def check_fits(need: int, what: str, available: int | None = None) -> None:
    """Raise a one-line :class:`ResourceError` when ``need`` bytes exceed :data:`LIMIT_FRACTION` of
    ``available`` (default: :func:`available_memory`); ``what`` names the computation ("a dense problem
    with n = 4, d = 200000")."""
    avail = available_memory() if available is None else available
    if need > LIMIT_FRACTION * avail:
        raise ResourceError(f"{what} needs about {need / 2**30:.1f} GiB, more than {LIMIT_FRACTION:.0%} of this "
                            f"machine's {avail / 2**30:.1f} GiB; use a smaller n or d")


SMALL_BLAS_D = 1024
"""Products and factorisations of d×d matrices with ``d`` up to this run on ONE BLAS thread (see
:func:`small_blas`)."""


@contextmanager
def small_blas(d: int) -> Iterator[None]:
    """Limit BLAS/LAPACK to one thread while working on d×d matrices with ``d ≤`` :data:`SMALL_BLAS_D`.

    Batches of small factorisations (NumPy loops over the stack, one LAPACK call per matrix) and the
    simulator's (R, d)×(d, d) metric products are milliseconds of work each; a multi-threaded BLAS wakes and
    joins its threads at every call, and on a machine whose cores are busy with other processes each join can
    wait a whole time slice. Measured on a shared 2-core machine: the batched Cholesky of 256 matrices of
    256×256 took 2.2 s with the default threads and 0.19 s on one thread. Larger ``d``: the default threads."""
    if d > SMALL_BLAS_D:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
