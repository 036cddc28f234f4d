"""Table clones and copies: ``CREATE [OR REPLACE] TABLE [IF NOT EXISTS] t CLONE src`` and ``… COPY src``.

dbt's ``clone`` materialization writes CLONE (without it, dbt fell back to views), notebooks COPY;
DuckDB has neither ("syntax error at or near CLONE"). A local warehouse has no copy-on-write storage,
so both make the same full copy: the source's rows in their stored order (a partitioned table's
pruning order) and its column types, with what sqlml keeps beside a table copied in the same
transaction — the partitioning, clustering and kept options (``sqlml_meta.table_options``), the
GEOGRAPHY column types and the column descriptions. The source is copied whole, not queried, so its
``require_partition_filter`` asks no filter (:func:`~sqlml.warehouse.partitions.check_partition_filters`
skips a clone's source). ``FOR SYSTEM_TIME AS OF`` (time travel) is refused by the parser: no history is kept.
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_table_clone_statement
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_table_copy
"""

from __future__ import annotations

import dataclasses

from sqlglot import exp

from sqlml.engine.base import CATALOG, Cursor
from sqlml.errors import NotFoundError
from sqlml.execution.context import StatementContext, atomic
from sqlml.execution.plain import run_sql
from sqlml.result import Result
from sqlml.sql.planner import plan
from sqlml.warehouse import meta, modification_log, partitions

#: What is kept beside a table, by lower-cased dataset and table name, copied to the clone.
_LOWER_CASED = (meta.COLUMN_TYPES, meta.COLUMN_OPTIONS)


def create_copy(context: StatementContext) -> Result:
    """Run CREATE TABLE … CLONE|COPY source as a CREATE TABLE AS SELECT * of the source, copying
    its bookkeeping, atomically and in the new table's write turn."""
    tree = context.plan.tree
    source, target = tree.args["clone"].this, tree.this
    create = exp.Create(
        this=target.copy(), kind="TABLE", replace=tree.args.get("replace"), exists=tree.args.get("exists"),
        expression=exp.select("*").from_(source.copy()),
    )  # fmt: skip
    copy_context = dataclasses.replace(context, plan=plan(create))
    return modification_log.write_in_turn(context.executor, target, lambda: _copy(copy_context, source, target))


def _copy(context: StatementContext, source: exp.Table, target: exp.Table) -> Result:
    executor = context.executor
    with executor.engine.lease() as cursor, atomic(executor, cursor):
        if context.plan.tree.args.get("exists") and meta.relation_exists(cursor, target.db, target.name, views=False):
            return run_sql(context)  # IF NOT EXISTS of an existing table: nothing changes
        if not meta.relation_exists(cursor, source.db, source.name, views=False):
            raise NotFoundError(
                f"Unknown table {source.db}.{source.name}.",
                hint=f"A table is cloned or copied from a table (not a view); list them with SELECT * FROM {source.db}.INFORMATION_SCHEMA.TABLES.",
            )
        result = run_sql(context)
        _copy_kept(executor.engine, cursor, source, target)
        modification_log.record(executor.engine, cursor, target.db, target.name, None)
    return result


def _copy_kept(warehouse, cursor: Cursor, source: exp.Table, target: exp.Table) -> None:
    """Give ``target`` what is kept beside ``source`` (and forget what a replaced ``target`` had)."""
    partitions.record(cursor, target.db, target.name, None)
    if meta.has_meta_table(cursor, meta.TABLE_OPTIONS.name):
        cursor.execute(
            f"INSERT INTO {CATALOG}.{meta.TABLE_OPTIONS.qualified} SELECT ?, ?, * EXCLUDE (table_schema, table_name) "
            f"FROM {CATALOG}.{meta.TABLE_OPTIONS.qualified} WHERE lower(table_schema) = lower(?) AND lower(table_name) = lower(?)",
            [target.db, target.name, source.db, source.name],
        )
    for kept in _LOWER_CASED:
        if not meta.has_meta_table(cursor, kept.name):
            continue
        table = f"{CATALOG}.{kept.qualified}"
        cursor.execute(f"DELETE FROM {table} WHERE table_schema = ? AND table_name = ?", [target.db.lower(), target.name.lower()])
        cursor.execute(
            f"INSERT INTO {table} SELECT ?, ?, * EXCLUDE (table_schema, table_name) FROM {table} WHERE table_schema = ? AND table_name = ?",
            [target.db.lower(), target.name.lower(), source.db.lower(), source.name.lower()],
        )
