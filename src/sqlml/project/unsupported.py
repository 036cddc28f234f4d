"""The load-time check for what ``sqlml run`` does not run: dbt constructs that need dbt itself.

Everything here runs before any node does, so a project that uses packages, ``adapter``, hooks,
snapshots, compile-time queries or unit tests stops with one message that names the file, the
line where known, the construct, and the way out: run the project with dbt and the sqlml adapter.
Templates are read with Jinja's own lexer and parser (never patterns over their text); YAML
lines come from the YAML composer's marks.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import yaml
from jinja2 import meta, nodes

from sqlml.errors import ProjectError
from sqlml.project.templating import CONTEXT_NAMES, TARGET_ATTRIBUTES, THIS_ATTRIBUTES

ADVICE = "run this project with dbt and the sqlml adapter"
#: dbt's block tags that ``sqlml run`` has no equivalent for.
DBT_TAGS = {
    "snapshot": "a snapshot ({% snapshot %})",
    "test": "a generic test definition ({% test %})",
    "data_test": "a generic test definition ({% data_test %})",
    "materialization": "a custom materialization ({% materialization %})",
    "docs": "a docs block ({% docs %})",
}
#: dbt's Jinja context names (https://docs.getdbt.com/reference/dbt-jinja-functions) sqlml does not define.
DBT_NAMES = {
    "adapter": "`adapter` (dbt's adapter methods)",
    "dbt": "the `dbt` macro namespace",
    "run_query": "`run_query` (a query at compile time)",
    "execute": "`execute` (dbt's compile/run phases)",
    "statement": "`statement` (a query at compile time)",
    "load_result": "`load_result` (a query at compile time)",
    "exceptions": "`exceptions`",
    "log": "`log`",
    "print": "`print`",
    "return": "`return`",
    "modules": "`modules`",
    "api": "`api`",
    "builtins": "`builtins`",
    "graph": "`graph`",
    "model": "`model`",
    "flags": "`flags`",
    "invocation_id": "`invocation_id`",
    "run_started_at": "`run_started_at`",
    "selected_resources": "`selected_resources`",
    "fromjson": "`fromjson`",
    "tojson": "`tojson`",
    "fromyaml": "`fromyaml`",
    "toyaml": "`toyaml`",
    "local_md5": "`local_md5`",
    "zip": "`zip`",
    "set": "`set`",
    "project_name": "`project_name`",
    "dbt_version": "`dbt_version`",
    "schemas": "`schemas`",
    "database": "`database`",
    "schema": "`schema`",
    "results": "`results`",
    "thread_id": "`thread_id`",
}
#: Project-level files that bring in other projects.
PACKAGE_FILES = ("packages.yml", "dependencies.yml")


def unsupported(path: Path, construct: str, *, root: Path | None = None, line: int | None = None) -> ProjectError:
    """The error for a construct ``sqlml run`` does not run: file, line, construct and the way out."""
    name = path.relative_to(root).as_posix() if root is not None and path.is_relative_to(root) else path.name
    where = f"{name} line {line}" if line else name
    return ProjectError(f"{where}: {construct} is not supported by `sqlml run`; {ADVICE}.", path=str(path),
                        hint="See the README's section on dbt projects for what `sqlml run` reads.")  # fmt: skip


def check_template(environment: jinja2.Environment, text: str, path: Path, root: Path, macros: set[str]) -> None:
    """Raise :func:`unsupported` for the first dbt-only construct in a template (a model, test or macro file).

    Args:
        environment: the environment the project renders with (its globals are allowed).
        macros: the project's macro names (allowed).
    """
    tag = _dbt_tag(environment, text)
    if tag:
        raise unsupported(path, DBT_TAGS[tag[1]], root=root, line=tag[0])
    try:
        tree = environment.parse(text)
    except jinja2.TemplateSyntaxError:
        return  # rendering reports it, with its line
    problems = _unknown_names(tree, macros | set(CONTEXT_NAMES) | set(environment.globals)) + _attribute_uses(tree)
    if problems:
        line, construct = min(problems)
        raise unsupported(path, construct, root=root, line=line)


def _dbt_tag(environment: jinja2.Environment, text: str) -> tuple[int, str] | None:
    """(line, tag) of the first dbt-only block tag: the name token right after a block start."""
    previous = None
    try:
        for line, token, value in environment.lex(text):
            if token == "whitespace":
                continue
            if previous == "block_begin" and token == "name" and value in DBT_TAGS:
                return line, value
            previous = token
    except jinja2.TemplateSyntaxError:
        return None
    return None


def _unknown_names(tree: nodes.Template, allowed: set[str]) -> list[tuple[int, str]]:
    unknown = meta.find_undeclared_variables(tree) - allowed
    bases = {node.node.name for node in tree.find_all(nodes.Getattr) if isinstance(node.node, nodes.Name)}
    problems = []
    for name in sorted(unknown):
        line = min(node.lineno for node in tree.find_all(nodes.Name) if node.name == name)
        if name in DBT_NAMES:
            problems.append((line, DBT_NAMES[name]))
        elif name in bases:
            problems.append((line, f"the macro namespace `{name}` (a package's macros)"))
        else:
            problems.append((line, f"`{name}` (neither a macro of the project nor a name sqlml's templates define)"))
    return problems


def _attribute_uses(tree: nodes.Template) -> list[tuple[int, str]]:
    """``target.x`` and ``this.x`` beyond the attributes sqlml gives them, and ``config.x`` (a plain function in sqlml)."""
    problems = []
    for node in tree.find_all(nodes.Getattr):
        if not isinstance(node.node, nodes.Name):
            continue
        base = node.node.name
        known = {"target": TARGET_ATTRIBUTES, "this": THIS_ATTRIBUTES, "config": ()}
        if base in known and node.attr not in known[base]:
            problems.append((node.lineno, f"`{base}.{node.attr}`"))
    return problems


def config_call_line(environment: jinja2.Environment, text: str) -> int | None:
    """The line of a template's first ``config(...)`` call, to name it in an error."""
    try:
        tree = environment.parse(text)
    except jinja2.TemplateSyntaxError:
        return None
    calls = [c.lineno for c in tree.find_all(nodes.Call) if isinstance(c.node, nodes.Name) and c.node.name == "config"]
    return min(calls, default=None)


