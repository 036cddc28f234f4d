"""``dataset.INFORMATION_SCHEMA.<view>``: BigQuery's metadata views over the warehouse.

https://cloud.google.com/bigquery/docs/information-schema-intro — each view keeps BigQuery's
column names for what has a meaning here. A reference is rewritten into a subquery over a view
that the session defines as a TEMP view (built from DuckDB's own
``duckdb_tables()``, ``duckdb_columns()``… and sqlml's routine table), filtered to the dataset;
``INFORMATION_SCHEMA.MODELS`` reads the model registry and is registered as an Arrow table;
``PARTITIONS`` aggregates each table's rows (:mod:`~sqlml.warehouse.partitions_view`); ``TABLE_OPTIONS``
unpivots the kept options (:mod:`~sqlml.warehouse.table_options_view`).
``region-<name>.INFORMATION_SCHEMA.<view>`` (no dataset) lists every dataset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import datetime

from sqlglot import exp

from sqlml.engine.base import CATALOG
from sqlml.errors import NotFoundError
from sqlml.execution.survey import Survey, survey_of
from sqlml.warehouse.column_types import BIGQUERY_TYPE_SQL, COLUMNS_SQL
from sqlml.warehouse.meta import COLUMN_TYPES, MATERIALIZED_VIEWS, META_SCHEMA, ML_VIEWS, MODIFICATIONS, TABLE_OPTIONS, has_meta_table
from sqlml.warehouse.partitions_view import partitions_definition
from sqlml.warehouse.routines import ROUTINES_TABLE, has_routines_table
from sqlml.warehouse.table_options_view import table_options_definition

if TYPE_CHECKING:
    import pyarrow as pa

    from sqlml.execution.executor import Executor

_VIEWS = {
    "TABLES": f"""
        SELECT database_name AS table_catalog, schema_name AS table_schema, table_name,
               'BASE TABLE' AS table_type, 'YES' AS is_insertable_into, 'NO' AS is_typed,
               CAST(NULL AS TIMESTAMPTZ) AS creation_time, sql AS ddl,
               estimated_size AS total_rows
        FROM duckdb_tables() WHERE database_name = '{CATALOG}' AND schema_name <> '{META_SCHEMA}'
        UNION ALL
        SELECT database_name, schema_name, view_name, 'VIEW', 'NO', 'NO', NULL, sql, NULL
        FROM duckdb_views() WHERE database_name = '{CATALOG}' AND NOT internal AND schema_name <> '{META_SCHEMA}'""",
    "COLUMNS": f"""
        SELECT database_name AS table_catalog, schema_name AS table_schema, table_name, column_name,
               column_index AS ordinal_position, CASE WHEN is_nullable THEN 'YES' ELSE 'NO' END AS is_nullable,
               {BIGQUERY_TYPE_SQL} AS data_type, 'NEVER' AS is_generated, 'NO' AS is_hidden,
               'NO' AS is_system_defined, 'NO' AS is_partitioning_column,
               CAST(NULL AS BIGINT) AS clustering_ordinal_position, column_default
        FROM duckdb_columns() WHERE database_name = '{CATALOG}' AND schema_name <> '{META_SCHEMA}'""",
    "VIEWS": f"""
        SELECT database_name AS table_catalog, schema_name AS table_schema, view_name AS table_name,
               sql AS view_definition, 'NO' AS check_option, 'YES' AS use_standard_sql
        FROM duckdb_views() WHERE database_name = '{CATALOG}' AND NOT internal""",
    "ROUTINES": f"""
        SELECT database_name AS routine_catalog, schema_name AS routine_schema, function_name AS routine_name,
               CASE WHEN function_type = 'table_macro' THEN 'TABLE FUNCTION' ELSE 'FUNCTION' END AS routine_type,
               'SQL' AS routine_body, macro_definition AS routine_definition,
               CAST(NULL AS TIMESTAMPTZ) AS created, CAST(NULL AS TIMESTAMPTZ) AS last_altered
        FROM duckdb_functions()
        WHERE database_name = '{CATALOG}' AND function_type IN ('macro', 'table_macro') AND NOT internal""",
}
#: COLUMNS once some table is partitioned or clustered (sqlml_meta.table_options exists).
_PARTITIONED_COLUMNS = f"""
        SELECT c.table_catalog, c.table_schema, c.table_name, c.column_name, c.ordinal_position, c.is_nullable,
               c.data_type, c.is_generated, c.is_hidden, c.is_system_defined,
               CASE WHEN lower(o.partition_column) = lower(c.column_name) THEN 'YES' ELSE 'NO' END AS is_partitioning_column,
               CAST(NULLIF(list_position(o.cluster_columns, c.column_name), 0) AS BIGINT) AS clustering_ordinal_position,
               c.column_default
        FROM ({{columns}}) AS c
        LEFT JOIN {CATALOG}.{TABLE_OPTIONS.qualified} AS o ON o.table_schema = c.table_schema AND o.table_name = c.table_name"""
#: TABLES once some materialized view exists: its table is reported as one.
_MATERIALIZED_TABLES = f"""
        SELECT t.table_catalog, t.table_schema, t.table_name,
               CASE WHEN v.table_name IS NULL THEN t.table_type ELSE 'MATERIALIZED VIEW' END AS table_type,
               CASE WHEN v.table_name IS NULL THEN t.is_insertable_into ELSE 'NO' END AS is_insertable_into,
               t.is_typed, t.creation_time, t.ddl, t.total_rows
        FROM ({{tables}}) AS t
        LEFT JOIN {CATALOG}.{MATERIALIZED_VIEWS.qualified} AS v
          ON v.table_schema = lower(t.table_schema) AND v.table_name = lower(t.table_name) AND t.table_type = 'BASE TABLE'"""
#: https://cloud.google.com/bigquery/docs/information-schema-materialized-views
_MATERIALIZED_VIEWS = f"""
        SELECT '{CATALOG}' AS table_catalog, t.schema_name AS table_schema, t.table_name,
               m.modified_at AS last_refresh_time, m.modified_at AS refresh_watermark,
               v.enable_refresh, v.refresh_interval_minutes, v.max_staleness_seconds, v.description
        FROM {CATALOG}.{MATERIALIZED_VIEWS.qualified} AS v
        JOIN duckdb_tables() AS t ON t.database_name = '{CATALOG}' AND lower(t.schema_name) = v.table_schema
             AND lower(t.table_name) = v.table_name
        LEFT JOIN {CATALOG}.{MODIFICATIONS.qualified} AS m
          ON m.table_schema = v.table_schema AND m.table_name = v.table_name AND m.partition_id = ''"""
_NO_MATERIALIZED_VIEWS = """
        SELECT NULL::VARCHAR AS table_catalog, NULL::VARCHAR AS table_schema, NULL::VARCHAR AS table_name,
               NULL::TIMESTAMPTZ AS last_refresh_time, NULL::TIMESTAMPTZ AS refresh_watermark,
               NULL::BOOLEAN AS enable_refresh, NULL::DOUBLE AS refresh_interval_minutes,
               NULL::DOUBLE AS max_staleness_seconds, NULL::VARCHAR AS description WHERE false"""
#: VIEWS once some view calls ML functions: its definition is the query sqlml keeps.
_ML_VIEWS = f"""
        SELECT v.table_catalog, v.table_schema, v.table_name, coalesce(m.query, v.view_definition) AS view_definition,
               v.check_option, v.use_standard_sql
        FROM ({{views}}) AS v
        LEFT JOIN {CATALOG}.{ML_VIEWS.qualified} AS m ON m.table_schema = lower(v.table_schema) AND m.table_name = lower(v.table_name)"""
_PROCEDURES = f"""
        UNION ALL
        SELECT '{CATALOG}', routine_schema, routine_name, routine_type, 'SQL', definition, created, last_altered
        FROM {CATALOG}.{ROUTINES_TABLE}"""

#: Each view's schema column (the dataset filter).
_SCHEMA_COLUMN = {
    "TABLES": "table_schema", "COLUMNS": "table_schema", "VIEWS": "table_schema", "ROUTINES": "routine_schema",
    "MODELS": "model_schema", "PARTITIONS": "table_schema", "MATERIALIZED_VIEWS": "table_schema",
    "TABLE_OPTIONS": "table_schema",
}  # fmt: skip
MODELS_RELATION = "__sqlml_information_schema_models"


def rewrite(tree: exp.Expression, executor: Executor, survey: Survey | None = None) -> exp.Expression:
    """Replace every INFORMATION_SCHEMA view the statement reads with its subquery (in a copy of the tree)."""
    if not any(_is_information_schema(t) for t in survey_of(tree, survey).tables):
        return tree
    tree = tree.copy()
    for table in [t for t in tree.find_all(exp.Table) if _is_information_schema(t)]:
        view = table.name.split(".", 1)[1].upper()
        if view not in _SCHEMA_COLUMN:
            raise NotFoundError(
                f"INFORMATION_SCHEMA.{view} is not available.",
                hint=f"sqlml has INFORMATION_SCHEMA.{', .'.join(sorted(_SCHEMA_COLUMN))}.",
            )
        dataset = table.db if table.db and not table.db.lower().startswith("region-") else None
        source = _source(view, executor, dataset)
        query = exp.select("*").from_(source)
        if dataset:
            query = query.where(exp.EQ(this=exp.column(_SCHEMA_COLUMN[view]), expression=exp.Literal.string(dataset)))
        table.replace(query.subquery(table.alias or view.lower()))
    return tree


def _is_information_schema(table: exp.Table) -> bool:
    # sqlglot's BigQuery parser reads ds.INFORMATION_SCHEMA.TABLES as table "INFORMATION_SCHEMA.TABLES" in db "ds".
    return table.name.upper().startswith("INFORMATION_SCHEMA.")


def _source(view: str, executor, dataset: str | None) -> exp.Table:
    """The relation holding ``view``'s rows (for ``dataset``, or all), (re)defined in the
    instance's in-memory catalog."""
    warehouse = executor.engine
    with warehouse.lease() as cursor:
        if view == "MODELS":
            warehouse.register(MODELS_RELATION, _models(executor))
            return exp.table_(MODELS_RELATION)
        materialized = has_meta_table(cursor, MATERIALIZED_VIEWS.name)
        if view == "PARTITIONS":
            definition = partitions_definition(cursor, dataset)
        elif view == "MATERIALIZED_VIEWS":
            definition = _MATERIALIZED_VIEWS if materialized else _NO_MATERIALIZED_VIEWS
        elif view == "TABLE_OPTIONS":
            definition = table_options_definition(cursor)
        else:
            definition = _VIEWS[view]
        if view == "VIEWS" and has_meta_table(cursor, ML_VIEWS.name):
            definition = _ML_VIEWS.format(views=definition)
        if view == "TABLES" and materialized:
            definition = _MATERIALIZED_TABLES.format(tables=definition)
        if view == "ROUTINES" and has_routines_table(cursor):
            definition += _PROCEDURES
        if view == "COLUMNS" and has_meta_table(cursor, TABLE_OPTIONS.name):
            definition = _PARTITIONED_COLUMNS.format(columns=definition)
        if view == "COLUMNS" and has_meta_table(cursor, COLUMN_TYPES.name):
            definition = COLUMNS_SQL.format(columns=definition)
        name = f"sqlml_information_schema_{view.lower()}"
        warehouse.define_view(cursor, name, definition)  # TEMP: an open transaction may read it
    return exp.table_(name, db="main", catalog="temp")


