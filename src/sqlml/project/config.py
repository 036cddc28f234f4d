"""Reading a project: ``sqlml_project.yml``, the YAML files that declare sources and tests, and defaults.

Only ``name`` is required. Everything else has a default: the warehouse ``warehouse/`` and the
model store ``models/`` beside the YAML file, the dataset named after the project, no vars, no
default schedule, data models materialized as views (dbt's default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sqlml.errors import ProjectError
from sqlml.project.kinds import Materialization

PROJECT_FILE = "sqlml_project.yml"
#: A dbt project is read as it is: its dbt_project.yml stands in for sqlml_project.yml.
DBT_PROJECT_FILE = "dbt_project.yml"
#: Folders with a fixed role; every other folder may hold model files.
SPECIAL_FOLDERS = {"seeds": "seeds", "tests": "tests", "macros": "macros"}
#: The values ``materialized`` may take.
MATERIALIZATIONS = tuple(m.value for m in Materialization)


@dataclass
class Project:
    """A loaded project.

    Attributes:
        name: the project's name.
        root: the folder holding ``sqlml_project.yml``.
        dataset: where nodes are built unless their config names another.
        warehouse: the warehouse folder (or ``:memory:``).
        models: the model store folder.
        vars: values for ``{{ var('…') }}``.
        defaults: config every node starts from (``materialized``, ``schedule``, ``tags`` …).
        sources: ``(source, table)`` → ``dataset.table``.
        column_tests: node name → list of (column, test name, test arguments) from YAML.
        seed_options: seed name → DuckDB CSV reader options (e.g. ``nullstr``).
        node_configs: node name → ``config:`` given in a properties YAML file.
    """

    name: str
    root: Path
    dataset: str
    warehouse: str
    models: str
    vars: dict = field(default_factory=dict)
    defaults: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    column_tests: dict = field(default_factory=dict)
    seed_options: dict = field(default_factory=dict)
    node_configs: dict = field(default_factory=dict)

    def folder(self, role: str) -> Path:
        """The ``seeds``, ``tests`` or ``macros`` folder."""
        return self.root / SPECIAL_FOLDERS[role]


def find_project_dir(given: str | Path | None = None) -> Path:
    """The project folder: ``given``, else the current folder if it has a project file, else ``./sql``."""
    if given is not None:
        folder = Path(given)
    elif project_file(Path(".")):
        folder = Path(".")
    else:
        folder = Path("sql")
    if not project_file(folder):
        raise ProjectError(
            f"No {PROJECT_FILE} in {folder.resolve()}.",
            hint=f"Run from a project folder, pass --project DIR, or create {PROJECT_FILE} with `name: my_project`.",
        )
    return folder.resolve()


def project_file(folder: Path) -> Path | None:
    """The folder's sqlml_project.yml, else its dbt_project.yml, else None."""
    for name in (PROJECT_FILE, DBT_PROJECT_FILE):
        if (folder / name).exists():
            return folder / name
    return None


def load_project(
    folder: str | Path | None = None, *, vars: dict | None = None, warehouse: str | Path | None = None, models: str | Path | None = None
) -> Project:
    """Read the project in ``folder`` (see :func:`find_project_dir`).

    Args:
        vars: values that override the project's ``vars`` (``--vars``).
        warehouse / models: override the folders the project names.
    """
    root = find_project_dir(folder)
    path = project_file(root)
    settings = read_yaml(path) or {}
    if not isinstance(settings, dict) or not settings.get("name"):
        raise ProjectError(f"{path.name} must set `name`.", path=str(path), hint="Add: name: my_project")
    name = str(settings["name"])
    dataset = str(settings.get("dataset") or re.sub(r"\W", "_", name).lower())
    defaults = {"materialized": Materialization.VIEW.value, "tags": [], "schedule": settings.get("schedule")}
    is_dbt = path.name == DBT_PROJECT_FILE
    defaults.update(_dbt_model_defaults(settings, name) if is_dbt else settings.get("models") or {})
    if is_dbt:  # dbt keeps SQL in models/: keep sqlml's stores out of it
        settings.setdefault("warehouse", ".sqlml/warehouse")
        settings.setdefault("model_store", ".sqlml/models")
    if defaults["materialized"] not in MATERIALIZATIONS:
        raise ProjectError(
            f"Unknown materialized='{defaults['materialized']}'.", path=str(path),
            hint=f"Use one of: {', '.join(MATERIALIZATIONS)}.",
        )  # fmt: skip
    project = Project(
        name=name,
        root=root,
        dataset=dataset,
        warehouse=str(warehouse or _beside(root, settings.get("warehouse", "warehouse"))),
        models=str(models or _beside(root, settings.get("model_store", "models"))),
        vars={**(settings.get("vars") or {}), **(vars or {})},
        defaults=defaults,
        seed_options=settings.get("seeds") or {},
    )
    for path in sorted(root.rglob("*.yml")) + sorted(root.rglob("*.yaml")):
        if path.name not in (PROJECT_FILE, DBT_PROJECT_FILE):
            _read_properties(project, path)
    return project


def _dbt_model_defaults(settings: dict, name: str) -> dict:
    """Project-wide model config of a dbt_project.yml (``models: {<project>: {+materialized: …}}``)."""
    block = (settings.get("models") or {}).get(name) or {}
    return {key.lstrip("+"): value for key, value in block.items() if not isinstance(value, dict)}


def _beside(root: Path, value: str) -> str:
    return value if value == ":memory:" or Path(value).is_absolute() else str(root / value)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a syntax error names the file and line."""
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ProjectError(f"{path.name}{where}: {getattr(error, 'problem', error)}", path=str(path)) from None


def _read_properties(project: Project, path: Path) -> None:
    """Sources and column tests from a dbt-style properties file (``sources:`` and ``models:``/``seeds:``)."""
    content = read_yaml(path) or {}
    if not isinstance(content, dict):
        raise ProjectError(f"{path.name} must be a mapping with `sources:` and/or `models:`.", path=str(path))
    for source in content.get("sources") or []:
        dataset = source.get("schema") or source.get("dataset") or source["name"]
        for table in source.get("tables") or []:
            table_name = table["name"] if isinstance(table, dict) else str(table)
            identifier = (table.get("identifier") if isinstance(table, dict) else None) or table_name
            project.sources[(source["name"], table_name)] = f"{dataset}.{identifier}"
    for key in ("models", "seeds"):
        for node in content.get(key) or []:
            tests = project.column_tests.setdefault(node["name"], [])
            if node.get("config"):
                project.node_configs.setdefault(node["name"], {}).update(node["config"])
            for column in node.get("columns") or []:
                for test in (column.get("tests") or []) + (column.get("data_tests") or []):
                    tests.append(_test_entry(column["name"], test, path))
            for test in (node.get("tests") or []) + (node.get("data_tests") or []):
                tests.append(_test_entry(None, test, path))


def _test_entry(column: str | None, test: str | dict, path: Path) -> tuple[str | None, str, dict]:
    if isinstance(test, str):
        return column, test, {}
    if isinstance(test, dict) and len(test) == 1:
        (name, arguments), = test.items()
        arguments = dict(arguments or {})
        arguments.update(arguments.pop("arguments", None) or {})  # dbt 1.10 nests them under `arguments:`
        return arguments.pop("column_name", column), name, arguments
    raise ProjectError(f"{path.name}: cannot read the test {test!r}.", path=str(path), hint="Write `- not_null` or `- accepted_values: {values: [...]}`.")
