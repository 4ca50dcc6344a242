"""The linters run with the tests: ``ruff check`` on the code, tests, notebooks and scripts, and ``mypy`` on
``isttheory/`` with the project's configuration (``[tool.mypy]`` in pyproject.toml: ``strict``, with
``warn_return_any`` off because NumPy and SymPy return Any, and two per-module relaxations for untyped
third-party classes, each with its reason there). Skipped, with the reason, where a tool is not installed
(both are in the ``test`` extra)."""

from __future__ import annotations

import shutil
import subprocess
import sys
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


def test_mypy_is_clean() -> None:
    pytest.importorskip("mypy")
    done = _run(sys.executable, "-m", "mypy", "isttheory")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "strict = true" in text  # the configuration this test runs is the strict one
