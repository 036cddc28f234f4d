"""ML.EVALUATE, ML.CONFUSION_MATRIX and ML.ROC_CURVE over a Spark table give the DuckDB engine's
answers on the same rows and the same stored model (floats within 1e-9)."""

from __future__ import annotations

import pytest

import sqlml

DATA = (
    "CREATE SCHEMA IF NOT EXISTS ds; CREATE OR REPLACE TABLE ds.t AS "
    "SELECT x, MOD(x * 7, 5) AS c, MOD(x * 13, 11) > 4 AS big FROM UNNEST(GENERATE_ARRAY(1, 60)) AS x"
)
#: Each function over the table, ordered where it returns several rows.
QUERIES = {
    "evaluate": "SELECT * FROM ML.EVALUATE(MODEL ds.m, TABLE ds.t)",
    "evaluate at a threshold": "SELECT * FROM ML.EVALUATE(MODEL ds.m, TABLE ds.t, STRUCT(0.3 AS threshold))",
    "confusion matrix": "SELECT * FROM ML.CONFUSION_MATRIX(MODEL ds.m, TABLE ds.t) ORDER BY expected_label",
    "roc curve": "SELECT * FROM ML.ROC_CURVE(MODEL ds.m, TABLE ds.t) ORDER BY threshold",
    "roc curve at thresholds": "SELECT * FROM ML.ROC_CURVE(MODEL ds.m, TABLE ds.t, GENERATE_ARRAY(0.1, 0.9, 0.2)) ORDER BY threshold",
}


def test_evaluation_functions_on_spark_equal_duckdbs(spark_con, tmp_path):
    spark_con.query(DATA)
    spark_con.query(
        "CREATE MODEL ds.m OPTIONS(model_type='logistic_reg', input_label_cols=['big'], spark_train='driver') AS SELECT x, c, big FROM ds.t"
    )
    on_spark = {name: spark_con.query(sql).arrow() for name, sql in QUERIES.items()}
    with sqlml.connect(tmp_path / "duckdb-warehouse", spark_con.models_path) as duck:
        duck.query(DATA)
        on_duckdb = {name: duck.query(sql).arrow() for name, sql in QUERIES.items()}
    for name in QUERIES:
        assert on_spark[name].schema == on_duckdb[name].schema, name
        got, expected = on_spark[name].to_pylist(), on_duckdb[name].to_pylist()
        assert len(got) == len(expected) > 0, name
        for row, expected_row in zip(got, expected):
            assert row.keys() == expected_row.keys()
            for column, value in row.items():
                want = expected_row[column]
                assert value == (pytest.approx(want, rel=1e-9, abs=1e-12) if isinstance(want, float) else want), (name, column)
