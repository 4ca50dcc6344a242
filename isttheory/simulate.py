"""Vectorised Monte Carlo simulation of IST on the quadratic (12).

Two update forms:

* ``"sgd"``, the SGD-type form (2) with estimator (5)/(26):
  ``x^{k+1} = x^k − γ (1/n) Σ_i C_i ∇f_i(C_i x^k)``;
* ``"ist"``, Algorithm 1 with merge (6) and ``t ≥ 1`` local steps:
  ``z_i = C_i x^k``; ``t`` times ``z_i ← z_i − γ C_i ∇f_i(z_i)``;
  ``x^{k+1} = (1/n) Σ_i z_i``.

They coincide for one local step when ``(1/n) Σ C_i = I`` (perfect
reconstruction); the result says whether they do.

The hot path works in index form: client ``i`` owns the coordinates ``S_i``
of its draw and only ``L_i[S_i, S_i]`` (``(L_i)_{jj}`` for Perm-1) and
``b_i[S_i]`` are touched, so a run-iteration costs ``O(Σ_i |S_i|²)``
(``O(d·q)`` for Perm-q, ``O(d)`` for Perm-1), never ``O(n d²)``.

Randomness: run ``r`` (counting from ``first_run``) draws its sketches from
``SeedSequence(seed, spawn_key=(r, 0))`` and its gradient noise from
``SeedSequence(seed, spawn_key=(r, 1))``. Every run is therefore identical
however the runs are split into batches, and sketches draw sequentially, so
chunking over iterations does not change results either.
"""

from __future__ import annotations

import math
import sys
import types
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .arrays import FloatArray
from .errors import IncompatibleSketchError, ISTError, ParameterError, ResourceError, UnreliableMeanWarning
from .problem import QuadraticProblem
from .progress import progress_bar
from .resources import available_memory as _available_memory
from .resources import small_blas
from .runpool import RunPool, default_threads
from .sketches.base import DiagonalSketch, IndexDraw, Sketch, TableDraw
from .structured import LowRankDiagonalProblem
from .validation import DIVERGENCE_FACTOR, Form, check_form, check_integer, check_step_size

ProblemLike = QuadraticProblem | LowRankDiagonalProblem
"""The simulator needs only index-form access (``client_operator``, ``client_b``, ``client_diagonal``)
and ``L̄`` products and solves, so a dense problem and a structured one both serve."""


METRICS = ("f", "grad2", "grad2_Linv", "dist2_L")
"""Recorded metrics: ``f(x^k)``, ``‖∇f(x^k)‖²``, ``‖∇f(x^k)‖²_{L̄⁻¹}``, ``‖x^k − x*‖²_{L̄}``.
The last two need ``L̄ ≻ 0`` and are omitted otherwise."""


CHECK_EVERY = 8
"""Divergence is checked every ``CHECK_EVERY`` iterations, at every recorded one and at ``K``
(so ``diverged_at`` is the first *checked* iteration past the threshold; see :func:`simulate`)."""

DRAW_BUFFER_BYTES = 64 * 2**20

EXACT_RATE_MAX_D = 8
"""Up to this ``d`` (dense problems) :func:`simulate` asks the exact engine for ``ms_rate`` (0.01–0.1 s)."""
MARGINAL_RTOL = 1e-9
"""An exact rate within this of 1 is marginal (no growth), not divergence: no warning."""
TAIL_MIN_RUNS = 40
"""The heavy-tail diagnostic needs at least this many runs."""
TAIL_FRACTION = 1 / 40
"""The heavy-tail diagnostic looks at the largest ``⌈R·TAIL_FRACTION⌉`` per-run values ..."""
TAIL_SHARE = 0.5
"""... and fires when they carry more than this share of the sum over runs (light tails: about 0.17)."""


@dataclass(frozen=True)
class Metric:
    """Mean and standard error (``std/√R``; ``None`` when ``R = 1``) over runs."""

    mean: FloatArray
    sem: FloatArray | None


