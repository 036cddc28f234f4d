"""The training rows of a time-series model as series: columns found and checked, rows grouped.

BigQuery's column rules (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series):
the timestamp column is TIMESTAMP, DATE or DATETIME; the data column INT64, NUMERIC,
BIGNUMERIC or FLOAT64; each id column STRING or INT64. Column names match case-insensitively,
as in BigQuery.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError
from sqlml.ml.columns import column_named


@dataclass
class RawSeries:
    """One series' points as read, before preparation.

    Attributes:
        key: the id columns' values (empty for a single-series model).
        timestamps: the points' timestamps (naive UTC).
        values: the data column (NaN where NULL).
    """

    key: tuple
    timestamps: pd.DatetimeIndex
    values: np.ndarray


@dataclass
class SeriesColumns:
    """The columns a time-series model reads, with their names as the query wrote them.

    Attributes:
        timestamp: the timestamp column.
        data: the data column.
        ids: the id columns, in the option's order.
        id_types: the id columns' Arrow types (ML.FORECAST returns them as they were).
    """

    timestamp: str
    data: str
    ids: list[str]
    id_types: list[pa.DataType]


def series_columns(table: pa.Table, options: dict, source: str = "training query") -> SeriesColumns:
    """Find and check the columns the options name.

    Args:
        table: the rows.
        options: the model's options (``time_series_*_col``).
        source: what the rows are, for messages ("training query", "evaluation data").

    Raises:
        InvalidModelInputError: a column is missing or of a type BigQuery does not take there.
    """
    timestamp = _column(table, options["time_series_timestamp_col"], "time_series_timestamp_col", source)
    data = _column(table, options["time_series_data_col"], "time_series_data_col", source)
    ids = [_column(table, name, "time_series_id_col", source) for name in options.get("time_series_id_col") or []]
    kind = table.schema.field(timestamp).type
    if not (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
        raise _wrong_type(timestamp, kind, "time_series_timestamp_col", "TIMESTAMP, DATE or DATETIME", source)
    kind = table.schema.field(data).type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
        raise _wrong_type(data, kind, "time_series_data_col", "INT64, NUMERIC, BIGNUMERIC or FLOAT64", source)
    for name in ids:
        kind = table.schema.field(name).type
        if not (pa.types.is_integer(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            raise _wrong_type(name, kind, "time_series_id_col", "STRING or INT64", source)
    return SeriesColumns(timestamp, data, ids, [table.schema.field(name).type for name in ids])


def split_series(table: pa.Table, columns: SeriesColumns, training: bool = True) -> list[RawSeries]:
    """The rows grouped by the id columns, series in ascending id order; rows without a
    timestamp are left out (they belong to no point in time).

    Args:
        table: the rows.
        columns: their time-series columns (:func:`series_columns`).
        training: the rows are a training query's, whose timestamp and data columns must each
            have a value somewhere (rows to evaluate on may lack them).

    Raises:
        InvalidModelInputError: the data column has an infinite value, or (training) the
            timestamp or data column is NULL in every row.
    """
    if training and table.num_rows:
        for name, option in ((columns.timestamp, "time_series_timestamp_col"), (columns.data, "time_series_data_col")):
            if table.column(name).null_count == table.num_rows:
                raise InvalidModelInputError(
                    f"The column {name} ({option}) is NULL in all {table.num_rows} rows of the training query; there is no series to model.",
                    column=name,
                    hint=f"Check the training query's filters and joins, or name another column in {option}.",
                )
    table = table.filter(pc.is_valid(table.column(columns.timestamp)))
    stamps = table.column(columns.timestamp)
    if pa.types.is_timestamp(stamps.type) and stamps.type.tz is not None:
        stamps = stamps.cast(pa.timestamp(stamps.type.unit))  # Arrow keeps the UTC instant
    frame = pd.DataFrame({
        "__t": pd.DatetimeIndex(stamps.cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)).as_unit("ns"),
        "__v": table.column(columns.data).cast(pa.float64()).to_numpy(zero_copy_only=False),
    })  # fmt: skip
    infinite = int(np.isinf(frame["__v"].to_numpy()).sum())
    if infinite:
        raise InvalidModelInputError(
            f"The column {columns.data} (time_series_data_col) has {infinite} infinite value(s); a time series must be finite or NULL.",
            column=columns.data,
            hint=f"Filter or replace the infinite values of {columns.data} in the training query (NULL points are interpolated).",
        )
    if not columns.ids:
        return [RawSeries((), pd.DatetimeIndex(frame["__t"]), frame["__v"].to_numpy())]
    for index, name in enumerate(columns.ids):
        frame[f"__id{index}"] = table.column(name).to_pandas()
    keys = [f"__id{index}" for index in range(len(columns.ids))]
    return [
        RawSeries(tuple(_plain(v) for v in (key if isinstance(key, tuple) else (key,))), pd.DatetimeIndex(group["__t"]), group["__v"].to_numpy())
        for key, group in frame.groupby(keys, sort=True, dropna=False)
    ]


def _plain(value: object) -> object:
    """An id value as JSON keeps it (NumPy integers as int, missing as None)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _column(table: pa.Table, name: str, option: str, source: str) -> str:
    found = column_named(table.column_names, name)
    if found is None:
        raise InvalidModelInputError(
            f"The {source} has no column {name}, which {option} names.",
            column=name,
            hint=f"Select {name} in the query, or set {option} to one of: {', '.join(table.column_names)}.",
        )
    return found


def _wrong_type(name: str, kind: pa.DataType, option: str, expected: str, source: str) -> InvalidModelInputError:
    return InvalidModelInputError(
        f"The column {name} ({option}) must be {expected}; it is {kind}.",
        column=name,
        hint=f"CAST {name} in the {source}, or name another column in {option}.",
    )
