"""The log of when each table, and each partition of a partitioned table, was last written.

INFORMATION_SCHEMA.PARTITIONS reports ``last_modified_time`` per partition, which DuckDB does
not keep, so writes record it here, in ``sqlml_meta.modifications``, inside the write's own
transaction (a failed write records nothing). A row with partition_id ``''`` stands for the
whole table (CREATE [OR REPLACE] TABLE, TRUNCATE, DML on an unpartitioned table); a partition's
last_modified_time is the later of its own row and its table's whole-table row.

Since every write of a table updates its row here, two sessions writing one table at once would
conflict in DuckDB even where their rows do not: :func:`write_in_turn` runs each write in the
table's turn (:mod:`~sqlml.engine.duckdb.table_writes`).
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlglot import exp

from sqlml.engine.base import CATALOG, Cursor, EngineTransactionError, SqlEngine
from sqlml.errors import TransactionError
from sqlml.execution.context import in_transaction_block
from sqlml.warehouse.meta import MODIFICATIONS, ensure_meta_table, has_meta_table

if TYPE_CHECKING:
    from sqlml.execution.executor import Executor

MODIFICATIONS_TABLE = MODIFICATIONS.qualified
WHOLE_TABLE = ""
#: Reruns of a statement outside a transaction that DuckDB still finds in conflict with another
#: session's write (a race on something else, such as sqlml's own tables being created by two
#: first writes), each once those writes have ended: BigQuery reruns conflicting DML up to three times
#: (https://cloud.google.com/bigquery/docs/data-manipulation-language#dml_statement_conflicts).
RETRIES = 3
_T = TypeVar("_T")


def record(warehouse: SqlEngine, cursor: Cursor, dataset: str, table: str, partition_ids: list[str] | None) -> None:
    """Note that ``partition_ids`` of ``dataset.table`` were written now; None means the whole
    table was rewritten, so its partitions' own times are forgotten ([WHOLE_TABLE] records a
    write to an unpartitioned table, which has none)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key = [dataset.lower(), table.lower()]
    ensure_meta_table(warehouse, cursor, MODIFICATIONS)
    log = f"{CATALOG}.{MODIFICATIONS_TABLE}"
    if partition_ids is None:
        cursor.execute(f"DELETE FROM {log} WHERE table_schema = ? AND table_name = ? AND partition_id <> ?", [*key, WHOLE_TABLE])
        partition_ids = [WHOLE_TABLE]
    if not partition_ids:
        return
    # UPDATE, then INSERT what was missing: DuckDB's INSERT OR REPLACE costs four times as much,
    # and this runs after every write.
    updated = cursor.execute(
        f"UPDATE {log} SET modified_at = ? WHERE table_schema = ? AND table_name = ? AND list_contains(?, partition_id) RETURNING partition_id",
        [now, *key, partition_ids],
    ).fetchall()
    missing = sorted(set(partition_ids) - {row[0] for row in updated})
    if missing:
        cursor.execute(f"INSERT INTO {log} SELECT ?, ?, unnest(?::VARCHAR[]), ?", [*key, missing, now])


def forget(cursor: Cursor, dataset: str, table: str) -> None:
    """Drop the records of a dropped table."""
    if has_meta_table(cursor, MODIFICATIONS.name):
        cursor.execute(
            f"DELETE FROM {CATALOG}.{MODIFICATIONS_TABLE} WHERE table_schema = ? AND table_name = ?",
            [dataset.lower(), table.lower()],
        )


def write_in_turn(executor: Executor, target: exp.Table, write: Callable[[], _T]) -> _T:
    """``write()``: one statement's write of ``target``, its DuckDB transaction included, run in
    the table's turn (:mod:`~sqlml.engine.duckdb.table_writes`) and rerun after a conflict
    (:data:`RETRIES`) where no transaction encloses it.

    The turn is taken before the write's DuckDB transaction begins: one that began while another
    session's write was under way would conflict with it anyway. In the session's open
    transaction, the turn is kept until that ends (see :meth:`~sqlml.engine.base.SqlEngine.end`).

    Raises:
        TransactionError: DuckDB reported a conflict with another session's write each time, or
            once inside a transaction (which a conflict aborts), naming the table; or the table
            was not free in time.
    """
    warehouse = executor.engine
    name = f"{target.db}.{target.name}" if target.db else target.name
    transaction, enclosed = warehouse.in_transaction, in_transaction_block(executor)
    owner = warehouse if transaction else object()
    warehouse.take_turn(name, owner, transaction=transaction, cancel=executor.cancel)
    try:
        for runs in itertools.count(1):
            try:
                return write()
            except EngineTransactionError as error:
                if "conflict" not in str(error).lower():
                    raise
                if enclosed or runs > RETRIES:
                    raise _conflict(transaction, name, runs) from None
                warehouse.wait_for_other_writers(name, cancel=executor.cancel)
    finally:
        if not transaction:
            warehouse.give_back_turns(owner)


def _conflict(transaction: bool, table: str, runs: int) -> TransactionError:
    if transaction:
        return TransactionError(
            f"Another session wrote {table} while this transaction was open, and BigQuery cancels a "
            "transaction that conflicts with another write to the same table.",
            hint="Run the transaction again.",
        )
    times = f" {runs} times" if runs > 1 else ""
    return TransactionError(
        f"Another session wrote {table} at the same time: this statement conflicted with it{times} and changed nothing.",
        hint="Run it again.",
    )
