"""The statement language of lemma files: one comparison ``lhs OP rhs`` over the vocabulary.

Text is parsed by a whitelist over Python's :mod:`ast` (never ``eval``, ``exec`` or ``sympify``):
numbers, names, ``+ - * / **``, unary minus, and calls of whitelisted names. Anything else is a
:class:`~isttheory.errors.LemmaError` naming the offending piece. The tree evaluates over any
number type with the arithmetic operators (floats while searching; ``Fraction`` or mpmath numbers
when a counterexample is certified), through an environment that supplies names and calls.
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol, TypeVar

import sympy as sp

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


_T = TypeVar("_T")


def _guarded(build: Callable[[], _T], what: str) -> _T:
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


# ---------------------------------------------------------------------------------------------- typesetting
# The statement is typeset by SymPy: the tree is rebuilt node by node as unevaluated SymPy objects (never from
# text) and printed by ``sympy.latex``. SymPy has no subtraction or division node and merges nested products
# and fractions when printing, so three wrappers keep the printed form the statement's own:
# :class:`Group` (a group SymPy must not merge or reorder, printed without brackets), :class:`Paren`
# (a group printed in brackets, where SymPy would print ``a - - b``) and the ordered :class:`Min`/:class:`Max`.

LATEX_SETTINGS: dict[str, Any] = {"order": "none", "mul_symbol": r"\,"}
"""How :func:`to_latex` calls ``sympy.latex``: terms in the statement's order, a thin space for products."""


class VocabularySymbol(sp.Symbol):
    """A vocabulary number (``gamma``, ``h_norm2_L``…): a SymPy symbol named as in the statement, printed in
    the vocabulary's notation. The notation is part of the symbol, so it is never taken from SymPy's cache."""

    tex: str

    def __new__(cls, name: str, tex: str) -> VocabularySymbol:
        obj: VocabularySymbol = sp.Symbol.__xnew__(cls, name)  # SymPy is untyped: __xnew__(cls) builds a cls
        obj.tex = tex
        return obj

    def __getnewargs_ex__(self) -> tuple[tuple[str, str], dict[str, Any]]:
        return (self.name, self.tex), {}

    def _hashable_content(self) -> tuple[Any, ...]:
        return (*super()._hashable_content(), self.tex)

    def _latex(self, printer: Any, **kwargs: Any) -> str:
        return self.tex


class IterationQuantity(sp.Function):
    """A vocabulary quantity of an iteration (``E_dist2_L(K)``): ``tex`` is a template whose ``#`` marks
    where the iteration goes (``\\mathbb{E}\\,\\|x^{#} - x^\\star\\|^2_{\\bar L}``)."""

    tex: str = "#"
    nargs = 1

    def _latex(self, printer: Any, exp: str | None = None, **kwargs: Any) -> str:
        tex = self.tex.replace("#", printer._print(self.args[0]))
        return rf"\left({tex}\right)^{{{exp}}}" if exp is not None else tex


class NamedFunction(sp.Function):
    """A call of a name with no template (not a vocabulary quantity): ``tex\\left(args\\right)``."""

    tex: str = ""

    def _latex(self, printer: Any, exp: str | None = None, **kwargs: Any) -> str:
        tex = rf"{self.tex}\left({', '.join(printer._print(a) for a in self.args)}\right)"
        return rf"\left({tex}\right)^{{{exp}}}" if exp is not None else tex


@functools.lru_cache(maxsize=512)
def _function_class(name: str, tex: str) -> type[sp.Function]:
    """One SymPy function class per (name, notation), built once."""
    base: type[sp.Function] = IterationQuantity if "#" in tex else NamedFunction
    return type(name, (base,), {"tex": tex})


class Group(sp.UnevaluatedExpr):
    """A factor SymPy must neither merge into a neighbouring fraction nor reorder, printed without brackets of
    its own; commutative (every value is a real number), so SymPy still finds it in a denominator."""

    is_commutative = True


class Paren(sp.Expr):
    """A group printed in brackets (``a - (-b)``): SymPy's printer would drop them. ``doit`` releases it."""

    precedence = 1000  # an atom to the printer: the brackets are its own
    is_commutative = True

    def doit(self, **hints: Any) -> Any:
        return self.args[0].doit(**hints) if hints.get("deep", True) else self.args[0]

    def _latex(self, printer: Any, **kwargs: Any) -> str:
        return rf"\left({printer._print(self.args[0])}\right)"


