"""The paper's bounds as functions of their ingredients, evaluated from the lemma files: their one home.

Each printed bound or identity is written once, as the statement of a lemma file in
``isttheory/lemmas/paper/``. This module evaluates a side of such a statement on given numbers (floats,
for the tools: :mod:`isttheory.tightness`, :mod:`isttheory.montecarlo`, :mod:`isttheory.experiments`, the
notebooks) or on SymPy symbols (for the derivations in :mod:`isttheory.derivations`), so a mutation of a
lemma file breaks every tool that uses the bound, and a derivation proves the very expression the tools
evaluate. Iteration quantities (``E_f(K)``, …) are given as ``{k: value}`` tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from functools import cache
from typing import Any

from .errors import LemmaError
from .lemmas.expr import ARITH, Node, evaluate
from .lemmas.lemma import Lemma
from .lemmas.vocabulary import FUNCTIONS

Values = Mapping[str, Any]
Iterates = Mapping[str, Mapping[Any, Any]]


@cache
def paper_lemma(lemma_id: str) -> Lemma:
    """The paper's lemma file ``isttheory/lemmas/paper/lemma_<id>.toml`` (:func:`isttheory.lemmas.paper_lemma`;
    looked up through this module so a test can serve a mutated copy)."""
    from .lemmas import paper_lemma as read

    return read(lemma_id)


class _Env:
    """Names from ``values``, iteration quantities from ``iterates[name][k]``; arithmetic by the values' type."""

    def __init__(self, values: Values, iterates: Iterates, number: Callable[[Fraction], Any],
                 power: Callable[[Any, Any], Any], sqrt: Callable[[Any], Any]) -> None:
        self.values, self.iterates = values, iterates
        self._number, self._power, self._sqrt = number, power, sqrt

    def number(self, v: Fraction) -> Any:
        return self._number(v)

    def name(self, name: str) -> Any:
        if name not in self.values:
            raise LemmaError(f"the bound needs a value for {name!r}")
        return self.values[name]

    def binop(self, op: str, a: Any, b: Any) -> Any:
        return self._power(a, b) if op == "**" else ARITH[op](a, b)

    def call(self, name: str, args: list[Any], nodes: tuple[Node, ...]) -> Any:
        if name in FUNCTIONS:
            if name == "sqrt":
                return self._sqrt(args[0])
            if name in ("min", "max"):
                return min(args) if name == "min" else max(args)
            return abs(args[0]) if name == "abs" else math.log(args[0]) if name == "log" else math.exp(args[0])
        table = self.iterates.get(name)
        if table is None or args[0] not in table:
            raise LemmaError(f"the bound needs {name}({args[0]})")
        return table[args[0]]


def side(lemma_id: str, which: str, values: Values, iterates: Iterates | None = None) -> float:
    """``which`` ("lhs" or "rhs") of the paper lemma's statement on float values."""
    lem = paper_lemma(lemma_id)
    node = lem.statement.rhs if which == "rhs" else lem.statement.lhs
    env = _Env({k: float(v) for k, v in values.items()}, iterates or {}, float,
               lambda a, b: float(a) ** float(b), math.sqrt)
    return float(evaluate(node, env))


def symbolic(lemma_id: str, which: str, values: Values, iterates: Iterates | None = None) -> Any:
    """The same side as a SymPy expression of the given symbols (for the derivations)."""
    import sympy as sp

    lem = paper_lemma(lemma_id)
    node = lem.statement.rhs if which == "rhs" else lem.statement.lhs
    env = _Env(values, iterates or {}, lambda v: sp.Rational(v.numerator, v.denominator), lambda a, b: a**b, sp.sqrt)
    return evaluate(node, env)


# ------------------------------------------------------------------ the bounds the tools use
def thm1_eq16_rhs(gamma: float, K: float, rate: float, dist0: float) -> float:
    """(16): ``(1 − γλ_min(L̄^{-1/2}W̄L̄^{-1/2}))^K ‖x⁰ − x*‖²_{L̄}`` (lemma ``thm1-eq16``)."""
    return side("thm1-eq16", "rhs", {"gamma": gamma, "K": K, "rate": rate}, {"E_dist2_L": {0: dist0}})


def thm1_eq15_rhs(gamma: float, K: int, delta: float) -> float:
    """(15): ``2(f(x⁰) − E f(x^K))/(γK)`` with ``Δ = f(x⁰) − E f(x^K)`` (lemma ``thm1-eq15``)."""
    return side("thm1-eq15", "rhs", {"gamma": gamma, "K": K}, {"E_f": {0: delta, K: 0.0}})


def eq24_rhs(gamma: float, K: int, lam: float, delta: float) -> float:
    """(24): ``2λ_max(L̄)(f(x⁰) − E f(x^K))/(γK)`` under (23) (lemma ``eq24``; the paper's γ = 1)."""
    return side("eq24", "rhs", {"gamma": gamma, "K": K, "lambda_max": lam}, {"E_f": {0: delta, K: 0.0}})


def thm2_corrected_rhs(gamma: float, K: int, delta: float, H: float, sigma2: float) -> float:
    """Corrected (30): ``2Δ/(γK) + ‖h‖²_L̄ + γσ²`` with ``Δ = f(x⁰) − E f(x^K)`` (lemma ``thm2-corrected``)."""
    return side("thm2-corrected", "rhs", {"gamma": gamma, "K": K, "h_norm2_L": H, "sigma2": sigma2},
                {"E_f": {0: delta, K: 0.0}})


def thm2_paper_rhs(gamma: float, K: int, delta: float, H: float, sigma2: float) -> float:
    """(30) with the printed constants and the best ``β`` of (29), ``‖h‖²`` in the L̄ norm ``H``
    (lemma ``thm2-paper-l-norm``)."""
    return side("thm2-paper-l-norm", "rhs", {"gamma": gamma, "K": K, "h_norm2_L": H, "sigma2": sigma2},
                {"E_f": {0: delta, K: 0.0}})


def thm2_printed_rhs(gamma: float, K: int, delta: float, H2: float, sigma2: float) -> float:
    """(30) exactly as printed: ``‖h‖²`` in the L̄² norm ``H2`` (lemma ``thm2-printed``; ERRATA thm2-norm)."""
    return side("thm2-printed", "rhs", {"gamma": gamma, "K": K, "h_norm2_L2": H2, "sigma2": sigma2},
                {"E_f": {0: delta, K: 0.0}})


def thm2_limit(gamma: float, H: float, sigma2: float) -> float:
    """The exact limit ``‖h‖²_L̄ + γσ²/(2 − γ)`` of ``E‖∇f(x^k)‖²_{L̄⁻¹}`` under (23) (lemma ``thm2-limit``)."""
    return side("thm2-limit", "rhs", {"gamma": gamma, "h_norm2_L": H, "sigma2": sigma2})
