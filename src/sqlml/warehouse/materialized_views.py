"""``CREATE MATERIALIZED VIEW``: a query's rows kept as a table, refreshed explicitly or automatically.

https://cloud.google.com/bigquery/docs/materialized-views-create — options ``enable_refresh``
(default TRUE), ``refresh_interval_minutes`` (default 30), ``max_staleness``,
``allow_non_incremental_definition``, ``description``; PARTITION BY and CLUSTER BY as on tables.

Here the rows live in a DuckDB table of the view's name, written by ``CREATE OR REPLACE TABLE …
AS <query>`` through the partitioned-table handler (so PARTITION BY/CLUSTER BY prune as on
tables), and ``sqlml_meta.materialized_views`` keeps that statement, the base tables and the
options. The table's entry in the write log (:mod:`~sqlml.warehouse.modification_log`) is its
last refresh time, so the rows and the time cannot disagree.

* ``CALL BQ.REFRESH_MATERIALIZED_VIEW('ds.mv')`` refreshes it now.
* Automatic refresh: with ``enable_refresh``, a statement reading the view first refreshes it if
  a base table was written since the last refresh — BigQuery's promise that a materialized view
  answers as its base tables stand — unless the last refresh is younger than ``max_staleness``,
  which allows stale rows exactly as on BigQuery. With ``enable_refresh = FALSE`` only CALL
  refreshes it.
* INSERT/UPDATE/DELETE/MERGE on it are refused; ``DROP MATERIALIZED VIEW`` drops it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dataclasses
import datetime
import difflib

from sqlglot import exp

from sqlml.engine.base import CATALOG
from sqlml.errors import Error, InvalidOptionError, NotFoundError, SqlError
from sqlml.execution.context import StatementContext, atomic
from sqlml.execution.survey import Survey, survey_of
from sqlml.result import Result
from sqlml.sql.constants import NotConstant, literal_value
from sqlml.sql.planner import is_materialized, plan
from sqlml.warehouse import modification_log
from sqlml.warehouse.dml import write_target
from sqlml.warehouse.meta import MATERIALIZED_VIEWS, has_meta_table, relation_exists, remembered_meta_table
from sqlml.warehouse.partitions import is_written_target
from sqlml.warehouse.tables import create_table, drop_table

if TYPE_CHECKING:
    from sqlml.execution.executor import Executor

VIEWS_TABLE = MATERIALIZED_VIEWS.qualified
#: BigQuery's materialized view options with their defaults.
DEFAULTS = {
    "enable_refresh": True, "refresh_interval_minutes": 30.0, "max_staleness": None,
    "allow_non_incremental_definition": False, "description": None,
}  # fmt: skip
_TABLE_OPTIONS = {"partition_expiration_days", "require_partition_filter"}


class MaterializedViewError(SqlError, ValueError):
    """A write to a materialized view, or a refresh of something that is not one."""


def create_materialized_view(context: StatementContext) -> Result:
    """Store the query's rows as the view's table and record how to refresh it, atomically."""
    tree = context.plan.tree
    ref = tree.this
    options, kept = _options(tree)
    table = exp.Create(
        this=ref.copy(), kind="TABLE", replace=True, expression=tree.expression.copy(),
        properties=exp.Properties(expressions=kept) if kept else None,
    )  # fmt: skip
    executor = context.executor
    with executor.engine.lease() as cursor:
        if tree.args.get("exists") and _spec(cursor, ref.db, ref.name) is not None:
            return Result.empty("CREATE MATERIALIZED VIEW")
        with atomic(executor, cursor):
            if not tree.args.get("replace") and relation_exists(cursor, ref.db, ref.name):
                raise MaterializedViewError(
                    f"Already exists: {ref.db}.{ref.name}.",
                    hint="Use CREATE OR REPLACE MATERIALIZED VIEW, or CREATE MATERIALIZED VIEW IF NOT EXISTS.",
                )
            create_table(dataclasses.replace(context, plan=plan(table)))
            cursor.execute(MATERIALIZED_VIEWS.create_sql)
            bases = sorted({f"{t.db}.{t.name}".lower() for t in tree.expression.find_all(exp.Table) if t.db})
            cursor.execute(
                f"INSERT OR REPLACE INTO {CATALOG}.{VIEWS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [ref.db.lower(), ref.name.lower(), table.sql(dialect=executor.dialect_class), executor.dialect, bases,
                 options["enable_refresh"], float(options["refresh_interval_minutes"]), options["max_staleness"],
                 options["allow_non_incremental_definition"], options["description"]],
            )  # fmt: skip
    return Result.empty("CREATE MATERIALIZED VIEW")


def drop_materialized_view(context: StatementContext) -> Result:
    """``DROP MATERIALIZED VIEW [IF EXISTS] ds.mv``: its table and its record."""
    tree = context.plan.tree
    executor = context.executor
    for ref in tree.args.get("tables") or [tree.this]:
        with executor.engine.lease() as cursor:
            if _spec(cursor, ref.db, ref.name) is None:
                if tree.args.get("exists"):
                    continue
                raise NotFoundError(f"Not found: materialized view {ref.db}.{ref.name}.", hint="Check the name, or use DROP MATERIALIZED VIEW IF EXISTS.")
            drop_table(dataclasses.replace(context, plan=plan(exp.Drop(tables=[ref.copy()], kind="TABLE"))))
            cursor.execute(f"DELETE FROM {CATALOG}.{VIEWS_TABLE} WHERE table_schema = ? AND table_name = ?", [ref.db.lower(), ref.name.lower()])
    return Result.empty("DROP MATERIALIZED VIEW")


def refresh(executor: Executor, dataset: str, name: str) -> None:
    """Recompute the view's rows from its query now (one transaction: all rows or none)."""
    with executor.engine.lease() as cursor:
        spec = _spec(cursor, dataset, name)
    if spec is None:
        raise MaterializedViewError(
            f"{dataset}.{name} is not a materialized view.", hint="Create it with CREATE MATERIALIZED VIEW … AS SELECT …."
        )
    saved = executor.dialect
    executor.dialect = spec["dialect"]
    try:
        executor.execute(spec["definition"], path=f"materialized view {dataset}.{name}").close()
    except Error as error:
        error.message = f"Refreshing materialized view {dataset}.{name} failed; its rows are as they were. {error.message}"
        raise
    finally:
        executor.dialect = saved


