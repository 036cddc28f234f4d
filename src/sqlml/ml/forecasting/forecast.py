"""ML.FORECAST's rows from a stored ARIMA_PLUS model, without refitting.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-forecast — one
row per series and step: the id columns, ``forecast_timestamp`` (always TIMESTAMP),
``forecast_value``, ``standard_error``, ``confidence_level`` and the prediction interval
``forecast_value ± z·standard_error`` with z the normal quantile of the confidence level (the
interval statsforecast's ``forecast_arima`` gives). ``confidence_interval_*`` are BigQuery's
deprecated names for the same bounds. Series that failed at training have no rows.

A forecast is the trend's ARIMA forecast (statsforecast, from the stored state) plus each
seasonal component's last cycle repeated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.stats import norm

from sqlml.ml.forecasting.frequency import STEPS, DataFrequency
from sqlml.ml.forecasting.state import unpack

#: ML.FORECAST's columns after the id columns.
FORECAST_SCHEMA = pa.schema([
    ("forecast_timestamp", pa.timestamp("us", tz="UTC")),
    ("forecast_value", pa.float64()),
    ("standard_error", pa.float64()),
    ("confidence_level", pa.float64()),
    ("prediction_interval_lower_bound", pa.float64()),
    ("prediction_interval_upper_bound", pa.float64()),
    ("confidence_interval_lower_bound", pa.float64()),
    ("confidence_interval_upper_bound", pa.float64()),
])  # fmt: skip


def forecast_table(spec: dict, arrays: dict[str, np.ndarray], horizon: int, confidence: float, id_types: list[pa.DataType]) -> pa.Table:
    """The forecasts of every fitted series, chronologically within each series.

    Args:
        spec: the model's description (its ``time_series`` part).
        arrays: the model's arrays (``arima.*``).
        horizon: steps per series.
        confidence: the prediction interval's level, in [0, 1).
        id_types: the id columns' Arrow types.
    """
    series = spec["time_series"]
    fitted = [item for item in series["series"] if item["error"] is None]
    states = unpack([item["arima"] for item in fitted], {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("arima.")})
    cycles, offset = arrays["arima.seasonal_cycles"], 0
    z = float(norm.ppf(0.5 + confidence / 2))
    ids: list[list] = [[] for _ in series["id_cols"]]
    stamps, values, errors = [], [], []
    for item, state in zip(fitted, states):
        mean, se = state.forecast(horizon)
        for period in item["seasonal_periods"].values():
            cycle = cycles[offset : offset + period]
            offset += period
            mean = mean + cycle[np.arange(horizon) % period]
        last = pd.Timestamp(item["last_timestamp"], unit="us")
        stamps.append(pd.date_range(start=last, periods=horizon + 1, freq=STEPS[DataFrequency(item["frequency"])])[1:].as_unit("us").asi8)
        values.append(mean)
        errors.append(se)
        for column, value in zip(ids, item["id"]):
            column.extend([value] * horizon)
    value = np.concatenate(values)
    error = np.concatenate(errors)
    lower, upper = value - z * error, value + z * error
    columns = [pa.array(column, kind) for column, kind in zip(ids, id_types)]
    columns += [
        pa.array(np.concatenate(stamps), pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        pa.array(value), pa.array(error), pa.array(np.full(len(value), confidence)),
        pa.array(lower), pa.array(upper), pa.array(lower), pa.array(upper),
    ]  # fmt: skip
    names = [*series["id_cols"], *FORECAST_SCHEMA.names]
    return pa.Table.from_arrays(columns, names=names)
