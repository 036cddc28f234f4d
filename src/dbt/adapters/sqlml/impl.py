"""The ``sqlml`` dbt adapter: dbt-core's SQL adapter with BigQuery's names, types and configs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbt.adapters.base import AdapterConfig, available
from dbt.adapters.base.relation import BaseRelation
from dbt.adapters.sql import SQLAdapter

from dbt.adapters.sqlml.column import SqlmlColumn, bigquery_type_text
from dbt.adapters.sqlml.connections import SqlmlConnectionManager
from dbt.adapters.sqlml.partition import PartitionConfig
from dbt.adapters.sqlml.relation import SqlmlRelation, use_dialect
from dbt.adapters.sqlml.seeds import load_rows

#: Schemas of the DuckDB file that are not datasets (DuckDB's catalogues, sqlml's own records).
_HIDDEN_SCHEMAS = ("information_schema", "pg_catalog", "sqlml_meta")
_RELATION_TYPES = {"BASE TABLE": "table", "VIEW": "view", "MATERIALIZED VIEW": "materialized_view"}


@dataclass
class SqlmlConfig(AdapterConfig):
    """The dbt-bigquery model configs sqlml reads (README, "dbt")."""

    partition_by: dict[str, Any] | None = None
    cluster_by: Any = None
    require_partition_filter: bool | None = None
    partition_expiration_days: int | None = None
    labels: dict[str, str] | None = None
    ml_config: dict[str, Any] | None = None


class SqlmlAdapter(SQLAdapter):
    """dbt on a sqlml warehouse: relations are ``dataset.table``, types BigQuery's."""

    ConnectionManager = SqlmlConnectionManager
    Relation = SqlmlRelation
    Column = SqlmlColumn
    AdapterSpecificConfigs = SqlmlConfig

    def __init__(self, config: Any, mp_context: Any = None) -> None:
        super().__init__(config, mp_context)
        use_dialect(config.credentials.dialect)

    @classmethod
    def date_function(cls) -> str:
        return "current_timestamp()"

    @classmethod
    def is_cancelable(cls) -> bool:
        """Ctrl-C interrupts the running statements (SqlmlConnectionManager.cancel), which change
        nothing; without it, dbt waited for them to finish before exiting."""
        return True

    @classmethod
    def quote(cls, identifier: str) -> str:
        quote = SqlmlRelation.dialect_quote
        return f"{quote}{identifier}{quote}"

    @classmethod
    def convert_text_type(cls, agate_table: Any, col_idx: int) -> str:
        return "STRING"

    @classmethod
    def convert_number_type(cls, agate_table: Any, col_idx: int) -> str:
        import agate

        decimals = agate_table.aggregate(agate.MaxPrecision(col_idx))
        return "FLOAT64" if decimals else "INT64"

    @classmethod
    def convert_integer_type(cls, agate_table: Any, col_idx: int) -> str:
        return "INT64"

    @classmethod
    def convert_boolean_type(cls, agate_table: Any, col_idx: int) -> str:
        return "BOOL"

    @classmethod
    def convert_datetime_type(cls, agate_table: Any, col_idx: int) -> str:
        return "DATETIME"

    @classmethod
    def convert_date_type(cls, agate_table: Any, col_idx: int) -> str:
        return "DATE"

    @classmethod
    def convert_time_type(cls, agate_table: Any, col_idx: int) -> str:
        return "TIME"

    def _metadata(self, sql: str, params: Any = None, dialect: str = "bigquery") -> list[tuple]:
        connection = self.connections.get_thread_connection()
        with self.connections.exception_handler(sql):
            return self.connections.open(connection).handle.metadata(sql, params, dialect)

    @available
    def list_schemas(self, database: str) -> list[str]:
        rows = self._metadata(
            "SELECT DISTINCT schema_name FROM information_schema.schemata WHERE catalog_name = current_database()",
            dialect="duckdb",
        )
        return sorted(name for (name,) in rows if name not in _HIDDEN_SCHEMAS)

    @available
    def check_schema_exists(self, database: str, schema: str) -> bool:
        return schema.lower() in {name.lower() for name in self.list_schemas(database)}

    def list_relations_without_caching(self, schema_relation: BaseRelation) -> list[BaseRelation]:
        schema = schema_relation.schema
        rows = self._metadata(f"SELECT table_name, table_type FROM `{schema}`.INFORMATION_SCHEMA.TABLES")
        return [
            self.Relation.create(
                database=schema_relation.database, schema=schema, identifier=name, type=_RELATION_TYPES.get(kind, "table")
            )
            for name, kind in rows
        ]

    def get_columns_in_relation(self, relation: BaseRelation) -> list[SqlmlColumn]:
        rows = self._metadata(
            f"SELECT column_name, data_type FROM `{relation.schema}`.INFORMATION_SCHEMA.COLUMNS "
            "WHERE table_name = @name ORDER BY ordinal_position",
            {"name": relation.identifier},
        )
        return [SqlmlColumn(name, bigquery_type_text(data_type)) for name, data_type in rows]

    @available
    def catalog_table(self, database: str, schemas: list[str], tables: list[str] | None = None) -> Any:
        """dbt docs' catalog of ``schemas`` (only ``tables``, if given): a row per column."""
        from dbt_common.clients.agate_helper import table_from_data_flat

        rows = []
        for schema in schemas:
            rows += self._metadata(
                "SELECT c.table_schema, c.table_name, t.table_type, c.column_name, c.ordinal_position, c.data_type "
                f"FROM `{schema}`.INFORMATION_SCHEMA.COLUMNS AS c JOIN `{schema}`.INFORMATION_SCHEMA.TABLES AS t "
                "USING (table_name) ORDER BY c.table_name, c.ordinal_position"
            )
        names = ["table_database", "table_schema", "table_name", "table_type", "table_comment", "table_owner",
                 "column_name", "column_index", "column_type", "column_comment"]  # fmt: skip
        described, columns_described = self._descriptions(schemas)
        data = [
            dict(zip(names, (
                database, schema, table, _RELATION_TYPES.get(kind, "table"), described.get((schema, table)), None,
                column, index, bigquery_type_text(dtype), columns_described.get((schema, table, column)),
            )))  # fmt: skip
            for schema, table, kind, column, index, dtype in rows
            if tables is None or table.lower() in tables
        ]
        return table_from_data_flat(data, names)

    def _descriptions(self, schemas: list[str]) -> tuple[dict[tuple, str], dict[tuple, str]]:
        """The descriptions persist_docs wrote in ``schemas``: by (dataset, table) and by (dataset,
        table, column), from the records the warehouse keeps them in (BigQuery's catalog reads them
        from TABLE_OPTIONS and COLUMN_FIELD_PATHS; sqlml has no COLUMN_FIELD_PATHS)."""
        kept = {name for (name,) in self._metadata(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'sqlml_meta' "
            "AND table_name IN ('table_options', 'column_options')", dialect="duckdb",
        )}  # fmt: skip
        within = ", ".join("'" + schema.replace("'", "''") + "'" for schema in schemas) or "NULL"
        tables, columns = {}, {}
        if "table_options" in kept:
            for schema, table, text in self._metadata(
                "SELECT table_schema, table_name, description FROM sqlml_meta.table_options "
                f"WHERE description IS NOT NULL AND table_schema IN ({within})", dialect="duckdb",
            ):  # fmt: skip
                tables[schema, table] = text
        if "column_options" in kept:
            for schema, table, column, text in self._metadata(
                f"SELECT table_schema, table_name, column_name, description FROM sqlml_meta.column_options WHERE table_schema IN ({within})",
                dialect="duckdb",
            ):
                columns[schema, table, column] = text
        return tables, columns

    @available
    def parse_partition_by(self, raw_partition_by: Any) -> PartitionConfig | None:
        """dbt-bigquery's ``partition_by`` dict, read (None when the model has none)."""
        return PartitionConfig.parse(raw_partition_by)

    @available
    def is_replaceable(self, relation: Any, partition_by: Any = None, cluster_by: Any = None) -> bool:
        """CREATE OR REPLACE TABLE replaces any table, partitioned or not."""
        return True

    @available
    def load_seed_rows(self, relation: BaseRelation, agate_table: Any, column_types: dict[str, str]) -> int:
        """Insert a seed's rows (already parsed by dbt) into its table; return the row count."""
        connection = self.connections.get_thread_connection()
        session = self.connections.open(connection).handle.session
        with self.connections.exception_handler(f"load seed {relation}"):
            return load_rows(session, relation.render(), agate_table, column_types)

    def get_rows_different_sql(
        self,
        relation_a: BaseRelation,
        relation_b: BaseRelation,
        column_names: list[str] | None = None,
        except_operator: str = "EXCEPT DISTINCT",
    ) -> str:
        """BigQuery's set operators name DISTINCT or ALL (dbt-bigquery's default)."""
        if SqlmlRelation.dialect_quote == '"':
            except_operator = "EXCEPT"
        return super().get_rows_different_sql(relation_a, relation_b, column_names, except_operator)

    def validate_sql(self, sql: str) -> Any:
        """Check a query without running it over any row (BigQuery's dry run; sqlml has no EXPLAIN)."""
        _, cursor = self.connections.add_query(f"SELECT * FROM ({sql}) LIMIT 0", auto_begin=False)
        return self.connections.get_response(cursor)

    def valid_incremental_strategies(self) -> list[str]:
        return ["append", "merge", "delete+insert", "insert_overwrite", "microbatch"]

    def debug_query(self) -> None:
        self.execute("SELECT 1 AS id")
