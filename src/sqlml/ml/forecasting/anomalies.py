"""Anomalies of time series against their model (ARIMA_PLUS, ARIMA_PLUS_XREG): ML.DETECT_ANOMALIES's rows.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-detect-anomalies —
"The value of the anomaly probability at each timestamp is calculated using the actual time
series data value and the values of the predicted time series data and the variance from the
model training. The actual time series data value at a specific timestamp is identified as
anomalous if the anomaly probability exceeds the anomaly_prob_threshold value. The
anomaly_prob_threshold value also determines the lower and upper bounds, where a larger
threshold value results in a larger interval size."

So, with the model's expected value ``μ`` and standard error ``σ`` at a point and the threshold
``t``: the anomaly probability of a value ``y`` is ``P(|Z| < |y − μ| / σ) = 2Φ(|y − μ| / σ) − 1``
(the level of the widest normal prediction interval that still leaves ``y`` out); the bounds are
``μ ± Φ⁻¹((1 + t) / 2)·σ`` — ML.FORECAST's prediction interval at ``confidence_level = t`` —
and ``is_anomaly`` is ``probability > t``, i.e. ``y`` outside the bounds.

On the training history (:func:`detect_history`), ``μ`` is the model's one-step-ahead prediction
of each point and ``σ`` the trend model's residual standard deviation. On new data
(:func:`detect_new`), ``μ`` and ``σ`` are the model's forecast for the row's series
and timestamp (:func:`sqlml.ml.forecasting.forecast.forecast_table`, up to the model's
``horizon``). A row whose series the model does not know, whose timestamp is not one of the
forecast's (before the end of training, past the horizon, or off the series' frequency grid) or
has no timestamp gets NULL results, as BigQuery returns. An ARIMA_PLUS_XREG model adds its
regression on the row's regressors (:mod:`sqlml.ml.forecasting.regressors`) to ``μ``, in both forms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import norm

from sqlml.errors import InvalidModelInputError
from sqlml.ml.columns import column_named
from sqlml.ml.forecasting.forecast import forecast_table
from sqlml.ml.forecasting.frequency import NOMINAL_SECONDS, DataFrequency
from sqlml.ml.forecasting.history import series_history
from sqlml.ml.forecasting.limits import Limits
from sqlml.ml.forecasting.explain_regressors import history_regression_total
from sqlml.ml.forecasting.regressors import has_regressors, microseconds, regression_contribution

#: ML.DETECT_ANOMALIES's result columns, after the id, timestamp and data columns.
RESULT_SCHEMA = pa.schema([
    ("is_anomaly", pa.bool_()),
    ("lower_bound", pa.float64()),
    ("upper_bound", pa.float64()),
    ("anomaly_probability", pa.float64()),
])  # fmt: skip

#: The output's timestamp type: BigQuery's TIMESTAMP (UTC), whatever the input's type.
TIMESTAMP = pa.timestamp("us", tz="UTC")

#: The shortest span of one step of each frequency, in seconds (calendar months, quarters and
#: years vary): enough steps of it to cover the input are enough forecast steps.
SHORTEST_STEP: dict[DataFrequency, float] = {
    **NOMINAL_SECONDS,
    DataFrequency.MONTHLY: 28 * 86400.0,
    DataFrequency.QUARTERLY: 89 * 86400.0,
    DataFrequency.YEARLY: 365 * 86400.0,
}


@dataclass
class Scores:
    """ML.DETECT_ANOMALIES's results for some points; NaN where a result is NULL.

    Attributes:
        probability: the anomaly probability of each value.
        lower, upper: the bounds of values that are not anomalies.
        is_anomaly: 1.0, 0.0, or NaN (unknown).
    """

    probability: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    is_anomaly: np.ndarray

    def columns(self) -> list[pa.Array]:
        """The result columns, in :data:`RESULT_SCHEMA` order, NULL where NaN."""
        flags = pa.array(self.is_anomaly == 1.0, pa.bool_(), mask=np.isnan(self.is_anomaly))
        return [flags, *(pa.array(v, pa.float64(), from_pandas=True) for v in (self.lower, self.upper, self.probability))]


def score(values: np.ndarray, expected: np.ndarray, error: np.ndarray, threshold: float, limits: Limits | None = None) -> Scores:
    """The anomaly probability, bounds and flag of each value against a normal ``expected ± error``.

    Under forecast limits the model is normal on its unbounded scale
    (:mod:`sqlml.ml.forecasting.limits`): the values are mapped there to be compared, and the
    bounds mapped back, as ML.FORECAST maps its intervals; a value at or beyond a limit, where
    the model puts no probability, is an anomaly with probability 1.

    Args:
        values: the observed values (NaN: no value, so no probability and no flag).
        expected: the model's expected values, on its modelling scale (NaN: the model has none
            here, so all results are NULL).
        error: their standard errors, on the same scale (0 for a constant series: any other
            value is an anomaly).
        threshold: ``anomaly_prob_threshold``, in [0, 1).
        limits: the model's forecast limits (none by default).
    """
    limits = limits or Limits()
    values, expected, error = (np.asarray(a, dtype=np.float64) for a in (values, expected, error))
    z = float(norm.ppf(0.5 + threshold / 2))
    scaled = limits.transform(values)
    distance = np.where(np.isnan(scaled) & ~np.isnan(values), np.inf, np.abs(scaled - expected))
    distance[np.isnan(expected)] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        probability = 1.0 - 2.0 * norm.sf(distance / error)  # 2Φ(d/σ) − 1 without cancellation
    flat = error == 0
    probability[flat] = np.where(distance[flat] > 0, 1.0, 0.0)
    probability[np.isnan(distance)] = np.nan
    flags = np.where(np.isnan(probability), np.nan, (probability > threshold).astype(np.float64))
    return Scores(probability, limits.inverse(expected - z * error), limits.inverse(expected + z * error), flags)


def detect_history(spec: dict, arrays: dict[str, np.ndarray], threshold: float, id_types: list[pa.DataType]) -> pa.Table:
    """ML.DETECT_ANOMALIES's rows for the training history, series by series, oldest first.

    Each point is scored against the model's one-step-ahead prediction of it
    (:attr:`SeriesHistory.fitted`: trend fit, seasonality, holiday effects and step changes,
    without spikes and dips) and the trend model's residual standard deviation, so that the
    spikes and dips training took out stand out. Grid points the training data did not have
    (interpolated gaps) are not data and have no row; series that failed at training have none.

    Args:
        spec: the model's description; trained with ``decompose_time_series=TRUE``
            (:func:`~sqlml.ml.forecasting.history.has_history`).
        arrays: the model's arrays (``arima.*``).
        threshold: ``anomaly_prob_threshold``, in [0, 1).
        id_types: the id columns' types at training.

    Returns:
        The id columns, the timestamp (TIMESTAMP), the data (FLOAT64) and :data:`RESULT_SCHEMA`.
    """
    series = spec["time_series"]
    ids: list[list] = [[] for _ in series["id_cols"]]
    parts: dict[str, list[np.ndarray]] = {"stamps": [], "data": [], "fitted": [], "sigma": []}
    for index, item in enumerate(series["series"]):
        if item["error"] is not None:
            continue
        history = series_history(spec, arrays, index)
        kept = ~history.interpolated
        shift = history_regression_total(spec, arrays, index, history.timestamps)
        sigmas = np.full(len(kept), history.sigma)
        for name, value in zip(parts, (history.timestamps, history.data + shift, history.scaled_fitted + shift, sigmas)):
            parts[name].append(value[kept])
        for column, value in zip(ids, item["id"]):
            column.extend([value] * int(kept.sum()))
    stamps, data, fitted, sigma = (np.concatenate(chunks or [np.empty(0)]) for chunks in parts.values())
    results = score(data, fitted, sigma, threshold, Limits.from_options(spec["options"]))
    columns = [pa.array(column, kind) for column, kind in zip(ids, id_types)]
    columns += [pa.array(stamps.astype(np.int64), pa.int64()).cast(TIMESTAMP), pa.array(data, pa.float64()), *results.columns()]
    return pa.Table.from_arrays(columns, names=[*series["id_cols"], series["timestamp_col"], series["data_col"], *RESULT_SCHEMA.names])


@dataclass
class InputColumns:
    """The model's columns as the input data names them (matched case-insensitively).

    Attributes:
        ids: the id columns, in the model's order.
        timestamp: the timestamp column.
        data: the data column.
        others: every other input column, in the input's order (passed through).
    """

    ids: list[str]
    timestamp: str
    data: str
    others: list[str]


def input_columns(schema: pa.Schema, series: dict, id_types: list[pa.DataType]) -> InputColumns:
    """Find the model's columns in new data and check that their types match training.

    Args:
        schema: the input data's columns.
        series: the model spec's ``time_series`` part (column names).
        id_types: the id columns' types at training.

    Raises:
        InvalidModelInputError: a column is missing, or its type is not the training one's kind.
    """
    ids = [_find(schema, name, "time_series_id_col") for name in series["id_cols"]]
    timestamp = _find(schema, series["timestamp_col"], "time_series_timestamp_col")
    data = _find(schema, series["data_col"], "time_series_data_col")
    kind = schema.field(timestamp).type
    if not (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
        raise _mismatch(timestamp, kind, "TIMESTAMP, DATE or DATETIME")
    kind = schema.field(data).type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
        raise _mismatch(data, kind, "INT64, NUMERIC, BIGNUMERIC or FLOAT64")
    for name, trained in zip(ids, id_types):
        kind = schema.field(name).type
        if _is_text(kind) != _is_text(trained) or not (_is_text(kind) or pa.types.is_integer(kind)):
            raise _mismatch(name, kind, "STRING" if _is_text(trained) else "INT64")
    taken = {*ids, timestamp, data}
    return InputColumns(ids, timestamp, data, [name for name in schema.names if name not in taken])


def detect_new(spec: dict, arrays: dict[str, np.ndarray], data: pa.Table, threshold: float, id_types: list[pa.DataType]) -> pa.Table:
    """ML.DETECT_ANOMALIES's rows for new data, one per input row, in the input's order.

    Args:
        spec: the model's description (its ``time_series`` part).
        arrays: the model's arrays (``arima.*``).
        data: the new points: the model's id, timestamp and data columns, and any others.
        threshold: ``anomaly_prob_threshold``, in [0, 1).
        id_types: the id columns' types at training.

    Returns:
        The id columns (training types), the timestamp (TIMESTAMP), the data (FLOAT64), the
        columns of :data:`RESULT_SCHEMA`, then the input's other columns.

    Raises:
        InvalidModelInputError: the input lacks a model column or has it with another type.
    """
    series = spec["time_series"]
    columns = input_columns(data.schema, series, id_types)
    ids = [pc.cast(data.column(name), kind).combine_chunks() for name, kind in zip(columns.ids, id_types)]
    stamps = microseconds(data.column(columns.timestamp))  # as the series keep them: NaN where NULL
    values = data.column(columns.data).cast(pa.float64()).to_numpy(zero_copy_only=False)
    keys = _keys(ids, stamps)
    horizon = _steps_needed(series, keys, spec["options"]["horizon"])
    expected, error = np.full(len(keys), np.nan), np.full(len(keys), np.nan)
    if horizon:
        found = _forecast_frame(spec, arrays, horizon, id_types)
        matched = keys.merge(found, how="left", on=list(keys.columns), validate="many_to_one")
        expected, error = matched["forecast_value"].to_numpy(), matched["standard_error"].to_numpy()
    if has_regressors(spec):
        expected = expected + regression_contribution(spec, arrays, data)
    results = score(values, expected, error, threshold, Limits.from_options(spec["options"]))
    stamps = pa.array(np.nan_to_num(stamps).astype(np.int64), pa.int64(), mask=np.isnan(stamps)).cast(TIMESTAMP)
    out = [*ids, stamps, pa.array(values, pa.float64()), *results.columns()]
    out += [data.column(name) for name in columns.others]
    names = [*series["id_cols"], series["timestamp_col"], series["data_col"], *RESULT_SCHEMA.names, *columns.others]
    return pa.Table.from_arrays(out, names=names)


def _forecast_frame(spec: dict, arrays: dict[str, np.ndarray], horizon: int, id_types: list[pa.DataType]) -> pd.DataFrame:
    # Every fitted series' forecast keyed as the input is: its expected values and standard errors
    # on the modelling scale (ML.FORECAST maps them back under forecast limits; undone here).
    table = forecast_table(spec, arrays, horizon, 0.95, id_types)
    ids = [table.column(name).combine_chunks() for name in spec["time_series"]["id_cols"]]
    frame = _keys(ids, microseconds(table.column("forecast_timestamp")))
    limits = Limits.from_options(spec["options"])
    frame["forecast_value"] = limits.transform(table.column("forecast_value").to_numpy())
    frame["standard_error"] = table.column("standard_error").to_numpy() / limits.slope(frame["forecast_value"].to_numpy())
    return frame


def _steps_needed(series: dict, keys: pd.DataFrame, limit: int) -> int:
    """How many forecast steps cover the input's latest timestamp of every known series, at
    most the model's horizon (0 when no row can have a result)."""
    known = keys.dropna(subset=["t"])
    if series["id_cols"]:
        latest = known.groupby([c for c in keys.columns if c != "t"], dropna=False, sort=False)["t"].max().items()
    else:
        latest = [((), known["t"].max())] if len(known) else []
    wanted = {tuple(item["id"]): item for item in series["series"] if item["error"] is None}
    steps = 0
    for key, stamp in latest:
        key = tuple(None if pd.isna(value) else value for value in (key if isinstance(key, tuple) else (key,)))
        item = wanted.get(key)  # a NULL id is a series of its own, kept as None
        if item is not None and stamp > item["last_timestamp"]:
            elapsed = (stamp - item["last_timestamp"]) / 1e6
            steps = max(steps, math.ceil(elapsed / SHORTEST_STEP[DataFrequency(item["frequency"])]))
    return min(steps, limit)


def _keys(ids: list[pa.Array], stamps: np.ndarray) -> pd.DataFrame:
    # The join keys id0…, t; the ids as nullable pandas columns, so that a NULL keeps an integer an integer.
    nullable = {pa.int64(): pd.Int64Dtype(), pa.string(): pd.StringDtype()}.get
    return pd.DataFrame({f"id{i}": array.to_pandas(types_mapper=nullable) for i, array in enumerate(ids)} | {"t": stamps})


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _find(schema: pa.Schema, name: str, option: str) -> str:
    found = column_named(schema.names, name)
    if found is None:
        raise InvalidModelInputError(
            f"ML.DETECT_ANOMALIES's input data has no column {name}, the model's {option}.",
            column=name,
            hint=f"Select {name} in the input query; it has: {', '.join(schema.names)}.",
        )
    return found


def _mismatch(name: str, kind: pa.DataType, expected: str) -> InvalidModelInputError:
    return InvalidModelInputError(
        f"The column {name} of ML.DETECT_ANOMALIES's input data must be {expected}, as in training; it is {kind}.",
        column=name,
        hint=f"CAST {name} in the input query to the type the model was trained with.",
    )
