"""Machine-checked derivations: a derivation is a list of checked steps.

Each step is *symbolic* (an identity SymPy reduces to zero, or an inequality
SymPy decides) or *numeric* (an eigenvalue/SDP certificate or an exact
enumeration on concrete instances, labelled as such). A derivation is
parametrised by the constants of the claim it proves, so a mutation test can
change one constant and watch a step fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar

import numpy as np
import sympy as sp

if TYPE_CHECKING:
    from ..sketches.base import DiagonalSketch
    from ..symbolic.engine import Contraction

Kind = Literal["symbolic", "numeric"]
_T = TypeVar("_T")


class ProofFailure(AssertionError):
    """A step of a derivation does not hold."""


@dataclass(frozen=True)
class Step:
    """One checked step: what it states, which equation, how it was checked, and whether it holds."""

    name: str
    equation: str
    kind: Kind
    holds: bool
    detail: str = ""


@dataclass
class Derivation:
    """The steps of one claim's proof; ``constants`` are the values it was run with."""

    claim: str
    equations: tuple[str, ...]
    steps: list[Step] = field(default_factory=list)
    constants: dict[str, object] = field(default_factory=dict)
    latex: dict[str, str] = field(default_factory=dict)

    def symbolic(self, name: str, equation: str, expr: sp.Expr | sp.MatrixBase, detail: str = "") -> bool:
        """Record that ``expr`` simplifies to zero (scalar or matrix)."""
        ok = is_zero(expr)
        self.steps.append(Step(name, equation, "symbolic", ok, detail or ("= 0" if ok else f"≠ 0: {_short(expr)}")))
        return ok

    def symbolic_true(self, name: str, equation: str, statement: sp.Basic, detail: str = "") -> bool:
        """Record a relational statement SymPy decides (``sp.simplify`` gives ``True``)."""
        ok = bool(sp.simplify(statement) == sp.true)
        self.steps.append(Step(name, equation, "symbolic", ok, detail or str(statement)))
        return ok

    def numeric(self, name: str, equation: str, ok: bool, detail: str) -> bool:
        """Record a numeric certificate (eigenvalues, enumeration, SDP) on concrete instances."""
        self.steps.append(Step(name, equation, "numeric", bool(ok), detail))
        return bool(ok)

    @property
    def holds(self) -> bool:
        return bool(self.steps) and all(s.holds for s in self.steps)

    def failed(self) -> list[Step]:
        return [s for s in self.steps if not s.holds]

    def require(self) -> Derivation:
        """Raise :class:`ProofFailure` naming every failed step."""
        bad = self.failed()
        if bad or not self.steps:
            lines = "; ".join(f"{s.equation} {s.name}: {s.detail}" for s in bad) or "no steps"
            raise ProofFailure(f"{self.claim}: {lines}")
        return self

    def summary(self) -> str:
        sym = sum(s.kind == "symbolic" for s in self.steps)
        return f"{len(self.steps)} steps ({sym} symbolic, {len(self.steps) - sym} numeric)"


def is_zero(expr: sp.Expr | sp.MatrixBase) -> bool:
    """``expr`` is identically zero (entrywise for matrices)."""
    if isinstance(expr, sp.MatrixBase):
        return all(is_zero(e) for e in expr)
    e = sp.simplify(sp.expand(expr))
    return bool(e == 0)


def _short(expr: object, limit: int = 80) -> str:
    text = str(expr)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def symmetric_matrix(name: str, d: int) -> sp.Matrix:
    """A symbolic symmetric d×d matrix with entries ``name_jk``, ``j ≤ k``."""
    return sp.Matrix(d, d, lambda j, k: sp.Symbol(f"{name}_{min(j, k)}{max(j, k)}", real=True))


def vector(name: str, d: int) -> sp.Matrix:
    return sp.Matrix(d, 1, lambda j, _: sp.Symbol(f"{name}_{j}", real=True))


def psd_margin(M: np.ndarray) -> float:
    """Smallest eigenvalue of the symmetric part (a PSD certificate when ≥ −tol)."""
    M = np.asarray(M, dtype=float)
    return float(np.linalg.eigvalsh(0.5 * (M + M.T))[0])


def random_instances(make: Callable[[int], _T], seeds: Iterable[int]) -> list[_T]:
    return [make(s) for s in seeds]


def symbolic_expectation(contraction: Contraction, sketch: DiagonalSketch, operands: list[np.ndarray],
                         scale: np.ndarray | None = None) -> np.ndarray:
    """Exact expectation with symbolic operands through the engine (weights as Rationals).

    ``scale`` overrides the sketch's numeric scale table with a symbolic one."""
    from ..symbolic.engine import expectation

    T = scale if scale is not None else np.vectorize(sp.nsimplify, otypes=[object])(sketch.scale_table())
    return np.asarray(expectation(contraction, sketch.inclusion_model(), operands, T, exact=True), dtype=object)


def symbolic_B_moments(sketch: DiagonalSketch, Ls: list[sp.Matrix]) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix]:
    """``(L̄, E[B̄], E[B̄L̄B̄])`` for symbolic ``L_i`` through the closed-form engine."""
    from ..symbolic import moments as MM

    n = len(Ls)
    Lb = sum(Ls, sp.zeros(*Ls[0].shape)) / n
    A = stack(Ls)
    EB = sp.Matrix(symbolic_expectation(MM.B, sketch, [A]).tolist()) / n
    BLB = sp.Matrix(symbolic_expectation(MM.BMB, sketch, [A, np.array(Lb.tolist(), dtype=object), A]).tolist()) / n**2
    return Lb, EB, BLB


def stack(mats: list[sp.Matrix]) -> np.ndarray:
    """SymPy matrices → object array (n, d, d) for the engine."""
    return np.array([np.array(m.tolist(), dtype=object) for m in mats], dtype=object)
