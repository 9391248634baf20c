"""The layers of the house, checked by reading the source (the AST), not by running it.

* ``scanner`` is the library: it imports nothing from ``lessons``.
* the practice lab (``lessons/lab``) imports nothing from the interactive program (``lessons/ui``).
* the content and what reads it (``lessons/catalog.py``, ``lessons/render.py``, ``lessons/quiz.py``)
  import nothing from the interactive program either.
* no module imports, directly or around a circle, a module that imports it back.
* an import inside a function is a deliberate lazy import and says so in a comment.
"""

from __future__ import annotations

import ast
import os
from typing import Dict, List, Set

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("scanner", "lessons")


def _module_name(path: str) -> str:
    relative = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
    return relative[: -len(".__init__")] if relative.endswith(".__init__") else relative


def _sources() -> Dict[str, str]:
    found = {}
    for package in PACKAGES:
        for folder, _dirs, files in os.walk(os.path.join(ROOT, package)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    found[_module_name(path)] = path
    found["main"] = os.path.join(ROOT, "main.py")
    return found


SOURCES = _sources()


def _imported(node: ast.AST, module: str, is_package: bool) -> List[str]:
    """The project modules an import statement names (``from a import b`` may name module ``a.b``)."""
    names: List[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = module.split(".")
            parts = parts if is_package else parts[:-1]
            parts = parts[: len(parts) - (node.level - 1)]
            base = ".".join(parts + ([base] if base else []))
        names = [base] + [f"{base}.{alias.name}" for alias in node.names]
    return [name for name in names if name in SOURCES]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str, top_level_only: bool) -> Set[str]:
    path = SOURCES[module]
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    is_package = path.endswith("__init__.py")
    found: Set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, (ast.Import, ast.ImportFrom)) and not (top_level_only and in_function):
                found.update(_imported(child, module, is_package))
            visit(child, inside)

    visit(tree, False)
    found.discard(module)
    return found


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if _in(m, "scanner")))
def test_the_scanner_imports_nothing_from_lessons(module):
    assert not [name for name in _imports(module, False) if _in(name, "lessons")]


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if _in(m, "lessons.lab")))
def test_the_lab_imports_nothing_from_the_ui(module):
    assert not [name for name in _imports(module, False) if _in(name, "lessons.ui")]


@pytest.mark.parametrize("module", ["lessons.catalog", "lessons.render", "lessons.quiz"])
def test_content_readers_import_nothing_from_the_ui(module):
    assert not [name for name in _imports(module, False) if _in(name, "lessons.ui")]


def test_no_import_cycles():
    """Every import counted, lazy ones too: a lazy import must not hide a circle."""
    graph = {module: _imports(module, False) for module in SOURCES}
    # An "import a.b.c" also runs a and a.b: a package's __init__ belongs to the graph.
    for module in list(graph):
        parts = module.split(".")
        for depth in range(1, len(parts)):
            parent = ".".join(parts[:depth])
            if parent in graph:
                graph[module] = graph[module] | {parent}
    for package in [m for m in graph if SOURCES[m].endswith("__init__.py")]:
        graph[package] = {name for name in graph[package] if not _in(name, package) or name == package}
    cycles = []
    state: Dict[str, int] = {}
    stack: List[str] = []

    def walk(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for name in sorted(graph[module]):
            if state.get(name) == 1:
                cycles.append(stack[stack.index(name):] + [name])
            elif name not in state:
                walk(name)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module)
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


NOT_CHECKED_FOR_LAZY_IMPORTS: set = set()


def test_imports_inside_functions_are_commented_lazy_imports():
    """An import of our own modules inside a function hides the order modules load in (and once hid
    three circles): only a deliberate lazy import, with a comment saying so.  A platform's own
    module (fcntl, resource, ctypes) may be imported where it is used."""
    bare = []
    for module, path in SOURCES.items():
        if module in NOT_CHECKED_FOR_LAZY_IMPORTS:
            continue
        lines = open(path, encoding="utf-8").read().splitlines()
        tree = ast.parse("\n".join(lines), path)
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                ours = _imported(node, module, path.endswith("__init__.py")) if isinstance(
                    node, (ast.Import, ast.ImportFrom)) else []
                if ours and "lazy" not in lines[node.lineno - 1]:
                    bare.append(f"{module}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert not bare, "\n".join(bare)
