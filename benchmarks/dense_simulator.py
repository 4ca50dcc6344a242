"""A plain dense NumPy simulator of IST with Perm-1: the yardstick of the whole-command benchmark.

The same run as ``isttheory simulate FILE --sketch perm --gamma G --iters K --runs R --seed S --json`` on a
dense problem file with ``n = d`` (form (2), no noise, ``x⁰ = 1``, the 101 default records), written the
way a NumPy user would without the index form: explicit d×d sketch matrices ``C_i = n e_{π_i} e_{π_i}ᵀ``,
a loop over runs and clients,

    x ← x − (γ/n) Σ_i C_i (L_i C_i x − b_i),

and the metrics with the explicit ``L̄`` and a solve, at every recorded iteration. It draws the same
permutations as the simulator (run ``r`` draws from ``SeedSequence(S, spawn_key=(r, 0))``, one uniform
permutation per iteration, NumPy's ``Generator.permuted``), so its final means agree with the command's
JSON to round-off. No validation, no divergence check (the benchmark's step size is stable).

Run:  python benchmarks/dense_simulator.py FILE.npz --gamma G --iters K --runs R --seed S
Prints one JSON object: the recorded iterations and, per metric, the mean over runs at the last one, and
the run mean of ``x^K``.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def _records(iters: int, points: int = 101) -> np.ndarray:
    return np.unique(np.linspace(0, iters, min(iters + 1, points)).round().astype(np.int64))


def dense_run(L: np.ndarray, b: np.ndarray, gamma: float, iters: int, runs: int, seed: int) -> dict:
    """Every run with explicit matrices; metric means over runs at each default record."""
    n, d = L.shape[0], L.shape[1]
    if n != d:
        raise SystemExit("dense_simulator: Perm-1 needs n = d")
    L_bar, b_bar = L.mean(axis=0), b.mean(axis=0)
    x_star = np.linalg.solve(L_bar, b_bar)
    rec = _records(iters)
    xs = np.zeros((rec.size, runs, d))
    for r in range(runs):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(r, 0))))
        x = np.ones(d)
        j = 0
        if rec[0] == 0:
            xs[0, r], j = x, 1
        for k in range(1, iters + 1):
            pi = rng.permuted(np.arange(d, dtype=np.int64)[None, :], axis=1)[0]  # client i owns pi[i]
            step = np.zeros(d)
            for i in range(n):
                C = np.zeros((d, d))
                C[pi[i], pi[i]] = n
                step += C @ (L[i] @ (C @ x) - b[i])
            x = x - gamma / n * step
            if j < rec.size and rec[j] == k:
                xs[j, r], j = x, j + 1
    metrics: dict[str, list[float]] = {m: [] for m in ("f", "grad2", "grad2_Linv", "dist2_L")}
    for row in xs:
        g = row @ L_bar - b_bar
        e = row - x_star
        metrics["f"].append(float(np.mean(0.5 * np.einsum("ri,ij,rj->r", row, L_bar, row) - row @ b_bar)))
        metrics["grad2"].append(float(np.mean(np.einsum("ri,ri->r", g, g))))
        metrics["grad2_Linv"].append(float(np.mean(np.einsum("ri,ri->r", g, np.linalg.solve(L_bar, g.T).T))))
        metrics["dist2_L"].append(float(np.mean(np.einsum("ri,ij,rj->r", e, L_bar, e))))
    return {"iters": rec.tolist(), **{m: v[-1] for m, v in metrics.items()}, "x_mean": xs[-1].mean(axis=0).tolist()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("problem", help="dense problem NPZ (arrays L, b)")
    ap.add_argument("--gamma", type=float, required=True)
    ap.add_argument("--iters", type=int, required=True)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    with np.load(args.problem, allow_pickle=False) as z:
        L = z["L"].astype(float)
        b = z["b"].astype(float) if "b" in z.files else np.zeros(L.shape[:2])
    print(json.dumps(dense_run(L, b, args.gamma, args.iters, args.runs, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
