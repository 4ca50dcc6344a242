"""Instance generators for the quadratic (12).

All generators take a ``seed`` (anything :class:`numpy.random.SeedSequence`
accepts) and are deterministic given it. Every generator estimates its peak
memory before allocating anything and refuses with a one-line
:class:`~isttheory.errors.ResourceError` beyond 80% of the machine (a dense
problem at ``n = 4, d = 200000`` would need 1.2 TB for ``L`` alone).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import DatasetError, ParameterError
from .problem import QuadraticProblem
from .resources import available_memory as _available_memory
from .resources import check_fits
from .structured import LowRankDiagonalProblem

Split = Literal["iid", "sorted"]


def _rng(seed: int | None | np.random.SeedSequence) -> np.random.Generator:
    return np.random.default_rng(seed)


def _check_size(n: int, d: int) -> None:
    if not (isinstance(n, (int, np.integer)) and isinstance(d, (int, np.integer)) and n >= 1 and d >= 1):
        raise ParameterError(f"n and d must be positive integers; got n={n!r}, d={d!r}")


def dense_bytes(n: int, d: int) -> int:
    """Peak bytes of building a dense problem: ``L`` (n·d² doubles) and up to three n·d² temporaries of its
    validation (:class:`~isttheory.problem.QuadraticProblem` checks symmetry and symmetrises), plus the
    d×d QR of :func:`random_psd` and its product."""
    return 8 * (4 * n * d * d + 4 * d * d + 4 * n * d)


def _check_dense_fits(n: int, d: int) -> None:
    """Refuse (one-line :class:`ResourceError`) a dense problem estimated not to fit, before allocating."""
    check_fits(dense_bytes(int(n), int(d)), f"a dense problem with n = {n}, d = {d}", _available_memory())


def _check_heterogeneity(h: float) -> float:
    if not 0.0 <= h <= 1.0:
        raise ParameterError(f"heterogeneity must lie in [0, 1]; got {h}")
    return float(h)


def random_psd(d: int, rng: np.random.Generator, cond: float = 10.0) -> NDArray[np.float64]:
    """A random symmetric matrix with eigenvalues log-spaced in ``[1, cond]``
    and Haar-random eigenvectors."""
    if not cond >= 1.0:
        raise ParameterError(f"cond must be >= 1; got {cond}")
    check_fits(8 * 4 * d * d, f"a random d x d matrix with d = {d}", _available_memory())
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q = q * np.sign(np.diag(r))
    ev = np.geomspace(1.0, cond, d) if d > 1 else np.ones(1)
    M: NDArray[np.float64] = (q * ev) @ q.T
    return 0.5 * (M + M.T)


def homogeneous(n: int, d: int, seed: int | None = 0, cond: float = 10.0,
                interpolation: bool = False) -> QuadraticProblem:
    """Homogeneous case: ``L_i ≡ L`` random PSD with condition number ``cond``,
    ``b_i ≡ b`` standard normal (zero if ``interpolation``)."""
    _check_size(n, d)
    _check_dense_fits(n, d)
    rng = _rng(seed)
    L = random_psd(d, rng, cond)
    b = np.zeros(d) if interpolation else rng.standard_normal(d)
    return QuadraticProblem(np.broadcast_to(L, (n, d, d)), np.broadcast_to(b, (n, d)), check_psd=False)


def heterogeneous(n: int, d: int, heterogeneity: float = 0.5, seed: int | None = 0,
                  cond: float = 10.0, interpolation: bool = False) -> QuadraticProblem:
    """Heterogeneous case with a knob ``heterogeneity = h ∈ [0, 1]``.

    ``L_i = (1−h) L + h M_i`` and ``b_i = (1−h) b + h c_i`` with a shared
    ``(L, b)`` and independent client parts ``(M_i, c_i)`` drawn like the
    shared ones; ``h = 0`` is the homogeneous case, ``h = 1`` fully
    independent clients. Each ``L_i`` is PSD (a convex combination of PSD
    matrices) with eigenvalues in ``[1, cond]``.
    """
    _check_size(n, d)
    h = _check_heterogeneity(heterogeneity)
    _check_dense_fits(n, d)
    rng = _rng(seed)
    L0 = random_psd(d, rng, cond)
    b0 = rng.standard_normal(d)
    Ls = np.stack([(1 - h) * L0 + h * random_psd(d, rng, cond) for _ in range(n)])
    bs = (1 - h) * b0 + h * rng.standard_normal((n, d))
    if interpolation:
        bs = np.zeros((n, d))
    return QuadraticProblem(Ls, bs, check_psd=False)


def heterogeneous_structured(n: int, d: int, heterogeneity: float = 0.5, seed: int | None = 0,
                             cond: float = 10.0, rank: int = 2, interpolation: bool = False) -> QuadraticProblem:
    """Heterogeneity by low-rank-plus-diagonal client parts, cheap at large ``n·d``.

    ``L_i = L + h (U_i U_iᵀ + Diag(s_i))`` with a shared random ``L``
    (eigenvalues in ``[1, cond]``), ``U_i`` Gaussian ``d × rank`` scaled by
    ``1/√d`` and ``s_i ~ U[0, 1]^d``; ``b_i = b + h c_i``. Costs ``O(n d²)``
    instead of the ``O(n d³)`` of :func:`heterogeneous`.
    """
    _check_size(n, d)
    h = _check_heterogeneity(heterogeneity)
    _check_dense_fits(n, d)
    rng = _rng(seed)
    L0 = random_psd(d, rng, cond)
    U = rng.standard_normal((n, d, rank)) / np.sqrt(d)
    Ls = np.empty((n, d, d))
    for i in range(n):
        np.matmul(U[i], U[i].T, out=Ls[i])
        Ls[i] *= h
        Ls[i] += L0
        Ls[i].flat[:: d + 1] += h * rng.random(d)
    bs = np.zeros((n, d)) if interpolation else rng.standard_normal(d) + h * rng.standard_normal((n, d))
    return QuadraticProblem(Ls, bs, check_psd=False)


def low_rank_diagonal(n: int, d: int, heterogeneity: float = 0.5, seed: int | None = 0, cond: float = 10.0,
                      shared_rank: int = 2, client_rank: int = 0,
                      interpolation: bool = False) -> LowRankDiagonalProblem:
    """A structured heterogeneous problem for large ``d`` (no dense matrix is ever formed).

    ``L_i = Diag(δ₀ + h s_i) + V Vᵀ + h U_i U_iᵀ`` with ``δ₀`` uniform in
    ``[1, cond]``, ``s_i ~ U[0, cond]^d``, ``V`` Gaussian ``d × shared_rank``
    and ``U_i`` Gaussian ``d × client_rank``, both scaled so that their rows have
    expected squared norm 1; ``b_i = b + h c_i`` (all zero if ``interpolation``).
    Peak memory, estimated before allocating, is ``8·n·d·(4 + 2·client_rank)`` bytes (the stored
    ``D``, ``b`` and ``U``, validation temporaries, and the transposed copy of ``U`` in the factor of
    ``L̄``); beyond 80% of the machine it is refused with :class:`ResourceError`.
    """
    _check_size(n, d)
    h = _check_heterogeneity(heterogeneity)
    for name, r in (("shared_rank", shared_rank), ("client_rank", client_rank)):
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 0:
            raise ParameterError(f"{name} must be an integer >= 0; got {r!r}")
    if not cond >= 1.0:
        raise ParameterError(f"cond must be >= 1; got {cond}")
    need = 8 * n * d * (4 + 2 * client_rank) + 8 * d * shared_rank
    check_fits(need, f"a structured problem with n = {n}, d = {d}, client rank {client_rank}", _available_memory())
    rng = _rng(seed)
    delta0 = rng.uniform(1.0, cond, d)
    V = rng.standard_normal((d, shared_rank)) / np.sqrt(max(1, shared_rank))
    U = None
    D = np.empty((n, d))
    D[:] = delta0 + np.einsum("jr,jr->j", V, V)
    D += (h * cond) * rng.random((n, d))
    if client_rank:
        U = rng.standard_normal((n, d, client_rank)) * np.sqrt(h / client_rank)
        D += np.einsum("njr,njr->nj", U, U)
    if interpolation:
        b = np.zeros((n, d))
    else:
        b = h * rng.standard_normal((n, d))
        b += rng.standard_normal(d)
    return LowRankDiagonalProblem(D, b, V, U)


def interpolation(n: int, d: int, heterogeneity: float = 0.5, seed: int | None = 0,
                  cond: float = 10.0) -> QuadraticProblem:
    """Interpolation case (Theorem 1): all ``b_i = 0``, so ``x* = 0``."""
    return heterogeneous(n, d, heterogeneity, seed, cond, interpolation=True)


def least_squares(A: ArrayLike, y: ArrayLike, n: int, split: Split = "iid", seed: int | None = 0,
                  ridge: float = 1e-3) -> QuadraticProblem:
    """Least squares ``f_i(x) = (1/2m_i)‖A_i x − y_i‖² + (ridge/2)‖x‖²`` (up to a constant).

    The rows of ``(A, y)`` are split across ``n`` clients, either uniformly at
    random (``"iid"``) or after sorting by the target (``"sorted"``, the
    heterogeneous split: each client sees a band of target values). Then
    ``L_i = A_iᵀA_i/m_i + ridge·I`` and ``b_i = A_iᵀy_i/m_i``.
    """
    A = np.asarray(A, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    if A.ndim != 2 or A.shape[0] != y.shape[0]:
        raise ParameterError(f"A must be (m, d) and y of length m; got {A.shape} and {y.shape}")
    m, d = A.shape
    _check_size(n, d)
    _check_dense_fits(n, d)
    parts = split_rows(y, n, split, seed)
    if ridge < 0:
        raise ParameterError(f"ridge must be >= 0; got {ridge}")
    Ls, bs = [], []
    for rows in parts:
        Ai, yi = A[rows], y[rows]
        Ls.append(Ai.T @ Ai / len(rows) + ridge * np.eye(d))
        bs.append(Ai.T @ yi / len(rows))
    return QuadraticProblem(np.stack(Ls), np.stack(bs))


def split_rows(keys: ArrayLike, n: int, split: str = "iid", seed: int | None = 0) -> list[NDArray[np.intp]]:
    """The row indices of each of ``n`` clients: ``np.array_split`` of an order of the ``m`` rows, either
    uniformly random (``"iid"``, ``default_rng(seed).permutation(m)``) or sorted by ``keys`` (``"sorted"``,
    stable: each client sees a band of target values, or mostly one label). The one home of the split that
    :func:`least_squares`, :func:`isttheory.logistic.logistic_problem` and :mod:`isttheory.network` use."""
    k = np.asarray(keys).ravel()
    m = k.shape[0]
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"number of clients n must be an integer >= 1; got {n!r}")
    if m < n:
        raise ParameterError(f"cannot split {m} rows across {n} clients")
    if split == "iid":
        order = _rng(seed).permutation(m)
    elif split == "sorted":
        order = np.argsort(k, kind="stable")
    else:
        raise ParameterError(f"split must be 'iid' or 'sorted'; got {split!r}")
    return list(np.array_split(order, n))


DATASETS = ("diabetes", "breast_cancer", "wine", "digits")


def load_dataset(name: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A real dataset shipped inside scikit-learn (no download): features
    standardised to zero mean and unit variance (a constant feature, as digits' blank border pixels,
    is centred only), target centred and scaled. An unknown name raises
    :class:`~isttheory.errors.DatasetError`."""
    from sklearn import datasets as skd

    loaders = {"diabetes": skd.load_diabetes, "breast_cancer": skd.load_breast_cancer,
               "wine": skd.load_wine, "digits": skd.load_digits}
    if name not in loaders:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    X, y = loaders[name](return_X_y=True)
    X = X.astype(float)
    sd = X.std(0)
    X = (X - X.mean(0)) / np.where(sd > 0, sd, 1.0)
    y = y.astype(float)
    y = (y - y.mean()) / y.std()
    return X, y


def dataset_least_squares(name: str = "diabetes", n: int = 2, split: Split = "sorted",
                          seed: int | None = 0, ridge: float = 1e-3) -> QuadraticProblem:
    """Least squares on a real dataset (:func:`load_dataset`) split over ``n`` clients."""
    X, y = load_dataset(name)
    return least_squares(X, y, n, split=split, seed=seed, ridge=ridge)


def remark1(a: float = 1.0, b: float = 2.0, c: float = 1.4, n: int = 2) -> QuadraticProblem:
    """Remark 1's homogeneous instance (18): ``d = 2``, ``L = [[a, c], [c, b]]``, ``b_i = 0``.

    ``W̄`` fails to be PSD when ``c > 2ab/(a+b)``; ``L`` is PSD only for ``c² ≤ ab``, so the
    counterexample needs ``2ab/(a+b) < c ≤ √(ab)`` (default ``c = 1.4`` with ``a = 1, b = 2``)."""
    L = np.array([[a, c], [c, b]], dtype=float)
    return QuadraticProblem(np.broadcast_to(L, (n, 2, 2)), np.zeros((n, 2)))
