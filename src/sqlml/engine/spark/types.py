"""Spark's column types as the DuckDB type names and Arrow types the layers above the seam read.

Everything above :mod:`sqlml.engine.base` reads an engine type name the way DuckDB spells it
(INFORMATION_SCHEMA.COLUMNS maps ``BIGINT`` to ``INT64``, SQL written per column type casts to
it), and expects a result's Arrow schema to be what DuckDB would produce for those types. So a
Spark column reports DuckDB's name for the same type, and Spark's Arrow output is cast to DuckDB's
Arrow type of that name (:func:`sqlml.engine.duckdb.cursor.arrow_type`): a table read on either
engine gives the same Arrow schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.engine.duckdb.cursor import arrow_type

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import types as T

__all__ = ["arrow_schema", "duckdb_type"]

#: Spark's simple type names (``DataType.typeName()``) and DuckDB's name of the same type.
_SIMPLE = {
    "long": "BIGINT",
    "integer": "INTEGER",
    "short": "SMALLINT",
    "byte": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "string": "VARCHAR",
    "char": "VARCHAR",
    "varchar": "VARCHAR",
    "boolean": "BOOLEAN",
    "binary": "BLOB",
    "date": "DATE",
    # Spark's TIMESTAMP is an instant shown in the session time zone (UTC here): BigQuery's
    # TIMESTAMP, which sqlml keeps as DuckDB's TIMESTAMP WITH TIME ZONE; TIMESTAMP_NTZ is DATETIME.
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "timestamp_ntz": "TIMESTAMP",
    "void": '"NULL"',
}


def duckdb_type(data_type: T.DataType) -> str:
    """DuckDB's name of the type of a Spark column (``ARRAY<BIGINT>`` is ``BIGINT[]``)."""
    from pyspark.sql import types as T

    if isinstance(data_type, T.DecimalType):
        return f"DECIMAL({data_type.precision},{data_type.scale})"
    if isinstance(data_type, T.ArrayType):
        return f"{duckdb_type(data_type.elementType)}[]"
    if isinstance(data_type, T.MapType):
        return f"MAP({duckdb_type(data_type.keyType)}, {duckdb_type(data_type.valueType)})"
    if isinstance(data_type, T.StructType):
        fields = ", ".join(f'"{field.name}" {duckdb_type(field.dataType)}' for field in data_type.fields)
        return f"STRUCT({fields})"
    name = data_type.typeName()
    if name not in _SIMPLE:
        raise TypeError(f"Spark's type {data_type.simpleString()} has no DuckDB counterpart in sqlml")
    return _SIMPLE[name]


def arrow_schema(schema: T.StructType) -> pa.Schema:
    """The Arrow schema DuckDB would give columns of these types (see the module docstring)."""
    import pyarrow as pa

    return pa.schema([pa.field(field.name, arrow_type(duckdb_type(field.dataType))) for field in schema.fields])
