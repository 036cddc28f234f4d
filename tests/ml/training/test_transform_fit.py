"""The TRANSFORM clause: fitted on training rows, frozen, replayed; ML.TRANSFORM; TRANSFORM_ONLY."""

from __future__ import annotations

import pytest

import sqlml

TRANSFORMED = """CREATE OR REPLACE MODEL ds.tf
  TRANSFORM(target, ML.STANDARD_SCALER(x1) OVER () AS x1_scaled, ML.ONE_HOT_ENCODER(plan, 'none', 10, 1) OVER () AS plan_hot,
            ML.BUCKETIZE(x2, [0, 2, 4]) AS x2_bucket, x1 * 2 AS doubled)
  OPTIONS(model_type='linear_reg', input_label_cols=['target'])
AS SELECT * FROM ds.train"""


def test_statistics_are_fitted_on_the_training_split_and_frozen(ml_con):
    ml_con.query(TRANSFORMED)
    # AUTO_SPLIT keeps 20% of 1,200 rows for evaluation: the scaler's mean is the training part's
    split_rows = ml_con.models.resolve(__import__("sqlml.store.records", fromlist=["ModelRef"]).ModelRef("ds", "tf")).metadata["split"]
    assert split_rows["training_rows"] == 960
    out = ml_con.query("SELECT x1_scaled FROM ML.TRANSFORM(MODEL ds.tf, (SELECT 0.0 AS x1, 'pro' AS plan, 1.0 AS x2))").fetchall()[0][0]
    everything = ml_con.query("SELECT AVG(x1), STDDEV_SAMP(x1) FROM ds.train").fetchall()[0]
    assert out != pytest.approx(-everything[0] / everything[1], abs=1e-12)
    # one row gets exactly what it gets in a batch: statistics are never re-fitted on new data
    single = ml_con.query("SELECT predicted_target FROM ML.PREDICT(MODEL ds.tf, (SELECT * FROM ds.fresh ORDER BY x1 LIMIT 1))").fetchall()[0][0]
    batch = ml_con.query("SELECT predicted_target FROM ML.PREDICT(MODEL ds.tf, TABLE ds.fresh) ORDER BY x1 LIMIT 1").fetchall()[0][0]
    assert single == pytest.approx(batch, abs=1e-12)


def test_ml_transform_returns_the_clause_outputs(ml_con):
    ml_con.query(TRANSFORMED)
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-transform: the
    # features, then the input's other columns in input order — the label among them
    result = ml_con.query("SELECT * FROM ML.TRANSFORM(MODEL ds.tf, (SELECT * FROM ds.fresh LIMIT 2))").arrow()
    features = ["x1_scaled", "plan_hot", "x2_bucket", "doubled"]
    assert result.column_names == features + ["x1", "x2", "plan", "active", "target", "churned", "tier"]
    fresh = ml_con.query("SELECT target, x1 FROM ds.fresh LIMIT 2").fetchall()
    assert result.column("target").to_pylist() == [r[0] for r in fresh]
    assert result.column("doubled").to_pylist() == pytest.approx([2 * r[1] for r in fresh])
    without_label = ml_con.query("SELECT * FROM ML.TRANSFORM(MODEL ds.tf, (SELECT x1, x2, plan FROM ds.fresh LIMIT 2))").arrow()
    assert without_label.column_names == features + ["x1", "x2", "plan"]
    info = [r[0] for r in ml_con.query("SELECT input FROM ML.FEATURE_INFO(MODEL ds.tf)").fetchall()]
    # bigqueryml-syntax-feature: ML.FEATURE_INFO reports the pre-transform columns of the query
    assert info == ["x1", "x2", "plan"]
    weights = [r[0] for r in ml_con.query("SELECT processed_input FROM ML.WEIGHTS(MODEL ds.tf)").fetchall()]
    assert weights[:2] == ["x1_scaled", "plan_hot_0"]


def test_prediction_needs_only_the_columns_transform_reads(ml_con):
    ml_con.query(TRANSFORMED)
    rows = ml_con.query("SELECT predicted_target FROM ML.PREDICT(MODEL ds.tf, (SELECT x1, x2, plan FROM ds.fresh))").fetchall()
    assert len(rows) == 300
    with pytest.raises(sqlml.InvalidModelInputError, match=r"The input has no column x2"):
        ml_con.query("SELECT * FROM ML.PREDICT(MODEL ds.tf, (SELECT x1, plan FROM ds.fresh))")


