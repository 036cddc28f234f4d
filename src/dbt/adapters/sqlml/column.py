"""Columns with BigQuery's type names (INT64, FLOAT64, STRING …), as sqlml reports them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dbt.adapters.base.column import Column


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
