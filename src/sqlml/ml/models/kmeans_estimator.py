"""KMEANS: Lloyd's algorithm with BigQuery's initialisations, distances and early stop.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-kmeans

* ``num_clusters`` defaults to log10(training rows), at least 2;
* ``kmeans_init_method``: RANDOM (distinct random rows), KMEANS++ (scikit-learn's seeding) or
  CUSTOM (the rows where ``kmeans_init_col`` is TRUE);
* ``distance_type='COSINE'`` assigns by cosine similarity and reports sqrt(1 − cos), as the
  reference page defines it; EUCLIDEAN reports the Euclidean distance;
* the loss of an iteration is the mean squared distance to the nearest centroid; training stops
  early when it improves by less than ``min_rel_progress``.
Centroid ids are 1-based in every output, as in BigQuery.
"""

from __future__ import annotations

import math

import numpy as np

from sqlml.errors import InvalidModelInputError
from sqlml.ml.models.estimator import Dataset, Estimator, EstimatorState, Monitor, Task, check_array

SEED = 20240601


def default_num_clusters(n_rows: int) -> int:
    """BigQuery's default: log10 of the number of training rows (rounded), at least 2."""
    return max(2, int(round(math.log10(max(n_rows, 1)))))


class KMeans(Estimator):
    """k-means; ``centroids_`` is (k, p) in the (standardized) feature space."""

    init_rows: np.ndarray | None = None  # set by training for kmeans_init_method='CUSTOM'

    @property
    def cosine(self) -> bool:
        return self.options["distance_type"] == "COSINE"

    def fit(self, train: Dataset, evaluation: Dataset | None, monitor: Monitor) -> "KMeans":
        X = self.prepare(train.X)
        k = self.options["num_clusters"] or default_num_clusters(len(X))
        if len(X) < k:
            raise InvalidModelInputError(f"KMEANS needs at least num_clusters={k} rows; the training data has {len(X)}.")
        centroids = self._initial_centroids(X, k)
        for _ in range(self.options["max_iterations"]):
            assignment, squared = self._assign(X, centroids)
            centroids = self._update(X, assignment, squared, centroids)
            assignment, squared = self._assign(X, centroids)
            info = self._cluster_info(assignment, squared, k)
            if not monitor.iteration(float(squared.mean()), None, None, cluster_info=info):
                break
        self.centroids_ = centroids
        return self

    def prepare(self, X: np.ndarray) -> np.ndarray:
        """Rows as distances are measured on: unit length under COSINE, unchanged under EUCLIDEAN."""
        if not self.cosine:
            return X
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        return X / np.where(norms > 0, norms, 1.0)

    def _initial_centroids(self, X: np.ndarray, k: int) -> np.ndarray:
        method = self.options["kmeans_init_method"]
        rng = np.random.default_rng(SEED)
        if method == "CUSTOM":
            if self.init_rows is None or len(self.init_rows) != k:
                found = 0 if self.init_rows is None else len(self.init_rows)
                raise InvalidModelInputError(
                    f"kmeans_init_col marks {found} row(s) TRUE but num_clusters is {k}; they must be equal.",
                )
            return self.prepare(np.asarray(self.init_rows, dtype=np.float64))
        if method == "KMEANS++":
            from sklearn.cluster import kmeans_plusplus

            centers, _ = kmeans_plusplus(X, k, random_state=SEED)
            return centers
        unique = np.unique(X, axis=0) if len(X) <= 100_000 else X
        if len(unique) < k:
            raise InvalidModelInputError(
                f"KMEANS needs at least num_clusters={k} distinct rows; the training data has {len(unique)}.",
                hint="Lower num_clusters, or train on more varied rows.",
            )
        rows = rng.choice(len(unique), size=k, replace=False)
        return unique[rows].copy()

    def _squared_distances(self, X: np.ndarray, centroids: np.ndarray) -> np.ndarray:
        if self.cosine:
            norms = np.linalg.norm(centroids, axis=1)
            similarity = X @ centroids.T / np.where(norms > 0, norms, 1.0)
            return np.maximum(1.0 - similarity, 0.0)
        squared = (X**2).sum(axis=1)[:, None] - 2.0 * X @ centroids.T + (centroids**2).sum(axis=1)[None, :]
        return np.maximum(squared, 0.0)

    def _assign(self, X, centroids):
        squared = self._squared_distances(X, centroids)
        assignment = squared.argmin(axis=1)
        return assignment, squared[np.arange(len(X)), assignment]

    def _update(self, X, assignment, squared, centroids) -> np.ndarray:
        k = len(centroids)
        counts = np.bincount(assignment, minlength=k)
        sums = np.zeros_like(centroids)
        np.add.at(sums, assignment, X)
        updated = centroids.copy()
        filled = counts > 0
        updated[filled] = sums[filled] / counts[filled, None]
        # An empty cluster restarts at the row farthest from its centroid.
        for index in np.nonzero(~filled)[0]:
            far = int(squared.argmax())
            updated[index] = X[far]
            squared[far] = 0.0
        if self.cosine:
            updated = self.prepare(updated)
        return updated

    def _cluster_info(self, assignment, squared, k) -> list[dict]:
        counts = np.bincount(assignment, minlength=k)
        sums = np.bincount(assignment, weights=squared, minlength=k)
        radius = np.sqrt(sums / np.maximum(counts, 1))
        return [
            {"centroid_id": c + 1, "cluster_radius": float(radius[c]), "cluster_size": int(counts[c])} for c in range(k)
        ]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Distances (n, k) from each row to each centroid."""
        return np.sqrt(self._squared_distances(self.prepare(X), self.centroids_))

    def state(self) -> EstimatorState:
        return {}, {"centroids": self.centroids_}, {}

    @classmethod
    def from_state(
        cls, options: dict, task: Task, params: dict, arrays: dict[str, np.ndarray], texts: dict[str, str]
    ) -> KMeans:
        estimator = cls(options=options, task=task)
        estimator.centroids_ = check_array(arrays, "centroids", (None, len(task.feature_names)))
        return estimator
