"""The LaTeX of a lemma: typeset by SymPy from the parsed statement (the typeset expression is the statement),
and ``isttheory check --latex OUT.tex``: a document pdflatex compiles, with each lemma's statement, verdict and
evidence (the exact margin of a counterexample, the worst ratio of a survivor, the skip reasons)."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from isttheory.errors import ISTError, LemmaError
from isttheory.lemmas import Lemma, paper_lemma, paper_lemmas
from isttheory.lemmas.engines import ExactEngine, FloatEngine
from isttheory.lemmas.expr import (
    Bin,
    Call,
    Comparison,
    Name,
    Neg,
    Node,
    Num,
    Undefined,
    evaluate,
    parse_expression,
    sympy_value,
    to_latex,
    to_sympy,
)
from isttheory.lemmas.points import Point
from isttheory.lemmas.results import CheckResult, Counterexample, Outcome
from isttheory.lemmas.vocabulary import VOCABULARY, Evaluator, latex_name
from isttheory.report.lemma_latex import EXACT_DIGITS, MATRIX_ENTRIES, document, fragment, section, tex_number

from .cli_harness import ISTTHEORY, assert_one_line_error, loads_strict, run_concurrently

PDFLATEX = shutil.which("pdflatex")
needs_pdflatex = pytest.mark.skipif(PDFLATEX is None, reason="pdflatex not installed")


def _compile(tmp: Path, name: str, tex: str) -> str:
    """pdflatex ``tex``; the log, after asserting a PDF, no error and no undefined macro."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / f"{name}.tex").write_text(tex)
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"], cwd=tmp,
                          capture_output=True, text=True, timeout=120)
    log = (tmp / f"{name}.log").read_text(errors="replace")
    assert proc.returncode == 0, log[-3000:]
    assert "Undefined control sequence" not in log
    assert not re.search(r"LaTeX (Error|Warning)", log), log[-3000:]
    assert (tmp / f"{name}.pdf").stat().st_size > 1000
    return log


# ------------------------------------------------------------------------------------------- typesetting
@pytest.mark.parametrize(("text", "tex"), [
    ("gamma - (sigma2 - K)", r"\gamma - \left(\sigma^2 - K\right)"),
    ("gamma - sigma2 - K", r"\gamma - \sigma^2 - K"),
    ("gamma/(sigma2*K)", r"\frac{\gamma}{\sigma^2\,K}"),
    ("(gamma/sigma2)/K", r"\frac{\frac{\gamma}{\sigma^2}}{K}"),
    ("gamma/(sigma2/K)", r"\frac{\gamma}{\frac{\sigma^2}{K}}"),
    ("gamma*(1 + h_norm2_L)", r"\gamma\,\left(1 + \|h\|^2_{\bar L}\right)"),
    ("-(gamma + 1)", r"- \left(\gamma + 1\right)"),
    ("-(-gamma)", r"- \left(- \gamma\right)"),
    ("gamma - (-K)", r"\gamma - \left(- K\right)"),
    ("gamma*(-K)", r"\gamma\,\left(- K\right)"),
    ("(-gamma)**2", r"\left(- \gamma\right)^{2}"),
    ("-gamma**2", r"- \gamma^{2}"),
    ("(gamma + 1)**2", r"\left(\gamma + 1\right)^{2}"),
    ("gamma**-2", r"\gamma^{-2}"),
    ("sigma2**2", r"\left(\sigma^2\right)^{2}"),
    ("(1 - gamma*rate)**K", r"\left(1 - \gamma\,\lambda_{\min}(\bar L^{-1/2}\bar W\bar L^{-1/2})\right)^{K}"),
    ("E_f(K)**2", r"\left(\mathbb{E}\,f(x^{K})\right)^{2}"),
    ("E_dist2_L(K - 1)", r"\mathbb{E}\,\|x^{K - 1} - x^\star\|^2_{\bar L}"),
    ("avg_grad2_Linv(K)*gamma", r"\left(\frac{1}{K}\sum_{k<K}\mathbb{E}\,\|\nabla f(x^k)\|^2_{\bar L^{-1}}\right)\,"
                                r"\gamma"),
    ("1e-12*E_dist2_L(0)", r"\frac{1}{1000000000000}\,\mathbb{E}\,\|x^{0} - x^\star\|^2_{\bar L}"),
    ("0.1 + 3/4", r"\frac{1}{10} + \frac{3}{4}"),
    ("min(theta, 1/lambda_max, theta)",
     r"\min\left(\theta^\star, \frac{1}{\lambda_{\max}(\bar L)}, \theta^\star\right)"),
    ("max(2, gamma)", r"\max\left(2, \gamma\right)"),
    ("abs(gamma - 1)", r"\left|{\gamma - 1}\right|"),
    ("sqrt(sigma2)", r"\sqrt{\sigma^2}"),
    ("log(kappa)", r"\log{\left(\kappa(\bar L) \right)}"),
    ("exp(-gamma*K)", r"e^{- \gamma\,K}"),
])
def test_the_typeset_expression_is_the_statement(text: str, tex: str) -> None:
    assert to_latex(parse_expression(text), latex_name) == tex


