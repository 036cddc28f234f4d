"""ML.FORECAST: the forecasts of a time-series model (ARIMA_PLUS).

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-forecast —
``ML.FORECAST(MODEL m [, STRUCT(h AS horizon, c AS confidence_level)])``: ``horizon`` defaults to
3 and may not exceed the model's ``horizon`` option; ``confidence_level`` defaults to 0.95 and
lies in [0, 1). The id columns come first with their training types.
"""

from __future__ import annotations

import pyarrow as pa

from sqlml.errors import InvalidOptionError
from sqlml.ml.functions.call import Call, function
from sqlml.ml.models.model import arrow_type_from_string

#: ML.FORECAST's defaults.
DEFAULT_HORIZON = 3
DEFAULT_CONFIDENCE = 0.95


@function("FORECAST")
def forecast(call: Call) -> pa.Table:
    """``ML.FORECAST(MODEL m [, STRUCT(horizon, confidence_level)])``: one row per series and step."""
    from sqlml.ml.forecasting.forecast import forecast_table

    model = call.require("ARIMA_PLUS")
    settings = call.settings({"horizon": int, "confidence_level": float})
    horizon = settings.get("horizon", DEFAULT_HORIZON)
    limit = model.options["horizon"]
    if not 1 <= horizon <= limit:
        raise InvalidOptionError(
            f"ML.FORECAST's horizon must be between 1 and the model's horizon ({limit}). Got {horizon} instead.",
            option="horizon",
            hint="Ask for fewer steps, or train the model with a larger horizon option.",
        )
    confidence = settings.get("confidence_level", DEFAULT_CONFIDENCE)
    if not 0 <= confidence < 1:
        raise InvalidOptionError(
            f"ML.FORECAST's confidence_level must be in [0, 1). Got {confidence} instead.", option="confidence_level"
        )
    id_types = [arrow_type_from_string(text) for text in model.spec["time_series"]["id_types"]]
    return forecast_table(model.spec, model.arrays, horizon, confidence, id_types)
