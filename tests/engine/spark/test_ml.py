"""ML on the Spark engine: CREATE MODEL only where the statement says where it may train, and a
model trained on Spark is the same stored model DuckDB predicts with (and the other way round)."""

from __future__ import annotations

import pytest

from sqlml.engine.spark.cursor import SparkRelation
from sqlml.errors import InvalidOptionError

DATA = (
    "CREATE SCHEMA IF NOT EXISTS ds; CREATE OR REPLACE TABLE ds.t AS "
    "SELECT x, MOD(x, 3) AS c, x * 2.0 + 1 + MOD(x, 3) AS y, x > 10 AS big FROM UNNEST(GENERATE_ARRAY(1, 20)) AS x"
)


def test_create_model_without_a_place_to_train_is_refused(shared):
    spark_con, _ = shared
    with pytest.raises(InvalidOptionError) as refused:
        spark_con.query("CREATE MODEL ds.m OPTIONS(model_type='dnn_regressor', input_label_cols=['y']) AS SELECT x, y FROM ds.t")
    assert refused.value.message == (
        "model_type='dnn_regressor' has no distributed trainer on Spark yet; training would collect every training row "
        "to the Spark driver."
    )
    assert refused.value.hint.startswith("Add OPTIONS(spark_train='driver')")
    assert spark_con.query("SELECT COUNT(*) FROM ds.INFORMATION_SCHEMA.MODELS").fetchall() == [(0,)]


def test_spark_train_is_refused_on_duckdb(con):
    con.query(DATA)
    with pytest.raises(InvalidOptionError, match="spark_train applies to the Spark engine only"):
        con.query("CREATE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y'], spark_train='driver') AS SELECT x, y FROM ds.t")


@pytest.mark.parametrize(
    ("model_type", "label", "prediction"),
    [("linear_reg", "y", "predicted_y"), ("boosted_tree_classifier", "big", "predicted_big_probs")],
)
def test_a_model_trained_on_spark_predicts_the_same_on_duckdb(shared, model_type, label, prediction):
    spark_con, duck = shared
    spark_con.query(
        f"CREATE MODEL ds.m OPTIONS(model_type='{model_type}', input_label_cols=['{label}'], spark_train='driver') "
        f"AS SELECT x, c, {label} FROM ds.t"
    )
    predict = f"SELECT x, {prediction} FROM ML.PREDICT(MODEL ds.m, TABLE ds.t) ORDER BY x"
    evaluate = "SELECT * FROM ML.EVALUATE(MODEL ds.m, TABLE ds.t)"
    on_spark, evaluated_on_spark = spark_con.query(predict).arrow(), spark_con.query(evaluate).arrow()
    # the same model store, another engine: DuckDB holding the same rows
    on_duckdb, evaluated_on_duckdb = duck.query(predict).arrow(), duck.query(evaluate).arrow()
    assert on_spark.num_rows == 20 and on_spark.schema == on_duckdb.schema
    assert _close(on_spark.to_pylist(), on_duckdb.to_pylist())
    assert evaluated_on_spark.column_names == evaluated_on_duckdb.column_names
    assert _close(evaluated_on_spark.to_pylist(), evaluated_on_duckdb.to_pylist())


def _close(got: object, expected: object) -> bool:
    """Equal, floats within 1e-9 relative (Spark and DuckDB add up a linear model's terms in their own order)."""
    if isinstance(got, float):
        return got == pytest.approx(expected, rel=1e-9, abs=1e-12)
    if isinstance(got, list):
        return isinstance(expected, list) and len(got) == len(expected) and all(map(_close, got, expected))
    if isinstance(got, dict):
        return isinstance(expected, dict) and got.keys() == expected.keys() and all(_close(got[k], expected[k]) for k in got)
    return got == expected


