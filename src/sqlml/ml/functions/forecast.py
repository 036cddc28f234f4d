"""ML.FORECAST: the forecasts of a time-series model (ARIMA_PLUS, ARIMA_PLUS_XREG).

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-forecast —
``ML.FORECAST(MODEL m [, STRUCT(h AS horizon, c AS confidence_level)])``: ``horizon`` defaults to
3 and may not exceed the model's ``horizon`` option; ``confidence_level`` defaults to 0.95 and
lies in [0, 1). The id columns come first with their training types. An ARIMA_PLUS_XREG model
also takes the future values of its regressors, ``{TABLE t | (query)}``, before or after the
STRUCT (the page's syntax and its example disagree on the order; both are BigQuery's).
"""

from __future__ import annotations

import pyarrow as pa

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.functions.call import Call, function
from sqlml.ml.models.model import arrow_type_from_string

#: ML.FORECAST's defaults.
DEFAULT_HORIZON = 3
DEFAULT_CONFIDENCE = 0.95


@function("FORECAST")
def forecast(call: Call) -> pa.Table:
    """``ML.FORECAST(MODEL m [, STRUCT(horizon, confidence_level)] [, future regressors])``: one
    row per series and step."""
    from sqlml.ml.forecasting.forecast import forecast_table
    from sqlml.ml.forecasting.regressors import add_regression, has_regressors

    model = call.require()
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
    future = _future_regressors(call, has_regressors(model.spec))
    id_types = [arrow_type_from_string(text) for text in model.spec["time_series"]["id_types"]]
    forecasts = forecast_table(model.spec, model.arrays, horizon, confidence, id_types)
    return forecasts if future is None else add_regression(model.spec, model.arrays, forecasts, future)


def _future_regressors(call: Call, needed: bool) -> pa.Table | None:
    """The rows of future regressors an ARIMA_PLUS_XREG model needs; a model without regressors
    takes none."""
    data = call.data(0, required=False)
    name = f"{call.record.dataset}.{call.record.name}"
    if needed and data is None:
        raise InvalidModelInputError(
            f"ML.FORECAST of the ARIMA_PLUS_XREG model {name} needs the future values of its external regressors.",
            hint=f"Pass them after the STRUCT: ML.FORECAST(MODEL {name}, STRUCT(…), (SELECT <timestamp>, <regressors> FROM …)).",
        )
    if not needed and data is not None:
        raise InvalidModelInputError(
            f"ML.FORECAST of {name} takes no input data: the model has no external regressors.",
            hint=f"Call ML.FORECAST(MODEL {name}, STRUCT(…)) without the table or query.",
        )
    return None if data is None else data.table()
