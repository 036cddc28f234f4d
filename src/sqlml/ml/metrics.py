"""ML.EVALUATE's metrics, ML.CONFUSION_MATRIX and ML.ROC_CURVE, as BigQuery defines them.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-evaluate —
classification metrics are macro-averaged over classes except accuracy (micro); binary
precision/recall/F1 are those of the positive (higher) class at the threshold, and precision is
NaN when nothing is predicted positive. Values are computed with scikit-learn where it has the
metric, so they agree with it exactly.
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
    """The six regression metrics; MSLE is NULL when a value is below -1 (its log is undefined)."""
    from sklearn import metrics

    if len(y) == 0:
        return dict.fromkeys(REGRESSION_METRICS)
    msle = None
    if np.all(y > -1) and np.all(predicted > -1):
        msle = float(np.mean((np.log1p(y) - np.log1p(predicted)) ** 2))
    return {
        "mean_absolute_error": _clean(metrics.mean_absolute_error(y, predicted)),
        "mean_squared_error": _clean(metrics.mean_squared_error(y, predicted)),
        "mean_squared_log_error": _clean(msle),
        "median_absolute_error": _clean(metrics.median_absolute_error(y, predicted)),
        "r2_score": _clean(metrics.r2_score(y, predicted)) if len(y) > 1 else None,
        "explained_variance": _clean(metrics.explained_variance_score(y, predicted)) if len(y) > 1 else None,
    }


def classification_metrics(y: np.ndarray, probabilities: np.ndarray, predicted: np.ndarray) -> dict:
    """Precision, recall, accuracy, F1, log loss and ROC AUC.

    Args:
        y: true class indices.
        probabilities: (n, K) class probabilities, in class index order.
        predicted: predicted class indices (threshold already applied).
    """
    from sklearn import metrics

    k = probabilities.shape[1]
    if len(y) == 0:
        return dict.fromkeys(CLASSIFICATION_METRICS)
    labels = np.arange(k)
    if k == 2:
        precision = _binary_precision(y, predicted)
        recall = metrics.recall_score(y, predicted, pos_label=1, zero_division=0)
        f1 = _f1(precision, recall)
    else:
        precisions = [_binary_precision(y == c, predicted == c) for c in labels]
        recalls = metrics.recall_score(y, predicted, labels=labels, average=None, zero_division=0)
        present = [c for c in labels if np.any(y == c) or np.any(predicted == c)]
        precision = _nanmean([precisions[c] for c in present])
        recall = float(np.mean([recalls[c] for c in present]))
        f1 = _nanmean([_f1(precisions[c], recalls[c]) for c in present])
    clipped = np.clip(probabilities, 1e-15, 1 - 1e-15)
    log_loss = metrics.log_loss(y, clipped / clipped.sum(axis=1, keepdims=True), labels=labels)
    return {
        "precision": _clean(precision),
        "recall": _clean(recall),
        "accuracy": _clean(metrics.accuracy_score(y, predicted)),
        "f1_score": _clean(f1),
        "log_loss": _clean(log_loss),
        "roc_auc": _clean(_roc_auc(y, probabilities)),
    }


def _binary_precision(y, predicted) -> float:
    positives = int(np.sum(predicted == 1)) if predicted.dtype != bool else int(predicted.sum())
    if positives == 0:
        return math.nan
    hits = np.sum((predicted == 1) & (y == 1)) if predicted.dtype != bool else np.sum(predicted & y)
    return float(hits) / positives


def _f1(precision: float, recall: float) -> float:
    if math.isnan(precision):
        return math.nan
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _nanmean(values) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def _roc_auc(y: np.ndarray, probabilities: np.ndarray) -> float | None:
    from sklearn import metrics

    k = probabilities.shape[1]
    present = np.unique(y)
    if len(present) < 2:
        return None
    if k == 2:
        return metrics.roc_auc_score(y, probabilities[:, 1])
    # macro one-vs-rest over the classes present in the data
    return float(np.mean([metrics.roc_auc_score(y == c, probabilities[:, c]) for c in present]))


def kmeans_metrics(distances: np.ndarray, centroids: np.ndarray) -> dict:
    """Davies-Bouldin index and the mean squared distance to the nearest centroid."""
    if len(distances) == 0:
        return dict.fromkeys(KMEANS_METRICS)
    assignment = distances.argmin(axis=1)
    nearest = distances[np.arange(len(distances)), assignment]
    k = len(centroids)
    scatter = np.array([nearest[assignment == c].mean() if np.any(assignment == c) else 0.0 for c in range(k)])
    separation = np.sqrt(((centroids[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2))
    used = [c for c in range(k) if np.any(assignment == c)]
    if len(used) < 2:
        dbi = None
    else:
        ratios = []
        for i in used:
            ratios.append(max((scatter[i] + scatter[j]) / separation[i, j] for j in used if j != i and separation[i, j] > 0))
        dbi = float(np.mean(ratios))
    return {"davies_bouldin_index": _clean(dbi), "mean_squared_distance": _clean(float(np.mean(nearest**2)))}


def confusion_counts(y: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """(K, K) counts: row = expected class, column = predicted class."""
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (y.astype(np.int64), predicted.astype(np.int64)), 1)
    return counts


def default_thresholds(scores: np.ndarray) -> np.ndarray:
    """Percentiles of the positive-class scores (0th … 100th), distinct, descending."""
    if len(scores) == 0:
        return np.array([0.5])
    return np.unique(np.quantile(scores, np.linspace(0, 1, 101)))[::-1]


def roc_points(y: np.ndarray, scores: np.ndarray, thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """TP/FP/TN/FN, recall and false positive rate at each threshold (positive if score > t)."""
    order = np.argsort(scores)
    sorted_scores, sorted_y = scores[order], y[order].astype(bool)
    positives_below = np.concatenate([[0], np.cumsum(sorted_y)])
    cut = np.searchsorted(sorted_scores, thresholds, side="right")
    total_pos, total = int(sorted_y.sum()), len(y)
    false_negatives = positives_below[cut]
    true_negatives = cut - false_negatives
    true_positives = total_pos - false_negatives
    false_positives = (total - total_pos) - true_negatives
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(total_pos > 0, true_positives / max(total_pos, 1), np.nan)
        fpr = np.where(total - total_pos > 0, false_positives / max(total - total_pos, 1), np.nan)
    return {
        "threshold": thresholds.astype(np.float64),
        "recall": recall.astype(np.float64),
        "false_positive_rate": fpr.astype(np.float64),
        "true_positives": true_positives.astype(np.int64),
        "false_positives": false_positives.astype(np.int64),
        "true_negatives": true_negatives.astype(np.int64),
        "false_negatives": false_negatives.astype(np.int64),
    }
