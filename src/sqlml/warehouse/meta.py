"""The warehouse's ``sqlml_meta`` schema: every table sqlml keeps beside the user's, defined here
and nowhere else, and made on first use.

The warehouse objects record what the engine does not keep (table options, GEOGRAPHY column
types, views over ML functions, materialized views, the write log, routines); the project runner
and the server keep their run history and prediction-log marks in the same schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlml.engine.base import CATALOG, Cursor, SqlEngine
from sqlml.sql.duckdb_names import META_SCHEMA


@dataclass(frozen=True)
class MetaTable:
    """One table of ``sqlml_meta`` written in the engine's SQL.

    Attributes:
        name: its name in the schema.
        columns: its column and key definitions, in the engine's SQL.
    """

    name: str
    columns: str

    @property
    def qualified(self) -> str:
        """``sqlml_meta.<name>``, as the engine's SQL writes it after ``{CATALOG}.``."""
        return f"{META_SCHEMA}.{self.name}"

    @property
    def create_sql(self) -> str:
        """The statements that make the table (and the schema) if they do not exist yet."""
        return f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{META_SCHEMA};\nCREATE TABLE IF NOT EXISTS {CATALOG}.{self.qualified} ({self.columns})"


#: Partitioning, clustering and options of tables (:mod:`sqlml.warehouse.partitions`).
TABLE_OPTIONS = MetaTable("table_options", """
    table_schema VARCHAR NOT NULL, table_name VARCHAR NOT NULL, partition_expression VARCHAR,
    partition_column VARCHAR, partition_unit VARCHAR, cluster_columns VARCHAR[],
    require_partition_filter BOOLEAN, partition_expiration_days DOUBLE, description VARCHAR,
    PRIMARY KEY (table_schema, table_name)
""")
#: BigQuery types of columns the engine stores as another type (:mod:`sqlml.warehouse.column_types`).
COLUMN_TYPES = MetaTable("column_types", """
    table_schema VARCHAR NOT NULL, table_name VARCHAR NOT NULL, column_name VARCHAR NOT NULL,
    data_type VARCHAR NOT NULL, PRIMARY KEY (table_schema, table_name, column_name)
""")
#: Column descriptions, from CREATE TABLE's and ALTER COLUMN's OPTIONS(description=…) (:mod:`sqlml.warehouse.column_options`).
COLUMN_OPTIONS = MetaTable("column_options", """
    table_schema VARCHAR NOT NULL, table_name VARCHAR NOT NULL, column_name VARCHAR NOT NULL,
    description VARCHAR NOT NULL, PRIMARY KEY (table_schema, table_name, column_name)
""")
#: View descriptions, from CREATE VIEW's and ALTER VIEW's OPTIONS(description=…) (:mod:`sqlml.warehouse.view_options`).
VIEW_OPTIONS = MetaTable("view_options", """
    table_schema VARCHAR NOT NULL, table_name VARCHAR NOT NULL, description VARCHAR NOT NULL,
    PRIMARY KEY (table_schema, table_name)
""")
#: Views that call ML functions, kept as their query (:mod:`sqlml.warehouse.ml_views`).
ML_VIEWS = MetaTable("ml_views", """
    table_schema VARCHAR NOT NULL, table_name VARCHAR NOT NULL, query VARCHAR NOT NULL,
    dialect VARCHAR NOT NULL, PRIMARY KEY (table_schema, table_name)
""")
#: Materialized views: definition, base tables and options (:mod:`sqlml.warehouse.materialized_views`).
MATERIALIZED_VIEWS = MetaTable("materialized_views", """
    table_schema VARCHAR NOT NULL, table_name VARCHAR NOT NULL, definition VARCHAR NOT NULL,
    dialect VARCHAR NOT NULL, base_tables VARCHAR[] NOT NULL, enable_refresh BOOLEAN NOT NULL,
    refresh_interval_minutes DOUBLE NOT NULL, max_staleness_seconds DOUBLE,
    allow_non_incremental_definition BOOLEAN NOT NULL, description VARCHAR,
    PRIMARY KEY (table_schema, table_name)
""")
#: The write log: when each table and partition was last written (:mod:`sqlml.warehouse.modification_log`).
MODIFICATIONS = MetaTable("modifications", """
    table_schema VARCHAR NOT NULL, table_name VARCHAR NOT NULL, partition_id VARCHAR NOT NULL,
    modified_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (table_schema, table_name, partition_id)
""")
#: Stored procedures, as the text of their CREATE statement (:mod:`sqlml.warehouse.routines`).
ROUTINES = MetaTable("routines", """
    routine_schema VARCHAR NOT NULL, routine_name VARCHAR NOT NULL, routine_type VARCHAR NOT NULL,
    dialect VARCHAR NOT NULL, definition VARCHAR NOT NULL, created TIMESTAMPTZ NOT NULL,
    last_altered TIMESTAMPTZ NOT NULL, PRIMARY KEY (routine_schema, routine_name)
""")
#: Every table the warehouse objects keep, in the engine's SQL.
TABLES = (TABLE_OPTIONS, COLUMN_TYPES, COLUMN_OPTIONS, VIEW_OPTIONS, ML_VIEWS, MATERIALIZED_VIEWS, MODIFICATIONS, ROUTINES)

