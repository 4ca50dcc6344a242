"""The linters run with the tests: ``ruff check`` on the code, tests, notebooks and scripts, and the literal
``mypy --strict isttheory`` (with ``[tool.mypy]`` in pyproject.toml: ``strict = true`` and no global relaxation,
only two per-module relaxations for untyped third-party classes, each with its reason there; per-module options
apply under ``--strict`` too, so the test also pins that list). Skipped, with the reason, where a tool is not
installed (both are in the ``test`` extra)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed")
def test_ruff_is_clean() -> None:
    done = _run("ruff", "check", "isttheory", "tests", "notebooks", "proofs", "checks", "benchmarks", "mutation",
                "examples")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


ALLOWED_RELAXATIONS = {
    ("isttheory.lemmas.expr", "disallow_subclassing_any"),  # subclasses SymPy's untyped Symbol/Function/Expr
    ("isttheory.sweep.runner", "disallow_untyped_calls"),  # dask.distributed is untyped
}


def test_mypy_is_clean() -> None:
    pytest.importorskip("mypy")
    done = _run(sys.executable, "-m", "mypy", "--strict", "isttheory")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["strict"] is True  # a plain `mypy isttheory` is strict as well
    overrides = config.pop("overrides", [])
    assert [k for k, v in config.items() if v is False] == []  # no global relaxation of --strict
    modules = [([o["module"]] if isinstance(o["module"], str) else o["module"], o) for o in overrides]
    relaxed = {(m, k) for names, o in modules for m in names for k, v in o.items() if v is False}
    assert relaxed <= ALLOWED_RELAXATIONS, relaxed - ALLOWED_RELAXATIONS  # per-module options beat --strict
