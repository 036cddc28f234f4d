"""The routines catalog: stored procedures kept in ``sqlml_meta.routines``, and the system
procedures BigQuery provides (``BQ.REFRESH_MATERIALIZED_VIEW``).

A procedure is stored as the text of its CREATE statement with the dialect it was written in;
running one is the script interpreter's job (:mod:`sqlml.script.procedures`). SQL functions are
the engine's own macros and need no table here.
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_procedure
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlml.engine.base import CATALOG, Cursor
from sqlml.warehouse import materialized_views
from sqlml.warehouse.meta import ROUTINES, has_meta_table

if TYPE_CHECKING:
    from sqlml.execution.executor import Executor

#: The warehouse table holding routines (procedures here; functions are the engine's macros).
ROUTINES_TABLE = ROUTINES.qualified

#: Built-in procedures by upper-case ``DATASET.NAME``: ``run(executor, [argument values])``.
SYSTEM_PROCEDURES: dict[str, Callable[[Executor, list], None]] = {
    "BQ.REFRESH_MATERIALIZED_VIEW": materialized_views.refresh_procedure,
}


def store_procedure(cursor: Cursor, dataset: str, name: str, dialect: str, text: str) -> None:
    """Keep (or replace) procedure ``dataset.name`` as its CREATE statement ``text``; a replaced
    procedure keeps its creation time."""
    now = datetime.datetime.now(datetime.timezone.utc)
    cursor.execute(ROUTINES.create_sql)
    cursor.execute(
        f"INSERT OR REPLACE INTO {CATALOG}.{ROUTINES_TABLE} VALUES (?, ?, 'PROCEDURE', ?, ?, "
        f"coalesce((SELECT created FROM {CATALOG}.{ROUTINES_TABLE} WHERE routine_schema = ? AND routine_name = ?), ?), ?)",
        [dataset, name, dialect, text, dataset, name, now, now],
    )


def stored_procedure(cursor: Cursor, dataset: str, name: str) -> tuple[str, str] | None:
    """(dialect, CREATE statement) of a stored procedure, or None."""
    if not has_routines_table(cursor):
        return None
    row = cursor.execute(
        f"SELECT dialect, definition FROM {CATALOG}.{ROUTINES_TABLE} "
        "WHERE lower(routine_schema) = lower(?) AND lower(routine_name) = lower(?) AND routine_type = 'PROCEDURE'",
        [dataset, name],
    ).fetchall()  # fetchall: a result left unfinished blocks the cursor
    return (row[0][0], row[0][1]) if row else None


def known_procedures(cursor: Cursor) -> list[str]:
    """``dataset.name`` of every stored procedure, sorted (for hints)."""
    if not has_routines_table(cursor):
        return []
    rows = cursor.execute(f"SELECT routine_schema || '.' || routine_name FROM {CATALOG}.{ROUTINES_TABLE} ORDER BY 1").fetchall()
    return [row[0] for row in rows]


def has_routines_table(cursor: Cursor) -> bool:
    """Whether the warehouse has a routine table yet (it is made by the first CREATE PROCEDURE)."""
    return has_meta_table(cursor, ROUTINES.name)
