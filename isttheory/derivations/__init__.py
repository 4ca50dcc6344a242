"""Checked derivations, one module per claim of docs/paper.md; each step states its reach (see :mod:`.base`).

Every module here defines ``derive(**constants) -> Derivation``; :func:`discover`
finds them, so adding a module registers its proof with ``isttheory verify``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType

from .base import Derivation, ProofFailure, Step

__all__ = ["Derivation", "ProofFailure", "Step", "discover"]


def discover() -> dict[str, Callable[..., Derivation]]:
    """``{module name: derive}`` for every derivation module, sorted by name."""
    out: dict[str, Callable[..., Derivation]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "base":
            continue
        try:
            mod: ModuleType = importlib.import_module(f"{__name__}.{info.name}")
        except Exception as exc:  # a broken module must surface as a failed proof, not hide
            out[info.name] = _broken(info.name, exc)
            continue
        derive = getattr(mod, "derive", None)
        if callable(derive):
            out[info.name] = derive
    return out


def _broken(name: str, exc: Exception) -> Callable[..., Derivation]:
    def derive(**_: object) -> Derivation:
        raise ImportError(f"derivation module {name} failed to import: {type(exc).__name__}: {exc}")

    return derive