def refresh_procedure(executor: Executor, arguments: list) -> None:
    """``CALL BQ.REFRESH_MATERIALIZED_VIEW('[project.]dataset.view')``."""
    if len(arguments) != 1 or not isinstance(arguments[0], str) or arguments[0].count(".") not in (1, 2):
        raise MaterializedViewError(
            "BQ.REFRESH_MATERIALIZED_VIEW takes one STRING: the view's name.", hint="CALL BQ.REFRESH_MATERIALIZED_VIEW('ds.my_view')"
        )
    dataset, name = arguments[0].split(".")[-2:]
    refresh(executor, dataset, name)


def refresh_stale_views(tree: exp.Expression, executor: Executor, survey: Survey | None = None) -> exp.Expression:
    """Before a statement reads materialized views, refresh those whose base tables moved on."""
    if isinstance(tree, exp.Drop) or (isinstance(tree, exp.Create) and is_materialized(tree)):
        return tree
    read = [t for t in survey_of(tree, survey).tables if t.db and t.name and not is_written_target(t)]
    if not read:
        return tree
    warehouse = executor.engine
    if not remembered_meta_table(warehouse, MATERIALIZED_VIEWS.name):
        return tree
    with warehouse.lease() as cursor:
        specs = [(t, _remembered_spec(warehouse, cursor, t)) for t in read]
        stale = [(t.db, t.name) for t, spec in specs if spec is not None and _is_stale(cursor, spec)]
    for dataset, name in dict.fromkeys(stale):
        refresh(executor, dataset, name)
    return tree


def refuse_writes(tree: exp.Expression, executor: Executor, survey: Survey | None = None) -> exp.Expression:
    """INSERT/UPDATE/DELETE/MERGE/TRUNCATE on a materialized view is an error, as on BigQuery."""
    target = write_target(tree)
    if target is None:
        return tree
    warehouse = executor.engine
    if not remembered_meta_table(warehouse, MATERIALIZED_VIEWS.name):
        return tree
    with warehouse.lease() as cursor:
        if _remembered_spec(warehouse, cursor, target) is not None:
            raise MaterializedViewError(
                f"Cannot modify materialized view {target.db}.{target.name}: its rows come from its query.",
                hint=f"Write to its base tables, then CALL BQ.REFRESH_MATERIALIZED_VIEW('{target.db}.{target.name}').",
            )
    return tree


