"""Facts about edge/'s layout that a newcomer can rely on: no two modules import each
other (however late), and no module is too long to read in one sitting."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.paths import ROOT

EDGE = ROOT / "edge"
MAX_LINES = 400


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool) -> Iterator[str]:
    """Every dotted name an import statement can mean: `from a.b import c` is a.b or a.b.c."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:  # relative: resolved against the importer's package
        package = importer.split(".") if is_package else importer.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    yield base
    yield from (f"{base}.{alias.name}" for alias in node.names)


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(path: Path, modules: set[str], root: Path = ROOT) -> set[str]:
    """The edge modules `path` imports anywhere in its text, a function's late import
    included (it is still a dependency, only deferred), except under `if TYPE_CHECKING:`
    (never run). A package's own __init__ is not counted: importing edge.config.source
    runs edge/config/__init__.py whatever imports it, circle or not."""
    name = module_name(path, root)
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _is_type_checking(node):
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.update(
                target
                for target in _imported(node, name, path.name == "__init__.py")
                if target in modules and target != name
            )
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return found


def import_graph(package: Path = EDGE, root: Path = ROOT) -> dict[str, set[str]]:
    paths = sorted(package.rglob("*.py"))
    modules = {module_name(path, root) for path in paths}
    return {module_name(path, root): imports_of(path, modules, root) for path in paths}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_the_circle_finder_finds_a_circle_through_a_late_import(tmp_path: Path) -> None:
    """The checker itself: a circle closed only inside a function is still found."""
    package = tmp_path / "edge"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from edge.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from edge import a\n    return a\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from edge.a import x\n"
    )
    graph = import_graph(package, tmp_path)
    assert graph["edge.c"] == set()
    assert circles(graph) == [["edge.a", "edge.b"]]


def test_no_import_circles_in_edge() -> None:
    assert circles(import_graph()) == []


def test_no_module_in_edge_is_over_400_lines() -> None:
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in EDGE.rglob("*.py")
    }
    assert {path: n for path, n in lengths.items() if n > MAX_LINES} == {}
