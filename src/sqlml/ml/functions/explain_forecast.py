"""ML.EXPLAIN_FORECAST: a forecasting model's history and forecast split into its components.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-explain-forecast —
``ML.EXPLAIN_FORECAST(MODEL m [, STRUCT(h AS horizon, c AS confidence_level)] [, {TABLE t | (query)}])``
with ML.FORECAST's settings (:mod:`sqlml.ml.functions.forecast_args`). It "only works on
ARIMA_PLUS models with the training option decompose_time_series enabled or on ARIMA_PLUS_XREG
models"; the table of future regressors is required for ARIMA_PLUS_XREG. The rows are built by
:func:`sqlml.ml.forecasting.explain.explain_table`.
"""

from __future__ import annotations

import pyarrow as pa

from sqlml.ml.functions.call import Call, function
from sqlml.ml.functions.forecast_args import forecast_settings, future_regressors
from sqlml.ml.runtime.forecast import series_id_types


@function("EXPLAIN_FORECAST")
def explain_forecast(call: Call) -> pa.Table:
    """``ML.EXPLAIN_FORECAST(MODEL m [, STRUCT(horizon, confidence_level)] [, future regressors])``:
    history and forecast rows per series."""
    from sqlml.ml.forecasting.explain import explain_table
    from sqlml.ml.forecasting.history import has_history
    from sqlml.ml.forecasting.regressors import has_regressors

    model = call.require()
    horizon, confidence = forecast_settings(call, model.options["horizon"])
    future = future_regressors(call, has_regressors(model.spec))
    if not has_history(model.spec):
        raise call.trained_without(
            "decompose_time_series=TRUE", hint="Re-create the model without decompose_time_series=FALSE (TRUE is the default)."
        )
    id_types = series_id_types(model.spec)
    return explain_table(model.spec, model.arrays, horizon, confidence, id_types, future)
