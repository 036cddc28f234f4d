"""Who runs each statement kind, and what rewrites every statement first: one table, read top down.

:data:`HANDLERS` maps every :class:`~sqlml.sql.planner.StatementKind` the executor runs to the
function that runs it; the procedural kinds (:data:`~sqlml.sql.planner.PROCEDURAL`) go to the
script interpreter instead. :data:`REWRITES` change a statement's tree before it is planned, in
this order. Both import the modules that own the statements directly, so adding a statement is
one row here and one function in its owner — no registration by import side effect. This module
sits above the warehouse, the models and the scripting language, which the executor (below them
all) is handed through :data:`TABLE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from sqlml.execution.context import Handler, Rewrite, StatementContext, StatementTable
from sqlml.execution.plain import run_sql, run_transaction
from sqlml.ml.preprocessing.manual.rewrite import rewrite_standalone
from sqlml.script import RUNNER
from sqlml.sql.planner import StatementKind as Kind
from sqlml.warehouse import (
    alter_options, default_dataset, dml, export_data, information_schema, load_data, materialized_views, ml_views, partitions, tables, views, wildcard_tables,
)  # fmt: skip

if TYPE_CHECKING:
    import pyarrow as pa

    from sqlml.execution.executor import Executor
    from sqlml.execution.sources import DataInput, SqlOutput
    from sqlml.result import Result
    from sqlml.sql.expressions import MLFunction


# The model statements and ML functions import the model families (and through them pandas and
# the ML libraries): they are imported when a statement first needs them, not for every SELECT.


def create_model(context: StatementContext) -> Result:
    """CREATE MODEL (:func:`sqlml.ml.training.model_ddl.create_model`), refused in a transaction."""
    from sqlml.ml.training import model_ddl

    return model_ddl.outside_transactions("CREATE MODEL", model_ddl.create_model)(context)


def drop_model(context: StatementContext) -> Result:
    """DROP MODEL (:func:`sqlml.ml.training.model_ddl.drop_model`), refused in a transaction."""
    from sqlml.ml.training import model_ddl

    return model_ddl.outside_transactions("DROP MODEL", model_ddl.drop_model)(context)


def alter_model(context: StatementContext) -> Result:
    """ALTER MODEL (:func:`sqlml.ml.training.model_ddl.alter_model`), refused in a transaction."""
    from sqlml.ml.training import model_ddl

    return model_ddl.outside_transactions("ALTER MODEL", model_ddl.alter_model)(context)


def export_model(context: StatementContext) -> Result:
    """EXPORT MODEL (:func:`sqlml.ml.training.export_model.export_model`)."""
    from sqlml.ml.training.export_model import export_model as run

    return run(context)


def evaluate_ml(executor: Executor, node: MLFunction, inputs: list[DataInput], params: Mapping | None) -> pa.Table | pa.RecordBatchReader | SqlOutput:
    """An ML table-function call inside a statement (:func:`sqlml.ml.functions.run`)."""
    from sqlml.ml import functions

    return functions.run(executor, node, inputs, params)

#: The handler of every statement kind the executor runs.
HANDLERS: MappingProxyType[Kind, Handler] = MappingProxyType({
    Kind.QUERY: run_sql,
    Kind.DML: dml.write,
    Kind.TRUNCATE_TABLE: dml.write,
    Kind.LOAD_DATA: load_data.load_data,
    Kind.EXPORT_DATA: export_data.export_data,
    Kind.TRANSACTION: run_transaction,
    Kind.CREATE_SCHEMA: run_sql,
    Kind.DROP_SCHEMA: run_sql,
    Kind.ALTER_SCHEMA: alter_options.alter,
    Kind.CREATE_TABLE: tables.create_table,
    Kind.DROP_TABLE: tables.drop_table,
    Kind.ALTER_TABLE: alter_options.alter,
    Kind.CREATE_VIEW: views.create_view,
    Kind.DROP_VIEW: views.drop_view,
    Kind.ALTER_VIEW: alter_options.alter,
    Kind.CREATE_MATERIALIZED_VIEW: materialized_views.create_materialized_view,
    Kind.DROP_MATERIALIZED_VIEW: materialized_views.drop_materialized_view,
    Kind.CREATE_FUNCTION: run_sql,
    Kind.DROP_FUNCTION: run_sql,
    Kind.CREATE_MODEL: create_model,
    Kind.DROP_MODEL: drop_model,
    Kind.ALTER_MODEL: alter_model,
    Kind.EXPORT_MODEL: export_model,
    Kind.ENGINE_NATIVE: run_sql,
})  # fmt: skip

#: Applied to every statement before it is planned, in this order: names first get their default
#: dataset; manual preprocessing calls outside TRANSFORM become SQL; partition filters are checked
#: (and expired partitions dropped) on the tables as written, before INFORMATION_SCHEMA views
#: expand into the catalog queries; writes to materialized views are refused and stale ones
#: refreshed; ML views expand into their queries, and wildcard tables into the tables they match
#: last (an ML view may read one).
REWRITES: tuple[Rewrite, ...] = (
    default_dataset.qualify,
    rewrite_standalone,
    partitions.check_partition_filters,
    information_schema.rewrite,
    materialized_views.refuse_writes,
    materialized_views.refresh_stale_views,
    ml_views.expand_ml_views,
    wildcard_tables.expand,
)

#: What the executor is given.
TABLE = StatementTable(handlers=HANDLERS, rewrites=REWRITES, script=RUNNER, evaluate_ml=evaluate_ml)
