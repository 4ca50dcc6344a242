"""Structured quadratics (12) for large ``d``: diagonal plus low rank, never a dense ``L_i``.

``L_i = Diag(δ_i) + V Vᵀ + U_i U_iᵀ`` with a shared factor ``V`` (d × r₀),
client factors ``U_i`` (d × r, optional) and ``δ_i ≥ 0``. What is stored is
what the simulator touches: the full diagonals ``D_i = Diag(L_i)`` (n × d),
``b`` (n × d) and the factors. Perm-1 reads only ``(L_i)_{jj}`` and
``(b_i)_j``, so with ``r = 0`` a problem at ``d = n = 10⁴`` costs 1.6 GB
where a dense ``L`` would cost 8 TB.

``L̄ = Diag(δ̄) + W Wᵀ`` with ``W = [V, U_1/√n, …, U_n/√n]``: products cost
``O(d·k)`` (``k`` the columns of ``W``) and solves use the Woodbury identity
``(Δ + WWᵀ)⁻¹ = Δ⁻¹ − Δ⁻¹W (I + WᵀΔ⁻¹W)⁻¹ WᵀΔ⁻¹`` (or a dense Cholesky
factor of ``L̄`` when ``k ≥ d``).

Positive definiteness of ``L̄`` is certified by ``δ̄ > 0`` (a sufficient
condition: ``L̄ ⪰ Diag(δ̄)``); a structured problem whose diagonal part
vanishes somewhere is treated as singular. Use a dense
:class:`~isttheory.problem.QuadraticProblem` (``to_dense()``) for an exact test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .arrays import FloatArray
from .errors import NotPSDError, ShapeError, SingularError
from .problem import (
    PSD_RTOL,
    SINGULAR_RTOL,
    QuadraticMethods,
    QuadraticProblem,
    _as_float_array,
    _check_finite,
    _readonly,
)

ClientOperator = Callable[[FloatArray], FloatArray]


def _as_float64_nocopy(a: object, name: str) -> FloatArray:
    """``a`` as a float64 array, converted only when it is not one already (no copy of an owned array)."""
    try:
        out: FloatArray = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ShapeError(f"{name} is not a numeric array: {exc}") from None
    return out


@dataclass(frozen=True, eq=False)
class LowRankDiagonalProblem(QuadraticMethods):
    """The quadratic (12) with ``L_i = Diag(δ_i) + V Vᵀ + U_i U_iᵀ``.

    ``D`` (n, d) holds the full diagonals ``(L_i)_{jj}``; ``V`` (d, r₀) the
    shared factor (``r₀`` may be 0); ``U`` (n, d, r) the client factors or
    ``None``; ``b`` (n, d). Validation: shapes, finiteness, and ``δ_i =
    D_i − rowsq(V) − rowsq(U_i) ≥ −PSD_RTOL·max(1, max D_i)`` (then every
    ``L_i`` is PSD). Same read-only interface as ``QuadraticProblem`` for
    everything the simulator uses.
    """

    D: FloatArray
    b: FloatArray
    V: FloatArray | None = None
    U: FloatArray | None = None
    delta_bar: FloatArray = field(init=False, repr=False)
    """``δ̄ = (1/n) Σ δ_i``, the diagonal part of ``L̄`` (computed at validation)."""

    def __post_init__(self) -> None:
        self._validate(copy=True)

    @classmethod
    def from_owned_arrays(cls, D: FloatArray, b: FloatArray, V: FloatArray | None = None,
                          U: FloatArray | None = None) -> LowRankDiagonalProblem:
        """The same problem as ``LowRankDiagonalProblem(D, b, V, U)``, taking ownership of the arrays.

        For arrays nobody else holds (freshly read from a file or generated): float64 arrays are kept
        as they are, not copied, and are made read-only. Same validation and error messages."""
        obj = cls.__new__(cls)
        for name, a in (("D", D), ("b", b), ("V", V), ("U", U)):
            object.__setattr__(obj, name, a)
        obj._validate(copy=False)
        return obj

    def _validate(self, copy: bool) -> None:
        """Check shapes, finiteness and ``δ_i ≥ 0`` and set ``δ̄``, in one blocked pass over ``D`` and ``b``.

        Errors, in this order of precedence whatever their position: a non-finite entry of ``D``, ``b``,
        ``V``, ``U`` (the first in C order), then the first ``(i, j)`` with ``δ_i[j]`` below tolerance."""
        conv = _as_float_array if copy else _as_float64_nocopy
        D = conv(self.D, "D")
        if D.ndim != 2 or min(D.shape) < 1:
            raise ShapeError(f"D must have shape (n, d) with n, d >= 1; got {D.shape}")
        n, d = D.shape
        b = conv(self.b, "b")
        if b.shape != (n, d):
            raise ShapeError(f"b must have shape (n, d) = ({n}, {d}) to match D; got {b.shape}")
        V = np.zeros((d, 0)) if self.V is None else conv(self.V, "V")
        if V.ndim != 2 or V.shape[0] != d:
            raise ShapeError(f"V must have shape (d, r0) with d = {d}; got {V.shape}")
        U = None if self.U is None else conv(self.U, "U")
        if U is not None and (U.ndim != 3 or U.shape[:2] != (n, d)):
            raise ShapeError(f"U must have shape (n, d, r) = ({n}, {d}, r); got {U.shape}")
        v_ok = bool(np.all(np.isfinite(V)))
        rowsq_V = np.einsum("jr,jr->j", V, V)
        # rows per block: about 4 MB of D, so the temporaries stay in cache
        step = max(1, (1 << 19) // max(d, 1))
        total = np.zeros(d)
        first_bad: tuple[int, int, float] | None = None
        bad_D = bad_b = False
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            Db = D[lo:hi]
            if not bad_D and not np.isfinite(Db).all():
                bad_D = True
            if not bad_b and not np.isfinite(b[lo:hi]).all():
                bad_b = True
            if bad_D or bad_b or not v_ok:
                continue  # a finiteness error will be raised: no PSD check needed
            rest = Db - rowsq_V
            if U is not None:
                rest -= np.einsum("njr,njr->nj", U[lo:hi], U[lo:hi])
            tol = PSD_RTOL * np.maximum(1.0, np.abs(Db).max(axis=1))
            if first_bad is None:
                bad = np.argwhere(rest < -tol[:, None])
                if bad.size:
                    i, j = (int(t) for t in bad[0])
                    first_bad = (lo + i, j, float(rest[i, j]))
            np.maximum(rest, 0.0, out=rest)
            for row in rest:  # row by row, the summation order of rest.sum(axis=0)
                total += row
        if bad_D:
            _check_finite(D, "D")
        if bad_b:
            _check_finite(b, "b")
        _check_finite(V, "V")
        if U is not None:
            _check_finite(U, "U")
        if first_bad is not None:
            i, j, val = first_bad
            raise NotPSDError(
                f"L_{i} = Diag(delta_{i}) + low rank needs delta_{i} >= 0; delta_{i}[{j}] = {val:.3g} "
                f"(D_{i}[{j}] is smaller than the low-rank part's diagonal)"
            )
        total /= n
        object.__setattr__(self, "D", _readonly(D))
        object.__setattr__(self, "b", _readonly(b))
        object.__setattr__(self, "V", _readonly(V))
        object.__setattr__(self, "U", None if U is None else _readonly(U))
        object.__setattr__(self, "delta_bar", _readonly(total))

    # --- sizes ----------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of clients."""
        return int(self.D.shape[0])

    @property
    def d(self) -> int:
        """Model dimension."""
        return int(self.D.shape[1])

    @property
    def nbytes(self) -> int:
        """Bytes held by the stored arrays."""
        return int(sum(a.nbytes for a in (self.D, self.b, self.V, self.U) if a is not None))

    # --- L̄ = Diag(δ̄) + W Wᵀ ------------------------------------------------------
    @cached_property
    def W(self) -> FloatArray:
        """The low-rank factor of ``L̄ = Diag(δ̄) + W Wᵀ``: ``[V, U_1/√n, …, U_n/√n]``."""
        assert self.V is not None
        if self.U is None:
            return self.V
        client = np.transpose(self.U, (1, 0, 2)).reshape(self.d, -1) / np.sqrt(self.n)
        return _readonly(np.ascontiguousarray(np.hstack([self.V, client])))

    def L_bar_apply(self, x: ArrayLike) -> FloatArray:
        """``L̄ x`` batched over leading axes, in ``O(d·k)`` per vector."""
        x = np.asarray(x, dtype=float)
        delta = self.delta_bar
        W = self.W
        out: FloatArray = delta * x + (x @ W) @ W.T
        return out

    @cached_property
    def L_bar(self) -> FloatArray:
        """Dense ``L̄`` (d × d): only for moderate ``d`` (tests, exact engines)."""
        delta = self.delta_bar
        out = self.W @ self.W.T
        out[np.diag_indices(self.d)] += delta
        return _readonly(out)

    # --- positive definiteness and solves ---------------------------------------
    @property
    def is_L_bar_positive_definite(self) -> bool:
        """Certified by ``min δ̄ > SINGULAR_RTOL · (max δ̄ + ‖W‖²_F)`` (``L̄ ⪰ Diag(δ̄)``)."""
        delta = self.delta_bar
        top = float(delta.max()) + float(np.einsum("jk,jk->", self.W, self.W))
        return bool(delta.min() > SINGULAR_RTOL * max(top, np.finfo(float).tiny))

    def require_positive_definite(self, what: str = "x*") -> None:
        """Raise :class:`SingularError` unless ``L̄ ≻ 0`` is certified."""
        if not self.is_L_bar_positive_definite:
            raise SingularError(
                f"{what} needs L_bar positive definite; this structured problem's diagonal part delta_bar "
                f"has minimum {float(self.delta_bar.min()):.3g}, so it cannot be certified "
                "(use a dense problem for an exact test)"
            )

    @cached_property
    def _solver(self) -> Callable[[FloatArray], FloatArray]:
        self.require_positive_definite("L_bar^{-1}")
        import scipy.linalg as sla  # SciPy is loaded on the first solve, not with the module

        delta = self.delta_bar
        W = self.W
        k = W.shape[1]
        if k >= self.d:
            cho = sla.cho_factor(self.L_bar)
            return lambda v: sla.cho_solve(cho, v)
        Wd = W / delta[:, None]
        cap = sla.cho_factor(np.eye(k) + W.T @ Wd)

        def woodbury(v: FloatArray) -> FloatArray:
            y = v / delta[:, None]
            out: FloatArray = y - Wd @ sla.cho_solve(cap, W.T @ y)
            return out

        return woodbury

    def _solve_columns(self, v: FloatArray) -> FloatArray:
        return self._solver(v)  # Woodbury (or a dense factor when k >= d)

    @cached_property
    def x_star(self) -> FloatArray:
        """``x* = L̄⁻¹ b̄`` (Setting)."""
        return _readonly(self.solve_L_bar(self.b_bar))

    # --- index-form access (the simulator's seam; client_diagonal, client_b inherited) ----
    def _factor_rows(self, coords: NDArray[np.intp]) -> FloatArray:
        """The rows of ``[V, U_i]`` at ``coords`` (..., n, m): (..., n, m, r₀ + r), the low-rank part of
        ``L_i[S, S] = (rows)(rows)ᵀ`` off the diagonal."""
        assert self.V is not None
        Vs = self.V[coords]
        if self.U is None:
            return Vs
        flat = coords + (np.arange(self.n) * self.d)[:, None]
        return np.concatenate([Vs, self.U.reshape(self.n * self.d, -1)[flat]], axis=-1)

    def client_operator(self, coords: NDArray[np.intp]) -> ClientOperator:
        """``u ↦ L_i[S_i, S_i] u`` for index sets ``coords`` (..., n, m), without forming the blocks:
        ``(D_i − rowsq)∘u + F(Fᵀu)`` with ``F`` the factor rows."""
        factors = self._factor_rows(coords)
        rest = self.client_diagonal(coords) - np.einsum("...mr,...mr->...m", factors, factors)

        def apply(u: FloatArray) -> FloatArray:
            out: FloatArray = rest * u + np.einsum("...mr,...r->...m", factors,
                                                   np.einsum("...mr,...m->...r", factors, u))
            return out

        return apply

    def client_blocks(self, coords: NDArray[np.intp]) -> FloatArray:
        """``L_i[S, S]`` for ``coords`` (..., n, m): (..., n, m, m)."""
        factors = self._factor_rows(coords)
        blocks = factors @ np.swapaxes(factors, -1, -2)
        m = coords.shape[-1]
        blocks[..., np.arange(m), np.arange(m)] = self.client_diagonal(coords)
        return blocks

    # --- conversion -------------------------------------------------------------
    def to_dense(self) -> QuadraticProblem:
        """The same problem as a dense :class:`QuadraticProblem` (``n·d²`` floats: small sizes only)."""
        assert self.V is not None
        L = np.broadcast_to(self.V @ self.V.T, (self.n, self.d, self.d)).copy()
        if self.U is not None:
            L += self.U @ np.swapaxes(self.U, 1, 2)
        idx = np.arange(self.d)
        L[:, idx, idx] = self.D
        return QuadraticProblem(L, self.b, check_psd=False)

    def __repr__(self) -> str:
        r0 = 0 if self.V is None else self.V.shape[1]
        r = 0 if self.U is None else self.U.shape[2]
        return f"LowRankDiagonalProblem(n={self.n}, d={self.d}, shared rank {r0}, client rank {r})"

