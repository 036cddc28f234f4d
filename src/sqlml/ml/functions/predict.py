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
from sqlml.ml.models.model import Model
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.prediction_columns import output_schema, prediction_columns

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
        from sqlml.ml.models.imported_files import imported_reader

        return imported_reader(model, call.data(0).reader())
    threshold = settings.get("threshold")
    check_threshold(model, threshold, call.name)
    estimator = model.estimator_for(settings.get("trial_id"))
    reader = call.data(0).reader()
    model.check_input(reader.schema)
    return prediction_reader(model, reader, threshold, settings.get("keep_original_columns", False), estimator)


def passed_through(model: Model, schema: pa.Schema, keep_original_columns: bool = False) -> list[int]:
    """Positions of the input columns ML.PREDICT appends after the model's outputs: all of them,
    except that a PCA model keeps its feature columns only with ``keep_original_columns``.

    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-predict — the
    CREATE MODEL PCA page trains a classifier on ``SELECT * FROM ML.PREDICT(MODEL iris_pca, (SELECT
    <features>, species …))`` with ``input_label_cols=['species']``: columns that are not features
    pass through (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-pca).
    """
    if model.model_type is not ModelType.PCA or keep_original_columns:
        return list(range(len(schema)))
    features = {name.lower() for name in model.required_columns()}

    def is_feature(field: pa.Field) -> bool:
        name = field.name.lower()
        return name in features or (pa.types.is_struct(field.type) and any(f.startswith(f"{name}_") for f in features))

    return [index for index, field in enumerate(schema) if not is_feature(field)]


def prediction_reader(model: Model, reader: pa.RecordBatchReader, threshold=None, keep_original_columns=False, estimator=None) -> pa.RecordBatchReader:
    """A reader of ML.PREDICT's rows for the rows of ``reader``."""
    kept = passed_through(model, reader.schema, keep_original_columns)
    schema = pa.schema(list(output_schema(model)) + [reader.schema.field(i) for i in kept])

    def batches():
        for batch, raw in scored_batches(model, reader, estimator):
            yield _predicted(model, batch, raw, threshold, kept, schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def prediction_batch(model: Model, batch: pa.RecordBatch, estimator=None) -> pa.RecordBatch:
    """ML.PREDICT's rows for one batch held in memory (a served request): no reader around it."""
    model.check_input(batch.schema)
    kept = passed_through(model, batch.schema)  # as ML.PREDICT without keep_original_columns
    schema = pa.schema(list(output_schema(model)) + [batch.schema.field(i) for i in kept])
    return _predicted(model, batch, score(model, batch, estimator), None, kept, schema)


def _predicted(model: Model, batch: pa.RecordBatch, raw: np.ndarray, threshold, kept: list[int], schema: pa.Schema) -> pa.RecordBatch:
    """Model output columns for ``raw``, then the kept input columns."""
    if batch.num_rows:
        columns = prediction_columns(model, raw, threshold)
    else:
        columns = [pa.array([], field.type) for field in output_schema(model)]
    columns += [batch.column(i) for i in kept]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


@function("TRANSFORM")
def transform(call: Call) -> pa.RecordBatchReader:
    """``ML.TRANSFORM(MODEL m, data)``: the TRANSFORM clause's feature columns, then the input's columns.

    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-transform — the
    page's example (TRANSFORM(species, island, ML.MAX_ABS_SCALER(culmen_length_mm) OVER () AS
    culmen_length_mm, …, sex, body_mass_g) over the penguins table) returns species, island,
    culmen_length_mm, flipper_length_mm, sex, culmen_depth_mm, body_mass_g: the features, then the
    input columns they do not replace (the label among them), in the input's order.
    """
    from sqlml.errors import ModelError
    from sqlml.ml.training.transform import apply_transform

    model = call.model
    if not model.spec.get("transform"):
        raise ModelError(
            f"ML.TRANSFORM needs a model created with a TRANSFORM clause; {call.record.dataset}.{call.record.name} has none.",
            model=str(call.ref),
        )
    reader = call.data(0).reader()
    model.check_input(reader.schema)

    def transformed(batch: pa.RecordBatch) -> pa.Table:
        features = apply_transform(model, batch)
        taken = {name.lower() for name in features.column_names}
        for index, field in enumerate(batch.schema):
            if field.name.lower() not in taken:
                features = features.append_column(field, pa.chunked_array([batch.column(index)], field.type))
        return features

    # the first batch's output fixes the schema (an empty one stands in for an empty input)
    batches = iter(reader)
    first = transformed(next(batches, None) or pa.RecordBatch.from_pylist([], schema=reader.schema))

    def rest():
        yield from first.to_batches()
        for batch in batches:
            yield from transformed(batch).cast(first.schema).to_batches()

    return pa.RecordBatchReader.from_batches(first.schema, rest())
