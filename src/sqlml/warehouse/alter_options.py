"""``ALTER {TABLE | VIEW | MATERIALIZED VIEW | SCHEMA} [IF EXISTS] name SET OPTIONS(…)``.

A table's kept options (``description``, ``require_partition_filter``, ``partition_expiration_days``)
change in ``sqlml_meta.table_options`` (:mod:`~sqlml.warehouse.partitions`); an option set to NULL
takes its default again, as in BigQuery; options not named keep their values. BigQuery's service
options (labels, expiration_timestamp…) are accepted and not kept, as CREATE TABLE accepts them.
A materialized view's options change in its record (:mod:`~sqlml.warehouse.materialized_views`).
A view's description changes in ``sqlml_meta.view_options`` (:mod:`~sqlml.warehouse.view_options`); its
other options and a dataset's have nothing to act on locally: the statement checks the object exists. ``ALTER TABLE … ALTER COLUMN c SET OPTIONS(description=…)`` changes the
column's description (:mod:`~sqlml.warehouse.column_options`). The change is one transaction: a failed ALTER changes nothing.
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#alter_table_set_options_statement
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#alter_view_set_options_statement
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#alter_schema_set_options_statement
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.engine.base import CATALOG, Cursor
from sqlml.errors import InvalidOptionError, NotFoundError
from sqlml.execution.context import StatementContext, atomic
from sqlml.execution.plain import run_sql
from sqlml.result import Result
from sqlml.sql.alter_options import AlterColumnOptions
from sqlml.warehouse import column_options, materialized_views, meta, partitions, view_options

#: BigQuery's view options (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#view_option_list);
#: a local view keeps its description only.
VIEW_OPTIONS = frozenset({"description", "friendly_name", "labels", "expiration_timestamp", "privacy_policy"})
#: The table options a materialized view takes (its other options are its own).
_VIEW_TABLE_OPTIONS = frozenset({"partition_expiration_days", "require_partition_filter"})
#: What a table row of ``sqlml_meta.table_options`` holds when no option is set.
_NO_OPTIONS = {"partition_expression": None, "partition_column": None, "partition_unit": None, "cluster_columns": [],
               "require_partition_filter": False, "partition_expiration_days": None, "description": None}  # fmt: skip


def alter(context: StatementContext) -> Result:
    """ALTER TABLE/VIEW/MATERIALIZED VIEW/SCHEMA: SET OPTIONS here, any other action the engine's.

    Raises:
        InvalidOptionError: an unknown option, or a value of the wrong type.
        NotFoundError: the object does not exist (and the statement has no IF EXISTS).
    """
    tree = context.plan.tree
    actions = tree.args.get("actions") or []
    if len(actions) != 1 or _options_of(actions[0]) is None:  # BigQuery's SET OPTIONS is a statement's one action
        return run_sql(context)
    verb = context.plan.verb
    kind, ref, options = tree.args["kind"].upper(), tree.this, _options_of(actions[0])
    column = actions[0] if isinstance(actions[0], AlterColumnOptions) else None
    changes = _checked(kind, options) if column is None else {"description": column_options.description_option(options)}
    executor = context.executor
    with executor.engine.lease() as cursor, atomic(executor, cursor):
        if not _exists(cursor, kind, ref):
            if tree.args.get("exists"):
                return Result.empty(verb)
            raise _not_found(kind, ref)
        if column is not None:
            column_options.set_description(executor.engine, cursor, ref, column.name, changes["description"], if_exists=bool(column.args.get("exists")))
        elif kind == "TABLE":
            set_table_options(cursor, ref, changes)
        elif kind == "VIEW" and "description" in changes:
            view_options.record(executor.engine, cursor, ref, changes["description"])
        if kind == "MATERIALIZED VIEW":
            set_table_options(cursor, ref, {k: v for k, v in changes.items() if k in _VIEW_TABLE_OPTIONS})
            _set_view_options(cursor, ref, {k: v for k, v in changes.items() if k in materialized_views.DEFAULTS})
    return Result.empty(verb)


def _set_view_options(cursor: Cursor, ref: exp.Table, changes: dict) -> None:
    """Give the materialized view ``ref`` the option values ``changes`` in its record."""
    for name, value in changes.items():
        column = "max_staleness_seconds" if name == "max_staleness" else name
        cursor.execute(
            f"UPDATE {CATALOG}.{materialized_views.VIEWS_TABLE} SET {column} = ? WHERE table_schema = lower(?) AND table_name = lower(?)",
            [value, ref.db, ref.name],
        )


def _options_of(action: exp.Expression) -> list[exp.Property] | None:
    """The properties of a SET OPTIONS action (an ALTER COLUMN's too), None for another action."""
    if not isinstance(action, (exp.AlterSet, AlterColumnOptions)):
        return None
    found = [e for e in action.expressions if isinstance(e, exp.Properties)]
    return list(found[0].expressions) if found else None


def _checked(kind: str, options: list[exp.Property]) -> dict:
    """The kept options' new values (None: back to the default), after checking every option's
    name and type as CREATE does."""
    changes = {}
    for prop in options:
        name, value = prop.name.lower(), prop.args.get("value")
        if kind == "SCHEMA":
            continue  # dataset options: accepted, as CREATE SCHEMA's (sqlml.sql.dataset_options)
        if kind == "VIEW" and name not in VIEW_OPTIONS:
            raise InvalidOptionError(f"Unknown view option {prop.name}.", option=prop.name, hint=f"View options: {', '.join(sorted(VIEW_OPTIONS))}.")
        if kind == "VIEW" and name == "description":
            changes[name] = view_options.description_value(value)
        if kind == "MATERIALIZED VIEW" and name in materialized_views.DEFAULTS:
            changes[name] = materialized_views.DEFAULTS[name] if isinstance(value, exp.Null) else materialized_views.option_value(name, value)
        elif kind == "MATERIALIZED VIEW" and name not in _VIEW_TABLE_OPTIONS | partitions.SERVICE_OPTIONS:
            valid = [*materialized_views.DEFAULTS, *sorted(_VIEW_TABLE_OPTIONS)]
            raise InvalidOptionError(f"Unknown materialized view option {prop.name}.", option=prop.name, hint=f"Valid options: {', '.join(valid)}.")
        elif kind != "VIEW" and name in partitions.TABLE_OPTIONS:
            changes[name] = None if isinstance(value, exp.Null) else partitions.option_value(prop)
        elif kind == "TABLE" and name not in partitions.SERVICE_OPTIONS:
            raise InvalidOptionError(
                f"Unknown table option {prop.name}.", option=prop.name,
                hint=f"Table options: {', '.join([*partitions.TABLE_OPTIONS, *sorted(partitions.SERVICE_OPTIONS)])}.",
            )  # fmt: skip
    return changes


def _exists(cursor: Cursor, kind: str, ref: exp.Table) -> bool:
    if kind == "SCHEMA":
        return cursor.dataset_exists(ref.db)
    if kind == "MATERIALIZED VIEW":
        if not meta.has_meta_table(cursor, meta.MATERIALIZED_VIEWS.name):
            return False
        cursor.execute(
            f"SELECT count(*) FROM {CATALOG}.{materialized_views.VIEWS_TABLE} WHERE table_schema = lower(?) AND table_name = lower(?)",
            [ref.db, ref.name],
        )
        return cursor.fetchall()[0][0] > 0
    return meta.relation_exists(cursor, ref.db, ref.name, tables=kind != "VIEW", views=kind == "VIEW")


def _not_found(kind: str, ref: exp.Table) -> NotFoundError:
    if kind == "SCHEMA":
        return NotFoundError(f"Unknown dataset {ref.db}.", hint=f"Create it first with CREATE SCHEMA {ref.db}, or write ALTER SCHEMA IF EXISTS.")
    noun = kind.lower()
    return NotFoundError(
        f"Unknown {noun} {ref.db}.{ref.name}.",
        hint=f"List tables with SELECT * FROM {ref.db}.INFORMATION_SCHEMA.TABLES, or write ALTER {kind} IF EXISTS.",
    )


def set_table_options(cursor: Cursor, ref: exp.Table, changes: dict) -> None:
    """Give the table ``ref`` the kept option values ``changes`` (None: the default), keeping its
    partitioning and its other options; a table left with no spec loses its row.

    Raises:
        InvalidOptionError: require_partition_filter on a table without PARTITION BY.
    """
    current = partitions.table_options(cursor, ref.db, ref.name)
    row = {"table_schema": ref.db, "table_name": ref.name, **_NO_OPTIONS, **(current or {})}
    row.update({name: _NO_OPTIONS[name] if value is None else value for name, value in changes.items()})
    if row["require_partition_filter"] and row["partition_column"] is None:
        raise InvalidOptionError(
            f"require_partition_filter needs a partitioned table; {ref.db}.{ref.name} has no PARTITION BY.",
            option="require_partition_filter", hint="Recreate the table with CREATE OR REPLACE TABLE … PARTITION BY ….",
        )  # fmt: skip
    table = f"{CATALOG}.{partitions.OPTIONS_TABLE}"
    if current is not None:
        cursor.execute(f"DELETE FROM {table} WHERE table_schema = ? AND table_name = ?", [row["table_schema"], row["table_name"]])
    if all(row[name] == default for name, default in _NO_OPTIONS.items()):
        return
    cursor.execute(meta.TABLE_OPTIONS.create_sql)
    cursor.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
