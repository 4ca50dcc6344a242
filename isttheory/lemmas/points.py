"""One point of a lemma's space: a problem (as PSD factors), a sketch, a form, a step and a horizon.

``L_i = A_i A_iᵀ + ρ_i I`` is stored through its factor ``A_i`` and ridge ``ρ_i``, so that rounding
the entries to rationals (shrinking) keeps every ``L_i`` exactly symmetric and positive semidefinite.
Arrays hold float64 while searching and ``Fraction`` objects once rounded; :meth:`Point.exact_L`
gives the exact rational matrices either way (a float is an exact rational).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np

from ..arrays import FloatArray
from ..problem import QuadraticProblem
from .arith import ExactArith


@dataclass(frozen=True, eq=False)
class Point:
    """An instance of a lemma's space."""

    family: str
    factors: np.ndarray
    """``A_i``: shape (n, d, r), float64 or object (``Fraction``)."""
    ridge: np.ndarray
    """``ρ_i ≥ 0``: shape (n,)."""
    b: np.ndarray
    """``b_i``: shape (n, d)."""
    x0: np.ndarray
    sketch: str
    form: str = "sgd"
    local_steps: int = 1
    gamma: Any = 1.0
    K: int = 1
    given_L: np.ndarray | None = None
    """A user's own ``L_i`` (``verify --problem``): used as given, never rounded or refactored."""

    @property
    def n(self) -> int:
        return int(self.factors.shape[0])

    @property
    def d(self) -> int:
        return int(self.factors.shape[1])

    def with_(self, **changes: Any) -> Point:
        return replace(self, **changes)

    # ----------------------------------------------------------------- the problem
    def float_L(self) -> np.ndarray:
        if self.given_L is not None:
            return np.asarray(self.given_L, dtype=np.float64)
        A = np.asarray(self.factors, dtype=np.float64)
        L: FloatArray = np.einsum("nir,njr->nij", A, A)
        L += np.asarray(self.ridge, dtype=np.float64)[:, None, None] * np.eye(self.d)
        return 0.5 * (L + np.swapaxes(L, 1, 2))

    def problem(self) -> QuadraticProblem:
        """The float64 problem (PSD by construction, so the eigenvalue check is skipped)."""
        return QuadraticProblem(self.float_L(), np.asarray(self.b, dtype=np.float64), check_psd=False)

    def exact_L(self) -> np.ndarray:
        """``A_iA_iᵀ + ρ_iI`` in exact rationals: an (n, d, d) object array."""
        ar = ExactArith()
        if self.given_L is not None:
            return ar.array(self.given_L)
        A, rho = ar.array(self.factors), ar.array(self.ridge)
        eye = ar.eye(self.d)
        return np.stack([A[i] @ A[i].T + rho[i] * eye for i in range(self.n)])

    def describe(self) -> str:
        g = self.gamma if isinstance(self.gamma, Fraction) else f"{float(self.gamma):.6g}"
        return (f"n={self.n}, d={self.d}, {self.family}, sketch {self.sketch}, form {self.form}"
                + (f", t={self.local_steps}" if self.form == "ist" else "") + f", gamma={g}, K={self.K}")


def factor_of(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(A, ρ)`` with ``A_iA_iᵀ = L_i`` (symmetric square root, negative round-off clipped) and ``ρ = 0``."""
    w, V = np.linalg.eigh(np.asarray(L, dtype=np.float64))
    A = V * np.sqrt(np.clip(w, 0.0, None))[:, None, :]
    return A, np.zeros(L.shape[0])
