"""Σ a·s² − b·s over the stored pairs of a (users, items) CSR matrix, s = x_u·y_i, for any
factors, on a pool's threads; and the Gram matrices of factors.

The implicit model's training loss (:class:`~sqlml.ml.recommendation.wals.TrainingLoss`) needs
the scores of every stored pair, about a million a model, every iteration: a compiled loop
(:mod:`sqlml.ml.recommendation.kernels`) reads each pair's two factor rows and sums its
term in float64. The pairs are visited by bands of items whose factors fit a core's L2 cache
(:data:`BAND_BYTES`), by user within a band: the random reads of the items' rows then hit that
cache instead of L3 (7 against 10 CPU-ms a pass at 1M ratings × 10,000 items × 32 float32
factors). The visiting order is cut into one run of pairs per thread (the compiled loop runs
without the GIL).

The sum over every pair of the squared score, Σ_u x_uᵀ(YᵀY)x_u, is ⟨XᵀX, YᵀY⟩: the elementwise
product of two (k, k) Gram matrices (:func:`gram`), summed.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from sqlml.ml.recommendation import kernels

#: Bytes of item factors in one band of items (about half a core's L2 cache).
BAND_BYTES = 256 << 10
#: Rows of factors whose Gram matrix is summed in the factors' dtype (the blocks' sums in float64).
GRAM_ROWS = 8_192


class PairSums:
    """Σ ``square``·s² − ``linear``·s over the stored pairs of a CSR matrix's ``indptr`` and
    ``indices``, for any factors: float32 ones (the library's) as they are, others as float64.

    Args:
        indptr: the CSR matrix's row starts (users).
        indices: its column indices (items).
        square: each stored pair's weight of s², in the matrix's order (held as float32).
        linear: each stored pair's weight of −s, likewise.
        pool: the threads the runs of pairs go to.
        threads: how many threads ``pool`` has (one run of pairs each).
        factors: k, the number of factors (for the bands; the float32 loop is compiled here).
    """

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, square: np.ndarray, linear: np.ndarray,
                 pool: ThreadPoolExecutor, threads: int, factors: int) -> None:  # fmt: skip
        self.pool = pool
        band = np.asarray(indices) // max(1, BAND_BYTES // max(4 * factors, 1))
        # a stable sort of small integers is a radix sort; within a band the pairs stay by user
        order = np.argsort(band.astype(np.min_scalar_type(int(band.max(initial=0)))), kind="stable")
        # the factor rows the codes index (checked against each call's factors: the loop reads them unchecked)
        self.rows = (len(indptr) - 1, int(np.max(indices, initial=-1)) + 1)
        index = kernels.index_dtype(max(self.rows))  # int32 codes, int64 past 2³¹ − 1 rows
        self.items = np.asarray(indices).take(order).astype(index)
        self.users = np.repeat(np.arange(len(indptr) - 1, dtype=index), np.diff(indptr)).take(order)
        self.square = np.asarray(square, dtype=np.float32).take(order)
        self.linear = np.asarray(linear, dtype=np.float32).take(order)
        bounds = np.linspace(0, len(order), threads + 1).astype(np.int64).tolist()
        self.runs = [(first, last) for first, last in zip(bounds[:-1], bounds[1:]) if last > first]
        kernels.pair_loss(factors, np.dtype(np.float32), index)

    def submit(self, user_factors: np.ndarray, item_factors: np.ndarray) -> Callable[[], float]:
        """Start the runs; returns the function that waits for them and gives the sum.

        Raises:
            ValueError: fewer factor rows than the matrix's users or items, or factor counts that differ.
        """
        if len(user_factors) < self.rows[0] or len(item_factors) < self.rows[1] or user_factors.shape[1:] != item_factors.shape[1:]:
            raise ValueError(f"factors {user_factors.shape} and {item_factors.shape} do not cover {self.rows[0]} users and {self.rows[1]} items")
        single = user_factors.dtype == item_factors.dtype == np.float32
        dtype = np.dtype(np.float32 if single else np.float64)
        users, items = np.ascontiguousarray(user_factors, dtype=dtype), np.ascontiguousarray(item_factors, dtype=dtype)
        loop = kernels.pair_loss(users.shape[1], dtype, self.items.dtype)
        runs = [self.pool.submit(loop, self.users, self.items, self.square, self.linear, users, items, first, last) for first, last in self.runs]
        return lambda: sum(run.result() for run in runs)


def gram(factors: np.ndarray) -> np.ndarray:
    """FᵀF in float64: each block of :data:`GRAM_ROWS` rows' product in the factors' dtype (one
    BLAS call, as the library forms YᵀY), the blocks summed in float64."""
    total = np.zeros((factors.shape[1],) * 2)
    for first in range(0, len(factors), GRAM_ROWS):
        block = factors[first : first + GRAM_ROWS]
        total += block.T @ block
    return total
