"""Implicit-feedback matrix factorization: weighted ALS by the ``implicit`` library, with BigQuery's
confidence and preference.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-matrix-factorization —
implicit feedback trains weighted ALS (Hu, Koren and Volinsky, http://yifanhu.net/PUB/cf.pdf),
minimising Σ_ui c_ui (p_ui − x_u·y_i)² + λ(Σ‖x_u‖² + Σ‖y_i‖²) over every user-item pair, with
p_ui = 1 when r_ui > 0 (else 0), c_ui = 1 + α·r_ui, α = ``wals_alpha``, λ = ``l2_reg``; the
intercepts are 0.

``implicit.cpu.als.AlternatingLeastSquares`` reads a CSR matrix whose stored value v is the pair's
confidence, with p = 1 for v > 0 and p = 0 (confidence −v) for v < 0; an absent pair has c = 1,
p = 0; its ``regularization`` is λ unscaled (``_als.pyx``: A = YᵀY + λI + Σ (c − 1) y yᵀ). So a
positive rating is stored as 1 + α·r, a zero rating is left out (c = 1, p = 0 like an absent pair),
and a negative rating — for which BigQuery's c = 1 + α·r would fall below an absent pair's 1 — is
stored as −(1 + α·|r|): a confident dislike, the library's meaning of a negative value. Duplicate
pairs add their ratings. The library's CG solver and float32 factors (its defaults) are used,
seeded, one BLAS thread (threadpoolctl) and the library's own threads for the users and items.

ML.TRAINING_INFO's per-iteration loss is the library's ``calculate_loss`` computed by
:class:`TrainingLoss` (the library's own costs ~5× as much CPU: a BLAS call per rating).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from sqlml.ml.recommendation.pairs import PairSums, gram

if TYPE_CHECKING:
    from implicit.cpu.als import AlternatingLeastSquares
    from scipy import sparse

SEED = 20240601


class _Stopped(Exception):
    """Raised from the library's per-iteration callback to stop fitting (early stop)."""


def confidence_matrix(user_rows: np.ndarray, item_rows: np.ndarray, ratings: np.ndarray, shape: tuple[int, int], alpha: float) -> sparse.csr_matrix:
    """The (users, items) float32 CSR matrix of signed confidences the library trains on."""
    from sqlml.ml.recommendation.ranking import rated_pairs

    return confidences_of(rated_pairs(user_rows, item_rows, ratings, shape), alpha)


def confidences_of(rated: sparse.csr_matrix, alpha: float) -> sparse.csr_matrix:
    """:func:`confidence_matrix` of the pairs' summed ratings (``rated``, sorted, duplicates summed;
    not modified, its index arrays shared when no pair sums to 0): the pairs summing to 0 left
    out, the others' signed confidence in float32."""
    from scipy import sparse

    values, indices, indptr = rated.data, rated.indices, rated.indptr
    if np.count_nonzero(values) < len(values):
        kept = values != 0
        values, indices = values[kept], indices[kept]
        indptr = np.concatenate([[0], np.cumsum(kept)])[indptr].astype(indptr.dtype)
    confidence = np.abs(values)  # sign(r)·(1 + α|r|), in place: the same float64 steps, then float32
    confidence *= alpha
    confidence += 1.0
    data = np.copysign(confidence, values, out=confidence).astype(np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=rated.shape)


def library_model(factors: int, l2_reg: float, iterations: int, threads: int | None = None) -> AlternatingLeastSquares:
    """The library's CPU model as sqlml configures it (seeded, its default solver and dtype)."""
    from implicit.cpu.als import AlternatingLeastSquares

    return AlternatingLeastSquares(
        factors=factors, regularization=l2_reg, alpha=1.0, iterations=iterations, calculate_training_loss=False,
        num_threads=threads or os.cpu_count() or 1, random_state=SEED,
    )  # fmt: skip


