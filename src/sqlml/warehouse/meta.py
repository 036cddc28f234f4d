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


def relation_exists(cursor, dataset: str, name: str, *, tables: bool = True, views: bool = True) -> bool:
    """Whether the warehouse has a table (``tables``) or view (``views``) ``dataset.name``,
    compared case-insensitively as BigQuery names are."""
    sources = ([f"SELECT schema_name, table_name AS name FROM duckdb_tables() WHERE database_name = '{CATALOG}'"] if tables else []) + (
        [f"SELECT schema_name, view_name AS name FROM duckdb_views() WHERE database_name = '{CATALOG}' AND NOT internal"] if views else []
    )
    rows = cursor.execute(
        f"SELECT 1 FROM ({' UNION ALL '.join(sources)}) WHERE lower(schema_name) = lower(?) AND lower(name) = lower(?)",
        [dataset, name],
    ).fetchall()
    return bool(rows)


def remembered_meta_table(warehouse, cursor, name: str) -> bool:
    """:func:`has_meta_table`, remembered by the warehouse until a statement may have changed it."""
    return warehouse.memo(_meta_key(name), lambda: has_meta_table(cursor, name))


def ensure_meta_table(warehouse, cursor, name: str, create_sql: str) -> None:
    """Create ``sqlml_meta.<name>`` with ``create_sql`` unless it is known to exist.

    Its existence is not remembered at once: until the creating transaction commits, the other
    sessions cannot see the table, so the next statement looks again.
    """
    if not remembered_meta_table(warehouse, cursor, name):
        cursor.execute(create_sql)
        warehouse.forget(_meta_key(name))


def _meta_key(name: str) -> tuple:
    return ("meta_table", name)
