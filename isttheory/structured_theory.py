"""Exact theory of permutation sketches on structured problems (diagonal plus low rank), never forming ``d × d``.

A permutation sketch (Perm-q (7), scaled Perm-q (§4), preconditioned Perm-1 (23)) is
``C_i = Σ_{j∈S_i} T_{ij} e_j e_jᵀ`` with ``S_i`` client ``i``'s block of one uniform permutation
(``P(j ∈ S_i) = 1/n``, ``P(j, k ∈ S_i) = q(q−1)/(d(d−1)) =: p₂`` for ``j ≠ k``) and scale table ``T``
(``T ≡ s`` for Perm-q, ``T_{ij} = √n (L_i)_{jj}^{-1/2}`` for (23)). With ``L_i = Diag(δ_i) + VVᵀ + U_iU_iᵀ``
(:class:`~isttheory.structured.LowRankDiagonalProblem`, ``L̄ = Diag(δ̄) + WWᵀ``):

* (26) ``E[B̄]_{jj} = (1/n) Σ_i a_{ij}`` with ``a_{ij} = T_{ij}² (L_i)_{jj}/n``; off the diagonal only a
  client's own block survives: ``E[B̄]_{jk} = (p₂/n) Σ_i T_{ij}T_{ik}(L_i)_{jk}``, which for a constant scale
  ``s`` is ``s²p₂ (WWᵀ)_{jk}``. So Perm-1 (``p₂ = 0``) gives a diagonal ``E[B̄]`` (``nD̄`` for Perm-1, ``I``
  for (23)), and Perm-q gives ``E[B̄] = s²[Diag(δ̄/n + (1/n − p₂) rowsq W) + p₂ WWᵀ]``.
* (26) ``E[(Cb)‾]_j = (1/n²) Σ_i T_{ij} b_{ij}``.
* (27)–(28) ``x^∞ = E[B̄]⁻¹E[(Cb)‾]`` (a Woodbury solve), ``h = x* − x^∞`` (:func:`quantities.bias`).
* Theorem 1: ``W̄ = ½(L̄E[B̄] + E[B̄]L̄)`` (:func:`diaglowrank.sym_product`, again diagonal plus low rank);
  the rate of (16) ``λ_min(W̄, L̄)`` by ARPACK on operators, with a residual bound and an inertia certificate
  that no eigenvalue lies below it.
* Perm-1 families only (q = 1): ``B̄ = Diag(β)`` with ``β_j = a_{σ(j) j}`` (``σ = π⁻¹``, the owner of ``j``),
  so ``E[B̄L̄B̄] = L̄ ∘ K``, ``K = E[ββᵀ]``: ``K_{jj} = (1/n)Σ_i a_{ij}²``,
  ``K_{jk} = (s_js_k − (AᵀA)_{jk})/(n(n−1))`` (``s = Aᵀ1``), applied through ``A`` (n × d) in ``O(n·d)``;
  θ* of (14) is the largest generalised eigenvalue of ``(E[B̄L̄B̄], W̄)`` when ``W̄ ≻ 0``; Theorem 2's σ² at
  ``x*`` is ``tr(L̄ Cov g(x*))`` with ``g_j = u_{σ(j) j}``, ``u_{ij} = (T_{ij}²(L_i)_{jj}x*_j − T_{ij}b_{ij})/n``,
  the same permutation covariance in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from . import quantities
from .arrays import FloatArray
from .diaglowrank import DiagLowRank, sym_product
from .errors import IncompatibleSketchError, SingularError
from .resources import check_fits
from .sketches.base import Sketch
from .sketches.permutation import Permutation
from .sketches.precond import PreconditionedPerm
from .structured import LowRankDiagonalProblem

EIGEN_TOL = 1e-13
"""ARPACK's relative tolerance; the reported residual bound is what counts, not this request."""

GEMV_COLUMNS = 3
"""``AᵀA X`` with at most this many columns is one gemv per column and block (faster than a thin gemm)."""


