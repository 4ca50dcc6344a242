"""Speedup of the fast index-form simulator over the dense oracle (tests/oracle.py).

Both run the same method on the same draws. The fast simulator is timed on
the full workload (R runs × K iterations); the oracle, which costs O(n d²) per
run-iteration with explicit d×d matrices, is timed on a few run-iterations of
the same instance and the comparison is per run-iteration:

    speedup = (oracle seconds / run-iteration) / (fast seconds / run-iteration)

The whole command (:func:`whole_command`) is measured as users run it, from process start to the JSON on
standard output: ``python -m isttheory simulate FILE.npz --sketch perm --gamma G --iters K --runs R --seed 1
--json`` on a dense heterogeneous problem file (problem validation, metric records and imports included),
against ``benchmarks/dense_simulator.py`` — a plain dense NumPy simulator of the same run, explicit d×d
matrices — as a process on the same file, in the same run; their final means must agree to
:data:`WHOLE_RTOL`.

Run:  python benchmarks/simulate.py            (the issue's sizes)
      python benchmarks/simulate.py --quick    (tiny sizes, a smoke test)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from isttheory import generators  # noqa: E402
from isttheory.io import write_problem  # noqa: E402
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


WHOLE_RTOL = 1e-9
"""The command's final metric means and ``x`` mean must agree with the dense simulator's to this (relative to
``max(1, |value|)``); both take the same draws, so they differ by round-off only."""


def _timed(cmd: list[str]) -> tuple[float, str]:
    """Wall seconds of a process from start to exit (its output read to the end), and its standard output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    return time.perf_counter() - t, proc.stdout


def whole_command(n: int, d: int, runs: int, iters: int, repeat: int = 3) -> dict:
    """The whole ``isttheory simulate … --json`` process against the dense simulator's process, same file and
    run (Perm-1, ``n = d``, seed 1, the 101 default records). Median of ``repeat`` command runs; the dense one
    runs once (it is the slow side: one run more would not move the ratio's order)."""
    problem = generators.heterogeneous_structured(n, d, 0.5, seed=0)
    gamma = 0.5 / (n * float(problem.D.max()))
    with tempfile.TemporaryDirectory(prefix="sim-whole-") as tmp:
        path = Path(tmp) / f"heterogeneous_{n}x{d}.npz"
        write_problem(path, problem)
        args = ["--gamma", repr(gamma), "--iters", str(iters), "--runs", str(runs), "--seed", "1"]
        cli = [sys.executable, "-m", "isttheory", "simulate", str(path), "--sketch", "perm", *args, "--json"]
        dense = [sys.executable, str(ROOT / "benchmarks" / "dense_simulator.py"), str(path), *args]
        cli_times, out = [], ""
        for _ in range(repeat):
            t, out = _timed(cli)
            cli_times.append(t)
        t_dense, dense_out = _timed(dense)
    got, ref = json.loads(out), json.loads(dense_out)
    assert got["iters"] == ref["iters"] and not got["diverged"]
    pairs = [(got[m]["mean"][-1], ref[m]) for m in ("f", "grad2", "grad2_Linv", "dist2_L")]
    pairs += list(zip(got["x_mean"][-1], ref["x_mean"], strict=True))
    err = max(abs(a - b) / max(1.0, abs(b)) for a, b in pairs)
    assert err <= WHOLE_RTOL, f"the command and the dense simulator disagree: {err:.2e}"
    t_cli = statistics.median(cli_times)
    return dict(case=f"Perm-1 heterogeneous, d = n = {d}, R = {runs}, K = {iters}", n=n, d=d, runs=runs,
                iters=iters, gamma=gamma, cli_s=t_cli, cli_min_s=min(cli_times), cli_max_s=max(cli_times),
                dense_s=t_dense, ratio=t_dense / t_cli, max_rel_diff=err,
                command="isttheory simulate FILE.npz --sketch perm --gamma G --iters K --runs R --seed 1 --json")


def whole_command_lines(w: dict, kernel: dict) -> list[str]:
    """Markdown: the whole command against the dense simulator, and the kernel's ratio beside it."""
    return ["| case | command s (median; min–max) | dense simulator s | whole command speedup | kernel speedup "
            "(same sizes, per run-iteration) | max rel. diff |", "|---|---|---|---|---|---|",
            f"| {w['case']} | {w['cli_s']:.2f} ({w['cli_min_s']:.2f}–{w['cli_max_s']:.2f}) | {w['dense_s']:.1f} | "
            f"{w['ratio']:.0f}× | {kernel['speedup']:.0f}× | {w['max_rel_diff']:.1e} |"]


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
    w = whole_command(16, 16, 4, 10, 1) if args.quick else whole_command(256, 256, 64, 100)
    print("\nWhole command (process start to JSON out) vs a dense NumPy simulator process (same run):")
    print("\n".join(whole_command_lines(w, cases[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
