"""Hyperparameter tuning: NUM_TRIALS, HPARAM_RANGE/CANDIDATES, ML.TRIAL_INFO and trial serving."""

from __future__ import annotations

import pyarrow as pa
import pytest

import sqlml
from sqlml.progress import Reporter, reporting

TUNED = ("CREATE OR REPLACE MODEL ds.tuned OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['churned'], "
         "num_trials=6, learn_rate=HPARAM_RANGE(0.05, 0.5), max_tree_depth=HPARAM_CANDIDATES([2, 4])) "
         "AS SELECT x1, x2, plan, churned FROM ds.train")  # fmt: skip


@pytest.fixture(scope="module")
def tuned(ml_con):
    ml_con.query(TUNED)
    return ml_con


def test_trial_info_has_bigquerys_columns_and_marks_the_optimal_trial(tuned):
    info = tuned.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.tuned) ORDER BY trial_id").arrow()
    assert info.column_names == ["trial_id", "hyperparameters", "hparam_tuning_evaluation_metrics", "training_loss",
                                 "eval_loss", "status", "error_message", "is_optimal"]  # fmt: skip
    assert info.schema.field("hyperparameters").type == pa.struct([("learn_rate", pa.float64()), ("max_tree_depth", pa.int64())])
    rows = info.to_pylist()
    assert [r["trial_id"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["hyperparameters"] == {"learn_rate": 0.3, "max_tree_depth": 2}  # trial 1 starts at the defaults
    for r in rows:
        assert 0.05 <= r["hyperparameters"]["learn_rate"] <= 0.5 and r["hyperparameters"]["max_tree_depth"] in (2, 4)
    best = max(r["hparam_tuning_evaluation_metrics"]["roc_auc"] for r in rows if r["status"] == "SUCCEEDED")
    assert [r["is_optimal"] for r in rows] == [r["hparam_tuning_evaluation_metrics"]["roc_auc"] == best for r in rows]


def test_evaluate_without_data_returns_every_trial_and_predict_serves_the_optimal_one(tuned):
    evaluation = tuned.query("SELECT * FROM ML.EVALUATE(MODEL ds.tuned) ORDER BY trial_id").arrow()
    assert evaluation.column_names[0] == "trial_id" and evaluation.num_rows == 6
    optimal = tuned.query("SELECT trial_id FROM ML.TRIAL_INFO(MODEL ds.tuned) WHERE is_optimal ORDER BY trial_id LIMIT 1").fetchall()[0][0]
    other = 1 if optimal != 1 else 2
    default = tuned.query("SELECT predicted_churned_probs[1].prob FROM ML.PREDICT(MODEL ds.tuned, TABLE ds.fresh) ORDER BY x1").fetchall()
    chosen = tuned.query(f"SELECT predicted_churned_probs[1].prob FROM ML.PREDICT(MODEL ds.tuned, TABLE ds.fresh, STRUCT({optimal} AS trial_id)) ORDER BY x1").fetchall()
    different = tuned.query(f"SELECT predicted_churned_probs[1].prob FROM ML.PREDICT(MODEL ds.tuned, TABLE ds.fresh, STRUCT({other} AS trial_id)) ORDER BY x1").fetchall()
    assert default == chosen != different
    one = tuned.query(f"SELECT * FROM ML.EVALUATE(MODEL ds.tuned, TABLE ds.fresh, STRUCT({other} AS trial_id))").arrow()
    assert one.num_rows == 1 and one.column_names[0] == "trial_id" and one.column("trial_id").to_pylist() == [other]  # the served trial
    with pytest.raises(sqlml.InvalidOptionError, match=r"The model has no successful trial 99"):
        tuned.query("SELECT * FROM ML.PREDICT(MODEL ds.tuned, TABLE ds.fresh, STRUCT(99 AS trial_id))")
    with pytest.raises(sqlml.ModelError, match=r"(?s)ML.TRAINING_INFO does not support models trained with num_trials.*ML.TRIAL_INFO"):
        tuned.query("SELECT * FROM ML.TRAINING_INFO(MODEL ds.tuned)")


def test_tuning_split_is_80_10_10(tuned):
    from sqlml.store.records import ModelRef

    split = tuned.models.resolve(ModelRef("ds", "tuned")).metadata["split"]
    assert (split["training_rows"], split["eval_rows"], split["test_rows"]) == (960, 120, 120)


def test_grid_search_needs_candidates_and_covers_the_grid(ml_con):
    with pytest.raises(sqlml.InvalidOptionError, match=r"GRID_SEARCH' needs every tuned option as HPARAM_CANDIDATES"):
        ml_con.query("CREATE OR REPLACE MODEL ds.grid OPTIONS(model_type='linear_reg', input_label_cols=['target'], num_trials=4, "
                     "hparam_tuning_algorithm='GRID_SEARCH', l2_reg=HPARAM_RANGE(0, 1)) AS SELECT x1, target FROM ds.train")
    ml_con.query("CREATE OR REPLACE MODEL ds.grid OPTIONS(model_type='linear_reg', input_label_cols=['target'], num_trials=10, "
                 "hparam_tuning_algorithm='GRID_SEARCH', l2_reg=HPARAM_CANDIDATES([0.0, 0.5, 2.0])) AS SELECT x1, target FROM ds.train")
    values = sorted(r[0]["l2_reg"] for r in ml_con.query("SELECT hyperparameters FROM ML.TRIAL_INFO(MODEL ds.grid)").fetchall())
    assert values == [0.0, 0.5, 2.0]  # the grid is exhausted before num_trials


def test_a_failed_trial_is_recorded_and_does_not_sink_the_others(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.km_tuned OPTIONS(model_type='kmeans', num_trials=3, hparam_tuning_algorithm='GRID_SEARCH', "
                 "num_clusters=HPARAM_CANDIDATES([2, 3, 60])) AS SELECT x1, x2 FROM ds.train LIMIT 50")
    rows = {r[0]["num_clusters"]: r[1:] for r in ml_con.query("SELECT hyperparameters, status, error_message FROM ML.TRIAL_INFO(MODEL ds.km_tuned)").fetchall()}
    assert rows[60][0] == "FAILED" and "at least num_clusters=60 rows" in rows[60][1]
    assert rows[2][0] == rows[3][0] == "SUCCEEDED"
    # k-means objective: Davies-Bouldin, minimized
    best = ml_con.query("SELECT MIN(hparam_tuning_evaluation_metrics.davies_bouldin_index) FROM ML.TRIAL_INFO(MODEL ds.km_tuned)").fetchall()[0][0]
    optimal = ml_con.query("SELECT hparam_tuning_evaluation_metrics.davies_bouldin_index FROM ML.TRIAL_INFO(MODEL ds.km_tuned) WHERE is_optimal").fetchall()
    assert optimal == [(best,)]


def test_objective_option_and_its_direction(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.ll OPTIONS(model_type='logistic_reg', input_label_cols=['churned'], num_trials=4, "
                 "hparam_tuning_objectives=['LOG_LOSS'], l2_reg=HPARAM_RANGE(0.0001, 10)) AS SELECT x1, x2, churned FROM ds.train")
    losses = ml_con.query("SELECT hparam_tuning_evaluation_metrics.log_loss, is_optimal FROM ML.TRIAL_INFO(MODEL ds.ll)").fetchall()
    assert [o for l, o in losses] == [l == min(x for x, _ in losses) for l, _ in losses]
    with pytest.raises(sqlml.InvalidOptionError, match=r"'R2_SCORE' is not a tuning objective for LOGISTIC_REG"):
        ml_con.query("CREATE OR REPLACE MODEL ds.ll OPTIONS(model_type='logistic_reg', input_label_cols=['churned'], num_trials=2, "
                     "hparam_tuning_objectives=['R2_SCORE']) AS SELECT x1, churned FROM ds.train")


def test_hopeless_trials_are_pruned(ml_con):
    # 8 trials of 10 rounds: the seeded search's 8th trial falls behind the median of those before it
    ml_con.query("CREATE OR REPLACE MODEL ds.pruned OPTIONS(model_type='boosted_tree_regressor', input_label_cols=['target'], num_trials=8, "
                 "early_stop=FALSE, max_iterations=10, learn_rate=HPARAM_RANGE(0.001, 1.0)) AS SELECT x1, x2, plan, target FROM ds.train")
    statuses = [r[0] for r in ml_con.query("SELECT status FROM ML.TRIAL_INFO(MODEL ds.pruned)").fetchall()]
    assert "PRUNED" in statuses and "SUCCEEDED" in statuses


def test_cancelling_tuning_keeps_the_previous_model(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.keep OPTIONS(model_type='linear_reg', input_label_cols=['target']) AS SELECT x1, target FROM ds.train")
    before = [v.version for v in ml_con.models.versions("ds", "keep")]

    class CancelAfterFirstTrial(Reporter):
        def advanced(self, task):
            if task.unit == "trials":
                ml_con.interrupt()

    with reporting(CancelAfterFirstTrial()), pytest.raises(sqlml.Cancelled, match=r"Tuning was cancelled"):
        ml_con.query("CREATE OR REPLACE MODEL ds.keep OPTIONS(model_type='boosted_tree_regressor', input_label_cols=['target'], num_trials=6) AS SELECT x1, x2, target FROM ds.train")
    assert [v.version for v in ml_con.models.versions("ds", "keep")] == before
