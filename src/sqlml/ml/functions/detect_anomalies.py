"""ML.DETECT_ANOMALIES: points of a series that its model finds improbable.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-detect-anomalies —
for ARIMA_PLUS and ARIMA_PLUS_XREG models, ``ML.DETECT_ANOMALIES(MODEL m [, STRUCT(t AS anomaly_prob_threshold)]
[, {TABLE t | (query)}])``: ``anomaly_prob_threshold`` is in [0, 1), 0.95 by default; without
data the training history is examined, with data the new points. The function is organised by
what the model learns (:data:`DETECTORS`), since K-means, PCA and autoencoder models take the
same name with other settings (``contamination``) and other columns.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from sqlml.errors import InvalidOptionError
from sqlml.ml.functions.call import Call, function
from sqlml.ml.models.base import Target
from sqlml.ml.models.model import Model
from sqlml.ml.runtime.forecast import series_id_types

#: ``anomaly_prob_threshold``'s default.
DEFAULT_THRESHOLD = 0.95


@function("DETECT_ANOMALIES")
def detect_anomalies(call: Call) -> pa.Table:
    """``ML.DETECT_ANOMALIES(MODEL m [, STRUCT(…)] [, data])``: one row per point examined.

    Raises:
        ModelError: the model's type does not detect anomalies.
    """
    model = call.require()
    return DETECTORS[model.target](call, model)


def time_series_anomalies(call: Call, model: Model) -> pa.Table:
    """The forecasting models' form: the training history, or the new data's points.

    Raises:
        InvalidOptionError: ``anomaly_prob_threshold`` is outside [0, 1).
        ModelError: without data, the model kept no history (``decompose_time_series=FALSE``).
        InvalidModelInputError: the new data lacks a model column or has it with another type.
    """
    from sqlml.ml.forecasting.anomalies import detect_history, detect_new
    from sqlml.ml.forecasting.history import has_history

    threshold = call.settings({"anomaly_prob_threshold": float}).get("anomaly_prob_threshold", DEFAULT_THRESHOLD)
    if not 0 <= threshold < 1:
        raise InvalidOptionError(
            f"ML.DETECT_ANOMALIES's anomaly_prob_threshold must be in [0, 1). Got {threshold} instead.",
            option="anomaly_prob_threshold",
            hint="Pass a probability such as STRUCT(0.95 AS anomaly_prob_threshold).",
        )
    id_types = series_id_types(model.spec)
    data = call.data(0, required=False)
    if data is not None:
        return detect_new(model.spec, model.arrays, data.table(), threshold, id_types)
    if not has_history(model.spec):  # reference §4.16: the history form needs DECOMPOSE_TIME_SERIES=TRUE
        raise call.trained_without(
            "decompose_time_series=TRUE, which keeps the training history",
            hint="Pass the points to examine as data, ML.DETECT_ANOMALIES(MODEL m, STRUCT(…), TABLE t), "
            "or retrain the model with decompose_time_series=TRUE (the default).",
        )
    return detect_history(model.spec, model.arrays, threshold, id_types)


#: Each model target's form of the function; the model types whose family lists DETECT_ANOMALIES
#: (checked by :meth:`Call.require`) all have one.
DETECTORS: dict[Target, Callable[[Call, Model], pa.Table]] = {Target.FORECASTING: time_series_anomalies}
