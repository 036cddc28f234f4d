"""The aggregate queries and formulas ML.EVALUATE, ML.CONFUSION_MATRIX and ML.ROC_CURVE use on an
engine that scores on its workers (:mod:`sqlml.ml.functions.distributed_evaluation`), run here on
DuckDB over evaluation rows made in this process: they give what the one-process path computes
(:mod:`sqlml.ml.models.metrics`) from the same labels and outputs."""

from __future__ import annotations

from types import SimpleNamespace

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from sqlml.ml.functions.distributed_evaluation import EvaluationRows, quantile_ranks, quantiles_of_sorted
from sqlml.ml.functions.evaluation_rows import classification_rows, evaluation_schema, regression_rows
from sqlml.ml.models import metrics
from sqlml.ml.models.base import Target
from sqlml.ml.models.prediction_columns import predicted_class_index


class FakeModel(SimpleNamespace):
    """What the evaluation rows read of a model: its target and label."""

    def classes(self) -> pa.Array:
        return pa.array(self.label["classes"], pa.string())

    def label_type(self) -> pa.DataType:
        return pa.string()


def aggregated(model: FakeModel, rows: dict) -> EvaluationRows:
    """Evaluation rows as a DuckDB view, read by the aggregate queries."""
    connection = duckdb.connect()
    connection.register("scored", pa.table(rows, schema=evaluation_schema(model)))
    call = SimpleNamespace(name="ML.EVALUATE", data=lambda index: SimpleNamespace(cursor=connection))
    return EvaluationRows(call, model, "scored")


def assert_same_metrics(got: dict, expected: dict, rel: float) -> None:
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        assert got[name] == (value if value is None else pytest.approx(value, rel=rel)), name


def classifier(k: int) -> tuple[FakeModel, np.ndarray, np.ndarray, pa.Array]:
    rng = np.random.default_rng(k)
    classes = [f"c{i}" for i in range(k)]
    y = rng.integers(0, k, 300)
    raw = rng.dirichlet(np.ones(k), 300).round(2)  # rounded: tied scores
    raw = raw / raw.sum(axis=1, keepdims=True)
    model = FakeModel(target=Target.CLASSIFICATION, label={"name": "label", "classes": classes})
    return model, y, raw, pa.array([classes[i] for i in y])


@pytest.mark.parametrize("k", [2, 4])
def test_classification_metrics_from_aggregates_equal_one_process(k):
    model, y, raw, labels = classifier(k)
    rows = aggregated(model, classification_rows(model, labels, raw, 0.4 if k == 2 else None))
    expected = metrics.classification_metrics(y, raw, predicted_class_index(raw, 0.4 if k == 2 else None))
    assert_same_metrics(rows.metrics(), expected, 1e-12)
    matrix, _ = rows.confusion()
    np.testing.assert_array_equal(matrix, metrics.confusion_counts(y, predicted_class_index(raw, 0.4 if k == 2 else None), k))


def test_roc_from_aggregates_equals_one_process():
    model, y, raw, labels = classifier(2)
    rows = aggregated(model, classification_rows(model, labels, raw, None))
    grid = metrics.default_thresholds(raw[:, 1])
    for given in (None, np.array([0.9, 0.1, 0.5, 0.5]), np.array([])):
        got, expected = rows.roc(given), metrics.roc_points(y, raw[:, 1], grid if given is None else given)
        assert got.keys() == expected.keys()
        for name in expected:
            np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


def test_regression_metrics_from_aggregates_equal_one_process():
    rng = np.random.default_rng(3)
    y = rng.normal(5, 2, 301)
    predicted = y + rng.normal(0, 0.5, 301)
    model = FakeModel(target=Target.REGRESSION, label={"name": "label"})
    expected = metrics.regression_metrics(y, predicted)
    assert_same_metrics(aggregated(model, regression_rows(pa.array(y), predicted)).metrics(), expected, 1e-9)
    y[0] = -3.0  # a log undefined: no mean squared log error, as one process
    assert aggregated(model, regression_rows(pa.array(y), predicted)).metrics()["mean_squared_log_error"] is None


def test_unseen_labels_and_no_rows_are_the_one_process_errors():
    model, _, raw, labels = classifier(2)
    labels = pa.array(["c0", "zz", "c1"] + labels.to_pylist()[3:])
    with pytest.raises(Exception, match=r"The label column has values the model never saw in training: \['zz'\]"):
        aggregated(model, classification_rows(model, labels, raw, None)).confusion()
    empty = aggregated(model, classification_rows(model, labels[:0], raw[:0], None))
    with pytest.raises(Exception, match="ML.EVALUATE found no rows with a label: the input has no rows, or label is NULL in all of them"):
        empty.metrics()


@pytest.mark.parametrize("n", [1, 2, 7, 100, 1001])
def test_quantiles_of_sorted_values_equal_numpys_bit_for_bit(n):
    values = np.sort(np.random.default_rng(n).normal(size=n).round(1))  # ties
    lower, upper, gamma = quantile_ranks(n, metrics.PERCENTILES)
    np.testing.assert_array_equal(quantiles_of_sorted(values[lower], values[upper], gamma), np.quantile(values, metrics.PERCENTILES))