def test_lemma_latex_is_the_statement_and_its_hypotheses() -> None:
    lem = Lemma.create("x", "E_dist2_L(K) <= (1 - gamma*rate)**K * E_dist2_L(0)", assume=["gamma <= 1/theta", "K > 1"])
    assert lem.latex() == (r"\mathbb{E}\,\|x^{K} - x^\star\|^2_{\bar L} \leq \left(1 - \gamma\,\lambda_{\min}(\bar L^"
                           r"{-1/2}\bar W\bar L^{-1/2})\right)^{K}\,\mathbb{E}\,\|x^{0} - x^\star\|^2_{\bar L}\qquad"
                           r"\text{if } \gamma \leq \frac{1}{\theta^\star},\quad K > 1")
    assert lem._repr_latex_() == f"$\\displaystyle {lem.latex()}$"
    ops = {"<=": r"\leq", "<": "<", ">=": r"\geq", ">": ">", "==": "="}
    for op, sym in ops.items():
        assert Lemma.create("x", f"gamma {op} 1").latex() == rf"\gamma {sym} 1"


def test_a_statement_too_deep_for_the_printer_is_still_a_lemma() -> None:
    """SymPy's printer needs several frames a level; a statement the parser accepts but the printer cannot
    reach is one LemmaError from to_latex, a placeholder in Lemma.latex() and its text in the document."""
    lem = Lemma.create("x", "gamma <= " + "-" * 600 + "1")
    with pytest.raises(LemmaError, match="nested too deeply to typeset"):
        to_latex(lem.statement, latex_name)
    assert lem.latex() == r"\text{(a statement nested too deeply to typeset)}"
    text = section(lem, CheckResult("x", "", Outcome.INAPPLICABLE, 0, 0, 0.0))
    assert r"\texttt{x: gamma \textless{}= ----" in text and "nested too deeply to typeset" in text
    assert to_latex(parse_expression("-(-1) + --gamma"), latex_name) == \
        r"- \left(-1\right) + \left(- \left(- \gamma\right)\right)"


def test_every_vocabulary_notation_is_its_own() -> None:
    """Two names with one notation would typeset two statements alike."""
    notations = [q.latex for q in VOCABULARY.values()]
    assert len(set(notations)) == len(notations)
    for q in VOCABULARY.values():
        assert q.latex.count("{") == q.latex.count("}"), q.name
        assert ("#" in q.latex) == q.iteration, q.name
    assert VOCABULARY["E_dist2_L"].latex.replace("#", "K") == r"\mathbb{E}\,\|x^{K} - x^\star\|^2_{\bar L}"


# A reader of the LaTeX subset to_latex prints, when names are \alpha \beta \delta and the one iteration
# quantity is \Phi\left(#\right): it gives the value a reader of the typeset formula would compute.
_TOKEN = re.compile(r"\\left\(|\\right\)|\\left\||\\right\||\\[A-Za-z]+|\\,|\d+|[{}^+\-,()]|e|\s+")
_VALUES = {"p": Fraction(3, 2), "q": Fraction(2, 3), "r": Fraction(5, 4)}
_TEX = {"p": r"\alpha", "q": r"\beta", "r": r"\delta", "F": r"\Phi\left(#\right)"}
_READ = {r"\alpha": "p", r"\beta": "q", r"\delta": "r"}


