"""The log of when each table, and each partition of a partitioned table, was last written.

INFORMATION_SCHEMA.PARTITIONS reports ``last_modified_time`` per partition, which DuckDB does
not keep, so writes record it here, in ``sqlml_meta.modifications``, inside the write's own
transaction (a failed write records nothing). A row with partition_id ``''`` stands for the
whole table (CREATE [OR REPLACE] TABLE, TRUNCATE, DML on an unpartitioned table); a partition's
last_modified_time is the later of its own row and its table's whole-table row.
"""

from __future__ import annotations

import datetime

from sqlml.engine.meta import ensure_meta_table, has_meta_table
from sqlml.engine.warehouse import CATALOG

MODIFICATIONS_TABLE = "sqlml_meta.modifications"
WHOLE_TABLE = ""
_CREATE = f"""
CREATE SCHEMA IF NOT EXISTS {CATALOG}.sqlml_meta;
CREATE TABLE IF NOT EXISTS {CATALOG}.{MODIFICATIONS_TABLE} (
    table_schema VARCHAR NOT NULL, table_name VARCHAR NOT NULL, partition_id VARCHAR NOT NULL,
    modified_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (table_schema, table_name, partition_id)
)"""


def record(warehouse, cursor, dataset: str, table: str, partition_ids: list[str] | None) -> None:
    """Note that ``partition_ids`` of ``dataset.table`` were written now; None means the whole
    table was rewritten, so its partitions' own times are forgotten ([WHOLE_TABLE] records a
    write to an unpartitioned table, which has none)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key = [dataset.lower(), table.lower()]
    ensure_meta_table(warehouse, cursor, "modifications", _CREATE)
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


def forget(cursor, dataset: str, table: str) -> None:
    """Drop the records of a dropped table."""
    if has_meta_table(cursor, "modifications"):
        cursor.execute(
            f"DELETE FROM {CATALOG}.{MODIFICATIONS_TABLE} WHERE table_schema = ? AND table_name = ?",
            [dataset.lower(), table.lower()],
        )
