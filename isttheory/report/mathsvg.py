"""Formulas in ``report.html``: matplotlib mathtext rendered to inline SVG, offline (glyphs as paths).

The figures draw the same mathtext strings (:mod:`isttheory.labels`), so a formula reads the same in a figure
and in the report. Text with ``$…$`` segments (a figure caption) or a whole TeX statement (a lemma's claim)
becomes escaped HTML with one ``<svg>`` per formula; a formula mathtext cannot parse is shown as its TeX
source in ``<code>``, never dropped.
"""

from __future__ import annotations

import io
import re
from html import escape

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.mathtext import MathTextParser

FONT_SIZE = 11.0
_TEX_FIXES = ((r"\le ", r"\leq "), (r"\ge ", r"\geq "), (r"\tfrac", r"\frac"), (r"\dfrac", r"\frac"))
"""TeX spellings mathtext lacks, replaced by the ones it has."""


class MathRenderer:
    """Renders formulas of one HTML page; every SVG gets its own id prefix (ids stay unique on the page)."""

    def __init__(self, prefix: str = "m") -> None:
        self.prefix = prefix
        self.count = 0

    def svg(self, tex: str) -> str:
        """``tex`` (no ``$``) as an inline ``<svg>`` aligned on the text baseline; raises ``ValueError`` when
        mathtext cannot parse it."""
        src = tex
        for old, new in _TEX_FIXES:
            src = src.replace(old, new)
        src = re.sub(r"\\le(?![a-zA-Z])", r"\\leq", src)
        src = re.sub(r"\\ge(?![a-zA-Z])", r"\\geq", src)
        prop = FontProperties(size=FONT_SIZE)
        dpi = 72.0
        try:
            width, height, depth, _, _ = MathTextParser("path").parse(f"${src}$", dpi=dpi, prop=prop)
        except Exception as exc:  # pyparsing's ParseFatalException and mathtext's ValueError
            raise ValueError(f"mathtext cannot render {tex!r}: {exc}") from None
        fig = Figure(figsize=(width / dpi, height / dpi))
        fig.text(0, depth / height, f"${src}$", fontproperties=prop)
        buf = io.BytesIO()
        with rc_context({"svg.fonttype": "path", "svg.hashsalt": "isttheory"}):
            fig.savefig(buf, dpi=dpi, format="svg", transparent=True, metadata={"Date": None, "Creator": None})
        text = buf.getvalue().decode()
        text = text[text.index("<svg"):]
        self.count += 1
        uid = f"{self.prefix}{self.count}-"
        text = re.sub(r'id="([^"]+)"', rf'id="{uid}\1"', text)
        text = re.sub(r'href="#([^"]+)"', rf'href="#{uid}\1"', text)
        text = re.sub(r"url\(#([^)]+)\)", rf"url(#{uid}\1)", text)
        text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
        text = re.sub(r"<title>.*?</title>", "", text, flags=re.S)
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)  # mathtext's TeX source, kept in aria-label
        style = f'class="math" role="img" aria-label="{escape(tex)}" style="vertical-align:-{depth:.2f}pt" '
        return text.replace("<svg ", "<svg " + style, 1).strip()

    def formula(self, tex: str) -> str:
        """One formula as HTML: its SVG, or its TeX source in ``<code>`` when mathtext cannot parse it."""
        try:
            return self.svg(tex)
        except ValueError:
            return f"<code>{escape(tex)}</code>"

    def text(self, s: str) -> str:
        """Text with ``$…$`` formulas as HTML (plain segments escaped); a string with a backslash and no
        ``$`` is taken as one formula (a lemma's TeX statement)."""
        if "$" not in s:
            return self.formula(s) if "\\" in s else escape(s)
        parts = s.split("$")
        if len(parts) % 2 == 0:  # an unmatched $: not a formula
            return escape(s)
        return "".join(self.formula(p) if i % 2 else escape(p) for i, p in enumerate(parts))


def plain(s: str) -> str:
    """A ``$…$`` label for plain-text output (markdown alt text, logs): the dollar signs dropped."""
    return s.replace("$", "")
