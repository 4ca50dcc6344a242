"""Parallel efficiency of a sweep on 2 Dask workers against 1 (LocalCluster), and where the rest goes.

The grid's cells each take about a second or more (Monte Carlo only, ``max_d = 0``). For ``w`` workers:

    efficiency = T(1) / (2 · T(2))          (1 = perfect; T = wall time of ``run_sweep``, start-up included)

and T(w) is split into: cluster start-up and shut-down (a ``dask_client`` opened and closed with no
task, timed alone), compute (the cells' own wall times from the stream's provenance, summed per
worker: ``busy`` is the busiest worker), imbalance (busiest minus the mean busy worker time: the
last cells leave a worker idle) and the rest (scheduling, transfers, writing the stream, the final
results file and figure).

Run:  python benchmarks/sweep.py            (8 cells of 1.8 s to 5 s each, by the machine and its load)
      python benchmarks/sweep.py --quick    (tiny cells, a smoke test)
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from isttheory.sweep import parse_spec, run_sweep  # noqa: E402
from isttheory.sweep.runner import dask_client  # noqa: E402

SPEC = """
[sweep]
seed = 2
[grid]
generator = "heterogeneous"
heterogeneity = [0.3, 0.7]
n = 8
d = 8
sketch = "precond-perm"
gamma = [0.2, 0.4, 0.6, 0.8]
[monte_carlo]
runs = {runs}
iters = 400
[exact]
max_d = 0
"""


def _startup(workers: int) -> float:
    t = time.perf_counter()
    with dask_client(None, workers):
        pass
    return time.perf_counter() - t


def efficiency(runs: int = 6000) -> dict:
    """Time the same sweep on 1 and on 2 local workers; efficiency and the split of each wall time."""
    spec = parse_spec(SPEC.format(runs=runs))
    out: dict = {"cells": len(spec.cells), "runs": runs}
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        for w in (1, 2):
            startup = _startup(w)
            t = time.perf_counter()
            run_sweep(spec, Path(tmp) / str(w), workers=w)
            wall = time.perf_counter() - t
            prov = [json.loads(line)["provenance"] for line in (Path(tmp) / str(w) / "cells.jsonl").read_text()
                    .splitlines()]
            busy: dict[int, float] = {}
            for p in prov:
                busy[p["pid"]] = busy.get(p["pid"], 0.0) + p["elapsed_s"]
            per_worker = list(busy.values()) + [0.0] * (w - len(busy))
            most, mean = max(per_worker), sum(per_worker) / w
            out[w] = {"wall_s": wall, "startup_s": startup, "compute_s": sum(per_worker), "busiest_s": most,
                      "imbalance_s": most - mean, "rest_s": wall - startup - most,
                      "cell_s": sum(per_worker) / len(prov)}
        out["identical"] = (Path(tmp) / "1" / "results.jsonl").read_bytes() == \
            (Path(tmp) / "2" / "results.jsonl").read_bytes()
    out["efficiency"] = out[1]["wall_s"] / (2 * out[2]["wall_s"])
    out["efficiency_without_startup"] = (out[1]["wall_s"] - out[1]["startup_s"]) / (
        2 * (out[2]["wall_s"] - out[2]["startup_s"]))
    out["compute_ratio"] = out[2]["compute_s"] / out[1]["compute_s"]  # > 1: two processes slow each other down
    return out


def section(quick: bool) -> list[str]:
    """Markdown lines for BENCHMARKS.md."""
    e = efficiency(300 if quick else 6000)
    lines = ["## Sweep on Dask: parallel efficiency, 2 workers against 1 (LocalCluster)", "",
             f"{e['cells']} cells of about {e[1]['cell_s']:.2f} s each (1 worker); efficiency T(1)/(2·T(2)) = "
             f"{e['efficiency']:.2f} ({e['efficiency_without_startup']:.2f} without cluster start-up); the cells "
             f"took {e['compute_ratio']:.2f}× as long on 2 workers as on 1; results identical: {e['identical']}.", "",
             "| workers | wall s | start-up s | compute s (sum) | busiest worker s | imbalance s | rest s |",
             "|---|---|---|---|---|---|---|"]
    for w in (1, 2):
        r = e[w]
        lines.append(f"| {w} | {r['wall_s']:.1f} | {r['startup_s']:.1f} | {r['compute_s']:.1f} | {r['busiest_s']:.1f} "
                     f"| {r['imbalance_s']:.1f} | {r['rest_s']:.1f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny cells (a smoke test)")
    args = parser.parse_args(argv)
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print("\n".join(section(args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
