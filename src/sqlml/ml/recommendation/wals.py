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
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from implicit.cpu.als import AlternatingLeastSquares
    from scipy import sparse

SEED = 20240601


class _Stopped(Exception):
    """Raised from the library's per-iteration callback to stop fitting (early stop)."""


def confidence_matrix(user_rows: np.ndarray, item_rows: np.ndarray, ratings: np.ndarray, shape: tuple[int, int], alpha: float) -> sparse.csr_matrix:
    """The (users, items) float32 CSR matrix of signed confidences the library trains on."""
    from scipy import sparse

    summed = sparse.csr_matrix((ratings.astype(np.float64), (user_rows, item_rows)), shape=shape)
    summed.sum_duplicates()
    summed.eliminate_zeros()
    values = summed.data
    summed.data = np.sign(values) * (1.0 + alpha * np.abs(values))
    return summed.astype(np.float32)


def library_model(factors: int, l2_reg: float, iterations: int, threads: int | None = None) -> AlternatingLeastSquares:
    """The library's CPU model as sqlml configures it (seeded, its default solver and dtype)."""
    from implicit.cpu.als import AlternatingLeastSquares

    return AlternatingLeastSquares(
        factors=factors, regularization=l2_reg, alpha=1.0, iterations=iterations, calculate_training_loss=True,
        num_threads=threads or os.cpu_count() or 1, random_state=SEED,
    )  # fmt: skip


def fit(
    confidences: sparse.csr_matrix, factors: int, l2_reg: float, iterations: int, on_iteration: Callable, threads: int | None = None
) -> AlternatingLeastSquares:
    """Fit weighted ALS; ``on_iteration(model, loss)`` is called after each iteration and returns
    False to stop early (it may raise to cancel). Returns the library's fitted model.

    The loss is the library's: the WALS objective divided by the total confidence of every pair.
    """
    import implicit.cpu.als  # noqa: F401 — loaded first, so that the limit reaches the BLAS it loads
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):
        model = library_model(factors, l2_reg, iterations, threads)

        def callback(iteration: int, elapsed: float, loss: float) -> None:
            if not on_iteration(model, loss):
                raise _Stopped

        try:
            model.fit(confidences, show_progress=False, callback=callback)
        except _Stopped:
            pass
    return model


def weighted_error(user_factors: np.ndarray, item_factors: np.ndarray, confidences: sparse.csr_matrix) -> float:
    """Σ c (p − x·y)² / Σ c over the stored pairs of a confidence matrix (the eval split's loss)."""
    coo = confidences.tocoo()
    if not coo.nnz:
        return float("nan")
    confidence = np.abs(coo.data.astype(np.float64))
    preference = (coo.data > 0).astype(np.float64)
    predicted = np.einsum("ij,ij->i", user_factors[coo.row], item_factors[coo.col])
    return float(np.sum(confidence * (preference - predicted) ** 2) / np.sum(confidence))
