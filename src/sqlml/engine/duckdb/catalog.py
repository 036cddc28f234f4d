"""Catalog lookups on DuckDB: which tables and views the attached warehouse holds, and their
columns, read from DuckDB's ``duckdb_tables()``, ``duckdb_views()`` and ``duckdb_columns()``
(duckdb.org/docs/2.0/sql/meta/duckdb_table_functions)."""

from __future__ import annotations

from sqlml.engine.base import CATALOG, Cursor

_RELATIONS = (
    f"SELECT schema_name, table_name AS name, 'table' AS kind FROM duckdb_tables() WHERE database_name = '{CATALOG}' "
    f"UNION ALL SELECT schema_name, view_name, 'view' FROM duckdb_views() WHERE database_name = '{CATALOG}' AND NOT internal"
)


def known_tables(cursor: Cursor) -> list[str]:
    """``dataset.name`` of every table and view of the warehouse."""
    rows = cursor.sql(f"SELECT schema_name || '.' || name FROM ({_RELATIONS})").fetchall()
    return [row[0] for row in rows]


def relation_kind(cursor: Cursor, dataset: str, name: str) -> str | None:
    """``"table"``, ``"view"`` or None for ``dataset.name``."""
    rows = cursor.execute(
        f"SELECT kind FROM ({_RELATIONS}) WHERE schema_name = $s AND name = $t", {"s": dataset, "t": name}
    ).fetchall()
    return rows[0][0] if rows else None


def table_columns(cursor: Cursor, dataset: str, name: str) -> list[tuple[str, str]]:
    """``(column, DuckDB type)`` of ``dataset.name``, in order."""
    return cursor.execute(
        f"SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = '{CATALOG}' "
        "AND schema_name = $s AND table_name = $t ORDER BY column_index",
        {"s": dataset, "t": name},
    ).fetchall()


def list_tables(cursor: Cursor, dataset: str) -> list[str]:
    """Names of the tables and views of ``dataset``, sorted."""
    rows = cursor.execute(f"SELECT name FROM ({_RELATIONS}) WHERE schema_name = $s ORDER BY name", {"s": dataset}).fetchall()
    return [row[0] for row in rows]
