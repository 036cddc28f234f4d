"""Forecasts of a stored forecasting model outside SQL: what ``sqlml serve``'s ``:forecast`` answers.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-forecast —
the same rows as ML.FORECAST (:func:`sqlml.ml.forecasting.forecast.forecast_table`), with its
defaults (3 steps, 0.95) and its limit (at most the model's ``horizon`` option). An
ARIMA_PLUS_XREG model takes its regressors' future values as JSON rows (timestamps as ISO text),
as ML.FORECAST takes them as a table (:func:`sqlml.ml.forecasting.regressors.add_regression`).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from sqlml.errors import InvalidModelInputError, InvalidOptionError, ModelError
from sqlml.ml.models.base import Target
from sqlml.ml.models.model import Model, arrow_type_from_string

#: ML.FORECAST's defaults of ``horizon`` and ``confidence_level``.
DEFAULT_HORIZON = 3
DEFAULT_CONFIDENCE = 0.95


def series_id_types(spec: dict) -> list[pa.DataType]:
    """The Arrow types of a forecasting model's id columns, as training read them."""
    return [arrow_type_from_string(text) for text in spec["time_series"]["id_types"]]


def check_horizon(horizon: int, limit: int, what: str = "The horizon") -> None:
    """Refuse a number of steps outside [1, the model's ``horizon`` option].

    Args:
        horizon: the steps asked for.
        limit: the model's ``horizon`` option.
        what: the setting as the message names it (``ML.FORECAST's horizon``).

    Raises:
        InvalidOptionError: the horizon is out of range; the hint fits the side crossed.
    """
    if not 1 <= horizon <= limit:
        raise InvalidOptionError(
            f"{what} must be between 1 and the model's horizon ({limit}). Got {horizon} instead.",
            option="horizon",
            hint="Ask for at least 1 step." if horizon < 1 else "Ask for fewer steps, or train the model with a larger horizon option.",
        )


def model_forecasts(model: Model, horizon: int, confidence: float, future: pa.Table | None) -> pa.Table:
    """ML.FORECAST's rows of ``model``, with the regression on ``future`` (an ARIMA_PLUS_XREG
    model's future regressors; None for an ARIMA_PLUS model) added."""
    from sqlml.ml.forecasting.forecast import forecast_table
    from sqlml.ml.forecasting.regressors import add_regression

    forecasts = forecast_table(model.spec, model.arrays, horizon, confidence, series_id_types(model.spec))
    return forecasts if future is None else add_regression(model.spec, model.arrays, forecasts, future)


def forecast_rows(model: Model, name: str, horizon: int | None, confidence: float, future: list[dict] | None = None) -> pa.Table:
    """ML.FORECAST's table: each series' next ``horizon`` steps (default 3) at ``confidence``.

    Args:
        model: the loaded model.
        name: how the caller named it, for messages.
        horizon: steps per series, or None for ML.FORECAST's default.
        confidence: the prediction interval's level, in [0, 1).
        future: an ARIMA_PLUS_XREG model's future regressors, one object per series and
            timestamp (the timestamp column as ISO text); None for an ARIMA_PLUS model.

    Raises:
        ModelError: the model is not a forecasting model.
        InvalidOptionError: ``horizon`` is outside [1, the model's ``horizon`` option].
        InvalidModelInputError: ``future`` is missing for an ARIMA_PLUS_XREG model, given for an
            ARIMA_PLUS one, or lacks a column or a forecast timestamp.
    """
    from sqlml.ml.forecasting.regressors import has_regressors

    if model.target is not Target.FORECASTING:
        raise ModelError(f"{name} is a {model.model_type} model; :forecast serves forecasting models (ARIMA_PLUS, ARIMA_PLUS_XREG).",
                         model=name, hint="Ask :predict of it.")  # fmt: skip
    horizon = DEFAULT_HORIZON if horizon is None else horizon
    check_horizon(horizon, model.options["horizon"])
    _check_future(model, name, future, has_regressors(model.spec))
    return model_forecasts(model, horizon, confidence, None if future is None else _future_table(model.spec, future))


def _check_future(model: Model, name: str, future: list[dict] | None, needed: bool) -> None:
    if needed and future is None:
        raise InvalidModelInputError(
            f"{name} is an {model.model_type} model: its forecasts need the future values of its external regressors.",
            hint=f'Send {{"horizon": n, "instances": [{{"{model.spec["time_series"]["timestamp_col"]}": "…", <regressor>: value, …}}, …]}}, '
            "one object per series and forecast timestamp.",
        )
    if future is not None and not needed:
        raise InvalidModelInputError(f"{name} has no external regressors, so its forecasts take no instances.", hint="Leave instances out.")


def _future_table(spec: dict, future: list[dict]) -> pa.Table:
    """The future rows as a table, the timestamp column read from ISO text as UTC instants."""
    frame = pd.DataFrame(future)
    stamp = spec["time_series"]["timestamp_col"]
    for column in frame.columns:
        if column.lower() == stamp.lower():
            frame[column] = _timestamps(frame[column], column)
    return pa.Table.from_pandas(frame, preserve_index=False)


def _timestamps(values: pd.Series, column: str) -> pd.Series:
    """ISO texts as UTC instants to the microsecond (TIMESTAMP's precision)."""
    try:
        if not all(value is None or isinstance(value, str) for value in values):
            raise TypeError("not every value is a text")
        return pd.to_datetime(values, utc=True, format="ISO8601").dt.floor("us")
    except (ValueError, TypeError, OverflowError) as error:
        raise InvalidModelInputError(
            f"The {column} values of the instances are not timestamps: {error}", column=column,
            hint="Write them as ISO text, e.g. \"2024-03-01\" or \"2024-03-01T12:00:00Z\".",
        ) from None  # fmt: skip
