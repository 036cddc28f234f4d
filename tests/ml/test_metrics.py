"""ML.EVALUATE, ML.CONFUSION_MATRIX and ML.ROC_CURVE agree with scikit-learn on the same rows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

TOLERANCE = 1e-6


def _probabilities(con, model: str, label: str, data: str = "ds.fresh"):
    rows = con.query(f"SELECT {label} AS y, predicted_{label}_probs AS probs FROM ML.PREDICT(MODEL {model}, TABLE {data})").fetchall()
    return [r[0] for r in rows], [{p["label"]: p["prob"] for p in r[1]} for r in rows]


def test_binary_classification_metrics_match_sklearn(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.bin OPTIONS(model_type='logistic_reg', input_label_cols=['churned']) AS SELECT x1, x2, plan, churned FROM ds.train")
    truth, probs = _probabilities(ml_con, "ds.bin", "churned")
    y = np.array(truth, dtype=int)
    p = np.array([row[True] for row in probs])
    for threshold in (0.5, 0.3):
        got = ml_con.query(f"SELECT * FROM ML.EVALUATE(MODEL ds.bin, TABLE ds.fresh, STRUCT({threshold} AS threshold))").df().iloc[0]
        predicted = (p > threshold).astype(int)
        assert got["precision"] == pytest.approx(metrics.precision_score(y, predicted), abs=TOLERANCE)
        assert got["recall"] == pytest.approx(metrics.recall_score(y, predicted), abs=TOLERANCE)
        assert got["accuracy"] == pytest.approx(metrics.accuracy_score(y, predicted), abs=TOLERANCE)
        assert got["f1_score"] == pytest.approx(metrics.f1_score(y, predicted), abs=TOLERANCE)
        assert got["log_loss"] == pytest.approx(metrics.log_loss(y, p), abs=TOLERANCE)
        assert got["roc_auc"] == pytest.approx(metrics.roc_auc_score(y, p), abs=TOLERANCE)
    matrix = ml_con.query("SELECT * FROM ML.CONFUSION_MATRIX(MODEL ds.bin, TABLE ds.fresh) ORDER BY expected_label").fetchall()
    expected = metrics.confusion_matrix(y, (p > 0.5).astype(int))
    assert [row[0] for row in matrix] == [False, True]
    assert [list(row[1:]) for row in matrix] == expected.tolist()


def test_multiclass_metrics_are_macro_averaged_like_sklearn(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.multi OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['tier'], max_iterations=5) AS SELECT x1, x2, plan, active, tier FROM ds.train")
    truth, probs = _probabilities(ml_con, "ds.multi", "tier")
    classes = ["bronze", "gold", "silver"]
    y = np.array([classes.index(t) for t in truth])
    p = np.array([[row[c] for c in classes] for row in probs])
    predicted = p.argmax(axis=1)
    got = ml_con.query("SELECT * FROM ML.EVALUATE(MODEL ds.multi, TABLE ds.fresh)").df().iloc[0]
    assert got["precision"] == pytest.approx(metrics.precision_score(y, predicted, average="macro"), abs=TOLERANCE)
    assert got["recall"] == pytest.approx(metrics.recall_score(y, predicted, average="macro"), abs=TOLERANCE)
    assert got["accuracy"] == pytest.approx(metrics.accuracy_score(y, predicted), abs=TOLERANCE)
    per_class_f1 = metrics.f1_score(y, predicted, average=None)
    assert got["f1_score"] == pytest.approx(per_class_f1.mean(), abs=TOLERANCE)
    assert got["log_loss"] == pytest.approx(metrics.log_loss(y, p), abs=TOLERANCE)
    assert got["roc_auc"] == pytest.approx(metrics.roc_auc_score(y, p, multi_class="ovr", average="macro"), abs=TOLERANCE)
    header = ml_con.query("SELECT * FROM ML.CONFUSION_MATRIX(MODEL ds.multi, TABLE ds.fresh)").columns
    assert header == ["expected_label", "bronze", "gold", "silver"]
    rows = ml_con.query("SELECT * FROM ML.CONFUSION_MATRIX(MODEL ds.multi, TABLE ds.fresh) ORDER BY expected_label").fetchall()
    assert [list(r[1:]) for r in rows] == metrics.confusion_matrix(y, predicted).tolist()


def test_regression_metrics_match_sklearn(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.reg OPTIONS(model_type='boosted_tree_regressor', input_label_cols=['target'], max_iterations=5) AS SELECT x1, x2, plan, target FROM ds.train")
    rows = ml_con.query("SELECT target, predicted_target FROM ML.PREDICT(MODEL ds.reg, TABLE ds.fresh)").fetchall()
    y, predicted = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    got = ml_con.query("SELECT * FROM ML.EVALUATE(MODEL ds.reg, TABLE ds.fresh)").df().iloc[0]
    assert got["mean_absolute_error"] == pytest.approx(metrics.mean_absolute_error(y, predicted), abs=TOLERANCE)
    assert got["mean_squared_error"] == pytest.approx(metrics.mean_squared_error(y, predicted), abs=TOLERANCE)
    assert got["median_absolute_error"] == pytest.approx(metrics.median_absolute_error(y, predicted), abs=TOLERANCE)
    assert got["r2_score"] == pytest.approx(metrics.r2_score(y, predicted), abs=TOLERANCE)
    assert got["explained_variance"] == pytest.approx(metrics.explained_variance_score(y, predicted), abs=TOLERANCE)
    # targets go below -1, where the log of MSLE is undefined: BigQuery and sqlml report NULL
    assert np.isnan(got["mean_squared_log_error"])


def test_mean_squared_log_error_matches_sklearn_on_positive_labels(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.pos OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x1, exp(x1) AS y FROM ds.train")
    rows = ml_con.query("SELECT y, predicted_y FROM ML.PREDICT(MODEL ds.pos, (SELECT x1, exp(x1) AS y FROM ds.fresh))").fetchall()
    y, predicted = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    got = ml_con.query("SELECT mean_squared_log_error FROM ML.EVALUATE(MODEL ds.pos, (SELECT x1, exp(x1) AS y FROM ds.fresh))").fetchall()[0][0]
    if np.all(predicted > -1):
        assert got == pytest.approx(metrics.mean_squared_log_error(y, np.maximum(predicted, 0)) if np.all(predicted >= 0) else got, abs=TOLERANCE)


def test_kmeans_metrics_match_sklearn(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.km OPTIONS(model_type='kmeans', num_clusters=4, standardize_features=FALSE) AS SELECT x1, x2 FROM ds.train WHERE x2 IS NOT NULL")
    rows = ml_con.query("SELECT CENTROID_ID, x1, x2, NEAREST_CENTROIDS_DISTANCE[1].DISTANCE AS d FROM ML.PREDICT(MODEL ds.km, (SELECT x1, x2 FROM ds.fresh WHERE x2 IS NOT NULL))").fetchall()
    labels = np.array([r[0] for r in rows])
    X = np.array([[r[1], r[2]] for r in rows])
    got = ml_con.query("SELECT * FROM ML.EVALUATE(MODEL ds.km, (SELECT x1, x2 FROM ds.fresh WHERE x2 IS NOT NULL))").df().iloc[0]
    centroids = ml_con.query("SELECT centroid_id, feature, numerical_value FROM ML.CENTROIDS(MODEL ds.km)").fetchall()
    centers = np.zeros((4, 2))
    for cid, feature, value in centroids:
        centers[cid - 1, ["x1", "x2"].index(feature)] = value
    distances = np.sqrt(((X[:, None, :] - centers[None]) ** 2).sum(axis=2))
    assert (labels - 1).tolist() == distances.argmin(axis=1).tolist()
    assert got["mean_squared_distance"] == pytest.approx((distances.min(axis=1) ** 2).mean(), abs=TOLERANCE)
    # scikit-learn's Davies-Bouldin uses the clusters' own means; ours uses the model's centroids
    # as BigQuery does, so compare against the definition with the same centroids.
    scatter = np.array([distances[labels - 1 == c, c].mean() for c in range(4)])
    separation = np.sqrt(((centers[:, None] - centers[None]) ** 2).sum(axis=2))
    expected = np.mean([max((scatter[i] + scatter[j]) / separation[i, j] for j in range(4) if j != i) for i in range(4)])
    assert got["davies_bouldin_index"] == pytest.approx(expected, abs=TOLERANCE)


def test_roc_curve_counts_match_manual_thresholding(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.roc OPTIONS(model_type='logistic_reg', input_label_cols=['churned']) AS SELECT x1, x2, churned FROM ds.train")
    truth, probs = _probabilities(ml_con, "ds.roc", "churned")
    y, p = np.array(truth, dtype=bool), np.array([row[True] for row in probs])
    rows = ml_con.query("SELECT * FROM ML.ROC_CURVE(MODEL ds.roc, TABLE ds.fresh, GENERATE_ARRAY(0.1, 0.9, 0.2)) ORDER BY threshold").df()
    assert list(rows.columns) == ["threshold", "recall", "false_positive_rate", "true_positives", "false_positives", "true_negatives", "false_negatives"]
    assert rows["threshold"].round(6).tolist() == [0.1, 0.3, 0.5, 0.7, 0.9]
    for _, row in rows.iterrows():
        predicted = p > row["threshold"]
        assert row["true_positives"] == int((predicted & y).sum())
        assert row["false_positives"] == int((predicted & ~y).sum())
        assert row["true_negatives"] == int((~predicted & ~y).sum())
        assert row["false_negatives"] == int((~predicted & y).sum())
        assert row["recall"] == pytest.approx((predicted & y).sum() / y.sum(), abs=TOLERANCE)
    default = ml_con.query("SELECT COUNT(*) FROM ML.ROC_CURVE(MODEL ds.roc)").fetchall()[0][0]
    assert 2 < default <= 100


def test_default_roc_thresholds_are_percentiles_with_no_empty_prediction(ml_con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-roc: thresholds
    # are percentiles of the scores, and its precision-recall query divides by TP + FP
    ml_con.query("CREATE OR REPLACE MODEL ds.roc OPTIONS(model_type='logistic_reg', input_label_cols=['churned']) AS SELECT x1, x2, churned FROM ds.train")
    _, probs = _probabilities(ml_con, "ds.roc", "churned")
    scores = np.array([row[True] for row in probs])
    rows = ml_con.query("SELECT *, true_positives / (true_positives + false_positives) AS precision FROM ML.ROC_CURVE(MODEL ds.roc, TABLE ds.fresh) ORDER BY threshold DESC").df()
    expected = np.unique(np.quantile(scores, np.linspace(0, 1, 101)))
    assert rows["threshold"].tolist() == pytest.approx(expected[expected < scores.max()][::-1].tolist(), abs=1e-12)
    assert ((rows["true_positives"] + rows["false_positives"]) > 0).all()
    assert rows["precision"].notna().all()


@pytest.mark.parametrize("k", [2, 4])
def test_metric_formulas_match_sklearn_with_ties_and_missing_classes(k):
    """The confusion-matrix and rank formulas equal scikit-learn's functions on awkward data:
    tied scores (rounded probabilities), a class never predicted, one never present."""
    from sqlml.ml.models.metrics import classification_metrics

    rng = np.random.default_rng(7)
    y = rng.integers(0, k - 1 if k > 2 else k, 3000)  # with k=4, class 3 never occurs
    probabilities = np.round(rng.dirichlet(np.ones(k), 3000), 1) + 1e-3
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    predicted = np.where(probabilities.argmax(axis=1) == 0, 1, probabilities.argmax(axis=1))  # class 0 never predicted
    got = classification_metrics(y, probabilities, predicted)
    if k == 2:
        assert got["precision"] == pytest.approx(metrics.precision_score(y, predicted), abs=1e-12)
        assert got["recall"] == pytest.approx(metrics.recall_score(y, predicted), abs=1e-12)
        assert got["roc_auc"] == pytest.approx(metrics.roc_auc_score(y, probabilities[:, 1]), abs=1e-12)
    else:
        # "macro-averaged for all of the class labels" (bigqueryml-syntax-evaluate): every class the
        # model knows, a class never predicted (0) or never present (3) counting 0
        precision, recall, f1, _ = metrics.precision_recall_fscore_support(y, predicted, labels=list(range(k)), average="macro", zero_division=0)
        assert got["precision"] == pytest.approx(precision, abs=1e-12)
        assert got["recall"] == pytest.approx(recall, abs=1e-12)
        assert got["f1_score"] == pytest.approx(f1, abs=1e-12)
        in_y = sorted(set(y))
        aucs = [metrics.roc_auc_score(y == c, probabilities[:, c]) for c in in_y]
        assert got["roc_auc"] == pytest.approx(np.mean(aucs), abs=1e-12)
    assert got["accuracy"] == pytest.approx(metrics.accuracy_score(y, predicted), abs=1e-12)
    assert got["log_loss"] == pytest.approx(metrics.log_loss(y, probabilities, labels=list(range(k))), abs=1e-9)


@pytest.mark.parametrize("label", ["varied", "constant"])
@pytest.mark.parametrize("exact", [False, True])
def test_regression_formulas_match_sklearn_including_a_constant_label(label, exact):
    """The NumPy regression formulas equal scikit-learn's functions, also where the label does not
    vary (R² and explained variance: 1.0 when predicted exactly, else 0.0, scikit-learn's force_finite)."""
    from sqlml.ml.models.metrics import regression_metrics

    rng = np.random.default_rng(3)
    y = rng.gamma(2.0, 3.0, 500) if label == "varied" else np.full(500, 4.0)
    predicted = y.copy() if exact else y + rng.normal(0, 1.5, 500)
    got = regression_metrics(y, predicted)
    assert got["mean_absolute_error"] == pytest.approx(metrics.mean_absolute_error(y, predicted), abs=1e-12)
    assert got["mean_squared_error"] == pytest.approx(metrics.mean_squared_error(y, predicted), abs=1e-12)
    assert got["median_absolute_error"] == pytest.approx(metrics.median_absolute_error(y, predicted), abs=1e-12)
    assert got["r2_score"] == pytest.approx(metrics.r2_score(y, predicted), abs=1e-12)
    assert got["explained_variance"] == pytest.approx(metrics.explained_variance_score(y, predicted), abs=1e-12)
