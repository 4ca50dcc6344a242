#!/usr/bin/env python
r"""Mutation testing of the mathematical modules with cosmic-ray; regenerates MUTATION.md.

    pip install -e ".[mutation]"          # cosmic-ray (not part of the test extra: CI never runs this)
    python mutation/run.py                # every module below, then MUTATION.md
    python mutation/run.py --modules stats constants
    python mutation/run.py --report-only  # MUTATION.md from mutation/results.json, no tool run

What it does, per module (one cosmic-ray session each, sequential, one worker):

1. copies the repository (``git archive HEAD`` by default, ``--worktree`` for the files on disk) to a
   temporary directory, so the checkout is never modified;
2. ``cosmic-ray init`` on the module's files, keeps only the mathematical operators of :data:`OPERATORS`
   (every other work item is marked skipped) and, if the module has more than ``--sample`` mutants,
   a seeded sample of that size (the first N of a ``random.Random(f"{seed}:{module}")`` shuffle of the
   mutants sorted by file, position, operator and occurrence: the same source gives the same sample);
3. runs the module's test selection on the unmutated copy (tests that already fail there are
   deselected and reported), sets the per-mutant timeout to ``max(--min-timeout, 4 × that time)``;
4. ``cosmic-ray exec``: each mutant is written into the copy and the selection runs as
   ``python -m pytest -x -q -rfE -p no:cacheprovider`` (no bytecode written, Hypothesis derandomised
   with no example database, so reruns agree);
5. stores the per-mutant outcomes in ``mutation/results.json`` and writes MUTATION.md from it and from
   ``mutation/equivalent.toml`` (the argued-equivalent survivors).

The survivors of the earlier manual campaign (:data:`MANUAL`) are replayed as textual mutants on every run
of their module, outside the sample.

``--reuse FILE…`` carries over the *killed* outcomes of earlier results files for mutants that are
identical (same file content, operator, occurrence) and reruns only the rest: adding tests can only kill
more, so this measures "after new tests" without rerunning what was already killed. How the report in
MUTATION.md was produced (a before-run without the new tests, then reruns of its survivors):

    python mutation/run.py --modules constants stats moments dynamics sketches symbolic vocabulary \
        --exclude-tests tests/test_mutation_kills.py --results mutation/results-before.json --no-report
    python mutation/run.py --modules constants stats moments dynamics sketches symbolic vocabulary \
        --reuse mutation/results.json mutation/results-before.json --before mutation/results-before.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "mutation" / "results.json"
EQUIVALENT = ROOT / "mutation" / "equivalent.toml"
NOTES = ROOT / "mutation" / "notes.md"  # appended verbatim to MUTATION.md (tool choice, findings)
REPORT = ROOT / "MUTATION.md"
NEW_TESTS = "tests/test_mutation_kills.py"

# Mathematical operators only: numbers (module and class constants included), arithmetic, comparisons,
# unary minus. One mutant per site for operators (the boundary shift for order comparisons, the negation
# for equality, + ↔ −, × ↔ ÷, ** → ×); NumberReplacer gives two (the literal ± 1).
OPERATORS = (
    "core/NumberReplacer",
    "core/ReplaceBinaryOperator_Add_Sub",
    "core/ReplaceBinaryOperator_Sub_Add",
    "core/ReplaceBinaryOperator_Mul_Div",
    "core/ReplaceBinaryOperator_Div_Mul",
    "core/ReplaceBinaryOperator_Pow_Mul",
    "core/ReplaceComparisonOperator_Lt_LtE",
    "core/ReplaceComparisonOperator_LtE_Lt",
    "core/ReplaceComparisonOperator_Gt_GtE",
    "core/ReplaceComparisonOperator_GtE_Gt",
    "core/ReplaceComparisonOperator_Eq_NotEq",
    "core/ReplaceComparisonOperator_NotEq_Eq",
    "core/ReplaceUnaryOperator_USub_UAdd",
)


@dataclass(frozen=True)
class Module:
    """A unit of mutation: the files mutated and the tests run against each mutant (in this order)."""

    name: str
    paths: tuple[str, ...]
    tests: tuple[str, ...]
    k: str | None = None  # a pytest -k expression narrowing the selection


_FAST = "tests/test_moment_speed.py"
MODULES: tuple[Module, ...] = (
    Module("constants", ("isttheory/constants.py",), (NEW_TESTS, "tests/test_constants.py")),
    Module("stats", ("isttheory/stats.py",), (NEW_TESTS, "checks/check_family.py")),
    Module("moments", ("isttheory/moments.py",),
           (_FAST, "tests/test_constants.py", "tests/test_dynamics.py", NEW_TESTS)),
    Module("dynamics", ("isttheory/dynamics.py",), ("tests/test_dynamics.py", "tests/test_region.py", NEW_TESTS)),
    Module("sketches", ("isttheory/sketches",), ("tests/test_sketches.py", _FAST, NEW_TESTS)),
    Module("symbolic", ("isttheory/symbolic", "isttheory/fixedpoint.py"),
           (_FAST, "tests/test_symbolic.py", "tests/test_fixedpoint.py", NEW_TESTS)),
    Module("vocabulary", ("isttheory/lemmas/vocabulary.py",), ("tests/test_lemmas.py", NEW_TESTS),
           k="vocabulary or float_engine_equals or dynamics_quantity or mutation"),
)


# Survivors of the earlier manual campaign (issue 13), replayed as textual mutants on every run of their module:
# (module, file, original text, mutated text, what it means)
MANUAL: tuple[tuple[str, str, str, str, str], ...] = (
    ("stats", "isttheory/stats.py", "p_values[i] <= alpha / (m - rank)", "p_values[i] <= alpha",
     "Holm's level α/(m − rank) replaced by α (no multiplicity correction)"),
    ("constants", "isttheory/constants.py", "cross_check_rtol: float = 1e-6", "cross_check_rtol: float = 1e-1",
     "the SDP/eigen cross-check tolerance loosened from 1e-6 to 1e-1"),
)


def run_manual(module: Module, copy: Path, deselect: Sequence[str]) -> list[dict[str, Any]]:
    """Apply each manual mutant of ``module`` to the copy, run its selection, restore the file."""
    out: list[dict[str, Any]] = []
    for name, file, old, new, meaning in MANUAL:
        if name != module.name:
            continue
        path = copy / file
        original = path.read_text()
        if original.count(old) != 1:
            out.append({"file": file, "mutation": f"{old}  →  {new}", "meaning": meaning, "outcome": "not found"})
            continue
        line = original[: original.index(old)].count("\n") + 1
        try:
            path.write_text(original.replace(old, new))
            res = subprocess.run(pytest_args(module, deselect), cwd=copy, env=env_for(copy), capture_output=True,
                                 text=True)
        finally:
            path.write_text(original)
        killer = _failing(res.stdout)
        out.append({"file": file, "line": line, "mutation": f"{old}  →  {new}", "meaning": meaning,
                    "outcome": "survived" if res.returncode == 0 else "killed",
                    "killed_by": killer[0] if killer else None})
    return out


def derivation_modules(root: Path) -> list[Module]:
    """One module per derivation file, tested by its proof file (``base.py``/``__init__.py``: all proofs)."""
    out = []
    for f in sorted((root / "isttheory" / "derivations").glob("*.py")):
        proof = root / "proofs" / f"proof_{f.stem}.py"
        tests: tuple[str, ...] = (f"proofs/{proof.name}",) if proof.exists() else ("proofs",)
        if f.stem == "__init__":  # the package registers the derivations for `isttheory verify`
            tests = (f"{NEW_TESTS}::test_every_derivation_module_is_discovered", *tests)
        out.append(Module(f"derivations.{f.stem}", (f"isttheory/derivations/{f.name}",), tests))
    return out


def all_modules(root: Path) -> list[Module]:
    return [*MODULES, *derivation_modules(root)]


def select(names: Sequence[str] | None, root: Path) -> list[Module]:
    mods = all_modules(root)
    if not names:
        return mods
    out = [m for m in mods if m.name in names or any(m.name.startswith(n + ".") for n in names)]
    unknown = [n for n in names if not any(m.name == n or m.name.startswith(n + ".") for m in mods)]
    if unknown:
        raise SystemExit(f"unknown module(s) {unknown}; known: {[m.name for m in mods]}")
    return out


# ---------------------------------------------------------------------------------------------- the copy

HYPOTHESIS_CONFTEST = '''\
# written by mutation/run.py into the temporary copy only: reruns of a mutant must agree
from hypothesis import settings

settings.register_profile("mutation", database=None, derandomize=True, deadline=None, print_blob=False)
settings.load_profile("mutation")
'''


def make_copy(dest: Path, worktree: bool, overlay: Sequence[str] = ()) -> str:
    """Copy the repository to ``dest``, then the ``overlay`` files from the working tree over it; return a
    description of the source (commit, dirty or not, overlaid files)."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    if worktree:
        keep = ("isttheory", "tests", "proofs", "checks", "pyproject.toml")
        for name in keep:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            elif src.exists():
                shutil.copy2(src, dest / name)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", *keep], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
        source = f"working tree at {head[:12]}" + (" (with uncommitted changes)" if dirty else "")
    else:
        archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        source = f"commit {head[:12]}"
    for rel in overlay:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    if overlay:
        source += " with the working tree's " + ", ".join(f"`{r}`" for r in overlay)
    conftest = dest / "conftest.py"
    conftest.write_text(HYPOTHESIS_CONFTEST + (conftest.read_text() if conftest.exists() else ""))
    return source


