"""Partitioned and clustered tables: ``CREATE TABLE … PARTITION BY … CLUSTER BY … OPTIONS(…)``.

Storage, chosen by measurement (bench/bench_partitions.py): a partitioned table is one DuckDB
table whose rows are written in order of the partition expression, then the cluster columns.
DuckDB keeps the min and max of every column per row group and skips the row groups a filter
excludes (EXPLAIN ANALYZE reports "Row Groups Scanned: 2 / 9"), so a filter on the partition
column reads only that partition's row groups and a filter on cluster columns skips row groups
inside them. Every write stays one DuckDB transaction: a failed or killed statement leaves every
partition as it was (the write-ahead log is replayed or discarded on the next open), which a
folder of Parquet files per partition would need its own rename-and-journal protocol to match.

The partitioning spec lives in ``sqlml_meta.table_options`` and serves
``require_partition_filter``, ``partition_expiration_days`` and INFORMATION_SCHEMA.

https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_table_statement
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dataclasses
import datetime

import sqlglot
from sqlglot import exp

from sqlml.engine.base import CATALOG, Cursor, EngineError, SqlEngine
from sqlml.errors import InvalidOptionError, SqlError, SqlSyntaxError
from sqlml.execution.survey import Survey, survey_of
from sqlml.sql.constants import NotConstant, literal_value
from sqlml.sql.expressions import LoadDataFiles
from sqlml.sql.planner import StatementKind, kind_of
from sqlml.warehouse import meta
from sqlml.warehouse.meta import has_meta_table

if TYPE_CHECKING:
    from sqlml.execution.executor import Executor

OPTIONS_TABLE = meta.TABLE_OPTIONS.qualified
#: Table options BigQuery's CREATE TABLE takes that mean something here, with their types.
TABLE_OPTIONS = {"partition_expiration_days": float, "require_partition_filter": bool, "description": str}
#: BigQuery's other table options (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#table_option_list):
#: labels, names, encryption and storage settings of BigQuery's service, with nothing to act on in a local
#: warehouse. The statement runs with them (dbt-bigquery writes ``labels``; tutorials ``expiration_timestamp``)
#: and they are not kept.
SERVICE_OPTIONS = frozenset({
    "labels", "friendly_name", "expiration_timestamp", "kms_key_name", "max_staleness", "default_rounding_mode",
    "enable_change_history", "enable_fine_grained_mutations", "tags", "default_collate",
})  # fmt: skip
_UNITS = {"DAY", "HOUR", "MONTH", "YEAR"}


class PartitionFilterError(SqlError, ValueError):
    """A query on a table with require_partition_filter has no filter on the partition column."""


@dataclasses.dataclass
class Partitioning:
    """A table's partition expression (as BigQuery SQL), column, unit, cluster columns and options."""

    expression: exp.Expression | None
    column: str | None
    unit: str | None
    cluster: list[str]
    options: dict


def take_partitioning(tree: exp.Create) -> Partitioning | None:
    """The PARTITION BY / CLUSTER BY / OPTIONS of a CREATE TABLE ``tree``, removed from it, with its
    query's rows ordered for partition and cluster pruning; None if it has none."""
    partitioning = _partitioning(tree)
    query = tree.expression
    if partitioning is not None and isinstance(query, exp.Query):
        keys = [partitioning.expression.copy()] if partitioning.expression is not None else []
        keys += [exp.column(name) for name in partitioning.cluster]
        if not keys:  # options alone: nothing to order the rows by
            return partitioning
        # a column list (CREATE TABLE t (a, b) PARTITION BY b AS query) names the query's columns by position
        names = [column.this.copy() for column in tree.this.expressions] if isinstance(tree.this, exp.Schema) else []
        rows = query.subquery(exp.TableAlias(this=exp.to_identifier("_sqlml_rows"), columns=names))
        tree.set("expression", exp.select("*").from_(rows).order_by(*keys))
    return partitioning


