"""Time of the exact second-moment dynamics (structured, no d²×d² operator) against d.

Run: python benchmarks/dynamics.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from isttheory import generators  # noqa: E402
from isttheory.dynamics import ExactDynamics  # noqa: E402
from isttheory.sketches import Permutation  # noqa: E402


def case(n: int, d: int, iters: int) -> dict[str, float]:
    p = generators.heterogeneous_structured(n, d, 0.5, seed=0)
    dyn = ExactDynamics(p, Permutation(n, d), 1.0)
    gamma = 0.5 / float(np.linalg.eigvalsh(dyn.moments.expected_B)[-1])  # a stable step: γ λ_max(E[B̄]) = ½
    dyn = ExactDynamics(p, Permutation(n, d), gamma)
    t = time.perf_counter()
    dyn.run(iters)
    t_run = time.perf_counter() - t
    t = time.perf_counter()
    rate = dyn.ms_rate
    t_rate = time.perf_counter() - t
    t = time.perf_counter()
    lim = dyn.limit_metrics
    t_lim = time.perf_counter() - t
    return {"n": n, "d": d, "iters": iters, "run_s": t_run, "rate_s": t_rate, "limit_s": t_lim, "ms_rate": rate,
            "limit": float("nan") if lim is None else lim["dist2_L"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    sizes = [(4, 16), (8, 32)] if args.quick else [(4, 16), (8, 32), (16, 64), (64, 64), (32, 128)]
    print("| n | d | K | run s | ms-rate s | limit s | ms rate |")
    print("|---|---|---|---|---|---|---|")
    for n, d in sizes:
        c = case(n, d, 20 if args.quick else 100)
        print(f"| {c['n']} | {c['d']} | {c['iters']} | {c['run_s']:.2f} | {c['rate_s']:.2f} | {c['limit_s']:.2f} | "
              f"{c['ms_rate']:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
