"""ML.EVALUATE, ML.CONFUSION_MATRIX and ML.ROC_CURVE on input without a single labelled row."""

from __future__ import annotations

import pytest

import sqlml


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    with sqlml.connect(":memory:", root / "models") as connection:
        connection.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT CAST(range AS DOUBLE) AS x, range % 2 = 0 AS c, 2.0 * range AS y FROM range(50)")
        connection.query("CREATE MODEL ds.reg OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, y FROM ds.t")
        connection.query("CREATE MODEL ds.cls OPTIONS(model_type='logistic_reg', input_label_cols=['c']) AS SELECT x, c FROM ds.t")
        yield connection


@pytest.mark.parametrize(
    ("call", "label"),
    [
        ("ML.EVALUATE(MODEL ds.reg, (SELECT x, CAST(NULL AS FLOAT64) AS y FROM ds.t))", "y"),
        ("ML.EVALUATE(MODEL ds.reg, (SELECT x, y FROM ds.t WHERE x < 0))", "y"),
        ("ML.EVALUATE(MODEL ds.cls, (SELECT x, CAST(NULL AS BOOL) AS c FROM ds.t))", "c"),
        ("ML.CONFUSION_MATRIX(MODEL ds.cls, (SELECT x, CAST(NULL AS BOOL) AS c FROM ds.t))", "c"),
        ("ML.ROC_CURVE(MODEL ds.cls, (SELECT x, CAST(NULL AS BOOL) AS c FROM ds.t))", "c"),
    ],
)
def test_no_labelled_row_is_an_error_not_null_metrics(con, call, label):
    name = call.split("(")[0]
    with pytest.raises(sqlml.InvalidModelInputError, match=rf"^{name} found no rows with a label: the input has no rows, or {label} is NULL in all of them\.") as info:
        con.query(f"SELECT * FROM {call}")
    assert info.value.column == label and info.value.hint == f"Evaluate on rows where {label} IS NOT NULL."


def test_rows_with_a_null_label_are_still_skipped(con):
    rows = con.query("SELECT mean_absolute_error FROM ML.EVALUATE(MODEL ds.reg, (SELECT x, IF(x < 10, NULL, y) AS y FROM ds.t))").fetchall()
    assert rows[0][0] is not None
