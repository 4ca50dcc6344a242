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


@dataclass(frozen=True)
class UpperTest:
    """One-sided test of ``H0: E[Y] ≤ bound`` (the bound holds) against ``E[Y] > bound``.

    Method: Student t on ``N`` i.i.d. per-run values ``Y``; ``p = P(T_{N−1} ≥ (Ȳ − bound)/SE)``.
    ``ucb`` is the one-sided upper confidence bound ``Ȳ + t_{1−α} SE`` at level ``1 − alpha``.
    When every ``Y`` is equal (a deterministic quantity) the test is exact: ``p`` is 0 or 1
    according to ``Ȳ > bound + 1e-12·scale``."""

    mean: float
    se: float
    ucb: float
    p_value: float
    n: int


def upper_test(y: NDArray[np.float64], bound: float, alpha: float = FAMILY_ALPHA) -> UpperTest:
    """Student-t one-sided test that ``E[y] ≤ bound``; see :class:`UpperTest`."""
    y = np.asarray(y, dtype=float).ravel()
    m = float(y.mean())
    se = float(y.std(ddof=1) / math.sqrt(y.size)) if y.size > 1 else 0.0
    scale = max(1.0, abs(bound), abs(m))
    if se <= 1e-15 * scale:
        p = 0.0 if m > bound + 1e-12 * scale else 1.0
        return UpperTest(m, 0.0, m, p, y.size)
    t = (m - bound) / se
    p = float(stats.t.sf(t, y.size - 1))
    ucb = m + float(stats.t.ppf(1 - alpha, y.size - 1)) * se
    return UpperTest(m, se, ucb, p, y.size)


def holm(p_values: list[float], alpha: float = FAMILY_ALPHA) -> list[bool]:
    """Holm's step-down procedure: which hypotheses are rejected at family-wise level ``alpha``."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    rejected = [False] * len(p_values)
    m = len(p_values)
    for rank, i in enumerate(order):
        if p_values[i] <= alpha / (m - rank):
            rejected[i] = True
        else:
            break
    return rejected
