"""The warehouse's ``sqlml_meta`` schema: tables sqlml keeps beside the user's (routines,
table options, project run history), made on first use."""

from __future__ import annotations

from sqlml.engine.warehouse import CATALOG

#: The schema of sqlml's own tables in the warehouse.
META_SCHEMA = "sqlml_meta"


def has_meta_table(cursor, name: str) -> bool:
    """Whether ``sqlml_meta.<name>`` exists yet (read-only warehouses may never get it)."""
    rows = cursor.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?",
        [CATALOG, META_SCHEMA, name],
    ).fetchall()  # fetchall: a result left unfinished blocks the cursor (DuckDB 2)
    return bool(rows[0][0])
