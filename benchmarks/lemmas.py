"""Lemma checks: time to a certified counterexample for each printed-wrong claim of the paper, and the
search's instances per second.

1. **Time to refute**, measured on the whole command as a user runs it, from process start to the JSON on
   standard output: ``python -m isttheory check FILE --json --seed S --out TMP`` (default budget), for
   several seeds. The in-run reference is a trivial command of the same process kind,
   ``python -m isttheory check --vocabulary`` (same interpreter, same imports, no search), run before each
   round of seeds, so start-up cost and search are told apart. Each certificate is also read back from
   ``counterexample.meta.json`` and its exact ``L_i`` are tested for singularity (exact rational
   determinants): a certificate on a singular ``L_i`` is counted separately.
2. **Instances per second** of ``Lemma.check(max_instances=N)`` on true lemmas at d ≤ 6 (nothing to
   certify, so the whole run is search), against the in-run reference of one bare float evaluation,
   :func:`isttheory.lemmas.evaluate_point`, timed per call on the first stage-1 instances of the same
   seed (the instances the search itself draws first). Their ratio is the search's overhead per instance
   (sampling, bookkeeping, Nelder–Mead).

Run:  python benchmarks/lemmas.py            (5 seeds, 400 instances)
      python benchmarks/lemmas.py --quick    (1 seed, 10 instances, no warm-up: a smoke test)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from isttheory.lemmas import Lemma, evaluate_point, paper_lemma_path  # noqa: E402

PRINTED_WRONG = (("thm2-printed", "thm2-norm", False), ("eq17-printed", "eq17-heterogeneous", False),
                 ("precond-scale-printed", "precond-scale", True))
"""Lemma file (in ``isttheory/lemmas/paper``), its ERRATA entry, and whether its statement exists only for
positive definite ``L_i`` (the printed scale ``[L_i^{-1/2}]_jj`` of (23)): then a certificate on a singular
``L_i`` is no counterexample."""
GOAL_S = 60.0
TIMEOUT_S = 300.0

PERM_Q_D6 = dict(
    id="thm1-eq16-perm-q-d6", statement="E_dist2_L(K) <= (1 - gamma*rate)**K * E_dist2_L(0)",
    assume=["gamma <= 1/theta"], expect="holds",
    space={"problem": ["interpolation"], "n": [2, 3], "d": 6, "sketch": ["perm"],
           "gamma": {"min": 1e-3, "max": 1.0, "log": True}, "K": {"min": 1, "max": 20},
           "scale": {"min": 1e-2, "max": 1e2, "log": True}})
"""Theorem 1, (16), on Perm-q with d = 6 (q = 3 or 2)."""


def _cli(args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    """Wall seconds of ``python -m isttheory ARGS`` from process start to exit (output read to the end)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "isttheory", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=TIMEOUT_S)
    return time.perf_counter() - t, proc


def _det(rows: list[list[Fraction]]) -> Fraction:
    """Exact determinant (fraction-valued Gaussian elimination)."""
    a = [list(r) for r in rows]
    n, det = len(a), Fraction(1)
    for c in range(n):
        piv = next((r for r in range(c, n) if a[r][c] != 0), None)
        if piv is None:
            return Fraction(0)
        if piv != c:
            a[c], a[piv] = a[piv], a[c]
            det = -det
        det *= a[c][c]
        for r in range(c + 1, n):
            f = a[r][c] / a[c][c]
            if f:
                a[r] = [x - f * y for x, y in zip(a[r], a[c], strict=True)]
    return det


def _singular_L(meta_file: str) -> list[int]:
    """Clients whose exact ``L_i`` in a certificate is singular."""
    meta = json.loads(Path(meta_file).read_text())
    return [i for i, Li in enumerate(meta["L_exact"]) if _det([[Fraction(v) for v in row] for row in Li]) == 0]


