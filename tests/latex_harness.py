"""Compile a LaTeX document as a reader would (pdflatex, twice for references) and list what is wrong with it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")

PAGES = re.compile(r"Output written on \S+\.pdf \((\d+) pages?")


def compile_tex(folder: Path, name: str, tex: str, passes: int = 2) -> tuple[int, str, list[str]]:
    """``(pages, log, problems)`` of ``pdflatex`` run ``passes`` times on ``tex`` in ``folder``: problems are a
    failed run, an undefined control sequence, any LaTeX error or warning (an undefined reference, a float too
    large, ...) and a bitmap (Type 3) font generated on the fly; pages is 0 when no PDF was written."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.tex").write_text(tex)
    problems: list[str] = []
    for _ in range(passes):
        proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                              cwd=folder, capture_output=True, text=True, timeout=180)
        if proc.returncode != 0:
            problems.append(f"pdflatex exited {proc.returncode}")
            break
    log = (folder / f"{name}.log").read_text(errors="replace")
    problems += re.findall(r"Undefined control sequence.*", log)
    problems += re.findall(r"LaTeX (?:Error|Warning): .*", log)
    problems += re.findall(r"Package \w+ (?:Error|Warning): .*", log)
    problems += re.findall(r"\S+\.\d+pk", log)  # mktexpk ran: a font without an outline version
    m = PAGES.search(log)
    return (int(m.group(1)) if m else 0), log, problems
