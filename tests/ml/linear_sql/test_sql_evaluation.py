"""ML.EVALUATE, ML.CONFUSION_MATRIX and ML.ROC_CURVE of linear models on input data: the outputs
computed by DuckDB, the metrics equal to the Python path's (SQLML_LINEAR_SQL=off) within 1e-12."""

from __future__ import annotations

import numpy as np
import pytest

from sqlml.ml.runtime import sql_prediction

DATA = "(SELECT x1, x2, k, cat, flag, y, cls, multi FROM ds.fresh)"


@pytest.fixture
def scored(monkeypatch):
    """How many batches DuckDB scored for an evaluation (the SQL path was taken)."""
    batches = []
    original = sql_prediction._raw_outputs

    def counting(*args):
        batches.append(1)
        return original(*args)

    monkeypatch.setattr(sql_prediction, "_raw_outputs", counting)
    return batches


@pytest.mark.parametrize(
    ("function", "model", "settings"),
    [
        ("EVALUATE", "lin", ""),
        ("EVALUATE", "dummy", ""),
        ("EVALUATE", "bin", ""),
        ("EVALUATE", "bin", ", STRUCT(0.3 AS threshold)"),
        ("EVALUATE", "multi", ""),
        ("CONFUSION_MATRIX", "bin", ""),
        ("CONFUSION_MATRIX", "multi", ""),
        ("ROC_CURVE", "bin", ""),
    ],
)
def test_metrics_equal_the_python_paths(paths, scored, function, model, settings):
    sql = f"SELECT * FROM ML.{function}(MODEL ds.{model}, {DATA}{settings})"
    got = paths.sql(sql)
    assert scored  # DuckDB computed the outputs
    expected = paths.python(sql)
    assert got.schema == expected.schema and got.num_rows == expected.num_rows
    for name in expected.column_names:
        a, b = got.column(name).to_pylist(), expected.column(name).to_pylist()
        if all(isinstance(v, float) for v in b):
            np.testing.assert_allclose(np.array(a, float), np.array(b, float), rtol=1e-12, atol=1e-12)
        else:
            assert a == b, name


def test_evaluate_without_the_label_is_the_python_paths_error(paths, scored):
    from sqlml.errors import InvalidModelInputError

    with pytest.raises(InvalidModelInputError, match="The evaluation data has no label column y"):
        paths.con.query("SELECT * FROM ML.EVALUATE(MODEL ds.lin, (SELECT x1, x2, k, cat, flag FROM ds.fresh))").arrow()
    assert not scored


def test_a_null_label_is_skipped_as_in_python(paths, scored):
    sql = "SELECT * FROM ML.EVALUATE(MODEL ds.bin, (SELECT x1, x2, k, cat, flag, IF(MOD(id, 5) = 0, NULL, cls) AS cls FROM ds.fresh))"
    got, expected = paths.sql(sql), paths.python(sql)
    assert scored
    for name in expected.column_names:
        np.testing.assert_allclose(got.column(name).to_pylist(), expected.column(name).to_pylist(), rtol=1e-12, atol=1e-12)
