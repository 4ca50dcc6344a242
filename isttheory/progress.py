"""A progress bar on standard error for long runs (``simulate``, ``isttheory verify``), or a silent stand-in.

:func:`progress_bar` returns a ``tqdm`` bar only when asked and standard error is a terminal, so output
piped to a file or parsed as JSON never carries one.
"""

from __future__ import annotations

import sys
from typing import Protocol


class ProgressBar(Protocol):
    """What a caller may do with a bar: advance it by ``n`` steps, and close it."""

    def update(self, n: int = 1, /) -> object:
        """Advance by ``n`` steps."""

    def close(self) -> object:
        """Remove the bar (a no-op for the silent one)."""


class SilentBar:
    """A :class:`ProgressBar` that shows nothing."""

    def update(self, n: int = 1, /) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""


def progress_bar(total: int, enabled: bool) -> ProgressBar:
    """A bar counting to ``total`` on standard error when ``enabled`` and standard error is a terminal (it
    disappears when closed); a :class:`SilentBar` otherwise."""
    if not enabled or not sys.stderr.isatty():
        return SilentBar()
    from tqdm import tqdm

    bar: ProgressBar = tqdm(total=total, unit="it", file=sys.stderr, leave=False)
    return bar
