"""Explanation batches: a model's input rows (Arrow) to ML.EXPLAIN_PREDICT's rows — for the SQL
function and the server alike.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-explain-predict —
``predicted_<label>``, ``probability`` (classifiers: of the predicted class),
``top_feature_attributions`` ARRAY<STRUCT<feature, attribution>> (the ``top_k_features`` largest by
absolute value, default 5), ``baseline_prediction_value``, ``prediction_value``,
``approximation_error`` (0: the methods are exact, :mod:`sqlml.ml.runtime.attribution`), then the
input columns.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from sqlml.ml.models.base import Target
from sqlml.ml.models.estimator import Estimator
from sqlml.ml.models.model import Model
from sqlml.ml.runtime.attribution import explain

DEFAULT_TOP_K = 5
_ATTRIBUTION = pa.struct([pa.field("feature", pa.string()), pa.field("attribution", pa.float64())])


def explanation_reader(
    model: Model,
    reader: pa.RecordBatchReader,
    threshold: float | None = None,
    top_k: int = DEFAULT_TOP_K,
    estimator: Estimator | None = None,
) -> pa.RecordBatchReader:
    """ML.EXPLAIN_PREDICT's rows for the rows of ``reader``, batch by batch, explained by
    ``estimator`` (the model's serving one by default)."""
    estimator = estimator or model.estimator
    classifier = model.target is Target.CLASSIFICATION
    label = model.label["name"]
    outputs = [pa.field(f"predicted_{label}", model.label_type() if classifier else pa.float64())]
    if classifier:
        outputs.append(pa.field("probability", pa.float64()))
    outputs += [
        pa.field("top_feature_attributions", pa.list_(_ATTRIBUTION)), pa.field("baseline_prediction_value", pa.float64()),
        pa.field("prediction_value", pa.float64()), pa.field("approximation_error", pa.float64()),
    ]  # fmt: skip
    schema = pa.schema(outputs + list(reader.schema))

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            if batch.num_rows:
                yield pa.RecordBatch.from_arrays(_explained(model, estimator, batch, threshold, top_k) + list(batch.columns), schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def explanation_table(model: Model, batch: pa.RecordBatch, top_k: int = DEFAULT_TOP_K) -> pa.Table:
    """ML.EXPLAIN_PREDICT's rows for one batch held in memory (a served request)."""
    return explanation_reader(model, pa.RecordBatchReader.from_batches(batch.schema, [batch]), None, top_k).read_all()


def _explained(model: Model, estimator: Estimator, batch: pa.RecordBatch, threshold: float | None, top_k: int) -> list[pa.Array]:
    rows = batch.num_rows
    result = explain(model, estimator, model.features(batch, sparse=False), threshold)  # attributions are dense
    columns = []
    if result.predicted is not None:
        columns.append(model.classes().take(pa.array(result.predicted)))
        columns.append(pa.array(result.probabilities[np.arange(rows), result.predicted], pa.float64()))
    else:
        columns.append(pa.array(result.value, pa.float64()))
    columns.append(top_attributions(result.inputs, result.attributions, top_k))
    columns += [pa.array(result.baseline, pa.float64()), pa.array(result.value, pa.float64()), pa.array(np.zeros(rows), pa.float64())]
    return columns


def top_attributions(inputs: list[str], attributions: np.ndarray, top_k: int) -> pa.ListArray:
    """Each row's ``top_k`` attributions by absolute value, largest first, as ARRAY<STRUCT>."""
    rows, width = attributions.shape
    k = min(top_k, width)
    order = np.argsort(-np.abs(attributions), axis=1, kind="stable")[:, :k]
    names = pa.array(inputs, pa.string()).take(pa.array(order.reshape(-1)))
    values = pa.array(np.take_along_axis(attributions, order, axis=1).reshape(-1), pa.float64())
    entries = pa.StructArray.from_arrays([names, values], fields=list(_ATTRIBUTION))
    return pa.ListArray.from_arrays(pa.array(np.arange(0, rows * k + 1, k, dtype=np.int32)), entries)
