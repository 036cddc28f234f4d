"""ML.EVALUATE's metrics, ML.CONFUSION_MATRIX and ML.ROC_CURVE, as BigQuery defines them.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-evaluate —
classification metrics are "macro-averaged for all of the class labels" (an unweighted mean over
every class the model knows, a class never predicted or absent counting 0, as scikit-learn's
``average='macro', zero_division=0, labels=<all classes>``) except accuracy (micro); binary
precision/recall/F1 are those of the positive (higher) class at the threshold, and precision is
NaN when nothing is predicted positive. Values agree with scikit-learn's metric functions
(tests/ml/test_metrics.py checks each against them).
"""

from __future__ import annotations

import math

import numpy as np

REGRESSION_METRICS = (
    "mean_absolute_error",
    "mean_squared_error",
    "mean_squared_log_error",
    "median_absolute_error",
    "r2_score",
    "explained_variance",
)
CLASSIFICATION_METRICS = ("precision", "recall", "accuracy", "f1_score", "log_loss", "roc_auc")
KMEANS_METRICS = ("davies_bouldin_index", "mean_squared_distance")
PCA_METRICS = ("total_explained_variance_ratio",)


def _clean(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def regression_metrics(y: np.ndarray, predicted: np.ndarray) -> dict:
    """The six regression metrics; MSLE is NULL when a value is below -1 (its log is undefined).

    NumPy formulas equal to scikit-learn's metric functions (tests/ml/test_metrics.py), without
    importing scikit-learn (seconds in every process that trains or evaluates a regressor).
    """
    if len(y) == 0:
        return dict.fromkeys(REGRESSION_METRICS)
    y = np.asarray(y, dtype=np.float64)
    errors = y - np.asarray(predicted, dtype=np.float64)
    msle = None
    if np.all(y > -1) and np.all(predicted > -1):
        msle = float(np.mean((np.log1p(y) - np.log1p(predicted)) ** 2))
    spread = np.mean((y - y.mean()) ** 2)
    return {
        "mean_absolute_error": _clean(np.mean(np.abs(errors))),
        "mean_squared_error": _clean(np.mean(errors**2)),
        "mean_squared_log_error": _clean(msle),
        "median_absolute_error": _clean(np.median(np.abs(errors))),
        "r2_score": _clean(_explained(np.mean(errors**2), spread)) if len(y) > 1 else None,
        "explained_variance": _clean(_explained(np.mean((errors - errors.mean()) ** 2), spread)) if len(y) > 1 else None,
    }


def _explained(residual: float, spread: float) -> float:
    """1 - residual / spread; for a constant label (spread 0) 1.0 when nothing is left unexplained
    and 0.0 otherwise, as scikit-learn's r2_score and explained_variance_score (force_finite)."""
    if spread == 0:
        return 1.0 if residual == 0 else 0.0
    return 1 - residual / spread


def classification_metrics(y: np.ndarray, probabilities: np.ndarray, predicted: np.ndarray) -> dict:
    """Precision, recall, accuracy, F1, log loss and ROC AUC.

    Computed from one confusion matrix and one ranking per class rather than scikit-learn's
    metric functions: each of those re-validates and re-scans the labels (≈0.7 s per million
    rows, as long as the rest of CREATE MODEL's overhead); tests check they agree with it.

    Args:
        y: true class indices.
        probabilities: (n, K) class probabilities, in class index order.
        predicted: predicted class indices (threshold already applied).
    """
    k = probabilities.shape[1]
    if len(y) == 0:
        return dict.fromkeys(CLASSIFICATION_METRICS)
    y = np.asarray(y, dtype=np.int64)
    found = matrix_metrics(confusion_counts(y, predicted, k))
    found["log_loss"] = _clean(np.mean(log_loss_terms(y, probabilities)))
    found["roc_auc"] = _clean(_roc_auc(y, probabilities))
    return found


def matrix_metrics(matrix: np.ndarray) -> dict:
    """Precision, recall, accuracy and F1 of a (K, K) confusion matrix (row = expected class):
    the positive class's for K = 2, else macro-averaged over every class."""
    hits = np.diag(matrix).astype(np.float64)
    predicted_as, actually = matrix.sum(axis=0), matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precisions = np.where(predicted_as > 0, hits / predicted_as, np.nan)  # NaN: nothing predicted as the class
        recalls = np.where(actually > 0, hits / actually, 0.0)  # scikit-learn's zero_division=0
    if len(matrix) == 2:
        precision, recall = float(precisions[1]), float(recalls[1])
        f1 = _f1(precision, recall)
    else:
        per_class = np.nan_to_num(precisions, nan=0.0)
        precision, recall = float(per_class.mean()), float(recalls.mean())
        f1 = float(np.mean([_f1(float(p), float(r)) for p, r in zip(per_class, recalls)]))
    return {
        "precision": _clean(precision),
        "recall": _clean(recall),
        "accuracy": _clean(hits.sum() / matrix.sum()),
        "f1_score": _clean(f1),
    }


def log_loss_terms(y: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Each row's log loss, -log P(true class), probabilities clipped to [1e-15, 1 - 1e-15] and
    renormalised as scikit-learn's log_loss does; their mean is the log_loss metric."""
    clipped = np.clip(probabilities, 1e-15, 1 - 1e-15)
    return -np.log(clipped[np.arange(len(y)), y] / clipped.sum(axis=1))


def _f1(precision: float, recall: float) -> float:
    if math.isnan(precision):
        return math.nan
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _roc_auc(y: np.ndarray, probabilities: np.ndarray) -> float | None:
    """Binary AUC of the positive class, or the macro one-vs-rest AUC over the classes present."""
    present = np.flatnonzero(np.bincount(y, minlength=probabilities.shape[1]))
    if len(present) < 2:
        return None
    if probabilities.shape[1] == 2:
        return _binary_auc(y == 1, probabilities[:, 1])
    return float(np.mean([_binary_auc(y == c, probabilities[:, c]) for c in present]))


def _binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """The area under the ROC curve as the Mann-Whitney U statistic over average ranks: the same
    number as the trapezoidal area scikit-learn's roc_auc_score computes, ties counting one half."""
    from scipy.stats import rankdata

    n_positive = int(positive.sum())
    n_negative = len(positive) - n_positive
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative))


