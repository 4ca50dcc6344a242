"""Ctrl-C that is never lost.

Python raises ``KeyboardInterrupt`` in whatever code runs when SIGINT arrives; inside a
garbage-collector callback (a weakref finaliser, ``__del__``) the exception is printed and
ignored, and the program would carry on as if never interrupted. :func:`install` records
the interrupt before raising, so the CLI still ends with exit code 130, and
:func:`raise_if_interrupted` (called before every atomic file write) stops any further
output once an interrupt has been seen.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any

_seen = threading.Event()


def _handler(signum: int, frame: FrameType | None) -> None:
    _seen.set()
    raise KeyboardInterrupt


def _quiet_unraisable(hook: Any) -> Any:
    def unraisable(info: Any) -> None:
        if info.exc_type is not None and issubclass(info.exc_type, KeyboardInterrupt):
            return  # recorded by the handler; the CLI reports it as one line at the end
        hook(info)

    unraisable.isttheory = True  # type: ignore[attr-defined]
    return unraisable


def install() -> None:
    """Use the recording handler, unless SIGINT is ignored (a ``nohup`` or background job keeps that),
    and keep a swallowed ``KeyboardInterrupt`` from printing a traceback."""
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _handler)
    if not getattr(sys.unraisablehook, "isttheory", False):
        sys.unraisablehook = _quiet_unraisable(sys.unraisablehook)


def interrupted() -> bool:
    """Whether SIGINT arrived since :func:`install` (or the last :func:`reset`)."""
    return _seen.is_set()


def raise_if_interrupted() -> None:
    """Raise ``KeyboardInterrupt`` again if an earlier one was swallowed."""
    if _seen.is_set():
        raise KeyboardInterrupt


def reset() -> None:
    """Forget a recorded interrupt (tests)."""
    _seen.clear()
