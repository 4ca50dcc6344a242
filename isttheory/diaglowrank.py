"""Symmetric ``d × d`` operators ``Diag(a) + Y M Yᵀ`` (``Y`` thin, ``M`` small symmetric): never formed densely.

The algebra the structured theory (:mod:`isttheory.structured_theory`) needs on ``L̄``, ``E[B̄]`` and ``W̄``:
products with vectors in ``O(d·r)``, solves by the push-through Woodbury identity
``(A + YMYᵀ)⁻¹ = A⁻¹ − A⁻¹Y M (I + YᵀA⁻¹Y M)⁻¹ YᵀA⁻¹`` (valid for singular ``M``), the symmetrised
product ``½(XZ + ZX)`` of two such operators (still of this form), and the *inertia*
(the number of negative eigenvalues) by Haynsworth's additivity: with ``M = PΛPᵀ`` compressed to its
non-zero eigenvalues ``N``, ``neg(A + YNYᵀ) = neg(A) + pos(N⁻¹ + YᵀA⁻¹Y) − pos(N)`` — an exact count in
``O(d·r²)``, which certifies ``λ_min`` of a generalised eigenproblem from below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .arrays import FloatArray, sym
from .errors import SingularError

ZERO_RTOL = 1e-12
"""Eigenvalues of the small core below ``ZERO_RTOL·max|eig|`` are dropped as zero."""


@dataclass(frozen=True)
class DiagLowRank:
    """The symmetric operator ``Diag(diag) + Y M Yᵀ``."""

    diag: FloatArray
    Y: FloatArray
    M: FloatArray

    @property
    def d(self) -> int:
        return int(self.diag.shape[0])

    def apply(self, x: FloatArray) -> FloatArray:
        """``(Diag + YMYᵀ) x`` for ``x`` of shape (d,) or (d, m)."""
        x = np.asarray(x, dtype=float)
        dx = self.diag * x if x.ndim == 1 else self.diag[:, None] * x
        out: FloatArray = dx + self.Y @ (self.M @ (self.Y.T @ x))
        return out

    def dense(self) -> FloatArray:
        """The ``d × d`` matrix (small ``d`` only: tests and cross-checks)."""
        return sym(np.diag(self.diag) + self.Y @ self.M @ self.Y.T)

    def diagonal(self) -> FloatArray:
        """The diagonal entries, ``diag + rowwise (YMYᵀ)_{jj}``."""
        out: FloatArray = self.diag + np.einsum("jr,rs,js->j", self.Y, self.M, self.Y)
        return out

    def solve(self, v: FloatArray) -> FloatArray:
        """``(Diag + YMYᵀ)⁻¹ v`` by push-through Woodbury (``Diag`` must have no zero)."""
        if np.any(self.diag == 0):
            raise SingularError("the diagonal part of a diagonal-plus-low-rank operator has a zero: no Woodbury solve")
        v = np.asarray(v, dtype=float)
        inv = 1.0 / self.diag if v.ndim == 1 else (1.0 / self.diag)[:, None]
        y = inv * v
        r = self.Y.shape[1]
        if r == 0:
            return y
        core = np.eye(r) + (self.Y.T @ (self.Y / self.diag[:, None])) @ self.M
        try:
            t = np.linalg.solve(core, self.Y.T @ y)
        except np.linalg.LinAlgError:
            raise SingularError("a diagonal-plus-low-rank operator is singular (Woodbury core)") from None
        out: FloatArray = y - inv * (self.Y @ (self.M @ t))
        return out

    def shifted(self, mu: float, other: DiagLowRank) -> DiagLowRank:
        """``self − μ·other`` (for the pencil ``W̄ − μL̄``)."""
        r1, r2 = self.M.shape[0], other.M.shape[0]
        M = np.zeros((r1 + r2, r1 + r2))
        M[:r1, :r1], M[r1:, r1:] = self.M, -mu * other.M
        return DiagLowRank(self.diag - mu * other.diag, np.hstack([self.Y, other.Y]), M)

    def negative_count(self) -> int:
        """The number of negative eigenvalues (Haynsworth inertia additivity; the diagonal must have no zero)."""
        if np.any(self.diag == 0):
            raise SingularError("inertia needs a diagonal part without zeros")
        neg = int(np.sum(self.diag < 0))
        if self.Y.shape[1] == 0:
            return neg
        # compress Y M Yᵀ = Q (R M Rᵀ) Qᵀ to its non-zero spectrum
        Q, R = np.linalg.qr(self.Y)
        lam, P = np.linalg.eigh(sym(R @ self.M @ R.T))
        keep = np.abs(lam) > ZERO_RTOL * max(float(np.abs(lam).max(initial=0.0)), np.finfo(float).tiny)
        if not keep.any():
            return neg
        Yk, N = Q @ P[:, keep], lam[keep]
        S = np.diag(1.0 / N) + Yk.T @ (Yk / self.diag[:, None])
        s = np.linalg.eigvalsh(sym(S))
        return neg + int(np.sum(s > 0)) - int(np.sum(N > 0))

    def operator(self) -> LinearOperator:
        return LinearOperator((self.d, self.d), matvec=self.apply, matmat=self.apply, dtype=float)

    def inverse_operator(self) -> LinearOperator:
        return LinearOperator((self.d, self.d), matvec=self.solve, matmat=self.solve, dtype=float)


def sym_product(X: DiagLowRank, Z: DiagLowRank) -> DiagLowRank:
    """``½(XZ + ZX)`` as ``Diag + YMYᵀ`` with ``Y = [Y₁, D₂Y₁, Y₂, D₁Y₂]`` (``X = D₁ + Y₁M₁Y₁ᵀ``,
    ``Z = D₂ + Y₂M₂Y₂ᵀ``): the cross term ``Y₁M₁(Y₁ᵀY₂)M₂Y₂ᵀ`` and its transpose sit in the (1, 3) blocks."""
    D1, Y1, M1 = X.diag, X.Y, X.M
    D2, Y2, M2 = Z.diag, Z.Y, Z.M
    r1, r2 = Y1.shape[1], Y2.shape[1]
    Y = np.hstack([Y1, D2[:, None] * Y1, Y2, D1[:, None] * Y2])
    M = np.zeros((2 * (r1 + r2),) * 2)
    a, b, c, e = slice(0, r1), slice(r1, 2 * r1), slice(2 * r1, 2 * r1 + r2), slice(2 * r1 + r2, 2 * (r1 + r2))
    M[b, a], M[a, b] = M1 / 2, M1.T / 2          # ½(D₂Y₁M₁Y₁ᵀ + Y₁M₁Y₁ᵀD₂)
    M[e, c], M[c, e] = M2 / 2, M2.T / 2          # ½(D₁Y₂M₂Y₂ᵀ + Y₂M₂Y₂ᵀD₁)
    cross = M1 @ (Y1.T @ Y2) @ M2 / 2
    M[a, c], M[c, a] = cross, cross.T            # ½(Y₁M₁Y₁ᵀY₂M₂Y₂ᵀ + transpose)
    return DiagLowRank(D1 * D2, Y, sym(M))

