"""Sketch families: one module per family (see :mod:`isttheory.sketches.base`).

Every family module is imported here, so the registry (:func:`registered_families`) is complete; the
import order is the order of ``isttheory sketches`` and of :data:`SPECS`."""

# ruff: noqa: I001  (the family imports are in registration order, the order `isttheory sketches` prints)

from .base import (
    MAX_SUPPORT,
    DiagonalSketch,
    Draw,
    IndexDraw,
    Sketch,
    Support,
    TableDraw,
    registered_families,
)
from .identity import Identity
from .permutation import Permutation, ScaledPermutation
from .precond import PreconditionedPerm
from .rand import RandQ
from .blocks import PermBlocks
from .clients import PermClients
from .finite import FiniteSketch
from .groups import PermGroups
from .spec import parse_sketch, specs

SPECS: dict[str, str] = specs()
"""``{spec syntax: description}`` of every registered family (``isttheory sketches``)."""

__all__ = [
    "MAX_SUPPORT", "DiagonalSketch", "Draw", "FiniteSketch", "Identity", "IndexDraw", "PermBlocks",
    "PermClients", "PermGroups", "Permutation", "PreconditionedPerm", "RandQ", "SPECS", "ScaledPermutation",
    "Sketch", "Support", "TableDraw", "parse_sketch", "registered_families", "specs",
]
