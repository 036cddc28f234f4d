"""Explicit-feedback matrix factorization: alternating least squares with intercepts, in NumPy.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-matrix-factorization —
explicit feedback "trains the model using the Alternating Least Squares algorithm", minimising
Σ (r_ui − x_u·y_i)² + λ(Σ‖x_u‖² + Σ‖y_i‖²) over the observed ratings, λ = ``l2_reg``; the model
also has a global intercept and an intercept per user and per item
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-weights), so a
rating is predicted as global + b_u + b_i + x_u·y_i. The global intercept is the mean training
rating; each half-sweep solves, for every user (then every item) at once, the ridge problem of its
factors and intercept given the other side: the normal equations (Σ z zᵀ + λI) w = Σ t z with
z = (y_i, 1) and t = r_ui − global − b_i, batched (:func:`solve_side`). (The ``implicit`` library
fits weighted ALS for implicit feedback only, with no intercepts: it cannot fit this model.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEED = 20240601
#: Pairs scored at once by :func:`predict_pairs`.
PAIR_BLOCK = 8_192
#: Memory (bytes) for one block of gathered ratings.
CHUNK_BYTES = 64 << 20


class ExplicitALS:
    """The factors of an explicit model, fitted one sweep at a time.

    Args:
        user_rows: (n,) each rating's user code, 0 … n_users − 1.
        item_rows: (n,) each rating's item code.
        ratings: (n,) the ratings (a pair rated twice counts twice).
        shape: (n_users, n_items).
        factors: the number of latent factors.
        l2_reg: λ, applied to every factor and intercept.
    """

    def __init__(self, user_rows: np.ndarray, item_rows: np.ndarray, ratings: np.ndarray, shape: tuple[int, int], factors: int, l2_reg: float):
        self.global_intercept = float(np.mean(ratings))
        self.l2_reg = l2_reg
        centred = np.asarray(ratings, dtype=np.float64) - self.global_intercept
        self.by_user = Grouped.of(user_rows, item_rows, centred, shape[0])
        self.by_item = Grouped.of(item_rows, user_rows, centred, shape[1])
        rng = np.random.default_rng(SEED)
        self.user_factors = np.zeros((shape[0], factors))
        self.item_factors = rng.normal(0.0, 0.1, size=(shape[1], factors))
        self.user_intercepts = np.zeros(shape[0])
        self.item_intercepts = np.zeros(shape[1])

    def sweep(self) -> float:
        """One iteration: every user's factors and intercept, then every item's; returns the
        training ratings' mean squared error after it (the item half-sweep's residuals)."""
        self.user_factors, self.user_intercepts, _ = solve_side(self.by_user, self.item_factors, self.item_intercepts, self.l2_reg)
        self.item_factors, self.item_intercepts, squares = solve_side(self.by_item, self.user_factors, self.user_intercepts, self.l2_reg)
        return squares / max(len(self.by_item.values), 1)

    def predict(self, user_rows: np.ndarray, item_rows: np.ndarray) -> np.ndarray:
        """Predicted ratings; a code of -1 (unseen) contributes neither factors nor intercept."""
        return predict_pairs(self.user_factors, self.item_factors, self.user_intercepts, self.item_intercepts,
                             self.global_intercept, user_rows, item_rows)  # fmt: skip


@dataclass(frozen=True)
class Grouped:
    """Ratings grouped by the side being solved: row r's ratings are ``others[starts[r]:starts[r + 1]]``
    and ``values[…]`` (centred ratings)."""

    starts: np.ndarray
    others: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, rows: np.ndarray, others: np.ndarray, values: np.ndarray, n_rows: int) -> "Grouped":
        """The ratings of ``rows`` (codes below ``n_rows``), grouped."""
        order = np.argsort(rows, kind="stable")
        starts = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_rows))])
        return cls(starts, np.asarray(others)[order], values[order])

    @property
    def counts(self) -> np.ndarray:
        """How many ratings each row has."""
        return np.diff(self.starts)


def predict_pairs(user_factors: np.ndarray, item_factors: np.ndarray, user_intercepts: np.ndarray, item_intercepts: np.ndarray,
                  global_intercept: float, user_rows: np.ndarray, item_rows: np.ndarray) -> np.ndarray:  # fmt: skip
    """global + b_u + b_i + x_u·y_i for each (user, item) pair, BigQuery's prediction of a pair
    whose user or item (code -1) was not trained being global plus the known side's intercept.

    The pairs' factors are gathered by ``np.take`` into two buffers of :data:`PAIR_BLOCK` rows that
    stay in cache (fancy indexing allocates new arrays each block and gathers several times slower)."""
    user_known, item_known = user_rows >= 0, item_rows >= 0
    scores = np.full(len(user_rows), global_intercept, dtype=np.float64)
    scores += np.where(user_known, user_intercepts.take(user_rows, mode="clip"), 0.0)  # -1 clipped, then masked
    scores += np.where(item_known, item_intercepts.take(item_rows, mode="clip"), 0.0)
    both = user_known & item_known
    pairs = None if both.all() else np.flatnonzero(both)
    count = len(scores) if pairs is None else len(pairs)
    users = np.empty((min(PAIR_BLOCK, count), user_factors.shape[1]), user_factors.dtype)
    items = np.empty((len(users), item_factors.shape[1]), item_factors.dtype)
    for first in range(0, count, PAIR_BLOCK):
        block = slice(first, first + PAIR_BLOCK) if pairs is None else pairs[first : first + PAIR_BLOCK]
        size = len(scores[block])
        np.take(user_factors, user_rows[block], axis=0, out=users[:size], mode="clip")  # the rows are known
        np.take(item_factors, item_rows[block], axis=0, out=items[:size], mode="clip")
        scores[block] += np.einsum("ij,ij->i", users[:size], items[:size])
    return scores


def solve_side(grouped: Grouped, other: np.ndarray, other_intercepts: np.ndarray, l2_reg: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Each row's ridge solution (factors, intercept) given the other side's factors and intercepts,
    and the sum of the squared residuals of the ratings under the solutions.

    Rows are taken in blocks of rows with about as many ratings (up to the same power of two),
    each row's ratings gathered into a zero-padded (rows, width, k + 1) array: one batched product
    gives every row's Σ z zᵀ and Σ t z (the padding adds nothing), one batched solve the solutions.

    Args:
        grouped: the ratings (minus the global intercept) grouped by the rows being solved.
        other: (others, k) the other side's factors.
        other_intercepts: (others,) the other side's intercepts.
        l2_reg: λ.
    """
    z = np.hstack([other, np.ones((len(other), 1))])
    width = z.shape[1]
    counts = grouped.counts
    solved = np.zeros((len(counts), width))
    ridge = l2_reg * np.eye(width)
    level = np.ceil(np.log2(np.maximum(counts, 1))).astype(np.int64)
    squares = 0.0
    for bucket in np.unique(level[counts > 0]):
        rows = np.flatnonzero((level == bucket) & (counts > 0))
        span = 1 << int(bucket)
        chunk = max(1, CHUNK_BYTES // (8 * span * width))
        for first in range(0, len(rows), chunk):
            block = rows[first : first + chunk]
            solved[block], block_squares = _solve_rows(grouped, block, span, z, other_intercepts, ridge)
            squares += block_squares
    return solved[:, :-1], solved[:, -1], squares


def _solve_rows(grouped: Grouped, rows: np.ndarray, span: int, z: np.ndarray, other_intercepts: np.ndarray, ridge: np.ndarray) -> tuple[np.ndarray, float]:
    offsets = np.arange(span)[None, :]
    present = offsets < grouped.counts[rows][:, None]
    positions = np.where(present, grouped.starts[rows][:, None] + offsets, 0)
    others = grouped.others[positions]
    design = z[others] * present[..., None]
    target = np.where(present, grouped.values[positions] - other_intercepts[others], 0.0)
    normal = np.matmul(design.transpose(0, 2, 1), design) + ridge
    rhs = np.einsum("rwk,rw->rk", design, target)
    solution = np.linalg.solve(normal, rhs[..., None])[..., 0]
    residuals = target - np.einsum("rwk,rk->rw", design, solution)  # the padding's are 0
    return solution, float(np.sum(residuals**2))


def mean_squared_error(model: ExplicitALS, user_rows: np.ndarray, item_rows: np.ndarray, ratings: np.ndarray) -> float:
    """The mean squared error of the model's predictions of ``ratings``."""
    return float(np.mean((ratings - model.predict(user_rows, item_rows)) ** 2))
