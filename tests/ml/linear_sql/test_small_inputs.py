"""Inputs known to be a few rows are scored on the Python path (DuckDB's binding of the prediction
query costs more than scoring them); others, and any input of unknown size, in the query."""

from __future__ import annotations

import pytest

from sqlml.ml.models.linear_estimator import LinearModel
from sqlml.ml.runtime.sql_prediction import FEW_ROWS, few_rows


@pytest.mark.parametrize(
    ("sql", "few"),
    [
        ("SELECT * FROM ds.train LIMIT 1", True),
        (f"SELECT x1 FROM t WHERE id = 3 LIMIT {FEW_ROWS}", True),
        (f"SELECT * FROM t LIMIT {FEW_ROWS + 1}", False),
        ("SELECT 1.5 AS x1, 'a' AS cat", True),
        ("SELECT * FROM (VALUES (1.0, 'a'), (2.0, 'b')) AS v(x1, cat)", True),
        ("VALUES (1.0, 'a')", True),
        ("SELECT * FROM t", False),  # a table of unknown size
        ("SELECT unnest(range(100000)) AS x1", False),
        ("SELECT * FROM (VALUES (1), (2)) AS v(x) JOIN t USING (x)", False),
        ("SELECT * FROM t UNION ALL SELECT * FROM t LIMIT 1", False),  # not read as a bound here
        ("not sql at all (", False),
    ],
)
def test_few_rows_is_known_from_the_text(sql, few):
    assert few_rows(sql) is few


def test_a_one_row_input_is_scored_in_python_with_the_same_rows(paths, monkeypatch):
    calls = []
    predict = LinearModel.predict

    def counted(estimator, X):
        calls.append(len(X))
        return predict(estimator, X)

    monkeypatch.setattr(LinearModel, "predict", counted)
    sql = "SELECT * FROM ML.PREDICT(MODEL ds.lin, (SELECT x1, x2, k, cat, flag FROM ds.fresh ORDER BY id LIMIT 1))"
    got = paths.con.query(sql).arrow()
    assert calls == [1]
    assert got == paths.python(sql)  # exactly SQLML_LINEAR_SQL=off's rows …
    paths.same(sql)  # … which the query gives within 1e-12
    calls.clear()
    paths.con.query("SELECT * FROM ML.PREDICT(MODEL ds.lin, (SELECT x1, x2, k, cat, flag FROM ds.fresh))").arrow()
    assert calls == []  # an input of unknown size: the query
