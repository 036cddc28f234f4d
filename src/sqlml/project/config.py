"""Reading a project: ``sqlml_project.yml`` or ``dbt_project.yml``, the YAML files that declare sources and tests, and defaults.

Only ``name`` is required. Everything else has a default: the warehouse ``warehouse/`` and the
model store ``models/`` beside the YAML file, the dataset named after the project, no vars, no
default schedule, data models materialized as views (dbt's default), SQL read as BigQuery's.
A folder with a ``dbt_project.yml`` is read as dbt reads it (see :mod:`.dbt_project`), with a
``sqlml_project.yml`` beside it adding only sqlml's own keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sqlml.errors import ProjectError
from sqlml.project.dbt_project import DbtProject, read_dbt_project
from sqlml.project.folder_config import config_problem
from sqlml.project.kinds import Materialization
from sqlml.project.unsupported import check_properties, unsupported

PROJECT_FILE = "sqlml_project.yml"
#: A dbt project is read as it is: its dbt_project.yml stands in for sqlml_project.yml.
DBT_PROJECT_FILE = "dbt_project.yml"
#: Folders with a fixed role; every other folder may hold model files.
SPECIAL_FOLDERS = {"seeds": "seeds", "tests": "tests", "macros": "macros"}
#: The values ``materialized`` may take.
MATERIALIZATIONS = tuple(m.value for m in Materialization)
#: dbt's four built-in generic tests, the ones a properties file may declare.
GENERIC_TESTS = ("not_null", "unique", "accepted_values", "relationships")
#: How model SQL may be written (``dialect:`` in the project file).
DIALECTS = ("bigquery", "duckdb")
#: Where the project's SQL runs (``engine:`` in the project file; ``spark_master:`` points at a cluster).
ENGINES = ("duckdb", "spark")


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
        source_tests: ``(source, table)`` → the same, for tests declared on sources.
        seed_options: seed name → DuckDB CSV reader options (e.g. ``nullstr``).
        node_configs: node name → ``config:`` given in a properties YAML file.
        dialect: how the project's SQL is written: ``bigquery`` or ``duckdb``.
        dbt: read from a dbt_project.yml (dbt's schema naming, folder config and resource paths).
        paths: role (``models``, ``seeds``, ``tests``, ``macros``) → folders, for a dbt project.
        blocks: ``models`` / ``seeds`` → dbt_project.yml's folder-config block.
        disabled: names of the nodes configured ``enabled: false`` (filled when nodes are found).
        schema_macro: the project's ``generate_schema_name`` as (custom schema, node) → schema,
            when it has one (set when nodes are found).
        engine: where the project's SQL runs: ``duckdb`` or ``spark`` (:mod:`sqlml.engine.spark`).
        spark_master: with ``engine: spark``, the master URL of the cluster (default ``local[2]``).
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
    source_tests: dict = field(default_factory=dict)
    seed_options: dict = field(default_factory=dict)
    node_configs: dict = field(default_factory=dict)
    dialect: str = "bigquery"
    dbt: bool = False
    paths: dict = field(default_factory=dict)
    blocks: dict = field(default_factory=dict)
    disabled: set = field(default_factory=set)
    schema_macro: Any = None
    engine: str = "duckdb"
    spark_master: str | None = None

    def folders(self, role: str) -> list[Path]:
        """The folders holding the ``models``, ``seeds``, ``tests`` or ``macros`` (a sqlml project's models: its root)."""
        if self.dbt:
            return self.paths[role]
        return [self.root] if role == "models" else [self.root / SPECIAL_FOLDERS[role]]


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
            hint=f"Run from a project folder, pass --project DIR, or create {PROJECT_FILE} (or dbt's {DBT_PROJECT_FILE}) with `name: my_project`.",
        )
    return folder.resolve()


def project_file(folder: Path) -> Path | None:
    """The folder's sqlml_project.yml, else its dbt_project.yml, else None."""
    for name in (PROJECT_FILE, DBT_PROJECT_FILE):
        if (folder / name).exists():
            return folder / name
    return None


def load_project(
    folder: str | Path | None = None, *, vars: dict | None = None, warehouse: str | Path | None = None, models: str | Path | None = None,
    engine: str | None = None, master: str | None = None,
) -> Project:
    """Read the project in ``folder`` (see :func:`find_project_dir`).

    Args:
        vars: values that override the project's ``vars`` (``--vars``).
        warehouse / models: override the folders the project names.
        engine / master: override the project's ``engine`` and ``spark_master`` (``--engine``, ``--master``).
    """
    root = find_project_dir(folder)
    path, settings, dbt = _project_settings(root)
    name = str(settings["name"])
    defaults = {"materialized": Materialization.VIEW.value, "tags": [], "schedule": settings.get("schedule")}
    defaults.update({} if dbt else settings.get("models") or {})
    if defaults["materialized"] not in MATERIALIZATIONS:
        raise ProjectError(
            f"Unknown materialized='{defaults['materialized']}'.", path=str(path),
            hint=f"Use one of: {', '.join(MATERIALIZATIONS)}.",
        )  # fmt: skip
    if settings.get("dialect", "bigquery") not in DIALECTS:
        raise ProjectError(f"{path.name}: unknown dialect '{settings['dialect']}'.", path=str(path), hint=f"Use one of: {', '.join(DIALECTS)}.")
    engine = engine or settings.get("engine", "duckdb")
    if engine not in ENGINES:
        raise ProjectError(f"{path.name}: unknown engine '{engine}'.", path=str(path), hint=f"Use one of: {', '.join(ENGINES)}.")
    project = Project(
        name=name,
        root=root,
        dataset=str(settings.get("dataset") or re.sub(r"\W", "_", name).lower()),
        warehouse=str(warehouse or _beside(root, settings.get("warehouse", "warehouse"))),
        models=str(models or _beside(root, settings.get("model_store", "models"))),
        vars={**(settings.get("vars") or {}), **(vars or {})},
        defaults=defaults,
        seed_options={} if dbt else settings.get("seeds") or {},
        dialect=settings.get("dialect", "bigquery"),
        dbt=dbt is not None,
        paths=dbt.paths if dbt else {},
        blocks=dbt.blocks if dbt else {},
        engine=engine,
        spark_master=master or settings.get("spark_master"),
    )
    for path in _property_files(project):
        _read_properties(project, path)
    return project