def check_project_files(root: Path, snapshot_folders: list[Path], model_folders: list[Path]) -> None:
    """Packages (``packages.yml``/``dependencies.yml``), snapshot files and Python models are errors."""
    for name in PACKAGE_FILES:
        path = root / name
        content = yaml.safe_load(path.read_text()) if path.exists() else None
        if isinstance(content, dict) and content.get("packages"):
            raise unsupported(path, "packages (`packages:`)", root=root, line=yaml_line(path, ["packages"]))
    for folders, pattern, construct in ((snapshot_folders, "*.sql", "snapshots (files in the snapshot paths)"),
                                        (model_folders, "*.py", "a Python model")):  # fmt: skip
        for path in sorted(p for folder in folders if folder.exists() for p in folder.rglob(pattern)):
            raise unsupported(path, construct, root=root)


def check_properties(content: dict, path: Path, root: Path) -> None:
    """Properties YAML: unit tests, snapshots and versioned models are errors."""
    for key, construct in (("unit_tests", "unit tests (`unit_tests:`)"), ("snapshots", "snapshot properties (`snapshots:`)")):
        if content.get(key):
            raise unsupported(path, construct, root=root, line=yaml_line(path, [key]))
    for index, model in enumerate(content.get("models") or []):
        if isinstance(model, dict) and model.get("versions"):
            raise unsupported(path, f"model versions (`versions:` of {model.get('name')})", root=root, line=yaml_line(path, ["models", index, "versions"]))


def yaml_line(path: Path, keys: list[str | int]) -> int | None:
    """The 1-based line of the YAML node reached by ``keys`` (mapping keys and list indexes); None if absent."""
    try:
        node = yaml.compose(path.read_text())
    except yaml.YAMLError:
        return None
    line = None
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if k.value == key]
            if not found:
                return line
            line, node = found[0][0].start_mark.line + 1, found[0][1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line
