"""A linear + tree blend: the best boosted-tree trial fitted again on the logistic regression's rows
(standardized, one-hot), listed in ML.TRIAL_INFO, and mixed with the logistic model.

The search is real (LOGISTIC_REG and BOOSTED_TREE_CLASSIFIER only); ensemble selection is fixed to
½ of the best logistic trial + ½ of the transplanted tree, so the test does not depend on which one a
tiny budget finds best; every trial is its family's defaults.
Expected values come from the same two models trained directly on each fold's rows, the fold
evaluating (as AutoML bags its choice's fold models): LOGISTIC_REG, and BOOSTED_TREE_CLASSIFIER on
the columns z-scored over the training and validation rows as the logistic model's rows are
(numeric columns: x2's missing values are filled in the query; a category is one 0/1 column, as
one-hot encoding would make it); the direct logistic model standardizes its fold's rows again, so
it is only near its fold model (within 0.02 in probability; the trees are equal).
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from sqlml.ml.automl import blend, crossval
from sqlml.ml.automl import search as automl_search
from sqlml.ml.automl.candidates import candidates
from sqlml.ml.automl.family import AutoMLFamily
from tests.ml.automl.members import bagged_members, direct_split, fold_table, recording_folds, trained

FEATURES = "x1, COALESCE(x2, 0.0) AS x2, IF(plan = 'pro', 1.0, 0.0) AS pro, CAST(active AS INT64) AS active"
COLUMNS = "x1, x2, pro, active"
SEARCHED = ("LOGISTIC_REG", "BOOSTED_TREE_CLASSIFIER")


@pytest.fixture(scope="module")
def blended(automl_con):
    added: list[int] = []

    def recording(kept, *args):
        before = set(kept)
        original(kept, *args)
        added.extend(t for t in kept if t not in before)

    def host_and_guest(outputs, ranked, objective, y, kind, folds=None):
        guests = [t for t in ranked if t in added]
        if not guests:
            return {ranked[0]: 1.0}, None
        return {next(t for t in ranked if t not in added): 0.5, guests[0]: 0.5}, 2.0  # beats any ROC AUC

    original = blend.transplant
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AutoMLFamily, "searched", lambda self, model_type: [(name, self.lookup(name)) for name in SEARCHED])
        patch.setattr(automl_search, "transplant", recording)
        patch.setattr(automl_search, "select", host_and_guest)
        patch.setattr(automl_search, "clearly_better_on_folds", lambda *args: True)
        patch.setattr(automl_search, "MIN_CROSS_VALIDATION_SHARE", 40.0)  # time to cross-validate both families under load,
        patch.setattr(crossval, "fits_in", lambda *args: True)  # whatever the machine's load makes of the estimates
        patch.setattr(blend, "fits_in", lambda *args: True)
        patch.setattr(crossval, "clearly_worse", lambda *args: False)  # the tree is cross-validated on every fold, however it races
        patch.setattr(automl_search, "candidates", lambda *args: [replace(c, spaces={}) for c in candidates(*args)])
        patch.setattr(automl_search, "PATIENCE", 0)  # the defaults only: more trials would repeat them
        folds = recording_folds(patch)
        automl_con.query(
            "CREATE OR REPLACE MODEL ds.blend OPTIONS(model_type='AUTOML_CLASSIFIER', input_label_cols=['churned'], budget_hours=0.002, "
            f"data_split_col='part') AS SELECT {FEATURES}, churned, part FROM ds.train"
        )
    return automl_con, added, folds


def _positive(con, model: str, features: str = COLUMNS) -> np.ndarray:
    fresh = f"SELECT {features} FROM (SELECT {FEATURES} FROM ds.fresh)"
    rows = con.query(f"SELECT predicted_churned_probs FROM ML.PREDICT(MODEL {model}, ({fresh}))").arrow().to_pylist()
    return np.array([next(p["prob"] for p in row["predicted_churned_probs"] if p["label"] is True) for row in rows])


@pytest.mark.slow  # a search, the cross-validation of two families and ten direct fold models: ~70 s at load 20
def test_a_tree_on_the_logistic_rows_is_a_trial_and_blends_with_the_logistic_model(blended):
    con, added, folds = blended
    rows = {r["trial_id"]: r for r in con.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.blend)").arrow().to_pylist()}
    assert len(added) == 1
    guest = rows[added[0]]
    hyperparameters = json.loads(guest["hyperparameters"])
    assert (guest["model_type"], hyperparameters.pop("features_of"), guest["status"]) == ("BOOSTED_TREE_CLASSIFIER", "LOGISTIC_REG", "SUCCEEDED")
    assert guest["cross_validation_objective_value"] is not None
    assert any(r["model_type"] == "BOOSTED_TREE_CLASSIFIER" and json.loads(r["hyperparameters"]) == hyperparameters for r in rows.values())
    optimal = next(r for r in rows.values() if r["is_optimal"])
    assert optimal["model_type"] == "ENSEMBLE" and f"trial_{added[0]}" in json.loads(optimal["hyperparameters"])
    members = bagged_members(con, "ds.blend")
    assert sorted(w for _, _, w, _ in members) == pytest.approx([0.05] * 10 + [0.25] * 2)  # two trials' fold models, then their refits
    stored = trained(con, "ds.blend")
    X = stored.preprocessor.transform(con.query(f"SELECT {FEATURES} FROM ds.fresh").arrow(), sparse=False)
    logit = 0.0
    scaled = _standardized(con)  # each column z-scored with the training and validation rows' mean and sample stddev
    for number, ((model_type, options, weight, fold), member) in enumerate(zip(members, stored.estimator.members, strict=True)):
        fold_table(con, folds, f"SELECT {scaled}, churned FROM (SELECT {FEATURES}, churned, part FROM ds.train)", fold, "ds.fold")
        split, is_eval = direct_split(fold)
        con.query(
            f"CREATE OR REPLACE MODEL ds.blend{number} OPTIONS(model_type='{model_type}', input_label_cols=['churned'], "
            f"{split}{', ' * bool(options)}{options}) AS SELECT {COLUMNS}, churned{is_eval} FROM ds.fold"
        )
        p = member[3].predict(X)[:, 1]
        # the tree read the logistic model's rows: exactly a tree on the z-scored columns; the direct
        # logistic model z-scores its fold's rows again, and its descent stops elsewhere on them
        assert p == pytest.approx(_positive(con, f"ds.blend{number}", scaled), abs=1e-9 if model_type != "LOGISTIC_REG" else 0.02)
        logit = logit + weight * np.log(p / (1 - p))
    assert _positive(con, "ds.blend") == pytest.approx(1 / (1 + np.exp(-logit)), abs=1e-9)


def _standardized(con) -> str:
    frame = con.query(f"SELECT {FEATURES} FROM ds.train WHERE part != 'TEST'").df().astype(float)
    return ", ".join(f"({column} - {float(frame[column].mean())!r}) / {float(frame[column].std(ddof=1))!r} AS {column}" for column in frame.columns)
