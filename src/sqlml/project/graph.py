"""The project's DAG: dependencies, cycle detection, dbt-style node selection, and text/Mermaid/DOT output."""

from __future__ import annotations

import difflib
import graphlib
from pathlib import Path

from sqlml.errors import ProjectError
from sqlml.project.kinds import NodeKind
from sqlml.project.nodes import Node


class Graph:
    """Nodes and the edges between them (``depends_on``), checked for cycles.

    Dependencies come from ``ref()`` and from the relations each node reads that another node writes.
    """

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = {node.name: node for node in nodes}
        producers: dict[str, set[str]] = {}
        for node in nodes:
            for relation in node.outputs:
                producers.setdefault(relation, set()).add(node.name)
        for node in nodes:
            node.depends_on = set(node.refs)
            for relation in node.inputs:
                node.depends_on |= producers.get(relation, set())
            node.depends_on.discard(node.name)
        self.order = self._topological_order()

    def _topological_order(self) -> list[str]:
        sorter = graphlib.TopologicalSorter({name: node.depends_on for name, node in self.nodes.items()})
        try:
            return list(sorter.static_order())
        except graphlib.CycleError as error:
            cycle = error.args[1]
            raise ProjectError(
                f"The project's dependencies form a cycle: {' -> '.join(cycle)}.",
                node=cycle[0], hint="A node cannot read, directly or through others, what it writes; split one of them.",
            ) from None  # fmt: skip

    def children(self) -> dict[str, set[str]]:
        """Node name → the nodes that depend on it directly."""
        result: dict[str, set[str]] = {name: set() for name in self.nodes}
        for node in self.nodes.values():
            for parent in node.depends_on:
                result[parent].add(node.name)
        return result

    def descendants(self, name: str) -> set[str]:
        """Every node downstream of ``name``."""
        return _reach(name, self.children())

    def ancestors(self, name: str) -> set[str]:
        """Every node upstream of ``name``."""
        return _reach(name, {n: node.depends_on for n, node in self.nodes.items()})

    # -- selection -------------------------------------------------------------------------

    def select(self, select: list[str] | None, exclude: list[str] | None = None, root: Path | None = None) -> list[str]:
        """Node names picked by dbt-style selectors, in dependency order.

        Selectors: ``name``, ``name+`` (and everything downstream), ``+name`` (and everything
        upstream), ``tag:daily``, ``path:marts`` (a folder or file, relative to the project or the
        current folder), ``kind:ml``. Several selectors are a union; ``exclude`` removes nodes.
        """
        chosen = set(self.nodes) if not select else set().union(*(self._one(s, root) for s in _split(select)))
        if exclude:
            chosen -= set().union(*(self._one(s, root) for s in _split(exclude)))
        return [name for name in self.order if name in chosen]

    def _one(self, selector: str, root: Path | None) -> set[str]:
        up, down = selector.startswith("+"), selector.endswith("+")
        core = selector.strip("+")
        method, _, value = core.partition(":") if ":" in core else ("name", "", core)
        if method == "name":
            if value not in self.nodes:
                guess = difflib.get_close_matches(value, list(self.nodes), n=1)
                raise ProjectError(f"--select {selector}: no node is named {value}.", hint=f"Did you mean {guess[0]}?" if guess else "See `sqlml ls`.")
            base = {value}
        elif method == "tag":
            base = {n for n, node in self.nodes.items() if value in node.tags}
        elif method == "kind":
            base = {n for n, node in self.nodes.items() if node.kind is _kind(value)}
        elif method == "path":
            base = {n for n, node in self.nodes.items() if _under(node.path, value, root)}
        else:
            raise ProjectError(f"Unknown selector method '{method}:' in {selector}.", hint="Use a node name, tag:…, path:… or kind:….")
        result = set(base)
        for name in base:
            if up:
                result |= self.ancestors(name)
            if down:
                result |= self.descendants(name)
        return result

    # -- drawing ---------------------------------------------------------------------------

    def text(self) -> str:
        """One line per node in dependency order: ``name (kind) <- parents``."""
        lines = []
        for name in self.order:
            node = self.nodes[name]
            parents = ", ".join(sorted(node.depends_on))
            how = f", {node.materialized}" if node.kind is NodeKind.DATA else ""
            lines.append(f"{name} ({node.kind}{how})" + (f" <- {parents}" if parents else ""))
        return "\n".join(lines)

    def mermaid(self) -> str:
        """The graph as a Mermaid flowchart."""
        lines = ["flowchart LR"]
        lines += [f"  {name}[\"{name} ({self.nodes[name].kind})\"]" for name in self.order]
        lines += [f"  {parent} --> {name}" for name in self.order for parent in sorted(self.nodes[name].depends_on)]
        return "\n".join(lines) + "\n"

    def dot(self) -> str:
        """The graph in Graphviz DOT."""
        lines = ["digraph sqlml {", "  rankdir=LR;"]
        lines += [f'  "{name}" [label="{name}\\n{self.nodes[name].kind}"];' for name in self.order]
        lines += [f'  "{parent}" -> "{name}";' for name in self.order for parent in sorted(self.nodes[name].depends_on)]
        return "\n".join(lines + ["}"]) + "\n"


def _kind(value: str) -> NodeKind | None:
    """The node kind ``kind:value`` selects; None (selecting nothing) for a word that names none."""
    try:
        return NodeKind(value)
    except ValueError:
        return None


def _split(selectors: list[str]) -> list[str]:
    return [part for selector in selectors for part in selector.replace(",", " ").split()]


def _reach(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(edges.get(start, ()))
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(edges.get(name, ()))
    return seen


def _under(path: Path, value: str, root: Path | None) -> bool:
    candidates = [Path(value).resolve()] + ([(root / value).resolve()] if root else [])
    return any(path.resolve() == c or path.resolve().is_relative_to(c) for c in candidates)