@dataclass(frozen=True)
class SimulationResult:
    """Metrics at the recorded iterations ``iters``; ``x_mean[j]`` is the run mean of ``x^{iters[j]}``.
    After a divergence ``iters`` holds only the recorded iterations before ``diverged_at``
    (the rule is in :func:`simulate`)."""

    iters: NDArray[np.int64]
    metrics: dict[str, Metric]
    x_mean: FloatArray
    diverged: bool
    diverged_at: int | None
    divergence_reason: str | None
    settings: dict[str, Any] = field(default_factory=dict)
    iterates: FloatArray | None = None
    """``iterates[j, r]`` is run ``r``'s ``x^{iters[j]}`` when ``keep_iterates=True`` (else ``None``)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``iters``, one ``{mean, sem}`` object per metric, ``diverged``, settings."""
        out: dict[str, Any] = {"iters": self.iters.tolist()}
        for name, m in self.metrics.items():
            out[name] = {"mean": m.mean.tolist(), "sem": None if m.sem is None else m.sem.tolist()}
        out["x_mean"] = self.x_mean.tolist()
        out["diverged"] = self.diverged
        out["diverged_at"] = self.diverged_at
        out["divergence_reason"] = self.divergence_reason
        out["settings"] = self.settings
        return out


def run_seed_sequences(seed: int, run: int) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    """Seed sequences of run ``run``: (sketch stream, noise stream)."""
    return (np.random.SeedSequence(seed, spawn_key=(run, 0)),
            np.random.SeedSequence(seed, spawn_key=(run, 1)))


def _check_params(gamma: float, iters: int, runs: int, seed: int, form: str, local_steps: int,
                  noise: float, first_run: int) -> None:
    check_step_size(gamma)
    for name, v, lo in (("iters K", iters, 1), ("runs R", runs, 1), ("seed", seed, 0), ("first_run", first_run, 0)):
        check_integer(name, v, lo)
    check_form(form, local_steps)
    if not isinstance(noise, (int, float, np.floating)) or not math.isfinite(noise) or noise < 0:
        raise ParameterError(f"noise must be a finite number >= 0; got {noise!r}")


def default_record(iters: int, points: int = 101) -> NDArray[np.int64]:
    """Recorded iterations by default: ``points`` evenly spaced in ``[0, K]`` (always 0 and K)."""
    return np.unique(np.linspace(0, iters, min(iters + 1, points)).round().astype(np.int64))


def record_every(iters: int, every: int) -> NDArray[np.int64]:
    """Recorded iterations ``0, k, 2k, …`` and ``K`` (pass as ``record=`` to :func:`simulate`; the CLI's
    ``--record-every``). Each record costs one product by ``L̄`` over all runs."""
    check_integer("iters K", iters, 0)
    check_integer("record every", every, 1)
    return np.union1d(np.arange(0, iters + 1, every, dtype=np.int64), [iters]).astype(np.int64)


def estimate_bytes(problem: ProblemLike, sketch: Sketch, runs: int, chunk: int) -> int:
    """Peak working memory of :func:`simulate` beyond the problem itself (bytes, estimate)."""
    n, d = problem.n, problem.d
    probe = sketch.sample(np.random.default_rng(0), 1)
    if isinstance(probe, TableDraw):
        per_iter = runs * n * d * d * 8 * 2 + runs * n * d * 8 * 6
        draws = chunk * runs * 8
    else:
        m = probe.coords.shape[-1]
        per_iter = runs * n * m * (m * 8 + 8 * 8)
        if isinstance(problem, LowRankDiagonalProblem) and m > 1:  # gathered factor rows, three copies
            assert problem.V is not None
            rank = problem.V.shape[1] + (0 if problem.U is None else problem.U.shape[2])
            per_iter += 3 * runs * n * m * rank * 8
        draws = chunk * runs * n * m * 16
        if _fused_shape(sketch, probe, 0.0):
            draws += n * d * 16 + 2 * min(n, AFFINE_ROWS) * d * 8  # the affine table and its row-block temporaries
    return int(per_iter + draws + runs * d * 8 * 6)


AFFINE_ROWS = 64
"""Clients per block when building the affine table of the fused Perm-1 path (bounds temporaries and keeps
them in cache)."""


