"""LaTeX of lemma checks (``isttheory check --latex OUT.tex``): for each lemma its id and title, its
statement and hypotheses typeset by SymPy (:func:`isttheory.lemmas.expr.to_latex`), and its verdict —
for REFUTED the certified counterexample (instance, the matrices ``L_i``, ``b_i``, ``x⁰`` in exact
rationals when small, the exact lhs, rhs and margin), for SURVIVED the worst ratio found (never
"verified"), for INAPPLICABLE the reasons the instances were skipped.

:func:`document` is a standalone file (``amsmath``, ``amssymb``, ``geometry``); :func:`fragment` is its
body, to ``\\input`` into a document that loads ``amsmath`` and ``amssymb``.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import LemmaError
from ..lemmas.expr import to_latex
from ..lemmas.lemma import Lemma
from ..lemmas.results import MATRIX_ENTRIES, CheckResult, Counterexample, Outcome, Worst
from ..lemmas.vocabulary import latex_name

PACKAGES = ("amsmath", "amssymb")
"""What :func:`fragment` needs; :func:`document` also loads ``geometry`` for the margins."""
EXACT_DIGITS = 40
"""A rational whose numerator and denominator together have more digits is shown as a decimal."""
SIGNIFICANT = 16
"""Significant digits of a number shown as a decimal."""

_FORMS = {"sgd": "form (2), the SGD-type iteration the paper analyses", "ist": "Algorithm 1, form (6)"}


# ------------------------------------------------------------------------------------------------ text
_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_\allowbreak{}", "^": r"\^{}", "&": r"\&",
            "%": r"\%", "#": r"\#", "$": r"\$", "~": r"\~{}", "<": r"\textless{}", ">": r"\textgreater{}",
            "|": r"\textbar{}"}
_UNICODE = {"‖": r"\ensuremath{\|}", "≤": r"\ensuremath{\le}", "≥": r"\ensuremath{\ge}", "≠": r"\ensuremath{\ne}",
            "≻": r"\ensuremath{\succ}", "⪰": r"\ensuremath{\succeq}", "∞": r"\ensuremath{\infty}",
            "√": r"\ensuremath{\surd}", "−": "-", "–": "--", "—": "---", "·": r"\ensuremath{\cdot}",
            "×": r"\ensuremath{\times}", "…": r"\dots{}", "→": r"\ensuremath{\to}", "↦": r"\ensuremath{\mapsto}",
            "←": r"\ensuremath{\leftarrow}", "ᵀ": r"\ensuremath{^\top}", "∈": r"\ensuremath{\in}",
            "§": r"\ensuremath{\S}",  # math's § (cmsy): text \S is a TS1 glyph, a bitmap font without cm-super
            "∇": r"\ensuremath{\nabla}", "½": r"\ensuremath{\tfrac12}", "∘": r"\ensuremath{\circ}",
            "≈": r"\ensuremath{\approx}", "≲": r"\ensuremath{\lesssim}", "⪯": r"\ensuremath{\preceq}",
            "⇔": r"\ensuremath{\Leftrightarrow}", "⊥": r"\ensuremath{\perp}", "‾": r"\ensuremath{\overline{\ }}",
            "Σ": r"\ensuremath{\Sigma}",
            "’": "'", "‘": "`", "“": "``", "”": "''", "\u00a0": "~"}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉₊₋", "0123456789+-")
_GREEK_CAPITALS = {"GAMMA", "DELTA", "THETA", "LAMBDA", "XI", "PI", "SIGMA", "UPSILON", "PHI", "PSI", "OMEGA"}


def tex_text(text: str) -> str:
    """Plain text for LaTeX: special characters escaped, Greek letters and common symbols as macros, a
    combining macron as ``\\=``; any other non-ASCII character as its code point (pdflatex has no font for
    it)."""
    out: list[str] = []
    for ch in text:
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ord(ch) < 128:
            out.append(ch if ch.isprintable() or ch == " " else " ")
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif ch.translate(_SUPERSCRIPTS) != ch or ch.translate(_SUBSCRIPTS) != ch:
            sup = ch.translate(_SUPERSCRIPTS) != ch
            cmd, c = (r"\textsuperscript", ch.translate(_SUPERSCRIPTS)) if sup else (r"\textsubscript",
                                                                                  ch.translate(_SUBSCRIPTS))
            if out and out[-1].startswith(cmd + "{"):  # one script for a run: L̄⁻¹
                out[-1] = out[-1][:-1] + c + "}"
            else:
                out.append(rf"{cmd}{{{c}}}")
        elif ch == "\u0304" and out:  # combining macron: L̄
            out[-1] = rf"\={{{out[-1]}}}"
        elif ch == "\u0303" and out:  # combining tilde: b̃
            out[-1] = rf"\~{{{out[-1]}}}"
        else:
            out.append(_greek(ch) or rf"\texttt{{[U+{ord(ch):04X}]}}")
    return "".join(out)


def _greek(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    for prefix, capital in (("GREEK SMALL LETTER ", False), ("GREEK CAPITAL LETTER ", True)):
        if name.startswith(prefix):
            letter = name.removeprefix(prefix)
            if " " in letter:
                return None
            if capital:
                return rf"\ensuremath{{\{letter.title()}}}" if letter in _GREEK_CAPITALS else None
            letter = {"FINAL SIGMA": "SIGMA", "OMICRON": "O", "LAMDA": "LAMBDA"}.get(letter, letter)
            return "o" if letter == "O" else rf"\ensuremath{{\{letter.lower()}}}"
    return None


def tex_path(path: str) -> str:
    """A file path in typewriter type, breakable after each ``/``, ``-``, ``_`` and ``.``."""
    return r"\texttt{" + "".join(tex_text(ch) + (r"\allowbreak{}" if ch in "/-." else "") for ch in path) + "}"


# ------------------------------------------------------------------------------------------------ numbers
def _digits(n: int) -> int:
    try:
        return len(str(abs(n)))
    except ValueError:  # more digits than Python prints (sys.get_int_max_str_digits)
        return int(abs(n).bit_length() * 0.30103) + 1


def _decimal(v: Any) -> str:
    """``v`` to :data:`SIGNIFICANT` digits, ``a \\times 10^{k}`` when far from 1."""
    import mpmath

    if isinstance(v, Fraction):
        x = mpmath.mpf(v.numerator) / v.denominator
    else:
        x = mpmath.mpf(v)
    if mpmath.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    if mpmath.isnan(x):
        return r"\mathrm{NaN}"
    if x == 0:
        return "0"
    text: str = mpmath.nstr(x, SIGNIFICANT, min_fixed=-4, max_fixed=7).removesuffix(".0")
    if "e" in text:
        mant, exp = text.split("e")
        return rf"{mant} \times 10^{{{int(exp)}}}"
    return text


def tex_number(v: Any) -> tuple[str, bool]:
    """``(LaTeX, shortened)``: an exact rational as ``\\frac{p}{q}`` (an integer as itself), unless it has more
    than :data:`EXACT_DIGITS` digits; then, and for any other number (mpmath, float), a decimal to
    :data:`SIGNIFICANT` digits. ``shortened``: the value shown is not the exact one."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        v = Fraction(int(v))
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        v = Fraction(int(v))
    if isinstance(v, Fraction):
        if _digits(v.numerator) + _digits(v.denominator) > EXACT_DIGITS:
            return _decimal(v), True
        sign = "-" if v < 0 else ""
        p, q = abs(v.numerator), v.denominator
        return (f"{sign}{p}" if q == 1 else rf"{sign}\frac{{{p}}}{{{q}}}"), False
    return _decimal(v), True


