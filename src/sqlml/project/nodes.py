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
from sqlml.project.folder_config import config_problem, folder_config, merge, strategy_problem
from sqlml.project.kinds import Materialization, NodeKind
from sqlml.project.templating import PARSE_REF_PREFIX, RenderContext, Templates, default_schema_name, node_error
from sqlml.project.unsupported import check_template, config_call_line, unsupported
from sqlml.sql.dialect import DIALECTS, Sqlml
from sqlml.sql.nodes import Statement
from sqlml.sql.script import PROCEDURAL_VERBS, ScriptParser

_WRITES = (exp.Create, exp.Insert, exp.Merge)


@dataclass
class Node:
    """One runnable unit of a project.

    Attributes:
        name: the file name without extension (unique in the project).
        kind: what the node is: seed, data, ml, script or test.
        path: the file.
        text: the file's raw text (Jinja included).
        config: the node's settings: project defaults, then dbt_project.yml's folder config (most
            specific folder last), then a properties file's ``config:``, then ``{{ config(...) }}``.
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
    """Every enabled node of the project, parsed; and the templates to compile them with.

    Raises:
        ProjectError: for a construct only dbt runs (before anything is rendered), or a ``ref`` to a
            disabled node.
    """
    csv_files = [p for folder in project.folders("seeds") for p in _files(folder, "*.csv")]
    sql_files = _model_files(project)
    tests = [p for folder in project.folders("tests") for p in _files(folder, "*.sql")]
    _check_unique([p.stem for p in csv_files], csv_files, sql_files)
    templates = Templates(project.folders("macros"), [p.stem for p in csv_files + sql_files])
    for path in templates.macro_files + sql_files + tests:
        check_template(templates.environment, path.read_text(), path, project.root, templates.macro_names)
    _use_schema_macro(project, templates)
    nodes = [_seed(project, path) for path in csv_files]
    nodes += [_parse(project, templates, path, kind=None) for path in sql_files]
    nodes += [_parse(project, templates, path, kind=NodeKind.TEST) for path in tests]
    return _enabled(project, nodes), templates


def _model_files(project: Project) -> list[Path]:
    """The SQL files that are models: in a dbt project those under its model paths, else any outside the special folders."""
    if project.dbt:
        return [p for folder in project.folders("models") for p in _files(folder, "*.sql")]
    skip = {project.root / folder for folder in SPECIAL_FOLDERS.values()} | {Path(project.warehouse), Path(project.models)}
    skip |= {project.root / folder for folder in ("target", "analyses", "snapshots", "dbt_packages")}  # dbt output and features sqlml does not run
    return [p for p in _files(project.root, "*.sql") if not any(p.is_relative_to(s) for s in skip)]


def _files(folder: Path, pattern: str) -> list[Path]:
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob(pattern) if not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _check_unique(names: list[str], csv_files: list[Path], sql_files: list[Path]) -> None:
    seen: dict[str, Path] = {p.stem: p for p in csv_files}
    for path in sql_files:
        if path.stem in seen:
            raise ProjectError(
                f"Two nodes are named {path.stem}: {seen[path.stem]} and {path}.",
                path=str(path), hint="Node names are file names without extension; rename one.",
            )  # fmt: skip
        seen[path.stem] = path


def _enabled(project: Project, nodes: list[Node]) -> list[Node]:
    """The nodes not configured ``enabled: false``; a ``ref`` to a disabled one is an error naming it (as in dbt)."""
    project.disabled = {node.name for node in nodes if not node.config.get("enabled", True)}
    kept = [node for node in nodes if node.name not in project.disabled]
    for node in kept:
        for name in node.refs:
            if name in project.disabled:
                raise node_error(node.path, node.name, f"ref('{name}') names a disabled node: {name} is configured enabled: false.",
                                 hint=f"Enable {name}, or disable {node.name} too.")  # fmt: skip
    return kept


def fqn(project: Project, role: str, path: Path) -> list[str]:
    """dbt's resource path of a file: the project name, its folders under the role's folder, its name."""
    folder = next((f for f in project.folders(role) if path.is_relative_to(f)), path.parent)
    return [project.name, *path.relative_to(folder).parent.parts, path.stem]


def _seed(project: Project, path: Path) -> Node:
    """A seed node: dbt's folder config, then its properties config."""
    config = merge({**project.defaults}, folder_config(project.blocks.get("seeds", {}), fqn(project, "seeds", path)))
    config = merge(config, {**project.node_configs.get(path.stem, {}), **project.seed_options.get(path.stem, {})})
    if "delimiter" in config:  # dbt's name for DuckDB's reader option
        config["delim"] = config.pop("delimiter")
    node = Node(path.stem, NodeKind.SEED, path, config=config)
    node.relation = relation_for(project, path.stem, config, path, "seed")
    node.outputs = {node.relation}  # what reads its table (a source declared on it) runs after it
    return node


