"""ML.PREDICT: stream input batches through the model, model outputs first, inputs after.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-predict

The input query is read as Arrow record batches (at most 122,880 rows each) on its own cursor
and each batch is scored as it arrives, so memory stays bounded whatever the table's size.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from sqlml.errors import InvalidOptionError
from sqlml.ml.functions import function
from sqlml.ml.functions.call import Call
from sqlml.ml.model import Model
from sqlml.ml.modeltypes import ModelType
from sqlml.ml.outputs import output_schema, prediction_columns

PREDICTABLE = (
    ModelType.LINEAR_REG,
    ModelType.LOGISTIC_REG,
    ModelType.BOOSTED_TREE_CLASSIFIER,
    ModelType.BOOSTED_TREE_REGRESSOR,
    ModelType.RANDOM_FOREST_CLASSIFIER,
    ModelType.RANDOM_FOREST_REGRESSOR,
    ModelType.KMEANS,
    ModelType.PCA,
    ModelType.ONNX,
    ModelType.LIGHTGBM,
)


def check_threshold(model: Model, threshold: float | None, name: str) -> None:
    """``threshold`` applies to binary classifiers only, and must lie in [0, 1]."""
    if threshold is None:
        return
    if not (model.model_type.is_classifier and len(model.label["classes"]) == 2):
        raise InvalidOptionError(f"The threshold setting of {name} applies only to binary classification models.", option="threshold")
    if not 0.0 <= threshold <= 1.0:
        raise InvalidOptionError(f"threshold must be in [0, 1]; got {threshold}.", option="threshold")


def score(model: Model, batch: pa.RecordBatch, estimator=None) -> np.ndarray:
    """The raw outputs of ``estimator`` (the model's serving one by default) for a batch of rows."""
    if batch.num_rows == 0:
        width = len(model.label["classes"]) if model.model_type.is_classifier else 0
        return np.empty((0, width)) if width else np.empty(0)
    return (estimator or model.estimator).predict(model.features(batch))


def scored_batches(model: Model, reader: pa.RecordBatchReader, estimator=None) -> Iterator[tuple[pa.RecordBatch, np.ndarray]]:
    """Each input batch with its raw model outputs."""
    model.check_input(reader.schema)
    for batch in reader:
        yield batch, score(model, batch, estimator)


@function("PREDICT")
def predict(call: Call) -> pa.RecordBatchReader:
    """``ML.PREDICT(MODEL m, {TABLE t | (query)} [, STRUCT(threshold, keep_original_columns, trial_id)])``."""
    model = call.require(*PREDICTABLE, what="a trained or imported model")
    settings = call.settings({"threshold": float, "keep_original_columns": bool, "trial_id": int})
    if model.model_type.is_imported:
        from sqlml.ml.imported import imported_reader

        return imported_reader(model, call.data(0).reader())
    threshold = settings.get("threshold")
    check_threshold(model, threshold, call.name)
    keep_inputs = model.model_type is not ModelType.PCA or settings.get("keep_original_columns", False)
    estimator = model.estimator_for(settings.get("trial_id"))
    reader = call.data(0).reader()
    model.check_input(reader.schema)
    return prediction_reader(model, reader, threshold, keep_inputs, estimator)


def prediction_reader(model: Model, reader: pa.RecordBatchReader, threshold=None, keep_inputs=True, estimator=None) -> pa.RecordBatchReader:
    """A reader of ML.PREDICT's rows for the rows of ``reader``."""
    outputs = output_schema(model)
    inputs = list(reader.schema) if keep_inputs else []
    schema = pa.schema(list(outputs) + inputs)

    def batches():
        for batch, raw in scored_batches(model, reader, estimator):
            yield _predicted(model, batch, raw, threshold, keep_inputs, schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def prediction_batch(model: Model, batch: pa.RecordBatch, estimator=None) -> pa.RecordBatch:
    """ML.PREDICT's rows for one batch held in memory (a served request): no reader around it."""
    model.check_input(batch.schema)
    keep_inputs = model.model_type is not ModelType.PCA  # as ML.PREDICT without keep_original_columns
    schema = pa.schema(list(output_schema(model)) + (list(batch.schema) if keep_inputs else []))
    return _predicted(model, batch, score(model, batch, estimator), None, keep_inputs, schema)


def _predicted(model: Model, batch: pa.RecordBatch, raw: np.ndarray, threshold, keep_inputs: bool, schema: pa.Schema) -> pa.RecordBatch:
    """Model output columns for ``raw``, then (if kept) the input columns."""
    if batch.num_rows:
        columns = prediction_columns(model, raw, threshold)
    else:
        columns = [pa.array([], field.type) for field in output_schema(model)]
    if keep_inputs:
        columns += list(batch.columns)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


@function("TRANSFORM")
def transform(call: Call) -> pa.RecordBatchReader:
    """``ML.TRANSFORM(MODEL m, data)``: the TRANSFORM clause's output columns for the input rows."""
    from sqlml.errors import ModelError
    from sqlml.ml.transform import apply_transform

    model = call.model
    spec = model.spec.get("transform")
    if not spec:
        raise ModelError(
            f"ML.TRANSFORM needs a model created with a TRANSFORM clause; {call.record.dataset}.{call.record.name} has none.",
            model=str(call.ref),
        )
    reader = call.data(0).reader()
    model.check_input(reader.schema)
    names = {name.lower() for name in reader.schema.names}
    complete = all(column in names for column in spec.get("passthrough", []))
    first = next(iter(reader), None)
    batches = [] if first is None else [first]

    def transformed():
        for batch in [*batches, *reader]:
            yield from apply_transform(model, batch, features_only=not complete).to_batches()

    sample = apply_transform(model, first if first is not None else pa.Table.from_batches([], reader.schema).slice(0, 0), features_only=not complete)
    return pa.RecordBatchReader.from_batches(sample.schema, transformed())
