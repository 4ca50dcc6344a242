"""Default instances on which ``isttheory verify`` runs every claim."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .. import generators
from ..problem import QuadraticProblem


@dataclass(frozen=True)
class Instance:
    """A named problem with its starting point."""

    name: str
    problem: QuadraticProblem
    x0: NDArray[np.float64] | None = None
    description: str = ""


def default_instances() -> list[Instance]:
    """Homogeneous and heterogeneous, interpolation and not, Perm-1 shaped
    (n = d), Remark 1's (18), a real least-squares problem, and shapes outside
    the paper's ``d = q·n`` (d not a multiple of n; n > d)."""
    return [
        Instance("homogeneous", generators.homogeneous(4, 8, seed=1), description="n=4, d=8, L_i = L, b_i = b"),
        Instance("heterogeneous", generators.heterogeneous(4, 8, 0.5, seed=2), description="n=4, d=8, h=0.5"),
        Instance("interpolation", generators.interpolation(4, 8, 0.5, seed=3), description="n=4, d=8, b_i = 0"),
        Instance("perm1-heterogeneous", generators.heterogeneous(5, 5, 0.7, seed=4), description="n=d=5, h=0.7"),
        Instance("remark1", generators.remark1(), description="(18): a=1, b=2, c=1.4, n=2"),
        Instance("diabetes-sorted", generators.dataset_least_squares("diabetes", n=5, split="sorted"),
                 description="scikit-learn diabetes, 5 clients sorted by target"),
        Instance("uneven-blocks", generators.heterogeneous(3, 7, 0.5, seed=5), description="n=3, d=7"),
        Instance("more-clients", generators.heterogeneous(6, 3, 0.5, seed=6), description="n=6, d=3"),
    ]
