"""Notebook 09 (check a lemma) fails when a constant of the true bound it checks is changed.

The notebook reads the corrected Theorem 2 from ``isttheory/lemmas/paper/lemma_thm2-corrected.toml``
(``CORRECTED_FILE = paper_lemma_path("thm2-corrected")``). Each mutant writes a copy of that file with one
constant of the statement changed, points a temporary copy of the notebook's script at it, and runs the
script with ``python``: it must exit non-zero on the notebook's own assertion (SURVIVED expected), while
the unmodified script passes. The notebook itself is executed by nbmake.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "notebooks" / "09_check_a_lemma.py"
LEMMA = ROOT / "isttheory" / "lemmas" / "paper" / "lemma_thm2-corrected.toml"
POINTER = 'CORRECTED_FILE = paper_lemma_path("thm2-corrected")'
STATEMENT = "avg_grad2_Linv(K) <= 2*(E_f(0) - E_f(K))/(gamma*K) + h_norm2_L + gamma*sigma2"

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="notebook 09 not written")


def _run(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120)


def _script_reading(tmp_path: Path, lemma_file: Path) -> Path:
    text = SCRIPT.read_text(encoding="utf-8")
    assert text.count(POINTER) == 1, "the notebook must read the corrected Theorem 2 from its lemma file"
    script = tmp_path / "nb09.py"
    script.write_text(text.replace(POINTER, f"CORRECTED_FILE = {str(lemma_file)!r}"), encoding="utf-8")
    return script


def test_unmodified_script_passes(tmp_path):
    """The control: the same substitution, pointing at an unchanged copy of the lemma file."""
    copy = tmp_path / "thm2-copy.toml"
    copy.write_text(LEMMA.read_text(encoding="utf-8"), encoding="utf-8")
    done = _run(_script_reading(tmp_path, copy))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "thm2-corrected: SURVIVED (100 instances tried" in done.stdout
    assert "perm1-limit-at-most-bias: REFUTED" in done.stdout and "thm2-printed: REFUTED" in done.stdout


@pytest.mark.parametrize(("old", "new"), [
    ("+ h_norm2_L +", "+ 0.5*h_norm2_L +"),      # half the bias term
    ("2*(E_f(0) - E_f(K))", "1.9*(E_f(0) - E_f(K))"),   # a smaller optimisation term
], ids=["half-bias", "descent-1.9"])
def test_changing_a_constant_of_the_true_bound_fails_the_notebook(tmp_path, old, new):
    text = LEMMA.read_text(encoding="utf-8")
    assert tomllib.loads(text)["statement"] == STATEMENT, "lemma_thm2-corrected.toml changed: update this test"
    assert text.count(old) == 1
    mutant = tmp_path / "thm2-mutant.toml"
    mutant.write_text(text.replace(old, new), encoding="utf-8")
    assert tomllib.loads(mutant.read_text(encoding="utf-8"))["statement"] == STATEMENT.replace(old, new)

    done = _run(_script_reading(tmp_path, mutant))
    assert done.returncode != 0, "the notebook passed with a wrong constant in Theorem 2:\n" + done.stdout[-2000:]
    assert "AssertionError: thm2-corrected: expected SURVIVED" in done.stderr, done.stderr[-4000:]
    assert new in done.stderr   # the summary in the message shows the mutated statement
