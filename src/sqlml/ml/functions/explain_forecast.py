"""ML.EXPLAIN_FORECAST: a forecasting model's history and forecast split into its components.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-explain-forecast —
``ML.EXPLAIN_FORECAST(MODEL m [, STRUCT(h AS horizon, c AS confidence_level)])``: ``horizon``
defaults to 3 and may not exceed the model's ``horizon`` option, ``confidence_level`` defaults to
0.95 and lies in [0, 1) (ML.FORECAST's rules). It "only works on ARIMA_PLUS models with the
training option decompose_time_series enabled". The rows are built by
:func:`sqlml.ml.forecasting.explain.explain_table`.
"""

from __future__ import annotations

import pyarrow as pa

from sqlml.errors import InvalidOptionError, UnsupportedStatementError
from sqlml.ml.functions.call import Call, function
from sqlml.ml.functions.forecast import DEFAULT_CONFIDENCE, DEFAULT_HORIZON
from sqlml.ml.models.model import arrow_type_from_string


@function("EXPLAIN_FORECAST")
def explain_forecast(call: Call) -> pa.Table:
    """``ML.EXPLAIN_FORECAST(MODEL m [, STRUCT(horizon, confidence_level)])``: history and forecast
    rows per series."""
    from sqlml.ml.forecasting.explain import explain_table
    from sqlml.ml.forecasting.history import has_history
    from sqlml.ml.forecasting.regressors import has_regressors

    model = call.require()
    horizon, confidence = forecast_settings(call, model.options["horizon"])
    if has_regressors(model.spec):
        raise UnsupportedStatementError(
            f"{call.name} of an ARIMA_PLUS_XREG model (with its attribution_<regressor> columns) is not supported by sqlml yet.",
            hint="Use ML.FORECAST with the future regressors instead.",
        )
    if not has_history(model.spec):
        raise call.trained_without(
            "decompose_time_series=TRUE", hint="Re-create the model without decompose_time_series=FALSE (TRUE is the default)."
        )
    id_types = [arrow_type_from_string(text) for text in model.spec["time_series"]["id_types"]]
    return explain_table(model.spec, model.arrays, horizon, confidence, id_types)


def forecast_settings(call: Call, limit: int) -> tuple[int, float]:
    """The ``horizon`` and ``confidence_level`` of a forecasting call, with ML.FORECAST's defaults.

    Args:
        call: the call.
        limit: the model's ``horizon`` option (the largest horizon it forecasts).

    Raises:
        InvalidOptionError: a horizon outside [1, limit] or a confidence level outside [0, 1).
    """
    settings = call.settings({"horizon": int, "confidence_level": float})
    horizon = settings.get("horizon", DEFAULT_HORIZON)
    if not 1 <= horizon <= limit:
        raise InvalidOptionError(
            f"{call.name}'s horizon must be between 1 and the model's horizon ({limit}). Got {horizon} instead.",
            option="horizon",
            hint="Ask for fewer steps, or train the model with a larger horizon option.",
        )
    confidence = settings.get("confidence_level", DEFAULT_CONFIDENCE)
    if not 0 <= confidence < 1:
        raise InvalidOptionError(f"{call.name}'s confidence_level must be in [0, 1). Got {confidence} instead.", option="confidence_level")
    return horizon, confidence
