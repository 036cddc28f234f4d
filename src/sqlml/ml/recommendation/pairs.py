"""Sums over the stored pairs of a (users, items) CSR matrix of a function of their scores
x_u·y_i, computed chunk by chunk on a pool's threads.

The implicit model's training loss (:class:`~sqlml.ml.recommendation.wals.TrainingLoss`) needs
the scores of every stored pair, about a million a model, every iteration: with the library's
float32 factors, a BLAS dot and axpy per pair (the library's ``calculate_loss``) costs ~2× the
CPU of gathering each chunk's items' factors (``take`` with ``mode="clip"``, which skips the
bounds check: the indices are valid), repeating its users' (rows are sorted by user) and one
row-wise product. (With float64 factors, 256-byte rows, a sparse × dense product is cheaper:
the stored squared error uses that.) The stored pairs are split into one run of chunks per
thread (NumPy's gathers and products release the GIL); each chunk holds two (:data:`CHUNK`, k)
buffers.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Stored pairs scored at once.
CHUNK = 16_384


class PairSums:
    """Σ over chunks of ``combine(first, last, scores)`` — the scores of the stored pairs first …
    last − 1 — for any factors, over the pairs of a matrix's ``indptr`` and ``indices``.

    Args:
        indptr: the CSR matrix's row starts (users).
        indices: its column indices (items).
        pool: the threads the runs of chunks go to.
        threads: how many threads ``pool`` has (one run of chunks each).
    """

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, pool: ThreadPoolExecutor, threads: int):
        self.indptr, self.indices, self.pool = indptr, indices, pool
        bounds = np.r_[np.arange(0, len(indices), CHUNK), len(indices)]
        starts = np.linspace(0, len(bounds) - 1, threads + 1).astype(np.int64)  # each run's first and last chunk bound
        self.runs = [bounds[first : last + 1] for first, last in zip(starts[:-1], starts[1:]) if last > first]

    def submit(self, user_factors: np.ndarray, item_factors: np.ndarray, combine: Callable[[int, int, np.ndarray], float]) -> Callable[[], float]:
        """Start the runs; returns the function that waits for them and gives the sum."""
        runs = [self.pool.submit(self._run, user_factors, item_factors, combine, bounds) for bounds in self.runs]
        return lambda: sum(run.result() for run in runs)

    def _run(self, user_factors: np.ndarray, item_factors: np.ndarray, combine: Callable, bounds: np.ndarray) -> float:
        total = 0.0
        for first, last in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            owner_first = int(np.searchsorted(self.indptr, first, side="right")) - 1
            owner_last = int(np.searchsorted(self.indptr, last - 1, side="right"))  # one past the last pair's user
            counts = np.diff(np.clip(self.indptr[owner_first : owner_last + 1], first, last))
            users = np.repeat(user_factors[owner_first:owner_last], counts, axis=0)
            total += combine(first, last, np.einsum("ij,ij->i", np.take(item_factors, self.indices[first:last], axis=0, mode="clip"), users))
        return total


def row_dots(left: np.ndarray, right: np.ndarray) -> float:
    """Σ_ij left_ij·right_ij: each row's products summed in the factors' dtype, the rows in float64."""
    return float(np.sum(np.einsum("ij,ij->i", left, right), dtype=np.float64))