def _equals(v: Any) -> tuple[str, bool]:
    """``= value`` or ``\\approx value`` when it is shortened."""
    tex, short = tex_number(v)
    return (r"\approx " if short else "= ") + tex, short


def _vector(values: Any) -> tuple[str, bool]:
    cells = [tex_number(_rational(v)) for v in np.asarray(values, dtype=object).flat]
    return (r"\begin{pmatrix}" + " & ".join(c for c, _ in cells) + r"\end{pmatrix}^{\!\top}",
            any(s for _, s in cells))


def _matrix(M: Any) -> tuple[str, bool]:
    rows, short = [], False
    for row in np.asarray(M, dtype=object):
        cells = [tex_number(_rational(v)) for v in row]
        short |= any(s for _, s in cells)
        rows.append(" & ".join(c for c, _ in cells))
    return r"\begin{pmatrix}" + r" \\ ".join(rows) + r"\end{pmatrix}", short


def _rational(v: Any) -> Any:
    """A float entry as the exact rational it is (the search's instances hold dyadic rationals)."""
    return Fraction(float(v)) if isinstance(v, (float, np.floating)) and np.isfinite(v) else v


# ------------------------------------------------------------------------------------------------ sections
def _relative(path: str, base: Path | None) -> str:
    if base is None:
        return path
    try:
        return os.path.relpath(Path(path).resolve(), base.resolve())
    except ValueError:  # another drive (Windows)
        return path


