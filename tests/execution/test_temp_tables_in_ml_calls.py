"""A script's TEMP tables and TEMP functions feed ML statements as BigQuery scripts use them:
CREATE MODEL's AS query, ML.PREDICT's TABLE argument and a query argument may name a table the
script created with CREATE TEMP TABLE, or call a CREATE TEMP FUNCTION (both live in the session's
cursor only, not in the side cursors that read ML inputs)."""

from __future__ import annotations

import numpy as np
import pytest

import sqlml


@pytest.fixture
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE SCHEMA d")
        yield connection


def test_create_model_and_predict_read_a_temp_table(con):
    result = con.query("""
        CREATE TEMP TABLE training AS SELECT x, 3.0 * x + 1 AS y FROM UNNEST(GENERATE_ARRAY(1, 20)) AS x;
        CREATE MODEL d.line OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT * FROM training;
        SELECT x, predicted_y FROM ML.PREDICT(MODEL d.line, TABLE training) ORDER BY x
    """).fetchall()
    assert [x for x, _ in result] == list(range(1, 21))
    np.testing.assert_allclose([p for _, p in result], 3.0 * np.arange(1, 21) + 1, atol=1e-6)
    # the TEMP table stays the session's: a later statement's query argument still reads it
    evaluated = con.query("SELECT mean_absolute_error FROM ML.EVALUATE(MODEL d.line, (SELECT * FROM training WHERE x > 10))").fetchall()
    assert evaluated[0][0] == pytest.approx(0.0, abs=1e-6)


def test_a_temp_function_in_the_training_and_the_input_query(con):
    predicted = con.query("""
        CREATE TEMP FUNCTION doubled(a INT64) AS (a * 2);
        CREATE MODEL d.doubling OPTIONS(model_type='linear_reg', input_label_cols=['y'])
        AS SELECT x, CAST(doubled(x) AS FLOAT64) AS y FROM UNNEST(GENERATE_ARRAY(1, 12)) AS x;
        SELECT x, predicted_y FROM ML.PREDICT(MODEL d.doubling, (SELECT doubled(x) AS x FROM UNNEST([5, 6]) AS x)) ORDER BY x
    """).fetchall()
    assert [x for x, _ in predicted] == [10, 12]
    np.testing.assert_allclose([p for _, p in predicted], [20.0, 24.0], atol=1e-6)


def test_an_unknown_table_is_still_named(con):
    with pytest.raises(sqlml.errors.NotFoundError, match="Unknown table missing"):
        con.query("CREATE MODEL d.m OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT * FROM missing")
    with pytest.raises(sqlml.errors.NotFoundError, match="Unknown table missing"):
        con.query("SELECT * FROM ML.DESCRIBE_DATA(TABLE missing, STRUCT())")
    assert con.query("SELECT COUNT(*) FROM d.INFORMATION_SCHEMA.TABLES").fetchall() == [(0,)]
