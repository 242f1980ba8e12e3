"""The direction of imports inside ``simulator/`` (docs/architecture.md).

Layers, from the bottom up: ``base`` (safe reading and writing, terminal text) → ``sd`` (the
generic system-dynamics engine) → ``plan`` (the plan as data) → ``model`` (the runner) →
``analysis`` → ``present`` → the two faces, ``cli`` and ``app`` (and ``app.py`` on top). A module
may import from its own layer and the layers below, never from above; the two faces never import
each other; no module imports itself back through others (no cycle); nothing in the package
imports Streamlit. Every import counts, at the top of a module or inside a function; only
imports under ``if TYPE_CHECKING:`` (type hints, never run) are left out.

The checker reads the source with :mod:`ast` (nothing is imported); its own tests at the end run
it on small packages written to a temporary directory, so a rule it fails to see fails here.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: Rank of each top-level part of the package; a module may import ranks <= its own.
LAYERS = {"base": 0, "sd": 1, "plan": 2, "model": 3, "analysis": 4, "present": 5,
          "cli": 6, "app": 6, "__main__": 7, "__init__": 7}
#: Parts that must not import each other although they share a rank.
APART = {frozenset({"cli", "app"})}
#: Packages that must stay generic: they may not import the plan's knowledge (the layer rule
#: already forbids it; this names why) and are checked for Streamlit like every part.
FORBIDDEN_EVERYWHERE = ("streamlit",)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, int]]:
    """(imported module, line) of every import in ``tree`` outside ``if TYPE_CHECKING:``."""
    found: list[tuple[str, int]] = []
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:  # a module (``from simulator.plan import tables``) or a
                found.append((f"{base}.{alias.name}", node.lineno))  # name in one
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def module_graph(root: Path, package: str = "simulator") -> dict[str, dict[str, int]]:
    """Module name → {module of this package it imports: first line}, for every ``.py`` file
    under ``root`` (the package's directory)."""
    files = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = [package, *rel.parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        files[".".join(parts)] = (path, is_package)
    graph: dict[str, dict[str, int]] = {}
    for name, (path, is_package) in files.items():
        edges: dict[str, int] = {}
        for target, line in _imports(ast.parse(path.read_text(encoding="utf-8")), name,
                                     is_package):
            while target and target not in files:  # ``pkg.mod.func`` → ``pkg.mod``
                target = target.rpartition(".")[0]
            if target and target != name and target != package:
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def external_imports(root: Path, forbidden: tuple[str, ...]) -> list[str]:
    """``file:line imports X`` for every import of a ``forbidden`` top-level package."""
    out = []
    for path in sorted(root.rglob("*.py")):
        for target, line in _imports(ast.parse(path.read_text(encoding="utf-8")), "x", False):
            if target.split(".")[0] in forbidden:
                out.append(f"{path.relative_to(root)}:{line} imports {target}")
    return out


def part(module: str) -> str:
    """The top-level part of the package a module belongs to (``simulator.sd.engine`` → sd)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def direction_errors(graph: dict[str, dict[str, int]], layers=LAYERS, apart=APART) -> list[str]:
    """Every import that goes up a layer or between parts kept apart, as readable lines."""
    errors = []
    for source, edges in sorted(graph.items()):
        for target, line in sorted(edges.items()):
            a, b = part(source), part(target)
            if a not in layers or b not in layers:
                errors.append(f"{source}:{line} imports {target}: part {a if a not in layers else b!r} "
                              "has no layer in LAYERS")
            elif layers[b] > layers[a]:
                errors.append(f"{source}:{line} imports {target}: {a} (layer {layers[a]}) may not "
                              f"import {b} (layer {layers[b]})")
            elif frozenset({a, b}) in apart and a != b:
                errors.append(f"{source}:{line} imports {target}: {a} and {b} are kept apart")
    return errors


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The import cycles: strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


GRAPH = module_graph(REPO / "simulator")


def test_every_module_has_a_layer():
    assert {part(m) for m in GRAPH} <= set(LAYERS), sorted({part(m) for m in GRAPH} - set(LAYERS))


def test_imports_run_one_way_from_the_faces_down_to_the_engine():
    assert direction_errors(GRAPH) == []


def test_no_module_imports_itself_back():
    assert cycles(GRAPH) == []


def test_the_package_never_imports_streamlit():
    assert external_imports(REPO / "simulator", FORBIDDEN_EVERYWHERE) == []


def test_app_py_uses_the_layers_below_it():
    """``app.py`` is the top: it may import anything of the package except the command line."""
    tree = ast.parse((REPO / "app.py").read_text(encoding="utf-8"))
    targets = {t for t, _ in _imports(tree, "app", False) if t.startswith("simulator")}
    assert targets, "app.py imports nothing from simulator: the check would be empty"
    assert not [t for t in targets if t == "simulator.cli" or t.startswith("simulator.cli.")]


# ---- the checker's own tests: a rule it does not see must fail here ----------------------

def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "simulator"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


BASE = {"__init__.py": "", "base/__init__.py": "", "base/inputs.py": "",
        "sd/__init__.py": "", "plan/__init__.py": "", "plan/tables.py": "",
        "analysis/__init__.py": ""}


@pytest.mark.parametrize("text", [
    "from simulator.plan import tables\n",
    "from simulator.plan.tables import MODEL_FILE\n",
    "import simulator.plan.tables\n",
    "def f():\n    from ..plan import tables\n",
    "def f():\n    from simulator.plan.tables import x\n",
], ids=["from-package", "from-module", "import", "relative-in-function", "lazy-absolute"])
def test_the_checker_sees_an_import_going_up(tmp_path, text):
    graph = module_graph(_package(tmp_path, {**BASE, "sd/engine.py": text}))
    errors = direction_errors(graph)
    assert len(errors) == 1 and "simulator.sd.engine" in errors[0] and "plan" in errors[0]


def test_the_checker_ignores_type_hints_only(tmp_path):
    text = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from simulator.plan.tables import Lever\n")
    assert direction_errors(module_graph(_package(tmp_path, {**BASE, "sd/engine.py": text}))) == []


def test_the_checker_sees_a_cycle_and_faces_importing_each_other(tmp_path):
    root = _package(tmp_path, {
        **BASE, "analysis/a.py": "from simulator.analysis import b\n",
        "analysis/b.py": "def f():\n    from simulator.analysis import a\n",
        "cli.py": "", "app/__init__.py": "", "app/views.py": "from simulator import cli\n"})
    graph = module_graph(root)
    assert cycles(graph) == [["simulator.analysis.a", "simulator.analysis.b"]]
    assert direction_errors(graph) == [
        "simulator.app.views:1 imports simulator.cli: app and cli are kept apart"]


def test_the_checker_sees_streamlit(tmp_path):
    root = _package(tmp_path, {**BASE, "base/inputs.py": "def f():\n    import streamlit as st\n"})
    assert external_imports(root, FORBIDDEN_EVERYWHERE) == [
        "base/inputs.py:2 imports streamlit"]
