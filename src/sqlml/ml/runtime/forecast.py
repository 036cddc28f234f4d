"""Forecasts of a stored ARIMA_PLUS model outside SQL: what ``sqlml serve``'s ``:forecast`` answers.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-forecast —
the same rows as ML.FORECAST (:func:`sqlml.ml.forecasting.forecast.forecast_table`), with its
defaults (3 steps, 0.95) and its limit (at most the model's ``horizon`` option).
"""

from __future__ import annotations

import pyarrow as pa

from sqlml.errors import InvalidOptionError, ModelError
from sqlml.ml.models.base import Target
from sqlml.ml.models.model import Model, arrow_type_from_string

#: ML.FORECAST's default number of steps.
DEFAULT_HORIZON = 3


def forecast_rows(model: Model, name: str, horizon: int | None, confidence: float) -> pa.Table:
    """ML.FORECAST's table: each series' next ``horizon`` steps (default 3) at ``confidence``.

    Args:
        model: the loaded model.
        name: how the caller named it, for messages.
        horizon: steps per series, or None for ML.FORECAST's default.
        confidence: the prediction interval's level, in [0, 1).

    Raises:
        ModelError: the model is not an ARIMA_PLUS model (ARIMA_PLUS_XREG needs future regressors).
        InvalidOptionError: ``horizon`` is outside [1, the model's ``horizon`` option].
    """
    from sqlml.ml.forecasting.forecast import forecast_table

    if model.model_type != "ARIMA_PLUS":
        hint = ("Forecast it with ML.FORECAST(MODEL m, STRUCT(…), (SELECT <future regressors> …)) in SQL."
                if model.target is Target.FORECASTING else "Ask :predict of it.")  # fmt: skip
        raise ModelError(f"{name} is a {model.model_type} model; :forecast serves ARIMA_PLUS models.", model=name, hint=hint)
    horizon = DEFAULT_HORIZON if horizon is None else horizon
    limit = model.options["horizon"]
    if not 1 <= horizon <= limit:
        raise InvalidOptionError(
            f"The horizon must be between 1 and the model's horizon ({limit}). Got {horizon} instead.",
            option="horizon", hint="Ask for fewer steps, or train the model with a larger horizon option.",
        )  # fmt: skip
    id_types = [arrow_type_from_string(text) for text in model.spec["time_series"]["id_types"]]
    return forecast_table(model.spec, model.arrays, horizon, confidence, id_types)
