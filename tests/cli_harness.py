"""Shared by the CLI tests: run the installed console script as a user would, concurrently."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def console_script() -> str | None:
    sibling = Path(sys.executable).parent / "isttheory"
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return str(sibling)
    return shutil.which("isttheory")


ISTTHEORY = console_script()


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the console script; one BLAS thread per process, as the commands run concurrently."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    assert ISTTHEORY is not None
    return subprocess.run([ISTTHEORY, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=env)


def run_concurrently(jobs: dict[str, tuple[str, ...]], order: Iterable[str],
                     cwd: Callable[[str], Path]) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run every job (name -> argv) in ``order`` on a thread pool; name -> CompletedProcess."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {k: pool.submit(run, *jobs[k], cwd=cwd(k)) for k in order}
        return {k: f.result() for k, f in futures.items()}


def _no_nan(token: str) -> float:
    raise AssertionError(f"JSON output holds the non-standard constant {token}")


def loads_strict(text: str):
    """``json.loads`` that rejects NaN and Infinity."""
    return json.loads(text, parse_constant=_no_nan)


def ok(results, name: str) -> subprocess.CompletedProcess[str]:
    proc = results[name]
    assert proc.returncode == 0, (name, proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    return proc


def ok_json(results, name: str):
    return loads_strict(ok(results, name).stdout)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], empty_stdout: bool = False) -> None:
    """A user mistake: exit code 2, exactly one non-empty ``isttheory: error:`` line, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("isttheory: error:")
    assert lines[0].removeprefix("isttheory: error:").strip()
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    if empty_stdout:
        assert proc.stdout == ""
