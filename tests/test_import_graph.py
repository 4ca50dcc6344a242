"""The house has floors: no import of ``isttheory`` runs in a circle, between modules or between rooms.

A *room* is a subpackage (``isttheory/sketches/``, ``isttheory/symbolic/``, …) or a top-level module. Every
import is counted, module level and inside functions (a lazy import is still an arrow). With no circle among
rooms, ordering the rooms by their longest import chain gives floors on which every arrow runs down: this test
is that statement. ``symbolic/fixedpoint.py`` (which imported ``moments`` and ``sketches``, above it) is now
``isttheory/fixedpoint.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "isttheory"


def modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = p.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """``{module: modules it imports}`` over every import statement (a package's own ``__init__`` excluded)."""
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)] if node.level else []
                src = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module or ""
                targets = [f"{src}.{a.name}" if f"{src}.{a.name}" in mods else src for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[mod] |= {t for t in targets if t in mods and t != mod and not mod.startswith(t + ".")}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def rooms(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    def room(m: str) -> str:
        parts = m.split(".")
        return ".".join(parts[:2]) if len(parts) > 1 and (ROOT / parts[1]).is_dir() else m

    out: dict[str, set[str]] = {}
    for m, targets in graph.items():
        out.setdefault(room(m), set()).update(room(t) for t in targets if room(t) != room(m))
        for t in targets:
            out.setdefault(room(t), set())
    return out


def test_no_circle_between_modules() -> None:
    graph = import_graph(modules())
    assert len(graph) > 80 and sum(map(len, graph.values())) > 150
    assert circles(graph) == []


def test_no_circle_between_rooms_so_every_arrow_runs_down_a_floor() -> None:
    assert circles(rooms(import_graph(modules()))) == []


def test_the_checker_finds_a_planted_circle() -> None:
    """Mutation test of the checker: symbolic → sketches → symbolic, as symbolic/fixedpoint.py made it."""
    graph = {"isttheory.sketches.base": {"isttheory.symbolic.inclusion"},
             "isttheory.symbolic.inclusion": set(),
             "isttheory.symbolic.fixedpoint": {"isttheory.sketches.base"}}
    assert circles(graph) == []
    assert circles(rooms(graph)) == [["isttheory.sketches", "isttheory.symbolic"]]
