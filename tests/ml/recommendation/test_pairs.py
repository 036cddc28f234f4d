"""The stored pairs' loss terms (compiled loop) against the same sum in float64 NumPy."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import sparse

from sqlml.ml.recommendation import pairs


def numpy_sum(matrix: sparse.csr_matrix, square: np.ndarray, linear: np.ndarray, user_factors: np.ndarray, item_factors: np.ndarray) -> float:
    """Σ square·s² − linear·s over the stored pairs, every step in float64."""
    users = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    scores = np.einsum("ij,ij->i", user_factors.astype(np.float64)[users], item_factors.astype(np.float64)[matrix.indices])
    return float(np.sum(square.astype(np.float64) * scores**2 - linear.astype(np.float64) * scores))


@pytest.mark.parametrize(("factors", "dtype"), [(1, np.float32), (3, np.float64), (9, np.float32), (9, np.float16), (32, np.float32), (32, np.float64)])
def test_pair_sums_are_the_float64_sum_of_the_factors(monkeypatch, factors, dtype):
    """Factor counts below, between and at multiples of the loop's vectors of 4, bands of 2
    items (pairs out of CSR order), users and items without pairs, 3 runs of pairs; float32
    factors are read as they are and others as float64 (float16 widened exactly), so the sum is
    the float64 one to rounding."""
    monkeypatch.setattr(pairs, "BAND_BYTES", 8 * factors)
    rng = np.random.default_rng(factors)
    dense = (rng.random((40, 30)) < 0.3).astype(np.float32)
    dense[5, :] = dense[:, 7] = 0
    matrix = sparse.csr_matrix(dense)
    square, linear = rng.exponential(5.0, matrix.nnz).astype(np.float32), rng.exponential(5.0, matrix.nnz).astype(np.float32)
    user_factors, item_factors = rng.normal(size=(40, factors)).astype(dtype), rng.normal(size=(30, factors)).astype(dtype)
    with ThreadPoolExecutor(3) as pool:
        got = pairs.PairSums(matrix.indptr, matrix.indices, square, linear, pool, 3, factors).submit(user_factors, item_factors)()
    assert got == pytest.approx(numpy_sum(matrix, square, linear, user_factors, item_factors), rel=1e-13)


def test_pair_sums_of_a_matrix_without_pairs_are_zero():
    matrix = sparse.csr_matrix((4, 3), dtype=np.float32)
    with ThreadPoolExecutor(2) as pool:
        sums = pairs.PairSums(matrix.indptr, matrix.indices, matrix.data, matrix.data, pool, 2, 5)
        assert sums.submit(np.ones((4, 5), np.float32), np.ones((3, 5), np.float32))() == 0.0
