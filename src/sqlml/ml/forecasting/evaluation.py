"""ML.EVALUATE of a forecasting model: its forecasts set against actual values, per series or per point.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-evaluate (time
series form, ``../shared/reference/bigquery-ml.md`` §4.2): the model forecasts ``horizon`` steps
of each series and the input's values are matched to them by id and timestamp. With
``perform_aggregation`` (the default) each series gets one row of accuracy metrics; without it
every input row comes back with its forecast, prediction interval and errors (NULL for an input
row no forecast falls on, such as history before the forecast starts).

The metrics: MAE, MSE, RMSE; MAPE and sMAPE in percent (BigQuery reports them as percentages;
sMAPE as ``200·|a − f| / (|a| + |f|)`` averaged, so in [0, 200]); MASE, the MAE divided by the
mean absolute one-step naive error on the series' training history (Hyndman & Koehler 2006;
the regular series training kept, duplicates averaged and gaps interpolated), NULL when the model
kept no history (``decompose_time_series=FALSE``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sqlml.errors import InvalidModelInputError
from sqlml.ml.forecasting.forecast import forecast_table
from sqlml.ml.forecasting.history import has_history, series_history
from sqlml.ml.forecasting.explain_regressors import history_regression_total
from sqlml.ml.forecasting.regressors import add_regression, has_regressors, microseconds
from sqlml.ml.forecasting.series import RawSeries, SeriesColumns, series_columns, split_series

#: ML.EVALUATE's columns after the id columns when it aggregates per series.
METRIC_NAMES = (
    "mean_absolute_error",
    "mean_squared_error",
    "root_mean_squared_error",
    "mean_absolute_percentage_error",
    "symmetric_mean_absolute_percentage_error",
    "mean_absolute_scaled_error",
)
#: Where the input data is named in error messages.
SOURCE = "evaluation data"


@dataclass
class MatchedSeries:
    """One input series with the forecasts that fall on its timestamps.

    Attributes:
        raw: the input rows of the series.
        forecast: the forecast at each input timestamp (NaN where none falls).
        lower: the prediction interval's lower bound (NaN where no forecast).
        upper: its upper bound.
        known: whether the model has a fitted series with this id.
    """

    raw: RawSeries
    forecast: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    known: bool


def forecast_errors(actual: np.ndarray, forecast: np.ndarray, naive_scale: float | None = None) -> dict[str, float | None]:
    """The accuracy metrics of ``forecast`` against ``actual`` (same length, no NaN).

    Args:
        actual: the observed values.
        forecast: the forecasts of the same points.
        naive_scale: the mean absolute one-step naive error in training, MASE's denominator.

    Returns:
        :data:`METRIC_NAMES` → value; None where undefined (no points; MAPE when every actual is
        0; MASE without a positive naive scale).
    """
    if not len(actual):
        return dict.fromkeys(METRIC_NAMES)
    error = np.abs(actual - forecast)
    mae, mse = float(error.mean()), float((error**2).mean())
    nonzero = actual != 0
    mape = float(100 * (error[nonzero] / np.abs(actual[nonzero])).mean()) if nonzero.any() else None
    denominator = np.abs(actual) + np.abs(forecast)
    smape = float(100 * np.where(denominator > 0, 2 * error / np.where(denominator > 0, denominator, 1), 0.0).mean())
    mase = mae / naive_scale if naive_scale else None
    return dict(zip(METRIC_NAMES, (mae, mse, float(np.sqrt(mse)), mape, smape, mase)))


def naive_scale(history: np.ndarray) -> float | None:
    """The mean absolute one-step naive error of a training series (NaN points skipped)."""
    steps = np.abs(np.diff(np.asarray(history, dtype=np.float64)))
    steps = steps[~np.isnan(steps)]
    return float(steps.mean()) if steps.size else None


def evaluation_rows(
    spec: dict, arrays: dict[str, np.ndarray], data: pa.Table, horizon: int, confidence: float, aggregate: bool, id_types: list[pa.DataType]
) -> pa.Table:
    """ML.EVALUATE's rows of ``data``: one row of metrics per series the model knows
    (``aggregate``, :func:`aggregated_table`), else one row per input row (:func:`per_point_table`).
    Each series' rows depend on that series alone, so the rows of a model cut down to some series
    (:mod:`sqlml.ml.forecasting.subset`) and their input rows are the whole model's for them.

    Args:
        spec: the model's description.
        arrays: the model's arrays.
        data: the evaluation rows.
        horizon: how many steps of each series are forecast.
        confidence: the per-point rows' prediction interval level.
        aggregate: ``perform_aggregation``.
        id_types: the model's id column types.

    Raises:
        InvalidModelInputError: see :func:`matched_series`.
    """
    forecasts = model_forecasts(spec, arrays, data, horizon, confidence, id_types)
    matched, columns = matched_series(spec, forecasts, data)
    if not aggregate:
        return per_point_table(matched, columns)
    return aggregated_table(matched, spec["time_series"]["id_cols"], id_types, training_histories(spec, arrays))


def model_forecasts(
    spec: dict, arrays: dict[str, np.ndarray], data: pa.Table, horizon: int, confidence: float, id_types: list[pa.DataType]
) -> pa.Table:
    """ML.FORECAST's rows to compare with ``data``; an ARIMA_PLUS_XREG model's only at the
    input's (id, timestamp) points, where ``data`` gives the regressors' values.

    Args:
        spec: the model's description.
        arrays: the model's arrays.
        data: the evaluation rows.
        horizon: how many steps of each series are forecast.
        confidence: the prediction interval's level.
        id_types: the model's id column types.
    """
    forecasts = forecast_table(spec, arrays, horizon, confidence, id_types)
    if not has_regressors(spec):
        return forecasts
    columns = series_columns(data, spec["options"], source=SOURCE)
    given = set(zip(*(data.column(name).to_pylist() for name in columns.ids), microseconds(data.column(columns.timestamp))))
    wanted = zip(*(forecasts.column(name).to_pylist() for name in spec["time_series"]["id_cols"]), microseconds(forecasts.column("forecast_timestamp")))
    covered = forecasts.filter(pa.array([key in given for key in wanted], pa.bool_()))
    return add_regression(spec, arrays, covered, data)


def matched_series(spec: dict, forecasts: pa.Table, data: pa.Table) -> tuple[list[MatchedSeries], SeriesColumns]:
    """The input's series (each in time order) with the forecasts at their timestamps; and the
    input's columns.

    Args:
        spec: the model's description (its ``options`` and ``time_series`` parts).
        forecasts: ML.FORECAST's rows (:func:`model_forecasts`).
        data: the evaluation rows.

    Raises:
        InvalidModelInputError: the input lacks the model's timestamp, data or id column, or one
            has a type the model cannot read.
    """
    columns = series_columns(data, spec["options"], source=SOURCE)
    _check_id_types(columns, spec["time_series"]["id_types"])
    fitted = {tuple(item["id"]) for item in spec["time_series"]["series"] if item["error"] is None}
    points = _forecast_points(spec["time_series"]["id_cols"], forecasts)
    matched = []
    for raw in map(_in_time_order, split_series(data, columns, training=False)):
        stamps = raw.timestamps.as_unit("us").asi8
        found = [points.get((*raw.key, int(stamp)), (np.nan, np.nan, np.nan)) for stamp in stamps]
        value, lower, upper = np.array(found, dtype=np.float64).reshape(len(stamps), 3).T
        matched.append(MatchedSeries(raw, value, lower, upper, raw.key in fitted))
    return matched, columns


def _check_id_types(columns: SeriesColumns, trained: list[str]) -> None:
    # BigQuery coerces the input's columns implicitly, and no STRING becomes an INT64 (or back):
    # such an id would match no series, silently.
    for name, kind, text in zip(columns.ids, columns.id_types, trained):
        if pa.types.is_integer(kind) != text.startswith(("int", "uint")):
            raise InvalidModelInputError(
                f"The column {name} (time_series_id_col) of the {SOURCE} is {kind}; the model was trained with {text}.",
                column=name,
                hint=f"CAST {name} to the training type in the {SOURCE}.",
            )


def _in_time_order(raw: RawSeries) -> RawSeries:
    order = np.argsort(raw.timestamps.asi8, kind="stable")
    return RawSeries(raw.key, raw.timestamps[order], raw.values[order])


def _forecast_points(id_cols: list[str], forecasts: pa.Table) -> dict[tuple, tuple[float, float, float]]:
    """(id values…, timestamp in µs) → (forecast, interval lower bound, upper bound)."""
    keys = zip(*(forecasts.column(name).to_pylist() for name in id_cols), forecasts.column("forecast_timestamp").cast(pa.int64()).to_pylist())
    values = zip(*(forecasts.column(name).to_pylist() for name in
                   ("forecast_value", "prediction_interval_lower_bound", "prediction_interval_upper_bound")))  # fmt: skip
    return dict(zip(keys, values))


def aggregated_table(matched: list[MatchedSeries], id_names: list[str], id_types: list[pa.DataType], histories: dict[tuple, np.ndarray]) -> pa.Table:
    """One row per input series the model knows (NULL metrics when no input row falls on a
    forecast): its id columns, then :data:`METRIC_NAMES`.

    Args:
        matched: the input's series with their forecasts.
        id_names: the id columns' names.
        id_types: their Arrow types (the model's).
        histories: series id → its training values (for MASE); series missing get NULL MASE.
    """
    rows = []
    for item in matched:
        if not item.known or not len(item.raw.values):
            continue
        keep = ~np.isnan(item.forecast) & ~np.isnan(item.raw.values)
        history = histories.get(item.raw.key)
        scale = naive_scale(history) if history is not None else None
        rows.append((item.raw.key, forecast_errors(item.raw.values[keep], item.forecast[keep], scale)))
    columns = {name: pa.array([key[i] for key, _ in rows], kind) for i, (name, kind) in enumerate(zip(id_names, id_types))}
    columns.update({name: pa.array([metrics[name] for _, metrics in rows], pa.float64()) for name in METRIC_NAMES})
    return pa.table(columns)


def per_point_table(matched: list[MatchedSeries], columns: SeriesColumns) -> pa.Table:
    """Every input row (by series, then time): id columns, timestamp, actual value, forecast,
    bounds, absolute error and absolute percentage error."""
    if matched:
        actual = np.concatenate([item.raw.values for item in matched])
        forecast, lower, upper = (np.concatenate([getattr(item, name) for item in matched]) for name in ("forecast", "lower", "upper"))
        stamps = np.concatenate([item.raw.timestamps.as_unit("us").asi8 for item in matched])
    else:
        actual = forecast = lower = upper = stamps = np.empty(0)
    error = np.abs(actual - forecast)
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = np.where(actual != 0, 100 * error / np.abs(actual), np.nan)
    table = {name: pa.array([item.raw.key[i] for item in matched for _ in item.raw.values], kind)
             for i, (name, kind) in enumerate(zip(columns.ids, columns.id_types))}  # fmt: skip
    table[columns.timestamp] = pa.array(stamps.astype(np.int64), pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    for name, values in ((columns.data, actual), (f"forecasted_{columns.data}", forecast), ("lower_bound", lower),
                         ("upper_bound", upper), ("absolute_error", error), ("absolute_percentage_error", percent)):  # fmt: skip
        table[name] = pa.array(values, pa.float64(), from_pandas=True)
    return pa.table(table)


def training_histories(spec: dict, arrays: dict[str, np.ndarray]) -> dict[tuple, np.ndarray]:
    """Series id → the regular series it was trained on (:mod:`sqlml.ml.forecasting.history`;
    an ARIMA_PLUS_XREG model's with its regression part put back), MASE's scale; empty for a
    model that kept no history (``decompose_time_series=FALSE``)."""
    if not has_history(spec):
        return {}
    histories = {}
    for index, item in enumerate(spec["time_series"]["series"]):
        if item["error"] is None:
            history = series_history(spec, arrays, index)
            histories[tuple(item["id"])] = history.data + history_regression_total(spec, arrays, index, history.timestamps)
    return histories

