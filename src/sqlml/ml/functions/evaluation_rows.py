"""What each labelled input row contributes to ML.EVALUATE, ML.CONFUSION_MATRIX and ML.ROC_CURVE,
computed where the row is (a Spark executor, by :func:`evaluation_batches` in ``mapInArrow``).

The engine then only sums and counts these columns (:mod:`sqlml.ml.functions.distributed_evaluation`),
so the rows never travel to the driver. The per-row terms are NumPy's, as one process computes
them (:mod:`sqlml.ml.models.metrics`): a regressor's errors, absolute, squared and squared log
errors; a classifier's label index, predicted index and log loss, with the score of each class
the ROC and its area read — one row per class for a multiclass model, one (the positive class's)
for a binary one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError
from sqlml.ml.models import metrics
from sqlml.ml.models.base import Target
from sqlml.ml.models.model import Model
from sqlml.ml.models.prediction_columns import predicted_class_index
from sqlml.ml.runtime.predict import score

__all__ = ["evaluation_batches", "evaluation_schema", "label_codes", "label_name", "no_labels_error", "unseen_labels_error"]


def evaluation_schema(model: Model) -> pa.Schema:
    """The columns :func:`evaluation_batches` gives for ``model``'s rows."""
    if model.target is Target.REGRESSION:
        return pa.schema([(name, pa.float64()) for name in ("y", "error", "abs_error", "squared_error", "squared_log_error")])
    return pa.schema([
        ("c", pa.int64()), ("score", pa.float64()), ("row_head", pa.bool_()), ("y", pa.int64()),
        ("unseen", model.label_type()), ("predicted", pa.int64()), ("loss", pa.float64()),
    ])  # fmt: skip


def label_name(schema: pa.Schema, name: str) -> str:
    """The input's name of the label column ``name``, found case-insensitively."""
    for field_name in schema.names:
        if field_name.lower() == name.lower():
            return field_name
    raise InvalidModelInputError(
        f"The evaluation data has no label column {name}.",
        hint=f"Include {name} in the query you evaluate on.",
    )


def label_codes(model: Model, column: pa.Array) -> tuple[pa.Array, pa.Array]:
    """A classifier's labels as class indices (NULL where the model never saw the label), and
    the labels in the classes' type."""
    classes = model.classes()
    if column.type != classes.type:
        column = column.cast(classes.type)
    return pc.index_in(column, value_set=classes), column


def unseen_labels_error(model: Model, unseen: list) -> InvalidModelInputError:
    """The error for labels (a few of them) the model never saw in training."""
    return InvalidModelInputError(
        f"The label column has values the model never saw in training: {unseen}.",
        hint=f"The model knows: {model.label['classes']}.",
    )


def no_labels_error(function: str, name: str) -> InvalidModelInputError:
    """The error of ``function`` for input without a row whose label ``name`` is set."""
    return InvalidModelInputError(
        f"{function} found no rows with a label: the input has no rows, or {name} is NULL in all of them.",
        column=name,
        hint=f"Evaluate on rows where {name} IS NOT NULL.",
    )


def evaluation_batches(
    files: dict[str, str], batches: Iterator[pa.RecordBatch], *, schema: pa.Schema, trial_id: int | None, threshold: float | None
) -> Iterator[pa.RecordBatch]:
    """On a worker: the evaluation rows (:func:`evaluation_schema`) of each input batch's rows
    that have a label, scored by the stored model (its files at ``files``)."""
    model = Model.load({key: Path(path) for key, path in files.items()})
    estimator = model.estimator_for(trial_id)
    for batch in batches:
        column = batch.column(label_name(batch.schema, model.label["name"]))
        labelled = pc.is_valid(column)
        batch, column = batch.filter(labelled), column.filter(labelled)
        if not batch.num_rows:
            continue
        raw = score(model, batch, estimator)
        rows = regression_rows(column, raw) if model.target is Target.REGRESSION else classification_rows(model, column, raw, threshold)
        yield pa.RecordBatch.from_pydict(rows, schema=schema)


def regression_rows(column: pa.Array, raw: np.ndarray) -> dict[str, np.ndarray | pa.Array]:
    """A regressor's errors; the squared log error is NULL where a log is undefined (a value ≤ -1)."""
    y = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    predicted = np.asarray(raw, dtype=np.float64).reshape(len(y))
    error = y - predicted
    defined = (y > -1) & (predicted > -1)
    with np.errstate(invalid="ignore"):
        squared_log = (np.log1p(y) - np.log1p(predicted)) ** 2
    return {
        "y": y, "error": error, "abs_error": np.abs(predicted - y), "squared_error": error**2,
        "squared_log_error": pa.array(squared_log, pa.float64(), mask=~defined),
    }  # fmt: skip


def classification_rows(model: Model, column: pa.Array, raw: np.ndarray, threshold: float | None) -> dict[str, np.ndarray | pa.Array]:
    """A classifier's rows: per input row, the positive class's score (binary) or each class's
    (multiclass, ``row_head`` on class 0's), with the label index (NULL and the label in ``unseen``
    for a label the model never saw), the predicted index and the row's log loss."""
    codes, labels = label_codes(model, column)
    seen = pc.is_valid(codes).to_numpy(zero_copy_only=False)
    y = codes.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    predicted = predicted_class_index(raw, threshold)
    loss = metrics.log_loss_terms(y, raw)
    n, k = raw.shape
    classes = [1] if k == 2 else list(range(k))
    repeat = len(classes)
    return {
        "c": np.tile(np.asarray(classes, np.int64), n),
        "score": raw[:, classes].reshape(-1),
        "row_head": np.tile(np.arange(repeat) == 0, n),
        "y": pa.array(np.repeat(y, repeat), pa.int64(), mask=np.repeat(~seen, repeat)),
        "unseen": _repeated(pc.if_else(pa.array(seen), pa.scalar(None, labels.type), labels), repeat),
        "predicted": np.repeat(predicted, repeat),
        "loss": np.repeat(loss, repeat),
    }


def _repeated(values: pa.Array, times: int) -> pa.Array:
    """Each value ``times`` times in a row."""
    if values.null_count == len(values):
        return pa.nulls(len(values) * times, values.type)
    return values.take(np.repeat(np.arange(len(values)), times))
