"""Two kinds of arithmetic for the same formulas: float64 (search) and exact (certification).

:class:`FloatArith` wraps NumPy/SciPy. :class:`ExactArith` works on NumPy object arrays whose entries
are ``fractions.Fraction`` (exact rationals) or, once an irrational number enters (a square root, an
eigenvalue), mpmath numbers at :data:`DIGITS` significant digits. Rational linear systems are solved
exactly by SymPy's ``DomainMatrix`` over ``QQ``; eigenvalues come from mpmath (``eigsy``, ``eig``).
A value's exactness is visible in its type (:func:`is_exact`).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import scipy.linalg as sla

from ..errors import EnumerationTooLargeError
from .expr import ARITH, Undefined

DIGITS = 50
"""Significant digits of the mpmath numbers used where a quantity is irrational."""

Number = Any
MAX_EXACT_EXPONENT = 4096
"""Largest integer exponent raised exactly (beyond it, mpmath: an exact power could have billions of digits)."""
MAX_EXACT_EIG = 49
"""Largest matrix whose spectral radius the exact engine computes (mpmath ``eig`` costs ``O(m³)`` at 60 digits:
d ≤ 7 for a mean-square rate, whose operator is d²×d²)."""


def is_exact(x: Any) -> bool:
    """``True`` for an exact rational (``int`` or ``Fraction``, or an array of them)."""
    if isinstance(x, np.ndarray):
        return all(is_exact(v) for v in x.flat)
    return isinstance(x, (int, Fraction)) and not isinstance(x, bool)


def to_mpf(x: Any) -> Any:
    """An mpmath number (exactly converted from a ``Fraction``)."""
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    return mpmath.mpf(x)


def exact_sqrt(x: Any) -> Any:
    """``√x``: a ``Fraction`` when ``x`` is the square of a rational, otherwise an mpmath number."""
    if isinstance(x, (int, Fraction)) and x >= 0:
        f = Fraction(x)
        p, q = math.isqrt(f.numerator), math.isqrt(f.denominator)
        if p * p == f.numerator and q * q == f.denominator:
            return Fraction(p, q)
    return mpmath.sqrt(to_mpf(x))


def fraction_of(x: float) -> Fraction:
    """The exact rational value of a float64."""
    return Fraction(float(x))


class FloatArith:
    """float64 arithmetic through NumPy and SciPy."""

    exact = False

    def array(self, a: Any) -> np.ndarray:
        return np.asarray(a, dtype=np.float64)

    def number(self, v: Fraction) -> float:
        return float(v)

    def eye(self, d: int) -> np.ndarray:
        return np.eye(d)

    def solve(self, A: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(np.linalg.solve(A, b), dtype=np.float64)

    def eigvalsh(self, A: np.ndarray) -> list[float]:
        return [float(v) for v in np.linalg.eigvalsh(0.5 * (A + A.T))]

    def gen_eigvalsh(self, A: np.ndarray, B: np.ndarray) -> list[float]:
        """Eigenvalues of ``B^{-1/2} A B^{-1/2}`` for ``B ≻ 0`` (ascending)."""
        return [float(v) for v in sla.eigh(0.5 * (A + A.T), 0.5 * (B + B.T), eigvals_only=True)]

    def spectral_radius(self, A: np.ndarray) -> float:
        return float(np.abs(np.linalg.eigvals(A)).max())

    def sqrt(self, x: float) -> float:
        return math.sqrt(x)

    def log(self, x: float) -> float:
        return math.log(x)

    def exp(self, x: float) -> float:
        return math.exp(x)

    def power(self, a: float, b: float) -> float:
        a, b = float(a), float(b)
        if a < 0 and b != round(b):
            raise Undefined(f"a negative number ({a:.3g}) to a non-integer power")
        try:
            return float(a**b)  # float ** float is typed Any (it may be complex); not here, a >= 0 or b integral
        except OverflowError:
            return math.inf
        except ZeroDivisionError:
            raise Undefined("zero to a negative power") from None

    def binop(self, op: str, a: Any, b: Any) -> Any:
        """``a op b`` for ``op`` in ``+ - * / **``; a division by zero or a NaN is :class:`Undefined`."""
        if op == "**":
            return self.power(a, b)
        if op == "/" and b == 0:
            raise Undefined("division by zero")
        v = ARITH[op](float(a), float(b))
        if math.isnan(v):
            raise Undefined(f"{a!r} {op} {b!r} is not a number")
        return v

    def lift(self, a: Any, b: Any) -> tuple[Any, Any]:
        return float(a), float(b)



class ExactArith:
    """Exact rationals where possible, :data:`DIGITS`-digit mpmath numbers where not.

    ``mp=True`` (set once an irrational number enters, e.g. the scales of (23)) makes every array and
    number an mpmath number, since ``Fraction`` and mpmath numbers do not mix reliably; values combined
    in a statement are lifted to the common type by :meth:`binop` and :meth:`lift`."""

    exact = True

    def __init__(self, mp: bool = False) -> None:
        mpmath.mp.dps = max(mpmath.mp.dps, DIGITS + 10)
        self.mp = mp

    def scalar(self, v: Any) -> Any:
        if isinstance(v, (float, np.floating)):
            v = fraction_of(float(v))
        elif isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            v = Fraction(int(v))
        return to_mpf(v) if self.mp and isinstance(v, Fraction) else v

    def array(self, a: Any) -> np.ndarray:
        arr = np.asarray(a, dtype=object)
        out = np.empty(arr.shape, dtype=object)
        for idx, v in np.ndenumerate(arr):
            out[idx] = self.scalar(v)
        return out

    def number(self, v: Fraction) -> Any:
        return self.scalar(v)

    def eye(self, d: int) -> np.ndarray:
        out = np.full((d, d), self.scalar(Fraction(0)), dtype=object)
        for i in range(d):
            out[i, i] = self.scalar(Fraction(1))
        return out

    def lift(self, a: Any, b: Any) -> tuple[Any, Any]:
        """``a`` and ``b`` in one type: both exact, or both mpmath numbers."""
        if is_exact(a) and is_exact(b):
            return Fraction(a), Fraction(b)
        return to_mpf(a), to_mpf(b)

    def binop(self, op: str, a: Any, b: Any) -> Any:
        """``a op b`` exactly when both are rational; otherwise in mpmath. A division by zero or a NaN is
        :class:`Undefined` (never a certified infinity)."""
        if op == "**":
            return self.power(a, b)
        a, b = self.lift(a, b)
        if op == "/" and b == 0:
            raise Undefined("division by zero")
        v = ARITH[op](a, b)
        if not isinstance(v, Fraction) and mpmath.isnan(v):
            raise Undefined(f"{op} of infinities is not a number")
        return v

    def _mp(self, A: np.ndarray) -> Any:
        return mpmath.matrix([[to_mpf(v) for v in row] for row in np.atleast_2d(A)])

    def solve(self, A: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``A⁻¹b`` exactly over ``QQ`` when every entry is rational; otherwise by mpmath's LU."""
        if is_exact(A) and is_exact(b):
            from sympy import QQ
            from sympy.polys.matrices import DomainMatrix

            n = A.shape[0]
            rhs = b.reshape(n, -1)
            Am = DomainMatrix([[QQ(int(Fraction(v).numerator), int(Fraction(v).denominator)) for v in row]
                               for row in A], (n, n), QQ)
            bm = DomainMatrix([[QQ(int(Fraction(v).numerator), int(Fraction(v).denominator)) for v in row]
                               for row in rhs], rhs.shape, QQ)
            x = Am.lu_solve(bm).to_Matrix()
            out = np.empty(rhs.shape, dtype=object)
            for i in range(rhs.shape[0]):
                for j in range(rhs.shape[1]):
                    e = x[i, j]
                    out[i, j] = Fraction(int(e.p), int(e.q))
            return out.reshape(b.shape)
        rhs = b.reshape(A.shape[0], -1)
        cols = [mpmath.lu_solve(self._mp(A), self._mp(rhs[:, [j]])) for j in range(rhs.shape[1])]
        out = np.empty(rhs.shape, dtype=object)
        for j, c in enumerate(cols):
            for i in range(rhs.shape[0]):
                out[i, j] = c[i]
        return out.reshape(b.shape)

    def eigvalsh(self, A: np.ndarray) -> list[Any]:
        S = (A + A.T) / 2
        return sorted(mpmath.eigsy(self._mp(S), eigvals_only=True))

    def gen_eigvalsh(self, A: np.ndarray, B: np.ndarray) -> list[Any]:
        """Eigenvalues of ``B^{-1/2} A B^{-1/2}`` for ``B ≻ 0``, through the Cholesky factor of ``B``."""
        R = mpmath.cholesky(self._mp((B + B.T) / 2))
        Ri = mpmath.inverse(R)
        C = Ri * self._mp((A + A.T) / 2) * Ri.T
        C = (C + C.T) / 2
        return sorted(mpmath.eigsy(C, eigvals_only=True))

    def spectral_radius(self, A: np.ndarray) -> Any:
        if A.shape[0] > MAX_EXACT_EIG:
            raise EnumerationTooLargeError(
                f"an exact spectral radius of a {A.shape[0]}x{A.shape[0]} matrix (d > {math.isqrt(MAX_EXACT_EIG)} "
                f"for a mean-square rate) is beyond this engine's limit of {MAX_EXACT_EIG}")
        vals = mpmath.eig(self._mp(A), left=False, right=False)
        return max(abs(v) for v in vals)

    def sqrt(self, x: Any) -> Any:
        return exact_sqrt(x)

    def log(self, x: Any) -> Any:
        return mpmath.log(to_mpf(x))

    def exp(self, x: Any) -> Any:
        return mpmath.exp(to_mpf(x))

    def power(self, a: Any, b: Any) -> Any:
        """``a**b``: exact for a rational base and an integer exponent up to :data:`MAX_EXACT_EXPONENT`,
        otherwise in mpmath; a negative base to a non-integer power, or 0 to a negative one, is undefined."""
        integer = isinstance(b, (int, Fraction)) and Fraction(b).denominator == 1
        if integer and a == 0 and b < 0:
            raise Undefined("zero to a negative power")
        if integer and isinstance(a, (int, Fraction)) and abs(int(Fraction(b))) <= MAX_EXACT_EXPONENT:
            return Fraction(a) ** int(Fraction(b))
        if a < 0 and not integer:
            raise Undefined(f"a negative number ({float(a):.3g}) to a non-integer power")
        v = to_mpf(a) ** to_mpf(b)
        if not isinstance(v, mpmath.mpf):
            raise Undefined("the power is not a real number")
        return v

