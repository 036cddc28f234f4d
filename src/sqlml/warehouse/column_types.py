"""The BigQuery type of columns DuckDB stores as another type: GEOGRAPHY, kept in ``sqlml_meta``.

A GEOGRAPHY value is VARCHAR holding its WKT (:mod:`~sqlml.warehouse.geography`), and DuckDB keeps no
trace of the declared type: even a type alias (``CREATE TYPE GEOGRAPHY AS VARCHAR``) is resolved
to VARCHAR when a table is created. So CREATE TABLE records the table's GEOGRAPHY columns in
``sqlml_meta.column_types``, as partition specs are kept, and INFORMATION_SCHEMA.COLUMNS reports
them as BigQuery does (https://cloud.google.com/bigquery/docs/information-schema-columns). A
column is GEOGRAPHY when declared so (``CREATE TABLE t (g GEOGRAPHY)``, ``ARRAY<GEOGRAPHY>``) or,
in ``CREATE TABLE … AS SELECT``, when sqlglot's type inference over the query finds it: from
ST_GEOGPOINT, ST_GEOGFROMTEXT, ``CAST(… AS GEOGRAPHY)`` or a GEOGRAPHY column of a table the
query reads, through CTEs, stars, IF, COALESCE and ARRAY_AGG.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types

from sqlml.engine.base import CATALOG, Cursor, SqlEngine
from sqlml.warehouse.geography import RETURNS_GEOGRAPHY
from sqlml.warehouse.meta import COLUMN_TYPES, ensure_meta_table, has_meta_table, remembered_meta_table

TYPES_TABLE = COLUMN_TYPES.qualified
#: BigQuery type names of DuckDB's types (nested types keep DuckDB's spelling), over duckdb_columns().
#: A decimal is NUMERIC where BigQuery's NUMERIC(P, S) could hold it (S ≤ 9, P − S ≤ 29), BIGNUMERIC
#: otherwise: https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#parameterized_decimal_type
BIGQUERY_TYPE_SQL = """CASE
    WHEN data_type IN ('BIGINT', 'HUGEINT', 'INTEGER', 'SMALLINT', 'TINYINT') THEN 'INT64'
    WHEN data_type IN ('DOUBLE', 'FLOAT') THEN 'FLOAT64' WHEN data_type = 'VARCHAR' THEN 'STRING'
    WHEN data_type = 'BOOLEAN' THEN 'BOOL' WHEN data_type = 'BLOB' THEN 'BYTES'
    WHEN data_type LIKE 'DECIMAL(%' AND numeric_scale <= 9 AND numeric_precision - numeric_scale <= 29 THEN 'NUMERIC'
    WHEN data_type LIKE 'DECIMAL(%' THEN 'BIGNUMERIC'
    WHEN data_type = 'TIMESTAMP WITH TIME ZONE' THEN 'TIMESTAMP' WHEN data_type = 'TIMESTAMP' THEN 'DATETIME'
    ELSE data_type END"""
#: INFORMATION_SCHEMA.COLUMNS (its query as ``{columns}``) with the recorded types.
COLUMNS_SQL = f"""
        SELECT c.* REPLACE (coalesce(t.data_type, c.data_type) AS data_type)
        FROM ({{columns}}) AS c
        LEFT JOIN {CATALOG}.{TYPES_TABLE} AS t ON t.table_schema = lower(c.table_schema)
             AND t.table_name = lower(c.table_name) AND t.column_name = lower(c.column_name)"""


def record(warehouse: SqlEngine, cursor: Cursor, table: exp.Table, create: exp.Create) -> None:
    """Note the GEOGRAPHY columns of ``table``, which ``create`` (a CREATE TABLE) just made."""
    types = declared_types(warehouse, cursor, create)
    forget(cursor, table.db, table.name)  # what a replaced table had
    if types:
        ensure_meta_table(warehouse, cursor, COLUMN_TYPES)
        rows = [[table.db.lower(), table.name.lower(), name.lower(), data_type] for name, data_type in types.items()]
        cursor.executemany(f"INSERT INTO {CATALOG}.{TYPES_TABLE} VALUES (?, ?, ?, ?)", rows)


def forget(cursor: Cursor, dataset: str, table: str) -> None:
    """Drop what is recorded of a dropped (or replaced) table."""
    if has_meta_table(cursor, COLUMN_TYPES.name):
        cursor.execute(f"DELETE FROM {CATALOG}.{TYPES_TABLE} WHERE table_schema = ? AND table_name = ?", [dataset.lower(), table.lower()])


def declared_types(warehouse: SqlEngine, cursor: Cursor, create: exp.Create) -> dict[str, str]:
    """BigQuery's type of each GEOGRAPHY column (``GEOGRAPHY``, ``ARRAY<GEOGRAPHY>``…) ``create``
    makes, by column name."""
    schema = create.this if isinstance(create.this, exp.Schema) else None
    if schema is not None:
        return {
            column.name: column.args["kind"].sql(dialect="bigquery")
            for column in schema.expressions
            if isinstance(column, exp.ColumnDef) and _is_geography(column.args.get("kind"))
        }  # fmt: skip
    query = create.expression
    return _inferred_types(warehouse, cursor, query) if isinstance(query, exp.Query) else {}


def _inferred_types(warehouse, cursor, query: exp.Query) -> dict[str, str]:
    known = {(t.db, t.name): _recorded(warehouse, cursor, t.db, t.name) for t in query.find_all(exp.Table) if t.db}
    query = query.copy()
    calls = [call for call in query.find_all(exp.Anonymous) if call.name.upper() in RETURNS_GEOGRAPHY]
    if not calls and not any(known.values()) and not any(_is_geography(t) for t in query.find_all(exp.DataType)):
        return {}  # nothing in it can be GEOGRAPHY
    for call in calls:  # typed as what they return, for sqlglot's inference
        call.replace(exp.cast(call.copy(), exp.DType.GEOGRAPHY))
    from sqlglot.optimizer.qualify import qualify  # only a query that may hold a GEOGRAPHY needs the optimizer's passes

    schema: dict = {}
    for (db, name), types in known.items():
        schema.setdefault(db, {})[name] = {column: types.get(column.lower(), "UNKNOWN") for column, _ in cursor.table_columns(db, name)}
    try:
        typed = annotate_types(qualify(query, schema=schema, dialect="bigquery", validate_qualify_columns=False), schema=schema, dialect="bigquery")
    except SqlglotError:  # a query sqlglot cannot follow: its columns stay as DuckDB types them
        return {}
    return {s.alias_or_name: s.type.sql(dialect="bigquery") for s in typed.selects if _is_geography(s.type)}


def _recorded(warehouse, cursor, dataset: str, table: str) -> dict[str, str]:
    """The recorded types of ``dataset.table``'s columns, by lower-cased column name."""
    if not remembered_meta_table(warehouse, COLUMN_TYPES.name, cursor):
        return {}
    rows = cursor.execute(
        f"SELECT column_name, data_type FROM {CATALOG}.{TYPES_TABLE} WHERE table_schema = ? AND table_name = ?",
        [dataset.lower(), table.lower()],
    ).fetchall()
    return dict(rows)



def _is_geography(data_type: exp.Expression | None) -> bool:
    return data_type is not None and any(t.this == exp.DType.GEOGRAPHY for t in data_type.find_all(exp.DataType))
