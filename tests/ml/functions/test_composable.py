"""An ML function stands anywhere a table can; SQL around it runs in DuckDB."""

from __future__ import annotations

import pytest

import sqlml


@pytest.fixture(scope="module", autouse=True)
def models(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.comp OPTIONS(model_type='logistic_reg', input_label_cols=['churned']) AS SELECT x1, x2, plan, churned FROM ds.train")
    ml_con.query("CREATE OR REPLACE MODEL ds.clus OPTIONS(model_type='kmeans', num_clusters=3) AS SELECT x1, x2 FROM ds.train")


def _count(con, sql, params=None):
    return con.query(sql, params).fetchall()[0][0]


def test_where_group_by_order_by_limit_around_predict(ml_con):
    rows = ml_con.query(
        "SELECT plan, COUNTIF(predicted_churned) AS n FROM ML.PREDICT(MODEL ds.comp, TABLE ds.fresh) "
        "WHERE x1 > -5 GROUP BY plan ORDER BY plan LIMIT 2"
    ).fetchall()
    assert [r[0] for r in rows] == ["basic", "plus"]
    assert all(isinstance(r[1], int) for r in rows)


def test_join_cte_subquery_and_in(ml_con):
    joined = _count(ml_con, "SELECT COUNT(*) FROM ML.PREDICT(MODEL ds.comp, TABLE ds.fresh) p JOIN ds.fresh f ON p.x1 = f.x1")
    assert joined == 300
    cte = _count(ml_con, "WITH p AS (SELECT * FROM ML.PREDICT(MODEL ds.comp, TABLE ds.fresh)) SELECT COUNT(*) FROM p a JOIN p b USING (x1)")
    assert cte == 300
    nested = _count(ml_con, "SELECT COUNT(*) FROM (SELECT predicted_churned FROM ML.PREDICT(MODEL ds.comp, TABLE ds.fresh)) WHERE predicted_churned")
    in_list = _count(ml_con, "SELECT COUNT(*) FROM ds.fresh WHERE x1 IN (SELECT x1 FROM ML.PREDICT(MODEL ds.comp, TABLE ds.fresh) WHERE predicted_churned)")
    assert nested == in_list > 0
    scalar = _count(ml_con, "SELECT (SELECT roc_auc FROM ML.EVALUATE(MODEL ds.comp, TABLE ds.fresh)) > 0.5")
    assert scalar is True


def test_table_argument_may_name_a_cte(ml_con):
    # as in BigQuery's NCAA sample: WITH eval_table AS (…) SELECT * FROM ML.EVALUATE(MODEL m, TABLE eval_table)
    value = _count(ml_con, "WITH eval_table AS (SELECT * FROM ds.fresh WHERE plan = 'pro') SELECT accuracy FROM ML.EVALUATE(MODEL ds.comp, TABLE eval_table)")
    direct = _count(ml_con, "SELECT accuracy FROM ML.EVALUATE(MODEL ds.comp, (SELECT * FROM ds.fresh WHERE plan = 'pro'))")
    assert value == direct


def test_create_table_as_and_insert_select_from_predict(ml_con):
    ml_con.query("CREATE OR REPLACE TABLE ds.scored AS SELECT x1, predicted_churned FROM ML.PREDICT(MODEL ds.comp, TABLE ds.fresh)")
    ml_con.query("INSERT INTO ds.scored SELECT x1, predicted_churned FROM ML.PREDICT(MODEL ds.comp, (SELECT * FROM ds.fresh LIMIT 10))")
    assert _count(ml_con, "SELECT COUNT(*) FROM ds.scored") == 310


def test_data_argument_may_itself_call_ml_functions(ml_con):
    rows = ml_con.query(
        "SELECT CENTROID_ID, COUNT(*) FROM ML.PREDICT(MODEL ds.clus, "
        "(SELECT x1, x2 FROM ML.PREDICT(MODEL ds.comp, TABLE ds.fresh) WHERE predicted_churned)) GROUP BY 1 ORDER BY 1"
    ).fetchall()
    churners = _count(ml_con, "SELECT COUNTIF(predicted_churned) FROM ML.PREDICT(MODEL ds.comp, TABLE ds.fresh)")
    assert sum(r[1] for r in rows) == churners
    assert {r[0] for r in rows} <= {1, 2, 3}


def test_parameters_reach_the_data_argument(ml_con):
    n = _count(ml_con, "SELECT COUNT(*) FROM ML.PREDICT(MODEL ds.comp, (SELECT * FROM ds.fresh WHERE plan = @plan))", {"plan": "pro"})
    assert n == _count(ml_con, "SELECT COUNT(*) FROM ds.fresh WHERE plan = 'pro'")


def test_ml_function_outside_from_is_a_clear_error(ml_con):
    with pytest.raises(sqlml.SqlError, match=r"ML.EVALUATE is a table function; use it in FROM"):
        ml_con.query("SELECT ML.EVALUATE(MODEL ds.comp)")


def test_unknown_model_suggests_the_nearest(ml_con):
    with pytest.raises(sqlml.ModelNotFoundError, match=r"(?s)Model 'ds.cmop' was not found\..*Did you mean ds.comp\?"):
        ml_con.query("SELECT * FROM ML.EVALUATE(MODEL ds.cmop)")


def test_error_while_rows_are_read_surfaces_as_the_sqlml_error(ml_con):
    result = ml_con.query("SELECT * FROM ML.PREDICT(MODEL ds.comp, (SELECT 'abc' AS x1, 1.0 AS x2, 'pro' AS plan))")
    with pytest.raises(sqlml.InvalidModelInputError, match=r"The column x1 has type string, which does not convert"):
        result.fetchall()


def test_wrong_function_for_the_model_type(ml_con):
    with pytest.raises(sqlml.ModelError, match=r"ML.CENTROIDS does not support LOGISTIC_REG models; it needs KMEANS"):
        ml_con.query("SELECT * FROM ML.CENTROIDS(MODEL ds.comp)")
    with pytest.raises(sqlml.ModelError, match=r"ML.WEIGHTS does not support KMEANS models"):
        ml_con.query("SELECT * FROM ML.WEIGHTS(MODEL ds.clus)")
