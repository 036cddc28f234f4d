"""Catalog lookups on Spark: the datasets (Spark databases), their tables and views, and their
columns, read from Spark's catalog (``spark.catalog``, ``DESCRIBE TABLE EXTENDED``).

Two readers: the seam's cursor methods (:class:`~sqlml.engine.spark.cursor.SparkCursor`), and the
SQL the layers above write over DuckDB's catalog functions (INFORMATION_SCHEMA is defined over
``duckdb_tables()``, ``duckdb_columns()``…). For the second, :func:`catalog_rows` lists Spark's
objects in the columns of those functions, and :func:`install_catalog_views` makes a DuckDB TEMP
view per function that reads DuckDB's own rows (sqlml's bookkeeping schema) and Spark's together.

Names compare case-insensitively, as Spark resolves them by default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from sqlml.engine.base import CATALOG, Cursor
from sqlml.engine.spark.translate import catalog_view_name
from sqlml.engine.spark.types import duckdb_type

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import SparkSession

__all__ = [
    "catalog_rows",
    "column_names",
    "dataset_exists",
    "install_catalog_views",
    "list_tables",
    "relation_kind",
    "session_relations",
    "table_columns",
    "view_definition",
]


def _quoted(*parts: str) -> str:
    return ".".join(f"`{part.replace('`', '``')}`" for part in parts)


def dataset_exists(spark: SparkSession, dataset: str) -> bool:
    """Whether Spark's catalog has the database ``dataset``."""
    return any(name.lower() == dataset.lower() for name in _datasets(spark))


def _datasets(spark: SparkSession) -> list[str]:
    return [database.name for database in spark.catalog.listDatabases()]


def _relations(spark: SparkSession, dataset: str) -> list[tuple[str, str]]:
    """``(name, "table" | "view")`` of the database ``dataset``'s own relations (not TEMP views)."""
    return [
        (table.name, "view" if table.tableType == "VIEW" else "table")
        for table in spark.catalog.listTables(_quoted(dataset))
        if not table.isTemporary
    ]


def relation_kind(spark: SparkSession, dataset: str, name: str) -> str | None:
    """``"table"``, ``"view"`` or None for ``dataset.name``."""
    if not dataset_exists(spark, dataset):
        return None
    return next((kind for relation, kind in _relations(spark, dataset) if relation.lower() == name.lower()), None)


def table_columns(spark: SparkSession, dataset: str | None, name: str) -> list[tuple[str, str]]:
    """``(column, DuckDB type)`` of ``dataset.name``, or of the TEMP view ``name`` without a
    dataset; empty when there is none."""
    if dataset is None:
        if not any(table.isTemporary and table.name.lower() == name.lower() for table in spark.catalog.listTables()):
            return []
        qualified = _quoted(name)
    elif relation_kind(spark, dataset, name) is None:
        return []
    else:
        qualified = _quoted(dataset, name)
    return [(field.name, duckdb_type(field.dataType)) for field in spark.table(qualified).schema.fields]


def column_names(spark: SparkSession, dataset: str | None, name: str) -> list[str]:
    """The column names of ``dataset.name`` (or of the TEMP view ``name``), in order; empty when there is none."""
    return [column for column, _ in table_columns(spark, dataset, name)]


def view_definition(spark: SparkSession, dataset: str, name: str) -> str | None:
    """``CREATE VIEW dataset.name AS <query>`` in DuckDB's SQL (the seam's dialect), from the
    query Spark keeps for the view; None if it is no view."""
    if relation_kind(spark, dataset, name) != "view":
        return None
    details = spark.sql(f"DESCRIBE TABLE EXTENDED {_quoted(dataset, name)}").collect()
    query = next(row.data_type for row in details if row.col_name == "View Text")  # the query as Spark keeps it
    tree = sqlglot.parse_one(query, read="spark")
    if spark.conf.get("spark.sql.ansi.enabled").lower() == "true":  # its own default counts, not ours
        tree = tree.transform(_strict_cast)
    return f"CREATE VIEW {dataset}.{name} AS {tree.sql(dialect='duckdb')}"


