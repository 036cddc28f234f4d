"""ML.RECONSTRUCTION_LOSS: how far a model's reconstruction of each row is from the row.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-reconstruction-loss —
``ML.RECONSTRUCTION_LOSS(MODEL m, {TABLE t | (query)})`` computes "the reconstruction losses
between the input and output data of an autoencoder model": ``mean_absolute_error``,
``mean_squared_error`` and ``mean_squared_log_error`` (FLOAT64). sqlml returns them per row,
over the row's preprocessed features, followed by the input columns (as ML.DETECT_ANOMALIES
does, so that each loss can be told to its row), streamed batch by batch.

The page names autoencoder models only. sqlml also takes PCA models, which reconstruct their
rows the same way (:meth:`~sqlml.ml.models.base.ModelFamily.reconstruct`): a sqlml extension,
declared by the PCA family, with the numbers ML.DETECT_ANOMALIES's ``mean_squared_error`` has.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlml.ml.functions.call import Call, function
from sqlml.ml.models.anomaly import reconstruction_losses
from sqlml.ml.runtime.feature_outputs import feature_outputs_reader

#: The output columns, before the input columns.
LOSS_FIELDS = [pa.field(name, pa.float64()) for name in ("mean_absolute_error", "mean_squared_error", "mean_squared_log_error")]


@function("RECONSTRUCTION_LOSS")
def reconstruction_loss(call: Call) -> pa.RecordBatchReader:
    """``ML.RECONSTRUCTION_LOSS(MODEL m, {TABLE t | (query)})``: three losses per row, then the row.

    Raises:
        ModelError: the model does not reconstruct its input.
        InvalidModelInputError: the data lacks a model column.
    """
    model = call.require()
    call.settings({})
    family, estimator = model.family, model.estimator

    def compute(X: np.ndarray) -> list[pa.Array]:
        losses = reconstruction_losses(X, family.reconstruct(model.model_type, estimator, X))
        return [pa.array(loss, pa.float64()) for loss in losses]

    return feature_outputs_reader(model, call.data(0).reader(), LOSS_FIELDS, compute)
