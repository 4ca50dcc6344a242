"""Speedup of the fast index-form simulator over the dense oracle (tests/oracle.py).

Both run the same method on the same draws. The fast simulator is timed on
the full workload (R runs × K iterations); the oracle, which costs O(n d²) per
run-iteration with explicit d×d matrices, is timed on a few run-iterations of
the same instance and the comparison is per run-iteration:

    speedup = (oracle seconds / run-iteration) / (fast seconds / run-iteration)

Run:  python benchmarks/simulate.py            (the issue's sizes)
      python benchmarks/simulate.py --quick    (tiny sizes, a smoke test)
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from isttheory import generators  # noqa: E402
from isttheory.simulate import simulate  # noqa: E402
from isttheory.sketches import Permutation  # noqa: E402
from tests.oracle import dense_trajectories  # noqa: E402


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def case(name: str, n: int, d: int, runs: int, iters: int, oracle_runs: int, oracle_iters: int,
         repeat: int = 3) -> dict:
    problem = generators.heterogeneous_structured(n, d, 0.5, seed=0)
    sketch = Permutation(n, d)
    gamma = 0.5 / (n * float(np.max(problem.D)))  # stable: effective step is γ n (L_i)_jj
    # correctness on the oracle's workload: identical trajectories
    ref = dense_trajectories(problem, sketch, gamma, oracle_iters, runs=oracle_runs, seed=1)
    fast_small = simulate(problem, sketch, gamma, oracle_iters, runs=oracle_runs, seed=1,
                          record=[oracle_iters])
    assert not fast_small.diverged
    err = float(np.abs(fast_small.x_mean[-1] - ref[:, -1].mean(axis=0)).max())
    t_oracle = _best(lambda: dense_trajectories(problem, sketch, gamma, oracle_iters, runs=oracle_runs, seed=1), 1)
    t_fast = _best(lambda: simulate(problem, sketch, gamma, iters, runs=runs, seed=1, record=[0, iters]), repeat)
    per_oracle = t_oracle / (oracle_runs * oracle_iters)
    per_fast = t_fast / (runs * iters)
    return dict(name=name, n=n, d=d, runs=runs, iters=iters, fast_s=t_fast, oracle_s=t_oracle,
                oracle_work=f"{oracle_runs}x{oracle_iters}", per_fast=per_fast, per_oracle=per_oracle,
                speedup=per_oracle / per_fast, max_err=err)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    args = ap.parse_args(argv)
    if args.quick:
        cases = [case("Perm-1 heterogeneous", 16, 16, 8, 10, 2, 3, 1),
                 case("Perm-q q=4 heterogeneous", 8, 32, 8, 10, 2, 3, 1)]
    else:
        cases = [case("Perm-1 heterogeneous", 256, 256, 64, 100, 4, 5),
                 case("Perm-q q=4 heterogeneous", 256, 1024, 64, 100, 2, 2)]
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}, "
          f"NumPy {np.__version__}")
    head = ("case", "n", "d", "R x K", "fast s", "oracle s (R x K)", "fast us/run-it", "oracle us/run-it",
            "speedup", "max |diff|")
    print(" | ".join(head))
    for c in cases:
        print(" | ".join([c["name"], str(c["n"]), str(c["d"]), f"{c['runs']}x{c['iters']}", f"{c['fast_s']:.3f}",
                          f"{c['oracle_s']:.2f} ({c['oracle_work']})", f"{1e6 * c['per_fast']:.2f}",
                          f"{1e6 * c['per_oracle']:.0f}", f"{c['speedup']:.0f}x", f"{c['max_err']:.1e}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
