"""Tables: ``CREATE TABLE`` and ``DROP TABLE`` with what the warehouse keeps beside them.

A new table gets its entry in the write log (:mod:`~sqlml.warehouse.modification_log`) and its
GEOGRAPHY columns noted (:mod:`~sqlml.warehouse.column_types`); a table created with
``PARTITION BY``/``CLUSTER BY``/``OPTIONS`` is written in pruning order and its spec recorded by
:mod:`~sqlml.warehouse.partitions`. The create is one transaction, in the table's write turn; the
drop is one transaction too.
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_table_statement
"""

from __future__ import annotations

import dataclasses

from sqlglot import exp

from sqlml.execution.context import StatementContext, atomic
from sqlml.execution.plain import run_sql
from sqlml.result import Result
from sqlml.sql.planner import plan
from sqlml.warehouse import column_options, column_types, modification_log, partitions, table_clones
from sqlml.warehouse.meta import relation_exists


def create_table(context: StatementContext) -> Result:
    """Run CREATE TABLE in the table's write turn, with its bookkeeping, atomically (a CLONE or COPY
    of a table: :mod:`~sqlml.warehouse.table_clones`)."""
    if context.plan.tree.args.get("clone") is not None:
        return table_clones.create_copy(context)
    tree = context.plan.tree.copy()
    partitioning = partitions.take_partitioning(tree)
    descriptions = column_options.take_descriptions(tree)
    ref = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    create = dataclasses.replace(context, plan=plan(tree))
    return modification_log.write_in_turn(context.executor, ref, lambda: _create_table(create, ref, partitioning, descriptions))


def _create_table(context: StatementContext, ref: exp.Table, partitioning: partitions.Partitioning | None, descriptions: dict) -> Result:
    executor, tree = context.executor, context.plan.tree
    with executor.engine.lease() as cursor, atomic(executor, cursor):
        existed = bool(tree.args.get("exists")) and relation_exists(cursor, ref.db, ref.name, views=False)
        result = _run_create(context, existed)
        partitions.record(cursor, ref.db, ref.name, partitioning)  # a replaced table loses its old spec
        if ref.db and not existed:
            modification_log.record(executor.engine, cursor, ref.db, ref.name, None)
            column_types.record(executor.engine, cursor, ref, tree)
            column_options.record(executor.engine, cursor, ref, descriptions)
    return result


def _run_create(context: StatementContext, existed: bool) -> Result:
    # CREATE TABLE t (columns) AS query: BigQuery fills the listed columns from the query's by
    # position (what dbt-bigquery writes for a model with an enforced contract). DuckDB takes no
    # column list with AS: the table is created empty, then the rows inserted, in the caller's
    # one transaction (none under IF NOT EXISTS when the table exists).
    tree = context.plan.tree
    query = tree.expression
    if not isinstance(tree.this, exp.Schema) or query is None:
        return run_sql(context)
    empty = tree.copy()
    empty.set("expression", None)
    result = run_sql(dataclasses.replace(context, plan=plan(empty)))
    if not existed:
        run_sql(dataclasses.replace(context, plan=plan(exp.insert(query.copy(), tree.this.this.copy()))))
    return result


def drop_table(context: StatementContext) -> Result:
    """DROP TABLE with forgetting the table's partitioning, write log entries and column types,
    atomically: a failed or interrupted drop keeps the table and what is kept beside it."""
    executor = context.executor
    with executor.engine.lease() as cursor, atomic(executor, cursor):
        result = run_sql(context)
        for ref in context.plan.tree.args.get("tables") or [context.plan.tree.this]:
            partitions.record(cursor, ref.db, ref.name, None)
            modification_log.forget(cursor, ref.db, ref.name)
            column_types.forget(cursor, ref.db, ref.name)
            column_options.forget(cursor, ref.db, ref.name)
    return result