def refute_run(lemma_id: str, seed: int, tmp: Path) -> dict:
    """One whole ``isttheory check`` of a printed-wrong paper lemma."""
    path = paper_lemma_path(lemma_id)
    wall, proc = _cli(["check", str(path), "--json", "--seed", str(seed), "--out", str(tmp / f"{lemma_id}-{seed}")])
    run = {"lemma": lemma_id, "seed": seed, "wall_s": wall, "rc": proc.returncode, "verdict": "ERROR",
           "certified": False, "certified_by": "", "search_s": float("nan"), "tried": 0, "singular": [],
           "error": proc.stderr.strip().splitlines()[-1:] if proc.returncode not in (0,) else []}
    try:
        res = json.loads(proc.stdout)["lemmas"][0]
    except (json.JSONDecodeError, KeyError, IndexError):
        return run
    cx = res.get("counterexample") or {}
    run.update(verdict=res["verdict"], certified=bool(cx.get("certified")), certified_by=cx.get("certified_by", ""),
               search_s=res["seconds"], tried=res["instances_tried"], uncertified=res["uncertified"], lhs=cx.get("lhs"),
               worst=(res.get("worst") or {}).get("ratio"))
    if cx.get("file"):
        run["singular"] = _singular_L(str(cx["file"]).removesuffix(".json") + ".meta.json")
    return run


def time_to_refute(seeds: list[int], warm_up: bool = True) -> tuple[list[dict], list[float]]:
    """Every printed-wrong lemma for every seed; one reference command before each round of seeds (after one
    untimed warm-up of it unless ``warm_up`` is false, so the first timed process does not pay for cold
    file caches)."""
    runs, ref = [], []
    if warm_up:
        _cli(["check", "--vocabulary"])  # bytecode and file caches, untimed
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            wall, proc = _cli(["check", "--vocabulary"])
            assert proc.returncode == 0, proc.stderr
            ref.append(wall)
            runs += [refute_run(lid, seed, Path(tmp)) for lid, _, _ in PRINTED_WRONG]
    return runs, ref


def _per_call(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def throughput(lemma: Lemma, d: str, max_instances: int, seed: int = 0, ref_points: int = 10) -> dict:
    """``instances_tried / seconds`` of a search against bare ``evaluate_point`` on the first stage-1 points."""
    lemma.check(seed=seed + 1, max_instances=4)  # warm-up (first-call caches), untimed
    res = lemma.check(seed=seed, max_instances=max_instances)
    points = [lemma.space.sample(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, i))))
              for i in range(ref_points)]
    bare = [_per_call(lambda p=p: evaluate_point(lemma, p)) for p in points]
    per_bare = statistics.fmean(bare)
    per_search = res.seconds / res.instances_tried
    return {"lemma": lemma.id, "d": d, "N": max_instances, "verdict": res.verdict.value, "tried": res.instances_tried,
            "skipped": res.skipped, "uncertified": res.uncertified, "seconds": res.seconds,
            "per_s": res.instances_tried / res.seconds, "bare_ms": 1e3 * per_bare, "bare_per_s": 1 / per_bare,
            "overhead": per_search / per_bare}


