"""Numeric first and second moments of ``B̄`` and ``(Cb)‾`` (26) for a (problem, sketch).

For diagonal sketches everything comes from the symbolic engine
(:mod:`isttheory.symbolic.engine`): SymPy-derived weights times index
contractions, ``O(n d³)`` at most, never a dense ``d² × d²`` operator. The maps
applied many times (``M ↦ E[B̄MB̄]``, ``E[P̄MP̄]``, ``E[P̄MB̄]``, ``m ↦ E[B̄m(Cb)‾ᵀ]``,
``E[P̄m(Cb)‾ᵀ]``) are compiled once per (problem, sketch) by
:class:`~isttheory.symbolic.engine.CompiledExpectation` (scales absorbed, M-free parts
precontracted); :func:`~isttheory.symbolic.engine.expectation` is the reference. For a
user-defined finite distribution the moments are exact averages over its
support. Notation: ``B̄ = (1/n) Σ C_i L_i C_i``, ``c = (Cb)‾ = (1/n) Σ C_i b_i``,
``P̄ = (1/n) Σ C_i``.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from . import quantities
from .arrays import FloatArray, sym
from .errors import SingularError
from .problem import QuadraticProblem
from .sketches.base import DiagonalSketch, Sketch
from .symbolic import contractions
from .symbolic.engine import CompiledExpectation, Contraction, expectation
from .validation import check_form


class SketchMoments:
    """Exact moments of one (problem, sketch) pair."""

    def __init__(self, problem: QuadraticProblem, sketch: Sketch) -> None:
        sketch.require_sizes(problem.n, problem.d)
        self.problem = problem
        self.sketch = sketch
        self.n, self.d = problem.n, problem.d
        self._maps: dict[str, CompiledExpectation] = {}

    # -- one engine call ---------------------------------------------------
    def _structured(self, c: Contraction, *operands: FloatArray) -> FloatArray:
        assert isinstance(self.sketch, DiagonalSketch)
        return np.asarray(expectation(c, self.sketch.inclusion_model(), list(operands), self.sketch.scale_table()))

    def _map(self, c: Contraction, *operands: FloatArray | None) -> CompiledExpectation:
        """``c`` as a linear map of its ``None`` operands, compiled on first use and cached
        (the problem's ``L_i``, ``b_i`` and the scale table are fixed per instance)."""
        if c.name not in self._maps:
            assert isinstance(self.sketch, DiagonalSketch)
            self._maps[c.name] = CompiledExpectation(c, self.sketch.inclusion_model(), list(operands),
                                                     self.sketch.scale_table())
        return self._maps[c.name]

    @cached_property
    def _support(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """(probs, B̄ per outcome, c per outcome, P̄ per outcome, C per outcome)."""
        sup = self.sketch.support()
        C = sup.draw.dense(self.d)
        Bk = np.einsum("knij,njl,knlm->kim", C, self.problem.L, C) / self.n
        ck = np.einsum("knij,nj->ki", C, self.problem.b) / self.n
        return sup.probs, Bk, ck, C.mean(axis=1), C

    @property
    def structured(self) -> bool:
        return isinstance(self.sketch, DiagonalSketch)

    @property
    def merge_constant(self) -> float | None:
        """``κ`` when ``P̄ = κI`` on every draw (:attr:`DiagonalSketch.merge_constant
        <isttheory.sketches.base.DiagonalSketch.merge_constant>`: Perm-q, perm-groups, perm-blocks), else ``None``;
        the ``P̄`` moments below are then closed forms in ``κ`` (cross-checked against the engine in
        ``tests/test_dynamics.py``)."""
        return self.sketch.merge_constant if isinstance(self.sketch, DiagonalSketch) else None

    # -- first moments -----------------------------------------------------
    @cached_property
    def expected_B(self) -> FloatArray:
        """``E[B̄]`` (26)."""
        if self.structured:
            return sym(self._structured(contractions.B, np.asarray(self.problem.L)) / self.n)
        p, Bk, *_ = self._support
        return sym(np.einsum("k,kij->ij", p, Bk))

    @cached_property
    def expected_Cb(self) -> FloatArray:
        """``E[(Cb)‾]`` (26)."""
        if self.structured:
            return self._structured(contractions.CB, np.asarray(self.problem.b)) / self.n
        p, _, ck, *_ = self._support
        return p @ ck

    @cached_property
    def expected_P(self) -> FloatArray:
        """``E[P̄] = (1/n) Σ E[C_i]`` (the merge (6))."""
        if self.merge_constant is not None:
            return self.merge_constant * np.eye(self.d)
        if self.structured:
            return np.diag(self._structured(contractions.P) / self.n)
        p, _, _, Pk, _ = self._support
        return sym(np.einsum("k,kij->ij", p, Pk))

    @cached_property
    def W(self) -> FloatArray:
        """``W̄ = ½ E[L̄B̄ + B̄L̄]`` (Theorem 1)."""
        return sym(quantities.W_bar(np.asarray(self.problem.L_bar), self.expected_B))

    # -- second moments ------------------------------------------------------
    def BMB(self, Mat: FloatArray) -> FloatArray:
        """``E[B̄ M B̄]`` for any ``M`` (d, d)."""
        Mat = np.asarray(Mat, dtype=float)
        if self.structured:
            L = np.asarray(self.problem.L)
            return self._map(contractions.BMB, L, None, L)(Mat) / self.n**2
        p, Bk, *_ = self._support
        out: FloatArray = np.einsum("k,kij,jl,klm->im", p, Bk, Mat, Bk)
        return out

    @cached_property
    def BLB(self) -> FloatArray:
        """``E[B̄ L̄ B̄]``, the left side of (14)."""
        return sym(self.BMB(self.problem.L_bar))

    @cached_property
    def CbCb(self) -> FloatArray:
        """``E[(Cb)‾ (Cb)‾ᵀ]``."""
        if self.structured:
            b = np.asarray(self.problem.b)
            return sym(self._structured(contractions.CBCB, b, b) / self.n**2)
        p, _, ck, *_ = self._support
        return sym(np.einsum("k,ki,kj->ij", p, ck, ck))

    def BmCb(self, m: FloatArray) -> FloatArray:
        """``E[B̄ m (Cb)‾ᵀ]`` for a vector ``m``."""
        m = np.asarray(m, dtype=float)
        if self.structured:
            L, b = np.asarray(self.problem.L), np.asarray(self.problem.b)
            return self._map(contractions.BMCB, L, None, b)(m) / self.n**2
        p, Bk, ck, *_ = self._support
        out: FloatArray = np.einsum("k,kij,j,kl->il", p, Bk, m, ck)
        return out

    def PMP(self, Mat: FloatArray) -> FloatArray:
        """``E[P̄ M P̄]``."""
        if self.merge_constant is not None:
            return self.merge_constant**2 * np.asarray(Mat, dtype=float)
        if self.structured:
            return self._map(contractions.PMP, None)(Mat) / self.n**2
        p, _, _, Pk, _ = self._support
        out: FloatArray = np.einsum("k,kij,jl,klm->im", p, Pk, Mat, Pk)
        return out

    def PMB(self, Mat: FloatArray) -> FloatArray:
        """``E[P̄ M B̄]``."""
        if self.merge_constant is not None:
            out_k: FloatArray = self.merge_constant * (np.asarray(Mat, dtype=float) @ self.expected_B)
            return out_k
        if self.structured:
            return self._map(contractions.PMB, None, np.asarray(self.problem.L))(Mat) / self.n**2
        p, Bk, _, Pk, _ = self._support
        out: FloatArray = np.einsum("k,kij,jl,klm->im", p, Pk, Mat, Bk)
        return out

    def PmCb(self, m: FloatArray) -> FloatArray:
        """``E[P̄ m (Cb)‾ᵀ]``."""
        if self.merge_constant is not None:
            return self.merge_constant * np.outer(np.asarray(m, dtype=float), self.expected_Cb)
        if self.structured:
            return self._map(contractions.PMCB, None, np.asarray(self.problem.b))(m) / self.n**2
        p, _, ck, Pk, _ = self._support
        out: FloatArray = np.einsum("k,kij,j,kl->il", p, Pk, m, ck)
        return out

    # -- the second-moment map (structured E[(I − γB̄) ⊗ (I − γB̄)]) ---------------
    def transition(self, Mat: FloatArray, gamma: float, form: str = "sgd") -> FloatArray:
        """``E[A M Aᵀ]`` for the random iteration matrix ``A`` of one step, never forming d²×d².

        Form (2): ``A = I − γB̄``, so ``E[AMA] = M − γ(E[B̄]M + M E[B̄]) + γ² E[B̄MB̄]``.
        Form (6), one local step: ``A = P̄ − γB̄``, so
        ``E[AMAᵀ] = E[P̄MP̄] − γ(E[P̄MB̄] + E[P̄MB̄]ᵀ) + γ² E[B̄MB̄]`` (for symmetric ``M``)."""
        Mat = np.asarray(Mat, dtype=float)
        if form == "sgd":
            EB = self.expected_B
            return Mat - gamma * (EB @ Mat + Mat @ EB) + gamma**2 * self.BMB(Mat)
        if form == "ist":
            PMB = self.PMB(Mat)
            return self.PMP(Mat) - gamma * (PMB + PMB.T) + gamma**2 * self.BMB(Mat)
        check_form(form)  # raises ParameterError: form is neither
        raise AssertionError(form)  # pragma: no cover

    # -- fixed point and bias (§4, (27)-(28)) ---------------------------------
    @cached_property
    def x_inf(self) -> FloatArray:
        """Fixed point of the mean recursion of form (2): ``x^∞ = E[B̄]⁻¹ E[(Cb)‾]`` (28)."""
        EB = self.expected_B
        ev = np.linalg.eigvalsh(EB)
        if ev[0] <= 1e-12 * max(1.0, abs(ev[-1])):
            raise SingularError("E[B_bar] is singular: the mean recursion has no unique fixed point")
        return np.asarray(quantities.fixed_point(EB, self.expected_Cb, np.linalg.solve), dtype=np.float64)

    @cached_property
    def h(self) -> FloatArray:
        """Bias ``h = x* − x^∞`` ((27): ``E[g] = E[B̄](x − x*) + E[B̄]h``; ``h = 0`` iff ``E[(Cb)‾] = E[B̄] x*``)."""
        return np.asarray(quantities.bias(self.problem.x_star, self.x_inf), dtype=np.float64)

    @cached_property
    def sigma2_at_x_star(self) -> float:
        """``E‖g(x*) − E g(x*)‖²_{L̄}`` with ``g(x) = B̄x − (Cb)‾`` (Theorem 2's σ² when constant in x)."""
        x = self.problem.x_star
        L = np.asarray(self.problem.L_bar)
        s2 = quantities.sigma2(L, x, self.expected_B, self.expected_Cb, self.BMB(L), self.BmCb(x), self.CbCb)
        return float(max(s2, 0.0))
