"""``INFORMATION_SCHEMA.TABLE_OPTIONS``: one row per option kept for a table, view or materialized view.

https://cloud.google.com/bigquery/docs/information-schema-table-options — the options sqlml keeps
(``sqlml_meta.table_options``: description, partition_expiration_days, require_partition_filter when
TRUE; a view's description (``sqlml_meta.view_options``); a materialized view's description, enable_refresh and refresh_interval_minutes), with BigQuery's
``option_type`` and its ``option_value`` text, a SQL literal: a STRING in double quotes with ``\\``,
``"`` and newlines escaped (``"orders"``), a BOOL ``true``, a FLOAT64 ``30.0``. The options accepted
and not kept (labels, expiration_timestamp…) have no rows.
"""

from __future__ import annotations

from sqlml.engine.base import CATALOG, Cursor
from sqlml.warehouse.meta import MATERIALIZED_VIEWS, TABLE_OPTIONS, VIEW_OPTIONS, has_meta_table

_EMPTY = (
    "SELECT NULL::VARCHAR AS table_catalog, NULL::VARCHAR AS table_schema, NULL::VARCHAR AS table_name, "
    "NULL::VARCHAR AS option_name, NULL::VARCHAR AS option_type, NULL::VARCHAR AS option_value WHERE false"
)
#: (option, BigQuery type, DuckDB SQL of its value text, condition for a row) per kept option of a table.
_TABLE_ROWS = (
    ("description", "STRING", "{string}", "description IS NOT NULL"),
    ("partition_expiration_days", "FLOAT64", "CAST(partition_expiration_days AS VARCHAR)", "partition_expiration_days IS NOT NULL"),
    ("require_partition_filter", "BOOL", "'true'", "require_partition_filter"),
)
#: The same for a materialized view's own options.
_VIEW_ROWS = (
    ("description", "STRING", "{string}", "description IS NOT NULL"),
    ("enable_refresh", "BOOL", "CAST(enable_refresh AS VARCHAR)", "true"),
    ("refresh_interval_minutes", "FLOAT64", "CAST(refresh_interval_minutes AS VARCHAR)", "true"),
)
# BigQuery's string literal text: backslash, double quote and newline escaped, in double quotes.
_STRING = """'"' || replace(replace(replace(description, '\\', '\\\\'), '"', '\\"'), chr(10), '\\n') || '"'"""


def table_options_definition(cursor: Cursor) -> str:
    """The SQL of INFORMATION_SCHEMA.TABLE_OPTIONS over every dataset (the caller filters one)."""
    parts = []
    if has_meta_table(cursor, TABLE_OPTIONS.name):
        parts += _rows(TABLE_OPTIONS.qualified, _TABLE_ROWS)
    if has_meta_table(cursor, MATERIALIZED_VIEWS.name):
        parts += _rows(MATERIALIZED_VIEWS.qualified, _VIEW_ROWS)
    if has_meta_table(cursor, VIEW_OPTIONS.name):
        parts += _rows(VIEW_OPTIONS.qualified, _VIEW_ROWS[:1])
    if not parts:
        return _EMPTY
    # names as the catalog spells them (the options were recorded as a statement wrote them)
    return f"""
        SELECT t.database_name AS table_catalog, t.schema_name AS table_schema, t.table_name,
               o.option_name, o.option_type, o.option_value
        FROM ({" UNION ALL ".join(parts)}) AS o
        JOIN (SELECT database_name, schema_name, table_name FROM duckdb_tables()
              UNION ALL SELECT database_name, schema_name, view_name FROM duckdb_views() WHERE NOT internal) AS t
             ON t.database_name = '{CATALOG}'
             AND lower(t.schema_name) = lower(o.table_schema) AND lower(t.table_name) = lower(o.table_name)"""


def _rows(table: str, rows: tuple) -> list[str]:
    return [
        f"SELECT table_schema, table_name, '{name}' AS option_name, '{kind}' AS option_type, "
        f"{value.format(string=_STRING)} AS option_value FROM {CATALOG}.{table} WHERE {condition}"
        for name, kind, value, condition in rows
    ]
