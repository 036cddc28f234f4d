"""Jinja rendering of project files, with dbt's context: ref, source, var, config, this, is_incremental.

A file is rendered twice. While the project is *parsed*, ``ref`` records the dependency and returns
a stand-in name and ``config`` records the node's settings; while a node is *compiled* for a run,
``ref`` returns the referenced node's real relation (``dataset.name``). Macros are every
``{% macro %}`` in the macro folders, callable by name from any file and from each other; they see
the ``ref``/``var``/``target`` of the file being rendered. Jinja's ``do`` and loop-control
extensions are on, as in dbt.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import jinja2

from sqlml.errors import ProjectError

#: The stand-in a ``ref`` renders to while parsing (a valid identifier, so the SQL still parses).
PARSE_REF_PREFIX = "__sqlml_ref__"
#: Jinja extensions dbt enables (``{% do %}``, ``{% break %}``/``{% continue %}``).
EXTENSIONS = ("jinja2.ext.do", "jinja2.ext.loopcontrols")
#: The names every template may use besides its project's macros and Jinja's own globals.
CONTEXT_NAMES = ("ref", "source", "var", "config", "this", "is_incremental", "target", "env_var",
                 "default__generate_schema_name", "generate_schema_name_for_env")  # fmt: skip
#: The attributes of ``target`` (dbt's https://docs.getdbt.com/reference/dbt-jinja-functions/target).
TARGET_ATTRIBUTES = ("name", "schema", "dataset", "type", "threads")
#: The attributes of ``this`` (those of dbt's Relation, https://docs.getdbt.com/reference/dbt-jinja-functions/this).
THIS_ATTRIBUTES = ("schema", "identifier", "name", "table")


@dataclass
class RenderContext:
    """What ``ref``/``source``/``this`` resolve to for one rendering.

    Attributes:
        node: the node being rendered (its name, for messages).
        path: its file.
        relation_of: node name → relation, or None while parsing.
        sources: ``(source, table)`` → relation.
        vars: project vars.
        this: the node's own relation, from the config recorded so far.
        incremental: what ``is_incremental()`` returns.
        target: ``{{ target }}``'s attributes (:data:`TARGET_ATTRIBUTES`).
    """

    node: str
    path: Path
    relation_of: Callable[[str], str] | None
    sources: dict
    vars: dict
    this: Callable[[dict], str]
    incremental: bool = False
    target: dict = field(default_factory=dict)
    refs: list[str] = field(default_factory=list)
    source_refs: list[tuple[str, str]] = field(default_factory=list)
    config: dict = field(default_factory=dict)


class _Undefined(jinja2.StrictUndefined):
    """Undefined names fail loudly (a typo in a var or macro must not render as empty SQL)."""


class Templates:
    """A Jinja environment with the project's macros loaded.

    Args:
        macro_folders: the project's macro folders (missing ones are skipped).
        node_names: every node name, for "did you mean" hints on unknown refs.
    """

    def __init__(self, macro_folders: list[Path], node_names: list[str]) -> None:
        self.environment = new_environment()
        self.node_names = node_names
        self.macro_files = [path for folder in macro_folders if folder.exists() for path in sorted(folder.rglob("*.sql"))]
        texts = [path.read_text() for path in self.macro_files]
        self.macro_templates = [self._compile(text, path, "macros") for text, path in zip(texts, self.macro_files)]
        trees = [self.environment.parse(text) for text in texts]
        #: Each macro's name → the file defining it.
        self.macro_origin = {macro.name: path for tree, path in zip(trees, self.macro_files) for macro in tree.find_all(jinja2.nodes.Macro)}
        self.macro_names = set(self.macro_origin)

    def render(self, text: str, context: RenderContext) -> str:
        """Render one file's text for ``context``; Jinja errors name the file, line and node."""
        template = self._compile(text, context.path, context.node)
        return self._guarded(lambda: template.render(self._names(context)), context)

    def call(self, macro: str, context: RenderContext, *args: object) -> str:
        """Call the project macro ``macro`` with ``args``, seeing ``context`` (e.g. ``generate_schema_name``)."""
        return str(self._guarded(lambda: self._names(context)[macro](*args), context))

    def _names(self, context: RenderContext) -> dict:
        """What a template sees: Jinja's globals, the context's functions and every macro bound to them."""
        names = {**self.environment.globals, **self._functions(context)}
        for template in self.macro_templates:  # shared: a macro finds the others in `names`, filled below
            module = template.make_module(names, shared=True)
            names.update({name: value for name, value in module.__dict__.items() if name in self.macro_names})
        return names

    def _guarded(self, render: Callable[[], str], context: RenderContext) -> str:
        try:
            return render()
        except ProjectError:
            raise
        except jinja2.TemplateError as error:
            raise _jinja_error(error, context.path, context.node) from None
        except Exception as error:  # an error raised inside a user's template expression
            raise node_error(context.path, context.node, str(error)) from None

    def _compile(self, text: str, path: Path, node: str) -> jinja2.Template:
        try:
            return self.environment.from_string(text)
        except jinja2.TemplateSyntaxError as error:
            raise _jinja_error(error, path, node) from None

    def _functions(self, context: RenderContext) -> dict:
        def ref(*names: str) -> str:
            name = names[-1]  # ref('package', 'name') as in dbt: the last part is the node
            if name not in self.node_names:
                guess = difflib.get_close_matches(name, self.node_names, n=1)
                raise node_error(
                    context.path, context.node, f"ref('{name}') names no node of the project.",
                    hint=f"Did you mean ref('{guess[0]}')?" if guess else "Node names are the .sql and seed file names without extension.",
                )  # fmt: skip
            context.refs.append(name)
            return context.relation_of(name) if context.relation_of else PARSE_REF_PREFIX + name

        def source(source_name: str, table: str) -> str:
            key = (source_name, table)
            if key not in context.sources:
                known = [f"{s}.{t}" for s, t in context.sources]
                guess = difflib.get_close_matches(f"{source_name}.{table}", known, n=1)
                raise node_error(
                    context.path, context.node, f"source('{source_name}', '{table}') is not declared.",
                    hint=f"Did you mean {guess[0]}?" if guess else "Declare it under `sources:` in a .yml file.",
                )  # fmt: skip
            context.source_refs.append(key)
            return context.sources[key]

        def var(name: str, default=_MISSING):
            if name in context.vars:
                return context.vars[name]
            if default is not _MISSING:
                return default
            raise node_error(
                context.path, context.node, f"var('{name}') has no value.",
                hint=f"Set it under `vars:` in sqlml_project.yml or pass --vars '{{\"{name}\": …}}'.",
            )  # fmt: skip

        def config(**settings) -> str:
            context.config.update(settings)
            return ""

        def env_var(name: str, default=_MISSING) -> str:
            if name in os.environ:
                return os.environ[name]
            if default is not _MISSING:
                return default
            raise node_error(context.path, context.node, f"env_var('{name}'): the environment variable is not set.",
                             hint=f"Set {name}, or give a default: env_var('{name}', 'value').")  # fmt: skip

        return {
            "ref": ref,
            "source": source,
            "var": var,
            "config": config,
            "this": _This(context),
            "is_incremental": lambda: context.incremental,
            "target": context.target,
            "env_var": env_var,
            "default__generate_schema_name": lambda custom, node=None: default_schema_name(context.target["schema"], custom),
            "generate_schema_name_for_env": lambda custom, node=None: schema_name_for_env(context.target, custom),
        }


