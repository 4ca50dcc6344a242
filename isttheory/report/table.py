"""Plain-text tables for the console."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]], max_width: int = 60) -> str:
    """Left-aligned columns separated by two spaces; cells cut at ``max_width``."""
    cells = [[_cell(c, max_width) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in cells]
    return "\n".join(out)


def _cell(value: object, max_width: int) -> str:
    if isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = str(value)
    return text if len(text) <= max_width else text[: max_width - 1] + "…"


def format_numbers(numbers: Mapping[str, object], limit: int = 3) -> str:
    """``key=value`` for the first ``limit`` numbers of a finding."""
    parts = []
    for k, v in list(numbers.items())[:limit]:
        parts.append(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}")
    return ", ".join(parts)


def finding_cell(finding: Any) -> str:
    """The "key numbers / reason" cell of ``verify``'s table: the numbers of a decided finding; for an
    INCONCLUSIVE or errored one (or one without numbers) its message, the reason, then any numbers."""
    numbers = format_numbers(finding.numbers)
    if finding.verdict.value == "INCONCLUSIVE" or finding.errored or not numbers:
        return "; ".join(t for t in (finding.message, numbers) if t)
    return numbers


def unexpected_line(finding: Any) -> str:
    """``UNEXPECTED: claim on instance [variant]: VERDICT — numbers (method); message``, never an empty
    ``[]`` or a bare verdict: a finding without numbers or message says so."""
    variant = f" [{finding.variant}]" if finding.variant else ""
    numbers = format_numbers(finding.numbers, limit=len(finding.numbers))
    parts = [numbers or "no numbers"]
    if finding.method:
        parts[0] += f" ({finding.method})"
    parts.append(finding.message or "the verifier gave no message")
    return f"UNEXPECTED: {finding.claim_id} on {finding.instance}{variant}: {finding.verdict.value} — " \
           + "; ".join(parts)
