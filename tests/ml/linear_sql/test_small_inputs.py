"""Inputs known to be a few rows are scored on the Python path (DuckDB's planning of the prediction
query costs more than scoring them): known from the data argument's syntax tree, else from
DuckDB's estimate of a plan that bounds it (a table's row count); others, and any input of
unknown size, in the query."""

from __future__ import annotations

import pytest
from sqlglot import parse_one

from sqlml.ml.models.linear_estimator import LinearModel
from sqlml.ml.runtime import sql_prediction
from sqlml.ml.runtime.sql_prediction import FEW_ROWS, rows_at_most


@pytest.mark.parametrize(
    ("sql", "bound"),
    [
        ("SELECT * FROM ds.train LIMIT 1", 1),
        (f"SELECT x1 FROM t WHERE id = 3 LIMIT {FEW_ROWS}", FEW_ROWS),
        ("SELECT 1.5 AS x1, 'a' AS cat", 1),
        ("SELECT * FROM (VALUES (1.0, 'a'), (2.0, 'b')) AS v(x1, cat)", 2),
        ("SELECT * FROM t", None),  # a table: its size is DuckDB's to tell
        ("SELECT x FROM UNNEST(GENERATE_ARRAY(1, 100000)) AS x", None),
        ("SELECT * FROM (VALUES (1), (2)) AS v(x) JOIN t USING (x)", None),
        ("SELECT * FROM t UNION ALL SELECT * FROM t LIMIT 1", None),  # not read as a bound here
    ],
)
def test_the_bound_is_read_from_the_argument_tree(sql, bound):
    assert rows_at_most(parse_one(f"({sql})", read="bigquery")) == bound


def test_a_table_argument_has_no_bound_in_its_tree():
    assert rows_at_most(parse_one("SELECT * FROM ML.PREDICT(MODEL m, TABLE ds.one)", read="bigquery").find(sql_prediction.exp.Table)) is None


@pytest.fixture
def scored_in_python(monkeypatch):
    """The row counts of the batches the linear estimator scored in Python."""
    calls = []
    predict = LinearModel.predict
    monkeypatch.setattr(LinearModel, "predict", lambda estimator, X: calls.append(len(X)) or predict(estimator, X))
    return calls


def test_a_one_row_input_is_scored_in_python_with_the_same_rows(paths, scored_in_python):
    sql = "SELECT * FROM ML.PREDICT(MODEL ds.lin, (SELECT x1, x2, k, cat, flag FROM ds.fresh ORDER BY id LIMIT 1))"
    got = paths.con.query(sql).arrow()
    assert scored_in_python == [1]
    assert got == paths.python(sql)  # exactly SQLML_LINEAR_SQL=off's rows …
    paths.same(sql)  # … which the query gives within 1e-12
    scored_in_python.clear()
    paths.con.query("SELECT * FROM ML.PREDICT(MODEL ds.lin, (SELECT x1, x2, k, cat, flag FROM ds.fresh WHERE x1 > 0))").arrow()
    assert scored_in_python == []  # a filter's estimate is a guess: the query


def test_a_small_table_is_known_from_duckdbs_estimate_and_scored_in_python(paths, scored_in_python, monkeypatch):
    paths.con.query("CREATE OR REPLACE TABLE ds.one AS SELECT * FROM ds.fresh WHERE id = 7")
    sql = "SELECT * FROM ML.PREDICT(MODEL ds.bin, TABLE ds.one)"
    got = paths.con.query(sql).arrow()
    assert scored_in_python == [1]
    assert got == paths.python(sql)
    paths.same(sql)
    scored_in_python.clear()
    monkeypatch.setattr(sql_prediction, "FEW_ROWS", 119)  # ds.fresh has 120 rows
    paths.con.query("SELECT * FROM ML.PREDICT(MODEL ds.bin, TABLE ds.fresh)").arrow()
    assert scored_in_python == []
    monkeypatch.setattr(sql_prediction, "FEW_ROWS", 120)
    assert paths.con.query("SELECT * FROM ML.PREDICT(MODEL ds.bin, TABLE ds.fresh)").arrow() == paths.python("SELECT * FROM ML.PREDICT(MODEL ds.bin, TABLE ds.fresh)")
    assert scored_in_python == [120, 120]  # this statement's, then the comparison's


@pytest.mark.parametrize(
    "data",
    [
        "(SELECT f.x1, f.x2, f.k, f.cat, f.flag FROM ds.fresh AS f JOIN ds.fresh AS g USING (id))",  # a join's estimate is no bound
        "(SELECT x1, x2, k, cat, flag FROM ds.fresh, UNNEST([1, 2, 3]) AS n)",  # nor an UNNEST's
    ],
)
def test_inputs_whose_plan_does_not_bound_them_take_the_query(paths, scored_in_python, data):
    got = paths.con.query(f"SELECT * FROM ML.PREDICT(MODEL ds.lin, {data})").arrow()
    assert scored_in_python == []
    assert got.num_rows in (120, 360)


def test_ml_evaluate_of_a_small_table_is_scored_in_python_with_equal_metrics(paths, scored_in_python, monkeypatch):
    sql = "SELECT * FROM ML.EVALUATE(MODEL ds.bin, TABLE ds.fresh)"
    monkeypatch.setattr(sql_prediction, "FEW_ROWS", 120)
    small = paths.con.query(sql).arrow()
    assert scored_in_python == [120]
    monkeypatch.setattr(sql_prediction, "FEW_ROWS", 119)
    scored_in_python.clear()
    large = paths.con.query(sql).arrow()
    assert scored_in_python == []
    for name in small.column_names:
        assert small[name][0].as_py() == pytest.approx(large[name][0].as_py(), abs=1e-12)
