"""Memory estimates checked before allocating (never after a MemoryError)."""

from __future__ import annotations

import os

LIMIT_FRACTION = 0.8
"""A computation is refused when its estimate exceeds this fraction of physical memory."""


def available_memory() -> int:
    """Physical memory of this machine in bytes (8 GiB when the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30
