"""BOOSTED_TREE_* and RANDOM_FOREST_* trained on Spark's workers (issue 22, point 3): LightGBM's
distributed mode on local[2] — two LightGBM machines, one per task of a barrier stage — stored as
the LightGBM text one process stores, so ML.PREDICT on DuckDB equals ML.PREDICT on Spark (1e-6),
and the losses ML.TRAINING_INFO records are the whole training set's (summed over the machines).
The machines bin their rows as one process does, so the booster is one process's.
"""

from __future__ import annotations

import numpy as np
import pytest


# 400 rows (two LightGBM machines of ~200): two numeric features (one with NULLs), a STRING feature
# (label encoded: a LightGBM categorical feature), a numeric label and a 3-class label
DATA = (
    "CREATE SCHEMA IF NOT EXISTS ds; CREATE OR REPLACE TABLE ds.t AS "
    "SELECT x, IF(MOD(x, 23) = 0, NULL, MOD(x * 37, 101) / 10.0) AS z, "
    "CAST(MOD(x * 7, 4) AS STRING) AS s, x * 0.05 + MOD(x * 37, 101) / 7.0 + IF(MOD(x * 7, 4) = 2, 4.0, 0.0) AS y, "
    "CASE WHEN MOD(x * 37, 101) < 30 THEN 'low' WHEN MOD(x * 37, 101) < 70 + MOD(x, 9) THEN 'mid' ELSE 'high' END AS band "
    "FROM UNNEST(GENERATE_ARRAY(1, 400)) AS x"
)


def _predictions(con, column: str) -> list[tuple]:
    return con.query(f"SELECT x, {column} FROM ML.PREDICT(MODEL ds.m, TABLE ds.t) ORDER BY x").fetchall()


@pytest.mark.slow  # ~50 s on local[2] (CREATE MODEL's Spark passes, one process's model to compare)
def test_a_boosted_tree_regressor_trained_on_spark_predicts_the_same_on_both_engines(shared):
    spark_con, duck = shared
    # early_stop: every machine stops at the same round, by the whole training set's loss (one process's rule);
    # the machines exchange their losses in batches of rounds (1, 2, 4, …), so they train past the stop
    # and drop those trees — compared below with one process's model, which stopped there
    options = "max_iterations=40, learn_rate=0.2, max_tree_depth=3, l2_reg=0.5, subsample=1.0, early_stop=TRUE, min_rel_progress=0.1"
    statement = "CREATE MODEL ds.{name} OPTIONS(model_type='boosted_tree_regressor', input_label_cols=['y'], {options}) AS SELECT x, z, s, y FROM ds.t"
    spark_con.query(statement.format(name="m", options=options))  # no spark_train: the workers train it
    on_spark, on_duckdb = _predictions(spark_con, "predicted_y"), _predictions(duck, "predicted_y")
    assert [row[0] for row in on_spark] == [row[0] for row in on_duckdb] == list(range(1, 401))
    np.testing.assert_allclose([row[1] for row in on_spark], [row[1] for row in on_duckdb], rtol=1e-6, atol=1e-6)
    # ML.TRAINING_INFO: one row per round, the loss of every training row (not one machine's), up to the
    # first round that improved it by less than min_rel_progress
    losses = duck.query("SELECT iteration, loss FROM ML.TRAINING_INFO(MODEL ds.m) ORDER BY iteration").fetchall()
    assert [row[0] for row in losses] == list(range(len(losses))) and 2 <= len(losses) < 40
    progress = [(before[1] - after[1]) / before[1] for before, after in zip(losses, losses[1:])]
    assert all(p >= 0.1 for p in progress[:-1]) and progress[-1] < 0.1
    y = np.array([row[0] for row in duck.query("SELECT y FROM ds.t ORDER BY x").fetchall()])
    # (LightGBM keeps its training scores in float32: 1e-6)
    assert losses[-1][1] == pytest.approx(float(np.mean((np.array([row[1] for row in on_duckdb]) - y) ** 2)), rel=1e-6)
    # one process's model: the options reach LightGBM as one process maps them, and every machine bins
    # its rows as one process does (from the same rows: all 400), so the machines' summed histograms
    # grow one process's trees — the same losses round by round, the same predictions (each machine
    # binning its own 200 rows, as LightGBM's distributed mode does by default, ended at loss 1.18 vs 1.13)
    duck.query(statement.format(name="in_process", options=options))
    in_process = duck.query("SELECT iteration, loss FROM ML.TRAINING_INFO(MODEL ds.in_process) ORDER BY iteration").fetchall()
    assert [row[0] for row in in_process] == [row[0] for row in losses]
    np.testing.assert_allclose([row[1] for row in losses], [row[1] for row in in_process], rtol=1e-9)
    in_process_predictions = duck.query("SELECT x, predicted_y FROM ML.PREDICT(MODEL ds.in_process, TABLE ds.t) ORDER BY x").fetchall()
    np.testing.assert_allclose([row[1] for row in on_duckdb], [row[1] for row in in_process_predictions], rtol=1e-9, atol=1e-9)


@pytest.mark.slow
def test_a_random_forest_classifier_trained_on_spark_predicts_the_same_on_both_engines(shared):
    spark_con, duck = shared
    spark_con.query(
        "CREATE MODEL ds.m OPTIONS(model_type='random_forest_classifier', input_label_cols=['band'], num_parallel_tree=8, "
        "max_tree_depth=4, subsample=0.8) AS SELECT x, z, s, band FROM ds.t"
    )
    column = "predicted_band, predicted_band_probs"
    on_spark, on_duckdb = _predictions(spark_con, column), _predictions(duck, column)
    assert [row[1] for row in on_spark] == [row[1] for row in on_duckdb]
    probabilities = lambda rows: [[p["prob"] for p in sorted(row[2], key=lambda p: p["label"])] for row in rows]  # noqa: E731
    np.testing.assert_allclose(probabilities(on_spark), probabilities(on_duckdb), rtol=1e-6, atol=1e-6)
    accuracy = duck.query("SELECT accuracy FROM ML.EVALUATE(MODEL ds.m, TABLE ds.t)").fetchall()[0][0]
    assert accuracy > 0.7
