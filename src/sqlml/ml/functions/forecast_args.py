"""The arguments every forecasting call shares: ``STRUCT(horizon, confidence_level)`` and the table
of future regressors an ARIMA_PLUS_XREG model needs.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-forecast,
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-explain-forecast —
``horizon`` defaults to 3 and may not exceed the model's ``horizon`` option; ``confidence_level``
defaults to 0.95 and lies in [0, 1); the table is required for ARIMA_PLUS_XREG models (and there
is nothing to use it for in an ARIMA_PLUS model).
"""

from __future__ import annotations

import pyarrow as pa

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.functions.call import Call
from sqlml.ml.runtime.forecast import DEFAULT_CONFIDENCE, DEFAULT_HORIZON, check_horizon


def forecast_settings(call: Call, limit: int) -> tuple[int, float]:
    """The call's ``horizon`` and ``confidence_level``, defaults filled in.

    Args:
        call: the call.
        limit: the model's ``horizon`` option (the most steps it forecasts).

    Raises:
        InvalidOptionError: a horizon outside [1, limit] or a confidence level outside [0, 1).
    """
    settings = call.settings({"horizon": int, "confidence_level": float})
    horizon = settings.get("horizon", DEFAULT_HORIZON)
    check_horizon(horizon, limit, f"{call.name}'s horizon")
    confidence = settings.get("confidence_level", DEFAULT_CONFIDENCE)
    if not 0 <= confidence < 1:
        raise InvalidOptionError(f"{call.name}'s confidence_level must be in [0, 1). Got {confidence} instead.", option="confidence_level")
    return horizon, confidence


def future_regressors(call: Call, needed: bool) -> pa.Table | None:
    """The rows of future regressors, when the model has regressors (``needed``).

    Raises:
        InvalidModelInputError: the rows are missing for a model with regressors, or given to one
            without.
    """
    data = call.data(0, required=False)
    name = f"{call.record.dataset}.{call.record.name}"
    if needed and data is None:
        raise InvalidModelInputError(
            f"{call.name} of the ARIMA_PLUS_XREG model {name} needs the future values of its external regressors.",
            hint=f"Pass them after the STRUCT: {call.name}(MODEL {name}, STRUCT(…), (SELECT <timestamp>, <regressors> FROM …)).",
        )
    if not needed and data is not None:
        raise InvalidModelInputError(
            f"{call.name} of {name} takes no input data: the model has no external regressors.",
            hint=f"Call {call.name}(MODEL {name}, STRUCT(…)) without the table or query.",
        )
    return None if data is None else data.table()
