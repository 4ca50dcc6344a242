"""Fixed points of the mean recursion and the bias ``h = x* − x^∞`` (§4, (27)–(28)).

For the SGD form (2), ``E[x^{k+1}] = (I − γE[B̄]) E[x^k] + γ E[(Cb)‾]``, whose
fixed point is ``x^∞ = E[B̄]⁻¹ E[(Cb)‾]``. The bias ``h`` is a linear function
of the right-hand sides ``b = (b_1, …, b_n)``:

    h = Φ b,   Φ = [ L̄⁻¹/n − E[B̄]⁻¹ E[C_i]/n ]_{i=1..n}  (d × nd),

so ``h = 0`` exactly when ``b`` lies in the null space of ``Φ`` — the exact
condition for an unbiased fixed point on a given ``(L_i)`` and sketch. In the
§4 homogeneous case this is the eigenvector condition of (31).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import sympy as sp

from .arrays import FloatArray
from .errors import SingularError
from .moments import SketchMoments
from .problem import QuadraticProblem
from .sketches.base import DiagonalSketch
from .symbolic import contractions
from .symbolic.engine import expectation


def bias_operator(problem: QuadraticProblem, sketch: DiagonalSketch) -> FloatArray:
    """``Φ`` (d × nd) with ``h = Φ · vec(b_1, …, b_n)`` for this problem's ``L_i``."""
    mo = SketchMoments(problem, sketch)
    EB = mo.expected_B
    if np.linalg.eigvalsh(EB)[0] <= 1e-12 * max(1.0, float(np.abs(EB).max())):
        raise SingularError("E[B_bar] is singular: no unique fixed point")
    problem.require_positive_definite("the bias h")
    EC = sketch.expected_C()  # (n, d, d)
    Linv = np.linalg.inv(problem.L_bar)
    blocks = [(Linv - np.linalg.solve(EB, EC[i])) / problem.n for i in range(problem.n)]
    return np.hstack(blocks)


def unbiased_subspace(problem: QuadraticProblem, sketch: DiagonalSketch, rtol: float = 1e-10) -> FloatArray:
    """Orthonormal basis (nd × r) of the right-hand sides ``b`` with ``h = 0``."""
    Phi = bias_operator(problem, sketch)
    basis: FloatArray = sla.null_space(Phi, rcond=rtol)
    return basis


def symbolic_fixed_point(sketch: DiagonalSketch, Ls: list[sp.Matrix], bs: list[sp.Matrix],
                         scale: np.ndarray | None = None) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix]:
    """``(E[B̄], E[(Cb)‾], x^∞)`` with symbolic ``L_i``, ``b_i`` through the closed-form engine.

    When ``E[B̄]`` is diagonal (Perm-1, (23), the §4 homogeneous case) ``x^∞`` is
    the entrywise quotient; otherwise SymPy solves the ``d × d`` system."""
    n, d = sketch.n, sketch.d
    T = scale if scale is not None else np.vectorize(sp.nsimplify, otypes=[object])(sketch.scale_table())
    A = np.array([np.array(L.tolist(), dtype=object) for L in Ls], dtype=object)
    b = np.array([[e for e in bi] for bi in bs], dtype=object)
    EB = sp.Matrix(np.asarray(expectation(contractions.B, sketch.inclusion_model(), [A], T, exact=True)).tolist()) / n
    Ec = sp.Matrix(list(np.asarray(expectation(contractions.CB, sketch.inclusion_model(), [b], T, exact=True)))) / n
    EB = EB.applyfunc(sp.simplify)
    Ec = Ec.applyfunc(sp.simplify)
    if EB.is_diagonal():
        x_inf = sp.Matrix([sp.simplify(Ec[j] / EB[j, j]) for j in range(d)])
    else:
        x_inf = EB.LUsolve(Ec).applyfunc(sp.simplify)
    return EB, Ec, x_inf
