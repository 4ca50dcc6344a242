"""Memory estimates checked before allocating (never after a MemoryError)."""

from __future__ import annotations

import os

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