def _ordered_lattice(cls: type[sp.Expr], name: str) -> type[sp.Expr]:
    """SymPy's Min/Max sort and deduplicate their arguments even unevaluated; this one keeps them as stated.
    Rebuilt (``subs``, ``xreplace``, ``doit``) it is SymPy's own, evaluated as usual."""

    def new(kind: type, *args: Any) -> Any:
        obj = sp.Expr.__new__(kind, *args)
        obj._argset = frozenset(args)
        return obj

    def latex(self: Any, printer: Any, exp: str | None = None, **kwargs: Any) -> str:
        tex = rf"\{name}\left({', '.join(printer._print(a) for a in self.args)}\right)"
        return f"{tex}^{{{exp}}}" if exp is not None else tex

    return type(cls.__name__, (cls,), {"__new__": new, "_latex": latex, "func": property(lambda self: cls)})


Min = _ordered_lattice(sp.Min, "min")
Max = _ordered_lattice(sp.Max, "max")
_SYMPY_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": Min, "max": Max, "abs": lambda x: sp.Abs(x, evaluate=False),
    "sqrt": lambda x: sp.sqrt(x, evaluate=False), "log": lambda x: sp.log(x, evaluate=False),
    "exp": lambda x: sp.exp(x, evaluate=False)}
_RELATIONS: dict[str, Callable[..., Any]] = {"<=": sp.Le, "<": sp.Lt, ">=": sp.Ge, ">": sp.Gt, "==": sp.Eq}


def _negative(e: Any) -> bool:
    """SymPy prints ``e`` with a leading minus (``-2``, ``- a``, ``- a\\,b``): after a sign it needs brackets."""
    return bool(sp.latex(e, **LATEX_SETTINGS).startswith("-"))


def _fraction(e: Any) -> bool:
    """A quotient as :func:`to_sympy` builds it (SymPy would merge it into a neighbouring fraction)."""
    return bool((e.is_Pow and e.exp is sp.S.NegativeOne)
                or (e.is_Mul and any(a.is_Pow and a.exp is sp.S.NegativeOne for a in e.args)))


def _big(e: Any) -> bool:
    """A quantity typeset as a sum or a limit (``\\frac{1}{K}\\sum_{k<K}…``, ``\\lim_{k\\to\\infty}…``)."""
    return isinstance(e, (VocabularySymbol, IterationQuantity)) and any(op in e.tex for op in (r"\sum", r"\lim"))


def _sum(node: Node) -> bool:
    return isinstance(node, Bin) and node.op in "+-"


def _product(node: Node) -> bool:
    return isinstance(node, Bin) and node.op == "*"


def _group(e: Any) -> Any:
    """``e`` as one term SymPy will neither merge nor reorder (no brackets of its own); ``exp(-x)`` stays itself
    rather than becoming ``1/e^x``."""
    plain = (e.is_Atom and not (e.is_Rational and not e.is_Integer)) or isinstance(e, Paren) or (
        isinstance(e, sp.Function) and not isinstance(e, sp.exp))
    return e if plain else Group(e)


def _whole(e: Any) -> Any:
    """``e`` as one factor of a product or one side of a quotient: SymPy's printer moves a fraction, a power
    with a negative-looking exponent, ``exp(-x)`` and a rational ``1/10`` across the fraction bar of a product,
    and prints a coefficient ``-1`` as a bare sign; grouped, each stays as the statement has it."""
    split = _fraction(e) or e.is_Pow or isinstance(e, sp.exp) or (e.is_Rational and not e.is_Integer) or (
        e.is_Number and e.is_negative)  # (-1)*a stays -1 a, not - a
    return Group(e) if split else e