def _is_stale(cursor, spec: dict) -> bool:
    """Whether a base table was written since the view's last refresh, beyond max_staleness."""
    if not spec["enable_refresh"]:
        return False
    rows = cursor.execute(
        f"""SELECT (SELECT max(modified_at) FROM {CATALOG}.{modification_log.MODIFICATIONS_TABLE}
                    WHERE table_schema = ? AND table_name = ? AND partition_id = ''),
                   (SELECT max(modified_at) FROM {CATALOG}.{modification_log.MODIFICATIONS_TABLE}
                    WHERE list_contains(?, table_schema || '.' || table_name))""",
        [spec["table_schema"], spec["table_name"], spec["base_tables"]],
    ).fetchall()
    refreshed, written = rows[0]
    if refreshed is None:
        return True
    if written is None or written <= refreshed:
        return False
    staleness = spec["max_staleness_seconds"]
    age = datetime.datetime.now(datetime.timezone.utc) - refreshed
    return staleness is None or age.total_seconds() > staleness


def _remembered_spec(warehouse, cursor, table: exp.Table) -> dict | None:
    key = ("materialized_view", table.db.lower(), table.name.lower())
    return warehouse.memo(key, lambda: _spec(cursor, table.db, table.name))


def _spec(cursor, dataset: str, name: str) -> dict | None:
    if not dataset or not has_meta_table(cursor, MATERIALIZED_VIEWS.name):
        return None
    cursor.execute(
        f"SELECT * FROM {CATALOG}.{VIEWS_TABLE} WHERE table_schema = lower(?) AND table_name = lower(?)", [dataset, name]
    )
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    return dict(zip(names, rows[0])) if rows else None


def _options(tree: exp.Create) -> tuple[dict, list[exp.Expression]]:
    """The view's options (validated, defaults filled) and the properties its table keeps."""
    options = dict(DEFAULTS)
    kept = []
    for prop in tree.args["properties"].expressions:
        if isinstance(prop, exp.MaterializedProperty):
            continue
        if isinstance(prop, (exp.PartitionedByProperty, exp.ClusterProperty)) or prop.name.lower() in _TABLE_OPTIONS:
            kept.append(prop.copy())
            continue
        name = prop.name.lower()
        if name not in DEFAULTS:
            valid = [*DEFAULTS, *sorted(_TABLE_OPTIONS)]
            guess = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
            nearest = f"Did you mean {guess[0]}? " if guess else ""
            raise InvalidOptionError(
                f"Unknown materialized view option {prop.name}.", option=prop.name, hint=f"{nearest}Valid options: {', '.join(valid)}."
            )
        options[name] = option_value(name, prop.args.get("value"))
    return options, kept


def option_value(name: str, value: exp.Expression) -> bool | float | str:
    """The value of the materialized view option ``name`` (one of :data:`DEFAULTS`), checked as CREATE checks it."""
    if name == "max_staleness":
        return _interval_seconds(value)
    wanted = type(DEFAULTS[name]) if DEFAULTS[name] is not None else str
    try:
        python = literal_value(value, wanted)
        if wanted is not float or python > 0:
            return python
    except NotConstant:
        pass
    expected = {bool: "a BOOL", float: "a positive number", str: "a STRING"}[wanted]
    raise InvalidOptionError(f"The materialized view option {name} takes {expected}.", option=name)


def _interval_seconds(value: exp.Expression) -> float:
    """Seconds of a BigQuery ``INTERVAL "Y-M D H:M:S" <from> TO <to>`` or ``INTERVAL n <unit>``."""
    units = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "MONTH": 30 * 86400, "YEAR": 365 * 86400}
    if isinstance(value, exp.Interval) and isinstance(value.this, exp.Literal):
        unit = value.args.get("unit")
        text = value.this.this.strip()
        if isinstance(unit, exp.Var) and unit.name.upper() in units and _is_number(text):
            return float(text) * units[unit.name.upper()]
        if isinstance(unit, exp.IntervalSpan):
            seconds = 0.0
            for part in text.split():
                if ":" in part:
                    h, m, s = ([*map(float, part.split(":")), 0.0, 0.0])[:3]
                    seconds += h * 3600 + m * 60 + s
                elif "-" in part.lstrip("-"):
                    years, months = part.split("-")
                    seconds += float(years) * units["YEAR"] + float(months) * units["MONTH"]
                elif _is_number(part):
                    seconds += float(part) * units["DAY"]
            return seconds
    raise InvalidOptionError(
        "max_staleness takes an INTERVAL literal.", option="max_staleness", hint='e.g. max_staleness = INTERVAL "4:0:0" HOUR TO SECOND'
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
