"""Dense reference implementation of IST, written straight from the formulas.

This is the oracle for the fast paths: explicit d×d sketch matrices, a loop
over runs and clients, no index tricks. It consumes exactly the same random
draws as :func:`isttheory.simulate.simulate` (the same per-run seed
sequences, one sketch draw per iteration) so trajectories can be compared to
round-off.

* SGD form (2)/(5): ``x ← x − γ (1/n) Σ_i C_i (L_i C_i x − b_i + ξ_i)``
* Algorithm 1 / (6): ``z_i = C_i x``; ``t`` times ``z_i ← z_i − γ C_i (L_i z_i − b_i + ξ_i)``;
  ``x ← (1/n) Σ_i z_i``
"""

from __future__ import annotations

import numpy as np

from isttheory.simulate import run_seed_sequences
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
