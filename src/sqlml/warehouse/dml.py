"""DML on warehouse tables: run the statement and log what it wrote (:mod:`modification_log`).

* TRUNCATE and DML on an unpartitioned table are logged as whole-table writes;
* INSERT, UPDATE, DELETE and MERGE on a partitioned table are given ``RETURNING <partition
  column>`` and record the partitions of the rows they return — inserted rows, the new values of
  updated rows, deleted rows — so a statement touching two days of a year marks those two only.
  An UPDATE or MERGE that assigns the partition column moves rows out of partitions the returned
  rows do not name, so it is recorded as a whole-table write.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from sqlglot import exp

from sqlml.engine.base import Cursor
from sqlml.execution.context import StatementContext, atomic
from sqlml.execution.plain import run_sql
from sqlml.result import Result
from sqlml.warehouse.modification_log import WHOLE_TABLE, record, write_in_turn
from sqlml.warehouse.partitions import partition_id_sql, remembered_options

if TYPE_CHECKING:
    import numpy as np

_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.TruncateTable)
_RETURNED = "__sqlml_returned_partition_values"


def write(context: StatementContext) -> Result:
    """Run a DML statement (or TRUNCATE TABLE) and record the table or partitions it wrote,
    atomically, in the table's turn (:func:`~sqlml.warehouse.modification_log.write_in_turn`).
    A write to a table outside the datasets (a TEMP table) keeps no log and runs as it is."""
    target = write_target(context.plan.tree)
    if target is None:
        return run_sql(context)
    return write_in_turn(context.executor, target, lambda: _write(context, target))


def _write(context: StatementContext, target: exp.Table) -> Result:
    tree = context.plan.tree
    executor = context.executor
    with executor.engine.lease() as cursor, atomic(executor, cursor):
        spec = remembered_options(executor.engine, cursor, target)
        column = spec and spec["partition_column"]
        if column and not isinstance(tree, exp.TruncateTable) and not _assigns(tree, column):
            result, values = _run_returning(context, target, column)
            column_type = executor.engine.memo(
                ("column_type", target.db.lower(), target.name.lower(), column.lower()), lambda: _column_type(cursor, target, column)
            )
            partition_ids = _partition_ids(cursor, values, spec, column_type)
        else:  # a whole-table write; an unpartitioned table has no partition times to forget
            result, partition_ids = run_sql(context), (None if column else [WHOLE_TABLE])
        record(executor.engine, cursor, target.db, target.name, partition_ids)
    return result


def write_target(tree: exp.Expression) -> exp.Table | None:
    """The warehouse table (``dataset.table``) an INSERT/UPDATE/DELETE/MERGE/TRUNCATE writes, or None."""
    if not isinstance(tree, _WRITES) or (isinstance(tree, exp.TruncateTable) and len(tree.expressions) != 1):
        return None
    target = tree.expressions[0] if isinstance(tree, exp.TruncateTable) else tree.this
    target = target.this if isinstance(target, exp.Schema) else target
    return target if isinstance(target, exp.Table) and target.db else None


def _assigns(tree: exp.Expression, column: str) -> bool:
    """Whether an UPDATE or MERGE sets ``column`` (moving rows between partitions)."""
    if not isinstance(tree, (exp.Update, exp.Merge)):
        return False
    assignments = tree.expressions if isinstance(tree, exp.Update) else [
        eq for when in tree.find_all(exp.When) for update in when.find_all(exp.Update) for eq in update.expressions
    ]  # fmt: skip
    return any(isinstance(eq, exp.EQ) and eq.this.name.lower() == column.lower() for eq in assignments)


def _run_returning(context: StatementContext, target: exp.Table, column: str) -> tuple[Result, np.ndarray]:
    """Run the statement with ``RETURNING <column>``; its result and the distinct returned values."""
    tree = context.plan.tree.copy()
    tree.set("returning", exp.Returning(expressions=[exp.column(column, table=target.alias_or_name)]))
    returned: list[np.ndarray] = []

    def collect(executed: Cursor) -> Result:
        values = next(iter(executed.fetchnumpy().values()))
        returned.append(values)
        return Result.empty(context.plan.verb, len(values))

    plan = dataclasses.replace(context.plan, tree=tree)
    result = run_sql(dataclasses.replace(context, plan=plan, returning=collect))
    return result, returned[0]


def _partition_ids(cursor: Cursor, values: np.ndarray, spec: dict, column_type: str) -> list[str]:
    """The distinct partition ids of the partition-column ``values`` a statement returned."""
    import numpy as np  # these three only for partitioned tables: not on every statement's import path
    import pandas as pd
    import pyarrow as pa

    if len(values) == 0:
        return []
    has_null = bool(np.ma.getmaskarray(values).any())
    present = values.compressed() if isinstance(values, np.ma.MaskedArray) else values
    distinct = pa.table({"v": pd.unique(present)})
    cursor.register(_RETURNED, distinct)
    try:
        rows = cursor.sql(f"SELECT DISTINCT {partition_id_sql(spec, column_type, 'v')} FROM {_RETURNED}").fetchall()
    finally:
        cursor.unregister(_RETURNED)
    return [row[0] for row in rows] + (["__NULL__"] if has_null else [])


def _column_type(cursor: Cursor, table: exp.Table, column: str) -> str:
    types = (data_type for name, data_type in cursor.table_columns(table.db, table.name) if name.lower() == column.lower())
    return next(types, "DATE")