def env_for(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(copy), *[p for p in [env.get("PYTHONPATH")] if p]])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    return env


# checks that MUTATION.md exists: not a test of the mutated code (and absent from a fresh copy)
REPORT_TEST = f"{NEW_TESTS}::test_mutation_report_lists_a_kill_rate_per_module"


def pytest_args(module: Module, deselect: Iterable[str] = (), stop_first: bool = True) -> list[str]:
    if NEW_TESTS in module.tests:
        deselect = [REPORT_TEST, *deselect]
    args = [sys.executable, "-m", "pytest", *(["-x"] if stop_first else []), "-q", "-rfE", "-p", "no:cacheprovider",
            "-o", "addopts=", *module.tests]
    if module.k:
        args += ["-k", module.k]
    for nodeid in deselect:
        args += ["--deselect", nodeid]
    return args


# ---------------------------------------------------------------------------------------------- one module


def _cosmic(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    exe = shutil.which("cosmic-ray") or str(Path(sys.executable).with_name("cosmic-ray"))
    return subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def _dump(db: Path, cwd: Path, env: dict[str, str]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    rows = []
    for line in _cosmic(["dump", str(db)], cwd, env).splitlines():
        if line.strip():
            item, result = json.loads(line)
            rows.append((item, result))
    return rows


def _key(spec: dict[str, Any]) -> tuple[str, int, int, str, int]:
    return (spec["module_path"], spec["start_pos"][0], spec["start_pos"][1], spec["operator_name"],
            spec["occurrence"])


def _file_hashes(copy: Path, paths: Iterable[str]) -> dict[str, str]:
    out = {}
    for p in paths:
        base = copy / p
        for f in sorted(base.rglob("*.py")) if base.is_dir() else [base]:
            out[str(f.relative_to(copy))] = hashlib.sha256(f.read_bytes()).hexdigest()[:16]
    return out


def _failing(output: str) -> list[str]:
    return sorted({m.group(1) for m in re.finditer(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", output, re.M)})


def _mutation_text(diff: str | None) -> str:
    if not diff:
        return ""
    minus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return f"{' / '.join(minus)}  →  {' / '.join(plus)}"


def run_module(module: Module, copy: Path, args: argparse.Namespace, reuse: dict[str, Any]) -> dict[str, Any]:
    env = env_for(copy)
    work = copy / ".mutation"
    work.mkdir(exist_ok=True)
    started = time.monotonic()

    # baseline: the selection on the unmutated copy; tests failing there are deselected
    t0 = time.monotonic()
    base = subprocess.run(pytest_args(module), cwd=copy, env=env, capture_output=True, text=True)
    baseline = time.monotonic() - t0
    deselect: list[str] = []
    if base.returncode not in (0, 5):  # collect every failure at once, deselect them, time the rest
        full = subprocess.run(pytest_args(module, stop_first=False), cwd=copy, env=env, capture_output=True,
                              text=True)
        deselect = _failing(full.stdout)
        if not deselect:
            raise SystemExit(f"{module.name}: baseline failed without a failing test:\n{full.stdout[-3000:]}")
        t0 = time.monotonic()
        base = subprocess.run(pytest_args(module, deselect), cwd=copy, env=env, capture_output=True, text=True)
        baseline = time.monotonic() - t0
        if base.returncode not in (0, 5):
            raise SystemExit(f"{module.name}: baseline still fails after deselecting {deselect}:\n"
                             f"{base.stdout[-3000:]}")
    timeout = max(args.min_timeout, 4 * baseline)

    config = work / f"{module.name}.toml"
    db = work / f"{module.name}.sqlite"
    test_command = shlex.join(pytest_args(module, deselect))
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(list(module.paths))}\n"
        f"timeout = {timeout:.1f}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(test_command)}\n"
        "[cosmic-ray.distributor]\nname = \"local\"\n"
    )
    _cosmic(["init", str(config), str(db)], copy, env)

    rows = _dump(db, copy, env)
    specs = {item["job_id"]: item["mutations"][0] for item, _ in rows}
    candidates = sorted((_key(s), job) for job, s in specs.items() if s["operator_name"] in OPERATORS)
    total_math = len(candidates)
    chosen = candidates
    if args.sample and len(candidates) > args.sample:
        # a seeded shuffle, then a prefix: a smaller sample is a subset of a larger one
        shuffled = list(candidates)
        random.Random(f"{args.seed}:{module.name}").shuffle(shuffled)
        chosen = sorted(shuffled[: args.sample])
    chosen_jobs = {job for _, job in chosen}

    hashes = _file_hashes(copy, module.paths)
    reused: dict[str, dict[str, Any]] = {}
    prev = {(m["file"], m["line"], m["col"], m["operator"], m["occurrence"]): m
            for m in reuse.get("modules", {}).get(module.name, {}).get("mutants", [])
            if m["outcome"] in ("killed", "timeout")
            and reuse["modules"][module.name].get("file_hashes", {}).get(m["file"]) == hashes.get(m["file"])}
    for (file, line, col, op, occ), job in chosen:
        key = (file, line, col, op.removeprefix("core/"), occ)
        if key in prev:
            reused[job] = prev[key]

    skip = [job for job in specs if job not in chosen_jobs or job in reused]
    if skip:
        _mark_skipped(db, skip)

    t_exec = time.monotonic()
    if len(chosen_jobs) > len(reused):
        _cosmic(["exec", str(config), str(db)], copy, env)
    exec_seconds = time.monotonic() - t_exec

    mutants = []
    for item, result in _dump(db, copy, env):
        job = item["job_id"]
        if job not in chosen_jobs:
            continue
        spec = item["mutations"][0]
        file, line, col, op, occ = _key(spec)
        if job in reused:
            m = dict(reused[job])
            m["reused"] = True
            mutants.append(m)
            continue
        assert result is not None, f"no result for {job}"
        output = result.get("output") or ""
        if result.get("worker_outcome") == "no-test":
            outcome = "no-test"
        elif result.get("test_outcome") == "killed":
            outcome = "timeout" if output.strip() == "timeout" else "killed"
        elif result.get("test_outcome") == "survived":
            outcome = "survived"
        else:
            outcome = "incompetent"
        killer = _failing(output)
        mutants.append({"file": file, "line": line, "col": col, "operator": op.removeprefix("core/"),
                        "occurrence": occ, "mutation": _mutation_text(result.get("diff")), "outcome": outcome,
                        "killed_by": killer[0] if (killer and outcome == "killed") else None, "reused": False})
    mutants.sort(key=lambda m: (m["file"], m["line"], m["col"], m["operator"], m["occurrence"]))
    # keep the operator names as stored by earlier runs (reused entries already dropped "core/")
    for m in mutants:
        m["operator"] = m["operator"].removeprefix("core/")
    manual = run_manual(module, copy, deselect)
    ran = sum(not m["reused"] for m in mutants)
    # earlier runs of this sample whose results were carried over (not the before-run, reported apart)
    src = reuse.get("modules", {}).get(module.name)
    prior: list[dict[str, float]] = []
    if reused and src and (args.before is None or src.get("source_file") != str(args.before.resolve())):
        prior = [{"ran": src["ran"], "exec_seconds": src["exec_seconds"], "total_seconds": src["total_seconds"]},
                 *src.get("prior_runs", [])]
    return {
        "manual": manual,
        "prior_runs": prior,
        "paths": list(module.paths), "tests": list(module.tests), "k": module.k, "deselected": deselect,
        "file_hashes": hashes, "mathematical_mutants": total_math, "sampled": len(chosen),
        "sample_limit": args.sample, "seed": args.seed,
        "timeout_seconds": round(timeout, 1), "baseline_seconds": round(baseline, 2),
        "exec_seconds": round(exec_seconds, 1), "ran": ran,
        "seconds_per_mutant": round(exec_seconds / ran, 2) if ran else None,
        "total_seconds": round(time.monotonic() - started, 1), "mutants": mutants,
    }


def _mark_skipped(db: Path, jobs: list[str]) -> None:
    """Mark work items skipped (what cosmic-ray's own cr-filter-operators does), in the tool's own API."""
    from cosmic_ray.work_db import WorkDB, use_db  # type: ignore[import-not-found,unused-ignore]
    from cosmic_ray.work_item import WorkerOutcome, WorkResult  # type: ignore[import-not-found,unused-ignore]

    with use_db(str(db), WorkDB.Mode.open) as work_db:
        work_db.set_multiple_results(jobs, WorkResult(output="not selected (operator or sample)",
                                                      worker_outcome=WorkerOutcome.SKIPPED))


# ---------------------------------------------------------------------------------------------- the report


def counts(mutants: list[dict[str, Any]]) -> dict[str, int]:
    c = {k: sum(m["outcome"] == k for m in mutants) for k in ("killed", "timeout", "survived", "incompetent",
                                                               "no-test")}
    c["total"] = len(mutants)
    return c


def rate(c: dict[str, int]) -> float | None:
    judged = c["killed"] + c["timeout"] + c["survived"]
    return (c["killed"] + c["timeout"]) / judged if judged else None


def load_equivalent() -> list[dict[str, Any]]:
    if not EQUIVALENT.exists():
        return []
    return list(tomllib.loads(EQUIVALENT.read_text())["equivalent"])


def find_equivalent(m: dict[str, Any], eq: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(status, reason) of a survivor from equivalent.toml: status "equivalent", or "open" with a note."""
    for e in eq:
        if e["file"] == m["file"] and e["line"] == m["line"] and e["operator"] == m["operator"] \
                and e.get("occurrence", m["occurrence"]) == m["occurrence"]:
            return str(e.get("status", "equivalent")), str(e["reason"])
    return None


def _pct(r: float | None) -> str:
    return "—" if r is None else f"{100 * r:.1f}%"


def write_report(data: dict[str, Any]) -> str:
    eq = load_equivalent()
    mods: dict[str, Any] = data["modules"]
    before: dict[str, Any] = data.get("before", {})
    lines = [
        "# Mutation testing of the mathematical modules",
        "",
        "Generated by `python mutation/run.py` (do not edit by hand: edit `mutation/equivalent.toml` for",
        "equivalence arguments and rerun with `--report-only`). Not part of the test run: CI does not",
        "install the `mutation` extra.",
        "",
        f"* **Tool**: {data['tool']}; one worker, sequential; each module in its own session on a temporary",
        f"  copy of the repository (last run: {data['source']}, {data['date']}; each module's copy is in",
        "  `mutation/results.json`, and an outcome carried over from an earlier run needs the same file content).",
        f"* **Last command**: `{data['command']}` (all the runs behind this report: at the end).",
        "* **Operators** (mathematical only; every other cosmic-ray operator is skipped): "
        + ", ".join(f"`{o.removeprefix('core/')}`" for o in OPERATORS) + ". `NumberReplacer` turns each",
        "  numeric literal `c` into `c + 1` and `c − 1` (module and class constants included, e.g. a default",
        "  tolerance); the others make one mutant per operator site.",
        "* **Sample**: a module with more mathematical mutants than its limit "
        f"({_limits(mods, data.get('sample'))}) is sampled",
        f"  (seed `{data['seed']}`: a seeded shuffle of the mutants sorted by file, position, operator and",
        "  occurrence, then its first N — the same source gives the same sample, and a smaller sample is a",
        "  subset of a larger one); the columns say how many mathematical mutants there are and how many ran.",
        "* **Tests per mutant**: the module's selection below, `pytest -x -q -rfE -p no:cacheprovider`, Hypothesis",
        "  derandomised with no example database; per-mutant timeout `max(30 s, 4 × the unmutated run)`.",
        "  A timeout counts as killed (the tests did not pass) and is listed in its own column.",
        "* **Kill rate** = (killed + timeouts) / (killed + timeouts + survived).",
        "",
        "## Per module",
        "",
        "| module | tests | math mutants | sampled | killed | timeouts | survived | kill rate | before new tests "
        "| mutant runs | s / mutant run | total s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    groups: dict[str, dict[str, Any]] = {}  # "overall" (the named modules), "derivations overall"
    for name in sorted(mods, key=_order):
        r = mods[name]
        c = counts(r["mutants"])
        g = groups.setdefault("derivations overall" if "." in name else "overall",
                              {"c": {}, "b": {}, "ex": 0.0, "nr": 0, "tot": 0.0})
        for k, v in c.items():
            g["c"][k] = g["c"].get(k, 0) + v
        bt = before.get(name)
        b = bt["counts"] if bt else None
        if b is not None:
            for k, v in b.items():
                g["b"][k] = g["b"].get(k, 0) + v
        # time: every run of this sample (the before-run and the run of this file), exec time per mutant run
        runs = [r, *r.get("prior_runs", []), *([bt] if bt else [])]
        ex = sum(x["exec_seconds"] for x in runs)
        nr = sum(x["ran"] for x in runs)
        tot = sum(x["total_seconds"] for x in runs)
        tests = ", ".join(f"`{t}`" for t in r["tests"]) + (f" `-k '{r['k']}'`" if r.get("k") else "")
        if r["deselected"]:
            tests += f" (deselected, failing unmutated: {len(r['deselected'])})"
        g["ex"] += ex
        g["nr"] += nr
        g["tot"] += tot
        spm = f"{ex / nr:.1f}" if nr else "—"
        lines.append(
            f"| {name} | {tests} | {r['mathematical_mutants']} | {r['sampled']} | {c['killed']} | {c['timeout']} "
            f"| {c['survived']} | **{_pct(rate(c))}** | {_pct(rate(b)) if b else '—'} | {nr} | {spm} "
            f"| {tot:.0f} |")
    for label, g in groups.items():
        c, b = g["c"], g["b"]
        lines.append(
            f"| **{label}** | | | {c['total']} | {c['killed']} | {c['timeout']} | {c['survived']} "
            f"| **{_pct(rate(c))}** | {_pct(rate(b)) if b else '—'} | {g['nr']} | "
            f"{g['ex'] / g['nr'] if g['nr'] else 0:.1f} | {g['tot']:.0f} |")
    lines += [
        "",
        "\"before new tests\" is the kill rate of the same mutants with the test selection minus",
        f"`{NEW_TESTS}` (a run with `--exclude-tests {NEW_TESTS}`, kept in `mutation/results-before.json`).",
        "\"mutant runs\" counts every execution of the test selection against a mutant, in that before-run and",
        "in the run(s) after it (which, with `--reuse`, rerun only the mutants not already killed, with the new",
        "tests); \"s / mutant run\" is the wall time of `cosmic-ray exec` divided by those runs, on a 2-core",
        "machine shared with other work (load 3–5); \"total s\" adds the baseline runs and session setup.",
        "",
    ]
    deselected = [(n, d) for n in sorted(mods, key=_order) for d in mods[n]["deselected"]]
    if deselected:
        lines += ["Tests deselected because they fail on the *unmutated* code at the time of the run (not a",
                  "mutation result; they belong to work in progress elsewhere):", ""]
        lines += [f"* {n}: `{d}`" for n, d in deselected] + [""]

    # survivors of the existing suite, and what became of them
    killed_new = [(n, m) for n in sorted(mods, key=_order) for m in mods[n]["mutants"]
                  if m["outcome"] == "killed" and m.get("killed_by") and m["killed_by"].startswith(NEW_TESTS)]
    lines += ["## Survivors of the existing tests killed by new tests", ""]
    lines += _md_table(["module", "where", "operator", "mutation", "killed by"],
                       [[n, f"`{m['file']}:{m['line']}`", m["operator"], f"`{_md(m['mutation'])}`",
                         f"`{m['killed_by']}`"] for n, m in killed_new], "None in this run.")
    manual = [(n, m) for n in sorted(mods, key=_order) for m in mods[n].get("manual", [])]
    lines += ["", "## Survivors of the earlier manual campaign, replayed", "",
              "Applied as textual mutants to a fresh copy on each run of their module (`MANUAL` in",
              "`mutation/run.py`), outside the sample:", ""]
    lines += _md_table(["module", "where", "mutant", "outcome", "killed by"],
                       [[n, f"`{m['file']}:{m.get('line', '?')}`", f"{_md(m['meaning'])}: `{_md(m['mutation'])}`",
                         m["outcome"], f"`{m.get('killed_by') or '—'}`"] for n, m in manual],
                       "Not run in this report's modules.")
    lines += ["", "## Remaining survivors", ""]
    surv = [(n, m) for n in sorted(mods, key=_order) for m in mods[n]["mutants"] if m["outcome"] == "survived"]
    if not surv:
        lines.append("None.")
    else:
        lines += ["Each is either argued equivalent (one line; from `mutation/equivalent.toml`) or **OPEN**.", "",
                  "| module | where | operator | mutation | status |", "| --- | --- | --- | --- | --- |"]
        n_open = 0
        for n, m in surv:
            found = find_equivalent(m, eq)
            is_open = found is None or found[0] == "open"
            n_open += is_open
            if found is None:
                status = "**OPEN**"
            else:
                status = f"**OPEN**: {found[1]}" if is_open else f"equivalent: {found[1]}"
            lines.append(f"| {n} | `{m['file']}:{m['line']}` | {m['operator']} | `{_md(m['mutation'])}` "
                         f"| {_md(status)} |")
        lines += ["", f"{len(surv)} survivors: {len(surv) - n_open} argued equivalent, {n_open} OPEN."]
    other = [(n, m) for n in sorted(mods, key=_order) for m in mods[n]["mutants"]
             if m["outcome"] in ("incompetent", "no-test")]
    if other:
        lines += ["", "## Mutants the tool could not judge", ""]
        lines += [f"* {n}: `{m['file']}:{m['line']}` {m['operator']} ({m['outcome']})" for n, m in other]
    if NOTES.exists():
        lines += ["", NOTES.read_text().rstrip()]
    return "\n".join(lines) + "\n"


def _limits(mods: dict[str, Any], default: Any) -> str:
    by: dict[str, list[str]] = {}
    for name in sorted(mods, key=_order):
        lim = mods[name].get("sample_limit", default)
        by.setdefault("all" if not lim else str(lim), []).append(name.split(".")[0])
    return "; ".join(f"{lim}: " + ", ".join(dict.fromkeys(names)) for lim, names in by.items())


def _md_table(header: list[str], rows: list[list[str]], empty: str) -> list[str]:
    """A Markdown table of ``rows`` under ``header``, or the one line ``empty`` when there are none."""
    if not rows:
        return [empty]
    return (["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
            + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("`", "'")


def _order(name: str) -> tuple[int, str]:
    names = [m.name for m in MODULES]
    return (names.index(name), "") if name in names else (len(names), name)


# ---------------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modules", nargs="+", metavar="NAME",
                    help="modules to run (default: all); 'derivations' means every derivations.* module")
    ap.add_argument("--sample", type=int, default=30,
                    help="at most this many mutants per module, a seeded sample (0: all) [30]")
    ap.add_argument("--seed", default="0", help="seed of the sample [0]")
    ap.add_argument("--min-timeout", type=float, default=30.0, help="least per-mutant timeout in seconds [30]")
    ap.add_argument("--worktree", action="store_true", help="copy the files on disk instead of HEAD")
    ap.add_argument("--with", dest="overlay", nargs="*", default=[], metavar="PATH",
                    help="copy these files from the working tree over the HEAD copy (e.g. uncommitted tests)")
    ap.add_argument("--exclude-tests", nargs="*", default=[], metavar="PATH",
                    help="drop these test files from every selection (e.g. the new tests, for a before-run)")
    ap.add_argument("--results", type=Path, default=RESULTS, help="results file to update [mutation/results.json]")
    ap.add_argument("--reuse", type=Path, nargs="+", default=[],
                    help="carry over killed outcomes of identical mutants from these results files")
    ap.add_argument("--before", type=Path,
                    help="a results file of the same mutants without the new tests: its kill rates are shown")
    ap.add_argument("--report-only", action="store_true", help="only rewrite MUTATION.md from the results file")
    ap.add_argument("--no-report", action="store_true", help="do not rewrite MUTATION.md")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy (its path is printed)")
    args = ap.parse_args(argv)

    data: dict[str, Any] = json.loads(args.results.read_text()) if args.results.exists() else {"modules": {}}
    if not args.report_only:
        from importlib.metadata import version

        import cosmic_ray  # noqa: F401  (fail early with a clear message when the extra is missing)

        reuse: dict[str, Any] = {"modules": {}}
        for f in reversed(args.reuse):  # the first file named wins for a module
            for name, entry in json.loads(f.read_text())["modules"].items():
                reuse["modules"][name] = dict(entry, source_file=str(f.resolve()))
        tmp = Path(tempfile.mkdtemp(prefix="ist-mutation-"))
        try:
            data["source"] = make_copy(tmp, args.worktree, args.overlay)
            mods = select(args.modules, tmp)
            if args.exclude_tests:
                mods = [Module(m.name, m.paths,
                               tuple(t for t in m.tests if t.split("::")[0] not in args.exclude_tests), m.k)
                        for m in mods]
            # a selection names only test files present in the copy (the new tests may not be committed yet)
            mods = [Module(m.name, m.paths, tuple(t for t in m.tests if (tmp / t.split("::")[0]).exists()), m.k)
                    for m in mods]
            for m in mods:
                if not m.tests:
                    raise SystemExit(f"{m.name}: no tests left in its selection")
                print(f"[mutation] {m.name}: {', '.join(m.paths)} against {' '.join(m.tests)}", flush=True)
                r = run_module(m, tmp, args, reuse)
                r["source"] = data["source"]
                data["modules"][m.name] = r
                c = counts(r["mutants"])
                print(f"[mutation] {m.name}: {c['killed']} killed, {c['timeout']} timeouts, {c['survived']} "
                      f"survived of {r['sampled']} run ({r['mathematical_mutants']} mathematical mutants); "
                      f"{r['seconds_per_mutant']} s/mutant, {r['total_seconds']} s", flush=True)
                args.results.parent.mkdir(parents=True, exist_ok=True)
                data.update(tool=f"cosmic-ray {version('cosmic-ray')}", sample=args.sample, seed=args.seed,
                            date=datetime.now(UTC).strftime("%Y-%m-%d"),
                            command=shlex.join(["python", "mutation/run.py",
                                                *(sys.argv[1:] if argv is None else argv)]))
                args.results.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        finally:
            if args.keep:
                print(f"[mutation] copy kept at {tmp}")
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    if args.before and args.before.exists():
        b = json.loads(args.before.read_text())
        data["before"] = {n: {"counts": counts(r["mutants"]), "exec_seconds": r["exec_seconds"], "ran": r["ran"],
                              "total_seconds": r["total_seconds"]}
                          for n, r in b["modules"].items() if n in data["modules"]}
        args.results.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    if not args.no_report and data["modules"]:
        REPORT.write_text(write_report(data))
        print(f"[mutation] wrote {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