def _models(executor) -> pa.Table:
    """One row per model (its default version): INFORMATION_SCHEMA.MODELS."""
    import pyarrow as pa  # here: a statement that reads no INFORMATION_SCHEMA.MODELS needs no Arrow

    rows = []
    for record in executor.models.models():
        default = record.aliases.get("default", max(record.versions) if record.versions else None)
        rows.append({
            "model_catalog": CATALOG, "model_schema": record.dataset, "model_name": record.name,
            "creation_time": datetime.datetime.fromisoformat(record.created_at),
            "last_modified_time": datetime.datetime.fromisoformat(record.updated_at),
            "description": record.description, "version_count": len(record.versions),
            "default_version": default, "aliases": ", ".join(f"{k}={v}" for k, v in sorted(record.aliases.items())),
        })  # fmt: skip
    schema = pa.schema([
        ("model_catalog", pa.string()), ("model_schema", pa.string()), ("model_name", pa.string()),
        ("creation_time", pa.timestamp("us", tz="UTC")), ("last_modified_time", pa.timestamp("us", tz="UTC")),
        ("description", pa.string()),
        ("version_count", pa.int64()), ("default_version", pa.int64()), ("aliases", pa.string()),
    ])  # fmt: skip
    return pa.Table.from_pylist(rows, schema=schema)