def fit(
    confidences: sparse.csr_matrix, factors: int, l2_reg: float, iterations: int, on_iteration: Callable,
    threads: int | None = None, defer: bool = False,
) -> AlternatingLeastSquares:
    """Fit weighted ALS; ``on_iteration(user_factors, item_factors, loss, duration_ms)`` is called
    for each iteration (``duration_ms``: from the previous iteration's end to this one's) and
    returns False to stop early (it may raise to cancel). Returns the library's fitted model.

    The loss is the library's (:class:`TrainingLoss`): the WALS objective divided by the total
    confidence of every pair. With ``defer`` (for fits that never stop early), an iteration's loss
    is computed on the pool from copies of its factors while the library runs the next iteration,
    and ``on_iteration`` is called for it once that iteration (or the fit) ends: the library's
    threads go on instead of waiting for the loss (and, spinning, holding a core it needs). The
    copies go to two pairs of buffers in turn (an iteration's are free once it is reported:
    ``on_iteration`` keeps no reference to them), not to new arrays whose pages fault in each time.
    """
    import implicit.cpu.als  # noqa: F401 — loaded first, so that the limit reaches the BLAS it loads
    from threadpoolctl import threadpool_limits

    threads = threads or os.cpu_count() or 1
    with threadpool_limits(1, "blas"), ThreadPoolExecutor(threads) as pool:
        model = library_model(factors, l2_reg, iterations, threads)
        # built on the pool while the library transposes the matrix (one thread) before its first iteration
        building = pool.submit(TrainingLoss, confidences, l2_reg, factors, pool, threads)
        pending: list[tuple] = []  # deferred iterations: (user factors, item factors, loss waiter, duration_ms)
        spare: list[tuple[np.ndarray, np.ndarray]] = []  # the copies of reported iterations, written again
        ended = [time.monotonic()]

        def report(user_factors: np.ndarray, item_factors: np.ndarray, value: Callable[[], float], duration_ms: int) -> None:
            if not on_iteration(user_factors, item_factors, value(), duration_ms):
                raise _Stopped

        def callback(iteration: int, elapsed: float, _: None) -> None:
            now = time.monotonic()
            duration_ms, ended[0] = int(round((now - ended[0]) * 1000)), now
            loss = building.result()
            if not defer:
                report(model.user_factors, model.item_factors, loss.start(model.user_factors, model.item_factors), duration_ms)
                return
            users, items = spare.pop() if spare else (np.empty_like(model.user_factors), np.empty_like(model.item_factors))
            np.copyto(users, model.user_factors)
            np.copyto(items, model.item_factors)
            pending.append((users, items, loss.start(users, items), duration_ms))
            if len(pending) > 1:
                reported = pending.pop(0)
                report(*reported)
                spare.append(reported[:2])

        try:
            model.fit(confidences, show_progress=False, callback=callback)
            for iteration in pending:
                report(*iteration)
        except _Stopped:
            pass
    return model


class TrainingLoss:
    """The library's training loss (``implicit.cpu._als.calculate_loss``) of a confidence matrix,
    for any factors, in vectorized NumPy.

    Every pair has c = 1, p = 0 but the stored ones (c = |v|, p = [v > 0]), so with s = x_u·y_i
    Σ_all c (p − s)² = Σ_u x_uᵀ(YᵀY)x_u + Σ_stored ((c − 1)s² − 2·c·p·s + c), and
    Σ_u x_uᵀ(YᵀY)x_u = ⟨XᵀX, YᵀY⟩ (the elementwise product of the two (k, k) Gram matrices,
    summed): two Gram matrices and the stored pairs' terms, summed in float64 by a compiled loop
    (:class:`~sqlml.ml.recommendation.pairs.PairSums`), O((users + items)·k² + nnz·k), instead of
    a BLAS dot and axpy per rating. (Like the library, a dislike adds its c, not only c·s².) Plus
    λ(‖X‖² + ‖Y‖²) = λ(tr XᵀX + tr YᵀY), over the total confidence Σ c + (users·items − nnz).

    Args:
        confidences: the matrix the library trains on (:func:`confidence_matrix`).
        l2_reg: λ.
        factors: k, the number of the library's float32 factors (for the pairs' visiting order
            and the loop compiled for them).
        pool: the threads the stored pairs are scored on.
        threads: how many threads ``pool`` has.
    """

    def __init__(self, confidences: sparse.csr_matrix, l2_reg: float, factors: int, pool: ThreadPoolExecutor, threads: int):
        data = confidences.data
        confidence = np.abs(data)
        self.l2_reg = l2_reg
        self.pool = pool
        square, linear = confidence - 1, np.where(data > 0, 2 * confidence, 0)  # float32: exact (c ≥ 1)
        self.pairs = PairSums(confidences.indptr, confidences.indices, square, linear, pool, threads, factors)
        self.constant = float(np.sum(confidence, dtype=np.float64))
        users, items = confidences.shape
        self.total = self.constant + float(users) * items - confidences.nnz

    def __call__(self, user_factors: np.ndarray, item_factors: np.ndarray) -> float:
        """The loss of ``user_factors`` (users, k) and ``item_factors`` (items, k)."""
        return self.start(user_factors, item_factors)()

    def start(self, user_factors: np.ndarray, item_factors: np.ndarray) -> Callable[[], float]:
        """Start computing the loss on the pool; returns the function that waits for it."""
        dense = self.pool.submit(self._dense, user_factors, item_factors)
        stored = self.pairs.submit(user_factors, item_factors)
        return lambda: (dense.result() + stored() + self.constant) / self.total

    def _dense(self, user_factors: np.ndarray, item_factors: np.ndarray) -> float:
        """Σ_u x_uᵀ(YᵀY)x_u + λ(‖X‖² + ‖Y‖²) from the Gram matrices XᵀX and YᵀY."""
        users, items = gram(user_factors), gram(item_factors)
        return float(np.sum(users * items)) + self.l2_reg * float(np.trace(users) + np.trace(items))


def weighted_error(user_factors: np.ndarray, item_factors: np.ndarray, confidences: sparse.csr_matrix) -> float:
    """Σ c (p − x·y)² / Σ c over the stored pairs of a confidence matrix (the eval split's loss)."""
    coo = confidences.tocoo()
    if not coo.nnz:
        return float("nan")
    confidence = np.abs(coo.data.astype(np.float64))
    preference = (coo.data > 0).astype(np.float64)
    predicted = np.einsum("ij,ij->i", user_factors[coo.row], item_factors[coo.col])
    return float(np.sum(confidence * (preference - predicted) ** 2) / np.sum(confidence))
