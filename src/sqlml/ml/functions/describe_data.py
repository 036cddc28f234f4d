"""ML.DESCRIBE_DATA: descriptive statistics of every column of a table or query, in one pass per column.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-describe-data —
``ML.DESCRIBE_DATA({TABLE t | (query)}, STRUCT([num_quantiles] [, num_array_length_quantiles] [, top_k]))``,
defaults 2, 10 and 1. One row per column (struct fields expanded as ``column.field``, array
elements described as values): ``name``, ``num_rows``, ``num_nulls``, ``num_zeros``, ``min`` and
``max`` (as STRING), ``mean``, ``stdev``, ``median``, ``quantiles`` (num_quantiles + 1 boundaries),
``unique``, ``avg_string_length``, ``num_values``, ``top_values`` ARRAY<STRUCT<value, count>>,
``min/max/avg/total_array_length``, ``array_length_quantiles``, ``dimension``. Numbers get the
numeric figures; BOOL, BYTES, DATE, TIME, TIMESTAMP and STRING are described as strings (unique
count, length, top values), as BigQuery does. The work runs in DuckDB over the data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from sqlml.errors import InvalidOptionError
from sqlml.ml.functions.call import Call, function

if TYPE_CHECKING:
    from sqlml.execution.sources import DataInput

_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL")
_OUTPUT = pa.schema([
    ("name", pa.string()), ("num_rows", pa.int64()), ("num_nulls", pa.int64()), ("num_zeros", pa.int64()),
    ("min", pa.string()), ("max", pa.string()), ("mean", pa.float64()), ("stdev", pa.float64()), ("median", pa.float64()),
    ("quantiles", pa.list_(pa.float64())), ("unique", pa.int64()), ("avg_string_length", pa.float64()),
    ("num_values", pa.int64()), ("top_values", pa.list_(pa.struct([("value", pa.string()), ("count", pa.int64())]))),
    ("min_array_length", pa.int64()), ("max_array_length", pa.int64()), ("avg_array_length", pa.float64()),
    ("total_array_length", pa.int64()), ("array_length_quantiles", pa.list_(pa.int64())), ("dimension", pa.int64()),
])  # fmt: skip


@function("DESCRIBE_DATA")
def describe_data(call: Call) -> pa.Table:
    """``ML.DESCRIBE_DATA(data [, STRUCT(num_quantiles, num_array_length_quantiles, top_k)])``."""
    settings = call.settings({"num_quantiles": int, "num_array_length_quantiles": int, "top_k": int})
    limits = {"num_quantiles": (2, 100_000), "num_array_length_quantiles": (10, 100_000), "top_k": (1, 10_000)}
    values = {}
    for name, (default, high) in limits.items():
        values[name] = settings.get(name, default)
        if not 1 <= values[name] <= high:
            raise InvalidOptionError(f"{name} must be between 1 and {high:,}; got {values[name]}.", option=name)
    data = call.data(0)
    relation = data.relation()
    columns = list(_leaves(data, relation.columns, relation.types))
    if not columns:
        return _OUTPUT.empty_table()
    parts = [_column_sql(name, expression, data_type, values) for name, expression, data_type in columns]
    table = data.relation(" UNION ALL ".join(parts)).to_arrow_table()
    return table.rename_columns(_OUTPUT.names).cast(_OUTPUT)


def _leaves(data: DataInput, names: list[str], types: list[str], prefix: str = "", path: str = ""):
    """(name, SQL expression, DuckDB type) of each column, STRUCT fields expanded."""
    for name, data_type in zip(names, types):
        label = f"{prefix}{name}"
        expression = f"{path}{_quoted(name)}"
        if data_type.startswith("STRUCT("):
            fields = data.relation(f"SELECT UNNEST({expression}) FROM __data")  # its fields as columns; never run
            yield from _leaves(data, fields.columns, fields.types, f"{label}.", f"{expression}.")
        else:
            yield label, expression, data_type


def _column_sql(name: str, expression: str, data_type: str, settings: dict) -> str:
    is_array = data_type.endswith("[]")
    element = data_type[:-2] if is_array else data_type
    numeric = element.split("(")[0] in _NUMERIC
    n = settings["num_quantiles"]
    quantiles = "[" + ", ".join(str(i / n) for i in range(n + 1)) + "]"
    m = settings["num_array_length_quantiles"]
    length_quantiles = "[" + ", ".join(str(i / m) for i in range(m + 1)) + "]"
    k = settings["top_k"]
    v = "__v"
    if numeric:
        value_stats = (
            f"count_if({v} = 0), CAST(min({v}) AS VARCHAR), CAST(max({v}) AS VARCHAR), avg({v})::DOUBLE, stddev_samp({v})::DOUBLE, "
            f"quantile_disc({v}, 0.5)::DOUBLE, CAST(quantile_disc({v}, {quantiles}) AS DOUBLE[]), NULL::BIGINT, NULL::DOUBLE, count({v}), NULL"
        )  # fmt: skip
    else:
        s = f"CAST({v} AS VARCHAR)"
        top = (
            f"(SELECT list({{'value': __t.value, 'count': __t.count}} ORDER BY __t.count DESC, __t.value) FROM "
            f"(SELECT {s} AS value, count(*) AS count FROM __values WHERE {v} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {k}) AS __t)"
        )
        value_stats = (
            f"NULL::BIGINT, min({s}), max({s}), NULL::DOUBLE, NULL::DOUBLE, NULL::DOUBLE, NULL::DOUBLE[], "
            f"approx_count_distinct({v})::BIGINT, avg(length({s}))::DOUBLE, count({v}), {top}"
        )  # fmt: skip
    rows = "(SELECT count(*) FROM __data)"
    nulls = f"(SELECT count(*) FROM __data WHERE {expression} IS NULL)"
    if is_array:
        values_cte = f"SELECT unnest({expression}) AS {v} FROM __data"
        lengths = (
            f"(SELECT min(len({expression})) FROM __data), (SELECT max(len({expression})) FROM __data), "
            f"(SELECT avg(len({expression}))::DOUBLE FROM __data), (SELECT sum(len({expression}))::BIGINT FROM __data), "
            f"(SELECT CAST(quantile_disc(len({expression}), {length_quantiles}) AS BIGINT[]) FROM __data), "
            f"(SELECT CASE WHEN min(len({expression})) = max(len({expression})) THEN max(len({expression})) END FROM __data)"
        )  # fmt: skip
    else:
        values_cte = f"SELECT {expression} AS {v} FROM __data"
        lengths = "NULL::BIGINT, NULL::BIGINT, NULL::DOUBLE, NULL::BIGINT, NULL::BIGINT[], NULL::BIGINT"
    literal = "'" + name.replace("'", "''") + "'"
    # a SELECT around the CTE: DuckDB drops an inner WITH of a lone parenthesized query under
    # the caller's WITH __data (a one-column table had "Table __values does not exist")
    return f"SELECT * FROM (WITH __values AS ({values_cte}) SELECT {literal}, {rows}, {nulls}, {value_stats}, {lengths} FROM __values)"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
