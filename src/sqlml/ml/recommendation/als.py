"""Explicit-feedback matrix factorization: alternating least squares with intercepts, in NumPy.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-matrix-factorization —
explicit feedback "trains the model using the Alternating Least Squares algorithm", minimising
Σ (r_ui − x_u·y_i)² + λ(Σ‖x_u‖² + Σ‖y_i‖²) over the observed ratings, λ = ``l2_reg``; the model
also has a global intercept and an intercept per user and per item
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-weights), so a
rating is predicted as global + b_u + b_i + x_u·y_i. The global intercept is the mean training
rating; each half-sweep solves, for every user (then every item) at once, the ridge problem of its
factors and intercept given the other side: the normal equations (Σ z zᵀ + λI) w = Σ t z with
z = (y_i, 1) and t = r_ui − global − b_i, batched through one sparse product and one batched solve
per chunk of users. (The ``implicit`` library fits weighted ALS for implicit feedback only, with no
intercepts: it cannot fit this model.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

SEED = 20240601
#: Memory (bytes) for the per-chunk normal matrices and their pairwise products.
CHUNK_BYTES = 64 << 20


class ExplicitALS:
    """The factors of an explicit model, fitted one sweep at a time.

    Args:
        user_rows: (n,) each rating's user code, 0 … n_users − 1.
        item_rows: (n,) each rating's item code.
        ratings: (n,) the ratings.
        shape: (n_users, n_items).
        factors: the number of latent factors.
        l2_reg: λ, applied to every factor and intercept.
    """

    def __init__(self, user_rows: np.ndarray, item_rows: np.ndarray, ratings: np.ndarray, shape: tuple[int, int], factors: int, l2_reg: float):
        from scipy import sparse

        self.global_intercept = float(np.mean(ratings))
        self.l2_reg = l2_reg
        centred = sparse.csr_matrix((ratings - self.global_intercept, (user_rows, item_rows)), shape=shape)
        counts = sparse.csr_matrix((np.ones(len(ratings)), (user_rows, item_rows)), shape=shape)
        self.by_user = (centred, counts)
        self.by_item = (centred.T.tocsr(), counts.T.tocsr())
        rng = np.random.default_rng(SEED)
        self.user_factors = np.zeros((shape[0], factors))
        self.item_factors = rng.normal(0.0, 0.1, size=(shape[1], factors))
        self.user_intercepts = np.zeros(shape[0])
        self.item_intercepts = np.zeros(shape[1])

    def sweep(self) -> None:
        """One iteration: every user's factors and intercept, then every item's."""
        self.user_factors, self.user_intercepts = solve_side(*self.by_user, self.item_factors, self.item_intercepts, self.l2_reg)
        self.item_factors, self.item_intercepts = solve_side(*self.by_item, self.user_factors, self.user_intercepts, self.l2_reg)

    def predict(self, user_rows: np.ndarray, item_rows: np.ndarray) -> np.ndarray:
        """Predicted ratings; a code of -1 (unseen) contributes neither factors nor intercept."""
        return predict_pairs(self.user_factors, self.item_factors, self.user_intercepts, self.item_intercepts,
                             self.global_intercept, user_rows, item_rows)  # fmt: skip


def predict_pairs(user_factors: np.ndarray, item_factors: np.ndarray, user_intercepts: np.ndarray, item_intercepts: np.ndarray,
                  global_intercept: float, user_rows: np.ndarray, item_rows: np.ndarray) -> np.ndarray:  # fmt: skip
    """global + b_u + b_i + x_u·y_i for each (user, item) pair, BigQuery's prediction of a pair
    whose user or item (code -1) was not trained being global plus the known side's intercept."""
    user_known, item_known = user_rows >= 0, item_rows >= 0
    both = user_known & item_known
    scores = np.full(len(user_rows), global_intercept, dtype=np.float64)
    scores[user_known] += user_intercepts[user_rows[user_known]]
    scores[item_known] += item_intercepts[item_rows[item_known]]
    scores[both] += np.einsum("ij,ij->i", user_factors[user_rows[both]], item_factors[item_rows[both]])
    return scores


def solve_side(centred: sparse.csr_matrix, counts: sparse.csr_matrix, other: np.ndarray, other_intercepts: np.ndarray,
               l2_reg: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Each row's ridge solution (factors, intercept) given the other side's factors and intercepts.

    Args:
        centred: (rows, others) the ratings minus the global intercept (duplicates summed).
        counts: (rows, others) how many ratings each cell holds.
        other: (others, k) the other side's factors.
        other_intercepts: (others,) the other side's intercepts.
        l2_reg: λ.
    """
    z = np.hstack([other, np.ones((len(other), 1))])
    width = z.shape[1]
    rhs = centred @ z - counts @ (other_intercepts[:, None] * z)
    upper_i, upper_j = np.triu_indices(width)
    solved = np.empty((centred.shape[0], width))
    ridge = l2_reg * np.eye(width)
    chunk = max(1, CHUNK_BYTES // (8 * width * width))
    for start in range(0, centred.shape[0], chunk):
        stop = min(start + chunk, centred.shape[0])
        normal = np.empty((stop - start, width, width))
        products = np.empty((stop - start, len(upper_i)))
        for columns in _pair_blocks(len(upper_i), len(z)):
            products[:, columns] = counts[start:stop] @ (z[:, upper_i[columns]] * z[:, upper_j[columns]])
        normal[:, upper_i, upper_j] = products
        normal[:, upper_j, upper_i] = products
        normal += ridge
        solved[start:stop] = np.linalg.solve(normal, rhs[start:stop, :, None])[..., 0]
    return solved[:, :-1], solved[:, -1]


def _pair_blocks(pairs: int, others: int) -> Iterator[slice]:
    """Slices of the factor pairs whose products over every other row fit in :data:`CHUNK_BYTES`."""
    step = max(1, CHUNK_BYTES // (8 * max(others, 1)))
    for start in range(0, pairs, step):
        yield slice(start, min(start + step, pairs))


def mean_squared_error(model: ExplicitALS, user_rows: np.ndarray, item_rows: np.ndarray, ratings: np.ndarray) -> float:
    """The mean squared error of the model's predictions of ``ratings``."""
    return float(np.mean((ratings - model.predict(user_rows, item_rows)) ** 2))
