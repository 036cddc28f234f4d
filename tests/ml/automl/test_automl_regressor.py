"""AUTOML_REGRESSOR with MINIMIZE_MAE: every trial scored by the mean absolute error on the
validation rows, the optimal one the lowest, predictions equal to the chosen members trained directly."""

from __future__ import annotations

import json

import numpy as np
import pytest

FEATURES = "x1, x2, plan, active"


@pytest.fixture(scope="module")
def regressor(automl_con):
    automl_con.query(
        "CREATE OR REPLACE MODEL ds.reg OPTIONS(model_type='AUTOML_REGRESSOR', input_label_cols=['target'], "
        f"budget_hours=0.0003, optimization_objective='minimize_mae', data_split_col='part') AS SELECT {FEATURES}, target, part FROM ds.train"
    )
    return automl_con


def _predicted(con, model: str) -> np.ndarray:
    return con.query(f"SELECT predicted_target FROM ML.PREDICT(MODEL {model}, (SELECT * FROM ds.fresh))").df().predicted_target.to_numpy()


def test_trials_are_scored_by_mae_and_the_lowest_is_optimal(regressor):
    rows = regressor.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.reg)").arrow().to_pylist()
    assert [r["model_type"] for r in rows[:3]] == ["LINEAR_REG", "BOOSTED_TREE_REGRESSOR", "RANDOM_FOREST_REGRESSOR"]
    scored = [r for r in rows if r["status"] == "SUCCEEDED"]
    for row in scored:
        assert row["optimization_objective_value"] == pytest.approx(row["hparam_tuning_evaluation_metrics"]["mean_absolute_error"])
    optimal = next(r for r in rows if r["is_optimal"])
    assert optimal["optimization_objective_value"] == min(r["optimization_objective_value"] for r in scored)
    evaluated = regressor.query("SELECT * FROM ML.EVALUATE(MODEL ds.reg)").arrow()
    assert evaluated.column_names == [
        "mean_absolute_error", "mean_squared_error", "mean_squared_log_error", "median_absolute_error", "r2_score", "explained_variance",
    ]  # fmt: skip


def test_predictions_equal_the_chosen_members_trained_directly(regressor):
    rows = {r["trial_id"]: r for r in regressor.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.reg)").arrow().to_pylist()}
    optimal = next(r for r in rows.values() if r["is_optimal"])
    weights = {optimal["trial_id"]: 1.0}
    if optimal["model_type"] == "ENSEMBLE":
        weights = {int(k.removeprefix("trial_")): w for k, w in json.loads(optimal["hyperparameters"]).items()}
    expected = 0.0
    for trial_id, weight in weights.items():
        options = ", ".join(f"{k}={v!r}" for k, v in json.loads(rows[trial_id]["hyperparameters"]).items() if v is not None)
        regressor.query(
            f"CREATE OR REPLACE MODEL ds.reg_direct OPTIONS(model_type='{rows[trial_id]['model_type']}', input_label_cols=['target'], "
            f"data_split_method='CUSTOM', data_split_col='is_eval', {options}) "
            f"AS SELECT {FEATURES}, target, part = 'VALIDATE' AS is_eval FROM ds.train WHERE part != 'TEST'"
        )
        expected = expected + weight * _predicted(regressor, "ds.reg_direct")
    assert _predicted(regressor, "ds.reg") == pytest.approx(expected, rel=1e-9, abs=1e-9)
