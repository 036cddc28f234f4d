"""Catalog lookups on DuckDB: which datasets, tables and views the attached warehouse holds, and
their columns, read from ``duckdb_schemas()``, ``duckdb_tables()``, ``duckdb_views()`` and
``duckdb_columns()`` (duckdb.org/docs/2.0/sql/meta/duckdb_table_functions).

Names compare case-insensitively, as DuckDB resolves them (``DS.T`` reads ``ds.t``).
"""

from __future__ import annotations

from sqlml.engine.base import CATALOG, Cursor

_RELATIONS = (
    f"SELECT schema_name, table_name AS name, 'table' AS kind FROM duckdb_tables() WHERE database_name = '{CATALOG}' "
    f"UNION ALL SELECT schema_name, view_name, 'view' FROM duckdb_views() WHERE database_name = '{CATALOG}' AND NOT internal"
)


def dataset_exists(cursor: Cursor, dataset: str) -> bool:
    """Whether the warehouse has the dataset (schema) ``dataset``."""
    rows = cursor.execute(
        "SELECT count(*) FROM duckdb_schemas() WHERE database_name = ? AND lower(schema_name) = lower(?)", [CATALOG, dataset]
    ).fetchall()  # fetchall: a result left unfinished blocks the cursor (DuckDB 2)
    return bool(rows[0][0])


def relation_kind(cursor: Cursor, dataset: str, name: str) -> str | None:
    """``"table"``, ``"view"`` or None for ``dataset.name``."""
    rows = cursor.execute(
        f"SELECT kind FROM ({_RELATIONS}) WHERE lower(schema_name) = lower(?) AND lower(name) = lower(?)", [dataset, name]
    ).fetchall()
    return rows[0][0] if rows else None


def table_columns(cursor: Cursor, dataset: str | None, name: str) -> list[tuple[str, str]]:
    """``(column, DuckDB type)`` of ``dataset.name`` in the warehouse, in order; without a dataset,
    of every relation called ``name`` in any database (TEMP ones and registered data included)."""
    where = "lower(table_name) = lower(?)"
    if dataset is not None:
        where += f" AND database_name = '{CATALOG}' AND lower(schema_name) = lower(?)"
    return cursor.execute(
        f"SELECT column_name, data_type FROM duckdb_columns() WHERE {where} ORDER BY database_name, schema_name, column_index",
        [name] if dataset is None else [name, dataset],
    ).fetchall()


def view_definition(cursor: Cursor, dataset: str, name: str) -> str | None:
    """The ``CREATE VIEW`` statement DuckDB keeps for ``dataset.name``, None if it is no view."""
    rows = cursor.execute(
        "SELECT sql FROM duckdb_views() WHERE database_name = ? AND lower(schema_name) = lower(?) AND lower(view_name) = lower(?)",
        [CATALOG, dataset, name],
    ).fetchall()
    return rows[0][0] if rows else None


def session_relations(cursor: Cursor) -> list[str]:
    """Names of the cursor's TEMP tables and views; registered data is a TEMP view to DuckDB."""
    rows = cursor.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary "
        "UNION ALL SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal"
    ).fetchall()
    return [row[0] for row in rows]


def list_tables(cursor: Cursor, dataset: str | None, views: bool) -> list[tuple[str, str]]:
    """``(dataset, name)`` of the tables (and ``views``) of ``dataset`` (None: of every dataset), sorted."""
    kinds = ["table", "view"] if views else ["table"]
    return cursor.execute(
        f"SELECT schema_name, name FROM ({_RELATIONS}) WHERE list_contains(?, kind) "
        "AND (? IS NULL OR lower(schema_name) = lower(?)) ORDER BY schema_name, name",
        [kinds, dataset, dataset],
    ).fetchall()