@dataclass(frozen=True)
class EigenAnswer:
    """An eigenvalue from ARPACK with its certificate.

    ``residual``: ``‖Av − λBv‖_{B⁻¹}/‖v‖_B`` — some eigenvalue of the pencil ``(A, B)`` lies within it of
    ``value`` (Bauer–Fike for the ``B``-self-adjoint ``B⁻¹A``). ``none_beyond``: the inertia count found no
    eigenvalue beyond ``value ∓ 2·residual`` (below for the smallest; ``None`` when no count is available)."""

    value: float
    residual: float
    none_beyond: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "residual_bound": self.residual, "none_beyond": self.none_beyond}


def supported(sketch: Sketch) -> str | None:
    """``None`` when the structured engine covers ``sketch``; otherwise why not (one line)."""
    if isinstance(sketch, PreconditionedPerm):
        return None if sketch.variant == "diagonal" else "the printed variant of (23) needs dense L_i"
    if isinstance(sketch, Permutation):
        return None
    return (f"sketch {sketch.spec} has no structured closed form here (supported: perm, scaled-perm, "
            "precond-perm)")


class StructuredMoments:
    """First moments, fixed point, bias, rate, θ* and σ² of (problem, permutation sketch), matrix-free."""

    def __init__(self, problem: LowRankDiagonalProblem, sketch: Sketch) -> None:
        why = supported(sketch)
        if why is not None:
            raise IncompatibleSketchError(why)
        sketch.require_sizes(problem.n, problem.d)
        k = problem.W.shape[1]
        # W̄'s factor has up to 4k columns (sym_product) and an inertia count a (4k)² core: estimated first
        check_fits(3 * 8 * (4 * k * problem.d + 16 * k * k),
                   f"the structured theory with d = {problem.d} and {k} low-rank columns in L_bar")
        self.problem, self.sketch = problem, sketch
        self.n, self.d = problem.n, problem.d
        self.q = self.d // self.n
        self.p2 = self.q * (self.q - 1) / (self.d * (self.d - 1)) if self.d > 1 else 0.0
        # a constant scale s (Perm-q, scaled Perm-q) or the (n, d) table of (23)
        self.scale: float | None = float(sketch.scale) if isinstance(sketch, Permutation) else None

    # -- the scale table without allocating n×d for a constant scale ------------------
    def _T(self) -> FloatArray | float:
        if self.scale is not None:
            return self.scale
        assert isinstance(self.sketch, PreconditionedPerm)
        return self.sketch.table

    @cached_property
    def A(self) -> FloatArray:
        """``a_{ij} = T_{ij}²(L_i)_{jj}/n`` (n × d), the diagonal of ``C_iL_iC_i``'s non-zero entry per client."""
        n, d = self.n, self.d
        check_fits(8 * n * d, f"the table a_ij with n = {n}, d = {d}")
        T, D = np.asarray(self._T()), self.problem.D
        # by blocks of rows (about 1 MB) written in place: one n×d allocation and no n×d temporaries, the same
        # element-wise operations (T², times D, over n: the same values) as on the whole table
        out: FloatArray = np.empty((n, d))
        step = max(1, (1 << 17) // d)
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            Ab = out[lo:hi]
            np.square(T if T.ndim == 0 else T[lo:hi], out=Ab)
            np.multiply(Ab, D[lo:hi], out=Ab)
            np.divide(Ab, n, out=Ab)
        return out

    def _A_rows(self, lo: int, hi: int) -> FloatArray:
        """Rows ``lo:hi`` of :attr:`A`, computed on the fly for a constant scale (same operations, same values)
        unless ``A`` is already held; the (23) table's ``A`` is built once."""
        if self.scale is None or "A" in self.__dict__:
            return self.A[lo:hi]
        out: FloatArray = (np.asarray(self.scale) ** 2) * self.problem.D[lo:hi] / self.n
        return out

    def _A_column_moments(self) -> tuple[FloatArray, FloatArray]:
        """:meth:`_perm_cov` of ``A`` (``E[ξ_j²]`` and column sums) by blocks of rows, without forming ``A`` for a
        constant scale."""
        sq, s = np.zeros(self.d), np.zeros(self.d)
        step = max(1, (1 << 18) // self.d)
        for lo in range(0, self.n, step):
            Ab = self._A_rows(lo, min(self.n, lo + step))
            s += Ab.sum(axis=0)
            sq += np.einsum("ij,ij->j", Ab, Ab)
        return sq / self.n, s

    # -- first moments (26) ---------------------------------------------------------
    @cached_property
    def expected_B(self) -> DiagLowRank:
        """``E[B̄]`` (26) as ``Diag + YMYᵀ`` (diagonal for Perm-1 and (23))."""
        pr = self.problem
        if self.scale is not None:
            s2 = self.scale**2
            D_bar = pr.D.mean(axis=0)  # (L̄)_{jj}
            W = pr.W
            rowsq = np.einsum("jk,jk->j", W, W)
            # diagonal (1/n) Σ_i s²(L_i)_jj/n = s² D̄/n, minus the p₂ WWᵀ diagonal counted in the low-rank part
            diag = s2 * (D_bar / self.n - self.p2 * rowsq)
            return DiagLowRank(diag, W, s2 * self.p2 * np.eye(W.shape[1]))
        return DiagLowRank(self.A.mean(axis=0), np.zeros((self.d, 0)), np.zeros((0, 0)))

    @cached_property
    def expected_Cb(self) -> FloatArray:
        """``E[(Cb)‾]_j = (1/n²) Σ_i T_{ij} b_{ij}`` (26)."""
        T = self._T()
        if self.scale is not None:
            out: FloatArray = T * self.problem.b.mean(axis=0) / self.n
            return out
        out = np.einsum("ij,ij->j", np.asarray(T), self.problem.b) / self.n**2
        return out

    @cached_property
    def L_bar(self) -> DiagLowRank:
        """``L̄ = Diag(δ̄) + WWᵀ``."""
        W = self.problem.W
        return DiagLowRank(np.asarray(self.problem.delta_bar), W, np.eye(W.shape[1]))

    @cached_property
    def W(self) -> DiagLowRank:
        """``W̄ = ½(L̄E[B̄] + E[B̄]L̄)`` (Theorem 1)."""
        return sym_product(self.L_bar, self.expected_B)

    # -- fixed point and bias (27)-(28) ------------------------------------------------
    @cached_property
    def x_inf(self) -> FloatArray:
        """``x^∞ = E[B̄]⁻¹E[(Cb)‾]`` (28) (:func:`quantities.fixed_point`, solved by Woodbury)."""
        EB = self.expected_B
        if EB.negative_count() or np.any(EB.diag <= 0):
            raise SingularError("E[B_bar] is not positive definite here: no unique fixed point certified")
        return np.asarray(quantities.fixed_point(EB, self.expected_Cb, lambda M, v: M.solve(v)), dtype=float)

    @cached_property
    def h(self) -> FloatArray:
        """``h = x* − x^∞`` (27)."""
        return np.asarray(quantities.bias(self.problem.x_star, self.x_inf), dtype=float)

    @cached_property
    def h_norm2_L(self) -> float:
        """``‖h‖²_{L̄}``."""
        return float(self.h @ self.L_bar.apply(self.h))

    # -- eigenvalues on operators -------------------------------------------------------
    def _pencil(self, A: LinearOperator, B: DiagLowRank, which: str) -> tuple[float, FloatArray, float]:
        """One extreme eigenpair of ``(A, B)``, ``B ≻ 0``, with the residual bound ``‖r‖_{B⁻¹}/‖v‖_B``."""
        Bop, Binv = B.operator(), B.inverse_operator()
        if self.d <= 2:  # ARPACK needs k < d: a dense solve of a 1×1 or 2×2 pencil
            import scipy.linalg as sla

            Ad, Bd = A @ np.eye(self.d), B.dense()
            w, V = sla.eigh((Ad + Ad.T) / 2, Bd)
            k = 0 if which == "SA" else -1
            lam, v = float(w[k]), V[:, k]
        else:
            v0 = np.ones(self.d) / np.sqrt(self.d)
            try:
                w, V = eigsh(A, k=1, M=Bop, Minv=Binv, which=which, tol=EIGEN_TOL, v0=v0,
                             ncv=min(self.d, 40), maxiter=20000)
            except ArpackNoConvergence as exc:
                if len(exc.eigenvalues) == 0:
                    raise SingularError(f"ARPACK did not converge on the {which} eigenvalue") from None
                w, V = exc.eigenvalues, exc.eigenvectors
            lam, v = float(w[0]), V[:, 0]
        r = A @ v - lam * B.apply(v)
        res = float(np.sqrt(max(r @ B.solve(r), 0.0)) / np.sqrt(v @ B.apply(v)))
        return lam, v, res

    @cached_property
    def rate(self) -> EigenAnswer:
        """The rate of (16), ``λ_min(L̄^{-1/2}W̄L̄^{-1/2})``: ARPACK on ``(W̄, L̄)``, certified below by the inertia
        of ``W̄ − μL̄`` at ``μ = λ − 2·residual − tiny`` (``neg = 0``: no generalised eigenvalue below ``μ``)."""
        self.problem.require_positive_definite("the rate of (16)")
        lam, _, res = self._pencil(self.W.operator(), self.L_bar, "SA")
        mu = lam - 2 * res - 1e-12 * max(1.0, abs(lam))
        try:
            none_below: bool | None = self.W.shifted(mu, self.L_bar).negative_count() == 0
        except SingularError:
            none_below = None
        return EigenAnswer(lam, res, none_below)

    @cached_property
    def W_psd(self) -> bool:
        """``W̄ ⪰ 0`` up to the dense path's tolerance: ``neg(W̄ + τI) = 0``, ``τ = 1e-10·max(1, max diag W̄)``."""
        tau = 1e-10 * max(1.0, float(np.abs(self.W.diagonal()).max()))
        return self.W.shifted(-tau, DiagLowRank(np.ones(self.d), np.zeros((self.d, 0)), np.zeros((0, 0)))) \
            .negative_count() == 0

    # -- second moments (Perm-1 families) -------------------------------------------------
    def _require_perm1(self, what: str) -> None:
        if self.q != 1:
            raise IncompatibleSketchError(f"{what} is in closed form here for Perm-1 families (q = 1) only; "
                                          f"this sketch has q = {self.q}")

    @staticmethod
    def _perm_cov(X: FloatArray, Y: FloatArray | None = None) -> tuple[FloatArray, FloatArray]:
        """For ``ξ_j = X_{σ(j) j}`` with a uniform permutation ``σ``: the exact diagonal ``E[ξ_j²]`` and the
        column sums ``s`` (off the diagonal ``E[ξ_jξ_k] = (s_js_k − (XᵀX)_{jk})/(n(n−1))``)."""
        n = X.shape[0]
        return np.einsum("ij,ij->j", X, X) / n, X.sum(axis=0)

    @cached_property
    def _K_parts(self) -> tuple[FloatArray, FloatArray, FloatArray, float]:
        """``(m2, s, Kd, c1)`` of ``K = E[ββᵀ]``: ``K = c1(ssᵀ − AᵀA) + Diag(Kd)``, ``m2`` its exact diagonal
        (computed once, not at every product)."""
        n = self.n
        m2, s = self._perm_cov(self.A)
        c1 = 1.0 / (n * (n - 1)) if n > 1 else 0.0
        Kd = m2 - c1 * (s**2 - m2 * n)  # K_jj minus what the off-diagonal formula puts on the diagonal
        return m2, s, Kd, c1

    def _AtA_apply(self, X: FloatArray) -> FloatArray:
        """``AᵀA X`` for ``X`` (d, p) in one pass over ``A`` by blocks of rows (each block is read once, for
        ``A_b X`` and ``A_bᵀ(A_b X)``, while it is in cache)."""
        A = self.A
        step = max(1, (1 << 17) // self.d)  # about 1 MB of A per block
        m = X.shape[1]
        if m > GEMV_COLUMNS:
            out = np.zeros((self.d, m))
            for lo in range(0, self.n, step):
                Ab = A[lo:lo + step]
                out += Ab.T @ (Ab @ X)
            return out
        # a few columns (ARPACK's one vector times the k columns of W): a matrix-vector product per column
        # (BLAS gemv) on the block while it is in cache, about 1.6 times faster here than gemm with 2 or 3
        # columns at d = 10^4; the same sums in another order (rounding-level differences)
        Xt = np.ascontiguousarray(X.T)
        out_t = np.zeros((m, self.d))
        for lo in range(0, self.n, step):
            Ab = A[lo:lo + step]
            for c in range(m):
                out_t[c] += (Ab @ Xt[c]) @ Ab
        return np.ascontiguousarray(out_t.T)

    def BLB_apply(self, V: FloatArray) -> FloatArray:
        """``E[B̄L̄B̄] V = (L̄ ∘ K) V`` for ``V`` (d,) or (d, m) (Perm-1 families)."""
        self._require_perm1("E[B_bar L_bar B_bar]")
        m2, s, Kd, c1 = self._K_parts

        def K(X: FloatArray) -> FloatArray:  # X (d, m)
            out: FloatArray = c1 * (np.outer(s, s @ X) - self._AtA_apply(X)) + Kd[:, None] * X
            return out

        V = np.asarray(V, dtype=float)
        one = V.ndim == 1
        Vm = V[:, None] if one else V
        W, delta = self.problem.W, np.asarray(self.problem.delta_bar)
        out = (delta * (m2))[:, None] * Vm  # Δ ∘ K on the diagonal: δ̄_j K_jj
        if W.shape[1]:
            k, m = W.shape[1], Vm.shape[1]
            stacked = (W[:, :, None] * Vm[:, None, :]).reshape(self.d, k * m)  # w_r ∘ v for every (r, v)
            KX = K(stacked).reshape(self.d, k, m)
            out = out + np.einsum("jr,jrm->jm", W, KX)
        return out[:, 0] if one else out

    @cached_property
    def theta(self) -> tuple[EigenAnswer | None, str]:
        """θ* of (14): the largest generalised eigenvalue of ``(E[B̄L̄B̄], W̄)`` when ``W̄ ≻ 0``; else ``(None,
        reason)``."""
        self._require_perm1("theta* of (14)")
        if not self.W_psd:
            return None, "infeasible: W is not PSD (inertia count of W_bar)"
        if np.any(self.W.diag <= 0):
            return None, "W_bar's diagonal part has a zero: no operator solve (use the dense path)"
        Q = LinearOperator((self.d, self.d), matvec=self.BLB_apply, matmat=self.BLB_apply, dtype=float)
        lam, _, res = self._pencil(Q, self.W, "LA")
        return EigenAnswer(max(lam, 0.0), res, None), ""

    @cached_property
    def sigma2_at_x_star(self) -> float:
        """Theorem 2's σ² at ``x*``: ``E‖g(x*) − E g(x*)‖²_{L̄}`` (moments.py's definition), Perm-1 families."""
        self._require_perm1("sigma^2")
        pr, n = self.problem, self.n
        x = pr.x_star
        T = np.asarray(self._T())
        b, W = pr.b, pr.W
        Lb = self.L_bar
        # one blocked pass over the rows u_i of U (u_ij = (T²D x*_j − T b_ij)/n): column sums s, column sums
        # of squares, and Σ_i ‖Wᵀu_i‖², never an (n, d) temporary
        sq, s = np.zeros(self.d), np.zeros(self.d)
        low = 0.0
        step = max(1, (1 << 18) // self.d)
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            Tb = T if T.ndim == 0 else T[lo:hi]
            Ub = self._A_rows(lo, hi) * x - Tb * b[lo:hi] / n
            s += Ub.sum(axis=0)
            low += float(np.sum((Ub @ W) ** 2))
            Ub *= Ub
            sq += Ub.sum(axis=0)
        m2 = sq / n
        mean = s / n
        c1 = 1.0 / (n * (n - 1)) if n > 1 else 0.0
        Ldiag = Lb.diagonal()
        # Σ_i u_iᵀL̄u_i = Σ_j δ̄_j Σ_i u_ij² + Σ_i ‖Wᵀu_i‖², with u_i the rows of U
        quad_rows = float(Lb.diag @ sq + low)
        off = (s @ Lb.apply(s) - Ldiag @ s**2) - (quad_rows - Ldiag @ (m2 * n))
        s2 = Ldiag @ m2 + c1 * off - mean @ Lb.apply(mean)
        return max(float(s2), 0.0)

    @cached_property
    def sigma2_constant(self) -> bool:
        """``B̄`` deterministic (σ² constant in x), the dense path's test ``E[B̄²] = E[B̄]²`` on the diagonal."""
        self._require_perm1("sigma2_constant")
        m2, s = self._A_column_moments()
        EB = s / self.n
        tol = 1e-12 * max(1.0, float(np.abs(EB).max()) ** 2)
        return bool(np.allclose(m2, EB**2, atol=tol))
