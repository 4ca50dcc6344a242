"""Distributed quadratic problems, objective (1)/(12) of the paper.

``f(x) = (1/n) Σ_i f_i(x)``, ``f_i(x) = ½ xᵀ L_i x − b_iᵀ x`` with symmetric
positive semidefinite ``L_i`` (d×d) and ``b_i ∈ ℝ^d``.

Validation tolerances (stated once, used everywhere):

* symmetry: ``max|L_i − L_iᵀ| ≤ SYMMETRY_RTOL · max(1, max|L_i|)``; the stored
  matrix is then symmetrised exactly, ``(L_i + L_iᵀ)/2``;
* PSD: ``λ_min(L_i) ≥ −PSD_RTOL · max(1, λ_max(L_i))``;
* ``L̄ ≻ 0`` (needed for ``x*``): ``λ_min(L̄) > SINGULAR_RTOL · λ_max(L̄)``.

The relative tolerances are a few hundred ulps of double precision times the
dimension that eigen-solvers lose in practice (``1e-10``); they accept matrices
built by floating-point products such as ``AᵀA`` and reject genuine errors.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .arrays import FloatArray
from .errors import (
    NonFiniteError,
    NotPSDError,
    NotSymmetricError,
    ShapeError,
    SingularError,
)
from .resources import small_blas

SYMMETRY_RTOL = 1e-10
PSD_RTOL = 1e-10
SINGULAR_RTOL = 1e-12



def weighted_norm2(v: ArrayLike, M: ArrayLike) -> FloatArray:
    """``‖v‖²_M = vᵀ M v`` (Setting), batched over the leading axes of ``v``."""
    v = np.asarray(v, dtype=float)
    out: FloatArray = np.einsum("...i,ij,...j->...", v, np.asarray(M, dtype=float), v)
    return out


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a.setflags(write=False)
    return a


class _QuadraticData(Protocol):
    """What :class:`QuadraticMethods` needs from a problem class (a self type for the mixin)."""

    @property
    def n(self) -> int: ...
    @property
    def d(self) -> int: ...
    @property
    def b(self) -> FloatArray: ...
    @property
    def D(self) -> FloatArray: ...
    @property
    def x_star(self) -> FloatArray: ...
    @property
    def b_bar(self) -> FloatArray: ...
    def L_bar_apply(self, x: ArrayLike) -> FloatArray: ...
    def _solve_columns(self, v: FloatArray) -> FloatArray: ...


class QuadraticMethods:
    """What a dense and a structured quadratic (12) share, written once: everything derived from
    ``b``, the diagonals ``D``, products ``L̄x`` and solves ``L̄⁻¹v``.

    A subclass provides ``n``, ``d``, ``b``, ``D`` (n, d), ``x_star``, ``L_bar_apply(x)`` and
    ``_solve_columns(v)`` (``L̄⁻¹`` applied to the columns of a (d, k) array).
    """

    @cached_property
    def is_interpolation(self: _QuadraticData) -> bool:
        """Interpolation case: every ``b_i = 0`` (then ``x* = 0``)."""
        return not bool(np.any(self.b))

    @cached_property
    def b_bar(self: _QuadraticData) -> FloatArray:
        """``b̄ = (1/n) Σ b_i``."""
        return _readonly(self.b.mean(axis=0))

    @cached_property
    def D_bar(self: _QuadraticData) -> FloatArray:
        """``D̄ = (1/n) Σ D_i`` as a length-d vector (its diagonal)."""
        return _readonly(self.D.mean(axis=0))

    def solve_L_bar(self: _QuadraticData, v: ArrayLike) -> FloatArray:
        """``L̄⁻¹ v`` for ``v`` of shape (..., d); needs ``L̄ ≻ 0``."""
        v = np.asarray(v, dtype=float)
        return self._solve_columns(v.reshape(-1, self.d).T).T.reshape(v.shape)

    @cached_property
    def f_star(self: _QuadraticData) -> float:
        """``f(x*) = −½ b̄ᵀ x*``."""
        return float(-0.5 * self.b_bar @ self.x_star)

    def f(self: _QuadraticData, x: ArrayLike) -> FloatArray:
        """``f(x) = ½ xᵀ L̄ x − b̄ᵀ x`` (12), batched over leading axes."""
        x = np.asarray(x, dtype=float)
        out: FloatArray = 0.5 * np.einsum("...i,...i->...", x, self.L_bar_apply(x)) - x @ self.b_bar
        return out

    def grad(self: _QuadraticData, x: ArrayLike) -> FloatArray:
        """``∇f(x) = L̄ x − b̄``, batched over leading axes."""
        return self.L_bar_apply(x) - self.b_bar

    def client_diagonal(self: _QuadraticData, coords: NDArray[np.intp]) -> FloatArray:
        """``(L_i)_{jj}`` at ``coords`` of shape (..., n, m): (..., n, m)."""
        return np.take(self.D.reshape(-1), coords + (np.arange(self.n) * self.d)[:, None])

    def client_b(self: _QuadraticData, coords: NDArray[np.intp]) -> FloatArray:
        """``(b_i)_j`` at ``coords`` of shape (..., n, m): (..., n, m)."""
        return np.take(self.b.reshape(-1), coords + (np.arange(self.n) * self.d)[:, None])


@dataclass(frozen=True, eq=False)
class QuadraticProblem(QuadraticMethods):
    """The distributed quadratic (12): ``L`` of shape (n, d, d), ``b`` of shape (n, d).

    Construct it with validated data; every derived quantity (``L̄``, ``b̄``,
    ``D_i = Diag(L_i)``, ``x* = L̄⁻¹ b̄``, ``f``, ``∇f``) is computed lazily
    and cached. Instances are immutable (their arrays are read-only).

    ``check_psd=False`` skips the PSD test of each ``L_i`` (cost ``O(n d³)``:
    one batched Cholesky factorisation, ``eigvalsh`` only where it fails; see
    :func:`_check_psd`); the generators use it for matrices that are PSD by
    construction. Symmetry, shapes and finiteness are always checked.
    """

    L: FloatArray
    b: FloatArray
    check_psd: bool = field(default=True, repr=False)

    def __post_init__(self) -> None:
        L = _as_float_array(self.L, "L")
        if L.ndim == 2:
            L = L[None]
        if L.ndim != 3 or L.shape[1] != L.shape[2] or L.shape[0] < 1 or L.shape[1] < 1:
            raise ShapeError(f"L must have shape (n, d, d) with n, d >= 1; got {L.shape}")
        n, d = L.shape[0], L.shape[1]
        b = _as_float_array(self.b, "b")
        if b.ndim == 1 and n == 1:
            b = b[None]
        if b.shape != (n, d):
            raise ShapeError(f"b must have shape (n, d) = ({n}, {d}) to match L; got {b.shape}")
        _check_finite(L, "L")
        _check_finite(b, "b")
        scale = np.maximum(1.0, np.abs(L).max(axis=(1, 2)))
        asym = np.concatenate([np.abs(L[blk] - np.swapaxes(L[blk], 1, 2)).max(axis=(1, 2))
                               for blk in _blocks(n, d)])  # a few MB at a time: temporaries stay in cache
        bad = np.flatnonzero(asym > SYMMETRY_RTOL * scale)
        if bad.size:
            i = int(bad[0])
            raise NotSymmetricError(
                f"L_{i} is not symmetric: max|L_{i} - L_{i}^T| = {asym[i]:.3g} "
                f"exceeds tolerance {SYMMETRY_RTOL:g} x {scale[i]:.3g}"
            )
        for j in np.flatnonzero(asym):  # exact symmetrisation that cannot overflow (a symmetric L_i is kept as is)
            L[j] = L[j] + 0.5 * (L[j].T - L[j])
        if self.check_psd:
            with small_blas(d):
                _check_psd(L)
        object.__setattr__(self, "L", _readonly(L))
        object.__setattr__(self, "b", _readonly(np.ascontiguousarray(b)))

    # --- sizes and flags -------------------------------------------------
    @property
    def n(self) -> int:
        """Number of clients."""
        return int(self.L.shape[0])

    @property
    def d(self) -> int:
        """Model dimension."""
        return int(self.L.shape[1])

    @cached_property
    def is_homogeneous(self) -> bool:
        """Homogeneous case of the Setting: ``L_i ≡ L`` and ``b_i ≡ b``."""
        return bool(np.array_equal(self.L, np.broadcast_to(self.L[:1], self.L.shape))
                    and np.array_equal(self.b, np.broadcast_to(self.b[:1], self.b.shape)))

    # --- averages and diagonals ------------------------------------------
    @cached_property
    def L_bar(self) -> FloatArray:
        """``L̄ = (1/n) Σ L_i``: ``f`` is ``L̄``-smooth (Assumption 1, (8))."""
        return _readonly(self.L.mean(axis=0))

    @cached_property
    def D(self) -> FloatArray:
        """Diagonals ``D_i = Diag(L_i)`` stored as an (n, d) array."""
        return _readonly(np.ascontiguousarray(np.diagonal(self.L, axis1=1, axis2=2)))

    # --- spectrum, solution ------------------------------------------------
    @cached_property
    def eigvals_L_bar(self) -> FloatArray:
        """Eigenvalues of ``L̄`` in ascending order."""
        return _readonly(np.linalg.eigvalsh(self.L_bar))

    @property
    def is_L_bar_positive_definite(self) -> bool:
        """``L̄ ≻ 0`` within ``SINGULAR_RTOL``."""
        ev = self.eigvals_L_bar
        return bool(ev[0] > SINGULAR_RTOL * max(ev[-1], np.finfo(float).tiny))

    def require_positive_definite(self, what: str = "x*") -> None:
        """Raise :class:`SingularError` unless ``L̄ ≻ 0``."""
        if not self.is_L_bar_positive_definite:
            ev = self.eigvals_L_bar
            raise SingularError(
                f"L_bar is singular (eigenvalues in [{ev[0]:.3g}, {ev[-1]:.3g}]); "
                f"{what} needs L_bar positive definite"
            )

    @cached_property
    def _cho_L_bar(self) -> tuple[FloatArray, bool]:
        self.require_positive_definite("L_bar^{-1}")
        import scipy.linalg as sla  # SciPy is loaded on the first solve, not with the module

        cho: tuple[FloatArray, bool] = sla.cho_factor(self.L_bar)
        return cho

    def _solve_columns(self, v: FloatArray) -> FloatArray:
        import scipy.linalg as sla

        out: FloatArray = sla.cho_solve(self._cho_L_bar, v)
        return out

    @cached_property
    def x_star(self) -> FloatArray:
        """The solution ``x* = L̄⁻¹ b̄`` (Setting); needs ``L̄ ≻ 0``."""
        self.require_positive_definite("x*")
        return _readonly(self.solve_L_bar(self.b_bar))

    # --- objective --------------------------------------------------------
    def f_clients(self, x: ArrayLike) -> FloatArray:
        """``f_i(x)`` for every client: shape (..., n)."""
        x = np.asarray(x, dtype=float)
        Lx = np.einsum("nij,...j->...ni", self.L, x)
        out: FloatArray = 0.5 * np.einsum("...ni,...i->...n", Lx, x) - np.einsum("ni,...i->...n", self.b, x)
        return out

    def grad_clients(self, x: ArrayLike) -> FloatArray:
        """``∇f_i(x) = L_i x − b_i`` for every client: shape (..., n, d)."""
        x = np.asarray(x, dtype=float)
        out: FloatArray = np.einsum("nij,...j->...ni", self.L, x) - self.b
        return out

    # --- index-form access for the simulator (no d×d sketch matrices) ------
    def client_blocks(self, coords: NDArray[np.intp]) -> FloatArray:
        """``L_i[S, S]`` for index sets ``coords`` of shape (..., n, m): (..., n, m, m)."""
        base = (np.arange(self.n) * self.d * self.d)[:, None, None]
        flat = base + coords[..., :, None] * self.d + coords[..., None, :]
        return np.take(self.L.reshape(-1), flat)

    def client_operator(self, coords: NDArray[np.intp]) -> Callable[[FloatArray], FloatArray]:
        """``u ↦ L_i[S_i, S_i] u`` for index sets ``coords`` (..., n, m), ``u`` of shape (..., n, m).

        Gathers only the blocks the draw touches (the diagonal when ``m = 1``)."""
        if coords.shape[-1] == 1:
            diag = self.client_diagonal(coords)
            return lambda u: diag * u
        blocks = self.client_blocks(coords)
        return lambda u: np.matmul(blocks, u[..., None])[..., 0]

    def L_bar_apply(self, x: ArrayLike) -> FloatArray:
        """``L̄ x`` batched over leading axes."""
        return np.asarray(x, dtype=float) @ self.L_bar

    # --- misc ---------------------------------------------------------------
    def __repr__(self) -> str:
        kind = "homogeneous" if self.is_homogeneous else "heterogeneous"
        interp = ", interpolation" if self.is_interpolation else ""
        return f"QuadraticProblem(n={self.n}, d={self.d}, {kind}{interp})"


BLOCK_BYTES = 4 * 2**20
"""Validation works on blocks of about this many bytes of ``L`` (whole matrices), so temporaries stay small."""

_UNIT_ROUNDOFF = 2.0**-53


def _cholesky_backward_error(d: int) -> float:
    """``c(d) = d·γ_{d+1} / (1 − d·γ_{d+1})``, ``γ_k = k·u / (1 − k·u)``: when a Cholesky factorisation of a
    symmetric d×d ``A`` runs to completion in floating point, ``R̂ᵀR̂ = A + ΔA`` with
    ``‖ΔA‖₂ ≤ c(d)·‖A‖₂`` (Higham, *Accuracy and Stability of Numerical Algorithms*, Thm 10.3,
    ``|ΔA| ≤ γ_{d+1}|R̂ᵀ||R̂|``, with ``‖|R̂ᵀ||R̂|‖₂ ≤ d‖R̂ᵀR̂‖₂``); any summation order."""
    g = (d + 1) * _UNIT_ROUNDOFF / (1 - (d + 1) * _UNIT_ROUNDOFF)
    return d * g / (1 - d * g) if d * g < 1 else math.inf


PSD_CHOLESKY_MAX_D = next(d for d in itertools.count(1) if _cholesky_backward_error(d + 1) > 0.4 * PSD_RTOL)
"""Largest ``d`` for which a Cholesky factorisation certifies the PSD test (about 600); above it every
``L_i`` goes to ``eigvalsh``, as before. Why ``0.4·PSD_RTOL``: see :func:`_check_psd`."""


def _blocks(n: int, d: int) -> list[slice]:
    """Slices of the n matrices of a (n, d, d) stack, about :data:`BLOCK_BYTES` each (at least one matrix)."""
    step = max(1, BLOCK_BYTES // (8 * d * d))
    return [slice(lo, min(n, lo + step)) for lo in range(0, n, step)]


def _check_psd(L: FloatArray) -> None:
    """The PSD test of the module docstring, ``λ_min(L_i) ≥ −PSD_RTOL·max(1, λ_max(L_i))``, in one pass.

    Certificate: a batched Cholesky factorisation of ``L_i + ε_i I`` with
    ``ε_i = ½·PSD_RTOL·max(1, max_j (L_i)_jj)``. Write ``m = max(1, λ_max(L_i))``; ``λ_max ≥ max_j (L_i)_jj``
    (Rayleigh quotient of a unit vector), so ``ε_i ≤ ½·PSD_RTOL·m``. If the factorisation runs to completion
    (finite, positive pivots), then ``L_i + ε_i I + F + ΔA ≻ 0`` with ``F`` the rounding of the shift
    (``‖F‖ ≤ u·(max_j (L_i)_jj + ε_i)``) and ``‖ΔA‖ ≤ c(d)·‖L_i + ε_i I + F‖`` (:func:`_cholesky_backward_error`).
    If ``|λ_min| ≤ m`` this gives ``λ_min(L_i) > −(½·PSD_RTOL + 1.01·u + 1.01·c(d))·m ≥ −0.91·PSD_RTOL·m``
    for ``c(d) ≤ 0.4·PSD_RTOL`` (``d ≤`` :data:`PSD_CHOLESKY_MAX_D`): the matrix passes the test with a margin
    far wider than ``eigvalsh``'s own rounding, so the old decision (``eigvalsh`` of every ``L_i``) would have
    accepted it too; ``|λ_min| > m`` cannot complete (it would force ``|λ_min| < 0.52·PSD_RTOL·m``).
    A matrix with ``λ_min < −PSD_RTOL·m`` therefore always fails the factorisation. Where it fails (or
    ``d`` is too large to certify), ``eigvalsh`` decides exactly as before and names the eigenvalue.
    """
    n, d = L.shape[0], L.shape[1]
    undecided: list[int] = []
    if d <= PSD_CHOLESKY_MAX_D:
        idx = np.arange(d)
        for blk in _blocks(n, d):
            A = L[blk].copy()
            A[:, idx, idx] += (0.5 * PSD_RTOL) * np.maximum(1.0, A[:, idx, idx].max(axis=1))[:, None]
            try:
                ok = bool(np.all(np.isfinite(np.linalg.cholesky(A))))
            except np.linalg.LinAlgError:
                ok = False
            if not ok:  # find which matrices of the block fail
                undecided += [i for i in range(blk.start, blk.stop) if not _cholesky_ok(A[i - blk.start])]
    else:
        undecided = list(range(n))
    if not undecided:
        return
    eig = np.linalg.eigvalsh(L[undecided])
    if not np.all(np.isfinite(eig)):
        raise NonFiniteError("L is too large to factor: its eigenvalues overflow double precision")
    lo, hi = eig[:, 0], np.maximum(1.0, eig[:, -1])
    bad = np.flatnonzero(lo < -PSD_RTOL * hi)
    if bad.size:
        j = int(bad[0])
        raise NotPSDError(f"L_{undecided[j]} is not positive semidefinite: smallest eigenvalue {lo[j]:.3g}")


def _cholesky_ok(A: FloatArray) -> bool:
    """Whether the Cholesky factorisation of one matrix runs to completion with a finite factor."""
    try:
        return bool(np.all(np.isfinite(np.linalg.cholesky(A))))
    except np.linalg.LinAlgError:
        return False


def _as_float_array(a: Any, name: str) -> FloatArray:
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ShapeError(f"{name} is not a numeric array: {exc}") from None
    return np.array(arr, dtype=np.float64, copy=True)


def _check_finite(a: FloatArray, name: str) -> None:
    if not np.all(np.isfinite(a)):
        idx = tuple(int(t) for t in np.argwhere(~np.isfinite(a))[0])
        raise NonFiniteError(f"{name} has a non-finite entry {a[idx]} at index {idx}")
