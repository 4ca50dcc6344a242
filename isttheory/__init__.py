"""isttheory: symbolic-numeric verification of the theory of Independent Subnetwork Training.

Shulgin & Richtárik, *Towards a Better Theoretical Understanding of
Independent Subnetwork Training* (ICML 2024). Equation numbers in docstrings
follow the paper, restated in ``docs/paper.md``.

``isttheory.simulate`` is the submodule, which calls :func:`isttheory.simulate.simulate` when called
(importing a submodule binds its name on the package, so a function there would be replaced by the module
depending on import order). The public API is listed in ``__all__``: problems and their files, the
generators, the sketches, the simulator, the exact dynamics, the sketch moments, the constants, lemmas and
claims. Every name but
:class:`ISTError` and ``__version__`` is imported on first use (PEP 562): importing the package alone,
as pytest does for the plugin registered by its ``pytest11`` entry point, loads neither NumPy nor SciPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import ISTError

if TYPE_CHECKING:
    from . import claims, constants, errors, generators, lemmas, sketches
    from .claims import Claim, Finding, Verdict, register
    from .constants import contraction, optimal_step, rate, theta_star
    from .dynamics import ExactDynamics
    from .io import read_problem, write_problem
    from .lemmas import Lemma, check
    from .moments import SketchMoments
    from .problem import QuadraticProblem
    from .simulate import SimulationResult, simulate
    from .sketches import (
        FiniteSketch,
        Identity,
        PermBlocks,
        PermClients,
        Permutation,
        PreconditionedPerm,
        RandQ,
        Sketch,
        parse_sketch,
    )
    from .structured import LowRankDiagonalProblem

__version__ = "0.1.0"

_LAZY: dict[str, tuple[str, str | None]] = {
    # problems and problem files
    "QuadraticProblem": ("problem", "QuadraticProblem"),
    "LowRankDiagonalProblem": ("structured", "LowRankDiagonalProblem"),
    "read_problem": ("io", "read_problem"),
    "write_problem": ("io", "write_problem"),
    "generators": ("generators", None),
    "errors": ("errors", None),
    # sketches
    "sketches": ("sketches", None),
    "Sketch": ("sketches", "Sketch"),
    "Identity": ("sketches", "Identity"),
    "Permutation": ("sketches", "Permutation"),
    "PermBlocks": ("sketches", "PermBlocks"),
    "PermClients": ("sketches", "PermClients"),
    "PreconditionedPerm": ("sketches", "PreconditionedPerm"),
    "RandQ": ("sketches", "RandQ"),
    "FiniteSketch": ("sketches", "FiniteSketch"),
    "parse_sketch": ("sketches", "parse_sketch"),
    # Monte Carlo, exact dynamics, moments
    "simulate": ("simulate", None),  # the submodule, callable as the function (see isttheory.simulate's end)
    "SimulationResult": ("simulate", "SimulationResult"),
    "ExactDynamics": ("dynamics", "ExactDynamics"),
    "SketchMoments": ("moments", "SketchMoments"),
    # constants
    "constants": ("constants", None),
    "theta_star": ("constants", "theta_star"),
    "optimal_step": ("constants", "optimal_step"),
    "rate": ("constants", "rate"),
    "contraction": ("constants", "contraction"),
    # lemmas and claims
    "lemmas": ("lemmas", None),
    "Lemma": ("lemmas", "Lemma"),
    "check": ("lemmas", "check"),
    "claims": ("claims", None),
    "Claim": ("claims", "Claim"),
    "Finding": ("claims", "Finding"),
    "Verdict": ("claims", "Verdict"),
    "register": ("claims", "register"),
}
"""Public name -> (submodule, attribute; ``None`` for the submodule itself), imported on first access."""

__all__ = ["ISTError", "__version__", "QuadraticProblem", "LowRankDiagonalProblem", "read_problem",
           "write_problem", "generators", "errors", "sketches", "Sketch", "Identity", "Permutation",
           "PermBlocks", "PermClients", "PreconditionedPerm", "RandQ", "FiniteSketch", "parse_sketch",
           "simulate", "SimulationResult", "ExactDynamics", "SketchMoments", "constants", "theta_star",
           "optimal_step", "rate", "contraction", "lemmas", "Lemma", "check", "claims", "Claim", "Finding",
           "Verdict", "register"]
"""Kept literal for linters and IDEs; a test checks it equals ``ISTError``, ``__version__`` and :data:`_LAZY`."""


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'isttheory' has no attribute {name!r}") from None
    mod = importlib.import_module(f".{module}", __name__)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value  # later accesses skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