def _strict_cast(node: exp.Expression) -> exp.Expression:
    """sqlglot reads Spark's ``CAST`` as a TRY_CAST (Spark's meaning before ANSI mode); in ANSI mode
    (Spark 4's default) a failed ``CAST`` raises, as DuckDB's does. An explicit TRY_CAST stays."""
    if isinstance(node, exp.TryCast) and not node.args.get("safe"):
        return exp.Cast(this=node.this, to=node.args["to"])
    return node


def session_relations(spark: SparkSession) -> list[str]:
    """Names of Spark's TEMP views (registered data among them)."""
    return [table.name for table in spark.catalog.listTables() if table.isTemporary]


def list_tables(spark: SparkSession, dataset: str | None, views: bool) -> list[tuple[str, str]]:
    """``(dataset, name)`` of the tables (and ``views``) of ``dataset`` (None: every dataset), sorted."""
    datasets = [d for d in _datasets(spark) if dataset is None or d.lower() == dataset.lower()]
    return sorted((d, name) for d in datasets for name, kind in _relations(spark, d) if views or kind == "table")


def catalog_rows(spark: SparkSession) -> dict[str, pa.Table]:
    """Spark's datasets, tables, views and columns as rows of ``duckdb_schemas()``,
    ``duckdb_tables()``, ``duckdb_views()`` and ``duckdb_columns()`` (the columns sqlml reads)."""
    import pyarrow as pa

    schemas, tables, views, columns = [], [], [], []
    for dataset in _datasets(spark):
        schemas.append({"database_name": CATALOG, "schema_name": dataset, "internal": False})
        for name, kind in _relations(spark, dataset):
            where = {"database_name": CATALOG, "schema_name": dataset}
            if kind == "view":
                views.append({**where, "view_name": name, "internal": False, "temporary": False, "sql": view_definition(spark, dataset, name)})
            else:
                tables.append({**where, "table_name": name, "temporary": False, "estimated_size": None, "sql": None})
            for index, field in enumerate(spark.table(_quoted(dataset, name)).schema.fields, start=1):
                columns.append({
                    **where, "table_name": name, "column_name": field.name, "column_index": index,
                    "is_nullable": field.nullable, "data_type": duckdb_type(field.dataType), "column_default": None,
                })  # fmt: skip
    shapes = {
        "duckdb_schemas": (schemas, [("database_name", pa.string()), ("schema_name", pa.string()), ("internal", pa.bool_())]),
        "duckdb_tables": (tables, [("database_name", pa.string()), ("schema_name", pa.string()), ("table_name", pa.string()),
                                   ("temporary", pa.bool_()), ("estimated_size", pa.int64()), ("sql", pa.string())]),
        "duckdb_views": (views, [("database_name", pa.string()), ("schema_name", pa.string()), ("view_name", pa.string()),
                                 ("internal", pa.bool_()), ("temporary", pa.bool_()), ("sql", pa.string())]),
        "duckdb_columns": (columns, [("database_name", pa.string()), ("schema_name", pa.string()), ("table_name", pa.string()),
                                     ("column_name", pa.string()), ("column_index", pa.int64()), ("is_nullable", pa.bool_()),
                                     ("data_type", pa.string()), ("column_default", pa.string())]),
    }  # fmt: skip
    return {function: pa.Table.from_pylist(rows, schema=pa.schema(fields)) for function, (rows, fields) in shapes.items()}


def install_catalog_views(spark: SparkSession, cursor: Cursor) -> None:
    """(Re)define on the DuckDB ``cursor`` the TEMP view standing in for each catalog function:
    DuckDB's own rows (sqlml's bookkeeping schema) and Spark's, as they are now."""
    for function, rows in catalog_rows(spark).items():
        view = catalog_view_name(function)
        cursor.register(f"{view}_rows", rows)
        cursor.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {function}() UNION ALL BY NAME SELECT * FROM {view}_rows")

