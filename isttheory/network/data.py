"""Data of the two-layer network: a data set scikit-learn ships, its rows split over ``n`` clients.

The rows are loaded and standardised by :func:`isttheory.generators.load_dataset` and split by
:func:`isttheory.generators.split_rows` (the split least squares and logistic regression use):
``iid`` (uniformly random) or ``sorted`` (by label for classification, by target for regression:
each client sees mostly one class, or a band of targets). Clients may hold different numbers of rows
``m_i`` (``np.array_split``); they are stacked into zero-padded arrays with a weight ``1/m_i`` on each
real row and ``0`` on the padding, so every computation is one batched array operation over clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..arrays import FloatArray
from ..errors import DatasetError, ParameterError
from ..generators import DATASETS, load_dataset, split_rows

Task: TypeAlias = Literal["regression", "classification"]
TASKS: dict[str, Task] = {"digits": "classification", "breast_cancer": "classification",
                          "wine": "classification", "diabetes": "regression"}
"""The task of each shipped data set (:data:`isttheory.generators.DATASETS`)."""


@dataclass(frozen=True, eq=False)
class NetworkData:
    """Client data stacked and zero-padded to the largest client.

    ``X`` (n, M, p) features; ``Y`` (n, M, c) targets (one-hot rows for classification, the standardised
    target for regression, ``c = 1``); ``weights`` (n, M): ``1/m_i`` on client ``i``'s ``m_i`` rows and
    ``0`` on padding, so ``Σ_rows weights · loss_row`` is client ``i``'s mean loss; ``counts`` the ``m_i``;
    ``labels`` (n, M) class indices for classification (``-1`` on padding), else ``None``."""

    X: FloatArray
    Y: FloatArray
    weights: FloatArray
    counts: NDArray[np.int64]
    task: Task
    labels: NDArray[np.int64] | None = None
    name: str = ""
    split: str = ""

    @property
    def n(self) -> int:
        """Number of clients."""
        return int(self.X.shape[0])

    @property
    def inputs(self) -> int:
        """Input dimension ``p``."""
        return int(self.X.shape[2])

    @property
    def outputs(self) -> int:
        """Output dimension ``c`` (classes, or 1 for regression)."""
        return int(self.Y.shape[2])

    def client(self, i: int) -> tuple[FloatArray, FloatArray]:
        """Client ``i``'s rows without padding: ``(X_i (m_i, p), Y_i (m_i, c))``."""
        m = int(self.counts[i])
        return self.X[i, :m], self.Y[i, :m]


def split_data(X: ArrayLike, target: ArrayLike, n: int, split: str = "iid", task: Task = "regression",
               seed: int | None = 0, name: str = "") -> NetworkData:
    """Split rows ``(X, target)`` over ``n`` clients (:func:`~isttheory.generators.split_rows`). For
    ``classification`` the distinct target values are the classes (in sorted order) and ``Y`` is one-hot."""
    A = np.asarray(X, dtype=float)
    t = np.asarray(target, dtype=float).ravel()
    if A.ndim != 2 or A.shape[0] != t.shape[0]:
        raise ParameterError(f"X must be (m, p) and the target of length m; got {A.shape} and {t.shape}")
    if task not in ("regression", "classification"):
        raise ParameterError(f"task must be 'regression' or 'classification'; got {task!r}")
    parts = split_rows(t, n, split, seed)
    if task == "classification":
        _, cls = np.unique(t, return_inverse=True)
        cls = cls.astype(np.int64).ravel()
        c = int(cls.max()) + 1
        if c < 2:
            raise DatasetError(f"data set {name or '(arrays)'} has a single class; classification needs two")
        T = np.eye(c)[cls]
    else:
        cls = None
        T = t[:, None]
    M = max(len(p) for p in parts)
    k = len(parts)
    Xs = np.zeros((k, M, A.shape[1]))
    Ys = np.zeros((k, M, T.shape[1]))
    w = np.zeros((k, M))
    labels = None if cls is None else np.full((k, M), -1, dtype=np.int64)
    for i, rows in enumerate(parts):
        m = len(rows)
        Xs[i, :m], Ys[i, :m], w[i, :m] = A[rows], T[rows], 1.0 / m
        if labels is not None and cls is not None:
            labels[i, :m] = cls[rows]
    counts = np.array([len(p) for p in parts], dtype=np.int64)
    return NetworkData(Xs, Ys, w, counts, task, labels, name, split)


def network_data(name: str = "digits", n: int = 4, split: str = "iid", seed: int | None = 0,
                 task: Task | None = None, rows: int | None = None) -> NetworkData:
    """A shipped data set (``digits``, ``breast_cancer``, ``wine``: classification; ``diabetes``:
    regression; :data:`TASKS`) split over ``n`` clients. ``rows`` keeps a uniformly random subset of that
    many rows first (``default_rng(seed)``; for fast checks). An unknown name raises
    :class:`~isttheory.errors.DatasetError`, as does classification asked of the regression target."""
    if name not in TASKS:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    natural = TASKS[name]
    chosen: Task = natural if task is None else task
    if chosen == "classification" and natural == "regression":
        raise DatasetError(f"data set {name!r} has a continuous target: it serves regression only")
    X, t = load_dataset(name)
    if rows is not None:
        if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or not 1 <= rows <= len(t):
            raise ParameterError(f"rows must be an integer in [1, {len(t)}]; got {rows!r}")
        keep = np.sort(np.random.default_rng(seed).permutation(len(t))[:rows])
        X, t = X[keep], t[keep]
    return split_data(X, t, n, split, chosen, seed, name)