def _statement(lemma: Lemma) -> list[str]:
    try:
        lines = [r"\begin{gather*}", to_latex(lemma.statement, latex_name)]
        if lemma.assume:
            lines[-1] += r"\\"
            lines.append(r"\text{if } " + r",\quad ".join(to_latex(a, latex_name) for a in lemma.assume))
    except LemmaError as exc:
        return [rf"\begin{{quote}}\texttt{{{tex_text(str(lemma))}}}\end{{quote}}", f"({tex_text(str(exc))}.)"]
    lines.append(r"\end{gather*}")
    return lines


def _instance_table(point: Any) -> list[str]:
    # a certified instance's step is a rational; a searched one's a float, shown to the digits that identify it
    gamma = tex_number(point.gamma)[0] if isinstance(point.gamma, Fraction) else _decimal(point.gamma)
    rows = [("clients $n$", str(point.n)), ("dimension $d$", str(point.d)),
            ("problem family", tex_text(point.family)), ("sketch", r"\texttt{" + tex_text(point.sketch) + "}"),
            ("form", tex_text(_FORMS.get(point.form, point.form))), ("local steps $t$", str(point.local_steps)),
            (r"step size $\gamma$", f"${gamma}$"), ("iterations $K$", str(point.K))]
    return [r"\begin{center}", r"\begin{tabular}{ll}"] + [f"{k} & {v} \\\\" for k, v in rows] + [
        r"\end{tabular}", r"\end{center}"]


def _meta(file: str) -> str:
    return file[: -len(".json")] + ".meta.json" if file.endswith(".json") else file + ".meta.json"


def _refuted(cx: Counterexample, base: Path | None) -> list[str]:
    p = cx.point
    exact = cx.certified_by == "exact rational"
    how = ("recomputed in exact rational arithmetic" if exact else
           f"recomputed with {tex_text(cx.certified_by)} (the values involve square roots or eigenvalues, so "
           "they are decimals, not rationals)")
    lines = [r"\paragraph{Verdict: REFUTED.} A certified counterexample: the statement fails on this instance, "
             + how + "."] + _instance_table(p)
    entries = p.n * p.d * p.d
    short = False
    if entries <= MATRIX_ENTRIES:
        lines.append(rf"The matrices, exactly ($n d^2 = {entries} \le {MATRIX_ENTRIES}$):")
        lines.append(r"\begin{align*}")
        rows = []
        b = np.asarray(p.b, dtype=object)
        for i, Li in enumerate(p.exact_L(), start=1):
            m, s1 = _matrix(Li)
            v, s2 = _vector(b[i - 1])
            short |= s1 or s2
            rows.append(rf"L_{{{i}}} &= {m}, & b_{{{i}}} &= {v}")
        x0, s3 = _vector(p.x0)
        short |= s3
        rows.append(rf"x^0 &= {x0}")
        lines.append(" \\\\\n".join(rows))
        lines.append(r"\end{align*}")
    else:
        where = (f"in the counterexample file {tex_path(_relative(cx.file, base))} (exact entries in "
                 f"{tex_path(_relative(_meta(cx.file), base))})") if cx.file else "not written (no output folder)"
        lines.append(rf"The matrices $L_i$, $b_i$ and $x^0$ ($n d^2 = {entries} > {MATRIX_ENTRIES}$ entries) are "
                     + where + ".")
    values = []
    for label, v in ((r"\text{lhs}", cx.lhs), (r"\text{rhs}", cx.rhs), (r"\text{lhs} - \text{rhs}", cx.margin)):
        tex, s = _equals(v)
        short |= s
        values.append(f"{label} &{tex}")
    lines += [r"\begin{align*}", " \\\\\n".join(values), r"\end{align*}"]
    if short:
        lines.append(rf"Numbers shown as decimals are shortened to {SIGNIFICANT} significant digits"
                     + (" (exact rationals with more than " + str(EXACT_DIGITS) + " digits)" if exact else "")
                     + "; their full values are in the JSON output (\\texttt{--json}) and in "
                     + (tex_path(_relative(_meta(cx.file), base)) if cx.file else "the counterexample's .meta.json")
                     + ".")
    if cx.file:
        lines.append(f"Problem file (for \\texttt{{isttheory exact}}): {tex_path(_relative(cx.file, base))}; exact "
                     f"entries and the command that reproduces it: {tex_path(_relative(_meta(cx.file), base))}.")
    return lines


