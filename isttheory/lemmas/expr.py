"""The statement language of lemma files: one comparison ``lhs OP rhs`` over the vocabulary.

Text is parsed by a whitelist over Python's :mod:`ast` (never ``eval``, ``exec`` or ``sympify``):
numbers, names, ``+ - * / **``, unary minus, and calls of whitelisted names. Anything else is a
:class:`~isttheory.errors.LemmaError` naming the offending piece. The tree evaluates over any
number type with the arithmetic operators (floats while searching; ``Fraction`` or mpmath numbers
when a counterexample is certified), through an environment that supplies names and calls.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

from ..errors import LemmaError

OPS = ("<=", "<", ">=", ">", "==")


class Undefined(Exception):
    """A value does not exist on this instance (``x*`` for a singular ``L̄``, a division by zero, a NaN);
    the instance is skipped with this reason, never counted for or against the statement."""

_CMP = {ast.LtE: "<=", ast.Lt: "<", ast.GtE: ">=", ast.Gt: ">", ast.Eq: "=="}
_BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
MAX_TEXT = 2000


class Node:
    """An expression node."""

    def walk(self) -> Iterator[Node]:
        yield self


@dataclass(frozen=True)
class Num(Node):
    value: Fraction


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class Neg(Node):
    arg: Node

    def walk(self) -> Iterator[Node]:
        yield self
        yield from self.arg.walk()


@dataclass(frozen=True)
class Bin(Node):
    op: str
    left: Node
    right: Node

    def walk(self) -> Iterator[Node]:
        yield self
        yield from self.left.walk()
        yield from self.right.walk()


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]

    def walk(self) -> Iterator[Node]:
        yield self
        for a in self.args:
            yield from a.walk()


@dataclass(frozen=True)
class Comparison:
    """``lhs op rhs``, with the source text kept for messages."""

    lhs: Node
    op: str
    rhs: Node
    text: str

    def names(self) -> set[str]:
        """Every name and called name the comparison uses."""
        return names(self.lhs) | names(self.rhs)


def names(node: Node) -> set[str]:
    out: set[str] = set()
    for n in node.walk():
        if isinstance(n, Name):
            out.add(n.name)
        elif isinstance(n, Call):
            out.add(n.name)
    return out


def _convert(node: ast.AST, text: str) -> Node:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise LemmaError(f"in {text!r}: only numbers are allowed as constants, not {node.value!r}")
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise LemmaError(f"in {text!r}: the constant {node.value!r} is not finite")
        # the decimal text, not the binary float: "0.1" is exactly 1/10
        seg = ast.get_source_segment(text, node)
        return Num(Fraction(seg) if seg is not None else Fraction(node.value))
    if isinstance(node, ast.Name):
        return Name(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        arg = _convert(node.operand, text)
        return Neg(arg) if isinstance(node.op, ast.USub) else arg
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        return Bin(_BIN[type(node.op)], _convert(node.left, text), _convert(node.right, text))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise LemmaError(f"in {text!r}: only calls of plain names with positional arguments are allowed")
        return Call(node.func.id, tuple(_convert(a, text) for a in node.args))
    piece = ast.get_source_segment(text, node) or type(node).__name__
    raise LemmaError(f"in {text!r}: {piece!r} is not allowed (numbers, names, + - * / **, unary minus and calls)")


def _tree(text: str, what: str) -> ast.AST:
    if not isinstance(text, str) or not text.strip():
        raise LemmaError(f"{what} must be a non-empty string")
    if len(text) > MAX_TEXT:
        raise LemmaError(f"{what} is longer than {MAX_TEXT} characters")
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise LemmaError(f"{what} {text!r} is not a valid expression: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise LemmaError(f"{what} is nested too deeply") from None


def parse_expression(text: str, what: str = "expression") -> Node:
    """One arithmetic expression (no comparison)."""
    tree = _tree(text, what)
    if isinstance(tree, ast.Compare):
        raise LemmaError(f"{what} {text!r} must be an expression, not a comparison")
    return _guarded(lambda: _convert(tree, text.strip()), what)


def parse_comparison(text: str, what: str = "statement") -> Comparison:
    """Exactly one comparison ``lhs OP rhs`` with OP one of ``<= < >= > ==``."""
    tree = _tree(text, what)
    src = text.strip()
    if not isinstance(tree, ast.Compare) or len(tree.ops) != 1:
        raise LemmaError(f"{what} {text!r} must be one comparison 'lhs OP rhs' with OP one of {' '.join(OPS)}")
    op = _CMP.get(type(tree.ops[0]))
    if op is None:
        raise LemmaError(f"{what} {text!r}: the comparison must be one of {' '.join(OPS)}")
    return _guarded(lambda: Comparison(_convert(tree.left, src), op, _convert(tree.comparators[0], src), src), what)


def _guarded(build: Callable[[], Any], what: str) -> Any:
    try:
        return build()
    except RecursionError:
        raise LemmaError(f"{what} is nested too deeply") from None


@dataclass(frozen=True)
class Tolerance:
    """A statement fails on an instance only when it fails by more than ``rtol·max(|lhs|, |rhs|) + atol``."""

    rtol: float = 1e-9
    atol: float = 0.0

    def bound(self, lhs: Any, rhs: Any) -> Any:
        """The allowed slack, in the type of ``lhs``/``rhs`` (exact when they are)."""
        big = max(abs(lhs), abs(rhs))
        if isinstance(big, (int, Fraction)):
            return Fraction(self.rtol) * big + Fraction(self.atol)
        return self.rtol * big + self.atol


class Environment(Protocol):
    """What an expression needs to evaluate: values of names and calls."""

    def name(self, name: str) -> Any: ...
    def call(self, name: str, args: list[Any], nodes: tuple[Node, ...]) -> Any: ...
    def number(self, value: Fraction) -> Any: ...
    def binop(self, op: str, a: Any, b: Any) -> Any: ...


ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b}


def evaluate(node: Node, env: Environment) -> Any:
    """The value of ``node`` in ``env`` (arithmetic by the operands' own type)."""
    if isinstance(node, Num):
        return env.number(node.value)
    if isinstance(node, Name):
        return env.name(node.name)
    if isinstance(node, Neg):
        return env.binop("-", env.number(Fraction(0)), evaluate(node.arg, env))
    if isinstance(node, Bin):
        return env.binop(node.op, evaluate(node.left, env), evaluate(node.right, env))
    if isinstance(node, Call):
        return env.call(node.name, [evaluate(a, env) for a in node.args], node.args)
    raise TypeError(f"not an expression node: {node!r}")


def _low(node: Node) -> bool:
    """A sum or difference (lower precedence than a product)."""
    return isinstance(node, Bin) and node.op in "+-"


def _paren(text: str) -> str:
    return rf"\left({text}\right)"


def to_latex(node: Node, names_tex: Callable[[str], str]) -> str:
    """LaTeX of an expression (``names_tex`` maps a vocabulary name to its symbol)."""
    if isinstance(node, Num):
        v = node.value
        return str(v.numerator) if v.denominator == 1 else rf"\tfrac{{{v.numerator}}}{{{v.denominator}}}"
    if isinstance(node, Name):
        return names_tex(node.name)
    if isinstance(node, Neg):
        inner = to_latex(node.arg, names_tex)
        return "-" + (_paren(inner) if isinstance(node.arg, (Bin, Neg)) and _low(node.arg) else inner)
    if isinstance(node, Bin):
        a, b = to_latex(node.left, names_tex), to_latex(node.right, names_tex)
        if node.op == "/":
            return rf"\frac{{{a}}}{{{b}}}"
        if node.op == "**":
            base = _paren(a) if isinstance(node.left, (Bin, Neg)) else a
            return f"{{{base}}}^{{{b}}}"
        if node.op == "*":
            a = _paren(a) if _low(node.left) else a
            b = _paren(b) if _low(node.right) or isinstance(node.right, Neg) else b
            return f"{a}\\,{b}"
        wrap = node.op == "-" and _low(node.right)
        return f"{a} {node.op} " + (_paren(b) if wrap or isinstance(node.right, Neg) else b)
    if isinstance(node, Call):
        args = ", ".join(to_latex(a, names_tex) for a in node.args)
        tex = names_tex(node.name)
        if "#" in tex:  # a template: '#' is where the argument goes (the iteration of a vocabulary quantity)
            return tex.replace("#", args)
        return rf"{tex}\left({args}\right)"
    raise TypeError(node)
