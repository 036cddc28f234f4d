"""Columns with BigQuery's type names (INT64, FLOAT64, STRING …), as sqlml reports them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dbt.adapters.base.column import Column

#: What a nested type's text starts with when the warehouse reports DuckDB's spelling of it.
_DUCKDB_NESTED = ("STRUCT(", "MAP(", "UNION(")


def bigquery_type_text(text: str) -> str:
    """BigQuery's spelling of a column type: ``ARRAY<STRUCT<key STRING, value STRING>>`` for the
    ``STRUCT("key" VARCHAR, "value" VARCHAR)[]`` sqlml's INFORMATION_SCHEMA.COLUMNS reports for a
    nested column (its scalar types are BigQuery's already). dbt writes these types back into DDL
    (on_schema_change's ADD COLUMN) and shows them in the docs catalog."""
    if not (text.endswith("]") or text.upper().startswith(_DUCKDB_NESTED)):
        return text
    from sqlglot import exp

    try:
        tree = exp.DataType.build(text, dialect="duckdb")
    except Exception:  # not a type sqlglot reads: shown as the warehouse spells it
        return text
    for node in tree.find_all(exp.Identifier):
        node.set("quoted", False)
    for node in tree.find_all(exp.DataType):
        if node.this == exp.DataType.Type.DECIMAL:
            precision, scale = (int(p.name) for p in node.expressions) if len(node.expressions) == 2 else (38, 9)
            numeric = scale <= 9 and precision - scale <= 29
            node.replace(exp.DataType.build("NUMERIC" if numeric else "BIGNUMERIC", dialect="bigquery"))
    return tree.sql("bigquery")


@dataclass
class SqlmlColumn(Column):
    """A column of a sqlml relation; dbt's generic type names map to BigQuery's."""

    TYPE_LABELS: ClassVar[dict[str, str]] = {
        "TEXT": "STRING",
        "VARCHAR": "STRING",
        "FLOAT": "FLOAT64",
        "INTEGER": "INT64",
        "INT": "INT64",
        "BIGINT": "INT64",
        "BOOLEAN": "BOOL",
        "DECIMAL": "NUMERIC",
    }

    @property
    def quoted(self) -> str:
        from dbt.adapters.sqlml.relation import SqlmlRelation

        quote = SqlmlRelation.dialect_quote
        return f"{quote}{self.column}{quote}"

    @classmethod
    def string_type(cls, size: int) -> str:
        return "STRING"

    @classmethod
    def numeric_type(cls, dtype: str, precision: int | None, scale: int | None) -> str:
        return "NUMERIC"

    def is_string(self) -> bool:
        return self.dtype.upper() == "STRING"

    def is_integer(self) -> bool:
        return self.dtype.upper() == "INT64"

    def is_float(self) -> bool:
        return self.dtype.upper() == "FLOAT64"

    def is_numeric(self) -> bool:
        return self.dtype.upper() in ("NUMERIC", "BIGNUMERIC")

    def string_size(self) -> int:
        return 65535
