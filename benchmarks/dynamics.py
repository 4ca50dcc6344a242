"""Time of the exact second-moment dynamics (structured, no d²×d² operator) against d.

Case: ``generators.heterogeneous_structured(n, d, 0.5, seed=0)``, Perm-q with ``n = d/4`` (q = 4), form (2),
``γ = ½/λ_max(E[B̄])``. Three engines are timed apart: ``run`` (K exact steps, includes compiling the
structured maps), ``ms-rate`` (:attr:`ExactDynamics.ms_rate`: certified Davidson above d = 20, see
:mod:`isttheory.perron`) and ``limit`` (the Lyapunov solve by GMRES). The growth exponent of each is the
least-squares slope of log(time) against log(d) over the sizes, and the slope between the two largest.

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

SIZES = [(4, 16), (8, 32), (16, 64), (32, 128), (64, 256)]
QUICK_SIZES = [(4, 16), (8, 32), (16, 64)]
ENGINES = ("run", "rate", "limit")
LABELS = {"run": "run", "rate": "ms-rate", "limit": "limit"}


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
    out = {"n": n, "d": d, "iters": iters, "run_s": t_run, "rate_s": t_rate, "limit_s": t_lim, "ms_rate": rate,
           "limit": float("nan") if lim is None else lim["dist2_L"], "width": float("nan"),
           "applications": float("nan")}
    if d * d > 400:  # the bracket of the iterative path (d ≤ 20 is the dense eigen-solve); not timed
        br = dyn.ms_rate_bracket()
        out |= {"width": br.width, "applications": br.applications, "lower": br.lower, "upper": br.upper}
    return out


def growth(rows: list[dict[str, float]], engine: str) -> tuple[float, float]:
    """(least-squares slope of log time on log d over all rows, slope between the two largest d)."""
    ds = np.log([r["d"] for r in rows])
    ts = np.log([max(r[f"{engine}_s"], 1e-6) for r in rows])
    return float(np.polyfit(ds, ts, 1)[0]), float((ts[-1] - ts[-2]) / (ds[-1] - ds[-2]))


def table(rows: list[dict[str, float]]) -> list[str]:
    """Markdown lines: the timing table and one growth line per engine."""
    lines = ["| n | d | K | run s | ms-rate s | limit s | ms rate | bracket width | T applications |",
             "|---|---|---|---|---|---|---|---|---|"]
    for c in rows:
        apps = "dense" if c["applications"] != c["applications"] else f"{int(c['applications'])}"
        width = "—" if c["width"] != c["width"] else f"{c['width']:.1e}"
        lines.append(f"| {c['n']} | {c['d']} | {c['iters']} | {c['run_s']:.2f} | {c['rate_s']:.2f} | "
                     f"{c['limit_s']:.2f} | {c['ms_rate']:.10f} | {width} | {apps} |")
    lines.append("")
    for e in ENGINES:
        whole, local = growth(rows, e)
        lines.append(f"Growth of the {LABELS[e]} time with d (n = d/4): ∝ d^{whole:.2f} (least-squares slope in "
                     f"log–log over all sizes), d^{local:.2f} between the two largest sizes.")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--iters", type=int, default=20)
    args = ap.parse_args(argv)
    case(4, 16, 2)  # warm-up: imports and first compilations outside the timings
    rows = [case(n, d, args.iters) for n, d in (QUICK_SIZES if args.quick else SIZES)]
    print("\n".join(table(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
