"""Interrupting ``verify --out`` leaves no half-written file: Ctrl-C (SIGINT) while it writes reports.

Every file in the output folder is then either absent or complete (JSON parses, PNG ends
with its IEND chunk, text files are the finished ones), and no temporary file remains.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli_harness import ISTTHEORY


def _complete(path: Path) -> bool:
    data = path.read_bytes()
    if path.suffix == ".json":
        json.loads(data)
        return True
    if path.suffix == ".png":
        return data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82")
    if path.suffix == ".html":
        return data.rstrip().endswith(b"</html>")
    return len(data) > 0


@pytest.mark.skipif(ISTTHEORY is None, reason="console script not installed")
def test_ctrl_c_during_verify_out_leaves_only_complete_files(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    # a background job inherits SIGINT ignored (and Python then keeps ignoring it): restore the default,
    # as an interactive shell gives a foreground command
    proc = subprocess.Popen([ISTTHEORY, "verify", "--out", "out", "--quiet"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    out = tmp_path / "out"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:  # wait until it is writing its files
        if out.exists() and any(out.rglob("*.png")):
            break
        time.sleep(0.02)
    assert proc.poll() is None, "verify finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["isttheory: interrupted"]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.startswith(".") or p.suffix == ".tmp"], files
    for p in files:
        assert _complete(p), p


def test_a_swallowed_ctrl_c_still_ends_the_run_as_interrupted(monkeypatch, tmp_path, capsys):
    """A KeyboardInterrupt eaten by a finaliser (or any ``except``) is recorded: no further file is
    written and the CLI exits 130 with one line, not 0."""
    from isttheory import cli, interrupts
    from isttheory.io import atomic_write_bytes

    old_handler, old_hook = signal.getsignal(signal.SIGINT), sys.unraisablehook
    written = []

    def swallowing_command(args):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs here and raises
        except KeyboardInterrupt:
            pass  # what a weakref callback does with it
        try:
            atomic_write_bytes(tmp_path / "late.json", b"{}")
            written.append(1)
        except KeyboardInterrupt:
            pass
        return 0

    monkeypatch.setitem(cli.COMMANDS, "sketches", swallowing_command)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even if pytest runs in background
    try:
        assert cli.main(["sketches"]) == 130
    finally:
        signal.signal(signal.SIGINT, old_handler)
        sys.unraisablehook = old_hook
        interrupts.reset()
    assert not written and not (tmp_path / "late.json").exists()
    assert capsys.readouterr().err.strip() == "isttheory: interrupted"
