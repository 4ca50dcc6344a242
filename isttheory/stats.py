"""Statistical tests used by Monte Carlo verifiers. Each states its method and error rate."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

FAMILY_ALPHA = 1e-3
"""Family-wise false-alarm rate of each Monte Carlo verdict on a true claim."""


@dataclass(frozen=True)
class MeanTest:
    """Two-sided z-tests of ``E[X_j] = target_j`` for every entry ``j``, Bonferroni-corrected.

    Method: sample means with standard errors ``s_j/√N``; the normal
    approximation (CLT; the sketches' entries are bounded) at family-wise
    level ``alpha``. Entries with zero sample variance must equal the target
    exactly (to ``1e-12``).
    """

    max_z: float
    threshold: float
    passed: bool
    samples: int
    alpha: float


def mean_equals(samples: NDArray[np.float64], target: NDArray[np.float64], alpha: float = FAMILY_ALPHA) -> MeanTest:
    """Test ``E[samples[k]] = target`` entrywise; ``samples`` has shape (N, ...)."""
    N = samples.shape[0]
    flat = samples.reshape(N, -1)
    tgt = np.broadcast_to(target, samples.shape[1:]).reshape(-1)
    mean = flat.mean(axis=0)
    se = flat.std(axis=0, ddof=1) / math.sqrt(N)
    dev = np.abs(mean - tgt)
    const = se == 0
    z = np.where(const, np.where(dev <= 1e-12 * np.maximum(1, np.abs(tgt)), 0.0, np.inf), dev / np.where(const, 1, se))
    m = flat.shape[1]
    thr = float(stats.norm.ppf(1 - alpha / (2 * m)))
    max_z = float(z.max()) if m else 0.0
    return MeanTest(max_z, thr, bool(max_z <= thr), N, alpha)


def mean_interval(x: NDArray[np.float64], alpha: float = FAMILY_ALPHA) -> tuple[float, float, float]:
    """Two-sided Student-t interval for the mean at level ``1 − alpha``: (mean, low, high)."""
    x = np.asarray(x, dtype=float).ravel()
    m = float(x.mean())
    if x.size < 2:
        return m, -math.inf, math.inf
    half = float(stats.t.ppf(1 - alpha / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return m, m - half, m + half
