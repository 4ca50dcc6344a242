"""No user input reaches eval/exec/sympify: a static scan of the package source.

User strings are parsed by ``float``/``int`` (sketch specs, --x0) and ``json`` (problem files);
the only code execution is ``verify --plugin``, which imports a file the user names on purpose.
"""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "isttheory"
ALLOWED_EXEC = {("cli.py", "exec_module")}  # --plugin: importing the user's own file, deliberately


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            yield name, node


def test_no_eval_exec_or_string_sympify():
    offenders = []
    for path in PKG.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for name, node in _calls(tree):
            if name in ("eval", "exec", "compile", "exec_module") and (path.name, name) not in ALLOWED_EXEC:
                offenders.append(f"{path.relative_to(PKG)}:{node.lineno} {name}")
            first = node.args[0] if node.args else None
            if name in ("sympify", "parse_expr", "S") and isinstance(first, ast.Constant) and isinstance(
                    first.value, str):
                offenders.append(f"{path.relative_to(PKG)}:{node.lineno} {name} on a string")
    assert offenders == []


def test_cli_module_never_calls_sympify():
    tree = ast.parse((PKG / "cli.py").read_text())
    assert not [n for n, _ in _calls(tree) if n in ("sympify", "parse_expr", "eval")]