def _partitioning(tree: exp.Create) -> Partitioning | None:
    """The PARTITION BY / CLUSTER BY / OPTIONS of ``tree``, removed from it; None if it has none."""
    properties = tree.args.get("properties")
    if properties is None:
        return None
    found = Partitioning(None, None, None, [], {})
    kept = []
    for prop in properties.expressions:
        if isinstance(prop, exp.PartitionedByProperty):
            found.expression, found.column, found.unit = _partition_spec(prop.this)
        elif isinstance(prop, exp.ClusterProperty):
            found.cluster = [column.name for column in prop.expressions]
            if len(found.cluster) > 4:
                raise SqlSyntaxError("CLUSTER BY takes at most four columns.", hint="Keep the four most filtered-on columns.")
        elif isinstance(prop, exp.Property) and prop.name.lower() in TABLE_OPTIONS:
            found.options[prop.name.lower()] = option_value(prop)
        elif isinstance(prop, exp.Property) and prop.name.lower() in SERVICE_OPTIONS:
            continue
        elif isinstance(prop, exp.Property) and not isinstance(prop, exp.TemporaryProperty):
            raise InvalidOptionError(
                f"Unknown table option {prop.name}.", option=prop.name,
                hint=f"Table options: {', '.join([*TABLE_OPTIONS, *sorted(SERVICE_OPTIONS)])}.",
            )  # fmt: skip
        else:
            kept.append(prop)
    if found.options.get("require_partition_filter") and found.column is None:
        raise InvalidOptionError("require_partition_filter needs a PARTITION BY clause.", option="require_partition_filter")
    if kept:
        properties.set("expressions", kept)
    else:
        tree.set("properties", None)
    if found.expression is None and not found.cluster and not found.options:
        return None
    return found


def _partition_spec(expression: exp.Expression) -> tuple[exp.Expression, str, str | None]:
    """(expression, partition column, unit) of a PARTITION BY expression BigQuery accepts."""
    if isinstance(expression, exp.Identifier):
        expression = exp.column(expression.copy())
    if isinstance(expression, exp.Column):
        return expression, expression.name, None
    if isinstance(expression, (exp.Date, exp.TsOrDsToDate)) and isinstance(expression.this, exp.Column):
        return expression, expression.this.name, "DAY"
    if isinstance(expression, (exp.DateTrunc, exp.TimestampTrunc, exp.DatetimeTrunc)) and isinstance(expression.this, exp.Column):
        unit = expression.text("unit").upper()
        if unit in _UNITS:
            return expression, expression.this.name, unit
    if isinstance(expression, exp.RangeBucket) and isinstance(expression.this, exp.Column):
        return expression, expression.this.name, "RANGE"
    raise SqlSyntaxError(
        f"Cannot partition by {expression.sql(dialect='bigquery')}.",
        hint="Partition by a DATE/TIMESTAMP/INT64 column, DATE(ts), DATE_TRUNC(d, MONTH|YEAR), "
        "TIMESTAMP_TRUNC(ts, DAY|HOUR|MONTH|YEAR) or RANGE_BUCKET(col, GENERATE_ARRAY(start, end, step)).",
    )


def option_value(prop: exp.Property) -> bool | float | str:
    """The value of the table option ``prop`` (one of :data:`TABLE_OPTIONS`), checked to be a literal of its type."""
    name = prop.name.lower()
    try:
        return literal_value(prop.args.get("value"), TABLE_OPTIONS[name])
    except NotConstant:
        expected = {bool: "BOOL", str: "STRING"}.get(TABLE_OPTIONS[name], "FLOAT64")
        raise InvalidOptionError(f"The table option {name} takes a {expected} literal.", option=name) from None


def record(cursor: Cursor, dataset: str, table: str, partitioning: Partitioning | None) -> None:
    """Keep the partitioning of ``dataset.table``; None forgets any it had (a replaced or dropped table)."""
    if partitioning is None:
        if has_meta_table(cursor, meta.TABLE_OPTIONS.name):
            cursor.execute(f"DELETE FROM {CATALOG}.{OPTIONS_TABLE} WHERE table_schema = ? AND table_name = ?", [dataset, table])
        return
    cursor.execute(meta.TABLE_OPTIONS.create_sql)
    expression = partitioning.expression.sql(dialect="bigquery") if partitioning.expression is not None else None
    options = partitioning.options
    cursor.execute(
        f"INSERT OR REPLACE INTO {CATALOG}.{OPTIONS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [dataset, table, expression, partitioning.column, partitioning.unit, partitioning.cluster,
         options.get("require_partition_filter", False), options.get("partition_expiration_days"), options.get("description")],
    )  # fmt: skip