def _project_settings(root: Path) -> tuple[Path, dict, DbtProject | None]:
    """The project file, its settings, and what a dbt_project.yml gives (None for a sqlml project)."""
    path = root / DBT_PROJECT_FILE
    if not path.exists():
        return root / PROJECT_FILE, _settings(root / PROJECT_FILE), None
    beside = read_yaml(root / PROJECT_FILE) or {} if (root / PROJECT_FILE).exists() else {}
    dbt = read_dbt_project(path, _settings(path), beside if isinstance(beside, dict) else {})
    dbt.settings.setdefault("warehouse", ".sqlml/warehouse")  # dbt keeps SQL in models/: keep sqlml's stores out of it
    dbt.settings.setdefault("model_store", ".sqlml/models")
    return path, dbt.settings, dbt


def _settings(path: Path) -> dict:
    """A project file's settings; it must set ``name``."""
    settings = read_yaml(path) or {}
    if not isinstance(settings, dict) or not settings.get("name"):
        raise ProjectError(f"{path.name} must set `name`.", path=str(path), hint="Add: name: my_project")
    return settings


def _property_files(project: Project) -> list[Path]:
    """The YAML files declaring sources, tests and node config: in a dbt project, those in its resource folders."""
    folders = [f for role in ("models", "seeds", "tests", "macros") for f in project.folders(role)] if project.dbt else [project.root]
    found = {p for folder in folders if folder.exists() for pattern in ("*.yml", "*.yaml") for p in folder.rglob(pattern)}
    return sorted(p for p in found if p.name not in (PROJECT_FILE, DBT_PROJECT_FILE))


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
    check_properties(content, path, project.root)
    for source in content.get("sources") or []:
        dataset = source.get("schema") or source.get("dataset") or source["name"]
        for table in source.get("tables") or []:
            table_name = table["name"] if isinstance(table, dict) else str(table)
            identifier = (table.get("identifier") if isinstance(table, dict) else None) or table_name
            project.sources[(source["name"], table_name)] = f"{dataset}.{identifier}"
            if isinstance(table, dict):
                project.source_tests.setdefault((source["name"], table_name), []).extend(_tests_of(table, path, project.root))
    for key in ("models", "seeds"):
        for node in content.get(key) or []:
            if node.get("config"):
                _check_config(project, path, key, node["config"])
                project.node_configs.setdefault(node["name"], {}).update(node["config"])
            project.column_tests.setdefault(node["name"], []).extend(_tests_of(node, path, project.root))


def _tests_of(entry: dict, path: Path, root: Path) -> list[tuple[str | None, str, dict]]:
    """The generic tests declared on a model, seed or source table and on its columns."""
    tests = []
    for column in entry.get("columns") or []:
        for test in (column.get("tests") or []) + (column.get("data_tests") or []):
            tests.append(_test_entry(column["name"], test, path, root))
    for test in (entry.get("tests") or []) + (entry.get("data_tests") or []):
        tests.append(_test_entry(None, test, path, root))
    return tests


def _check_config(project: Project, path: Path, key: str, config: dict) -> None:
    """A dbt project's ``config:`` entries in a properties file: what sqlml does not apply is an error."""
    for name, value in config.items() if project.dbt else ():
        problem = config_problem(name, value, seed=key == "seeds")
        if problem:
            raise unsupported(path, problem, root=project.root)


def _test_entry(column: str | None, test: str | dict, path: Path, root: Path) -> tuple[str | None, str, dict]:
    if isinstance(test, str):
        test = {test: {}}
    if isinstance(test, dict) and len(test) == 1:
        (name, arguments), = test.items()
        if name not in GENERIC_TESTS:
            raise unsupported(path, f"the test `{name}` (sqlml runs {', '.join(GENERIC_TESTS)} and tests/*.sql)", root=root)
        arguments = dict(arguments or {})
        arguments.update(arguments.pop("arguments", None) or {})  # dbt 1.10 nests them under `arguments:`
        for option, value in (arguments.pop("config", None) or {}).items():  # dbt's test configs: severity and where
            if option not in ("severity", "where"):
                raise unsupported(path, f"the test config `{option}` (on {name})", root=root)
            arguments[option] = value
        if "severity" in arguments:
            arguments["severity"] = str(arguments["severity"]).lower()
        return arguments.pop("column_name", column), name, arguments
    raise ProjectError(f"{path.name}: cannot read the test {test!r}.", path=str(path), hint="Write `- not_null` or `- accepted_values: {values: [...]}`.")
