"""Sketch families: one module per family (see :mod:`isttheory.sketches.base`)."""

from .base import MAX_SUPPORT, DiagonalSketch, Draw, IndexDraw, Sketch, Support, TableDraw
from .blocks import PermBlocks
from .clients import PermClients
from .finite import FiniteSketch
from .identity import Identity
from .permutation import Permutation
from .precond import PreconditionedPerm
from .rand import RandQ
from .spec import SPECS, parse_sketch

__all__ = [
    "MAX_SUPPORT", "DiagonalSketch", "Draw", "FiniteSketch", "Identity", "IndexDraw", "PermBlocks",
    "PermClients", "Permutation", "PreconditionedPerm", "RandQ", "SPECS", "Sketch", "Support",
    "TableDraw", "parse_sketch",
]