def _fused_shape(sketch: Sketch, probe: IndexDraw | TableDraw, noise: float) -> bool:
    """One-coordinate-per-client draws that partition the coordinates (Perm-1, its scaled and
    preconditioned versions), without gradient noise: the shape the fused path needs."""
    return (noise == 0 and isinstance(sketch, DiagonalSketch) and isinstance(probe, IndexDraw)
            and probe.coords.shape[-1] == 1 and probe.disjoint and probe.covers)


def _fused_scales(sketch: Sketch, probe: IndexDraw | TableDraw, noise: float) -> FloatArray | None:
    """The sketch's scale table (n, d) when the fused path applies, else ``None``. The affine table is
    built from it, so it must be the scale the draws use (checked on the probe draw)."""
    if not _fused_shape(sketch, probe, noise):
        return None
    assert isinstance(sketch, DiagonalSketch) and isinstance(probe, IndexDraw)
    scales = sketch.scale_table()
    coords = probe.coords.reshape(-1, sketch.n)
    drawn = np.broadcast_to(probe.scales, probe.coords.shape).reshape(coords.shape)
    return scales if np.array_equal(drawn, scales[np.arange(sketch.n), coords]) else None


def affine_table(problem: ProblemLike, scales: FloatArray, gamma: float, form: str,
                 steps: int) -> FloatArray:
    """Perm-1-type draws make one iteration affine per coordinate: when client ``i`` owns
    coordinate ``j`` (scale ``s = s_ij``), ``x_j ← α_ij x_j + β_ij`` with

    * form (2): ``α = 1 − γ s² (L_i)_jj / n``, ``β = γ s (b_i)_j / n``;
    * Algorithm 1 with ``t`` local steps: ``z ← a z + γ s b_ij`` from ``z = s x_j``
      with ``a = 1 − γ s (L_i)_jj``, then merge (6): ``α = aᵗ s / n``, ``β = c_t / n``.

    ``scales`` is the sketch's scale table ``s_ij`` (n, d). Returns the pairs ``(α_ij, β_ij)`` as an
    ``(n·d, 2)`` array (row ``i·d + j``), so one gather per coordinate fetches both. Built in blocks
    of :data:`AFFINE_ROWS` clients.
    """
    n, d = problem.n, problem.d
    table = np.empty((n, d, 2))
    tmp = np.empty((min(n, AFFINE_ROWS), d))
    for lo in range(0, n, AFFINE_ROWS):
        hi = min(n, lo + AFFINE_ROWS)
        S, Dd, bb = scales[lo:hi], problem.D[lo:hi], problem.b[lo:hi]
        if form == "sgd":  # in place, the same operations in the same order as 1 − γ·S·S·D/n and γ·S·b/n
            u = tmp[:hi - lo]
            np.multiply(gamma, S, out=u)
            u *= S
            u *= Dd
            u /= n
            np.subtract(1.0, u, out=table[lo:hi, :, 0])
            np.multiply(gamma, S, out=u)
            u *= bb
            np.divide(u, n, out=table[lo:hi, :, 1])
        else:
            a = 1.0 - gamma * S * Dd
            c = np.zeros_like(a)
            for _ in range(steps):
                c = a * c + gamma * S * bb
            table[lo:hi, :, 0] = a**steps * S / n
            table[lo:hi, :, 1] = c / n
    return table.reshape(n * d, 2)


