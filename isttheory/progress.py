"""Progress on standard error for long runs (``simulate``, ``isttheory verify``, ``verify --out``'s figures,
``isttheory latex``), or a silent stand-in.

:func:`progress_bar` returns a ``tqdm`` bar only when asked and standard error is a terminal, so output
piped to a file or parsed as JSON never carries one. A caller names the step it is about to run with
:meth:`ProgressBar.set_postfix_str` (``verify: 3/20 [00:04<00:15, mc-bounds on homogeneous]``): the bar says
what is running and, by its count, how many steps remain.
"""

from __future__ import annotations

import os
import sys
from typing import Protocol


class ProgressBar(Protocol):
    """What a caller may do with a bar: name the running step, advance by ``n`` steps, and close it."""

    def update(self, n: int = 1, /) -> object:
        """Advance by ``n`` steps."""

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> object:
        """Show ``s`` (the step now running) after the count."""

    def close(self) -> object:
        """Remove the bar (a no-op for the silent one)."""


class SilentBar:
    """A :class:`ProgressBar` that shows nothing."""

    def update(self, n: int = 1, /) -> None:
        """Do nothing."""

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""


def progress_bar(total: int, enabled: bool, desc: str | None = None, unit: str = "it") -> ProgressBar:
    """A bar counting to ``total`` on standard error, headed ``desc``, when ``enabled`` and standard error is a
    terminal (it disappears when closed); a :class:`SilentBar` otherwise."""
    if not enabled or not sys.stderr.isatty():
        return SilentBar()
    from tqdm import tqdm

    columns, lines = _size()
    bar: ProgressBar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, ncols=columns,
                            nrows=lines)
    return bar


def _size() -> tuple[int, int]:
    """The terminal's columns and lines, 80 and 24 where it reports 0: a pseudo-terminal whose size was never
    set reports 0 x 0, and tqdm would then draw nothing."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError):
        return 80, 24
    return size.columns or 80, size.lines or 24
