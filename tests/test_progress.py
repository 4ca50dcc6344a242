"""Progress on long commands (issue 17): ``verify``, ``verify --out`` and ``latex`` show a bar on stderr that
names the running claim or figure and counts what remains, only when stderr is a terminal; nothing extra
on a pipe, with ``--json`` or with ``--quiet``. The commands run under a pseudo-terminal, as a user sees them."""

from __future__ import annotations

import os
import pty
import re
import subprocess
from pathlib import Path

import pytest

from isttheory.progress import SilentBar, progress_bar

from .cli_harness import ISTTHEORY

pytestmark = pytest.mark.skipif(ISTTHEORY is None, reason="the isttheory console script is not installed")

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
           PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))  # this checkout's package
FAST = ("--only", "proof:def1")  # one derivation: a second, instead of the whole registry


def under_pty(*args: str, cwd: Path) -> tuple[int, str, str]:
    """Run the console script with stderr on a pseudo-terminal (stdout a pipe); exit code, stdout, stderr."""
    assert ISTTHEORY is not None
    master, slave = pty.openpty()
    proc = subprocess.Popen([ISTTHEORY, *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=slave, env=ENV)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed its end (EIO on Linux)
            break
        if not chunk:
            break
        err += chunk
    out = proc.stdout.read() if proc.stdout else b""
    proc.wait(timeout=300)
    os.close(master)
    return proc.returncode, out.decode(), err.decode(errors="replace").replace("\r", "\n")


def piped(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert ISTTHEORY is not None
    return subprocess.run([ISTTHEORY, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=ENV)


def test_the_bar_is_silent_unless_stderr_is_a_terminal():
    bar = progress_bar(3, True, desc="x")  # pytest captures stderr: not a terminal
    assert isinstance(bar, SilentBar)
    bar.set_postfix_str("anything")
    bar.update(1)
    bar.close()


def test_verify_out_names_each_claim_and_figure_on_a_terminal(tmp_path):
    code, out, err = under_pty("verify", *FAST, "--out", str(tmp_path / "rep"), cwd=tmp_path)
    assert code == 0, (out[-2000:], err[-2000:])
    assert re.search(r"verify:\s+\d+%.*\d+/\d+.*proof:def1", err), err[-2000:]  # the running claim and the count
    for name in ("experiment_1.png", "experiment_3.png", "neighbourhood.png", "bound_checks.png", "logistic.png",
                 "constants.tex"):
        assert re.search(rf"report:\s+\d+%.*\d/8 .*{re.escape(name)}", err), (name, err[-3000:])
    # each step is drawn when it is named (set_postfix_str refreshes); the final 8/8 is drawn only if tqdm's
    # 0.1 s refresh interval has passed since, and the bar then vanishes (leave=False): not asserted
    assert re.search(r"report:\s+\d+%.*7/8 .*report\.html", err), err[-3000:]
    assert "wrote" in out and "wrote" not in err  # the report's lines stay on stdout


def test_latex_names_the_running_step_on_a_terminal(tmp_path):
    code, out, err = under_pty("latex", "--out", str(tmp_path / "m.tex"), cwd=tmp_path)
    assert code == 0, (out[-2000:], err[-2000:])
    assert re.search(r"latex:\s+\d+%.*\d+/(\d+).*proof:theorem2", err), err[-2000:]
    assert re.search(r"latex:\s+\d+%.*\d+/\d+.*macros \(derivations\)", err), err[-2000:]
    assert out == f"wrote {tmp_path / 'm.tex'}\n"


def test_nothing_extra_on_a_pipe_or_with_json_or_quiet(tmp_path):
    plain = piped("verify", *FAST, cwd=tmp_path)
    assert plain.returncode == 0 and plain.stderr == "", plain.stderr
    for flag in ("--json", "--quiet"):
        code, out, err = under_pty("verify", *FAST, flag, cwd=tmp_path)
        assert code == 0 and err.strip() == "", (flag, err)
    code, out, err = under_pty("latex", "--figures", "x", cwd=tmp_path)  # an error: one line, no bar
    assert code == 2 and err.strip().splitlines() == ["isttheory: error: --figures needs --document"], err
