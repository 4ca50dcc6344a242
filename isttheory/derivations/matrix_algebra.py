"""Identities between matrix expressions of symbolic size: the general steps of the derivations.

A SymPy ``MatrixSymbol`` of size ``d × d`` (``d`` a symbol) stands for every matrix of every size; an
identity whose residual reduces to zero here holds for all sizes and all values. Two reductions:
:func:`matrix_coefficients` (the scalar coefficients of the distinct non-commuting monomials) and
:func:`quadratic_forms` (a ``1 × 1`` expression as a polynomial in the bilinear forms ``uᵀMv``, using
only expansion, the declared symmetries and ``SS⁻¹ = I``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

dim = sp.Symbol("d", integer=True, positive=True)


def _symmetric_rules(symmetric: Iterable[MatrixExpr]) -> dict[sp.Basic, sp.Basic]:
    rules: dict[sp.Basic, sp.Basic] = {}
    for S in symmetric:
        rules[sp.Transpose(S)] = S
        rules[sp.Transpose(sp.Inverse(S))] = sp.Inverse(S)
        rules[sp.Inverse(sp.Transpose(S))] = sp.Inverse(S)
    return rules


def _canonical(mat: sp.Basic, rules: dict[sp.Basic, sp.Basic]) -> sp.Basic:
    """A product with the transposes of symmetric factors dropped and ``SS⁻¹`` cancelled, to a fixed point."""
    prev = None
    while prev != mat:
        prev = mat
        mat = mat.xreplace(rules).doit()
    return mat


def matrix_terms(expr: MatrixExpr, symmetric: Iterable[MatrixExpr] = ()) -> list[tuple[sp.Expr, sp.Basic]]:
    """The expanded terms ``(scalar coefficient, matrix product)`` of a matrix expression, with the
    transposes of the ``symmetric`` matrices dropped and ``SS⁻¹`` cancelled."""
    rules = _symmetric_rules(symmetric)
    e = _canonical(sp.expand(_canonical(expr, rules)), rules)
    out: list[tuple[sp.Expr, sp.Basic]] = []
    for term in sp.Add.make_args(e) if not isinstance(e, sp.MatAdd) else e.args:
        if term == 0 or isinstance(term, sp.ZeroMatrix):
            continue
        coeff, mat = term.as_coeff_mmul()
        out.append((sp.sympify(coeff), _canonical(mat, rules)))
    return out


def quadratic_forms(expr: MatrixExpr, symmetric: Iterable[MatrixExpr] = (),
                    transform: Callable[[sp.Basic], sp.Basic] | None = None) -> sp.Expr:
    """A ``1 × 1`` matrix expression of any size ``d`` as a commutative polynomial in the symbols
    ``⟨uᵀ⋯v⟩`` (one per product of matrices, identified with its transpose, ``uᵀMv = vᵀMᵀu``).

    Valid for every size and every value of the matrices: the reduction uses only expansion, the
    symmetry of the ``symmetric`` matrices (``Sᵀ = S``, ``(S⁻¹)ᵀ = S⁻¹``) and ``SS⁻¹ = I``; ``transform``
    maps each product first (e.g. an expectation by linearity). Two expressions are equal for all values if
    their difference reduces to 0."""
    symmetric = tuple(symmetric)
    rules = _symmetric_rules(symmetric)
    out = sp.Integer(0)
    for coeff, mat in matrix_terms(expr, symmetric):
        if transform is not None:
            mat = _canonical(transform(mat), rules)
            if mat == 0 or isinstance(mat, sp.ZeroMatrix):
                continue
        if getattr(mat, "shape", (1, 1)) != (1, 1):
            raise ValueError(f"quadratic_forms expects a 1×1 expression, got {mat} of shape {mat.shape}")
        tr = _canonical(sp.Transpose(mat).doit(), rules)
        key = min(str(mat), str(tr))
        out += coeff * sp.Symbol(f"⟨{key}⟩", real=True)
    return sp.expand(out)


def matrix_coefficients(expr: sp.MatrixExpr) -> sp.Matrix:
    """The scalar coefficients of the distinct matrix monomials of ``expr`` (after ``doit``), as a column.

    All zero shows ``expr`` is identically zero (equal monomials, cancelling coefficients); a non-zero
    coefficient shows it is not zero as a polynomial in non-commuting matrix symbols."""
    e = expr.doit()
    if isinstance(e, sp.ZeroMatrix):
        return sp.Matrix([0])
    terms = e.args if isinstance(e, sp.MatAdd) else (e,)
    coeffs: dict[sp.Basic, sp.Expr] = {}
    for term in terms:
        c, mono = term.as_coeff_mmul()
        coeffs[mono] = coeffs.get(mono, sp.Integer(0)) + sp.sympify(c)
    return sp.Matrix([sp.simplify(c) for c in coeffs.values()])