def test_transform_errors_at_create_time(ml_con):
    with pytest.raises(sqlml.InvalidModelInputError, match=r"The TRANSFORM clause drops the column target, which the model needs"):
        ml_con.query("CREATE OR REPLACE MODEL ds.bad TRANSFORM(x1) OPTIONS(model_type='linear_reg', input_label_cols=['target']) AS SELECT * FROM ds.train")
    with pytest.raises(sqlml.InvalidModelInputError, match=r"TRANSFORM references the column x9, which the training query does not have"):
        ml_con.query("CREATE OR REPLACE MODEL ds.bad TRANSFORM(target, x9 AS y) OPTIONS(model_type='linear_reg', input_label_cols=['target']) AS SELECT * FROM ds.train")
    with pytest.raises(sqlml.SqlSyntaxError, match=r"Every TRANSFORM expression needs a name: write x1 \+ 1 AS <name>"):
        ml_con.query("CREATE OR REPLACE MODEL ds.bad TRANSFORM(target, x1 + 1) OPTIONS(model_type='linear_reg', input_label_cols=['target']) AS SELECT * FROM ds.train")
    assert not ml_con.models.exists("ds", "bad")


def test_star_except_and_transform_only(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.star TRANSFORM(* EXCEPT(tier, churned, x1), ML.MIN_MAX_SCALER(x1) OVER () AS x1) "
                 "OPTIONS(model_type='boosted_tree_regressor', input_label_cols=['target']) AS SELECT * FROM ds.train")
    features = [r[0] for r in ml_con.query("SELECT input FROM ML.FEATURE_INFO(MODEL ds.star)").fetchall()]
    assert features == ["x1", "x2", "plan", "active"]  # the query's columns, before the scaler
    raw_max = ml_con.query("SELECT max FROM ML.FEATURE_INFO(MODEL ds.star) WHERE input = 'x1'").fetchall()[0][0]
    assert raw_max > 1.0 and raw_max in {r[0] for r in ml_con.query("SELECT x1 FROM ds.train").fetchall()}
    ml_con.query("CREATE OR REPLACE MODEL ds.only TRANSFORM(ML.QUANTILE_BUCKETIZE(x1, 4) OVER () AS q) OPTIONS(model_type='transform_only') AS SELECT x1 FROM ds.train")
    buckets = ml_con.query("SELECT q, COUNT(*) FROM ML.TRANSFORM(MODEL ds.only, TABLE ds.train) GROUP BY q ORDER BY q").fetchall()
    assert [b[0] for b in buckets] == ["bin_1", "bin_2", "bin_3", "bin_4"]
    assert all(abs(b[1] - 300) <= 2 for b in buckets)  # quartiles of the training rows


def test_ml_transform_keeps_the_label_when_a_special_column_is_absent(ml_con):
    # a CUSTOM split column is needed at training only: the label still comes through without it
    ml_con.query(
        "CREATE OR REPLACE MODEL ds.split_tf TRANSFORM(target, is_eval, ML.STANDARD_SCALER(x1) OVER () AS x1_scaled) "
        "OPTIONS(model_type='linear_reg', input_label_cols=['target'], data_split_method='CUSTOM', data_split_col='is_eval') "
        "AS SELECT target, x1, x1 > 1 AS is_eval FROM ds.train"
    )
    result = ml_con.query("SELECT * FROM ML.TRANSFORM(MODEL ds.split_tf, (SELECT x1, target FROM ds.fresh LIMIT 3))").arrow()
    assert result.column_names == ["x1_scaled", "x1", "target"]


def test_hash_bucketize_in_transform_replays_bigquerys_buckets(ml_con):
    ml_con.query(
        "CREATE OR REPLACE MODEL ds.hashed TRANSFORM(ML.HASH_BUCKETIZE(plan, 3) AS plan_bucket, target) "
        "OPTIONS(model_type='linear_reg', input_label_cols=['target']) AS SELECT plan, target FROM ds.train"
    )
    rows = ml_con.query("SELECT plan_bucket FROM ML.TRANSFORM(MODEL ds.hashed, (SELECT * FROM UNNEST(['a', 'b', 'c', 'd']) AS plan))").fetchall()
    assert [r[0] for r in rows] == [0, 1, 1, 2]  # the ML.HASH_BUCKETIZE page's example

