"""isttheory: symbolic-numeric verification of the theory of Independent Subnetwork Training.

Shulgin & Richtárik, *Towards a Better Theoretical Understanding of
Independent Subnetwork Training* (ICML 2024). Equation numbers in docstrings
follow the paper, restated in ``docs/paper.md``.

``QuadraticProblem`` is imported on first use (PEP 562): importing the package alone, as pytest does
for the plugin registered by its ``pytest11`` entry point, does not load NumPy and SciPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ISTError

if TYPE_CHECKING:
    from .problem import QuadraticProblem

__version__ = "0.1.0"
__all__ = ["ISTError", "QuadraticProblem", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "QuadraticProblem":
        from .problem import QuadraticProblem

        return QuadraticProblem
    raise AttributeError(f"module 'isttheory' has no attribute {name!r}")
