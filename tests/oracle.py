"""Dense reference implementation of IST, written straight from the formulas.

This is the oracle for the fast paths: explicit d×d sketch matrices, a loop
over runs and clients, no index tricks. It consumes exactly the same random
draws as :func:`isttheory.simulate.simulate` (the same per-run seed
sequences, one sketch draw per iteration) so trajectories can be compared to
round-off.

* SGD form (2)/(5): ``x ← x − γ (1/n) Σ_i C_i (L_i C_i x − b_i + ξ_i)``
* Algorithm 1 / (6): ``z_i = C_i x``; ``t`` times ``z_i ← z_i − γ C_i (L_i z_i − b_i + ξ_i)``;
  ``x ← (1/n) Σ_i z_i``

Divergence: :func:`dense_trajectories` computes every iterate whatever happens;
:func:`divergence` applies the simulator's rule (documented in
:func:`isttheory.simulate.simulate`) to them, written out on the dense iterates, and
:func:`dense_simulation` returns what the simulator must return: the iteration of
divergence and the recorded rows before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from isttheory.simulate import CHECK_EVERY, DIVERGENCE_FACTOR, run_seed_sequences
from isttheory.sketches.base import IndexDraw


def dense_noise(draw, noise_slots: np.ndarray, d: int) -> np.ndarray:
    """Scatter noise drawn on owned slots (steps, n, m) into full vectors (steps, n, d)."""
    steps, n, m = noise_slots.shape
    if not isinstance(draw, IndexDraw):
        return noise_slots
    coords = draw.coords[0]
    scales = np.broadcast_to(draw.scales, draw.coords.shape)[0]
    full = np.zeros((steps, n, d))
    for i in range(n):
        for s in range(m):
            if scales[i, s] != 0:
                full[:, i, coords[i, s]] += noise_slots[:, i, s]
    return full


class ClientMatrices:
    """``C[i]`` is client ``i``'s explicit d×d matrix, built on demand (one at a time)."""

    def __init__(self, draw, d: int) -> None:
        self.d = d
        self.diag = draw.diagonals(d)[0] if isinstance(draw, IndexDraw) else None
        self.table = None if isinstance(draw, IndexDraw) else draw.dense(d)[0]

    def __getitem__(self, i: int) -> np.ndarray:
        return np.diag(self.diag[i]) if self.diag is not None else self.table[i]


def dense_trajectories(problem, sketch, gamma, iters, runs=1, seed=0, form="sgd", local_steps=1,
                       x0=None, noise=0.0, first_run=0):
    """All iterates: array (runs, iters + 1, d)."""
    n, d = problem.n, problem.d
    L, b = np.asarray(problem.L), np.asarray(problem.b)
    x0 = np.ones(d) if x0 is None else np.asarray(x0, float)
    out = np.zeros((runs, iters + 1, d))
    for r in range(runs):
        ss_sketch, ss_noise = run_seed_sequences(seed, first_run + r)
        rng = np.random.Generator(np.random.PCG64(ss_sketch))
        rng_noise = np.random.Generator(np.random.PCG64(ss_noise))
        x = x0.copy()
        out[r, 0] = x
        for k in range(iters):
            draw = sketch.sample(rng, 1)
            C = ClientMatrices(draw, d)
            if noise > 0:
                m = draw.coords.shape[-1] if isinstance(draw, IndexDraw) else d
                xi = dense_noise(draw, noise * rng_noise.standard_normal((1, local_steps, n, m))[0], d)
            else:
                xi = np.zeros((local_steps, n, d))
            if form == "sgd":
                g = np.zeros(d)
                for i in range(n):
                    g += C[i] @ (L[i] @ (C[i] @ x) - b[i] + xi[0, i])
                x = x - gamma * g / n
            else:
                acc = np.zeros(d)
                for i in range(n):
                    z = C[i] @ x
                    for s in range(local_steps):
                        z = z - gamma * C[i] @ (L[i] @ z - b[i] + xi[s, i])
                    acc += z
                x = acc / n
            out[r, k + 1] = x
    return out


