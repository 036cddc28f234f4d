"""The package's architecture, read from its source with ``ast`` (nothing is imported).

* the import graph has no cycle — every import counts, inside functions too, except those under
  ``if TYPE_CHECKING:`` (they never run);
* imports go downward only (the layering of issue 16: ``sql`` is the lowest layer above
  ``errors``; the engine seam imports neither the ML code, nor scripts, nor the warehouse objects);
* no module imports another module's private name (``from sqlml.x import _y``) or reads a private
  attribute of another module (``x._y``);
* the typed packages annotate every parameter and the return of their public functions and methods.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(importlib.util.find_spec("sqlml").origin).parent  # found, not imported
#: Packages whose public functions and methods must be fully annotated (issue 16, point 6).
TYPED_PACKAGES = ("sqlml.engine", "sqlml.ml", "sqlml.store", "sqlml.script", "sqlml.project", "sqlml.warehouse")
#: The package's layers, lowest first (issue 16's layout as its parts settled it): a module imports
#: from its own layer and the layers below, never from one above. "sqlml" is the package module alone.
LAYERS = (
    ("sqlml.errors", "sqlml.user_cache"),
    ("sqlml.sql",),  # the front end
    ("sqlml.engine",),  # the seam to the SQL engine and its DuckDB implementation
    ("sqlml.render", "sqlml.result", "sqlml.progress", "sqlml.process"),
    ("sqlml.execution", "sqlml.store"),  # the executor is handed the statement table, so it imports no owner
    ("sqlml.warehouse",),
    ("sqlml.ml", "sqlml.script"),
    ("sqlml.statement_table", "sqlml.udfs"),
    ("sqlml.connection", "sqlml.api"),
    ("sqlml", "sqlml.__main__", "sqlml.cli", "sqlml.shell", "sqlml.serve", "sqlml.report", "sqlml.project", "sqlml.magics", "sqlml.magics_bigquery", "sqlml.ui"),
)  # fmt: skip


@dataclass(frozen=True)
class Module:
    """One module of the package: its dotted name, file and syntax tree."""

    name: str
    path: Path
    tree: ast.Module

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


@dataclass(frozen=True)
class Import:
    """One import statement's target inside the package, as written in ``module``."""

    module: str
    line: int
    target: str  # the module imported (or the module a name is imported from)
    names: tuple[str, ...]  # the names imported from it (``from … import a, b``); empty for ``import x``


