"""ML.FORECAST: the forecasts of a time-series model (ARIMA_PLUS, ARIMA_PLUS_XREG).

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-forecast —
``ML.FORECAST(MODEL m [, STRUCT(h AS horizon, c AS confidence_level)])`` (the settings are
:func:`~sqlml.ml.functions.forecast_args.forecast_settings`'s). The id columns come first with
their training types. An ARIMA_PLUS_XREG model also takes the future values of its regressors,
``{TABLE t | (query)}``, before or after the STRUCT (the page's syntax and its example disagree on
the order; both are BigQuery's): the regression on them is added at each forecast timestamp
(:func:`sqlml.ml.forecasting.regressors.add_regression`).
"""

from __future__ import annotations

import pyarrow as pa

from sqlml.ml.functions.call import Call, function
from sqlml.ml.functions.forecast_args import forecast_settings, future_regressors
from sqlml.ml.runtime.forecast import model_forecasts


@function("FORECAST")
def forecast(call: Call) -> pa.Table:
    """``ML.FORECAST(MODEL m [, STRUCT(horizon, confidence_level)] [, future regressors])``: one
    row per series and step."""
    from sqlml.ml.forecasting.regressors import has_regressors

    model = call.require()
    horizon, confidence = forecast_settings(call, model.options["horizon"])
    return model_forecasts(model, horizon, confidence, future_regressors(call, has_regressors(model.spec)))
