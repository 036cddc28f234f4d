"""ML.FORECAST's rows from a stored ARIMA_PLUS model, without refitting.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-forecast — one
row per series and step: the id columns, ``forecast_timestamp`` (always TIMESTAMP),
``forecast_value``, ``standard_error``, ``confidence_level`` and the prediction interval
``forecast_value ± z·standard_error`` with z the normal quantile of the confidence level (the
interval statsforecast's ``forecast_arima`` gives). ``confidence_interval_*`` are BigQuery's
deprecated names for the same bounds. Series that failed at training have no rows.

A forecast is the trend's ARIMA forecast (statsforecast, from the stored state) plus each
seasonal component's last cycle repeated, plus each holiday's effect on the dates its calendar
gives (:mod:`sqlml.ml.forecasting.holiday_projection`). :func:`series_forecasts` keeps these parts
apart for ML.EXPLAIN_FORECAST; a roll-up of ``hierarchical_time_series_cols`` gets the sum of its
leaves' parts (bottom-up reconciliation). Under forecast limits the parts are on the unbounded scale
(:mod:`sqlml.ml.forecasting.limits`) and the value and interval bounds are mapped back, strictly
inside the limits; the standard error is scaled by the mapping's slope (delta method).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.stats import norm

from sqlml.ml.forecasting import holiday_projection
from sqlml.ml.forecasting.frequency import DataFrequency
from sqlml.ml.forecasting.hierarchy import leaves
from sqlml.ml.forecasting.history import grid_timestamps
from sqlml.ml.forecasting.limits import Limits
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


@dataclass
class SeriesForecast:
    """One series' forecast as parts, on the model's modelling scale (unbounded under limits).

    Attributes:
        index: the series' position in ``spec["time_series"]["series"]``.
        timestamps: the forecast's timestamps, int64 µs UTC.
        trend: the trend model's forecast.
        seasonal: each modelled period's last cycle repeated, by BigQuery's name.
        holiday_effects: each modelled holiday's projected effect, by name.
        standard_error: the trend forecast's standard error.
    """

    index: int
    timestamps: np.ndarray
    trend: np.ndarray
    seasonal: dict[str, np.ndarray]
    holiday_effects: dict[str, np.ndarray]
    standard_error: np.ndarray

    def total(self) -> np.ndarray:
        """The forecast on the modelling scale: the sum of its parts."""
        return self.trend + sum(self.seasonal.values(), np.zeros(len(self.trend))) + sum(self.holiday_effects.values(), np.zeros(len(self.trend)))


def series_forecasts(spec: dict, arrays: dict[str, np.ndarray], horizon: int) -> list[SeriesForecast]:
    """The parts of every fitted series' forecast, in the spec's series order.

    Args:
        spec: the model's spec.
        arrays: the model's arrays (``arima.*``).
        horizon: steps per series.
    """
    series = spec["time_series"]["series"]
    fitted = [index for index, item in enumerate(series) if item["error"] is None]
    states = unpack([series[i]["arima"] for i in fitted], {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("arima.")})
    grids = [_grid(series[i], horizon) for i in fitted]
    days = _calendar(spec, [series[i] for i in fitted], grids)
    cycles, offset, forecasts, positions = arrays["arima.seasonal_cycles"], 0, [], {}
    for index, state, grid in zip(fitted, states, grids):
        trend, se = state.forecast(horizon)
        seasonal = {}
        for name, period in series[index]["seasonal_periods"].items():
            seasonal[name] = cycles[offset : offset + period][np.arange(horizon) % period]
            offset += period
        windows = series[index].get("holiday_windows") or {}
        key = (grid[0], grid[-1])  # series ending together share their future grid and its holidays
        if windows and key not in positions:
            positions[key] = holiday_projection.future_positions(grid, days)
        holidays = holiday_projection.project(windows, positions[key], horizon) if windows else {}
        forecasts.append(SeriesForecast(index, grid.as_unit("us").asi8, trend, seasonal, holidays, se))
    hierarchy = spec["time_series"].get("hierarchy") or []
    return _reconciled(spec, forecasts, hierarchy) if hierarchy else forecasts


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
    limits = Limits.from_options(spec["options"])
    z = float(norm.ppf(0.5 + confidence / 2))
    forecasts = series_forecasts(spec, arrays, horizon)
    mean = np.concatenate([part.total() for part in forecasts] or [np.empty(0)])
    error = np.concatenate([part.standard_error for part in forecasts] or [np.empty(0)])
    value, lower, upper = limits.inverse(mean), limits.inverse(mean - z * error), limits.inverse(mean + z * error)
    ids = [[series["series"][part.index]["id"][k] for part in forecasts for _ in range(horizon)] for k in range(len(series["id_cols"]))]
    columns = [pa.array(column, kind) for column, kind in zip(ids, id_types)]
    columns += [
        pa.array(np.concatenate([part.timestamps for part in forecasts] or [np.empty(0, np.int64)]), pa.int64()).cast(FORECAST_SCHEMA.field(0).type),
        pa.array(value), pa.array(error * limits.slope(mean)), pa.array(np.full(len(value), confidence)),
        pa.array(lower), pa.array(upper), pa.array(lower), pa.array(upper),
    ]  # fmt: skip
    return pa.Table.from_arrays(columns, names=[*series["id_cols"], *FORECAST_SCHEMA.names])


def _reconciled(spec: dict, forecasts: list[SeriesForecast], hierarchy: list[str]) -> list[SeriesForecast]:
    """Each roll-up's forecast replaced by the sum of its leaves' (:mod:`sqlml.ml.forecasting.hierarchy`):
    parts added up, standard errors in quadrature; kept when a leaf failed or ends elsewhere."""
    series = spec["time_series"]
    below = leaves([item["id"] for item in series["series"]], [series["id_cols"].index(name) for name in hierarchy])
    by_index = {forecast.index: forecast for forecast in forecasts}
    out = []
    for forecast in forecasts:
        parts = [by_index.get(j) for j in below.get(forecast.index, [])]
        if parts and all(part is not None and np.array_equal(part.timestamps, forecast.timestamps) for part in parts):
            forecast = replace(
                forecast, trend=sum(part.trend for part in parts), seasonal=_summed([part.seasonal for part in parts]),
                holiday_effects=_summed([part.holiday_effects for part in parts]),
                standard_error=np.sqrt(sum(part.standard_error**2 for part in parts)),
            )  # fmt: skip
        out.append(forecast)
    return out


def _summed(components: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Components added up by name (a name some leaves lack counts zero for them)."""
    total: dict[str, np.ndarray] = {}
    for parts in components:
        for name, part in parts.items():
            total[name] = total.get(name, 0.0) + part
    return total


def _grid(item: dict, horizon: int) -> pd.DatetimeIndex:
    """The ``horizon`` timestamps after the series' last one."""
    return pd.DatetimeIndex(grid_timestamps(item["last_timestamp"], horizon + 1, DataFrequency(item["frequency"]))[1:].astype("datetime64[us]"))


def _calendar(spec: dict, items: list[dict], grids: list[pd.DatetimeIndex]) -> pd.DataFrame | None:
    """The holiday calendar over every forecast's dates, when some series models holidays."""
    dated = [grid for item, grid in zip(items, grids) if item.get("holiday_windows")]
    if not dated:
        return None
    return holiday_projection.spec_calendar(spec, min(grid[0] for grid in dated), max(grid[-1] for grid in dated))
