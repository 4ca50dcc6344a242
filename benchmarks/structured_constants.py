"""The whole ``isttheory constants`` command on a structured (diagonal plus low rank) NPZ, per sketch.

Case: ``generators.low_rank_diagonal(n, n, 0.5, seed=0, shared_rank=2)`` written by ``io.write_problem``
(at n = d = 10^4 a 1.6 GB file), then ``python -m isttheory constants FILE --sketch S --json`` for
precond-perm, perm and scaled-perm, timed from process start to the JSON on standard output (wall clock and
the child's CPU seconds, user + sys), against the same command on an n = d = 64 file measured in the same
run. The best of ``--reps`` runs is reported (the machine may be shared). ``run_all.py`` includes it (the
10^4 file takes about a minute to write, once: it is kept in the temporary folder).

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


def _problem_file(n: int, given: str | None = None) -> Path:
    path = Path(given) if given else Path(tempfile.gettempdir()) / f"isttheory_lrd_{n}.npz"
    if not path.exists():
        # D, b in memory plus the NPZ bytes written from memory: about 4 n² doubles
        check_fits(4 * 8 * n * n, f"writing a structured problem file with n = d = {n}")
        io.write_problem(path, generators.low_rank_diagonal(n, n, 0.5, seed=0, shared_rank=2))
    return path


REFERENCE_N = 64
"""The reference: the same command on an n = d = 64 file (start-up, imports, reading and validating a file,
the same code path), so the ratio is what the size costs."""


def section(n: int = 10_000, reps: int = 3, given: str | None = None,
            sketches: tuple[str, ...] = SKETCHES) -> list[str]:
    """Markdown lines for BENCHMARKS.md: each sketch's whole command at n = d = ``n`` against the same command
    at n = d = 64, timed in the same run."""
    path, small = _problem_file(n, given), _problem_file(REFERENCE_N)
    lines = [f"## `isttheory constants` on a structured problem file at n = d = {n} (whole command)", "",
             "`isttheory constants FILE --sketch S --json` from process start to the JSON, best of "
             f"{reps}; reference: the same command on an n = d = {REFERENCE_N} file in the same run (start-up, "
             "imports, reading and validating a file). Before issue 16 `constants` refused structured files; "
             "a dense L at this size would need n·d²·8 bytes.", "",
             "| sketch | wall s | CPU s | reference wall s (n = d = 64) | wall / reference |", "|---|---|---|---|---|"]
    for s in sketches:
        cmd = [sys.executable, "-m", "isttheory", "constants", "{}", "--sketch", s, "--json"]
        wall, cpu = best([c.format(path) for c in cmd], reps)
        ref, _ = best([c.format(small) for c in cmd], reps)
        lines.append(f"| {s} | {wall:.2f} | {cpu:.2f} | {ref:.2f} | {wall / ref:.1f}× |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="n = d (default 10^4)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--file", default=None, help="the NPZ to use; written first when it does not exist")
    args = ap.parse_args(argv)
    print("\n".join(section(args.n, args.reps, args.file)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
