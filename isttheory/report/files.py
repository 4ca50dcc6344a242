"""Report files. Every file is written atomically (temp file, then rename), so an
interrupted run leaves either the previous file or the new one, never half of one.

``results.json`` schema (version 1)::

    {"schema": "isttheory.results/1",
     "settings": {"fast": bool, "seed": int},
     "instances": [{"name", "n", "d", "description"}],
     "findings": [{"claim", "instance", "variant", "verdict", "method", "numbers", "message", "seconds"}],
     "summary": {"PROVED": int, "CHECKED": int, "VERIFIED": int, "SURVIVED": int, "REFUTED": int,
                 "CORRECTED": int, "INCONCLUSIVE": int},
     "unexpected": int,
     "paper_claims": [{"id", "equations", "statement", "verdict", "strength", "findings": {verdict: count},
                      "verifiers"}],
     "seconds": float}

``numbers`` of a finding are claim-specific scalars (for ``mc-bounds``: bound, estimate, exact,
tightness, margin, p_value, runs, mc_vs_exact_z). ``errored`` marks a verifier that raised.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..claims.catalogue import verdict_label
from ..io import atomic_write_bytes
from .table import format_numbers


def write_results(out_dir: str | Path, payload: dict[str, Any], figures: list[tuple[str, str]] | None = None,
                  latex: str | None = None) -> list[Path]:
    """Write ``results.json``, ``report.md``, ``report.html`` and (given) ``constants.tex`` into
    ``out_dir``; ``figures`` are ``(caption, file name)`` pairs already written there."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    res = out / "results.json"
    atomic_write_bytes(res, json.dumps(payload, indent=2, allow_nan=False).encode())
    written.append(res)
    md = out / "report.md"
    atomic_write_bytes(md, render_markdown(payload, figures or []).encode())
    written.append(md)
    html = out / "report.html"
    atomic_write_bytes(html, render_html(payload, figures or []).encode())
    written.append(html)
    if latex is not None:
        tex = out / "constants.tex"
        atomic_write_bytes(tex, latex.encode())
        written.append(tex)
    return written


def render_markdown(payload: dict[str, Any], figures: list[tuple[str, str]] | None = None) -> str:
    lines = ["# isttheory verification report", ""]
    s = payload["summary"]
    lines.append("Verdicts: " + ", ".join(f"{k} {v}" for k, v in s.items()) +
                 f"; unexpected refutations: {payload['unexpected']}.")
    lines += ["", "## Claims of the paper", "", "| claim | equations | statement | verdict | findings |",
              "|---|---|---|---|---|"]
    for r in payload.get("paper_claims", []):
        counts = ", ".join(f"{v} {k}" for k, v in r["findings"].items())
        verdict = verdict_label(r["verdict"], r)
        lines.append(f"| {r['id']} | {r['equations']} | {r['statement']} | {verdict} | {counts} |")
    derivations = derivation_rows(payload)
    if derivations:
        lines += ["", "## Derivations", "", "Steps: G general (valid for all values of the symbols), F fixed-size "
                  "(symbolic at stated sizes), N numeric (on instances). PROVED needs every decisive step general; "
                  "otherwise CHECKED.", "", "| derivation | G/F/N | verdict | notes |", "|---|---|---|---|"]
        lines += [f"| {name} | {gfn} | {verdict} | {note} |" for name, gfn, verdict, note in derivations]
    lines += ["", "## Instances", "", "| name | n | d | description |", "|---|---|---|---|"]
    for inst in payload["instances"]:
        lines.append(f"| {inst['name']} | {inst['n']} | {inst['d']} | {inst['description']} |")
    if figures:
        lines += ["", "## Figures", ""]
        for caption, name in figures:
            lines += [f"### {caption}", "", f"![{caption}]({name})", ""]
    lines += ["", "## Findings", "", "| claim | instance | variant | verdict | numbers | method | note |",
              "|---|---|---|---|---|---|---|"]
    for f in payload["findings"]:
        lines.append(f"| {f['claim']} | {f['instance']} | {f['variant']} | {f['verdict']} | "
                     f"{format_numbers(f['numbers'], 6)} | {f['method']} | {f['message']} |")
    return "\n".join(lines) + "\n"


def derivation_rows(payload: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """``(derivation, G/F/N, verdict, notes)`` for each derivation finding of the payload."""
    return [(f["variant"], str(f["numbers"]["G/F/N"]), verdict_label(f["verdict"], f["numbers"]), f["message"])
            for f in payload["findings"] if "G/F/N" in f.get("numbers", {})]


def render_html(payload: dict[str, Any], figures: list[tuple[str, str]]) -> str:
    """A self-contained HTML page: summary, the paper's claims (TeX statements and ``$…$`` formulas in
    captions rendered offline to inline SVG with matplotlib mathtext, as in the figures), figures (linked
    PNGs) and the findings table."""
    from html import escape

    from .mathsvg import MathRenderer, plain

    math = MathRenderer()
    s = payload["summary"]
    rows = "".join(
        f"<tr><td>{escape(f['claim'])}</td><td>{escape(f['instance'])}</td><td>{escape(f['variant'])}</td>"
        f"<td class='{f['verdict']}'>{f['verdict']}</td><td>{escape(format_numbers(f['numbers'], 6))}</td>"
        f"<td>{escape(f['method'])}</td><td>{escape(f['message'])}</td></tr>" for f in payload["findings"])
    figs = "".join(f"<figure><img src='{escape(n)}' alt='{escape(plain(c))}'><figcaption>{math.text(c)}"
                   "</figcaption></figure>" for c, n in figures)
    crows = "".join(
        f"<tr><td>{escape(r['id'])}</td><td>{escape(r['equations'])}</td><td>{math.text(r['statement'])}</td>"
        f"<td class='{escape(r['verdict'])}'>{escape(verdict_label(r['verdict'], r))}</td>"
        f"<td>{escape(', '.join(f'{v} {k}' for k, v in r['findings'].items()))}</td></tr>"
        for r in payload.get("paper_claims", []))
    claims = ("<h2>Claims of the paper</h2><table><tr><th>claim</th><th>equations</th><th>statement</th>"
              f"<th>verdict</th><th>findings</th></tr>{crows}</table>") if crows else ""
    summary = ", ".join(f"{k} {v}" for k, v in s.items())
    drows = "".join(f"<tr><td>{escape(a)}</td><td>{escape(b)}</td><td>{escape(c)}</td><td>{escape(d)}</td></tr>"
                    for a, b, c, d in derivation_rows(payload))
    derivations = ("<h2>Derivations</h2><p>Steps: G general (all values of the symbols) / F fixed-size / N numeric. "
                   "PROVED needs every decisive step general; otherwise CHECKED.</p><table><tr><th>derivation</th>"
                   f"<th>G/F/N</th><th>verdict</th><th>notes</th></tr>{drows}</table>") if drows else ""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>isttheory report</title>
<link rel="icon" href="data:,">
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ccc;padding:3px 6px}}.REFUTED{{color:#b00}}.CORRECTED{{color:#a60}}.VERIFIED{{color:#070}}
.PROVED{{color:#070}}.CHECKED{{color:#270}}
img{{max-width:100%}}svg.math{{display:inline-block}}</style></head><body><h1>isttheory verification report</h1>
<p>Verdicts: {escape(summary)}; unexpected refutations: {payload['unexpected']}.</p>
{claims}{derivations}<h2>Figures</h2>{figs}<h2>Findings</h2><table><tr><th>claim</th><th>instance</th><th>variant</th><th>verdict</th>
<th>numbers</th><th>method</th><th>note</th></tr>{rows}</table></body></html>
"""