def _phi(x):  # type: ignore[no-untyped-def]
    return 3 * x / 2 + Fraction(1, 4) if isinstance(x, Fraction) else 1.5 * x + 0.25


class _Reader:
    def __init__(self, tex: str) -> None:
        self.tex, self.i, self.t = tex, 0, []
        pos = 0
        while pos < len(tex):
            m = _TOKEN.match(tex, pos)
            assert m is not None, f"cannot read {tex[pos:pos + 20]!r} in {tex!r}"
            if not m.group().isspace():
                self.t.append(m.group())
            pos = m.end()

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        assert tok is not None and (want is None or tok == want), f"expected {want!r} at {self.i} in {self.tex!r}"
        self.i += 1
        return tok

    def read(self) -> float:
        v = self.expr()
        assert self.peek() is None, f"trailing {self.t[self.i:]} in {self.tex!r}"
        return v

    def expr(self) -> float:  # a leading minus, then terms; a minus anywhere else is a typesetting error
        neg = self.peek() == "-" and bool(self.take())
        v = -self.term() if neg else self.term()
        while self.peek() in ("+", "-"):
            v = v + self.term() if self.take() == "+" else v - self.term()
        return v

    def term(self) -> float:
        v = self.factor()
        while True:
            tok = self.peek()
            if tok in (r"\,", r"\cdot"):
                self.take()
                v *= self.factor()
            elif tok is not None and (tok.isdigit() or tok in _READ or tok in (
                    r"\left(", r"\left|", r"\frac", r"\sqrt", r"\min", r"\max", r"\log", r"\Phi", "e", "{", "(")):
                v *= self.factor()  # juxtaposition
            else:
                return v

    def factor(self) -> float:
        v = self.primary()
        if self.peek() == "^":
            self.take()
            v = v ** self.group()
        return v

    def group(self) -> float:
        self.take("{")
        v = self.expr()
        self.take("}")
        return v

    def args(self) -> list[float]:
        self.take(r"\left(")
        vals = [self.expr()]
        while self.peek() == ",":
            self.take()
            vals.append(self.expr())
        self.take(r"\right)")
        return vals

    def primary(self) -> float:
        tok = self.take()
        if tok.isdigit():
            return float(tok)
        if tok in _READ:
            return float(_VALUES[_READ[tok]])
        closing = {r"\left(": r"\right)", "(": ")", "{": "}"}
        if tok in closing:
            v = self.expr()
            self.take(closing[tok])
            return v
        if tok == r"\left|":
            v = self.group()
            self.take(r"\right|")
            return abs(v)
        if tok == r"\frac":
            a = self.group()
            return a / self.group()
        if tok == r"\sqrt":
            return math.sqrt(self.group())
        if tok in (r"\min", r"\max"):
            return (min if tok == r"\min" else max)(self.args())
        if tok == r"\log":
            self.take("{")
            (x,) = self.args()
            self.take("}")
            return math.log(x)
        if tok == r"\Phi":
            (x,) = self.args()
            return float(_phi(x))
        if tok == "e":
            if self.peek() != "^":
                return math.e
            self.take("^")
            return math.exp(self.group())
        raise AssertionError(f"unexpected {tok!r} in {self.tex!r}")


class _FloatEnv:
    def number(self, v: Fraction) -> float:
        return float(v)

    def name(self, n: str) -> float:
        return float(_VALUES[n])

    def binop(self, op: str, a: float, b: float) -> float:
        if op == "**":
            r = a ** b
            if isinstance(r, complex):
                raise ValueError("complex power")
            return float(r)
        return {"+": a + b, "-": a - b, "*": a * b}[op] if op != "/" else a / b

    def call(self, name: str, args: list[float], nodes: tuple[Node, ...]) -> float:
        fs = {"F": _phi, "min": min, "max": max, "abs": abs, "sqrt": math.sqrt, "log": math.log, "exp": math.exp}
        return float(fs[name](*args))


