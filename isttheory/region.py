"""Convergence regions: every step size ``γ > 0`` for which IST converges in mean square / in mean.

One step of either form is ``x⁺ = A x + v`` with a fresh random ``(A, v)`` (see
:mod:`isttheory.dynamics`): ``A = I − γB̄`` for the SGD form (2) and ``A = (1/n) Σ_i M_i^t C_i``,
``M_i = I − γC_iL_i``, for Algorithm 1 / the merge (6) with ``t`` local steps. So

* the mean obeys ``E[x^{k+1}] = E[A] E[x^k] + E[v]`` — the exact mean recursion of §4.1, (28), which
  for the sketches (23) reads ``E[A] = (1−γ)I`` — and converges iff ``ρ(E[A]) < 1``
  (:attr:`ExactDynamics.mean_rate <isttheory.dynamics.ExactDynamics.mean_rate>`);
* the second moment obeys ``X^{k+1} = T(X^k) + (affine terms)`` with ``T: X ↦ E[A X Aᵀ]`` — the
  second-moment dynamics that Theorem 1 bounds through (14) — and converges iff ``ρ(T) < 1``
  (:attr:`ExactDynamics.ms_rate <isttheory.dynamics.ExactDynamics.ms_rate>`).

``A`` is a polynomial in ``γ`` of degree ``t``, so both rates are continuous in ``γ``, and the set
``{γ > 0 : rate(γ) < 1}`` is a finite union of open intervals. It need not start at ``0``: under (6)
a sketch without perfect reconstruction (Rand-q) has ``A → P̄ = (1/n)ΣC_i`` as ``γ → 0`` and
``ρ(X ↦ E[P̄XP̄]) > 1``, so small steps diverge in mean square and only a window ``(γ₁, γ₂)``
converges (or none). With one local step (form (2), or (6) with ``t = 1``) each region is one
interval: ``A = P̄ − γB̄`` is symmetric, so ``T(γ)`` is self-adjoint for ``⟨X, Y⟩ = tr(XY)``, a quadratic
in ``γ`` with second derivative ``2E[B̄ ⊗ B̄] ⪰ 0``, and ``ρ(T(γ)) = λ_max(T(γ))`` (a positive map) is
convex in ``γ``; and the eigenvalues of ``E[A] = E[P̄] − γE[B̄]`` are non-increasing in ``γ``
(``E[B̄] ⪰ 0``), so ``{λ_max < 1}`` is an up-set and ``{λ_min > −1}`` a down-set. With ``t ≥ 2`` local
steps neither argument applies, and the scan reports every interval it finds (a search over Rand-1,
Rand-2, Perm, Perm-blocks, identity with 2–6 local steps found no instance with two windows).

Method (every number here is a module constant, reported in :attr:`Region.notes`):

1. **Upper limit.** From ``γ = 1/λ_max(E[B̄])`` double ``γ`` until both rates have been ``≥ 1`` and
   non-decreasing for :data:`STAY_DOUBLINGS` consecutive doublings since the last ``γ`` where
   either was ``< 1``: ``γ_max`` is that last ``γ`` (at most :data:`MAX_DOUBLINGS` doublings; a rate
   still ``< 1`` there gives an interval reported as unbounded, ``hi = inf``). For the form (2)
   ``ρ(T) ~ γ²`` as ``γ → ∞``; for (6) it grows like ``γ^{2t}`` unless the top coefficient vanishes.
2. **Grid.** The rates at :data:`POINTS_PER_DECADE` log-spaced points per decade on
   ``[γ_max·10⁻⁸, γ_max]`` (ratio ``10^{1/20} ≈ 1.122`` between neighbours), plus the doubling points.
   Each local minimum of a divergent rate (and local maximum of a convergent one) is refined by a
   bounded scalar minimisation between its neighbours, so a narrow window that shows as a dip is
   found; a window narrower than the grid spacing with no trace on the grid can still be missed.
3. **Small γ.** As ``γ → 0``, ``A → P̄`` (``I`` for (2)), so the rates tend to ``ρ₀ = ρ(E[P̄])`` and
   ``ρ(X ↦ E[P̄XP̄])``. If ``ρ₀ ≠ 1`` (beyond :data:`ZERO_TOL`) that decides. If ``ρ₀ = 1`` and
   ``E[P̄] = I`` (mean) / ``P̄ = I`` a.s. (mean square, checked as ``E[P̄²] = I``), then
   ``E[A] = I − tγE[B̄] + O(γ²)`` and the rates are ``1 − c·tγ·λ_min(E[B̄]) + O(γ²)`` with ``c = 1``
   (mean) or ``2`` (mean square): small steps converge iff ``λ_min(E[B̄]) > 0`` (the derivative
   sign); when ``λ_min(E[B̄]) = 0``, ``B̄u = 0`` a.s. for its kernel vector ``u`` (``B̄ ⪰ 0``), so
   ``Au = u`` and neither rate is ever below 1. Otherwise the rate at the bottom of the grid decides
   (a tiny ``γ``). If the grid disagrees with this limit, decades below the grid are searched for the
   crossing.
4. **Ends.** Each change of ``rate < 1`` between neighbouring samples is bracketed by
   :func:`scipy.optimize.brentq` on ``rate(γ) − 1`` to relative ``xtol`` ≪ :data:`TOLERANCE`, then
   checked: the classification differs at ``γ(1 − 10⁻⁶)`` and ``γ(1 + 10⁻⁶)``.

"Converges" means ``rate < 1 − guard`` with a roundoff guard (:data:`GUARD_DENSE` for ``d ≤ 20``,
where the rate is a dense eigen-solve; :data:`GUARD_ITERATIVE` otherwise), so a rate equal to 1 up to
roundoff (``E[B̄]`` singular) is not mistaken for convergence; near ``γ = 0`` the small-``γ``
analysis of step 3 decides instead.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.optimize as so
import scipy.sparse.linalg as spla

from .arrays import FloatArray
from .dynamics import ExactDynamics
from .errors import ParameterError
from .moments import SketchMoments
from .problem import QuadraticProblem
from .sketches.base import Sketch
from .validation import check_form

#: relative accuracy of every reported interval end
TOLERANCE = 1e-6
#: log-spaced grid points per decade of γ
POINTS_PER_DECADE = 20
#: decades of γ below γ_max covered by the grid
DECADES = 8
#: doublings with rate ≥ 1 (and non-decreasing) past the last convergent γ before γ_max is fixed
STAY_DOUBLINGS = 6
#: at most this many doublings of γ
MAX_DOUBLINGS = 60
#: "converges" means rate < 1 − guard: dense eigen-solve (d ≤ 20) …
GUARD_DENSE = 1e-12
#: … or ARPACK (tol 1e-10) for larger d
GUARD_ITERATIVE = 1e-9
#: ρ₀ (the rate's limit as γ → 0) within this of 1 counts as 1
ZERO_TOL = 1e-9
#: decades searched below the grid for a crossing the small-γ analysis predicts
EXTRA_DECADES = 8
#: at most this many local extrema of the sampled rate are refined
MAX_REFINEMENTS = 20

Rate = Callable[[float], float]


# ============================================================================ results
@dataclass(frozen=True)
class Interval:
    """The open interval ``(lo, hi)`` of step sizes; ``lo = 0.0`` when open at 0, ``hi = math.inf`` when
    unbounded. Finite ends are accurate to :data:`TOLERANCE` relative."""

    lo: float
    hi: float

    def __contains__(self, gamma: object) -> bool:
        return isinstance(gamma, (int, float, np.floating)) and self.lo < float(gamma) < self.hi

    def to_list(self) -> list[float | None]:
        """``[lo, hi]`` with ``None`` for an infinite end (strict JSON)."""
        return [self.lo, None if math.isinf(self.hi) else self.hi]

    def to_dict(self) -> dict[str, float | None]:
        """``{"lo": lo, "hi": hi}`` with ``None`` for an infinite end (strict JSON)."""
        lo, hi = self.to_list()
        return {"lo": lo, "hi": hi}

    def __str__(self) -> str:
        hi = "inf" if math.isinf(self.hi) else f"{self.hi:.7g}"
        return f"({self.lo:.7g}, {hi})"


@dataclass(frozen=True)
class Scan:
    """The convergence set ``{γ : rate(γ) < 1}`` of one rate function, with how it was found."""

    intervals: tuple[Interval, ...]
    small_gamma_converges: bool
    notes: tuple[str, ...]
    evaluations: int


@dataclass(frozen=True)
class Region:
    """Step sizes for which the method converges in mean square (``ρ(X ↦ E[AXAᵀ]) < 1``, the
    second-moment dynamics of Theorem 1) and in mean (``ρ(E[A]) < 1``, the mean recursion (28)),
    for the SGD form (2) or Algorithm 1's merge (6) with ``local_steps`` local steps."""

    sketch: str
    form: str
    local_steps: int
    mean_square: tuple[Interval, ...]
    mean: tuple[Interval, ...]
    gamma_max: float
    grid: tuple[float, float, int]  # (lowest γ, highest γ, points per decade)
    notes: tuple[str, ...] = ()
    evaluations: int = 0
    seconds: float = 0.0
    tolerance: float = TOLERANCE

    def converges(self, gamma: float, kind: str = "mean_square") -> bool:
        """Whether ``gamma`` lies in the reported region of ``kind`` (``mean_square`` or ``mean``)."""
        return any(gamma in iv for iv in getattr(self, kind))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``allow_nan=False``): intervals as ``[lo, hi]`` with ``null`` for ``inf``."""
        return {"sketch": self.sketch, "form": self.form, "local_steps": self.local_steps,
                "mean_square": [iv.to_list() for iv in self.mean_square],
                "mean": [iv.to_list() for iv in self.mean],
                "tolerance": self.tolerance, "notes": list(self.notes),
                "gamma_max": self.gamma_max,
                "grid": {"lo": self.grid[0], "hi": self.grid[1], "points_per_decade": self.grid[2]},
                "evaluations": self.evaluations, "seconds": round(self.seconds, 3)}


# ============================================================================ the scan (any rate function)
def _safe(rate: Rate) -> Rate:
    """``rate`` with overflow and linear-algebra failures read as divergence (``inf``)."""
    def f(g: float) -> float:
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                r = float(rate(g))
        except (np.linalg.LinAlgError, OverflowError, FloatingPointError):
            return math.inf
        return r if math.isfinite(r) else math.inf
    return f


def upper_limit(rates: Sequence[Rate], start: float, guard: float = GUARD_DENSE,
                stay: int = STAY_DOUBLINGS, max_doublings: int = MAX_DOUBLINGS) -> tuple[float, list[float]]:
    """``(γ_max, doubling points)``: double ``γ`` from ``start`` until every rate has been ``≥ 1 − guard``
    and non-decreasing for ``stay`` consecutive doublings since the last γ where one was below."""
    if not (math.isfinite(start) and start > 0):
        raise ParameterError(f"start of the doubling must be a finite positive number; got {start!r}")
    g, pts = float(start), []
    streak = [0] * len(rates)
    prev = [math.nan] * len(rates)
    for _ in range(max_doublings + 1):
        pts.append(g)
        for j, rate in enumerate(rates):
            r = rate(g)
            if r < 1.0 - guard:
                streak[j] = 0
            elif math.isnan(prev[j]) or r >= prev[j] * (1.0 - 1e-9) or math.isinf(r):
                streak[j] += 1
            else:  # still above 1 but falling: a window may lie ahead
                streak[j] = 0
            prev[j] = r
        if min(streak) >= stay:
            break
        g *= 2.0
    return pts[-1], pts


def _classify(r: float, guard: float) -> bool | None:
    """``True`` converges, ``False`` does not, ``None`` within roundoff of 1."""
    if r < 1.0 - guard:
        return True
    if r > 1.0 + guard:
        return False
    return None


def scan(rate: Rate, gamma_max: float, small_gamma: bool | None = None, *, guard: float = GUARD_DENSE,
         points_per_decade: int = POINTS_PER_DECADE, decades: int = DECADES,
         extra_points: Sequence[float] = ()) -> Scan:
    """``{γ ∈ (0, γ_max] : rate(γ) < 1}`` as open intervals, ends to :data:`TOLERANCE` relative.

    ``small_gamma`` says whether ``rate < 1`` on some ``(0, ε)`` (from an analysis of the limit
    ``γ → 0``); ``None`` lets the rate at the bottom of the grid decide. A last interval reaching
    ``γ_max`` with ``rate(γ_max) < 1`` is reported unbounded (``hi = inf``)."""
    rate = _safe(rate)
    cache: dict[float, float] = {}

    def r(g: float) -> float:
        if g not in cache:
            cache[g] = rate(g)
        return cache[g]

    notes: list[str] = []
    lo_grid = gamma_max * 10.0 ** (-decades)
    grid = np.geomspace(lo_grid, gamma_max, decades * points_per_decade + 1)
    pts = sorted({float(x) for x in grid} | {float(x) for x in extra_points if lo_grid <= x <= gamma_max})
    vals = [r(g) for g in pts]

    # ---- small γ: the verdict at 0⁺, then the classification of every sample
    if small_gamma is None:
        c0 = _classify(vals[0], guard)
        small_gamma = bool(c0)
        notes.append(f"small steps {'converge' if small_gamma else 'do not converge'}: decided by the rate "
                     f"{vals[0]:.12g} at the smallest γ tried, {pts[0]:.3g}")

    def classes(points: list[float]) -> list[bool]:
        out, prefix = [], True
        for g in points:
            c = _classify(r(g), guard)
            if c is None:  # rate = 1 within roundoff: the γ → 0 limit near the bottom, else "not < 1"
                c = bool(small_gamma) if prefix else False
            else:
                prefix = False
            out.append(c)
        return out

    cls = classes(pts)
    if cls[0] != small_gamma:  # a crossing below the grid: search further down
        g, found = pts[0], False
        for _ in range(EXTRA_DECADES * 2):
            g /= 10.0 ** 0.5
            c = _classify(r(g), guard)
            if c is None or c == small_gamma:
                pts.insert(0, g)
                found = True
                break
        if not found:
            notes.append(f"the γ → 0 analysis says small steps {'converge' if small_gamma else 'diverge'}, "
                         f"but the rate disagrees down to γ = {g:.3g}; the lowest end is not resolved")
            small_gamma = cls[0]
        cls = classes(pts)

    # ---- refine local extrema on the wrong side of 1 (a narrow window or spike between grid points)
    added: list[float] = []
    refined = 0
    for i in range(1, len(pts) - 1):
        a, m, b = vals_at = (r(pts[i - 1]), r(pts[i]), r(pts[i + 1]))
        if not (cls[i - 1] == cls[i] == cls[i + 1]) or _classify(m, guard) is None or not all(map(math.isfinite,
                                                                                                  vals_at)):
            continue
        sign = 1.0 if not cls[i] else -1.0  # minimise a divergent rate, maximise a convergent one
        if not (sign * m <= sign * a and sign * m <= sign * b and max(sign * (a - m), sign * (b - m)) > guard):
            continue
        if refined >= MAX_REFINEMENTS:
            notes.append(f"more than {MAX_REFINEMENTS} local extrema of the rate: only the first were refined")
            break
        refined += 1
        res = so.minimize_scalar(lambda u, s=sign: s * r(math.exp(u)),
                                 bounds=(math.log(pts[i - 1]), math.log(pts[i + 1])), method="bounded",
                                 options={"xatol": 1e-6})
        g = float(math.exp(res.x))
        c = _classify(r(g), guard)
        if c is not None and c != cls[i]:
            added.append(g)
    if added:
        notes.append(f"{len(added)} narrow feature(s) between grid points found by refining local extrema")
        pts = sorted(set(pts) | set(added))
        cls = classes(pts)

    # ---- bracket each change of class
    def end(a: float, b: float, ca: bool) -> float:
        fa, fb = r(a) - 1.0, r(b) - 1.0
        if fa * fb < 0:
            x = float(so.brentq(lambda g: r(g) - 1.0, a, b, xtol=a * TOLERANCE * 1e-3, rtol=TOLERANCE * 1e-3))
        else:  # the change is within roundoff of 1: bisect the classification itself
            lo_, hi_ = a, b
            while hi_ / lo_ - 1.0 > TOLERANCE * 1e-3:
                mid = math.sqrt(lo_ * hi_)
                if classes([p for p in pts if p < mid] + [mid])[-1] == ca:
                    lo_ = mid
                else:
                    hi_ = mid
            x = math.sqrt(lo_ * hi_)
        left, right = _classify(r(x * (1 - TOLERANCE)), guard), _classify(r(x * (1 + TOLERANCE)), guard)
        if (left is not None and left != ca) or (right is not None and right == ca):
            notes.append(f"the end near γ = {x:.9g} is not bracketed within {TOLERANCE:g} relative "
                         f"(rate {r(x * (1 - TOLERANCE)):.12g} and {r(x * (1 + TOLERANCE)):.12g} either side)")
        return x

    intervals: list[Interval] = []
    lo: float | None = 0.0 if cls[0] else None
    for i in range(len(pts) - 1):
        if cls[i] == cls[i + 1]:
            continue
        x = end(pts[i], pts[i + 1], cls[i])
        if cls[i]:
            assert lo is not None
            intervals.append(Interval(lo, x))
            lo = None
        else:
            lo = x
    if lo is not None:
        intervals.append(Interval(lo, math.inf))
        notes.append(f"rate < 1 up to the largest γ tried, {pts[-1]:.3g}: reported as unbounded")
    return Scan(tuple(intervals), bool(small_gamma), tuple(notes), len(cache))


def region_of_rate(rate: Rate, start: float, small_gamma: bool | None = None, *,
                   guard: float = GUARD_DENSE) -> Scan:
    """:func:`upper_limit` then :func:`scan` for one rate function (e.g. a synthetic one in tests)."""
    safe = _safe(rate)
    cache: dict[float, float] = {}

    def r(g: float) -> float:
        if g not in cache:
            cache[g] = safe(g)
        return cache[g]

    gmax, pts = upper_limit([r], start, guard)
    s = scan(r, gmax, small_gamma, guard=guard, extra_points=pts)
    return Scan(s.intervals, s.small_gamma_converges, s.notes, len(cache))


# ============================================================================ IST rates
def _map_radius(f: Callable[[FloatArray], FloatArray], d: int) -> float:
    """Spectral radius of a linear map on symmetric d×d matrices (dense for d ≤ 20, else ARPACK)."""
    def sym(X: FloatArray) -> FloatArray:
        return 0.5 * (X + X.T)

    if d * d <= 400:
        basis = np.eye(d * d)
        dense = np.column_stack([f(sym(basis[:, j].reshape(d, d))).ravel() for j in range(d * d)])
        return float(np.abs(np.linalg.eigvals(dense)).max())
    op = spla.LinearOperator((d * d, d * d), matvec=lambda x: f(sym(x.reshape(d, d))).ravel(), dtype=float)
    try:
        vals = spla.eigs(op, k=1, which="LM", tol=1e-10, maxiter=5000, v0=np.eye(d).ravel(),
                         return_eigenvectors=False)
        return float(np.abs(vals).max())
    except spla.ArpackNoConvergence:  # a positive map: power iteration from I reaches its spectral radius
        X, lam = np.eye(d), 0.0
        for _ in range(5000):
            Y = f(X)
            lam_new = float(np.linalg.norm(Y) / np.linalg.norm(X))
            X = Y / np.linalg.norm(Y)
            if abs(lam_new - lam) <= 1e-12 * max(1.0, lam_new):
                break
            lam = lam_new
        return lam_new


def _small_gamma(moments: SketchMoments, form: str, t: int, kind: str) -> tuple[bool | None, str]:
    """Whether ``rate < 1`` for all small ``γ > 0`` (``None``: the first-order analysis does not decide),
    and a note saying why. See step 3 of the module docstring."""
    d = moments.d
    EB = moments.expected_B
    scale = max(float(np.abs(EB).max()), np.finfo(float).tiny)
    lam = float(np.linalg.eigvals(EB).real.min())
    what = "mean square" if kind == "mean_square" else "mean"
    c = 2 if kind == "mean_square" else 1
    if form == "sgd":
        rho0, identity_limit = 1.0, True
    else:
        EP = moments.expected_P
        unbiased = bool(np.abs(EP - np.eye(d)).max() <= 1e-10)
        if kind == "mean":
            rho0 = float(np.abs(np.linalg.eigvals(EP)).max())
            identity_limit = unbiased
        else:
            rho0 = _map_radius(moments.PMP, d)
            identity_limit = unbiased and bool(np.abs(moments.PMP(np.eye(d)) - np.eye(d)).max() <= 1e-10)
    limit = "P̄ = (1/n)ΣC_i" if form == "ist" else "I"
    if rho0 < 1.0 - ZERO_TOL:
        return True, f"{what}, γ → 0: A → {limit}, rate → {rho0:.6g} < 1: small steps converge"
    if rho0 > 1.0 + ZERO_TOL:
        return False, f"{what}, γ → 0: A → {limit}, rate → {rho0:.6g} > 1: small steps diverge"
    if identity_limit:
        if lam > 1e-12 * scale:
            coef = "" if c * t == 1 else str(c * t)
            return True, (f"{what}, γ → 0: rate = 1 − {coef}γ·λ_min(E[B̄]) + O(γ²), λ_min(E[B̄]) = {lam:.6g} > 0: "
                          "small steps converge")
        return False, (f"{what}, γ → 0: λ_min(E[B̄]) = {lam:.3g} = 0, so B̄u = 0 and Au = u a.s. for its "
                       "eigenvector u: the rate is never below 1")
    return None, f"{what}, γ → 0: rate → 1 and the first-order analysis does not apply"


def convergence_region(problem: QuadraticProblem, sketch: Sketch, form: str = "sgd",
                       local_steps: int = 1) -> Region:
    """The step sizes ``γ > 0`` for which IST converges in mean square and in mean.

    Mean square: ``ρ(X ↦ E[AXAᵀ]) < 1`` (the second-moment dynamics that Theorem 1 bounds); mean:
    ``ρ(E[A]) < 1`` (the exact mean recursion (28)); ``A`` the iteration matrix of the SGD form (2)
    (``form="sgd"``) or of Algorithm 1's merge (6) with ``local_steps`` local steps (``form="ist"``),
    both from :class:`~isttheory.dynamics.ExactDynamics`. Returns the unions of open intervals, ends
    accurate to :data:`TOLERANCE` relative; the method and its caveats are in the module docstring and
    in :attr:`Region.notes`. The rates do not need ``x*``, so ``L̄`` may be singular."""
    check_form(form, local_steps)
    sketch.require_sizes(problem.n, problem.d)
    t0 = time.perf_counter()
    t = int(local_steps)
    moments = SketchMoments(problem, sketch)  # shared by every γ: the compiled maps depend on (problem, sketch)
    d = problem.d
    guard = GUARD_DENSE if d * d <= 400 else GUARD_ITERATIVE
    cache: dict[float, ExactDynamics] = {}

    def dyn(g: float) -> ExactDynamics:
        if g not in cache:
            e = ExactDynamics(problem, sketch, g, form, t)
            e.moments = moments
            cache[g] = e
        return cache[g]

    ms = _safe(lambda g: dyn(g).ms_rate)
    mean = _safe(lambda g: dyn(g).mean_rate)

    lam_max = float(np.abs(np.linalg.eigvals(moments.expected_B)).max())
    if not lam_max > 0:
        lam_max = float(np.abs(problem.eigvals_L_bar).max()) if problem.d else 0.0
    start = 1.0 / (t * lam_max) if lam_max > 0 and math.isfinite(lam_max) else 1.0
    gmax, doubling = upper_limit([ms, mean], start, guard)
    notes = [f"converges means rate < 1 − {guard:g} (roundoff guard); rates from exact moments (ExactDynamics)",
             f"γ_max = {gmax:.6g}: from γ = {start:.3g}, doubled until both rates were ≥ 1 and non-decreasing for "
             f"{STAY_DOUBLINGS} doublings past the last γ with a rate < 1",
             f"grid: {DECADES * POINTS_PER_DECADE + 1} log-spaced points ({POINTS_PER_DECADE} per decade, neighbours "
             f"×{10 ** (1 / POINTS_PER_DECADE):.3f}) on [{gmax * 10.0 ** -DECADES:.3g}, {gmax:.3g}], local extrema "
             "refined; caveat: a window narrower than the grid spacing that leaves no dip on the grid can be missed"]
    scans = {}
    for kind, rate in (("mean_square", ms), ("mean", mean)):
        verdict, why = _small_gamma(moments, form, t, kind)
        notes.append(why)
        s = scan(rate, gmax, verdict, guard=guard, extra_points=doubling)
        notes.extend(f"{kind.replace('_', ' ')}: {n}" for n in s.notes)
        scans[kind] = s
    return Region(sketch.spec, form, t, scans["mean_square"].intervals, scans["mean"].intervals, gmax,
                  (gmax * 10.0 ** -DECADES, gmax, POINTS_PER_DECADE), tuple(notes), len(cache),
                  time.perf_counter() - t0)
