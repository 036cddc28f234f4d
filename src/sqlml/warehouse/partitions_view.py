"""``INFORMATION_SCHEMA.PARTITIONS``: one row per partition of each table, computed from its rows.

https://cloud.google.com/bigquery/docs/information-schema-partitions — ``partition_id`` as
BigQuery spells it (:func:`~sqlml.warehouse.partitions.partition_id_sql`; NULL for an unpartitioned
table, which has one row), ``total_rows``, ``total_logical_bytes`` (and ``total_billable_bytes``,
the same here) by BigQuery's logical sizes of the values, ``last_modified_time`` from the write
log (:mod:`~sqlml.warehouse.modification_log`) and ``storage_tier`` ``ACTIVE``. DuckDB keeps none
of this per partition, so the view is one aggregate query per table, built when it is read.
"""

from __future__ import annotations

from sqlml.engine.base import CATALOG, Cursor
from sqlml.warehouse.meta import META_SCHEMA, MODIFICATIONS, has_meta_table
from sqlml.warehouse.modification_log import MODIFICATIONS_TABLE, WHOLE_TABLE
from sqlml.warehouse.partitions import partition_id_sql, table_options

#: BigQuery's logical bytes of one non-NULL value of a fixed-size type, by DuckDB type
#: (https://cloud.google.com/bigquery/pricing#data_size_calculation).
_FIXED_BYTES = {
    "BIGINT": 8, "INTEGER": 8, "SMALLINT": 8, "TINYINT": 8, "HUGEINT": 16, "UBIGINT": 8, "UINTEGER": 8,
    "DOUBLE": 8, "FLOAT": 8, "BOOLEAN": 1, "DATE": 8, "TIME": 8, "TIMESTAMP": 8,
    "TIMESTAMP WITH TIME ZONE": 8, "INTERVAL": 16, "DECIMAL(38,9)": 16,
}  # fmt: skip
_EMPTY = (
    "SELECT NULL::VARCHAR AS table_catalog, NULL::VARCHAR AS table_schema, NULL::VARCHAR AS table_name, "
    "NULL::VARCHAR AS partition_id, NULL::BIGINT AS total_rows, NULL::BIGINT AS total_logical_bytes, "
    "NULL::BIGINT AS total_billable_bytes, NULL::TIMESTAMPTZ AS last_modified_time, NULL::VARCHAR AS storage_tier "
    "WHERE false"
)


def partitions_definition(cursor: Cursor, dataset: str | None) -> str:
    """The SQL of INFORMATION_SCHEMA.PARTITIONS over the tables of ``dataset`` (None: every dataset)."""
    tables = [(schema, table) for schema, table in cursor.list_tables(dataset, views=False) if schema != META_SCHEMA]
    logged = has_meta_table(cursor, MODIFICATIONS.name)
    parts = [_table_partitions(cursor, schema, table, logged) for schema, table in tables]
    return " UNION ALL ".join(parts) if parts else _EMPTY


def _table_partitions(cursor: Cursor, schema: str, table: str, logged: bool) -> str:
    columns = cursor.table_columns(schema, table)
    types = dict(columns)
    options = table_options(cursor, schema, table)
    partitioned = options is not None and options["partition_column"] is not None
    partition_id = partition_id_sql(options, types.get(options["partition_column"], "DATE")) if partitioned else "NULL::VARCHAR"
    size = " + ".join(_logical_bytes(name, data_type) for name, data_type in columns) or "0"
    rows = (
        f"SELECT {partition_id} AS partition_id, count(*) AS total_rows, CAST({size} AS BIGINT) AS total_logical_bytes "
        f"FROM {CATALOG}.{_quoted(schema)}.{_quoted(table)}" + (" GROUP BY ALL" if partitioned else "")
    )
    modified = "NULL::TIMESTAMPTZ"
    joins = ""
    if logged:
        log = f"{CATALOG}.{MODIFICATIONS_TABLE}"
        key = f"m.table_schema = {_literal(schema.lower())} AND m.table_name = {_literal(table.lower())}"
        joins = (
            f" LEFT JOIN {log} AS m ON {key} AND m.partition_id = p.partition_id"
            f" LEFT JOIN {log} AS w ON {key.replace('m.', 'w.')} AND w.partition_id = '{WHOLE_TABLE}'"
        )
        modified = "greatest(m.modified_at, w.modified_at)"
    return (
        f"SELECT '{CATALOG}' AS table_catalog, {_literal(schema)} AS table_schema, {_literal(table)} AS table_name, "
        f"p.partition_id, p.total_rows, p.total_logical_bytes, p.total_logical_bytes AS total_billable_bytes, "
        f"{modified} AS last_modified_time, 'ACTIVE' AS storage_tier FROM ({rows}) AS p{joins}"
    )


def _logical_bytes(name: str, data_type: str) -> str:
    """SQL summing BigQuery's logical size of the column's values (NULL counts 0 bytes)."""
    column = _quoted(name)
    if data_type in _FIXED_BYTES:
        return f"{_FIXED_BYTES[data_type]} * count({column})"
    if data_type.startswith("DECIMAL"):
        return f"32 * count({column})"  # BIGNUMERIC; NUMERIC is DECIMAL(38,9) above
    if data_type in ("VARCHAR", "JSON"):
        return f"coalesce(sum(2 + strlen({column})), 0)"  # STRING: 2 bytes + the UTF-8 bytes
    if data_type == "BLOB":
        return f"coalesce(sum(2 + octet_length({column})), 0)"
    # ARRAY and STRUCT: the size of what they hold; their text form approximates it.
    return f"coalesce(sum(strlen(CAST({column} AS VARCHAR))), 0)"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
