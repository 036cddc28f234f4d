"""Spark's column types as the DuckDB type names and Arrow types the layers above the seam read.

Everything above :mod:`sqlml.engine.base` reads an engine type name the way DuckDB spells it
(INFORMATION_SCHEMA.COLUMNS maps ``BIGINT`` to ``INT64``, SQL written per column type casts to
it), and expects a result's Arrow schema to be what DuckDB would produce for those types. So a
Spark column reports DuckDB's name for the same type, and Spark's Arrow output is cast to DuckDB's
Arrow type of that name (:func:`sqlml.engine.duckdb.cursor.arrow_type`): a table read on either
engine gives the same Arrow schema.

Spark's INTERVAL types (year-month, day-time, and the calendar interval of CAST(x AS INTERVAL)) are DuckDB's one INTERVAL (months, days,
nanoseconds). Spark's Arrow output has no year-month interval and gives a day-time one as a
duration, so a result's INTERVAL columns are fetched as their parts (:func:`intervals_as_parts`)
and put together as DuckDB's (:func:`parts_as_intervals`); the days are Spark's EXTRACT(DAY), as
``INTERVAL 2 DAY`` is 2 days in DuckDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.engine.duckdb.cursor import arrow_type

from sqlml.engine.base import EngineError

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import Column, DataFrame
    from pyspark.sql import types as T

__all__ = ["arrow_schema", "duckdb_type", "intervals_as_parts", "parts_as_intervals"]


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
    if _is_interval(data_type):
        return "INTERVAL"
    name = data_type.typeName()
    if name not in _SIMPLE:
        raise EngineError(f"Spark's type {data_type.simpleString()} has no BigQuery counterpart in sqlml: cast the column to one.")
    return _SIMPLE[name]


def _is_interval(data_type: T.DataType) -> bool:
    from pyspark.sql import types as T

    return isinstance(data_type, (T.YearMonthIntervalType, T.DayTimeIntervalType, T.CalendarIntervalType))


def _parts(column: Column, data_type: T.DataType) -> Column:
    # EXTRACT takes only the units a type has: INTERVAL 3 MONTH is widened to YEAR TO MONTH first;
    # a CalendarInterval (CAST(x AS INTERVAL)) has every unit
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    def unit(name: str) -> Column:
        return F.extract(F.lit(name), column)

    zero = F.lit(0)
    if isinstance(data_type, T.YearMonthIntervalType):
        column = column.cast("interval year to month")
        return F.struct((unit("YEAR") * 12 + unit("MONTH")).alias("months"), zero.alias("days"), F.make_dt_interval().alias("rest"))
    if isinstance(data_type, T.DayTimeIntervalType):
        column = column.cast("interval day to second")
        return F.struct(zero.alias("months"), unit("DAY").alias("days"), (column - F.make_dt_interval(unit("DAY"))).alias("rest"))
    rest = F.make_dt_interval(zero, unit("HOUR"), unit("MINUTE"), unit("SECOND"))
    return F.struct((unit("YEAR") * 12 + unit("MONTH")).alias("months"), unit("DAY").alias("days"), rest.alias("rest"))


def intervals_as_parts(frame: DataFrame) -> DataFrame:
    """``frame`` with each INTERVAL column as ``STRUCT(months, days, rest)`` (``rest``, the time
    below a day, a day-time interval fetched as an Arrow duration), for :func:`parts_as_intervals`."""
    fields = frame.schema.fields
    if not any(_is_interval(field.dataType) for field in fields):
        return frame
    columns = [
        (_parts(frame[index], field.dataType) if _is_interval(field.dataType) else frame[index]).alias(field.name)
        for index, field in enumerate(fields)
    ]
    return frame.select(*columns)


def parts_as_intervals(table: pa.Table, schema: T.StructType) -> pa.Table:
    """The Arrow ``table`` of :func:`intervals_as_parts`'s frame with DuckDB's INTERVAL columns."""
    import pyarrow as pa

    for index, field in enumerate(schema.fields):
        if not _is_interval(field.dataType):
            _refuse_nested_interval(field)
            continue
        parts = table.column(index).to_pylist()
        values = [
            None if None in (part["months"], part["days"], part["rest"])
            else (part["months"], part["days"], _micros(part["rest"]) * 1000)
            for part in parts
        ]  # fmt: skip
        table = table.set_column(index, table.field(index).name, pa.array(values, type=pa.month_day_nano_interval()))
    return table


def _micros(duration) -> int:  # noqa: ANN001 - a datetime.timedelta
    return (duration.days * 86_400 + duration.seconds) * 1_000_000 + duration.microseconds


def _refuse_nested_interval(field: T.StructField) -> None:
    if "interval" in field.dataType.simpleString():
        raise EngineError(
            f"Column {field.name} holds INTERVAL values inside an ARRAY or STRUCT, which the Spark engine cannot fetch yet: "
            "return the intervals as columns of their own, or as STRING."
        )


def arrow_schema(schema: T.StructType) -> pa.Schema:
    """The Arrow schema DuckDB would give columns of these types (see the module docstring)."""
    import pyarrow as pa

    return pa.schema([pa.field(field.name, arrow_type(duckdb_type(field.dataType))) for field in schema.fields])