@functools.cache
def modules() -> dict[str, Module]:
    """Every module of the package by dotted name (``sqlml.sql.dialect``; a package by its own name)."""
    result = {}
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        parts = ("sqlml", *path.relative_to(PACKAGE_ROOT).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        result[name] = Module(name, path, ast.parse(path.read_text(), str(path)))
    return result


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(nodes: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node in and under ``nodes`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    stack: list[ast.AST] = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    """The module a ``from … import`` names, with relative imports resolved."""
    if not node.level:
        return node.module or ""
    parts = module.name.split(".")
    base = parts if module.is_package else parts[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _known(name: str) -> str | None:
    """The innermost module of the package that ``name`` is or lies in; None outside the package."""
    while name not in modules():
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return name


def imports(module: Module) -> Iterator[Import]:
    """The module's imports of package modules (outside ``if TYPE_CHECKING:``)."""
    for node in _statements(module.tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if target := _known(alias.name):
                    yield Import(module.name, node.lineno, target, ())
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in modules():  # ``from sqlml.sql import dialect`` imports sqlml.sql.dialect
                    yield Import(module.name, node.lineno, submodule, ())
                elif target := _known(source):
                    yield Import(module.name, node.lineno, target, (alias.name,))


@functools.cache
def import_graph() -> dict[str, set[str]]:
    """Module → the package modules it imports (itself excluded)."""
    return {name: {i.target for i in imports(module) if i.target != name} for name, module in modules().items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """The groups of more than one module that import each other, directly or not (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)
    return groups


def shortest_cycle(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """One shortest cycle inside ``group``, as ``[a, b, …, a]`` (breadth-first from its first module)."""
    start = min(group)
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & group):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if child not in parents:
                    parents[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def test_import_graph_has_no_cycle():
    graph = import_graph()
    cycles = [" -> ".join(shortest_cycle(graph, group)) + f"  ({len(group)} modules in the cycle group)" for group in strongly_connected(graph)]
    assert not cycles, "Import cycles:\n" + "\n".join(sorted(cycles))


def layer_of(name: str) -> int | None:
    """The index in :data:`LAYERS` of the module ``name`` (by its innermost listed package); None if unlisted."""
    found = [(len(entry), index) for index, layer in enumerate(LAYERS) for entry in layer
             if name == entry or (entry != "sqlml" and _in(name, entry))]  # fmt: skip
    return max(found)[1] if found else None


def upward_imports(module: Module) -> list[str]:
    """The imports of ``module`` that reach a layer above its own."""
    own = layer_of(module.name)
    return [f"{i.module}:{i.line} imports {i.target}" for i in imports(module) if (layer_of(i.target) or 0) > own]


def test_every_module_has_a_layer():
    assert [name for name in modules() if layer_of(name) is None] == []


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: "+".join(layer))
def test_imports_go_downward_only(layer: tuple[str, ...]):
    index = LAYERS.index(layer)
    wrong = [line for name, module in modules().items() if layer_of(name) == index for line in upward_imports(module)]
    assert not wrong, f"{', '.join(layer)} import from a higher layer:\n" + "\n".join(sorted(wrong))


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_imports(module: Module) -> list[str]:
    """The private names ``module`` imports from other modules of the package."""
    return [
        f"{i.module}:{i.line} imports {name} from {i.target}"
        for i in imports(module)
        for name in i.names
        if _private(name) and i.target != i.module
    ]


def private_attributes(module: Module) -> list[str]:
    """The private attributes of other package modules that ``module`` reads (``other._name``)."""
    aliases = _module_aliases(module)
    found = []
    for node in _statements(module.tree.body):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and _private(node.attr):
            target = aliases.get(node.value.id)
            if target and target != module.name:
                found.append(f"{module.name}:{node.lineno} reads {target}.{node.attr}")
    return found


def test_no_private_name_is_imported_across_modules():
    wrong = [line for module in modules().values() for line in private_imports(module)]
    assert not wrong, "Private names imported from other modules:\n" + "\n".join(sorted(wrong))


def test_no_private_attribute_of_another_module_is_read():
    wrong = [line for module in modules().values() for line in private_attributes(module)]
    assert not wrong, "Private attributes of other modules:\n" + "\n".join(sorted(wrong))


def _module_aliases(module: Module) -> dict[str, str]:
    """Local name → package module, for names the module binds to modules by importing them."""
    aliases = {}
    for node in _statements(module.tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in modules():
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                if f"{source}.{alias.name}" in modules():
                    aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
    return aliases


def public_functions(module: Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(qualified name, definition) of the module's public functions and public classes' public methods."""
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in module.tree.body:
        if isinstance(node, functions) and not node.name.startswith("_"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, functions) and not item.name.startswith("_"):
                    yield f"{node.name}.{item.name}", item


def unannotated(function: ast.FunctionDef | ast.AsyncFunctionDef, is_method: bool) -> list[str]:
    """The parameters (and ``return``) of a definition that carry no annotation."""
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list)
    if is_method and not static:
        positional = positional[1:]  # self / cls
    parameters = positional + arguments.kwonlyargs + [a for a in (arguments.vararg, arguments.kwarg) if a]
    missing = [p.arg for p in parameters if p.annotation is None]
    return missing + ["return"] * (function.returns is None)


@pytest.mark.parametrize("package", TYPED_PACKAGES)
def test_typed_packages_annotate_their_public_boundaries(package: str):
    wrong = []
    for name, module in modules().items():
        if not _in(name, package) or any(_private(part) for part in name.split(".")):
            continue
        for qualified, function in public_functions(module):
            if missing := unannotated(function, "." in qualified):
                wrong.append(f"{name}.{qualified} ({module.path.name}:{function.lineno}): {', '.join(missing)}")
    assert not wrong, f"{len(wrong)} public functions of {package} with unannotated parameters or return:\n" + "\n".join(sorted(wrong))


# -- the checks themselves, on small made-up graphs and sources ------------------------------------


def test_strongly_connected_finds_each_cycle_group_once():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d", "a"}, "f": set()}
    assert sorted(map(sorted, strongly_connected(graph))) == [["a", "b", "c"], ["d", "e"]]
    assert shortest_cycle(graph, {"a", "b", "c"}) == ["a", "b", "c", "a"]


def test_type_checking_imports_are_not_edges():
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\nelse:\n    import b\ndef f():\n    import c\n"
    seen = {n.names[0].name for n in _statements(ast.parse(source).body) if isinstance(n, ast.Import)}
    assert seen == {"b", "c"}


def test_unannotated_names_each_missing_annotation():
    source = "class C:\n    def m(self, a: int, b, *args, c: str = '', **kw) -> None: ...\ndef f(x: int): ...\n"
    module = Module("m", Path("m.py"), ast.parse(source))
    found = {name: unannotated(node, "." in name) for name, node in public_functions(module)}
    assert found == {"C.m": ["b", "args", "kw"], "f": ["return"]}


def test_layering_private_names_and_private_attributes_are_each_found():
    source = (
        "from typing import TYPE_CHECKING\n"
        "from sqlml.errors import _hidden, Error\n"
        "from sqlml.sql import dialect\n"
        "import sqlml.errors as errors\n"
        "if TYPE_CHECKING:\n"
        "    from sqlml.ml.models import model\n"
        "def f():\n"
        "    from sqlml.engine import base\n"
        "    return errors._secret, dialect._private, base\n"
    )
    module = Module("sqlml.sql.made_up", Path("made_up.py"), ast.parse(source))
    assert upward_imports(module) == ["sqlml.sql.made_up:8 imports sqlml.engine.base"]
    assert private_imports(module) == ["sqlml.sql.made_up:2 imports _hidden from sqlml.errors"]
    assert sorted(private_attributes(module)) == [
        "sqlml.sql.made_up:9 reads sqlml.errors._secret", "sqlml.sql.made_up:9 reads sqlml.sql.dialect._private",
    ]  # fmt: skip