def table_options(cursor: Cursor, dataset: str, table: str) -> dict | None:
    """The recorded partitioning of ``dataset.table`` as a dict, or None."""
    if not has_meta_table(cursor, meta.TABLE_OPTIONS.name):
        return None
    cursor.execute(
        f"SELECT * FROM {CATALOG}.{OPTIONS_TABLE} WHERE lower(table_schema) = lower(?) AND lower(table_name) = lower(?)",
        [dataset, table],
    )
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()  # fetchall: a result left unfinished blocks the cursor (DuckDB 2)
    return dict(zip(names, rows[0])) if rows else None


#: strftime formats of BigQuery's partition ids per time unit (a DAY partition is ``20250301``).
_ID_FORMATS = {"HOUR": "%Y%m%d%H", "DAY": "%Y%m%d", "MONTH": "%Y%m", "YEAR": "%Y"}


def partition_id_sql(options: dict, column_type: str, column_sql: str | None = None) -> str:
    """DuckDB SQL for the BigQuery ``partition_id`` of a row of a table partitioned as ``options``.

    Time units give ``YYYYMMDD``/``YYYYMMDDHH``/``YYYYMM``/``YYYY``; RANGE_BUCKET the start of the
    row's bucket, ``__UNPARTITIONED__`` outside the range; an integer column its value; a NULL
    partition value ``__NULL__`` (https://cloud.google.com/bigquery/docs/information-schema-partitions).

    Args:
        options: the table's recorded spec (:func:`table_options`).
        column_type: DuckDB's type of the partition column (a DATE/TIMESTAMP column partitions by day).
        column_sql: the column as SQL; the quoted column name by default.
    """
    column = column_sql or '"' + options["partition_column"].replace('"', '""') + '"'
    unit = options["partition_unit"]
    if unit == "RANGE":
        bucket = sqlglot.parse_one(options["partition_expression"], read="bigquery").expression
        start, end, step = (int(bucket.args[k].this) for k in ("start", "end", "step"))
        value = (
            f"CASE WHEN {column} < {start} OR {column} >= {end} THEN '__UNPARTITIONED__' "
            f"ELSE CAST({start} + floor(({column} - {start}) / {step}) * {step} AS BIGINT)::VARCHAR END"
        )
    elif unit is None and not any(word in column_type.upper() for word in ("DATE", "TIME")):
        value = f"CAST({column} AS VARCHAR)"
    else:
        value = f"strftime({column}, '{_ID_FORMATS[unit or 'DAY']}')"
    return f"CASE WHEN {column} IS NULL THEN '__NULL__' ELSE {value} END"


# -- reads: require_partition_filter and expiration -------------------------------------------


def check_partition_filters(tree: exp.Expression, executor: Executor, survey: Survey | None = None) -> exp.Expression:
    """Refuse a statement reading a ``require_partition_filter`` table without filtering its
    partition column, and drop expired partitions of the tables it touches first."""
    if isinstance(tree, (exp.Drop, exp.Alter, exp.TruncateTable)) or defines_view(tree):
        return tree
    tables = [t for t in survey_of(tree, survey).tables if t.db and t.name and not t.name.upper().startswith("INFORMATION_SCHEMA.")]
    tables = [t for t in tables if not is_written_target(t) and not isinstance(t.parent, exp.Clone)]  # a clone copies its source whole
    if not tables:
        return tree
    warehouse = executor.engine
    if not meta.remembered_meta_table(warehouse, meta.TABLE_OPTIONS.name):
        return tree
    with warehouse.lease() as cursor:
        for table in tables:
            options = remembered_options(warehouse, cursor, table)
            if options is not None and options["partition_column"] is not None and options["partition_expiration_days"]:
                _expire(cursor, table, options)
            for label, column in _required_filters(warehouse, cursor, table):
                if not _filters_column(tree, table, column):
                    raise PartitionFilterError(
                        f"Cannot query over table '{label}' without a filter over column(s) "
                        f"'{column}' that can be used for partition elimination.",
                        hint=f"Add a WHERE condition on {column}, e.g. WHERE {column} >= …",
                    )
    return tree


