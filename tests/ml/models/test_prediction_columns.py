"""ML.PREDICT's classification columns: the predicted class and every class's probability, higher
label first, the same for a served request's few rows (built from cached per-model arrays) as for
a large batch."""

from __future__ import annotations

import datetime

import numpy as np
import pyarrow as pa
import pytest

from sqlml.ml.models import prediction_columns
from sqlml.ml.models.model import Model
from sqlml.ml.models.prediction_columns import classification_columns, classification_schema


def _expected(classes: list, probabilities: np.ndarray, threshold: float | None) -> tuple[list, list]:
    """Per-row Python: argmax (or P(second class) > threshold) and the entries in reverse class order."""
    predicted, entries = [], []
    for row in probabilities:
        index = int(row[1] > (0.5 if threshold is None else threshold)) if len(classes) == 2 else int(np.argmax(row))
        predicted.append(classes[index])
        entries.append([{"label": classes[i], "prob": float(row[i])} for i in reversed(range(len(classes)))])
    return predicted, entries


@pytest.mark.parametrize(
    ("classes", "arrow_type", "threshold"),
    [([False, True], pa.bool_(), None), ([False, True], pa.bool_(), 0.8), ([1, 5, 9], pa.int64(), None),
     (["a", "b", "c", "d"], pa.string(), None), ([datetime.date(2024, 1, d) for d in (1, 2)], pa.date32(), 0.3)],
)  # fmt: skip
@pytest.mark.parametrize("rows", [1, 2, 64, 65, 700, 33_000])
def test_classification_columns_match_a_per_row_computation(classes, arrow_type, threshold, rows):
    probabilities = np.random.default_rng(rows).dirichlet(np.ones(len(classes)), rows)
    array = pa.array(classes, arrow_type)
    predicted, probs = classification_columns(array, probabilities, threshold)
    schema = classification_schema("y", arrow_type)
    assert predicted.type == schema.field(0).type and probs.type == schema.field(1).type
    assert (predicted.to_pylist(), probs.to_pylist()) == _expected(classes, probabilities, threshold)
    assert pa.RecordBatch.from_arrays([predicted, probs], schema=schema).validate(full=True) is None


def test_a_models_classes_are_built_once_and_follow_a_changed_label():
    model = Model({"label": {"name": "y", "arrow_type": "int64", "classes": [3, 1]}}, None, None)
    first = model.classes()
    assert first.type == pa.int64() and first.to_pylist() == [3, 1]
    assert model.classes() is first
    model.spec["label"] = {"name": "y", "arrow_type": "string", "classes": ["a", "b"]}
    assert model.classes().to_pylist() == ["a", "b"] and model.classes().type == pa.string()


def test_small_batches_reuse_the_cached_labels_of_a_classes_array():
    classes = pa.array(["x", "y", "z"])
    classification_columns(classes, np.full((1, 3), 1 / 3), None)
    cached = prediction_columns.ClassOutputs.of(classes)
    assert prediction_columns.ClassOutputs.of(classes) is cached
    assert cached.labels.slice(0, 6).to_pylist() == ["z", "y", "x", "z", "y", "x"]
