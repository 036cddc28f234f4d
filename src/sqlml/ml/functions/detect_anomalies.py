"""ML.DETECT_ANOMALIES: rows (or points of a series) that their model finds improbable.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-detect-anomalies —
two forms, organised here by what the model learns (:data:`DETECTORS`):

* ARIMA_PLUS and ARIMA_PLUS_XREG: ``ML.DETECT_ANOMALIES(MODEL m [, STRUCT(t AS anomaly_prob_threshold)]
  [, {TABLE t | (query)}])``: ``anomaly_prob_threshold`` is in [0, 1), 0.95 by default; without
  data the training history is examined, with data the new points.
* KMEANS, PCA and AUTOENCODER ("independent and identically distributed" rows):
  ``ML.DETECT_ANOMALIES(MODEL m, STRUCT(c AS contamination), {TABLE t | (query)})``, both
  required; ``contamination`` is "the proportion of anomalies in the training dataset that are
  used to create the model", in [0, 0.5] — a setting of the call, not a CREATE MODEL option (no
  model type's CREATE MODEL page lists one). A row is an anomaly when its score exceeds the
  (1 − contamination) quantile of the training rows' scores (:mod:`sqlml.ml.models.anomaly`).
  K-means returns ``is_anomaly``, ``normalized_distance``, ``centroid_id``; models that
  reconstruct their input (:meth:`~sqlml.ml.models.base.ModelFamily.reconstruct`) return
  ``is_anomaly``, ``mean_squared_error``; the input columns follow, batch by batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sqlml.errors import InvalidOptionError
from sqlml.ml.functions.call import Call, function
from sqlml.ml.models.anomaly import RADII, SCORES, cutoff, normalized_distances, reconstruction_errors
from sqlml.ml.models.base import Target
from sqlml.ml.models.estimator import check_array
from sqlml.ml.models.model import Model
from sqlml.ml.runtime.feature_outputs import feature_outputs_reader
from sqlml.ml.runtime.forecast import series_id_types

if TYPE_CHECKING:
    from sqlml.execution.sources import SqlOutput

#: ``anomaly_prob_threshold``'s default.
DEFAULT_THRESHOLD = 0.95
#: The largest ``contamination`` (the smallest is 0).
MAX_CONTAMINATION = 0.5
#: The k-means form's output columns, before the input columns.
CLUSTER_FIELDS = [pa.field("is_anomaly", pa.bool_()), pa.field("normalized_distance", pa.float64()), pa.field("centroid_id", pa.int64())]
#: The reconstruction form's output columns, before the input columns.
RECONSTRUCTION_FIELDS = [pa.field("is_anomaly", pa.bool_()), pa.field("mean_squared_error", pa.float64())]


@function("DETECT_ANOMALIES")
def detect_anomalies(call: Call) -> pa.Table | pa.RecordBatchReader | SqlOutput:
    """``ML.DETECT_ANOMALIES(MODEL m [, STRUCT(…)] [, data])``: one row per point examined.

    Raises:
        ModelError: the model's type does not detect anomalies.
    """
    model = call.require()
    return DETECTORS[model.target](call, model)


def time_series_anomalies(call: Call, model: Model) -> pa.Table | SqlOutput:
    """The forecasting models' form: the training history, or the new data's points.

    Raises:
        InvalidOptionError: ``anomaly_prob_threshold`` is outside [0, 1).
        ModelError: without data, the model kept no history (``decompose_time_series=FALSE``).
        InvalidModelInputError: the new data lacks a model column or has it with another type.
    """
    from sqlml.ml.forecasting.anomalies import detect_history, detect_new
    from sqlml.ml.forecasting.history import has_history
    from sqlml.ml.functions.distributed_forecasting import anomaly_rows

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
        rows = anomaly_rows(call, model, threshold)  # per series where the data is (Spark)
        return rows if rows is not None else detect_new(model.spec, model.arrays, data.table(), threshold, id_types)
    if not has_history(model.spec):  # reference §4.16: the history form needs DECOMPOSE_TIME_SERIES=TRUE
        raise call.trained_without(
            "decompose_time_series=TRUE, which keeps the training history",
            hint="Pass the points to examine as data, ML.DETECT_ANOMALIES(MODEL m, STRUCT(…), TABLE t), "
            "or retrain the model with decompose_time_series=TRUE (the default).",
        )
    return detect_history(model.spec, model.arrays, threshold, id_types)


def cluster_anomalies(call: Call, model: Model) -> pa.RecordBatchReader:
    """The k-means form: each row's smallest distance to a centroid over that cluster's radius
    (the training members' root mean squared distance), and the centroid (1-based) giving it.

    Raises:
        InvalidOptionError: ``contamination`` is missing or outside [0, 0.5].
        ModelError: the model kept no training scores (trained before this form existed).
        InvalidModelInputError: the data lacks a model column.
    """
    threshold = training_cutoff(call, model, contamination_of(call, model))
    radii = check_array(model.arrays, RADII, (len(model.estimator.centroids_),), str(call.ref))
    estimator = model.estimator

    def compute(X: np.ndarray) -> list[pa.Array]:
        normalized, nearest = normalized_distances(estimator.predict(X), radii)
        return [pa.array(normalized > threshold), pa.array(normalized, pa.float64()), pa.array(nearest + 1, pa.int64())]

    return feature_outputs_reader(model, call.data(0).reader(), CLUSTER_FIELDS, compute)


def reconstruction_anomalies(call: Call, model: Model) -> pa.RecordBatchReader:
    """The form of models that reconstruct their input (PCA, autoencoders): each row's mean
    squared reconstruction error over the preprocessed features.

    Raises:
        InvalidOptionError: ``contamination`` is missing or outside [0, 0.5].
        ModelError: the model kept no training scores (trained before this form existed).
        InvalidModelInputError: the data lacks a model column.
    """
    threshold = training_cutoff(call, model, contamination_of(call, model))
    family, estimator = model.family, model.estimator

    def compute(X: np.ndarray) -> list[pa.Array]:
        errors = reconstruction_errors(X, family.reconstruct(model.model_type, estimator, X))
        return [pa.array(errors > threshold), pa.array(errors, pa.float64())]

    return feature_outputs_reader(model, call.data(0).reader(), RECONSTRUCTION_FIELDS, compute)


def contamination_of(call: Call, model: Model) -> float:
    """The call's ``contamination`` setting, required and in [0, 0.5].

    Raises:
        InvalidOptionError: it is missing, or outside [0, 0.5].
    """
    contamination = call.settings({"contamination": float}).get("contamination")
    if contamination is None:
        raise InvalidOptionError(
            f"ML.DETECT_ANOMALIES of a {model.model_type} model needs the contamination setting: "
            "the share of the training rows that are anomalies, in [0, 0.5].",
            option="contamination",
            hint="Pass it before the data: ML.DETECT_ANOMALIES(MODEL m, STRUCT(0.1 AS contamination), TABLE t).",
        )
    if not 0 <= contamination <= MAX_CONTAMINATION:
        raise InvalidOptionError(
            f"ML.DETECT_ANOMALIES's contamination must be in [0, 0.5]. Got {contamination} instead.",
            option="contamination",
            hint="Pass the share of the training rows that are anomalies, e.g. STRUCT(0.1 AS contamination).",
        )
    return contamination


def training_cutoff(call: Call, model: Model, contamination: float) -> float:
    """The score above which a row is an anomaly, from the training scores the model kept.

    Raises:
        ModelError: the model kept none (trained before ML.DETECT_ANOMALIES took its type).
    """
    summary = model.arrays.get(SCORES)
    if summary is None:
        retrain = "Models created before sqlml detected anomalies with them did not keep them: retrain it with CREATE OR REPLACE MODEL (the same OPTIONS and query)."
        raise call.trained_without("its training rows' anomaly scores kept", hint=retrain)
    return cutoff(check_array(model.arrays, SCORES, (None,), str(call.ref)), contamination)


#: Each model target's form of the function; the model types whose family lists DETECT_ANOMALIES
#: (checked by :meth:`Call.require`) all have one.
DETECTORS: dict[Target, Callable[[Call, Model], pa.Table | pa.RecordBatchReader | SqlOutput]] = {
    Target.FORECASTING: time_series_anomalies,
    Target.CLUSTERING: cluster_anomalies,
    Target.DECOMPOSITION: reconstruction_anomalies,
}
