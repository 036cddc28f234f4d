"""ML.EXPLAIN_FORECAST's rows: each series' history and forecast split into their components.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-explain-forecast —
per series, chronologically, the history rows (``time_series_type = 'history'``: the regular
series the model was trained on, interpolated points included) then the forecast rows
(``'forecast'``). On history rows ``time_series_data = trend + Σ seasonal + holiday_effect +
spikes_and_dips + step_changes + residual``; on both ``time_series_adjusted_data = trend + Σ
seasonal + holiday_effect``, which on forecast rows is also ``time_series_data`` (ML.FORECAST's
``forecast_value``); ``holiday_effect = Σ holiday_effect_<name>``. A seasonal period or the
holidays a series does not model are NULL, as are spikes, steps and residual on forecast rows and
the confidence level and interval on history rows. The history comes from
:func:`sqlml.ml.forecasting.history.series_history`, the forecast from
:func:`sqlml.ml.forecasting.forecast.series_forecasts`; an ARIMA_PLUS_XREG model's regression is
added back by :mod:`sqlml.ml.forecasting.explain_regressors` (``attribution_<regressor>`` columns).
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
from scipy.stats import norm

from sqlml.ml.forecasting.explain_regressors import attribution_column, future_regression, history_regression
from sqlml.ml.forecasting.forecast import SeriesForecast, series_forecasts
from sqlml.ml.forecasting.history import SeriesHistory, series_history
from sqlml.ml.forecasting.limits import Limits
from sqlml.ml.forecasting.regressors import has_regressors

#: BigQuery's seasonal periods in the order of its output columns.
PERIODS = ("YEARLY", "QUARTERLY", "MONTHLY", "WEEKLY", "DAILY")

#: The FLOAT64 columns after ``time_series_type``, in BigQuery's order; ``holiday_effect_<name>``
#: columns follow.
VALUE_COLUMNS = (
    "time_series_data", "time_series_adjusted_data", "standard_error", "confidence_level",
    "prediction_interval_lower_bound", "prediction_interval_upper_bound", "trend",
    *(f"seasonal_period_{period.lower()}" for period in PERIODS),
    "holiday_effect", "spikes_and_dips", "step_changes", "residual",
)  # fmt: skip


def holiday_column(name: str) -> str:
    """The ``holiday_effect_<name>`` column of a holiday (characters a column name cannot hold
    become underscores: ``Christmas Day (observed)`` → ``holiday_effect_Christmas_Day_observed``)."""
    return "holiday_effect_" + re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_")


def explain_table(spec: dict, arrays: dict[str, np.ndarray], horizon: int, confidence: float, id_types: list[pa.DataType],
                  future: pa.Table | None = None) -> pa.Table:  # fmt: skip
    """ML.EXPLAIN_FORECAST's rows of every fitted series.

    Args:
        spec: the model's spec (trained with ``decompose_time_series=TRUE``).
        arrays: the model's arrays.
        horizon: forecast steps per series.
        confidence: the prediction interval's level, in [0, 1).
        id_types: the id columns' Arrow types.
        future: an ARIMA_PLUS_XREG model's future regressors (None for ARIMA_PLUS).

    Raises:
        InvalidModelInputError: the future regressors miss a column or a forecast row.
    """
    series = spec["time_series"]
    z = float(norm.ppf(0.5 + confidence / 2))
    limits = Limits.from_options(spec["options"])
    blocks = []
    for forecast in series_forecasts(spec, arrays, horizon):
        modelled = bool(series["series"][forecast.index].get("holiday_windows"))
        blocks.append(_history_block(series_history(spec, arrays, forecast.index), modelled) | {"index": forecast.index})
        blocks.append(_forecast_block(forecast, limits, z, confidence, modelled))
    extra = []
    if has_regressors(spec):
        _add_regression(spec, arrays, blocks, future, id_types)
        extra = [attribution_column(name) for name in spec["xreg"]["regressors"]]
    holidays = list(dict.fromkeys(name for block in blocks for name in block["holidays"]))
    rows = sum(len(block["time_series_timestamp"]) for block in blocks)
    columns = [pa.array(column, kind) for column, kind in zip(_ids(series, blocks), id_types)]
    columns.append(pa.array(_joined(blocks, "time_series_timestamp", rows, np.int64), pa.int64()).cast(pa.timestamp("us", tz="UTC")))
    columns.append(pa.array(_repeated([block["type"] for block in blocks], blocks), pa.string()))
    columns += [pa.array(_joined(blocks, name, rows), pa.float64(), from_pandas=True) for name in (*VALUE_COLUMNS, *extra)]
    columns += [pa.array(_holiday(blocks, name, rows), pa.float64(), from_pandas=True) for name in holidays]
    names = [*series["id_cols"], "time_series_timestamp", "time_series_type", *VALUE_COLUMNS, *extra, *holidays]
    return pa.Table.from_arrays(columns, names=names)


def _ids(series: dict, blocks: list[dict]) -> list[np.ndarray]:
    """Each id column's values, row by row."""
    return [_repeated([series["series"][block["index"]]["id"][k] for block in blocks], blocks) for k in range(len(series["id_cols"]))]


