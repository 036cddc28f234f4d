"""Finding a project's nodes and learning what each one is, reads and writes.

What a file is follows from its rendered content: a single query (SELECT, WITH … SELECT) is a
*data* model, materialized as its config says; a single ``CREATE MODEL`` is an *ml* model; anything
else is a *script*. CSV files under ``seeds/`` are *seed* nodes, SQL files under ``tests/``
singular *test* nodes. The tables a statement reads and writes are found by sqlglot, so plain SQL
files need no Jinja to be ordered correctly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp

from sqlml.errors import Error, ProjectError
from sqlml.project.config import MATERIALIZATIONS, SPECIAL_FOLDERS, Project
from sqlml.project.kinds import Materialization, NodeKind
from sqlml.project.templating import PARSE_REF_PREFIX, RenderContext, Templates, node_error
from sqlml.sql.dialect import Sqlml
from sqlml.sql.script import PROCEDURAL_VERBS, ScriptParser, Statement

_WRITES = (exp.Create, exp.Insert, exp.Merge)


@dataclass
class Node:
    """One runnable unit of a project.

    Attributes:
        name: the file name without extension (unique in the project).
        kind: what the node is: seed, data, ml, script or test.
        path: the file.
        text: the file's raw text (Jinja included).
        config: the node's settings: project defaults, then ``{{ config(...) }}``.
        relation: what ``ref(name)`` resolves to (a table, view or model name); None for tests.
        inputs: relation names the node reads (lower-case).
        outputs: relation names the node writes (lower-case).
        refs: node names referenced with ``ref()``.
        depends_on: node names this node runs after (filled by :mod:`.graph`).
    """

    name: str
    kind: NodeKind
    path: Path
    text: str = ""
    config: dict = field(default_factory=dict)
    relation: str | None = None
    inputs: set[str] = field(default_factory=set)
    outputs: set[str] = field(default_factory=set)
    refs: list[str] = field(default_factory=list)
    depends_on: set[str] = field(default_factory=set)

    @property
    def tags(self) -> list[str]:
        """The node's tags (``config(tags=[…])``)."""
        tags = self.config.get("tags") or []
        return [tags] if isinstance(tags, str) else list(tags)

    @property
    def materialized(self) -> Materialization:
        """How a data model is built: view, table, incremental or ephemeral."""
        return Materialization(self.config.get("materialized", Materialization.VIEW))

    def text_hash(self) -> str:
        """A hash of the file's text and config, to tell whether the node changed."""
        return hashlib.sha256((self.text + repr(sorted(self.config.items(), key=str))).encode()).hexdigest()[:16]


def discover(project: Project) -> tuple[list[Node], Templates]:
    """Every node of the project, parsed; and the templates to compile them with."""
    seeds = []
    for path in _files(project.folder("seeds"), "*.csv"):
        config = {**project.defaults, **project.node_configs.get(path.stem, {}), **project.seed_options.get(path.stem, {})}
        seeds.append(Node(path.stem, NodeKind.SEED, path, config=config, relation=relation_for(project, path.stem, config)))
    skip = {project.root / folder for folder in SPECIAL_FOLDERS.values()} | {Path(project.warehouse), Path(project.models)}
    skip |= {project.root / folder for folder in ("target", "analyses", "snapshots", "dbt_packages")}  # dbt output and features sqlml does not run
    sql_files = [p for p in _files(project.root, "*.sql") if not any(p.is_relative_to(s) for s in skip)]
    tests = _files(project.folder("tests"), "*.sql")
    names = [n.name for n in seeds] + [p.stem for p in sql_files]
    _check_unique(names, seeds, sql_files)
    templates = Templates(project.folder("macros"), names)
    nodes = list(seeds)
    for path in sql_files:
        nodes.append(_parse(project, templates, path, kind=None))
    for path in tests:
        nodes.append(_parse(project, templates, path, kind=NodeKind.TEST))
    return nodes, templates


def _files(folder: Path, pattern: str) -> list[Path]:
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob(pattern) if not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _check_unique(names: list[str], seeds: list[Node], sql_files: list[Path]) -> None:
    seen: dict[str, Path] = {n.name: n.path for n in seeds}
    for path in sql_files:
        if path.stem in seen:
            raise ProjectError(
                f"Two nodes are named {path.stem}: {seen[path.stem]} and {path}.",
                path=str(path), hint="Node names are file names without extension; rename one.",
            )  # fmt: skip
        seen[path.stem] = path


