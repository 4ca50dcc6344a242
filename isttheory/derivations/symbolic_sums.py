"""Finite sums over symbolic index ranges (``Σ_{i=1}^{n}`` with symbolic ``n``): the general steps of the
derivations whose identities are sums of entries.

:func:`sum_normal_form` rewrites an expression of nested ``sp.Sum`` terms by linearity, constant sums,
deleting a Kronecker delta against an index of the same range, renaming indices and reordering nested
sums; :func:`sum_residual` gives the coefficients of the normal form of a difference. All coefficients
zero shows the identity for every size.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import sympy as sp

_Limit = tuple[sp.Symbol, sp.Expr, sp.Expr]
_Term = tuple[sp.Expr, sp.Expr, tuple[_Limit, ...]]
_fresh = itertools.count()


def _terms(e: sp.Expr) -> list[_Term]:
    """``e`` as a list of ``(coefficient, monomial, limits)``: products distributed over sums, each ``Sum``'s
    indices renamed to fresh symbols (so that nested and multiplied sums never capture each other)."""
    if isinstance(e, sp.Add):
        return [t for a in e.args for t in _terms(a)]
    if isinstance(e, sp.Mul):
        out: list[_Term] = [(sp.Integer(1), sp.Integer(1), ())]
        for fac in e.args:
            ft = _terms(fac)
            out = [(c1 * c2, m1 * m2, l1 + l2) for c1, m1, l1 in out for c2, m2, l2 in ft]
        return out
    if (isinstance(e, sp.Pow) and e.exp.is_Integer and int(e.exp) > 0 and not e.base.is_Atom
            and not isinstance(e.base, sp.Indexed)):
        return _terms(sp.Mul(*([e.base] * int(e.exp)), evaluate=False))
    if isinstance(e, sp.Sum):
        f = e.function
        lims: list[_Limit] = []
        for v, lo, hi in e.limits:
            w = sp.Symbol(f"_s{next(_fresh)}", integer=True)
            f = f.xreplace({v: w})
            lims.append((w, lo, hi))
        return [(c, m, l + tuple(lims)) for c, m, l in _terms(f)]
    if e.has(sp.Sum):
        raise ValueError(f"sum_residual: cannot expand {e}")
    if e.has(sp.Indexed, sp.KroneckerDelta):
        return [(sp.Integer(1), e, ())]
    return [(e, sp.Integer(1), ())]


def _eliminate_deltas(mono: sp.Expr, lims: list[_Limit],
                      ranges: dict[sp.Symbol, tuple[sp.Expr, sp.Expr]]) -> tuple[sp.Expr, list[_Limit]]:
    """``Σ_u δ_{uw} g(u) = g(w)`` when ``w`` lies in ``u``'s range (another index of that range, or a free
    index declared in ``ranges``)."""
    while True:
        bound = {v: (lo, hi) for v, lo, hi in lims}
        for dl in mono.atoms(sp.KroneckerDelta):
            p, q = dl.args
            hit = next(((u, w) for u, w in ((p, q), (q, p))
                        if u in bound and (bound.get(w) == bound[u] or ranges.get(w) == bound[u])), None)
            if hit is not None:
                u, w = hit
                mono = mono.xreplace({u: w})
                lims = [t for t in lims if t[0] != u]
                break
        else:
            return mono, lims


def sum_normal_form(expr: sp.Expr, ranges: dict[sp.Symbol, tuple[sp.Expr, sp.Expr]] | None = None
                    ) -> dict[tuple[sp.Expr, tuple[_Limit, ...]], sp.Expr]:
    """``{(monomial, limits): coefficient}``: ``expr`` (sums of products of finite ``Sum``s over indexed symbols,
    limits constant) as a combination of distinct canonical sums. Each rewrite is an equality: distributing
    products, pulling factors free of an index out of its sum, ``Σ_{u=lo}^{hi} c = (hi − lo + 1)c``, deleting a
    Kronecker delta against a summation index of the same range, and renaming the indices of one sum (any
    permutation of indices with equal constant limits: Fubini) to the form with the smallest ``srepr``."""
    ranges = ranges or {}
    acc: defaultdict[tuple[sp.Expr, tuple[_Limit, ...]], sp.Expr] = defaultdict(lambda: sp.Integer(0))
    for coef, mono0, lims0 in _terms(expr):
        mono1, lims = _eliminate_deltas(sp.expand(mono0), list(lims0), ranges)
        for part in sp.Add.make_args(sp.expand(mono1)):
            c2, m2 = part.as_independent(sp.Indexed, sp.KroneckerDelta, as_Add=False)
            used = [(v, lo, hi) for v, lo, hi in lims if v in m2.free_symbols]
            count = sp.Mul(*[hi - lo + 1 for v, lo, hi in lims if v not in m2.free_symbols])
            groups: defaultdict[tuple[sp.Expr, sp.Expr], list[sp.Symbol]] = defaultdict(list)
            for v, lo, hi in used:
                groups[(lo, hi)].append(v)
            keys = sorted(groups, key=str)
            best: tuple[str, sp.Expr, tuple[_Limit, ...]] | None = None
            for perms in itertools.product(*[itertools.permutations(groups[g]) for g in keys]):
                mapping: dict[sp.Symbol, sp.Symbol] = {}
                newl: list[_Limit] = []
                for gi, (g, vs) in enumerate(zip(keys, perms, strict=True)):
                    for t, v in enumerate(vs):
                        s = sp.Symbol(f"ι{gi}{t}", integer=True)
                        mapping[v] = s
                        newl.append((s, g[0], g[1]))
                cand = m2.xreplace(mapping)
                key = sp.srepr(cand)
                if best is None or key < best[0]:
                    best = (key, cand, tuple(newl))
            assert best is not None
            acc[(best[1], best[2])] += coef * c2 * count
    return {k: sp.factor(v) for k, v in acc.items() if sp.simplify(v) != 0}


def sum_residual(expr: sp.Expr, ranges: dict[sp.Symbol, tuple[sp.Expr, sp.Expr]] | None = None
                 ) -> tuple[sp.Matrix, str]:
    """The coefficients of :func:`sum_normal_form` as a column (all 0 iff ``expr`` normalises to 0) and the
    normal form as text. All coefficients 0 means the identity holds for every size. Different canonical
    monomials of arbitrary arrays are independent polynomials once every range has at least 2 elements, so a
    non-zero coefficient at a witness size ≥ 2 means the identity fails at some size (for ranges of 1 element
    distinct sums can coincide, so a witness there proves nothing: :mod:`.perm1_example` writes ``n = m + 2``)."""
    nf = sum_normal_form(expr, ranges)
    if not nf:
        return sp.zeros(1, 1), "0"
    shown = sp.Add(*[c * (sp.Sum(m, *lims) if lims else m) for (m, lims), c in nf.items()])
    return sp.Matrix(list(nf.values())), str(shown)
