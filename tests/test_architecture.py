"""The shape of the package, read from its source with `ast`: no import circles among the
`ropa` modules, and only `ropa.cli` speaks typer, click or rich."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "ropa"
CLI_ONLY = ("typer", "click", "rich")


@dataclass(frozen=True)
class Import:
    importer: str  # the module that imports
    target: str  # a ropa module (the deepest one named), or the top-level name of another
    line: int
    in_function: bool  # inside a def: runs when called, not when the module is imported


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str, path: Path, known: set[str]) -> list[Import]:
    """Every import a module makes, except under `if TYPE_CHECKING:` (never run)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def target(dotted: str) -> str:
        if dotted.split(".")[0] != "ropa":
            return dotted.split(".")[0]
        while dotted not in known:  # `import ropa.x.f` names a module; keep the module
            dotted = dotted.rpartition(".")[0]
        return dotted

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_only(child):
                for other in child.orelse:
                    visit_one(other, in_function)
                continue
            visit_one(child, in_function)

    def visit_one(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(name, target(alias.name), node.lineno, in_function))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, one level up per extra dot
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                # `from ropa import checks` imports a module; `from ropa import __version__`
                # a name of the package.
                full = f"{base}.{alias.name}"
                dotted = full if full in known else base
                found.append(Import(name, target(dotted), node.lineno, in_function))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            visit(node, True)
        else:
            visit(node, in_function)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), False)
    return found


def all_imports() -> list[Import]:
    found = modules()
    return [i for name, path in found.items() for i in imports_of(name, path, set(found))]


def circles(edges: list[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        if a != b:
            graph.setdefault(a, set()).add(b)
            graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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
    return sorted(found)


def _counts_for_circles(i: Import) -> bool:
    """Which imports make a circle.

    All of them, function-level ones too: a lazy import inside a function keeps `--help`
    fast, but a module that reaches back into one that imports it is a layering knot all the
    same (registry -> io.data_layout -> registry), and it only shows when the function runs.
    One exception: a package loading its own submodules from a function (`ropa.cli` registers
    its command modules in `_register()`); Python imports a package before any of its
    submodules anyway, so the submodules using the package's shared things is no knot.
    Imports under `if TYPE_CHECKING:` are never run and are not read at all."""
    if not i.target.startswith("ropa"):
        return False
    return not (i.in_function and i.target.startswith(i.importer + "."))


def test_no_import_circle_among_ropa_modules():
    edges = [(i.importer, i.target) for i in all_imports() if _counts_for_circles(i)]
    assert circles(edges) == []


def test_only_the_cli_imports_typer_click_or_rich():
    outside = [
        f"{i.importer}:{i.line} imports {i.target}"
        for i in all_imports()
        if i.target in CLI_ONLY
        and not (i.importer == "ropa.cli" or i.importer.startswith("ropa.cli."))
    ]
    assert outside == []


def test_the_import_graph_reads_every_kind_of_import():
    pairs = {(i.importer, i.target, i.in_function) for i in all_imports()}
    assert ("ropa.cli.check", "ropa.checks", False) in pairs  # from ropa.checks import …
    assert ("ropa.registry", "ropa.io.data_layout", True) in pairs  # inside a method
    assert ("ropa.registry", "ropa.checks", True) in pairs  # from ropa import checks
    assert ("ropa.cli", "typer", False) in pairs
    # ropa.db names sqlalchemy's types only under TYPE_CHECKING, and imports it in functions
    assert ("ropa.db", "sqlalchemy", False) not in pairs
    assert ("ropa.db", "sqlalchemy", True) in pairs


def test_circles_finds_a_circle_and_only_it():
    assert circles([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "d")]) == [
        ["a", "b", "c"]
    ]
    assert circles([("a", "b"), ("b", "c")]) == []
