"""Prediction batches: a model's input rows (Arrow) to ML.PREDICT's rows, model outputs first,
then the input columns — the one code path of ML.PREDICT, ML.EVALUATE and the server.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-predict

Rows are scored batch by batch (a reader of at most 122,880 rows per batch for SQL, one batch
of one or several requests for the server), so memory stays bounded whatever the input's size.
What does not depend on the rows — the check of the input columns, which of them follow the
outputs, the output schema — is a :class:`PredictionPlan`, worked out once per model and input
schema (the server asks for the same one on every request). Imported models (ONNX, LightGBM)
are scored by their family's own reader
(:meth:`~sqlml.ml.models.base.ModelFamily.outputs_reader`), asked here and nowhere else.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sqlml.errors import InvalidOptionError
from sqlml.ml.models.base import Source, Target
from sqlml.ml.models.estimator import Estimator
from sqlml.ml.models.model import Model


def check_threshold(model: Model, threshold: float | None, name: str) -> None:
    """``threshold`` applies to binary classifiers only, and must lie in [0, 1].

    Raises:
        InvalidOptionError: naming the function ``name`` that was given the threshold.
    """
    if threshold is None:
        return
    if not (model.target is Target.CLASSIFICATION and len(model.label["classes"]) == 2):
        raise InvalidOptionError(f"The threshold setting of {name} applies only to binary classification models.", option="threshold")
    if not 0.0 <= threshold <= 1.0:
        raise InvalidOptionError(f"threshold must be in [0, 1]; got {threshold}.", option="threshold")


def prediction_estimator(model: Model, threshold: float | None, trial_id: int | None, name: str) -> Estimator | None:
    """The estimator that scores a prediction (a tuning trial's, or the model's serving one),
    after checking the settings that choose it; None for an imported model, which takes neither.

    Raises:
        InvalidOptionError: a threshold that does not apply, or an unknown trial.
    """
    if model.family.source is Source.FILE:
        return None
    check_threshold(model, threshold, name)
    return model.estimator_for(trial_id)


def score(model: Model, batch: pa.RecordBatch, estimator: Estimator | None = None) -> np.ndarray:
    """The raw outputs of ``estimator`` (the model's serving one by default) for a batch of rows."""
    if batch.num_rows == 0:
        width = len(model.label["classes"]) if model.target is Target.CLASSIFICATION else 0
        return np.empty((0, width)) if width else np.empty(0)
    return (estimator or model.estimator).predict(model.features(batch))


def scored_batches(model: Model, reader: pa.RecordBatchReader, estimator: Estimator | None = None) -> Iterator[tuple[pa.RecordBatch, np.ndarray]]:
    """Each input batch with its raw model outputs (what ML.EVALUATE and ML.EVALUATE_FAIRNESS compare)."""
    model.check_input(reader.schema)
    for batch in reader:
        yield batch, score(model, batch, estimator)


def passed_through(model: Model, schema: pa.Schema, keep_original_columns: bool = False) -> list[int]:
    """Positions of the input columns ML.PREDICT appends after the model's outputs: all of them,
    except that a PCA model keeps its feature columns only with ``keep_original_columns``.

    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-predict — the
    CREATE MODEL PCA page trains a classifier on ``SELECT * FROM ML.PREDICT(MODEL iris_pca, (SELECT
    <features>, species …))`` with ``input_label_cols=['species']``: columns that are not features
    pass through (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-pca).
    """
    if model.family.keeps_input_features or keep_original_columns:
        return list(range(len(schema)))
    features = {name.lower() for name in model.required_columns()}

    def is_feature(field: pa.Field) -> bool:
        name = field.name.lower()
        return name in features or (pa.types.is_struct(field.type) and any(f.startswith(f"{name}_") for f in features))

    return [index for index, field in enumerate(schema) if not is_feature(field)]


@dataclass(frozen=True, eq=False)
class PredictionPlan:
    """ML.PREDICT's output for one model and input schema: the model's output columns, then the
    input columns at ``kept`` (none for :func:`prediction_outputs`)."""

    model: Model
    kept: tuple[int, ...]
    schema: pa.Schema

    def predicted(self, batch: pa.RecordBatch, raw: np.ndarray, threshold: float | None = None) -> pa.RecordBatch:
        """The output rows of ``batch``, whose raw model outputs are ``raw``."""
        family = self.model.family
        if batch.num_rows:
            outputs = family.prediction_columns(self.model, raw, threshold)
        else:
            outputs = [pa.array([], field.type) for field in family.output_schema(self.model)]
        return self.joined(outputs, batch)

    def scored(self, batch: pa.RecordBatch, estimator: Estimator | None = None, threshold: float | None = None) -> pa.RecordBatch:
        """The output rows of ``batch``, scored by ``estimator`` (the model's serving one by default)."""
        return self.predicted(batch, score(self.model, batch, estimator), threshold)

    def joined(self, outputs: list[pa.Array], batch: pa.RecordBatch) -> pa.RecordBatch:
        """The model's ``outputs`` for the rows of ``batch``, then the kept input columns of ``batch``."""
        return pa.RecordBatch.from_arrays([*outputs, *(batch.column(i) for i in self.kept)], schema=self.schema)


@functools.lru_cache(maxsize=256)
def prediction_plan(model: Model, schema: pa.Schema, keep_original_columns: bool = False, inputs: bool = True) -> PredictionPlan:
    """The plan of ML.PREDICT on rows of ``schema`` (remembered: a server asks for it per request);
    with ``inputs=False`` only the model's outputs.

    Raises:
        InvalidModelInputError: the input lacks a column the model was trained on.
    """
    model.check_input(schema)
    kept = tuple(passed_through(model, schema, keep_original_columns)) if inputs else ()
    return PredictionPlan(model, kept, pa.schema(list(model.family.output_schema(model)) + [schema.field(i) for i in kept]))


def prediction_reader(
    model: Model,
    reader: pa.RecordBatchReader,
    threshold: float | None = None,
    keep_original_columns: bool = False,
    estimator: Estimator | None = None,
) -> pa.RecordBatchReader:
    """A reader of ML.PREDICT's rows for the rows of ``reader``, scored as they are read.

    Raises:
        InvalidModelInputError: the input lacks a column the model was trained on.
    """
    direct = model.family.outputs_reader(model, reader)
    if direct is not None:
        return direct
    plan = prediction_plan(model, reader.schema, keep_original_columns)

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            yield plan.scored(batch, estimator, threshold)

    return pa.RecordBatchReader.from_batches(plan.schema, batches())


def prediction_table(model: Model, batch: pa.RecordBatch, estimator: Estimator | None = None) -> pa.Table:
    """ML.PREDICT's rows for one batch held in memory (a served request that echoes its
    inputs), as ML.PREDICT without settings returns them.

    Raises:
        InvalidModelInputError: the batch lacks a column the model was trained on.
    """
    return prediction_reader(model, pa.RecordBatchReader.from_batches(batch.schema, [batch]), estimator=estimator).read_all()


def prediction_outputs(model: Model, batch: pa.RecordBatch, estimator: Estimator | None = None) -> pa.Table:
    """Only the model's output columns of ML.PREDICT's rows for one batch (what the server
    answers unless a request asks for its inputs back).

    Raises:
        InvalidModelInputError: the batch lacks a column the model was trained on.
    """
    if model.family.source is Source.FILE:  # an imported file's reader: its outputs, then every input column
        table = prediction_table(model, batch, estimator)
        return table.select(range(table.num_columns - batch.num_columns))
    return pa.Table.from_batches([prediction_plan(model, batch.schema, inputs=False).scored(batch, estimator)])