def _survived(res: CheckResult, worst: Worst | None, op: str, base: Path | None) -> list[str]:
    lines = [r"\paragraph{Verdict: SURVIVED.} No counterexample found within the budget "
             f"({res.instances_tried} instances tried, {res.skipped} skipped). This is not a proof: "
             "the statement was not verified, only not refuted."]
    if worst is None:
        lines.append("No instance gave a ratio lhs/rhs (both sides of one sign and finite) to report.")
        return lines
    ratio, lhs, rhs = (_equals(v)[0] for v in (worst.ratio, worst.lhs, worst.rhs))
    top, bottom = ("rhs", "lhs") if op in (">=", ">") else ("lhs", "rhs")  # above 1 would refute the statement
    lines.append(r"The worst case found, the largest ratio of the two sides (1 is equality; float64 values):")
    lines.append(rf"\[ \frac{{\text{{{top}}}}}{{\text{{{bottom}}}}} {ratio} \qquad (\text{{lhs}} {lhs},\ "
                 rf"\text{{rhs}} {rhs}) \]")
    lines.append("on the instance")
    lines += _instance_table(worst.point)
    if worst.file:
        lines.append(f"The instance is in {tex_path(_relative(worst.file, base))}.")
    return lines


def _skips(res: CheckResult, limit: int | None = 5) -> list[str]:
    if not res.skip_reasons:
        return []
    top, shown = res.top_skips(None), res.top_skips(limit)
    lines = ["Instances skipped, by reason" + (f" (the {limit} most frequent)" if len(top) > len(shown) else "")
             + ":", r"\begin{itemize}"]
    lines += [rf"\item {count} $\times$ {tex_text(reason)}" for reason, count in shown]
    return lines + [r"\end{itemize}"]


def section(lemma: Lemma, res: CheckResult, base: Path | None = None) -> str:
    """One lemma: its id and title, statement, verdict and the evidence. ``base``: the folder the paths
    are given relative to (the ``.tex`` file's); ``None`` keeps them as recorded."""
    head = r"\texttt{" + tex_text(lemma.id) + "}" + (": " + tex_text(lemma.title) if lemma.title else "")
    lines = [rf"\subsection*{{{head}}}"]
    eqs = f" (the paper's {tex_text(', '.join(lemma.equations))})" if lemma.equations else ""
    lines.append(f"Statement{eqs}:")
    lines += _statement(lemma)
    if res.verdict is Outcome.REFUTED and res.counterexample is not None:
        lines += _refuted(res.counterexample, base)
    elif res.verdict is Outcome.SURVIVED:
        lines += _survived(res, res.worst, lemma.statement.op, base)
    else:
        lines.append(r"\paragraph{Verdict: INAPPLICABLE.} No instance of the space met the hypotheses "
                     f"({res.instances_tried} instances tried, {res.skipped} skipped): nothing was checked.")
    if res.uncertified:
        lines.append(f"Note: float64 arithmetic saw the statement fail on {res.uncertified} instance(s) that could "
                     "not be certified in exact arithmetic; only certified counterexamples are reported.")
    lines += _skips(res, None if res.verdict is Outcome.INAPPLICABLE else 5)
    if res.expect is not None:
        agrees = "agrees" if res.matches_expect else r"\textbf{differs}"
        lines.append(f"The lemma file expects that it {tex_text(res.expect)}; the outcome {agrees}.")
    return "\n".join(lines) + "\n"


def fragment(checked: Sequence[tuple[Lemma, CheckResult]], settings: str = "", base: Path | None = None) -> str:
    """The body: a summary table, then one :func:`section` per lemma. Needs :data:`PACKAGES`."""
    lines = [f"% generated by `isttheory check --latex`; needs {', '.join(PACKAGES)}",
             r"\section*{Lemma checks}"]
    if settings:
        lines.append(tex_text(settings) + ".")
    lines += [r"\begin{center}", r"\begin{tabular}{lrrr}", r"\hline",
              r"lemma & verdict & instances & skipped \\", r"\hline"]
    for lemma, res in checked:
        lines.append(rf"\texttt{{{tex_text(lemma.id)}}} & {res.verdict.value} & {res.instances_tried} & "
                     rf"{res.skipped} \\")
    lines += [r"\hline", r"\end{tabular}", r"\end{center}", ""]
    lines += [section(lemma, res, base) for lemma, res in checked]
    return "\n".join(lines)


def document(frag: str) -> str:
    """A standalone document around :func:`fragment` (amsmath, amssymb, geometry; compiles with pdflatex)."""
    return "\n".join([r"\documentclass{article}", r"\usepackage{" + ",".join(PACKAGES) + "}",
                      r"\usepackage[margin=2cm]{geometry}",
                      r"\setlength{\emergencystretch}{3em}  % long file paths in typewriter type",
                      r"\begin{document}", frag, r"\end{document}", ""])


__all__ = ["EXACT_DIGITS", "MATRIX_ENTRIES", "PACKAGES", "SIGNIFICANT", "document", "fragment", "section", "tex_number",
           "tex_text"]
