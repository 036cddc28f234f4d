"""Anomaly scores of rows under an unsupervised model, and the cut-off the training rows set.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-detect-anomalies —
for KMEANS, PCA and AUTOENCODER models, ``ML.DETECT_ANOMALIES(MODEL m, STRUCT(c AS contamination),
data)`` flags a row when its score exceeds what the ``contamination`` share of the *training*
rows exceeds ("the proportion of anomalies in the training dataset that are used to create the
model", in [0, 0.5]). A k-means row's score is its ``normalized_distance``: the distance to a
centroid divided by that cluster's radius, the smallest over the centroids; a PCA or autoencoder
row's score is the ``mean_squared_error`` of its reconstruction, over the preprocessed features.

The cut-off needs the training rows' scores after training is over, so CREATE MODEL keeps them
(:func:`score_summary`) as a model array: all of them, sorted, up to :data:`SUMMARY_LIMIT` rows;
beyond that the same number of evenly spaced quantiles (the cut-off is then within 1/100,000 of a
quantile level of the exact one, and the array stays 800 KB whatever the training size).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sqlml.ml.models.base import ModelFamily
    from sqlml.ml.models.estimator import Dataset, Estimator
    from sqlml.ml.preprocessing.automatic.preprocessor import Preprocessor

#: The model array with the training rows' sorted scores (or their quantiles).
SCORES = "anomaly_scores"
#: The model array with each k-means cluster's radius.
RADII = "cluster_radii"
#: The most training scores kept; larger training sets keep this many quantiles.
SUMMARY_LIMIT = 100_001
#: Training rows scored at a time when CREATE MODEL keeps their reconstruction errors.
CHUNK_ROWS = 100_000
#: Keras's clip for the mean squared log error (values below it count as it).
LOG_EPSILON = 1e-7


def score_summary(scores: np.ndarray) -> np.ndarray:
    """The training scores as :func:`cutoff` reads them: sorted, or their evenly spaced quantiles
    when there are more than :data:`SUMMARY_LIMIT` (the quantile at level i/(m−1) of n sorted
    scores is the i-th score itself when m = n, so small training sets are kept exactly)."""
    ordered = np.sort(np.asarray(scores, dtype=np.float64))
    if len(ordered) <= SUMMARY_LIMIT:
        return ordered
    # np.quantile's linear rule, read off the sorted scores (np.quantile itself partitions once
    # per level: minutes for 100,001 levels)
    return np.interp(np.linspace(0.0, len(ordered) - 1, SUMMARY_LIMIT), np.arange(len(ordered)), ordered)


def cutoff(summary: np.ndarray, contamination: float) -> float:
    """The score above which a row is an anomaly: the (1 − contamination) quantile of the training
    scores (linear interpolation between order statistics, NumPy's default)."""
    return float(np.quantile(summary, 1.0 - contamination))


def reconstruction_errors(X: np.ndarray, reconstructed: np.ndarray) -> np.ndarray:
    """Each row's mean squared error over the features."""
    return np.mean((X - reconstructed) ** 2, axis=1) if X.shape[1] else np.zeros(len(X))


def reconstruction_losses(X: np.ndarray, reconstructed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's mean absolute, mean squared and mean squared log error over the features.

    The log error is Keras's (https://www.tensorflow.org/api_docs/python/tf/keras/losses/MeanSquaredLogarithmicError):
    ``mean((log(max(x, ε) + 1) − log(max(x̂, ε) + 1))²)`` with ε = 1e-7, defined for the negative
    values standardized features take (BigQuery's autoencoder is a Keras model).
    """
    absolute = np.mean(np.abs(X - reconstructed), axis=1)
    logs = np.log1p(np.maximum(X, LOG_EPSILON)) - np.log1p(np.maximum(reconstructed, LOG_EPSILON))
    return absolute, reconstruction_errors(X, reconstructed), np.mean(logs**2, axis=1)


def cluster_radii(distances: np.ndarray) -> np.ndarray:
    """Each cluster's radius: the root mean squared distance of the rows nearest its centroid to
    it (0 for a cluster no row is nearest to), from the (rows, centroids) distances."""
    k = distances.shape[1]
    nearest = distances.argmin(axis=1)
    squared = distances[np.arange(len(distances)), nearest] ** 2
    counts = np.bincount(nearest, minlength=k)
    return np.sqrt(np.bincount(nearest, weights=squared, minlength=k) / np.maximum(counts, 1))


def normalized_distances(distances: np.ndarray, radii: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's smallest distance-to-centroid / radius and the (0-based) centroid giving it.

    A centroid of radius 0 (its rows all sit on it) is at normalized distance 0 from a row on it
    and infinitely far from any other row.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        normalized = np.where(radii > 0, distances / np.where(radii > 0, radii, 1.0), np.where(distances > 0, np.inf, 0.0))
    nearest = normalized.argmin(axis=1)
    return normalized[np.arange(len(normalized)), nearest], nearest


def kmeans_arrays(estimator: Estimator, train: Dataset) -> dict[str, np.ndarray]:
    """A k-means model's radii and its training rows' normalized distances, kept at CREATE MODEL."""
    distances = estimator.predict(train.X)
    radii = cluster_radii(distances)
    return {RADII: radii, SCORES: score_summary(normalized_distances(distances, radii)[0])}


def reconstruction_arrays(
    family: ModelFamily, model_type: str, estimator: Estimator, train: Dataset, preprocessor: Preprocessor
) -> dict[str, np.ndarray]:
    """A reconstructing model's training rows' mean squared errors, kept at CREATE MODEL (computed
    :data:`CHUNK_ROWS` rows at a time, so that the dense copies stay small)."""
    from sqlml.ml.preprocessing.automatic.feature_matrix import dense

    errors = []
    for start in range(0, train.X.shape[0], CHUNK_ROWS):
        X = dense(train.X[start : start + CHUNK_ROWS], preprocessor)
        errors.append(reconstruction_errors(X, family.reconstruct(model_type, estimator, X)))
    return {SCORES: score_summary(np.concatenate(errors) if errors else np.empty(0))}
