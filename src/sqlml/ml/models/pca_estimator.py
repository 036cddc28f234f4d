"""PCA: principal components of the (standardized, one-hot encoded) features.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-pca

Exactly one of ``num_principal_components`` and ``pca_explained_variance_ratio`` is required; the
latter keeps the smallest k whose cumulative explained variance ratio reaches the value.
``pca_solver`` FULL decomposes the covariance matrix; RANDOMIZED uses a randomized SVD; AUTO
chooses FULL below 1,500 features (BigQuery's documented threshold is "roughly 1,000–1,500").
"""

from __future__ import annotations

import numpy as np

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.models.estimator import Dataset, Estimator, EstimatorState, Monitor, Task, check_array

SEED = 20240601
FULL_SOLVER_LIMIT = 1500


class PCA(Estimator):
    """``components_`` (k, p) unit vectors, ``eigenvalues_`` (all of them), ``mean_`` (p,)."""

    def fit(self, train: Dataset, evaluation: Dataset | None, monitor: Monitor) -> "PCA":
        X = train.X
        n, p = X.shape
        self.check(n, p)
        k_requested = self.options["num_principal_components"]
        mean = X.mean(axis=0)
        centered = X - mean
        solver = self.options["pca_solver"]
        if solver == "FULL" or (solver == "AUTO" and p <= FULL_SOLVER_LIMIT):
            self.decompose(mean, centered.T @ centered / max(n - 1, 1))
        else:
            from sklearn.utils.extmath import randomized_svd

            wanted = k_requested or min(n, p, 10_000)
            _, singular, vectors = randomized_svd(centered, wanted, random_state=SEED)
            self._keep(mean, singular**2 / max(n - 1, 1), vectors, float((centered**2).sum() / max(n - 1, 1)))
        monitor.iteration(None)
        return self

    def check(self, n: int, p: int) -> None:
        """The options fit ``n`` rows of ``p`` features: exactly one of num_principal_components
        and pca_explained_variance_ratio, and no more components than min(n, p)."""
        k_requested = self.options["num_principal_components"]
        if (k_requested is None) == (self.options["pca_explained_variance_ratio"] is None):
            raise InvalidOptionError(
                "PCA needs exactly one of num_principal_components and pca_explained_variance_ratio.",
                option="num_principal_components",
            )
        if k_requested is not None and k_requested > min(n, p):
            raise InvalidModelInputError(
                f"num_principal_components={k_requested} exceeds min(rows, features) = min({n}, {p}).",
            )

    def decompose(self, mean: np.ndarray, covariance: np.ndarray) -> "PCA":
        """The components of the (p, p) covariance matrix of rows whose mean is ``mean``: the FULL
        solver (also what a distributed trainer computes the covariance for)."""
        eigenvalues, vectors = np.linalg.eigh(covariance)
        order = np.argsort(eigenvalues)[::-1]
        eigenvalues, vectors = np.maximum(eigenvalues[order], 0.0), vectors[:, order].T
        self._keep(mean, eigenvalues, vectors, float(eigenvalues.sum()))
        return self

    def _keep(self, mean: np.ndarray, eigenvalues: np.ndarray, vectors: np.ndarray, total: float) -> None:
        k = self.options["num_principal_components"] or _components_for_ratio(eigenvalues, total, self.options["pca_explained_variance_ratio"])
        self.mean_ = mean
        self.components_ = _fix_signs(vectors[:k])
        self.eigenvalues_ = eigenvalues[: max(k, len(eigenvalues))]
        self.total_variance_ = total

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Projections (n, k) onto the principal components."""
        return (X - self.mean_) @ self.components_.T

    def reconstruct(self, X: np.ndarray) -> np.ndarray:
        """Rows (n, p) rebuilt from their projections: ``mean + projections @ components``."""
        return self.mean_ + self.predict(X) @ self.components_

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        """Eigenvalue / total variance of each kept component."""
        k = len(self.components_)
        total = self.total_variance_ or 1.0
        return self.eigenvalues_[:k] / total

    def state(self) -> EstimatorState:
        arrays = {"components": self.components_, "eigenvalues": self.eigenvalues_, "mean": self.mean_}
        return {"total_variance": self.total_variance_}, arrays, {}

    @classmethod
    def from_state(
        cls, options: dict, task: Task, params: dict, arrays: dict[str, np.ndarray], texts: dict[str, str]
    ) -> PCA:
        estimator = cls(options=options, task=task)
        p = len(task.feature_names)
        estimator.components_ = check_array(arrays, "components", (None, p))
        estimator.eigenvalues_ = check_array(arrays, "eigenvalues", (None,))
        estimator.mean_ = check_array(arrays, "mean", (p,))
        estimator.total_variance_ = params["total_variance"]
        return estimator


def _components_for_ratio(eigenvalues: np.ndarray, total: float, ratio: float) -> int:
    cumulative = np.cumsum(eigenvalues) / (total or 1.0)
    return int(min(np.searchsorted(cumulative, ratio) + 1, len(eigenvalues)))


def _fix_signs(components: np.ndarray) -> np.ndarray:
    """Make the largest-magnitude loading of each component positive (a deterministic sign)."""
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    return components * np.where(signs == 0, 1.0, signs)[:, None]