def section(quick: bool) -> list[str]:
    """The BENCHMARKS.md section (markdown lines)."""
    seeds = [0] if quick else [0, 1, 2, 3, 4]
    n_inst, n_ref = (10, 3) if quick else (400, 10)
    runs, ref = time_to_refute(seeds, warm_up=not quick)
    ref_med = statistics.median(ref)
    lines = ["## Lemma checks: time to a certified counterexample for each printed-wrong claim", "",
             f"Whole command, process start to JSON out: `isttheory check <file> --json --seed S --out <tmp>` "
             f"(default budget 30 s), seeds {', '.join(map(str, seeds))}. Reference in the same run: "
             f"`isttheory check --vocabulary` (same start-up and imports, no search), median "
             f"{ref_med:.2f} s (min {min(ref):.2f}, max {max(ref):.2f}) over {len(ref)} run(s). Goal: each under "
             f"{GOAL_S:.0f} s. 'singular L_i' counts certificates whose exact L_i include a singular one "
             "(determinant exactly 0): allowed for (30) and (17), which hold their quantities for PSD L_i, but not "
             "for precond-scale-printed, whose printed scale [L_i^(-1/2)]_jj exists only for L_i ≻ 0 (such a "
             "certificate is no counterexample).", "",
             "| lemma (ERRATA) | REFUTED & certified | wall s min / median / max | median wall / reference | "
             "median search s (in-process) | median instances | certified by | singular L_i |",
             "|---|---|---|---|---|---|---|---|"]
    problems = []
    for lid, errata, needs_pd in PRINTED_WRONG:
        rs = [r for r in runs if r["lemma"] == lid]
        walls = [r["wall_s"] for r in rs]
        ok = [r for r in rs if r["verdict"] == "REFUTED" and r["certified"]]
        by = sorted({r["certified_by"] for r in ok})
        sing = [r for r in ok if r["singular"]]
        lines.append(f"| {lid} ({errata}) | {len(ok)}/{len(rs)} | {min(walls):.2f} / {statistics.median(walls):.2f} / "
                     f"{max(walls):.2f} | {statistics.median(walls) / ref_med:.2f} | "
                     f"{statistics.median(r['search_s'] for r in rs):.2f} | "
                     f"{statistics.median(r['tried'] for r in rs):.0f} | {', '.join(by) or '-'} | "
                     f"{len(sing)}/{len(ok)} |")
        for r in rs:
            if r not in ok or r["wall_s"] > GOAL_S:
                problems.append(f"- {lid}, seed {r['seed']}: {r['verdict']}, certified {r['certified']}, "
                                f"{r['wall_s']:.1f} s wall, {r['tried']} instances, exit {r['rc']}"
                                + (f", worst ratio {r.get('worst')}" if r.get("worst") is not None else "")
                                + (f", stderr: {r['error'][0]}" if r["error"] else ""))
            if r["singular"] and needs_pd:
                problems.append(f"- {lid}, seed {r['seed']}: certified (by {r['certified_by']}, lhs = "
                                f"{float(r['lhs']):.3g}) on an instance whose L_i is singular for client(s) "
                                f"{r['singular']} (exact determinant 0), where [L_i^(-1/2)]_jj does not exist")
    if problems:
        lines += ["", "Runs to look at:", *problems]
    thm2 = Lemma.from_toml(paper_lemma_path("thm2-corrected"))
    perm = Lemma.create(**PERM_Q_D6)
    tps = [throughput(thm2, "n = d ∈ 2..4", n_inst, ref_points=n_ref),
           throughput(perm, "6 (n ∈ {2, 3})", n_inst, ref_points=n_ref)]
    lines += ["", "## Lemma search: instances per second (true lemmas, d ≤ 6)", "",
              f"`Lemma.check(seed=0, max_instances={n_inst})`; reference in the same run: one bare float "
              f"`evaluate_point(lemma, point)` per call (best of 3), averaged over the first {n_ref} stage-1 instances "
              "of the same seed. 'overhead' = search seconds per instance / bare seconds per evaluation.", "",
              "| lemma | d | verdict | instances (skipped) | search s | instances/s | bare evaluate_point ms | "
              "bare evaluations/s | overhead |", "|---|---|---|---|---|---|---|---|---|"]
    for t in tps:
        lines.append(f"| {t['lemma']} | {t['d']} | {t['verdict']} | {t['tried']} ({t['skipped']}) | "
                     f"{t['seconds']:.2f} | {t['per_s']:.1f} | {t['bare_ms']:.2f} | {t['bare_per_s']:.1f} | "
                     f"{t['overhead']:.2f}× |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one seed, 10 instances (a smoke test)")
    args = ap.parse_args(argv)
    print("\n".join(section(args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
