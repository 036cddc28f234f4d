"""The STRUCT objectives end to end: STRUCT('MAXIMIZE_PRECISION_AT_RECALL', 0.5) scores each trial by
the best precision at a recall of at least a half on the validation rows, as scikit-learn's
precision-recall curve gives it for the same model trained directly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

FEATURES = "x1, x2, plan, active"


def test_precision_at_recall_scores_the_default_logistic_trial_as_scikit_learn_does(automl_con, only_families):
    only_families("LOGISTIC_REG")  # the first trial is the one compared
    automl_con.query(
        "CREATE OR REPLACE MODEL ds.par OPTIONS(model_type='AUTOML_CLASSIFIER', input_label_cols=['churned'], budget_hours=0.0003, "
        f"optimization_objective=STRUCT('MAXIMIZE_PRECISION_AT_RECALL', 0.5), data_split_col='part') AS SELECT {FEATURES}, churned, part FROM ds.train"
    )
    first = automl_con.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.par) WHERE trial_id = 1").arrow().to_pylist()[0]
    assert first["model_type"] == "LOGISTIC_REG"
    automl_con.query(
        "CREATE OR REPLACE MODEL ds.par_direct OPTIONS(model_type='LOGISTIC_REG', input_label_cols=['churned'], l2_reg=0.0, "
        f"data_split_method='CUSTOM', data_split_col='is_eval') AS SELECT {FEATURES}, churned, part = 'VALIDATE' AS is_eval FROM ds.train WHERE part != 'TEST'"
    )
    rows = automl_con.query(
        "SELECT churned, predicted_churned_probs FROM ML.PREDICT(MODEL ds.par_direct, (SELECT * FROM ds.train WHERE part = 'VALIDATE'))"
    ).arrow().to_pylist()
    positive = np.array([next(p["prob"] for p in r["predicted_churned_probs"] if p["label"] is True) for r in rows])
    precision, recall, _ = metrics.precision_recall_curve(np.array([r["churned"] for r in rows]), positive)
    assert first["optimization_objective_value"] == pytest.approx(precision[:-1][recall[:-1] >= 0.5].max(), abs=1e-9)