def _repeated(values: list, blocks: list[dict]) -> np.ndarray:
    """One value per block, repeated over the block's rows."""
    return np.repeat(np.array(values + [None], dtype=object)[:-1], [len(block["time_series_timestamp"]) for block in blocks])


def _add_regression(spec: dict, arrays: dict[str, np.ndarray], blocks: list[dict], future: pa.Table, id_types: list[pa.DataType]) -> None:
    """An XREG model's regression added to every block: intercept into the trend, attributions as columns."""
    for block in blocks[::2]:
        intercept, parts = history_regression(spec, arrays, block["index"], block["time_series_timestamp"])
        _shift(block, intercept, parts, ("time_series_data", "time_series_adjusted_data"))
    forecasts = blocks[1::2]
    ids = _ids(spec["time_series"], forecasts)
    keys = pa.table({**{name: pa.array(values, kind) for name, values, kind in zip(spec["time_series"]["id_cols"], ids, id_types)},
                     "forecast_timestamp": pa.array(np.concatenate([b["time_series_timestamp"] for b in forecasts]), pa.int64()).cast(pa.timestamp("us", tz="UTC"))})  # fmt: skip
    intercepts, parts = future_regression(spec, arrays, keys, future)
    at = 0
    for block in forecasts:
        n = len(block["time_series_timestamp"])
        shifted = ("time_series_data", "time_series_adjusted_data", "prediction_interval_lower_bound", "prediction_interval_upper_bound")
        _shift(block, intercepts[at : at + n], {name: part[at : at + n] for name, part in parts.items()}, shifted)
        at += n


def _shift(block: dict, intercept: float | np.ndarray, parts: dict[str, np.ndarray], columns: tuple[str, ...]) -> None:
    """Add the regression to a block's values, its intercept to the trend, its parts as columns."""
    total = intercept + sum(parts.values(), np.zeros(len(block["trend"])))
    for name in columns:
        block[name] = block[name] + total
    block["trend"] = block["trend"] + intercept
    for name, part in parts.items():
        block[attribution_column(name)] = part


def _history_block(history: SeriesHistory, modelled: bool) -> dict:
    """One series' history rows, NaN standing for NULL."""
    block = {"type": "history", "time_series_timestamp": history.timestamps, "time_series_data": history.data,
             "time_series_adjusted_data": history.adjusted, "standard_error": history.standard_error(),
             "trend": history.trend, "spikes_and_dips": history.spikes_and_dips, "step_changes": history.step_changes,
             "residual": history.residual}  # fmt: skip
    _components(block, history.seasonal, history.holiday_effects, history.holiday_effect if modelled else None)
    return block


def _forecast_block(forecast: SeriesForecast, limits: Limits, z: float, confidence: float, modelled: bool) -> dict:
    """One series' forecast rows: the parts mapped back inside the limits (if any), NaN for NULL."""
    total = forecast.total()
    trend, *rest = limits.attribute([forecast.trend, *forecast.seasonal.values(), *forecast.holiday_effects.values()])
    seasonal = dict(zip(forecast.seasonal, rest[: len(forecast.seasonal)]))
    holidays = dict(zip(forecast.holiday_effects, rest[len(forecast.seasonal) :]))
    value, se = limits.inverse(total), forecast.standard_error
    block = {"type": "forecast", "index": forecast.index, "time_series_timestamp": forecast.timestamps,
             "time_series_data": value, "time_series_adjusted_data": value, "standard_error": se * limits.slope(total),
             "confidence_level": np.full(len(total), confidence), "trend": trend,
             "prediction_interval_lower_bound": limits.inverse(total - z * se),
             "prediction_interval_upper_bound": limits.inverse(total + z * se)}  # fmt: skip
    _components(block, seasonal, holidays, sum(holidays.values(), np.zeros(len(total))) if modelled else None)
    return block


def _components(block: dict, seasonal: dict[str, np.ndarray], holidays: dict[str, np.ndarray], total: np.ndarray | None) -> None:
    """The seasonal and holiday columns of a block (absent ones stay NULL)."""
    for period, component in seasonal.items():
        block[f"seasonal_period_{period.lower()}"] = component
    block["holiday_effect"] = total
    block["holidays"] = {}
    for name, component in holidays.items():
        column = holiday_column(name)
        block["holidays"][column] = block["holidays"].get(column, 0.0) + component


def _joined(blocks: list[dict], name: str, rows: int, dtype: type = np.float64) -> np.ndarray:
    """One column over every block, NaN where a block has no such values."""
    out = np.full(rows, np.nan) if dtype is np.float64 else np.zeros(rows, dtype)
    at = 0
    for block in blocks:
        n = len(block["time_series_timestamp"])
        if block.get(name) is not None:
            out[at : at + n] = block[name]
        at += n
    return out


def _holiday(blocks: list[dict], column: str, rows: int) -> np.ndarray:
    """One ``holiday_effect_<name>`` column (NULL for series without that holiday)."""
    return _joined([{**block, column: block["holidays"].get(column)} for block in blocks], column, rows)
