"""The whole ``isttheory constants`` command on a structured (diagonal plus low rank) NPZ, per sketch.

Case: ``generators.low_rank_diagonal(n, n, 0.5, seed=0, shared_rank=2)`` written by ``io.write_problem``
(at n = d = 10^4 a 1.6 GB file), then ``python -m isttheory constants FILE --sketch S --json`` for
precond-perm, perm and scaled-perm, timed from process start to the JSON on standard output (wall clock and
the child's CPU seconds, user + sys), against the reference ``python -c 'import isttheory'`` measured in the
same run. The best of ``--reps`` runs is reported (the machine may be shared). Not part of run_all.py (the
file alone takes a minute to write).

Run: python benchmarks/structured_constants.py [--n 10000] [--reps 3] [--file PATH (reused if it exists)]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from isttheory import generators, io  # noqa: E402
from isttheory.resources import check_fits  # noqa: E402

SKETCHES = ("precond-perm", "perm", "scaled-perm")


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall s, CPU s of the child: user + sys) of one process run to completion."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best(cmd: list[str], reps: int) -> tuple[float, float]:
    runs = [timed(cmd) for _ in range(reps)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="n = d (default 10^4)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--file", default=None, help="the NPZ to use; written first when it does not exist")
    args = ap.parse_args(argv)
    n = args.n
    path = Path(args.file) if args.file else Path(tempfile.gettempdir()) / f"isttheory_lrd_{n}.npz"
    if not path.exists():
        # D, b in memory plus the NPZ bytes written from memory: about 4 n² doubles
        check_fits(4 * 8 * n * n, f"writing a structured problem file with n = d = {n}")
        io.write_problem(path, generators.low_rank_diagonal(n, n, 0.5, seed=0, shared_rank=2))
    ref = best([sys.executable, "-c", "import isttheory"], args.reps)
    print(f"| command (n = d = {n}, best of {args.reps}) | wall s | CPU s | wall / reference |")
    print("|---|---|---|---|")
    print(f"| reference: python -c 'import isttheory' | {ref[0]:.2f} | {ref[1]:.2f} | 1 |")
    for s in SKETCHES:
        wall, cpu = best([sys.executable, "-m", "isttheory", "constants", str(path), "--sketch", s, "--json"],
                         args.reps)
        print(f"| constants --sketch {s} --json | {wall:.2f} | {cpu:.2f} | {wall / ref[0]:.0f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