# Tables written through sqlml's own SQL (BigQuery's dialect), by the front doors above the warehouse.

#: The project runner's run history (:mod:`sqlml.project.history`); the ALTERs bring the tables of
#: warehouses written by older versions up to date.
RUN_HISTORY_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {META_SCHEMA};
CREATE TABLE IF NOT EXISTS {META_SCHEMA}.runs (
  run_id STRING, project STRING, command STRING, started_at TIMESTAMP, ended_at TIMESTAMP,
  status STRING, nodes INT64, failures INT64);
CREATE TABLE IF NOT EXISTS {META_SCHEMA}.node_runs (
  run_id STRING, node STRING, kind STRING, relation STRING, started_at TIMESTAMP, ended_at TIMESTAMP,
  status STRING, rows_written INT64, error STRING, sql_hash STRING, fingerprint STRING, message STRING);
ALTER TABLE {META_SCHEMA}.runs ADD COLUMN IF NOT EXISTS host STRING;
ALTER TABLE {META_SCHEMA}.runs ADD COLUMN IF NOT EXISTS pid INT64;
ALTER TABLE {META_SCHEMA}.runs ADD COLUMN IF NOT EXISTS process_started_at TIMESTAMP;
ALTER TABLE {META_SCHEMA}.node_runs ADD COLUMN IF NOT EXISTS previous_version INT64
"""
#: The server's prediction-log marks: the last line of each spool segment that landed (:mod:`sqlml.serve.prediction_log`).
PREDICTION_LOG_MARKS = f"{META_SCHEMA}.prediction_log_spools"
PREDICTION_LOG_MARKS_DDL = f"""
        CREATE SCHEMA IF NOT EXISTS {META_SCHEMA};
        CREATE TABLE IF NOT EXISTS {PREDICTION_LOG_MARKS} (segment STRING, log_table STRING, sequence INT64, written_at TIMESTAMP);"""


def has_meta_table(cursor: Cursor, name: str) -> bool:
    """Whether ``sqlml_meta.<name>`` exists yet (read-only warehouses may never get it)."""
    return cursor.relation_kind(META_SCHEMA, name) == "table"


def relation_exists(cursor: Cursor, dataset: str, name: str, *, tables: bool = True, views: bool = True) -> bool:
    """Whether the warehouse has a table (``tables``) or view (``views``) ``dataset.name``,
    compared case-insensitively as BigQuery names are."""
    kind = cursor.relation_kind(dataset, name)
    return (kind == "table" and tables) or (kind == "view" and views)


def remembered_meta_table(warehouse: SqlEngine, name: str, cursor: Cursor | None = None) -> bool:
    """:func:`has_meta_table`, remembered by the warehouse until a statement may have changed it.

    A caller that already holds the warehouse passes its ``cursor``, which is asked when the answer
    is not remembered. Without one (a statement's rewrites ask for the tables of partitions,
    materialized views and ML views, which most warehouses never get) the file is leased only
    when the answer is not remembered, so a remembered answer costs no lease.
    """

    def look() -> bool:
        if cursor is not None:
            return has_meta_table(cursor, name)
        with warehouse.lease() as leased:
            return has_meta_table(leased, name)

    return warehouse.memo(_meta_key(name), look)


def ensure_meta_table(warehouse: SqlEngine, cursor: Cursor, table: MetaTable) -> None:
    """Create ``table`` unless it is known to exist.

    Its existence is not remembered at once: until the creating transaction commits, the other
    sessions cannot see the table, so the next statement looks again.
    """
    if not remembered_meta_table(warehouse, table.name, cursor):
        cursor.execute(table.create_sql)
        warehouse.forget(_meta_key(table.name))


def _meta_key(name: str) -> tuple:
    return ("meta_table", name)
