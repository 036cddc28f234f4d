"""The runs pages: the project's run history (``sqlml_meta.runs`` / ``node_runs``, read with
:class:`~sqlml.project.history.History`) and its DAG drawn as SVG, each node coloured by its
outcome in the run shown."""

from __future__ import annotations

import html
from pathlib import Path

from markupsafe import Markup

import sqlml
from sqlml.project.history import SCHEMA, History
from sqlml.project.runner import Runner

#: Fill colour of a node by its status in the run shown (grey: not in the run).
STATUS_COLOURS = {
    "success": "#dafbe1", "pass": "#dafbe1", "unchanged": "#eef6ee", "error": "#ffebe9", "fail": "#ffebe9",
    "gate_failed": "#fff1c5", "warn": "#fff8c5", "skipped": "#f6f8fa", "interrupted": "#ffebe9", "not_started": "#f6f8fa",
}  # fmt: skip
_WIDTH, _HEIGHT, _GAP_X, _GAP_Y = 170, 34, 60, 18


def has_history(con: sqlml.Connection) -> bool:
    """Whether any project run was recorded (the UI does not create the tables just to read them)."""
    return con.relation_kind(f"{SCHEMA}.runs") is not None


def recent_runs(con: sqlml.Connection, limit: int = 50) -> list[dict]:
    """The newest runs first."""
    return History(con).recent_runs(limit).arrow().to_pylist() if has_history(con) else []


def node_runs(con: sqlml.Connection, run_id: str) -> list[dict]:
    """One run's nodes: status, rows written, seconds and the error or gate message."""
    return History(con).node_runs(run_id).arrow().to_pylist() if has_history(con) else []


def project_edges(con: sqlml.Connection, project_dir: str | Path) -> dict[str, set[str]]:
    """Node → the nodes it depends on, from the project folder's graph."""
    graph = Runner(project_dir, connection=con).graph
    return {name: set(node.depends_on) for name, node in graph.nodes.items()}


def dag_svg(edges: dict[str, set[str]], statuses: dict[str, str]) -> Markup:
    """The DAG as SVG: one column per depth (a node sits right of everything it depends on)."""
    depth: dict[str, int] = {}

    def level(name: str, seen: frozenset = frozenset()) -> int:
        if name not in depth:
            parents = [p for p in edges.get(name, ()) if p in edges and p not in seen]
            depth[name] = 1 + max((level(p, seen | {name}) for p in parents), default=-1)
        return depth[name]

    columns: dict[int, list[str]] = {}
    for name in sorted(edges):
        columns.setdefault(level(name), []).append(name)
    position = {name: (col * (_WIDTH + _GAP_X) + 10, row * (_HEIGHT + _GAP_Y) + 10)
                for col, names in columns.items() for row, name in enumerate(names)}  # fmt: skip
    width = (max(columns, default=0) + 1) * (_WIDTH + _GAP_X)
    height = max((len(n) for n in columns.values()), default=1) * (_HEIGHT + _GAP_Y) + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="DAG" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><title>DAG</title><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
             'markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#57606a"/></marker></defs>']  # fmt: skip
    for child, parents in sorted(edges.items()):
        for parent in sorted(p for p in parents if p in position):
            (x1, y1), (x2, y2) = position[parent], position[child]
            parts.append(f'<line x1="{x1 + _WIDTH}" y1="{y1 + _HEIGHT / 2}" x2="{x2}" y2="{y2 + _HEIGHT / 2}" stroke="#57606a" marker-end="url(#arrow)"/>')
    for name, (x, y) in position.items():
        status = statuses.get(name)
        label = html.escape(name if len(name) <= 24 else name[:23] + "…")
        parts.append(
            f'<g class="node" data-node="{html.escape(name)}" data-status="{html.escape(status or "")}"><title>{html.escape(name)}: {html.escape(status or "not in this run")}</title>'
            f'<rect x="{x}" y="{y}" width="{_WIDTH}" height="{_HEIGHT}" rx="6" fill="{STATUS_COLOURS.get(status or "", "#ffffff")}" stroke="#57606a"/>'
            f'<text x="{x + 8}" y="{y + 21}" font-size="12" font-family="system-ui, sans-serif">{label}</text></g>'
        )  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))
