"""The house rules of the package, checked on its source: layers that only point down, no
import cycle (function-level imports included), short functions, few top-level modules."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "expertmatch"

#: Lowest layer first; a module may import only from its own layer or a lower one.
LAYERS: list[set[str]] = [
    {"errors", "vocabulary", "version"},
    {"io"},
    {"domain"},
    {"result", "verify"},
    {"formulation"},
    {"diagnosis"},
    {"solvers"},
    {"rounds"},
    {"api", "synthetic"},
    {"cli", "__init__"},
]


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module of the package this one imports, at any depth of its code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                stem = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*stem, base] if base else stem)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in modules and m != name}


def _layer(module: str) -> int:
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else "__init__"
    for i, layer in enumerate(LAYERS):
        if key in layer:
            return i
    raise AssertionError(f"module {module} is in no layer: add it to LAYERS")


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    modules = _modules()
    g = nx.DiGraph()
    for name, path in modules.items():
        g.add_node(name)
        for target in _imports(name, path, modules):
            if target != "expertmatch":  # the package's own __init__ is the public face
                g.add_edge(name, target)
    return g


def test_no_import_cycle(graph: nx.DiGraph) -> None:
    """No module imports, at any depth, a module that imports it back."""
    assert list(nx.simple_cycles(graph)) == []


def test_imports_only_point_down(graph: nx.DiGraph) -> None:
    """Every import points to the module's own layer or a lower one."""
    upward = [(a, b) for a, b in graph.edges if _layer(b) > _layer(a)]
    assert upward == []


def test_at_most_twelve_modules_at_the_top() -> None:
    """The package keeps at most twelve top-level modules."""
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 12, top


def test_no_function_over_100_lines() -> None:
    """No function in the package is longer than 100 lines."""
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 100:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.name} ({length} lines)")
    assert long == []


def test_every_public_name_imports() -> None:
    """Every name in expertmatch.__all__ exists."""
    import expertmatch

    missing = [n for n in expertmatch.__all__ if not hasattr(expertmatch, n)]
    assert missing == []
