"""isttheory: symbolic-numeric verification of the theory of Independent Subnetwork Training.

Shulgin & Richtárik, *Towards a Better Theoretical Understanding of
Independent Subnetwork Training* (ICML 2024). Equation numbers in docstrings
follow the paper, restated in ``docs/paper.md``.
"""

from .errors import ISTError
from .problem import QuadraticProblem

__version__ = "0.1.0"
__all__ = ["ISTError", "QuadraticProblem", "__version__"]
