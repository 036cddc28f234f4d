"""AUTOML_REGRESSOR with MINIMIZE_MAE: every trial scored by the mean absolute error on the
validation rows, the optimal one the lowest, predictions equal to the chosen members refitted directly on the training and validation rows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sqlml.ml.automl.crossval import FOLDS
from sqlml.ml.automl.family import AutoMLFamily
from sqlml.ml.models.catalog import canonical_name, family_of
from tests.ml.automl.members import bagged_members, refitted_members, trained

FEATURES = "x1, x2, plan, active"


#: the families searched here: every default is cross-validated whatever the budget, and these
#: tests need no more than two families (the order of all four is :func:`test_the_cheap_families_defaults_run_first`'s)
SEARCHED = ("LINEAR_REG", "BOOSTED_TREE_REGRESSOR")


@pytest.fixture(scope="module")
def regressor(automl_con):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AutoMLFamily, "searched", lambda self, model_type: [(name, self.lookup(name)) for name in SEARCHED])
        _create(automl_con)
    return automl_con


def _create(automl_con) -> None:
    automl_con.query(
        "CREATE OR REPLACE MODEL ds.reg OPTIONS(model_type='AUTOML_REGRESSOR', input_label_cols=['target'], "
        f"budget_hours=0.0003, optimization_objective='minimize_mae', data_split_col='part') AS SELECT {FEATURES}, target, part FROM ds.train"
    )


def _predicted(con, model: str) -> np.ndarray:
    return con.query(f"SELECT predicted_target FROM ML.PREDICT(MODEL {model}, (SELECT * FROM ds.fresh))").df().predicted_target.to_numpy()


def test_the_cheap_families_defaults_run_first():
    first = [t for t in ("LINEAR_REG", "BOOSTED_TREE_REGRESSOR", "DNN_REGRESSOR", "RANDOM_FOREST_REGRESSOR") if canonical_name(t)]
    assert [name for name, _ in family_of("AUTOML_REGRESSOR").searched("AUTOML_REGRESSOR")] == first  # the order their default trials are queued in


def test_trials_are_scored_by_mae_and_the_lowest_is_optimal(regressor):
    rows = regressor.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.reg)").arrow().to_pylist()
    assert [r["model_type"] for r in rows[: len(SEARCHED)]] == list(SEARCHED)
    scored = [r for r in rows if r["status"] == "SUCCEEDED"]
    for row in scored:
        assert row["optimization_objective_value"] == pytest.approx(row["hparam_tuning_evaluation_metrics"]["mean_absolute_error"])
    optimal = next(r for r in rows if r["is_optimal"])
    assert optimal["optimization_objective_value"] == min(r["optimization_objective_value"] for r in scored)
    evaluated = regressor.query("SELECT * FROM ML.EVALUATE(MODEL ds.reg)").arrow()
    assert evaluated.column_names == [
        "mean_absolute_error", "mean_squared_error", "mean_squared_log_error", "median_absolute_error", "r2_score", "explained_variance",
    ]  # fmt: skip


def test_predictions_are_the_chosen_members_bagged_or_refitted(regressor):
    optimal = regressor.query("SELECT model_type, hyperparameters FROM ML.TRIAL_INFO(MODEL ds.reg) WHERE is_optimal").fetchall()[0]
    chosen = json.loads(optimal[1]) if optimal[0] == "ENSEMBLE" else {optimal[0]: 1.0}
    stored = trained(regressor, "ds.reg")
    if stored.spec["automl"]["bagged_folds"]:  # cross-validated in the budget (1 s: not under every load)
        members = bagged_members(regressor, "ds.reg")
        expected = [w / 2 / FOLDS for w in chosen.values() for _ in range(FOLDS)] + [w / 2 for w in chosen.values()]  # the bag and the refit
        assert sorted(w for _, _, w, _ in members) == pytest.approx(sorted(expected))
        X = stored.preprocessor.transform(regressor.query(f"SELECT {FEATURES} FROM ds.fresh").arrow(), sparse=stored.estimator.task.sparse)
        expected = sum(weight * estimator.predict(X) for _, _, weight, estimator in stored.estimator.members)
        assert _predicted(regressor, "ds.reg") == pytest.approx(expected, rel=1e-9, abs=1e-9)
        return
    members = refitted_members(regressor, "ds.reg")
    assert sorted(w for *_, w in members) == sorted(chosen.values())
    expected = 0.0
    for model_type, options, weight in members:
        regressor.query(
            f"CREATE OR REPLACE MODEL ds.reg_direct OPTIONS(model_type='{model_type}', input_label_cols=['target'], "
            f"data_split_method='NO_SPLIT', {options}) AS SELECT {FEATURES}, target FROM ds.train WHERE part != 'TEST'"
        )
        expected = expected + weight * _predicted(regressor, "ds.reg_direct")
    assert _predicted(regressor, "ds.reg") == pytest.approx(expected, rel=1e-9, abs=1e-9)