def test_explain_predict_detect_anomalies_and_forecast_on_spark_equal_duckdbs(shared):
    """The table functions beside ML.PREDICT run on the Spark engine too, with DuckDB's answers from
    the same stored models (trained on Spark: MLlib for the linear model and k-means, the driver for
    ARIMA_PLUS)."""
    spark_con, duck = shared
    spark_con.query("CREATE MODEL ds.lin OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, c, y FROM ds.t")
    spark_con.query("CREATE MODEL ds.k OPTIONS(model_type='kmeans', num_clusters=2) AS SELECT x, y FROM ds.t")
    spark_con.query(
        "CREATE MODEL ds.ar OPTIONS(model_type='arima_plus', time_series_timestamp_col='d', time_series_data_col='y', "
        "spark_train='driver') AS SELECT DATE_ADD(DATE '2024-01-01', INTERVAL x DAY) AS d, y FROM ds.t"
    )
    queries = (
        "SELECT x, predicted_y, top_feature_attributions, baseline_prediction_value, prediction_value "
        "FROM ML.EXPLAIN_PREDICT(MODEL ds.lin, TABLE ds.t, STRUCT(2 AS top_k_features)) ORDER BY x",
        "SELECT x, is_anomaly, normalized_distance FROM ML.DETECT_ANOMALIES(MODEL ds.k, STRUCT(0.1 AS contamination), TABLE ds.t) ORDER BY x",
        "SELECT * FROM ML.FORECAST(MODEL ds.ar, STRUCT(3 AS horizon)) ORDER BY forecast_timestamp",
    )
    for query in queries:
        on_spark, on_duckdb = spark_con.query(query).arrow(), duck.query(query).arrow()
        assert on_spark.num_rows in (3, 20) and on_spark.schema == on_duckdb.schema, query
        assert _close(on_spark.to_pylist(), on_duckdb.to_pylist()), query


def test_predictions_are_composable_in_spark_sql(shared, spark):
    spark_con, _ = shared
    spark_con.query(
        "CREATE MODEL ds.b OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['big'], max_iterations=5, "
        "spark_train='driver') AS SELECT x, c, big FROM ds.t"
    )
    spark_con.query("CREATE TABLE ds.scored AS SELECT x, predicted_big FROM ML.PREDICT(MODEL ds.b, TABLE ds.t) WHERE x > 5")
    assert spark.catalog.getTable("ds.scored").tableType == "MANAGED"
    scored = spark_con.query("SELECT x, predicted_big FROM ds.scored ORDER BY x").fetchall()
    assert [x for x, _ in scored] == list(range(6, 21))
    assert scored == spark_con.query("SELECT x, predicted_big FROM ML.PREDICT(MODEL ds.b, TABLE ds.t) WHERE x > 5 ORDER BY x").fetchall()


def _predicted_views(spark) -> list[str]:
    return [t.name for t in spark.catalog.listTables() if t.isTemporary and t.name.startswith("__sqlml_predicted_")]


def test_ml_predict_scores_on_the_executors_with_map_in_arrow_and_drops_its_view_when_the_statement_ends(
    shared, spark, monkeypatch
):
    spark_con, _ = shared
    spark_con.query(
        "CREATE MODEL ds.b OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['big'], max_iterations=5, "
        "spark_train='driver') AS SELECT x, c, big FROM ds.t"
    )
    plans: dict[str, str] = {}
    map_batches = SparkRelation.map_batches

    def recording(self, function, schema, name):  # the mapped view's plan, while the statement runs
        map_batches(self, function, schema, name)
        plans[name] = spark.table(name)._jdf.queryExecution().executedPlan().toString()

    monkeypatch.setattr(SparkRelation, "map_batches", recording)
    result = spark_con.query("SELECT x, predicted_big FROM ML.PREDICT(MODEL ds.b, TABLE ds.t) ORDER BY x")
    assert len(plans) == 1 and all("MapInArrow" in plan for plan in plans.values())
    rows = result.fetchall()
    assert [x for x, _ in rows] == list(range(1, 21))
    assert _predicted_views(spark) == []  # dropped when the statement ended, not left in the Spark session
    spark_con.query("CREATE TABLE ds.scored AS SELECT x, predicted_big FROM ML.PREDICT(MODEL ds.b, TABLE ds.t)")
    assert len(plans) == 2 and _predicted_views(spark) == []
    assert spark_con.query("SELECT x, predicted_big FROM ds.scored ORDER BY x").fetchall() == rows