def dense_metrics(problem, x: np.ndarray) -> dict[str, np.ndarray]:
    """``f``, ``‖∇f‖²`` and, when ``L̄ ≻ 0``, ``‖∇f‖²_{L̄⁻¹}`` and ``‖x − x*‖²_{L̄}`` of iterates ``x`` (R, d)."""
    L_bar, b_bar = np.asarray(problem.L).mean(axis=0), np.asarray(problem.b).mean(axis=0)
    g = x @ L_bar - b_bar
    out = {"f": 0.5 * np.einsum("ri,ij,rj->r", x, L_bar, x) - x @ b_bar, "grad2": np.einsum("ri,ri->r", g, g)}
    if problem.is_L_bar_positive_definite:
        x_star = np.linalg.solve(L_bar, b_bar)
        out["grad2_Linv"] = np.einsum("ri,ri->r", g, np.linalg.solve(L_bar, g.T).T)
        e = x - x_star
        out["dist2_L"] = np.einsum("ri,ij,rj->r", e, L_bar, e)
    return out


def divergence(problem, traj: np.ndarray, record, x0=None) -> int | None:
    """The iteration at which the simulator must report divergence of trajectories ``traj``
    (runs, K + 1, d) recorded at ``record``, or ``None``. The rule, over all runs together:

    * threshold ``τ = DIVERGENCE_FACTOR · max(1, ‖x⁰‖_∞, ‖x*‖_∞)`` (``x*`` only when ``L̄ ≻ 0``);
    * iteration ``k ≥ 1`` is checked when ``k`` is a multiple of ``CHECK_EVERY``, a recorded
      iteration or ``K``; it diverges when some ``|x^k_j|`` exceeds ``τ`` or is not finite;
    * a recorded iteration (``0`` included, where there is no threshold check) that passes the
      check diverges when one of its metrics is not finite.

    The answer is the first such iteration."""
    K = traj.shape[1] - 1
    d = problem.d
    x0 = np.ones(d) if x0 is None else np.asarray(x0, float)
    L_bar, b_bar = np.asarray(problem.L).mean(axis=0), np.asarray(problem.b).mean(axis=0)
    x_star_max = float(np.abs(np.linalg.solve(L_bar, b_bar)).max()) if problem.is_L_bar_positive_definite else 0.0
    tau = DIVERGENCE_FACTOR * max(1.0, float(np.abs(x0).max()), x_star_max)
    rec = {int(k) for k in record}
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(K + 1):
            x = traj[:, k]
            if k >= 1 and (k % CHECK_EVERY == 0 or k in rec or k == K):
                if not np.all(np.isfinite(x)) or np.abs(x).max() > tau:
                    return k
            if k in rec and not all(np.all(np.isfinite(v)) for v in dense_metrics(problem, x).values()):
                return k
    return None


@dataclass(frozen=True)
class DenseResult:
    """What :func:`isttheory.simulate.simulate` must return: the recorded iterations before
    divergence, the run means of ``x`` and ``f`` there, and the iteration of divergence."""

    iters: np.ndarray
    x_mean: np.ndarray
    f_mean: np.ndarray
    diverged_at: int | None
    trajectories: np.ndarray


def dense_simulation(problem, sketch, gamma, iters, runs=1, seed=0, form="sgd", local_steps=1, x0=None,
                     noise=0.0, first_run=0, record=None) -> DenseResult:
    """:func:`dense_trajectories` cut by :func:`divergence`: rows at the recorded iterations
    ``k < diverged_at`` (all of them when the runs do not diverge). ``record`` defaults to every iteration."""
    rec = np.arange(iters + 1) if record is None else np.unique(np.asarray(record, dtype=np.int64))
    with np.errstate(over="ignore", invalid="ignore"):
        traj = dense_trajectories(problem, sketch, gamma, iters, runs, seed, form, local_steps, x0, noise,
                                  first_run)
    at = divergence(problem, traj, rec, x0)
    kept = rec if at is None else rec[rec < at]
    rows = traj[:, kept]
    f = np.array([dense_metrics(problem, rows[:, j])["f"].mean() for j in range(kept.size)])
    return DenseResult(kept, rows.mean(axis=0), f, at, traj)
