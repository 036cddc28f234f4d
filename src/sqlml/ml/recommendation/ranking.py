"""ML.EVALUATE's metrics of an implicit-feedback matrix factorization: ranking every item for each user.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-evaluate and the
API's RankingMetrics (https://cloud.google.com/bigquery/docs/reference/rest/v2/models#rankingmetrics):

* ``mean_average_precision`` — "a precision per user for all the items by ranking them", averaged
  over the users: each user's items (every item of the model) ranked by predicted confidence, the
  relevant ones being those the evaluation rows rate above 0 (p = 1);
* ``mean_squared_error`` — of the predicted confidence against the preference, "1 or 0 depending
  on if the rating exists or not", over every item of each evaluated user;
* ``normalized_discounted_cumulative_gain`` — the ranking's DCG with the ratings as gains, over
  the ideal ranking's, averaged over the users;
* ``average_rank`` — Hu, Koren and Volinsky's expected percentile rank (http://yifanhu.net/PUB/cf.pdf,
  section 5): Σ r_ui · rank_ui / Σ r_ui, rank_ui the item's percentile in the user's ranking
  (0 first, 1 last).

Users and items unseen in training are left out; an evaluated pair's ratings are added up. A
rank counts the items scored strictly higher, plus one. Ranking every item for every user costs
users × items scores: the metrics training stores and tuning compares (``max_users``) rank
:data:`RANKED_USERS` users drawn with a fixed seed when there are more (the mean squared error is
always exact, from ‖Y x_u‖² = x_uᵀ(YᵀY)x_u); ML.EVALUATE with input rows ranks every user.
"""

from __future__ import annotations

import numpy as np

IMPLICIT_METRICS = ("mean_average_precision", "mean_squared_error", "normalized_discounted_cumulative_gain", "average_rank")
#: Scores held at once while ranking (users per block × items).
BLOCK_CELLS = 4_000_000
#: Users ranked for the stored and tuning metrics (see the module's description).
RANKED_USERS = 2_000
SEED = 20240601


def implicit_metrics(user_factors: np.ndarray, item_factors: np.ndarray, y: np.ndarray, raw: np.ndarray, max_users: int | None = None) -> dict:
    """The four metrics of the evaluation rows ``y`` (ratings) whose raw outputs ``raw`` hold
    each row's (score, user row, item row); the ranking metrics of at most ``max_users`` users."""
    users, items, ratings, scores = _pairs(raw, np.asarray(y, dtype=np.float64), len(item_factors))
    if not len(users):
        return dict.fromkeys(IMPLICIT_METRICS)
    evaluated = np.unique(users)
    relevant = ratings > 0
    evaluated_factors = user_factors[evaluated]
    squares = np.sum((evaluated_factors @ (item_factors.T @ item_factors)) * evaluated_factors)
    scores = scores[relevant]
    mse = (squares + np.sum(1.0 - 2.0 * scores)) / (len(evaluated) * len(item_factors))
    if max_users is not None and len(evaluated) > max_users:
        chosen = np.zeros(len(user_factors), dtype=bool)
        chosen[np.random.default_rng(SEED).choice(evaluated, max_users, replace=False)] = True
        relevant &= chosen[users]
    if not relevant.any():
        return {**dict.fromkeys(IMPLICIT_METRICS), "mean_squared_error": float(mse)}
    ranks = _ranks(user_factors, item_factors, users[relevant], items[relevant])
    gains, owners = ratings[relevant], users[relevant]
    percentile = (ranks - 1) / max(len(item_factors) - 1, 1)
    return {
        "mean_average_precision": float(np.mean(_per_user(owners, ranks, gains, _average_precision))),
        "mean_squared_error": float(mse),
        "normalized_discounted_cumulative_gain": float(np.mean(_per_user(owners, ranks, gains, _ndcg))),
        "average_rank": float(np.sum(gains * percentile) / np.sum(gains)),
    }


def _pairs(raw: np.ndarray, ratings: np.ndarray, n_items: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct known (user, item) pairs of the raw outputs, sorted by user, with their summed
    ratings and their score."""
    users, items = raw[:, 1].astype(np.int64), raw[:, 2].astype(np.int64)
    known = (users >= 0) & (items >= 0)
    keys, first, inverse = np.unique(users[known] * n_items + items[known], return_index=True, return_inverse=True)
    summed = np.bincount(inverse, weights=ratings[known], minlength=len(keys))
    return keys // n_items, keys % n_items, summed, raw[known, 0][first]


def _ranks(user_factors: np.ndarray, item_factors: np.ndarray, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """1 + the number of items each (user, item) pair's user scores strictly higher than the item."""
    ranks = np.empty(len(users), dtype=np.float64)
    distinct, starts = np.unique(users, return_index=True)
    block = max(1, BLOCK_CELLS // max(len(item_factors), 1))
    bounds = np.append(starts, len(users))
    for first in range(0, len(distinct), block):
        chosen = distinct[first : first + block]
        scores = user_factors[chosen] @ item_factors.T
        ordered = np.sort(scores, axis=1)
        lo, hi = bounds[first], bounds[min(first + block, len(distinct))]
        local = np.searchsorted(chosen, users[lo:hi])
        own = scores[local, items[lo:hi]]
        # each row is sorted: offset the rows apart so one searchsorted serves the whole block
        span = float(np.ptp(ordered)) + 1.0 if ordered.size else 1.0
        offsets = np.arange(len(chosen)) * span
        flat = (ordered - ordered[:, :1] + offsets[:, None]).ravel()
        above = np.searchsorted(flat, own - ordered[local, 0] + offsets[local], side="right")
        ranks[lo:hi] = 1 + (local + 1) * ordered.shape[1] - above
    return ranks


def _per_user(users: np.ndarray, ranks: np.ndarray, gains: np.ndarray, metric) -> np.ndarray:
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    return np.array([metric(r, g) for r, g in zip(np.split(ranks, starts[1:]), np.split(gains, starts[1:]))])


def _average_precision(ranks: np.ndarray, gains: np.ndarray) -> float:
    ordered = np.sort(ranks)
    return float(np.mean(np.arange(1, len(ordered) + 1) / ordered))


def _ndcg(ranks: np.ndarray, gains: np.ndarray) -> float:
    ideal = np.sort(gains)[::-1] / np.log2(np.arange(2, len(gains) + 2))
    return float(np.sum(gains / np.log2(ranks + 1)) / np.sum(ideal))