def relation_for(project: Project, name: str, config: dict, path: Path | None = None, resource_type: str = "model") -> str:
    """The relation a node builds: ``dataset.alias`` from its config.

    In a dbt project a ``schema`` config is a custom schema: the node lands in ``<dataset>_<schema>``,
    or where the project's ``generate_schema_name`` macro says
    (https://docs.getdbt.com/docs/build/custom-schemas); elsewhere it names the dataset itself.
    """
    custom = config.get("schema")
    if custom is None and config.get("dataset"):
        dataset = config["dataset"]
    elif not project.dbt:
        dataset = custom or project.dataset
    elif project.schema_macro is not None:
        node = {"name": name, "resource_type": resource_type, "config": config, "tags": config.get("tags") or [],
                "fqn": fqn(project, resource_type + "s", path) if path else [project.name, name]}  # fmt: skip
        dataset = project.schema_macro(custom, node).strip()
    else:
        dataset = default_schema_name(project.dataset, custom)
    return f"{dataset}.{config.get('alias') or name}".lower()


def _use_schema_macro(project: Project, templates: Templates) -> None:
    """A dbt project's own ``generate_schema_name`` decides its schemas; overriding alias or database names is an error."""
    if not project.dbt:
        return
    for macro in ("generate_alias_name", "generate_database_name"):
        if macro in templates.macro_names:
            raise unsupported(templates.macro_origin[macro], f"the macro {macro} (it overrides dbt's)", root=project.root)
    if "generate_schema_name" in templates.macro_names:
        path = templates.macro_origin["generate_schema_name"]
        context = render_context(project, "generate_schema_name", path)
        project.schema_macro = lambda custom, node: templates.call("generate_schema_name", context, custom, node)


def render_context(
    project: Project, node_name: str, path: Path, relation_of: Callable[[str], str] | None = None, incremental: bool = False
) -> RenderContext:
    """A render context for one node (``relation_of`` None while parsing)."""
    target = {"name": "dev", "schema": project.dataset, "dataset": project.dataset, "type": "sqlml", "threads": 1}
    return RenderContext(
        node=node_name, path=path, relation_of=relation_of, sources=project.sources, vars=project.vars,
        this=lambda config: relation_for(project, node_name, config, path), incremental=incremental, target=target,
    )  # fmt: skip


def _parse(project: Project, templates: Templates, path: Path, kind: NodeKind | None) -> Node:
    text = path.read_text()
    context = render_context(project, path.stem, path)
    rendered = templates.render(text, context)
    if project.dbt:
        _check_in_file_config(project, templates, path, text, context.config)
    folder = folder_config(project.blocks.get("models", {}), fqn(project, "models", path)) if kind is None else {}
    config = merge(merge(merge({**project.defaults}, folder), project.node_configs.get(path.stem, {})), context.config)
    if config.get("materialized") not in MATERIALIZATIONS:
        raise node_error(
            path, path.stem, f"unknown materialized='{config.get('materialized')}'.", hint=f"Use one of: {', '.join(MATERIALIZATIONS)}."
        )
    problem = strategy_problem(config) if project.dbt else None
    if problem:
        raise unsupported(path, problem, root=project.root)
    trees = parse_trees(rendered, path, path.stem, DIALECTS[project.dialect])
    node = Node(path.stem, kind or _kind_of(trees), path, text, config, refs=list(dict.fromkeys(context.refs)))
    for tree in trees:
        reads, writes = tables_of(tree)
        node.inputs |= reads
        node.outputs |= writes
    node.inputs -= node.outputs
    _RELATIONS[node.kind](project, node, trees)
    return node


def _check_in_file_config(project: Project, templates: Templates, path: Path, text: str, config: dict) -> None:
    for key, value in config.items():
        problem = config_problem(key, value)
        if problem:
            raise unsupported(path, problem, root=project.root, line=config_call_line(templates.environment, text))


def _data_relation(project: Project, node: Node, trees: list[exp.Expression]) -> None:
    node.relation = relation_for(project, node.name, node.config, node.path)
    node.outputs = {node.relation}


def _model_relation(project: Project, node: Node, trees: list[exp.Expression]) -> None:
    target = trees[0].this  # model names keep their case, as on BigQuery
    node.relation = ".".join(part for part in (target.db, target.name) if part)


def _script_relation(project: Project, node: Node, trees: list[exp.Expression]) -> None:
    node.relation = relation_for(project, node.name, node.config, node.path) if not node.outputs else sorted(node.outputs)[0]


#: How a parsed SQL file's relation (what ``ref()`` gives) follows from its kind; a test has none.
_RELATIONS = {
    NodeKind.DATA: _data_relation,
    NodeKind.ML: _model_relation,
    NodeKind.SCRIPT: _script_relation,
    NodeKind.TEST: lambda project, node, trees: None,
}


def parse_trees(sql: str, path: Path, node: str, dialect: type = Sqlml) -> list[exp.Expression]:
    """The statements of rendered SQL (in ``dialect``); procedural blocks count as no tree (their text still runs)."""
    try:
        parser = ScriptParser(sql, dialect, str(path))
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
