"""An AUTOML model whose choice is an ensemble: ML.PREDICT, ML.EVALUATE, ML.EXPLAIN_PREDICT and
ML.GLOBAL_EXPLAIN against its members trained directly, and the functions BigQuery refuses.

The search is real; only its choice is fixed (the ensemble selection is replaced by a 1/4 + 3/4
mix of the two best boosted-tree trials, the only family searched), so the test does not depend
on which candidates a tiny budget happens to find. Expected values come from the same members as
plain BOOSTED_TREE_REGRESSOR models trained on each fold's rows, the fold evaluating (as AutoML
bags its choice's fold models), and on all the folds' rows for the iterations the trial ran (as
AutoML refits its choice): their predictions and attributions, mixed with the weights (half of
each trial's split evenly among its five fold models, half its refit's), and scikit-learn's
metrics of the mix on the TEST rows.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics

import sqlml
from sqlml.ml.automl import crossval as automl_crossval
from sqlml.ml.automl import search as automl_search
from sqlml.ml.automl.family import AutoMLFamily
from tests.ml.automl.members import bagged_members, direct_split, fold_table, recording_folds

FEATURES = "x1, x2, plan, active"
#: x2's missing values filled in the query: the fold models' preprocessing imputes them with the
#: mean of all training and validation rows, a direct model with the mean of its own rows
FILLED = "x1, COALESCE(x2, 0.0) AS x2, plan, active"


@pytest.fixture(scope="module")
def ensemble(automl_con):
    def two_best(outputs, ranked, objective, y, kind, folds=None):
        return {ranked[0]: 0.25, ranked[1]: 0.75}, 0.0

    with pytest.MonkeyPatch.context() as patch:
        only_trees = lambda self, model_type: [("BOOSTED_TREE_REGRESSOR", self.lookup("BOOSTED_TREE_REGRESSOR"))]  # noqa: E731
        patch.setattr(AutoMLFamily, "searched", only_trees)
        patch.setattr(automl_search, "select", two_best)
        patch.setattr(automl_search, "clearly_better_on_folds", lambda *args: True)
        patch.setattr(automl_search, "CROSS_VALIDATION_SHARE", 0.0)  # the whole budget searches: two trials at least,
        patch.setattr(automl_search, "PATIENCE", 2)  # and ends two trials after the best (three at least), not forty
        patch.setattr(automl_search, "MIN_CROSS_VALIDATION_SHARE", 40.0)  # and time to cross-validate both under load
        patch.setattr(automl_crossval, "fits_in", lambda *args: True)  # whatever the machine's load makes of the estimates
        patch.setattr(automl_crossval, "FINALISTS", 2)  # the two the ensemble takes: the rest would only cost time
        folds = recording_folds(patch)
        automl_con.query(
            "CREATE OR REPLACE MODEL ds.ens OPTIONS(model_type='AUTOML_REGRESSOR', input_label_cols=['target'], budget_hours=0.002, "
            f"data_split_col='part') AS SELECT {FILLED}, target, part FROM ds.train"
        )
    rows = {r["trial_id"]: r for r in automl_con.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.ens)").arrow().to_pylist()}
    optimal = next(r for r in rows.values() if r["is_optimal"])
    assert optimal["model_type"] == "ENSEMBLE"
    weights = {int(k.removeprefix("trial_")): w for k, w in json.loads(optimal["hyperparameters"]).items()}
    assert sorted(weights.values()) == [0.25, 0.75]
    members = bagged_members(automl_con, "ds.ens")
    # each trial's five fold models share half its weight, its refit on all their rows the other half
    assert sorted(w for _, _, w, _ in members) == pytest.approx(sorted([0.025] * 5 + [0.075] * 5 + [0.125, 0.375]))
    for number, (model_type, options, _, fold) in enumerate(members):
        fold_table(automl_con, folds, f"SELECT {FILLED}, target, part FROM ds.train", fold, "ds.fold")
        split, is_eval = direct_split(fold)
        automl_con.query(
            f"CREATE OR REPLACE MODEL ds.member{number} OPTIONS(model_type='{model_type}', input_label_cols=['target'], "
            f"{split}, {options}) AS SELECT {FEATURES}, target{is_eval} FROM ds.fold"
        )
    return automl_con, [(f"ds.member{n}", w) for n, (_, _, w, _) in enumerate(members)]


def _predicted(con, model: str, rows: str) -> np.ndarray:
    return con.query(f"SELECT predicted_target FROM ML.PREDICT(MODEL {model}, ({rows}))").df().predicted_target.to_numpy()


def test_predict_and_evaluate_are_the_weighted_members(ensemble):
    con, members = ensemble
    test_rows = f"SELECT {FILLED}, target FROM ds.train WHERE part = 'TEST'"
    mixed = sum(w * _predicted(con, m, test_rows) for m, w in members)
    assert _predicted(con, "ds.ens", test_rows) == pytest.approx(mixed, rel=1e-9, abs=1e-9)
    truth = con.query(f"SELECT target FROM ({test_rows})").df().target.to_numpy()
    stored = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.ens)").arrow().to_pylist()[0]
    assert stored["mean_absolute_error"] == pytest.approx(metrics.mean_absolute_error(truth, mixed), rel=1e-9)
    assert stored["mean_squared_error"] == pytest.approx(metrics.mean_squared_error(truth, mixed), rel=1e-9)
    assert stored["r2_score"] == pytest.approx(metrics.r2_score(truth, mixed), rel=1e-9)


def test_explain_predict_attributions_are_the_weighted_members_and_add_up(ensemble):
    con, members = ensemble
    query = f"ML.EXPLAIN_PREDICT(MODEL {{}}, (SELECT {FILLED} FROM ds.fresh LIMIT 25), STRUCT(4 AS top_k_features))"

    def attributions(model):
        rows = con.query(f"SELECT * FROM {query.format(model)}").arrow().to_pylist()
        return [({a["feature"]: a["attribution"] for a in r["top_feature_attributions"]}, r) for r in rows]

    mine = attributions("ds.ens")
    theirs = [attributions(m) for m, _ in members]
    for index, (by_feature, row) in enumerate(mine):
        for feature in ("x1", "x2", "plan", "active"):
            want = sum(w * theirs[k][index][0][feature] for k, (_, w) in enumerate(members))
            assert by_feature[feature] == pytest.approx(want, abs=1e-9)
        total = row["baseline_prediction_value"] + sum(by_feature.values())
        assert total == pytest.approx(row["prediction_value"], abs=1e-9)
        assert row["prediction_value"] == pytest.approx(row["predicted_target"], abs=1e-9)


def test_global_explain_is_the_mean_absolute_attribution_over_evenly_spaced_validation_rows(ensemble):
    con, _ = ensemble
    explained = con.query(
        f"SELECT * FROM ML.EXPLAIN_PREDICT(MODEL ds.ens, (SELECT {FILLED} FROM ds.train WHERE part = 'VALIDATE'), STRUCT(4 AS top_k_features))"
    ).arrow().to_pylist()
    # twelve members attribute EXPLAINED_MEMBER_ROWS / 12 = 100 of the ~120 validation rows, evenly spaced
    keep = max(automl_search.MIN_EXPLAINED_ROWS, automl_search.EXPLAINED_MEMBER_ROWS // 12)
    assert len(explained) > keep
    explained = [explained[i] for i in np.linspace(0, len(explained) - 1, keep).round().astype(int)]
    mean_abs = {f: np.mean([abs(next(a["attribution"] for a in r["top_feature_attributions"] if a["feature"] == f)) for r in explained])
                for f in ("x1", "x2", "plan", "active")}  # fmt: skip
    table = con.query("SELECT * FROM ML.GLOBAL_EXPLAIN(MODEL ds.ens)").arrow()
    assert table.column_names == ["feature", "attribution"]
    got = dict(zip(table.column("feature").to_pylist(), table.column("attribution").to_pylist()))
    assert got == pytest.approx(mean_abs, rel=1e-9)
    assert list(got) == sorted(got, key=lambda f: -got[f])


def test_functions_bigquery_refuses_for_automl_are_clear_errors(ensemble, automl_con, only_families):
    con, _ = ensemble
    with pytest.raises(sqlml.ModelError) as caught:
        con.query("SELECT * FROM ML.FEATURE_IMPORTANCE(MODEL ds.ens)")
    assert caught.value.message == (
        "ML.FEATURE_IMPORTANCE does not support AUTOML_REGRESSOR models; it needs a boosted tree, random forest or "
        "imported XGBOOST model. ds.ens is AUTOML_REGRESSOR."
    )
    only_families("LOGISTIC_REG")
    automl_con.query(
        "CREATE OR REPLACE MODEL ds.cls OPTIONS(model_type='AUTOML_CLASSIFIER', input_label_cols=['tier'], budget_hours=0.0002) "
        f"AS SELECT {FEATURES}, tier FROM ds.train"
    )
    with pytest.raises(sqlml.InvalidOptionError) as caught:
        automl_con.query("SELECT * FROM ML.GLOBAL_EXPLAIN(MODEL ds.cls, STRUCT(TRUE AS class_level_explain))")
    assert caught.value.message == (
        "class_level_explain applies only to non-AutoML classification models; AUTOML_CLASSIFIER models have "
        "model-level global feature importance only."
    )
    overall = automl_con.query("SELECT feature FROM ML.GLOBAL_EXPLAIN(MODEL ds.cls)").arrow().column("feature").to_pylist()
    assert sorted(overall) == ["active", "plan", "x1", "x2"]