_LEAF = st.one_of(st.builds(Num, st.sampled_from([Fraction(0), Fraction(1), Fraction(2), Fraction(3), Fraction(1, 2),
                                                  Fraction(7, 10)])),
                  st.builds(Name, st.sampled_from(["p", "q", "r"])))


def _trees(depth: int) -> st.SearchStrategy[Node]:
    if depth == 0:
        return _LEAF
    c = _trees(depth - 1)
    return st.one_of(_LEAF, st.builds(Neg, c), st.builds(Bin, st.sampled_from(["+", "-", "*", "/", "**"]), c, c),
                     st.builds(lambda a: Call("F", (a,)), c),
                     st.builds(lambda f, a: Call(f, (a,)), st.sampled_from(["abs", "sqrt", "log", "exp"]), c),
                     st.builds(lambda f, a, b: Call(f, (a, b)), st.sampled_from(["min", "max"]), c, c))


def _leaves_in_order(node: Node) -> list[str]:
    """The names and the digits of the numbers, as the statement has them (1/2 as 1, 2)."""
    if isinstance(node, Name):
        return [node.name]
    if isinstance(node, Num):
        v = node.value
        return [str(v.numerator)] + ([str(v.denominator)] if v.denominator != 1 else [])
    kids = [getattr(node, a) for a in ("arg", "left", "right") if hasattr(node, a)] + list(getattr(node, "args", ()))
    return [x for k in kids for x in _leaves_in_order(k)]