def remembered_options(warehouse: SqlEngine, cursor: Cursor, table: exp.Table) -> dict | None:
    """:func:`table_options` of ``table``, remembered by the warehouse."""
    key = ("table_options", table.db.lower(), table.name.lower())
    return warehouse.memo(key, lambda: table_options(cursor, table.db, table.name))


def _required_filters(warehouse, cursor, table: exp.Table, depth: int = 0) -> list[tuple[str, str]]:
    """(table, partition column) pairs a read of ``table`` must filter on: its own partition
    column if it requires a partition filter; for a view, those of the tables it reads that
    its own query leaves unfiltered (BigQuery pushes the reader's filter down through views)."""
    options = remembered_options(warehouse, cursor, table)
    if options is not None:
        required = options["partition_column"] is not None and options["require_partition_filter"]
        return [(f"{table.db}.{table.name}", options["partition_column"])] if required else []
    key = ("view_query", table.db.lower(), table.name.lower())
    body = warehouse.memo(key, lambda: _view_query(cursor, table)) if depth < 8 else None
    if body is None:
        return []
    return [
        (label, column)
        for inner in body.find_all(exp.Table) if inner.db
        for label, column in _required_filters(warehouse, cursor, inner, depth + 1)
        if not _filters_column(body, inner, column)
    ]  # fmt: skip


def _view_query(cursor: Cursor, table: exp.Table) -> exp.Expression | None:
    """The parsed query of the DuckDB view ``table`` names, or None if it is none."""
    text = cursor.view_definition(table.db, table.name)
    if text is None:
        return None
    try:
        definition = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.ParseError:
        return None
    return definition.expression if isinstance(definition, exp.Create) else None


def defines_view(tree: exp.Expression) -> bool:
    """CREATE VIEW: the filter is required of the queries that read the view, not of the view."""
    return kind_of(tree) is StatementKind.CREATE_VIEW


def is_written_target(table: exp.Table) -> bool:
    """The table a CREATE, INSERT or LOAD DATA writes, as opposed to the tables the statement reads."""
    parent = table.parent.parent if isinstance(table.parent, exp.Schema) else table.parent
    return isinstance(parent, (exp.Create, exp.Insert, exp.LoadData, LoadDataFiles)) and parent.this in (table, table.parent)


def _filters_column(tree: exp.Expression, table: exp.Table, column: str) -> bool:
    """Whether a WHERE/ON/QUALIFY condition of the query reading ``table`` mentions ``column``."""
    query = table.find_ancestor(exp.Select, exp.Update, exp.Delete, exp.Merge) or tree
    names = {table.alias_or_name.lower(), table.name.lower()}
    for clause in (query.args.get("where"), query.args.get("on")):
        if clause is None:
            continue
        for found in clause.find_all(exp.Column):
            if found.name.lower() == column.lower() and (not found.table or found.table.lower() in names):
                return True
    for join in query.args.get("joins") or []:
        on = join.args.get("on")
        if on is not None and any(c.name.lower() == column.lower() for c in on.find_all(exp.Column)):
            return True
    return False


def _expire(cursor, table: exp.Table, options: dict) -> None:
    """Delete the partitions older than partition_expiration_days (BigQuery drops them in the background)."""
    days = options["partition_expiration_days"]
    cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    column = options["partition_column"]
    try:
        cursor.execute(
            f'DELETE FROM {CATALOG}."{table.db}"."{table.name}" WHERE CAST("{column}" AS TIMESTAMPTZ) < ?',
            [cutoff],
        )
    except EngineError:
        pass  # an integer-range partition has no age
