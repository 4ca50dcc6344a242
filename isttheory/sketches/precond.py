"""Preconditioned Perm-1 (23): ``C̃_i = √n ((L_i)_{π_i π_i})^{-1/2} e_{π_i} e_{π_i}ᵀ``.

Uses only the diagonal entries of ``L_i``. Then ``E[C̃_i L_i C̃_i] = I`` and
``E[B̄] = I`` (§3.1.2). Our copy of the paper prints the scale as
``[L_i^{-1/2}]_{π_i π_i}`` (a diagonal entry of the inverse square root);
that variant is available as ``variant="printed"`` so the erratum can be
shown to matter, but it is not the default (see ERRATA.md).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..arrays import FloatArray
from ..errors import IncompatibleSketchError, SketchSpecError
from ..problem import QuadraticProblem
from ..resources import check_fits
from ..structured import LowRankDiagonalProblem
from .base import (
    DiagonalSketch,
    IndexDraw,
    Sketch,
    SpecTarget,
    Support,
    all_permutations,
    random_permutations,
)

if TYPE_CHECKING:
    from ..symbolic.inclusion import UniformPartition

Variant = Literal["diagonal", "printed"]


def scale_23(n: Any, L_jj: Any, sqrt: Callable[[Any], Any] = math.sqrt,
             divide: Callable[[Any, Any], Any] = operator.truediv) -> Any:
    """The scale of (23), ``√n ((L_i)_{jj})^{-1/2}`` (ERRATA precond-scale): its one home.

    Generic over the number type: float arrays (``sqrt=np.sqrt``), SymPy (``sp.sqrt``) and the exact
    engine of :mod:`isttheory.lemmas` (rationals, or mpmath where the root is irrational) all call it."""
    return divide(sqrt(n), sqrt(L_jj))


class PreconditionedPerm(DiagonalSketch):
    """Perm-1 with per-(client, coordinate) scales ``T[i, j]`` (here ``√n (L_i)_{jj}^{-1/2}``)."""

    family = "precond-perm"
    describe = "preconditioned Perm-1 (23), needs n = d and positive diagonals"

    @classmethod
    def check_param(cls, param: str | None, spec: str) -> None:
        if param is not None and param != "printed":
            raise SketchSpecError(f"precond-perm takes no parameter except 'printed'; got {spec!r}")

    @classmethod
    def examples(cls, target: SpecTarget) -> list[tuple[Sketch, bool, bool]]:
        """(23) from the problem: biased (``E[C̃_i] ≠ I``), no perfect reconstruction. None for bare sizes."""
        if isinstance(target, tuple):
            return []
        return [(sk, False, False) for sk, _, _ in super().examples(target)]

    @classmethod
    def from_spec(cls, param: str | None, target: SpecTarget) -> PreconditionedPerm:
        if isinstance(target, tuple):
            raise SketchSpecError("precond-perm is built from the problem's diagonals: parse_sketch('precond-perm', "
                                  "problem)")
        return cls.from_problem(target, "printed" if param is not None else "diagonal")

    def __init__(self, n: int, d: int, table: FloatArray, variant: Variant = "diagonal") -> None:
        super().__init__(n, d)
        if n != d:
            raise IncompatibleSketchError(f"precond-perm is a Perm-1 sketch and needs n = d; got n = {n}, d = {d}")
        table = np.asarray(table, dtype=float)
        if table.shape != (n, d) or not _finite_positive(table):
            raise IncompatibleSketchError("precond-perm needs a finite positive (n, d) scale table")
        self.table = table
        self.variant = variant

    @classmethod
    def from_problem(cls, problem: QuadraticProblem | LowRankDiagonalProblem,
                     variant: Variant = "diagonal") -> PreconditionedPerm:
        """Build (23) from a problem's diagonals ``D_i`` (``variant="diagonal"``),
        or from ``[L_i^{-1/2}]_{jj}`` as printed in our copy (``variant="printed"``)."""
        n, d = problem.n, problem.d
        if n != d:
            raise IncompatibleSketchError(f"precond-perm is a Perm-1 sketch and needs n = d; got n = {n}, d = {d}")
        if variant == "diagonal":
            D = problem.D
            check_fits(8 * n * d, f"the precond-perm scale table with n = {n}, d = {d}")
            # √n / √D_i by blocks of rows (about 1 MB, cache-sized), each block checked for a non-positive entry
            # (the first in C order is named) and written in place: one n×d allocation, no n×d temporaries, the
            # same element-wise operations (the same values) as scale_23 on the whole of D
            table = np.empty((n, d))
            step = _block_rows(d)
            for lo in range(0, n, step):
                hi = min(n, lo + step)
                Db = D[lo:hi]
                if (Db <= 0).any():
                    bad = np.argwhere(Db <= 0)
                    i, j = lo + int(bad[0][0]), int(bad[0][1])
                    raise IncompatibleSketchError(
                        f"precond-perm needs D_i^(-1/2): diagonal entry (L_{i})_{j}{j} = {D[i, j]:.3g} is not positive"
                    )
                scale_23(n, Db, _sqrt_into(table[lo:hi]), lambda num, den: np.divide(num, den, out=den))
        elif variant == "printed":
            if not isinstance(problem, QuadraticProblem):
                raise IncompatibleSketchError("the printed variant of (23) needs dense L_i (a QuadraticProblem)")
            w, V = np.linalg.eigh(problem.L)
            if np.any(w <= 0):
                raise IncompatibleSketchError("the printed variant of (23) needs every L_i positive definite")
            inv_sqrt = np.einsum("nij,nj,nkj->nik", V, w**-0.5, V)
            table = math.sqrt(n) * np.diagonal(inv_sqrt, axis1=1, axis2=2)
        else:
            raise IncompatibleSketchError(f"unknown variant {variant!r} of precond-perm")
        return cls(n, d, table, variant)

    @property
    def spec(self) -> str:
        return "precond-perm" if self.variant == "diagonal" else "precond-perm:printed"

    def _draws(self, pi: np.ndarray) -> IndexDraw:
        coords = pi[..., None]
        scales = self.table[np.arange(self.n), pi][..., None]
        return IndexDraw(coords, scales, disjoint=True, covers=True, d=self.d)

    def sample(self, rng: np.random.Generator, size: int) -> IndexDraw:
        return self._draws(random_permutations(rng, size, self.d))

    def support_size(self) -> int:
        return math.factorial(self.d)

    def _support(self) -> Support:
        pi = all_permutations(self.d)
        return Support(np.full(pi.shape[0], 1.0 / pi.shape[0]), self._draws(pi))

    def inclusion_model(self) -> UniformPartition:
        from ..symbolic.inclusion import UniformPartition  # SymPy: loaded only for the exact engines

        return UniformPartition(self.n, self.d)

    def scale_table(self) -> FloatArray:
        return self.table

    def exact_scale(self, L: Any = None) -> np.ndarray | None:
        """(23) from exact ``L_i`` (n, d, d): ``√n ((L_i)_{jj})^{-1/2}`` in SymPy for rational or SymPy entries
        (an mpmath number for an mpmath entry); the printed variant ``√n [L_i^{-1/2}]_{jj}`` in mpmath (an
        eigendecomposition; positive definiteness checked exactly for rational ``L_i``). ``None`` without
        ``L``: the table is built from the problem."""
        if L is None:
            return None
        import sympy as sp

        n, d = self.n, self.d
        T = np.empty((n, d), dtype=object)
        if self.variant == "diagonal":
            for i in range(n):
                for j in range(d):
                    v = _exact(L[i, j, j])
                    if isinstance(v, sp.Basic):
                        if v.is_positive is False or v.is_zero:
                            raise IncompatibleSketchError("(23) needs every diagonal entry (L_i)_jj positive")
                        T[i, j] = scale_23(sp.Integer(n), v, sp.sqrt)
                    else:
                        import mpmath

                        if not v > 0:
                            raise IncompatibleSketchError("(23) needs every diagonal entry (L_i)_jj positive")
                        T[i, j] = scale_23(n, v, mpmath.sqrt)
            return T
        import mpmath

        for i in range(n):
            rows = [[_exact(v) for v in row] for row in L[i]]
            if all(isinstance(v, sp.Rational) for row in rows for v in row) \
                    and not sp.Matrix(rows).is_positive_definite:
                raise IncompatibleSketchError("the printed variant of (23) needs every L_i positive definite "
                                              "(checked exactly)")
            w, V = mpmath.eigsy(mpmath.matrix([[_mpf(v) for v in row] for row in rows]))
            if min(w) <= 0:
                raise IncompatibleSketchError("the printed variant of (23) needs every L_i positive definite")
            for j in range(d):  # [L_i^{-1/2}]_jj = Σ_k V_jk² / √w_k
                T[i, j] = mpmath.sqrt(n) * mpmath.fsum(V[j, k] ** 2 / mpmath.sqrt(w[k]) for k in range(d))
        return T

    @property
    def perfect_reconstruction(self) -> bool:
        """``(1/n) Σ C̃_i = I`` a.s. iff every scale equals ``n``."""
        return bool(np.allclose(self.table, self.n, rtol=1e-15, atol=0))


def _block_rows(d: int) -> int:
    """Rows per block of an (n, d) float table: about 1 MB, so a block's temporaries stay in cache."""
    return max(1, (1 << 17) // max(d, 1))


def _sqrt_into(out: FloatArray) -> Callable[[Any], Any]:
    """``np.sqrt`` writing an array argument's root into ``out`` (a scalar's root is returned as usual)."""
    def sqrt(x: Any) -> Any:
        return np.sqrt(x, out=out) if isinstance(x, np.ndarray) else np.sqrt(x)
    return sqrt


def _finite_positive(table: FloatArray) -> bool:
    """Every entry finite and positive, checked by blocks of rows (no n×d boolean temporaries)."""
    if table.ndim != 2:
        return bool(np.all(np.isfinite(table)) and not np.any(table <= 0))
    step = _block_rows(table.shape[1])
    for lo in range(0, table.shape[0], step):
        tb = table[lo:lo + step]
        if not (np.isfinite(tb).all() and (tb > 0).all()):
            return False
    return True


def _exact(v: Any) -> Any:
    """An exact entry as SymPy (``int``, ``Fraction``, SymPy); mpmath numbers are kept."""
    import sympy as sp

    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    if isinstance(v, (int, np.integer, sp.Basic)):
        return sp.sympify(v)
    if isinstance(v, (float, np.floating)):
        return sp.Rational(float(v))
    return v


def _mpf(v: Any) -> Any:
    import mpmath
    import sympy as sp

    if isinstance(v, sp.Rational):
        return mpmath.mpf(int(v.p)) / int(v.q)
    if isinstance(v, sp.Basic):
        return mpmath.mpf(sp.N(v, mpmath.mp.dps + 5))
    return mpmath.mpf(v)