def simulate(problem: ProblemLike, sketch: Sketch, gamma: float, iters: int, runs: int = 1,
             seed: int = 0, form: Form = "sgd", local_steps: int = 1, x0: ArrayLike | None = None,
             noise: float = 0.0, record: ArrayLike | None = None, first_run: int = 0,
             progress: bool = False, keep_iterates: bool = False, threads: int | None = None,
             warn: bool = True) -> SimulationResult:
    """Simulate ``runs`` independent runs of IST for ``iters`` iterations.

    ``noise = σ`` adds stochastic-gradient noise: each client's gradient
    ``∇f_i(w) + ξ_i`` with ``ξ_i ~ N(0, σ² I)`` fresh at every local step (only
    the coordinates a client owns are drawn: ``C_i ξ_i`` depends on no others).
    ``record`` lists the iterations to record (default :func:`default_record`);
    ``keep_iterates`` also returns every run's iterate there (for per-run statistics).
    ``threads`` splits the runs over threads for sampling and the fused Perm-1 step
    (default: the machine's cores when a run-iteration batch is large, else 1); results
    do not depend on it, since every run has its own streams.

    Divergence (the rule the dense oracle ``tests/oracle.py`` applies too), over all runs together:
    iteration ``k ≥ 1`` is *checked* when it is a multiple of :data:`CHECK_EVERY`, a recorded
    iteration or ``K``, and diverges when some ``|x^k_j|`` exceeds
    ``DIVERGENCE_FACTOR · max(1, ‖x⁰‖_∞, ‖x*‖_∞)`` (``x*`` only when ``L̄ ≻ 0``) or is not finite;
    a recorded iteration that passes the check diverges when a metric is not finite. The run stops
    at the first such iteration, ``diverged_at``; the result holds the rows of the recorded
    iterations ``k < diverged_at`` (the row at ``diverged_at`` is never recorded).

    Unreliable means (``warn=True``): when the runs did not diverge but the method does not converge in
    mean square, the means are not estimates of anything stable, and :class:`UnreliableMeanWarning` is
    issued (one line; also in ``settings["unreliable_mean"]``, else ``None``; ``warn=False`` skips the
    check and its cost, 0.01–0.1 s per call where the exact rate is computed). The rule, in order:

    1. dense problems with ``d ≤`` :data:`EXACT_RATE_MAX_D`: the exact mean-square rate
       (:attr:`ExactDynamics.ms_rate <isttheory.dynamics.ExactDynamics.ms_rate>`); warn iff it exceeds
       ``1 + MARGINAL_RTOL`` (a rate of exactly 1, as along the null space of a singular ``L̄`` that no step
       moves, is no growth). Exact: no false alarm and no miss (noise does not change the rate);
    2. otherwise, with ``R ≥`` :data:`TAIL_MIN_RUNS` runs: a heavy-tail diagnostic on the per-run
       ``‖x^K − x*‖²_{L̄}`` (``‖∇f‖²`` when ``L̄`` is singular) at the last recorded iteration: warn when
       the largest ``⌈R/40⌉`` runs (:data:`TAIL_FRACTION`) carry more than :data:`TAIL_SHARE` (half) of
       the sum over runs. For light tails they carry about 17%. False alarms, measured on i.i.d. samples:
       1e-5 for χ²₁ values at R = 40 (none in 20 000 trials at R = 200), 0.09% for lognormal(0, 1) at
       R = 40, but 2–4% for lognormal(0, 1.5), whose tail is heavy although its mean is finite; and in
       the transient of a method that does converge in mean square the iterates are products of random
       contractions, nearly lognormal: in the bound checks of ``verify`` (Perm-1, n = 4, d = 8, exact
       rate 0.27, k = 20, R = 400) the largest 10 runs carried 43%, under the threshold only because it
       is a half. Misses: close to rate 1 the diagnostic is weak (heterogeneous(2, 4), Perm-1: at rate
       1.17 it fired for 10 of 10 seeds, at rate 1.015 for 7 of 10, K = 50, R = 200), and it cannot see a
       divergence in which all runs grow together (the mean recursion diverges too: the means then grow
       visibly, or ``diverged`` is set). Fewer runs: no diagnostic.
    """
    _check_params(gamma, iters, runs, seed, form, local_steps, noise, first_run)
    sketch.require_sizes(problem.n, problem.d)
    n, d = problem.n, problem.d
    x0v = np.ones(d) if x0 is None else np.asarray(x0, dtype=float)
    if x0v.shape != (d,) or not np.all(np.isfinite(x0v)):
        raise ParameterError(f"x0 must be a finite vector of length d = {d}")
    rec = default_record(iters) if record is None else np.unique(np.asarray(record, dtype=np.int64))
    if rec.size == 0 or rec[0] < 0 or rec[-1] > iters:
        raise ParameterError(f"recorded iterations must lie in [0, {iters}]")

    probe = sketch.sample(np.random.default_rng(0), 1)
    if isinstance(probe, TableDraw) and not isinstance(problem, QuadraticProblem):
        raise IncompatibleSketchError(f"sketch {sketch.spec} draws dense matrices; a structured problem "
                                      "supports diagonal (index-form) sketches only")
    slot = probe.coords.shape[-1] if isinstance(probe, IndexDraw) else d
    chunk = int(max(1, min(iters, 256, DRAW_BUFFER_BYTES // max(1, runs * n * slot * 16))))
    need = estimate_bytes(problem, sketch, runs, chunk)
    if need > 0.8 * _available_memory():
        raise ResourceError(
            f"simulation needs about {need / 2**30:.1f} GiB, more than 80% of this machine's "
            f"{_available_memory() / 2**30:.1f} GiB; use fewer runs or a smaller problem"
        )

    with small_blas(d):  # milliseconds of BLAS work per call: one thread (see resources.small_blas)
        pd = problem.is_L_bar_positive_definite
        names = [m for m in METRICS if pd or m in ("f", "grad2")]
        means = {m: np.zeros(rec.size) for m in names}
        sems = {m: np.zeros(rec.size) for m in names}
        x_mean = np.zeros((rec.size, d))
        kept = np.zeros((rec.size, runs, d)) if keep_iterates else None
        scale = max(1.0, float(np.abs(x0v).max()), float(np.abs(problem.x_star).max()) if pd else 0.0)
        threshold = DIVERGENCE_FACTOR * scale

        streams = [run_seed_sequences(seed, first_run + r) for r in range(runs)]
        sketch_rngs = [np.random.Generator(np.random.PCG64(s)) for s, _ in streams]
        noise_rngs = [np.random.Generator(np.random.PCG64(s)) for _, s in streams]

        scales = _fused_scales(sketch, probe, noise)
        table = None if scales is None else affine_table(problem, scales, gamma, form, local_steps)
        pool = RunPool(runs, default_threads(runs * d) if threads is None else threads)
        x = np.tile(x0v, (runs, 1))  # owned here: the fused step updates it in place
        work: dict[str, Any] = {}
        rec_pos = {int(k): j for j, k in enumerate(rec)}
        recorded = 0
        last_vals: list[dict[str, FloatArray] | None] = [None]
        diverged_at: int | None = None
        reason: str | None = None
        bar = progress_bar(iters, progress)

        def record_at(k: int) -> bool:
            """Record metrics at iteration k; False (and divergence) if they overflow."""
            nonlocal recorded, diverged_at, reason
            j = rec_pos[k]
            vals = _metrics(problem, x, pd)
            last_vals[0] = vals
            if not all(np.all(np.isfinite(v)) for v in vals.values()):
                diverged_at, reason = k, "metrics overflowed the floating-point range"
                return False
            for m in names:  # all runs are in memory: mean and standard error directly (no sum of squares)
                means[m][j] = vals[m].mean()
                sems[m][j] = vals[m].std(ddof=1) / math.sqrt(runs) if runs > 1 else 0.0
            x_mean[j] = x.mean(axis=0)
            if kept is not None:
                kept[j] = x
            recorded = j + 1
            return True

        def check(k: int) -> bool:
            nonlocal diverged_at, reason
            peak = float(np.abs(x).max())
            if not math.isfinite(peak):
                diverged_at, reason = k, "iterate became non-finite"
            elif peak > threshold:
                diverged_at, reason = k, f"max|x^k| = {peak:.3g} exceeded {threshold:.3g}"
            return diverged_at is not None

        k = 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if 0 in rec_pos:
                record_at(0)
            while k < iters and diverged_at is None:
                t = min(chunk, iters - k)
                draws = pool.map(partial(_sample_chunk, sketch, t), sketch_rngs)
                noises = _noise(noise_rngs, draws, t, local_steps, noise, n, d)
                # stacks runs once a chunk; the fused step reuses its buffers (work) and updates x in place
                step = _chunk_stepper(problem, draws, gamma, form, local_steps, table, pool, work)
                for s in range(t):
                    x = step(x, s, None if noises is None else noises[s])
                    k += 1
                    if (k % CHECK_EVERY == 0 or k in rec_pos or k == iters) and check(k):
                        break
                    if k in rec_pos and not record_at(k):
                        break
                bar.update(t)
                if diverged_at is not None:
                    break
        bar.close()
        pool.close()

    keep = recorded
    metrics = {m: Metric(means[m][:keep], sems[m][:keep] if runs > 1 else None) for m in names}
    settings = {
        "n": n, "d": d, "sketch": sketch.spec, "gamma": float(gamma), "iters": int(iters),
        "runs": int(runs), "seed": int(seed), "first_run": int(first_run), "form": form,
        "local_steps": int(local_steps), "noise": float(noise),
        "forms_coincide": bool(sketch.perfect_reconstruction and local_steps == 1),
        "within_paper_hypotheses": bool(sketch.within_paper_hypotheses),
    }
    note = None
    if warn and diverged_at is None:
        tail = last_vals[0].get("dist2_L" if pd else "grad2") if last_vals[0] is not None else None
        note = unreliable_mean_note(problem, sketch, float(gamma), form, int(local_steps), tail, int(rec[keep - 1]))
        if note is not None:
            warnings.warn(note, UnreliableMeanWarning, stacklevel=2)
    settings["unreliable_mean"] = note
    return SimulationResult(rec[:keep], metrics, x_mean[:keep], diverged_at is not None,
                            diverged_at, reason, settings, None if kept is None else kept[:keep])


def unreliable_mean_note(problem: ProblemLike, sketch: Sketch, gamma: float, form: str, local_steps: int,
                         per_run: FloatArray | None = None, k: int | None = None) -> str | None:
    """Why a Monte Carlo mean is unreliable, in one line, or ``None``: the rule of :func:`simulate`."""
    if isinstance(problem, QuadraticProblem) and problem.d <= EXACT_RATE_MAX_D:
        from .dynamics import ExactDynamics

        try:
            ms_rate = ExactDynamics(problem, sketch, gamma, form, local_steps).ms_rate
        except ISTError:  # the exact engine cannot say: fall through to the diagnostic
            ms_rate = None
        if ms_rate is not None:
            if ms_rate <= 1.0 + MARGINAL_RTOL:  # exactly 1 (a null space of a singular L̄ no step moves): no growth
                return None
            return (f"the method does not converge in mean square at gamma = {gamma:g} (exact rate {ms_rate:.4g} "
                    "> 1): the Monte Carlo mean is unreliable (the variance across runs grows without bound in k; the "
                    "mean can change wildly with the seed)")
    if per_run is None or per_run.size < TAIL_MIN_RUNS:
        return None
    total = float(per_run.sum())
    if not (math.isfinite(total) and total > 0):
        return None
    top = math.ceil(per_run.size * TAIL_FRACTION)
    share = float(np.sort(per_run)[-top:].sum()) / total
    if share <= TAIL_SHARE:
        return None
    at = "" if k is None else f" at k = {k}"
    return (f"the largest {top} of {per_run.size} runs carry {share:.0%} of the mean{at}: the runs are "
            f"heavy-tailed, the method likely does not converge in mean square at gamma = {gamma:g}, and the "
            "Monte Carlo mean is unreliable")


def _metrics(problem: ProblemLike, x: FloatArray, pd: bool) -> dict[str, FloatArray]:
    """The :data:`METRICS` of every run's ``x`` (R, d) with ONE product by ``L̄`` over all runs
    (``O(R·d²)`` dense, ``O(R·d·k)`` structured; ``L̄``, ``b̄``, ``x*`` and ``f*`` are cached on the problem).

    With ``L̄ ≻ 0`` and ``e = x − x*`` (formed first, so no cancellation): ``∇f(x) = L̄e`` (as ``L̄x* = b̄``),
    ``‖x − x*‖²_{L̄} = eᵀL̄e``, ``‖∇f‖²_{L̄⁻¹} = eᵀL̄ L̄⁻¹ L̄e = eᵀL̄e`` and ``f(x) = f* + ½ eᵀL̄e``: the
    same quantities as ``½xᵀL̄x − b̄ᵀx``, ``‖L̄x − b̄‖²`` and a solve by ``L̄`` (the oracle's
    ``tests/oracle.py::dense_metrics``), without the solve. Otherwise ``f`` and ``‖∇f‖²`` from ``L̄x``."""
    if pd:
        e = x - problem.x_star
        g = problem.L_bar_apply(e)
        dist2: FloatArray = np.einsum("ri,ri->r", e, g)
        return {"f": problem.f_star + 0.5 * dist2, "grad2": np.einsum("ri,ri->r", g, g),
                "grad2_Linv": dist2.copy(), "dist2_L": dist2}
    u = problem.L_bar_apply(x)
    g = u - problem.b_bar
    return {"f": 0.5 * np.einsum("ri,ri->r", x, u) - x @ problem.b_bar, "grad2": np.einsum("ri,ri->r", g, g)}


def _noise(rngs: list[np.random.Generator], draws: list[Any], t: int, steps: int, sigma: float,
           n: int, d: int) -> FloatArray | None:
    """Noise for ``t`` iterations: shape (t, R, steps, n, m) (m = d for table draws)."""
    if sigma == 0:
        return None
    m = draws[0].coords.shape[-1] if isinstance(draws[0], IndexDraw) else d
    per_run = [sigma * rng.standard_normal((t, steps, n, m)) for rng in rngs]
    return np.stack(per_run, axis=1)


def _sample_chunk(sketch: Sketch, size: int, rng: np.random.Generator) -> IndexDraw | TableDraw:
    return sketch.sample(rng, size)


def _chunk_stepper(problem: ProblemLike, draws: list[Any], gamma: float, form: str,
                   steps: int, table: FloatArray | None = None, pool: RunPool | None = None,
                   work: dict[str, Any] | None = None) -> Any:
    """Stack one chunk of per-run draws into (t, R, …) arrays once; return ``step(x, s, noise)``.

    With an :func:`affine_table` (Perm-1-type draws, no noise) each iteration is one gather of
    ``(α, β)`` pairs at ``owner(j)·d + j`` and one fused multiply-add on contiguous ``x``, done in
    place (see :func:`_fused_stepper`; ``work`` keeps its buffers from one chunk to the next)."""
    first = draws[0]
    pool = pool or RunPool(len(draws), 1)
    if isinstance(first, IndexDraw) and table is not None:
        return _fused_stepper(problem.d, draws, table, pool, {} if work is None else work)
    if isinstance(first, IndexDraw):
        coords = np.stack([dr.coords for dr in draws], axis=1)  # (t, R, n, m)
        sc = first.scales
        scales = None if sc.size == 1 else np.stack(
            [np.broadcast_to(dr.scales, dr.coords.shape) for dr in draws], axis=1)
        scalar = sc.reshape(()) if sc.size == 1 else None

        def index(x: FloatArray, s: int, noise: FloatArray | None) -> FloatArray:
            sc_s = scales[s] if scales is not None else scalar
            assert sc_s is not None
            return index_step(problem, x, coords[s], sc_s, gamma, form, steps, noise, first.disjoint, first.covers)

        return index
    outcomes = np.stack([dr.outcome for dr in draws], axis=1)  # (t, R)
    assert isinstance(problem, QuadraticProblem)  # simulate() refuses dense draws on structured problems

    def dense(x: FloatArray, s: int, noise: FloatArray | None) -> FloatArray:
        return dense_step(problem, x, first.table[outcomes[s]], gamma, form, steps, noise)

    return dense


def _fused_stepper(d: int, draws: list[Any], table: FloatArray, pool: RunPool, work: dict[str, Any]) -> Any:
    """The fused Perm-1 step of :func:`_chunk_stepper`. ``idx[s, r, j] = owner(j)·d + j`` (intp, laid out
    so that iteration ``s`` of a slice of runs is contiguous, as ``np.take`` wants its indices) is built
    once a chunk by one contiguous scatter per run-iteration; an iteration gathers the pairs into a reused
    buffer (``mode="clip"``: the indices are in range by construction, and ``"raise"`` would buffer ``out``)
    and updates ``x`` in place (``x ← α·x``, then ``x += β``: the same two roundings as before).
    ``work`` holds the index and pair buffers, reused from chunk to chunk (no page faults per chunk)."""
    R = len(draws)
    t = draws[0].coords.shape[0]
    idx = work.get("idx")
    if idx is None or idx.shape[1:] != (R, d) or idx.shape[0] < t:
        idx = work["idx"] = np.empty((t, R, d), dtype=np.intp)
    if "owned" not in work:  # i·d: client i's rows start there
        work["owned"] = np.arange(d, dtype=np.intp) * d
        work["pairs"] = np.empty((R, d, 2))
    owned, pairs = work["owned"], work["pairs"]

    def owners(runs: slice) -> None:
        vals = np.empty((t, d), dtype=np.intp)
        for r in range(*runs.indices(R)):
            pi = draws[r].coords[..., 0]  # (t, n): client i owns coordinate pi[s, i]
            np.add(pi, owned, out=vals)  # i·d + pi[s, i], written at j = pi[s, i]
            for s in range(t):
                idx[s, r][pi[s]] = vals[s]

    pool.each(owners)

    def fused(x: FloatArray, s: int, noise: FloatArray | None) -> FloatArray:
        def part(runs: slice) -> None:
            pair, xr = pairs[runs], x[runs]
            np.take(table, idx[s, runs], axis=0, out=pair, mode="clip")
            np.multiply(pair[..., 0], xr, out=xr)
            xr += pair[..., 1]

        pool.each(part)
        return x

    return fused


def index_step(problem: ProblemLike, x: FloatArray, coords: NDArray[np.int64],
               scales: FloatArray, gamma: float, form: str, steps: int,
               noise: FloatArray | None, disjoint: bool, covers: bool) -> FloatArray:
    """One iteration for all runs in index form. ``coords`` (R, n, m); ``scales``
    broadcastable to it; ``noise`` (R, steps, n, m) or None."""
    R, d = x.shape
    n, m = coords.shape[-2:]
    flat = coords + (np.arange(R) * d)[:, None, None]
    xs = np.take(x, flat)
    bs = problem.client_b(coords)
    apply = problem.client_operator(coords)

    if form == "sgd":
        u = scales * xs
        v = apply(u) - bs
        if noise is not None:
            v += noise[:, 0]
        v *= scales * (gamma / n)
        if covers:
            out = np.empty_like(x)
            out.reshape(-1)[flat] = xs - v
            return out
        if disjoint:
            out = x.copy()
            out.reshape(-1)[flat] -= v
            return out
        return x - np.bincount(flat.ravel(), v.ravel(), minlength=R * d).reshape(R, d)
    z = scales * xs
    for s in range(steps):
        v = apply(z) - bs
        if noise is not None:
            v += noise[:, s]
        z = z - gamma * scales * v
    if disjoint:
        out = np.zeros_like(x) if not covers else np.empty_like(x)
        out.reshape(-1)[flat] = z / n
        return out
    averaged: FloatArray = np.bincount(flat.ravel(), z.ravel(), minlength=R * d).reshape(R, d) / n
    return averaged


def dense_step(problem: QuadraticProblem, x: FloatArray, C: FloatArray, gamma: float, form: str,
               steps: int, noise: FloatArray | None) -> FloatArray:
    """One iteration with explicit matrices ``C`` (R, n, d, d) (finite distributions)."""
    n = problem.n
    w = np.einsum("rnij,rj->rni", C, x)
    if form == "sgd":
        grad = np.einsum("nij,rnj->rni", problem.L, w) - problem.b
        if noise is not None:
            grad += noise[:, 0]
        out: FloatArray = x - gamma * np.einsum("rnij,rnj->ri", C, grad) / n
        return out
    z = w
    for s in range(steps):
        grad = np.einsum("nij,rnj->rni", problem.L, z) - problem.b
        if noise is not None:
            grad += noise[:, s]
        z = z - gamma * np.einsum("rnij,rnj->rni", C, grad)
    mean: FloatArray = z.mean(axis=1)
    return mean


class _CallableModule(types.ModuleType):
    """``isttheory.simulate`` is the function :func:`simulate` (in ``isttheory.__all__``), but importing the
    submodule binds the same name on the package to this module: calling the module calls the function,
    so ``isttheory.simulate(...)`` works in either order."""

    def __call__(self, *args: Any, **kwargs: Any) -> SimulationResult:
        return simulate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
