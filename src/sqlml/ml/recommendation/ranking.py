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
pair's score is its factors' product (an implicit model's prediction). A rank counts the items
scored strictly higher, plus one: one matmul and one compiled count per block of users, the
blocks on two threads. Ranking every item for every user costs users × items scores: the metrics training
stores and tuning compares (``max_users``) rank :data:`RANKED_USERS` users when there are more,
``default_rng(SEED).choice`` of the evaluated users in ascending order (a deterministic sample);
the mean squared error is always exact, from ‖Y x_u‖² = x_uᵀ(YᵀY)x_u and the relevant pairs'
scores. ML.EVALUATE with input rows ranks every user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sqlml.ml.recommendation import kernels
from sqlml.ml.recommendation.pairs import gram

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from scipy import sparse

IMPLICIT_METRICS = ("mean_average_precision", "mean_squared_error", "normalized_discounted_cumulative_gain", "average_rank")
#: Scores held at once by each ranking thread (users per block × items).
BLOCK_CELLS = 1_000_000
#: Threads that rank blocks of users.
THREADS = 2
#: Users ranked for the stored and tuning metrics (see the module's description): 1,000 users
#: × 10,000 items take ≈0.06 CPU-s to rank, a few percent of a 1M-rating fit.
RANKED_USERS = 1_000
SEED = 20240601


def implicit_metrics(
    user_factors: np.ndarray, item_factors: np.ndarray, y: np.ndarray, codes: np.ndarray, max_users: int | None = None,
    rated: sparse.csr_matrix | None = None,
) -> dict:
    """The four metrics of the evaluation rows ``y`` (ratings) whose user and item rows are
    ``codes`` (rows, 2; -1: unseen in training); the ranking metrics of at most ``max_users`` users.

    The scores of the distinct pairs are computed from the factors (an implicit model's
    prediction is their product), with one-thread BLAS (two-thread BLAS calls right after the
    ``implicit`` library's fit wait on its threads). ``rated``, when given, is
    :func:`rated_pairs` of the rows (training built it already)."""
    from threadpoolctl import threadpool_limits

    if rated is None:
        codes = np.asarray(codes, dtype=np.int64)
        known = (codes >= 0).all(axis=1)
        rated = rated_pairs(codes[known, 0], codes[known, 1], np.asarray(y, dtype=np.float64)[known], (len(user_factors), len(item_factors)))
    with threadpool_limits(1, "blas"):
        return _metrics(user_factors, item_factors, rated, max_users)


def _metrics(user_factors: np.ndarray, item_factors: np.ndarray, rated: sparse.csr_matrix, max_users: int | None) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    if not rated.nnz:
        return dict.fromkeys(IMPLICIT_METRICS)
    evaluated = np.flatnonzero(np.diff(rated.indptr))
    relevant = rated.data > 0
    with ThreadPoolExecutor(THREADS) as pool:
        mse = _squared_error(user_factors, item_factors, rated, evaluated, relevant, pool)
        ranked = evaluated
        if max_users is not None and len(evaluated) > max_users:
            ranked = np.sort(np.random.default_rng(SEED).choice(evaluated, max_users, replace=False))
        counts = np.diff(rated.indptr)[ranked]
        # the ranked users' stored pairs, in order: each user's run of positions in the matrix
        positions = np.arange(counts.sum()) + np.repeat(rated.indptr[ranked] - np.cumsum(counts) + counts, counts)
        owners = np.repeat(ranked, counts)
        keep = relevant[positions]
        if not keep.any():
            return {**dict.fromkeys(IMPLICIT_METRICS), "mean_squared_error": mse()}
        owners, items, gains = owners[keep], rated.indices[positions[keep]], rated.data[positions[keep]]
        ranks = _ranks(user_factors, item_factors, owners, items, pool)
        mse = mse()
    group = np.cumsum(np.r_[False, owners[1:] != owners[:-1]])
    percentile = (ranks - 1) / max(len(item_factors) - 1, 1)
    return {
        "mean_average_precision": float(np.mean(_average_precisions(group, ranks))),
        "mean_squared_error": mse,
        "normalized_discounted_cumulative_gain": float(np.mean(_ndcgs(group, ranks, gains))),
        "average_rank": float(np.sum(gains * percentile) / np.sum(gains)),
    }


def rated_pairs(user_rows: np.ndarray, item_rows: np.ndarray, ratings: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """The (users, items) float64 CSR matrix of the distinct pairs of known user and item rows and
    their summed ratings (a pair whose ratings sum to 0 is kept), sorted by user then item."""
    from scipy import sparse

    rated = sparse.csr_matrix((np.asarray(ratings, dtype=np.float64), (user_rows, item_rows)), shape=shape)
    rated.sum_duplicates()
    return rated


def _squared_error(
    user_factors: np.ndarray, item_factors: np.ndarray, rated: sparse.csr_matrix, evaluated: np.ndarray, relevant: np.ndarray,
    pool: ThreadPoolExecutor,
) -> Callable[[], float]:
    """Σ (p − x·y)² over every item of each evaluated user, p = 1 for the relevant pairs, over the
    number of such pairs: Σ (x·y)² = Σ x_uᵀ(YᵀY)x_u = ⟨XᵀX, YᵀY⟩ over the evaluated users (two
    Gram matrices), plus Σ (1 − 2 x·y) over the relevant pairs, whose scores are summed on
    ``pool`` (a sparse × dense product per half of the users: SciPy releases the GIL); returns
    the function that waits for them and gives the error."""
    from scipy import sparse

    weights = relevant.astype(np.float64)
    halves = np.linspace(0, len(user_factors), THREADS + 1).astype(np.int64)

    def relevant_scores(first: int, last: int) -> float:
        lo, hi = rated.indptr[first], rated.indptr[last]
        indicator = sparse.csr_matrix((weights[lo:hi], rated.indices[lo:hi], rated.indptr[first : last + 1] - lo), shape=(last - first, len(item_factors)))
        return float(np.vdot(user_factors[first:last], indicator @ item_factors))  # no (users, k) product array

    parts = [pool.submit(relevant_scores, first, last) for first, last in zip(halves[:-1], halves[1:])]
    evaluated_factors = user_factors if len(evaluated) == len(user_factors) else user_factors[evaluated]
    squares = float(np.sum(gram(evaluated_factors) * gram(item_factors)))
    count = np.count_nonzero(relevant)
    return lambda: float((squares + count - 2.0 * sum(part.result() for part in parts)) / (len(evaluated) * len(item_factors)))


def _ranks(user_factors: np.ndarray, item_factors: np.ndarray, users: np.ndarray, items: np.ndarray, pool: ThreadPoolExecutor) -> np.ndarray:
    """1 + the number of items each (user, item) pair's user scores strictly higher than the item
    (``users`` sorted). Blocks of users are scored and counted on ``pool``'s threads (BLAS and
    the compiled count release the GIL), each filling its own pairs' ranks (:func:`_rank_rows`)."""
    ranks = np.empty(len(users), dtype=np.float64)
    bounds = np.flatnonzero(np.r_[True, users[1:] != users[:-1], True])
    block = max(1, BLOCK_CELLS // max(len(item_factors), 1))

    def rank_block(first: int) -> None:
        edges = bounds[first : first + block + 1]
        scores = user_factors[users[edges[:-1]]] @ item_factors.T
        _rank_rows(scores, items[edges[0] : edges[-1]], edges - edges[0], ranks[edges[0] : edges[-1]])

    list(pool.map(rank_block, range(0, len(bounds) - 1, block)))
    return ranks


def _rank_rows(scores: np.ndarray, items: np.ndarray, edges: np.ndarray, out: np.ndarray) -> None:
    """Fill ``out`` with the ranks of the pairs ``items[edges[r]:edges[r + 1]]`` of score row r:
    1 + how many of the row's scores are strictly above the pair's, counted by a compiled loop
    (:func:`~sqlml.ml.recommendation.kernels.rank_counts`; a user has a few relevant items, so
    counting past each is ~4× cheaper than sorting the row)."""
    own = scores[np.repeat(np.arange(len(scores)), np.diff(edges)), items]
    np.add(kernels.rank_counts()(scores, own, edges), 1, out=out)


def _average_precisions(group: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Per user (``group``: 0, 1, … sorted): the mean over its relevant items, in rank order, of
    the item's place among them over its rank."""
    ordered = ranks[np.lexsort((ranks, group))]
    return np.bincount(group, weights=_places(group) / ordered) / np.bincount(group)


def _ndcgs(group: np.ndarray, ranks: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """Per user: the DCG of its ranking (gain / log2(rank + 1)) over the ideal ranking's (the
    gains in descending order at ranks 1, 2, …)."""
    dcg = np.bincount(group, weights=gains / np.log2(ranks + 1))
    ideal = gains[np.lexsort((-gains, group))] / np.log2(_places(group) + 1)
    return dcg / np.bincount(group, weights=ideal)


def _places(group: np.ndarray) -> np.ndarray:
    """1, 2, … within each run of equal values of the sorted ``group``."""
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    return np.arange(1, len(group) + 1) - np.repeat(starts, np.diff(np.append(starts, len(group))))