def kmeans_metrics(distances: np.ndarray, centroids: np.ndarray) -> dict:
    """Davies-Bouldin index and the mean squared distance to the nearest centroid."""
    if len(distances) == 0:
        return dict.fromkeys(KMEANS_METRICS)
    assignment = distances.argmin(axis=1)
    nearest = distances[np.arange(len(distances)), assignment]
    k = len(centroids)
    counts = np.bincount(assignment, minlength=k)
    scatter = np.array([nearest[assignment == c].mean() if counts[c] else 0.0 for c in range(k)])
    return kmeans_metrics_of(counts, scatter, float(np.mean(nearest**2)), centroids)


def kmeans_metrics_of(counts: np.ndarray, scatter: np.ndarray, mean_squared: float, centroids: np.ndarray) -> dict:
    """:func:`kmeans_metrics` from each cluster's row count and mean distance (``scatter``) and
    the rows' mean squared distance: what an engine that sums the rows where they are gives."""
    k = len(centroids)
    separation = np.sqrt(((centroids[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2))
    used = [c for c in range(k) if counts[c]]
    if len(used) < 2:
        dbi = None
    else:
        ratios = []
        for i in used:
            ratios.append(max((scatter[i] + scatter[j]) / separation[i, j] for j in used if j != i and separation[i, j] > 0))
        dbi = float(np.mean(ratios))
    return {"davies_bouldin_index": _clean(dbi), "mean_squared_distance": _clean(mean_squared)}


def confusion_counts(y: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """(K, K) counts: row = expected class, column = predicted class."""
    cells = y.astype(np.int64) * k + predicted.astype(np.int64)
    return np.bincount(cells, minlength=k * k).reshape(k, k)


#: The percentiles (as fractions) :func:`default_thresholds` takes of the scores.
PERCENTILES = np.linspace(0, 1, 101)


def default_thresholds(scores: np.ndarray) -> np.ndarray:
    """Percentiles of the positive-class scores (0th … 100th), distinct, descending, below the
    highest score.

    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-roc — "the
    threshold values returned are chosen based on the percentile values of the prediction output",
    and the page's precision-recall query divides by ``true_positives + false_positives``: no row
    predicts nothing positive. A row is positive when its score is above the threshold, so the
    100th percentile (the highest score) is left out.
    """
    if len(scores) == 0:
        return np.array([0.5])
    return grid_thresholds(np.quantile(scores, PERCENTILES), float(np.max(scores)))


def grid_thresholds(percentiles: np.ndarray, top: float) -> np.ndarray:
    """:func:`default_thresholds` from the scores' :data:`PERCENTILES` and highest score ``top``."""
    percentiles = np.unique(percentiles)
    below = percentiles[percentiles < top]
    return below[::-1] if len(below) else np.array([np.nextafter(top, -np.inf)])


def roc_points(y: np.ndarray, scores: np.ndarray, thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """TP/FP/TN/FN, recall and false positive rate at each threshold (positive if score > t)."""
    order = np.argsort(scores)
    sorted_scores, sorted_y = scores[order], y[order].astype(bool)
    positives_below = np.concatenate([[0], np.cumsum(sorted_y)])
    cut = np.searchsorted(sorted_scores, thresholds, side="right")
    total_pos = int(sorted_y.sum())
    true_positives = total_pos - positives_below[cut]
    false_positives = (len(y) - cut) - true_positives
    return roc_table(thresholds, true_positives, false_positives, total_pos, len(y) - total_pos)


def roc_table(thresholds: np.ndarray, true_positives: np.ndarray, false_positives: np.ndarray, positives: int, negatives: int) -> dict[str, np.ndarray]:
    """ML.ROC_CURVE's columns from the positives and negatives scored above each threshold."""
    true_positives, false_positives = np.asarray(true_positives), np.asarray(false_positives)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(positives > 0, true_positives / max(positives, 1), np.nan)
        fpr = np.where(negatives > 0, false_positives / max(negatives, 1), np.nan)
    return {
        "threshold": thresholds.astype(np.float64),
        "recall": recall.astype(np.float64),
        "false_positive_rate": fpr.astype(np.float64),
        "true_positives": true_positives.astype(np.int64),
        "false_positives": false_positives.astype(np.int64),
        "true_negatives": (negatives - false_positives).astype(np.int64),
        "false_negatives": (positives - true_positives).astype(np.int64),
    }
