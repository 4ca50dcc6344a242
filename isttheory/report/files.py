"""Report files. Every file is written atomically (temp file, then rename), so an
interrupted run leaves either the previous file or the new one, never half of one.

``results.json`` schema (version 1)::

    {"schema": "isttheory.results/1",
     "settings": {"fast": bool, "seed": int},
     "instances": [{"name", "n", "d", "description"}],
     "findings": [{"claim", "instance", "variant", "verdict", "method", "numbers", "message", "seconds"}],
     "summary": {"VERIFIED": int, "REFUTED": int, "CORRECTED": int, "INCONCLUSIVE": int},
     "unexpected": int}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..io import atomic_write_bytes
from .table import format_numbers


def write_results(out_dir: str | Path, payload: dict[str, Any]) -> list[Path]:
    """Write ``results.json`` and ``report.md`` into ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = out / "results.json"
    atomic_write_bytes(res, json.dumps(payload, indent=2, allow_nan=False).encode())
    md = out / "report.md"
    atomic_write_bytes(md, render_markdown(payload).encode())
    return [res, md]


def render_markdown(payload: dict[str, Any]) -> str:
    lines = ["# isttheory verification report", ""]
    s = payload["summary"]
    lines.append("Verdicts: " + ", ".join(f"{k} {v}" for k, v in s.items()) +
                 f"; unexpected refutations: {payload['unexpected']}.")
    lines += ["", "## Instances", "", "| name | n | d | description |", "|---|---|---|---|"]
    for inst in payload["instances"]:
        lines.append(f"| {inst['name']} | {inst['n']} | {inst['d']} | {inst['description']} |")
    lines += ["", "## Findings", "", "| claim | instance | variant | verdict | numbers | method | note |",
              "|---|---|---|---|---|---|---|"]
    for f in payload["findings"]:
        lines.append(f"| {f['claim']} | {f['instance']} | {f['variant']} | {f['verdict']} | "
                     f"{format_numbers(f['numbers'], 6)} | {f['method']} | {f['message']} |")
    return "\n".join(lines) + "\n"
