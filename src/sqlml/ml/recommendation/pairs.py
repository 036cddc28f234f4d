"""Sums over the stored pairs of a (users, items) CSR matrix of a function of their scores
x_u·y_i, computed chunk by chunk on a pool's threads.

The implicit model's training loss (:class:`~sqlml.ml.recommendation.wals.TrainingLoss`) needs
the scores of every stored pair, about a million a model, every iteration: with the library's
float32 factors, a BLAS dot and axpy per pair (the library's ``calculate_loss``) costs ~2× the
CPU of gathering each chunk's items' and users' factors (``take`` with ``mode="clip"``, which
skips the bounds check: the indices are valid) into two (:data:`CHUNK`, k) buffers that a run
reuses, their product in place and one matrix-vector product with ones for the row sums (BLAS:
~15 % less CPU than a row-wise ``einsum``). (With float64 factors, 256-byte rows, a sparse ×
dense product is cheaper: the stored squared error uses that.) The pairs are visited by bands
of items whose factors fit a core's L2 cache (:data:`BAND_BYTES`), by user within a band: the
random gathers of the items' rows then hit that cache instead of L3 (~40 % less CPU a pass at
1M ratings × 10,000 items); the indices are kept as ``intp``, so that ``take`` converts none.
The runs of chunks are split between the threads (NumPy's gathers and products release the GIL).

The sum over every pair of the squared score, Σ_u x_uᵀ(YᵀY)x_u, is ⟨XᵀX, YᵀY⟩: the elementwise
product of two (k, k) Gram matrices (:func:`gram`), summed.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Stored pairs scored at once.
CHUNK = 8_192
#: Bytes of item factors in one band of items (about half a core's L2 cache).
BAND_BYTES = 256 << 10
#: Rows of factors whose Gram matrix is summed in the factors' dtype (the blocks' sums in float64).
GRAM_ROWS = 8_192


class PairSums:
    """Σ over chunks of ``combine(first, last, scores)`` — the scores of the stored pairs first …
    last − 1 in :attr:`order` — for any factors, over the pairs of a matrix's ``indptr`` and ``indices``.

    Args:
        indptr: the CSR matrix's row starts (users).
        indices: its column indices (items).
        pool: the threads the runs of chunks go to.
        threads: how many threads ``pool`` has (one run of chunks each).
        item_bytes: the bytes of one item's factors (k × the factors' itemsize), for the bands.

    Attributes:
        order: the stored pairs' positions in the visiting order (bands of items, then users):
            ``combine``'s ``first … last`` index arrays permuted by it (:meth:`arrange`).
    """

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, pool: ThreadPoolExecutor, threads: int, item_bytes: int):
        self.pool = pool
        band = np.asarray(indices) // max(1, BAND_BYTES // max(item_bytes, 1))
        # a stable sort of small integers is a radix sort; within a band the pairs stay by user
        self.order = np.argsort(band.astype(np.min_scalar_type(int(band.max(initial=0)))), kind="stable")
        self.indices = np.asarray(indices).take(self.order).astype(np.intp)
        #: each stored pair's row (user), gathered by like the items
        self.owners = np.repeat(np.arange(len(indptr) - 1, dtype=np.intp), np.diff(indptr)).take(self.order)
        bounds = np.r_[np.arange(0, len(indices), CHUNK), len(indices)]
        starts = np.linspace(0, len(bounds) - 1, threads + 1).astype(np.int64)  # each run's first and last chunk bound
        self.runs = [bounds[first : last + 1] for first, last in zip(starts[:-1], starts[1:]) if last > first]

    def arrange(self, values: np.ndarray) -> np.ndarray:
        """Per-pair ``values`` (in the matrix's order) in the visiting order :attr:`order`."""
        return values.take(self.order)

    def submit(self, user_factors: np.ndarray, item_factors: np.ndarray, combine: Callable[[int, int, np.ndarray], float]) -> Callable[[], float]:
        """Start the runs; returns the function that waits for them and gives the sum."""
        runs = [self.pool.submit(self._run, user_factors, item_factors, combine, bounds) for bounds in self.runs]
        return lambda: sum(run.result() for run in runs)

    def _run(self, user_factors: np.ndarray, item_factors: np.ndarray, combine: Callable, bounds: np.ndarray) -> float:
        total = 0.0
        size = int(np.max(np.diff(bounds)))
        items = np.empty((size, item_factors.shape[1]), dtype=item_factors.dtype)
        users = np.empty((size, user_factors.shape[1]), dtype=user_factors.dtype)
        ones = np.ones(item_factors.shape[1], dtype=item_factors.dtype)
        for first, last in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            count = last - first
            np.take(item_factors, self.indices[first:last], axis=0, mode="clip", out=items[:count])
            np.take(user_factors, self.owners[first:last], axis=0, mode="clip", out=users[:count])
            products = np.multiply(items[:count], users[:count], out=items[:count])
            total += combine(first, last, products @ ones)
        return total


def gram(factors: np.ndarray) -> np.ndarray:
    """FᵀF in float64: each block of :data:`GRAM_ROWS` rows' product in the factors' dtype (one
    BLAS call, as the library forms YᵀY), the blocks summed in float64."""
    total = np.zeros((factors.shape[1],) * 2)
    for first in range(0, len(factors), GRAM_ROWS):
        block = factors[first : first + GRAM_ROWS]
        total += block.T @ block
    return total