@settings(max_examples=800, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(_trees(4))
def test_reading_the_latex_back_gives_the_statement(node: Node) -> None:
    """Round trip: the typeset string, read back by a reader of ordinary mathematical notation, has the value
    the statement has, with its names and numbers in the statement's order; the SymPy tree it was printed from,
    with numbers substituted, has that value too (brackets, fractions of fractions, powers, unary minus all
    survive; nothing is simplified away, reordered or added)."""
    try:
        value = evaluate(node, _FloatEnv())
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        assume(False)
    assume(isinstance(value, float) and math.isfinite(value) and abs(value) < 1e12)
    tex = to_latex(node, _TEX.__getitem__)
    leaves = [_READ.get(t, t) for t in re.findall(r"\\alpha|\\beta|\\delta|\d+", tex)]
    assert leaves == _leaves_in_order(node), tex  # nothing reordered, dropped or added
    read = _Reader(tex).read()
    assert math.isclose(read, value, rel_tol=1e-9, abs_tol=1e-6), (tex, read, value)
    tree = to_sympy(node, _TEX.__getitem__)
    sym = complex(sp.N(sympy_value(tree, _VALUES.__getitem__, lambda name, k: _phi(float(k))), 30))
    assert abs(sym.imag) < 1e-6 and math.isclose(sym.real, value, rel_tol=1e-9, abs_tol=1e-6), (tex, sym, value)


def _values(lemma: Lemma, ev: Evaluator) -> list[tuple[object, object]]:
    """(the lemma's own evaluation, the SymPy tree's value) for each side of the statement and hypotheses."""
    out = []
    for c in (lemma.statement, *lemma.assume):
        for side in (c.lhs, c.rhs):
            own = evaluate(side, ev)
            tree = to_sympy(side, latex_name)
            out.append((own, sympy_value(tree, ev.name, lambda name, k: ev.call(name, [int(k)], ()))))
    return out


@pytest.mark.parametrize("lemma", paper_lemmas(), ids=lambda lem: lem.id)
def test_the_sympy_tree_of_each_paper_lemma_evaluates_as_the_lemma(lemma: Lemma) -> None:
    """The tree that is typeset, with the vocabulary's values of sampled instances substituted, gives the values
    the lemma's own evaluator gives, side by side."""
    rng = np.random.default_rng(3)
    compared = 0
    for _ in range(12):
        try:
            pairs = _values(lemma, Evaluator(FloatEngine(lemma.space.sample(rng))))
        except (ISTError, Undefined, ZeroDivisionError, ValueError, OverflowError):  # not an instance of the space
            continue
        for own, sym in pairs:
            o = float(own)  # type: ignore[arg-type]
            if math.isfinite(o):
                assert math.isclose(float(sym), o, rel_tol=1e-9, abs_tol=1e-12), (lemma.id, own, sym)
                compared += 1
        if compared >= 6:
            break
    assert compared >= 2, lemma.id


def test_the_sympy_tree_is_exact_on_a_rational_instance() -> None:
    lem = Lemma.create("x", "avg_grad2_Linv(K) - (E_f(0) - E_f(K - 1))/(gamma*K) <= (4 + 5*gamma)**2*h_norm2_L2 "
                       "- gamma*sigma2/(2 - gamma)", space={"sketch": ["perm"], "K": {"min": 2, "max": 3}})
    point = lem.space.sample(np.random.default_rng(0))
    A = np.vectorize(lambda v: Fraction(v).limit_denominator(8), otypes=[object])(point.factors)
    point = point.with_(factors=A, ridge=np.array([Fraction(1, 4)] * point.n, dtype=object), gamma=Fraction(1, 2),
                        b=np.vectorize(lambda v: Fraction(round(4 * v), 4), otypes=[object])(point.b),
                        x0=np.vectorize(lambda v: Fraction(round(4 * v), 4), otypes=[object])(point.x0))
    pairs = _values(lem, Evaluator(ExactEngine(point)))
    assert len(pairs) == 2
    for own, sym in pairs:
        assert isinstance(own, Fraction) and sym.is_Rational and Fraction(int(sym.p), int(sym.q)) == own


def _mutants(node: Node) -> list[Node]:
    """Every tree one change away: a constant, an operator, a name, an iteration or a sign."""
    other = {"+": "-", "-": "+", "*": "/", "/": "*", "**": "*"}
    names = {"gamma": "K", "K": "n", "h_norm2_L": "h_norm2_L2", "h_norm2_L2": "h_norm2_L", "sigma2": "h_norm2",
             "theta": "theta_eq17", "theta_eq17": "theta", "lambda_max": "lambda_min", "rate": "lambda_min_W"}
    out: list[Node] = [Neg(node)]
    if isinstance(node, Num):
        out.append(Num(node.value + 1))
    elif isinstance(node, Name) and node.name in names:
        out.append(Name(names[node.name]))
    elif isinstance(node, Neg):
        out += [node.arg] + [Neg(m) for m in _mutants(node.arg)]
    elif isinstance(node, Bin):
        out.append(Bin(other[node.op], node.left, node.right))
        out += [Bin(node.op, m, node.right) for m in _mutants(node.left)]
        out += [Bin(node.op, node.left, m) for m in _mutants(node.right)]
    elif isinstance(node, Call):
        for i, a in enumerate(node.args):
            out += [Call(node.name, node.args[:i] + (m,) + node.args[i + 1:]) for m in _mutants(a)]
    return out


@pytest.mark.parametrize("lemma", paper_lemmas(), ids=lambda lem: lem.id)
def test_a_different_statement_typesets_differently(lemma: Lemma) -> None:
    """Mutation: every tree one change away from a paper lemma's statement (a constant, an operator, a name, an
    iteration, a sign, the relation) gives other LaTeX."""
    c = lemma.statement
    original = to_latex(c, latex_name)
    mutants = [(m, c.rhs) for m in _mutants(c.lhs)] + [(c.lhs, m) for m in _mutants(c.rhs)]
    assert len(mutants) >= 3
    for lhs, rhs in mutants:
        assert to_latex(lhs, latex_name) + to_latex(rhs, latex_name) != \
            to_latex(c.lhs, latex_name) + to_latex(c.rhs, latex_name), (lhs, rhs)
    for op in ("<=", "<", ">=", ">", "=="):
        if op != c.op:
            assert to_latex(Comparison(c.lhs, op, c.rhs, c.text), latex_name) != original


@needs_pdflatex
def test_every_paper_lemma_and_every_vocabulary_name_compiles(tmp_path: Path) -> None:
    body = [rf"\[ {lem.latex()} \]" for lem in paper_lemmas()]
    for name, q in VOCABULARY.items():
        text = f"{name}(K - 1)**2 <= 1" if q.iteration else f"2*{name}**2 - {name} <= 1"
        body.append(rf"\[ {Lemma.create('v', text).latex()} \]")
    _compile(tmp_path, "lemmas", "\n".join([r"\documentclass{article}", r"\usepackage{amsmath,amssymb}",
                                            r"\usepackage[margin=2cm]{geometry}", r"\begin{document}", *body,
                                            r"\end{document}", ""]))


# ------------------------------------------------------------------------------------------- the document
def test_numbers_are_exact_rationals_unless_long() -> None:
    assert tex_number(Fraction(-3, 4)) == (r"-\frac{3}{4}", False)
    assert tex_number(12) == ("12", False)
    assert tex_number(2.0) == ("2", False)
    big = Fraction(10**30 + 7, 3**40)
    tex, short = tex_number(big)
    assert short and r"\frac" not in tex and r"\times 10^{" in tex
    assert len(str(big.numerator)) + len(str(big.denominator)) > EXACT_DIGITS
    huge = Fraction(7**20000, 3)  # more digits than Python prints
    assert tex_number(huge)[1] and tex_number(huge)[0].endswith(r"\times 10^{16901}")
    import mpmath

    assert tex_number(mpmath.mpf(1) / 3) == ("0.3333333333333333", True)


def _point(n: int, d: int) -> Point:
    A = np.array([[[Fraction(i + j + 1, 4)] for j in range(d)] for i in range(n)], dtype=object)
    return Point("random", A, np.array([Fraction(1, 2)] * n, dtype=object),
                 np.array([[Fraction(j, 3) for j in range(d)] for _ in range(n)], dtype=object),
                 np.array([Fraction(1)] * d, dtype=object), "perm", "ist", 2, Fraction(1, 3), 5)


def _refuted(point: Point, margin: Fraction, file: str | None) -> CheckResult:
    cx = Counterexample(point, Fraction(1), Fraction(1) - margin, margin, True, "exact rational", file)
    return CheckResult("x", "gamma <= 1", Outcome.REFUTED, 3, 0, 0.1, cx, None, "holds")


def test_a_small_counterexample_shows_its_matrices_exactly() -> None:
    text = section(Lemma.create("x", "gamma <= 1"), _refuted(_point(2, 2), Fraction(2, 3), None))
    assert r"\paragraph{Verdict: REFUTED.}" in text and "exact rational arithmetic" in text
    assert r"L_{1} &= \begin{pmatrix}\frac{9}{16} & \frac{1}{8} \\ \frac{1}{8} & \frac{3}{4}\end{pmatrix}" in text
    assert r"b_{2} &= \begin{pmatrix}0 & \frac{1}{3}\end{pmatrix}^{\!\top}" in text
    assert r"x^0 &= \begin{pmatrix}1 & 1\end{pmatrix}^{\!\top}" in text
    assert r"\text{lhs} - \text{rhs} &= \frac{2}{3}" in text
    assert r"step size $\gamma$ & $\frac{1}{3}$" in text and "Algorithm 1, form (6)" in text
    assert "local steps $t$ & 2" in text and "iterations $K$ & 5" in text
    assert "the outcome \\textbf{differs}" in text  # the lemma said it holds


def test_a_large_counterexample_points_to_its_file_and_long_numbers_are_shortened(tmp_path: Path) -> None:
    n, d = 5, 4
    assert n * d * d > MATRIX_ENTRIES
    file = tmp_path / "out" / "x" / "counterexample.json"
    text = section(Lemma.create("x", "gamma <= 1"), _refuted(_point(n, d), Fraction(10**45 + 1, 7), str(file)),
                   base=tmp_path)
    assert r"\begin{pmatrix}" not in text and f"{n * d * d} > {MATRIX_ENTRIES}" in text
    plain = text.replace(r"\allowbreak{}", "")  # paths may break after / - . and _
    assert r"\texttt{out/x/counterexample.json}" in plain and r"\texttt{out/x/counterexample.meta.json}" in plain
    assert r"\text{lhs} - \text{rhs} &\approx 1.428571428571429 \times 10^{44}" in text
    assert "shortened to 16 significant digits" in text


def test_a_hostile_title_is_text() -> None:
    lem = Lemma.create("x", "gamma <= 1", title=r"50% of ‖h‖² ≤ γ_1 & #2 {\input{secret.tex}} ~ L̄ ✓")
    head = section(lem, CheckResult("x", "", Outcome.INAPPLICABLE, 0, 0, 0.0)).splitlines()[0]
    assert r"\input" not in head.replace(r"\textbackslash{}input", "")
    assert r"50\% of \ensuremath{\|}h\ensuremath{\|}\textsuperscript{2}" in head
    assert r"\ensuremath{\gamma}\_\allowbreak{}1 \& \#2" in head and r"\={L}" in head and "[U+2713]" in head


@needs_pdflatex
def test_the_unit_sections_compile(tmp_path: Path) -> None:
    lem = Lemma.create("x", "gamma <= 1", title=r"50% of ‖h‖² ≤ γ_1 & #2 {\input{x}} ~ L̄ ✓ <a|b>")
    checked = [(lem, _refuted(_point(2, 2), Fraction(2, 3), None)),
               (lem, _refuted(_point(5, 4), Fraction(10**45 + 1, 7), str(tmp_path / "c.json"))),
               (lem, CheckResult("x", "", Outcome.INAPPLICABLE, 4, 4, 0.0,
                                 skip_reasons={"hypothesis unmet: a > b": 4}))]
    _compile(tmp_path, "units", document(fragment(checked, "settings_with % and _", base=tmp_path)))


# ------------------------------------------------------------------------------------------- the command
@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if ISTTHEORY is None:
        pytest.skip("the isttheory console script is not installed")
    root = tmp_path_factory.mktemp("check_latex")
    corrected = paper_lemma("thm2-corrected").source
    text = Path(corrected).read_text()
    assert text.count("+ h_norm2_L +") == 1
    (root / "mutant.toml").write_text(text.replace("+ h_norm2_L +", "+ 0.5*h_norm2_L +"))
    (root / "exact.toml").write_text('id = "one-step-perm"\nstatement = "E_dist2_L(1) <= 1e-12 * E_dist2_L(0)"\n'
                                     'expect = "fails"\n[space]\nsketch = ["perm"]\n')
    (root / "never.toml").write_text('id = "never"\nstatement = "gamma <= 1"\nassume = ["gamma > 2"]\n')
    (root / "a-file").write_text("not a folder")
    budget = ("--max-instances", "20", "--seed", "0")
    jobs = {
        "refuted": ("check", paper_lemma("thm2-printed").source, str(root / "exact.toml"), *budget,
                    "--out", str(root / "o1"), "--latex", str(root / "tex" / "refuted.tex")),
        "survived": ("check", corrected, str(root / "never.toml"), *budget, "--out", str(root / "o2"), "--json",
                     "--latex", str(root / "survived.tex")),
        "mutant": ("check", str(root / "mutant.toml"), *budget, "--out", str(root / "o3"),
                   "--latex", str(root / "mutant.tex"), "--latex-fragment"),
        "unwritable": ("check", corrected, *budget, "--latex", str(root / "a-file" / "out.tex")),
        "folder": ("check", corrected, *budget, "--latex", str(root)),
        # `--latex` given no OUT.tex: the next lemma file would be overwritten
        "a-lemma-file": ("check", "--latex", str(root / "never.toml"), str(root / "exact.toml"), *budget),
    }
    return root, run_concurrently(jobs, list(jobs), lambda _: root)


def test_refuted_document(runs) -> None:  # type: ignore[no-untyped-def]
    root, res = runs
    proc = res["refuted"]
    assert proc.returncode == 0, proc.stderr  # both lemmas say they fail
    assert f"wrote {root / 'tex' / 'refuted.tex'}" in proc.stdout
    tex = (root / "tex" / "refuted.tex").read_text()
    assert tex.startswith(r"\documentclass{article}") and tex.rstrip().endswith(r"\end{document}")
    assert r"\subsection*{\texttt{thm2-printed}: Theorem 2, (30) as printed" in tex
    assert tex.count(r"\paragraph{Verdict: REFUTED.}") == 2
    assert paper_lemma("thm2-printed").latex().split(r"\qquad")[0] in tex  # the statement, typeset
    assert r"\text{if } \gamma < 1" in tex
    # the rational counterexample: its exact margin as a fraction, the same as the JSON reports
    meta = loads_strict((root / "o1" / "one-step-perm" / "counterexample.meta.json").read_text())
    p, q = meta["exact_margin"].split("/")
    assert rf"\text{{lhs}} - \text{{rhs}} &= \frac{{{p}}}{{{q}}}" in tex
    assert "recomputed in exact rational arithmetic" in tex
    # the mpmath-certified one: decimals, said to be shortened, with the file holding them
    assert "mpmath 50 digits" in tex and r"\text{lhs} - \text{rhs} &\approx 0." in tex
    assert r"\texttt{../o1/thm2-printed/counterexample.meta.json}" in tex.replace(r"\allowbreak{}", "")
    assert "The matrices, exactly" in tex and r"L_{1} &= \begin{pmatrix}" in tex


def test_survived_and_inapplicable_document_with_json(runs) -> None:  # type: ignore[no-untyped-def]
    root, res = runs
    proc = res["survived"]
    assert proc.returncode == 0, proc.stderr
    out = loads_strict(proc.stdout)  # --json stays machine-readable: the file is named in it
    assert out["latex"] == str(root / "survived.tex")
    assert [r["verdict"] for r in out["lemmas"]] == ["SURVIVED", "INAPPLICABLE"]
    tex = (root / "survived.tex").read_text()
    assert r"\paragraph{Verdict: SURVIVED.} No counterexample found within the budget (20 instances tried" in tex
    assert "verified" not in tex.replace("was not verified", "")
    ratio = out["lemmas"][0]["worst"]["ratio"]
    assert re.search(r"\\frac\{\\text\{lhs\}\}\{\\text\{rhs\}\} (=|\\approx) " + re.escape(f"{ratio:.15g}"[:12]), tex)
    assert r"\paragraph{Verdict: INAPPLICABLE.}" in tex and r"\item 20 $\times$ hypothesis unmet: gamma" in tex


def test_a_wrong_lemma_changes_the_verdict(runs) -> None:  # type: ignore[no-untyped-def]
    """Mutation: halving the bias term of the corrected Theorem 2 turns SURVIVED into REFUTED in the .tex."""
    root, res = runs
    assert res["mutant"].returncode == 1  # the lemma file still says it holds
    frag = (root / "mutant.tex").read_text()
    assert not frag.lstrip("%").lstrip().startswith(r"\documentclass")
    assert r"\paragraph{Verdict: REFUTED.}" in frag and "SURVIVED" not in frag.split(r"\subsection*")[1]
    assert r"+ \frac{1}{2}\,\|h\|^2_{\bar L} +" in frag
    assert "the outcome \\textbf{differs}" in frag
    assert "Verdict: SURVIVED" in (root / "survived.tex").read_text()


def test_an_unwritable_path_is_one_line_and_exit_2_before_any_search(runs) -> None:  # type: ignore[no-untyped-def]
    root, res = runs
    for name in ("unwritable", "folder", "a-lemma-file"):
        assert_one_line_error(res[name], empty_stdout=True)
        assert "--latex" in res[name].stderr
    assert not (root / "a-file" / "out.tex").exists() and not list(root.glob(".*.probe"))
    assert "needs a file name ending in .tex" in res["a-lemma-file"].stderr
    assert (root / "never.toml").read_text().startswith('id = "never"')  # not overwritten


@needs_pdflatex
def test_the_documents_compile(runs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, _ = runs
    _compile(root / "tex", "refuted", (root / "tex" / "refuted.tex").read_text())
    _compile(root, "survived", (root / "survived.tex").read_text())
    _compile(tmp_path, "mutant", document((root / "mutant.tex").read_text()))


@needs_pdflatex
def test_the_compile_check_can_fail(tmp_path: Path) -> None:
    """The compile check is not vacuous: a statement with an undefined macro fails it."""
    bad = document(fragment([(Lemma.create("x", "gamma <= 1"), CheckResult("x", "", Outcome.INAPPLICABLE, 0, 0, 0.0))]))
    with pytest.raises(AssertionError):
        _compile(tmp_path, "bad", bad.replace(r"\gamma", r"\gammma", 1))