def relation_for(project: Project, name: str, config: dict) -> str:
    """The relation a data model builds: ``dataset.alias`` from its config."""
    dataset = config.get("schema") or config.get("dataset") or project.dataset
    return f"{dataset}.{config.get('alias') or name}".lower()


def render_context(
    project: Project, node_name: str, path: Path, relation_of: Callable[[str], str] | None = None, incremental: bool = False
) -> RenderContext:
    """A render context for one node (``relation_of`` None while parsing)."""
    return RenderContext(
        node=node_name, path=path, relation_of=relation_of, sources=project.sources, vars=project.vars,
        this=lambda config: relation_for(project, node_name, config), incremental=incremental,
    )  # fmt: skip


def _parse(project: Project, templates: Templates, path: Path, kind: NodeKind | None) -> Node:
    text = path.read_text()
    context = render_context(project, path.stem, path)
    rendered = templates.render(text, context)
    config = {**project.defaults, **project.node_configs.get(path.stem, {}), **context.config}
    if config.get("materialized") not in MATERIALIZATIONS:
        raise node_error(
            path, path.stem, f"unknown materialized='{config.get('materialized')}'.", hint=f"Use one of: {', '.join(MATERIALIZATIONS)}."
        )
    trees = parse_trees(rendered, path, path.stem)
    node = Node(path.stem, kind or _kind_of(trees), path, text, config, refs=list(dict.fromkeys(context.refs)))
    for tree in trees:
        reads, writes = tables_of(tree)
        node.inputs |= reads
        node.outputs |= writes
    node.inputs -= node.outputs
    _RELATIONS[node.kind](project, node, trees)
    return node


def _data_relation(project: Project, node: Node, trees: list[exp.Expression]) -> None:
    node.relation = relation_for(project, node.name, node.config)
    node.outputs = {node.relation}


def _model_relation(project: Project, node: Node, trees: list[exp.Expression]) -> None:
    target = trees[0].this  # model names keep their case, as on BigQuery
    node.relation = ".".join(part for part in (target.db, target.name) if part)


def _script_relation(project: Project, node: Node, trees: list[exp.Expression]) -> None:
    node.relation = relation_for(project, node.name, node.config) if not node.outputs else sorted(node.outputs)[0]


#: How a parsed SQL file's relation (what ``ref()`` gives) follows from its kind; a test has none.
_RELATIONS = {
    NodeKind.DATA: _data_relation,
    NodeKind.ML: _model_relation,
    NodeKind.SCRIPT: _script_relation,
    NodeKind.TEST: lambda project, node, trees: None,
}


def parse_trees(sql: str, path: Path, node: str) -> list[exp.Expression]:
    """The statements of rendered SQL; procedural blocks count as no tree (their text still runs)."""
    try:
        parser = ScriptParser(sql, Sqlml, str(path))
        return [parser.parse_statement(s) for s in parser.nodes() if isinstance(s, Statement) and s.verb not in PROCEDURAL_VERBS]
    except Error as error:
        raise node_error(path, node, str(error)) from None


def _kind_of(trees: list[exp.Expression]) -> NodeKind:
    if len(trees) == 1 and isinstance(trees[0], exp.Query):
        return NodeKind.DATA
    if len(trees) == 1 and isinstance(trees[0], exp.Create) and (trees[0].kind or "").upper() == "MODEL":
        return NodeKind.ML
    return NodeKind.SCRIPT


def tables_of(tree: exp.Expression) -> tuple[set[str], set[str]]:
    """(relations read, relations written) by one statement, lower-case ``dataset.name``."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    writes = set()
    for node in tree.find_all(*_WRITES):
        target = node.this
        if isinstance(target, exp.Schema):
            target = target.this
        if isinstance(target, exp.Table):
            writes.add(_name(target))
    reads = set()
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # ML.PREDICT(...) in FROM: its MODEL and TABLE arguments are Tables themselves
        name = _name(table)
        if name not in ctes and not name.startswith(PARSE_REF_PREFIX):
            reads.add(name)
    return reads - writes, writes


def _name(table: exp.Table) -> str:
    return ".".join(part for part in (table.db, table.name) if part).lower()