def to_sympy(node: Node, names_tex: Callable[[str], str]) -> Any:
    """The expression as unevaluated SymPy objects, node by node (``names_tex`` maps a name to its notation).

    :func:`sympy_value` substitutes numbers into it: the value is the one :func:`evaluate` gives."""
    if isinstance(node, Num):
        return sp.Rational(node.value.numerator, node.value.denominator)
    if isinstance(node, Name):
        return VocabularySymbol(node.name, names_tex(node.name))
    if isinstance(node, Neg):
        x = to_sympy(node.arg, names_tex)
        if isinstance(node.arg, Num) and x is not sp.S.Zero:  # -2 is a number; -(-2) stays as stated
            return -x
        arg = Paren(x) if x.is_Add or _negative(x) else Group(x) if x is sp.S.Zero else _group(x)  # -0 stays -0
        return sp.Mul(sp.S.NegativeOne, arg, evaluate=False)
    if isinstance(node, Bin):
        a, b = to_sympy(node.left, names_tex), to_sympy(node.right, names_tex)
        if node.op in "+-":
            terms = list(a.args) if _sum(node.left) else [a]  # a - b + c is one sum
            b = Paren(b) if b.is_Add or _negative(b) else _group(b)  # SymPy would print a + (-b - c) as a - (b + c)
            terms.append(b if node.op == "+" else sp.Mul(sp.S.NegativeOne, b, evaluate=False))
            return sp.Add(*terms, evaluate=False)
        if node.op == "*":
            factors = list(a.args) if _product(node.left) else [_whole(a)]
            if _big(factors[-1]):  # (1/K Σ_k …) γ: a factor after a sum or limit would read as inside it
                factors[-1] = Paren(factors[-1])
            factors.append(Paren(b) if _negative(b) else Group(b) if b.is_Mul else _whole(b))
            return sp.Mul(*factors, evaluate=False)
        if node.op == "/":
            num = Group(a) if _negative(a) or a is sp.S.One else _whole(a)  # a bare 1/b would print as 1 b^{-1}
            den = sp.Pow(Group(b) if _negative(b) else _whole(b), sp.S.NegativeOne, evaluate=False)
            return sp.Mul(num, den, evaluate=False)
        if node.op == "**":
            exponent = Group(b) if b.is_Number and (b.is_negative or not b.is_Integer) else b  # a^{-2}, a^{1/2}
            return sp.Pow(a, exponent, evaluate=False)  # SymPy brackets a sum, a negation or a fraction itself
    if isinstance(node, Call):
        args = [to_sympy(x, names_tex) for x in node.args]
        if node.name in _SYMPY_FUNCTIONS:
            return _SYMPY_FUNCTIONS[node.name](*args)
        return _function_class(node.name, names_tex(node.name))(*args, evaluate=False)
    raise TypeError(f"not an expression node: {node!r}")


def _sympy_number(v: Any) -> Any:
    """A number as SymPy's: exact for ``int``/``Fraction``, a Float otherwise (mpmath precision kept)."""
    if isinstance(v, (int, Fraction)):
        f = Fraction(v)
        return sp.Rational(f.numerator, f.denominator)
    if isinstance(v, float) and math.isinf(v):
        return sp.oo if v > 0 else -sp.oo
    return sp.Float(v)


def sympy_value(tree: Any, name: Callable[[str], Any], call: Callable[[str, Any], Any]) -> Any:
    """The value of a :func:`to_sympy` tree: ``name(n)`` for each symbol, ``call(n, k)`` for each iteration
    quantity at iteration ``k``, every group released, every node evaluated by SymPy, from the leaves up."""
    if isinstance(tree, VocabularySymbol):
        return _sympy_number(name(tree.name))
    if isinstance(tree, (Group, Paren)):
        return sympy_value(tree.args[0], name, call)
    args = [sympy_value(a, name, call) for a in tree.args]
    if isinstance(tree, sp.Function) and isinstance(tree, (IterationQuantity, NamedFunction)):
        return _sympy_number(call(type(tree).__name__, args[0] if len(args) == 1 else args))
    return tree.func(*args) if args else tree


def comparison_to_sympy(c: Comparison, names_tex: Callable[[str], str]) -> Any:
    """``lhs op rhs`` as an unevaluated SymPy relation."""
    return _RELATIONS[c.op](to_sympy(c.lhs, names_tex), to_sympy(c.rhs, names_tex), evaluate=False)


def to_latex(node: Node | Comparison, names_tex: Callable[[str], str]) -> str:
    """LaTeX of an expression or comparison, printed by ``sympy.latex`` from :func:`to_sympy`."""
    try:
        tree = comparison_to_sympy(node, names_tex) if isinstance(node, Comparison) else to_sympy(node, names_tex)
        return str(sp.latex(tree, **LATEX_SETTINGS))
    except RecursionError:  # SymPy's printer takes several frames a level: far fewer levels than the parser
        raise LemmaError("the expression is nested too deeply to typeset") from None
