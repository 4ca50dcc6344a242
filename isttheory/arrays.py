"""Array types and the one symmetrisation every engine uses (one home; imported, never redefined)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
"""A float64 array: matrices ``L_i``, moments, iterates."""


def sym(A: ArrayLike) -> FloatArray:
    """``(A + Aᵀ)/2`` in float64: the symmetric part of a matrix that should be symmetric up to round-off
    (``W̄``, ``E[B̄L̄B̄]``, second moments) before an eigen-solver or an SDP sees it."""
    M = np.asarray(A, dtype=np.float64)
    return 0.5 * (M + M.T)
