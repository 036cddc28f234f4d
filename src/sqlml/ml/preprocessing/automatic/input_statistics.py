"""Statistics of a model's input columns, captured at CREATE MODEL time (ML.FEATURE_INFO).

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-feature
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.ml.preprocessing.automatic.columnwise import map_columns
from sqlml.ml.preprocessing.automatic.encoders import as_float
from sqlml.ml.preprocessing.automatic.preprocessor import is_numeric_type


def feature_info(table: pa.Table, columns: list[str]) -> list[dict]:
    """One ML.FEATURE_INFO row per input column: min, max, mean, median, stddev, counts."""
    return map_columns(lambda name: _column_info(name, table.column(name).combine_chunks()), columns, table.num_rows * len(columns))


def _column_info(name: str, column: pa.Array) -> dict:
    row = {
        "input": name, "min": None, "max": None, "mean": None, "median": None, "stddev": None,
        "category_count": None, "null_count": int(column.null_count), "dimension": None,
    }  # fmt: skip
    column_type = column.type
    if is_numeric_type(column_type) or pa.types.is_null(column_type):  # an untyped NULL column is INT64 in BigQuery
        row.update(_numeric(as_float(column)))
    elif pa.types.is_list(column_type) or pa.types.is_large_list(column_type):
        lengths = pc.unique(pc.list_value_length(column.filter(pc.is_valid(column)))).to_pylist()
        row["dimension"] = int(max(lengths)) if lengths else 0
        if not is_numeric_type(column_type.value_type) and not pa.types.is_struct(column_type.value_type):
            row["category_count"] = int(pc.count_distinct(pc.list_flatten(column)).as_py())
    elif pa.types.is_timestamp(column_type) and column_type.tz is not None:
        row.update(_numeric(pc.divide(column.cast(pa.timestamp("us")).cast(pa.int64()), 1e6).to_numpy(zero_copy_only=False)))
    else:
        row["category_count"] = int(pc.count_distinct(column).as_py())
    return row


def _numeric(values: np.ndarray) -> dict:
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    finite = values[~missing] if missing.any() else values
    if not finite.size:
        return {}
    return {
        "min": float(finite.min()),
        "max": float(finite.max()),
        "mean": float(finite.mean()),
        "median": float(np.median(finite)),
        "stddev": float(finite.std(ddof=1)) if finite.size > 1 else None,
    }