class _This:
    """``{{ this }}``: the node's own relation (read when rendered, after ``config()`` ran)."""

    def __init__(self, context: RenderContext) -> None:
        self._context = context

    def __str__(self) -> str:
        return self._context.this(self._context.config)

    def __html__(self) -> str:
        return str(self)

    @property
    def schema(self) -> str:
        """The dataset of the node's relation (``{{ this.schema }}``)."""
        return str(self).split(".")[0]

    @property
    def identifier(self) -> str:
        """The table or view name of the node's relation (``{{ this.identifier }}``, also ``name`` and ``table``)."""
        return str(self).split(".")[-1]

    name = table = identifier


_MISSING = object()


def default_schema_name(target_schema: str, custom: str | None) -> str:
    """dbt's default ``generate_schema_name``: the target schema, or ``<target schema>_<custom>``
    (https://docs.getdbt.com/docs/build/custom-schemas)."""
    return target_schema if custom is None else f"{target_schema}_{str(custom).strip()}"


def schema_name_for_env(target: dict, custom: str | None) -> str:
    """dbt's ``generate_schema_name_for_env``: the custom schema alone in a ``prod`` target, else the target schema."""
    return str(custom).strip() if target["name"] == "prod" and custom is not None else target["schema"]


def new_environment() -> jinja2.Environment:
    """A Jinja environment as projects are rendered with: strict about undefined names, dbt's extensions on."""
    return jinja2.Environment(undefined=_Undefined, keep_trailing_newline=True, autoescape=False, extensions=list(EXTENSIONS))


def node_error(path: Path, node: str, message: str, *, line: int | None = None, hint: str | None = None) -> ProjectError:
    """A :class:`ProjectError` that starts with the file, line and node at fault: ``a.sql line 3 (node a): …``."""
    where = f" line {line}" if line else ""
    return ProjectError(f"{path.name}{where} (node {node}): {message}", path=str(path), node=node, hint=hint)


def _jinja_error(error: jinja2.TemplateError, path: Path, node: str) -> ProjectError:
    return node_error(path, node, f"Jinja error: {error.message or error}", line=getattr(error, "lineno", None))
