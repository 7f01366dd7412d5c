"""The architecture holds: imports point down the pipeline (no cycles, counting imports
inside functions and for type checking), the scene knows no text machinery, functions are
short, and a figure option and a theme key are the same record."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "svgattn"


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Each svgattn module and the svgattn modules it imports, anywhere in its body."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    child = f"{base}.{alias.name}"
                    found.add(child if child in modules else base)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles_counting_imports_inside_functions():
    assert _cycles(_imports()) == []


def test_low_stages_import_nothing_above_them():
    graph = _imports()
    assert not {m for m in graph["svgattn.scene"] if m.startswith("svgattn.text")}
    for module, deps in graph.items():
        if module.startswith(("svgattn.analysis", "svgattn.sources", "svgattn.data")):
            above = {d for d in deps if d.startswith(("svgattn.views", "svgattn.layout",
                                                      "svgattn.render", "svgattn.diagram",
                                                      "svgattn.cli", "svgattn.batch"))}
            assert not above, (module, above)
        if module.startswith(("svgattn.theme", "svgattn.layout")):
            assert not {d for d in deps if d.startswith("svgattn.sources")}, module


def test_no_function_is_longer_than_80_lines():
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if lines > 80:
                    long.append(f"{path.relative_to(ROOT)}:{node.name} ({lines} lines)")
    assert long == []


def test_options_and_theme_keys_are_one_record():
    from svgattn.fields import Field
    from svgattn.options import COMMON
    from svgattn.settings import SETTINGS, schema
    from svgattn.theme.schema import all_keys
    from svgattn.views.registry import load_all

    every = [*COMMON, *SETTINGS, *(f for v in load_all().values() for f in schema(v).values())]
    assert all(isinstance(f, Field) for f in [*every, *all_keys()])
