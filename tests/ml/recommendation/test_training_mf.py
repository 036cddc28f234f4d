"""MATRIX_FACTORIZATION's fitting checked against independent computations: one explicit ALS
sweep against scipy's least squares per user and item, and an implicit model against the
``implicit`` library called directly on the same confidence matrix with the same seed."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
from scipy import sparse

import sqlml
from sqlml.ml.models.model import Model
from sqlml.ml.recommendation import als, pairs, wals
from sqlml.ml.recommendation.stored import factorization_of
from sqlml.store.records import ModelRef


def ratings(users: int = 40, items: int = 30, seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    user, item = np.nonzero(rng.random((users, items)) < 0.3)
    return user, item, rng.integers(1, 6, len(user)).astype(np.float64)


def ridge(design: np.ndarray, target: np.ndarray, l2_reg: float) -> np.ndarray:
    """argmin ‖design·w − target‖² + λ‖w‖², solved as an augmented least-squares problem."""
    augmented = np.vstack([design, np.sqrt(l2_reg) * np.eye(design.shape[1])])
    return scipy.linalg.lstsq(augmented, np.concatenate([target, np.zeros(design.shape[1])]))[0]


def test_one_explicit_sweep_is_the_ridge_solution_of_each_user_then_each_item():
    user, item, rating = ratings()
    model = als.ExplicitALS(user, item, rating, (40, 30), factors=3, l2_reg=0.7)
    items_before = np.column_stack([model.item_factors, model.item_intercepts])
    loss = model.sweep()
    assert loss == pytest.approx(np.mean((rating - model.predict(user, item)) ** 2), rel=1e-10)
    mean = rating.mean()
    for u in (0, 7, 39):
        rows = user == u
        design = np.column_stack([items_before[item[rows], :3], np.ones(rows.sum())])
        expected = ridge(design, rating[rows] - mean - items_before[item[rows], 3], 0.7)
        np.testing.assert_allclose(np.append(model.user_factors[u], model.user_intercepts[u]), expected, rtol=1e-8, atol=1e-10)
    for i in (0, 11, 29):
        rows = item == i
        design = np.column_stack([model.user_factors[user[rows]], np.ones(rows.sum())])
        expected = ridge(design, rating[rows] - mean - model.user_intercepts[user[rows]], 0.7)
        np.testing.assert_allclose(np.append(model.item_factors[i], model.item_intercepts[i]), expected, rtol=1e-8, atol=1e-10)


def test_duplicate_ratings_of_a_pair_count_as_two_observations():
    user, item, rating = ratings()
    twice = als.ExplicitALS(np.r_[user, user[:1]], np.r_[item, item[:1]], np.r_[rating, rating[:1]], (40, 30), 3, 0.7)
    twice.sweep()
    u = user[0]
    rows = np.flatnonzero(user == u)
    rows = np.r_[rows, 0]
    mean = np.r_[rating, rating[:1]].mean()
    design = np.column_stack([als.ExplicitALS(user, item, rating, (40, 30), 3, 0.7).item_factors[item[rows]], np.ones(len(rows))])
    expected = ridge(design, rating[rows] - mean, 0.7)
    np.testing.assert_allclose(np.append(twice.user_factors[u], twice.user_intercepts[u]), expected, rtol=1e-8)


@pytest.fixture(scope="module")
def implicit_con(tmp_path_factory):
    root = tmp_path_factory.mktemp("implicit")
    user, item, rating = ratings(60, 50, seed=9)
    rating = rating / 5 - 0.1  # positive ratings of different confidence
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        con.register("f", pd.DataFrame({"visitor": user, "content": item, "score": rating}))
        con.query("CREATE TABLE ds.views AS SELECT * FROM f")
        yield con, (user, item, rating)


def test_implicit_factors_are_the_librarys_on_the_same_confidences(implicit_con):
    con, (user, item, rating) = implicit_con
    con.query(
        "CREATE MODEL ds.wals OPTIONS(model_type='matrix_factorization', feedback_type='implicit', user_col='visitor', "
        "item_col='content', rating_col='score', num_factors=4, l2_reg=2.0, wals_alpha=10, max_iterations=5, early_stop=FALSE) "
        "AS SELECT * FROM ds.views"
    )
    store = con.models
    factorization = factorization_of(Model.load(store.verified_files(store.resolve(ModelRef.parse("ds.wals")))))
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    confidences = sparse.csr_matrix((1 + 10 * rating, (user, item)), shape=(60, 50)).astype(np.float32)
    with threadpool_limits(1, "blas"):
        library = AlternatingLeastSquares(factors=4, regularization=2.0, iterations=5, random_state=wals.SEED)
        library.fit(confidences, show_progress=False)
    np.testing.assert_allclose(factorization.user_factors, library.user_factors, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(factorization.item_factors, library.item_factors, rtol=1e-5, atol=1e-6)
    assert factorization.global_intercept == 0 and not factorization.user_intercepts.any() and not factorization.item_intercepts.any()
    info = con.query("SELECT iteration, loss FROM ML.TRAINING_INFO(MODEL ds.wals) ORDER BY iteration").df()
    assert info.iteration.tolist() == [0, 1, 2, 3, 4]
    # every iteration's loss is the library's own (calculate_training_loss), fitted again with it on
    losses = []
    with threadpool_limits(1, "blas"):
        again = AlternatingLeastSquares(factors=4, regularization=2.0, iterations=5, random_state=wals.SEED, calculate_training_loss=True)
        again.fit(confidences, show_progress=False, callback=lambda iteration, elapsed, loss: losses.append(loss))
    np.testing.assert_allclose(info.loss.to_numpy(), losses, rtol=1e-5)


def test_an_early_stop_keeps_the_factors_of_the_iteration_it_stops_at(implicit_con):
    """With early_stop the loss is computed before the library goes on (not trailing it by an
    iteration): the model is the library's fit of as many iterations as ML.TRAINING_INFO lists,
    the last one the first whose loss improved by less than min_rel_progress."""
    con, (user, item, rating) = implicit_con
    con.query(
        "CREATE MODEL ds.stopped OPTIONS(model_type='matrix_factorization', feedback_type='implicit', user_col='visitor', "
        "item_col='content', rating_col='score', num_factors=4, l2_reg=2.0, wals_alpha=10, max_iterations=30, "
        "early_stop=TRUE, min_rel_progress=0.02) AS SELECT * FROM ds.views"
    )
    info = con.query("SELECT iteration, loss, duration_ms FROM ML.TRAINING_INFO(MODEL ds.stopped) ORDER BY iteration").df()
    losses = info.loss.to_numpy()
    progress = -np.diff(losses) / losses[:-1]
    assert 2 <= len(info) < 30 and progress[-1] < 0.02 and (progress[:-1] >= 0.02).all()
    assert (info.duration_ms >= 0).all()
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    confidences = sparse.csr_matrix((1 + 10 * rating, (user, item)), shape=(60, 50)).astype(np.float32)
    library_losses = []
    with threadpool_limits(1, "blas"):
        library = AlternatingLeastSquares(factors=4, regularization=2.0, iterations=len(info), random_state=wals.SEED, calculate_training_loss=True)
        library.fit(confidences, show_progress=False, callback=lambda iteration, elapsed, loss: library_losses.append(loss))
    np.testing.assert_allclose(losses, library_losses, rtol=1e-5)
    store = con.models
    factorization = factorization_of(Model.load(store.verified_files(store.resolve(ModelRef.parse("ds.stopped")))))
    np.testing.assert_allclose(factorization.user_factors, library.user_factors, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("gram_rows", "band_bytes"), [(8, 64), (8_192, 256 << 10)])
def test_training_loss_is_the_librarys_calculate_loss(monkeypatch, gram_rows, band_bytes):
    """Dislikes (negative confidences), users and items without ratings, bands of 3 items
    (``pairs.BAND_BYTES`` = 64 with 5 float32 factors) and Gram matrices summed over blocks of
    rows (``pairs.GRAM_ROWS`` = 8) against ``implicit.cpu._als.calculate_loss``."""
    from concurrent.futures import ThreadPoolExecutor

    from implicit.cpu import _als

    monkeypatch.setattr(pairs, "GRAM_ROWS", gram_rows)
    monkeypatch.setattr(pairs, "BAND_BYTES", band_bytes)
    rng = np.random.default_rng(3)
    user, item = np.nonzero(rng.random((70, 45)) < 0.2)
    keep = (user != 7) & (item != 12)  # user 7 and item 12 have no ratings
    rating = rng.normal(1.0, 1.5, keep.sum())
    confidences = wals.confidence_matrix(user[keep], item[keep], rating, (70, 45), 3.0)
    assert (confidences.data < 0).any()
    for dtype in (np.float32, np.float64):
        user_factors, item_factors = rng.normal(size=(70, 5)).astype(dtype), rng.normal(size=(45, 5)).astype(dtype)
        with ThreadPoolExecutor(2) as pool:
            got = wals.TrainingLoss(confidences, 0.3, 5, pool, 2)(user_factors, item_factors)
        assert got == pytest.approx(_als.calculate_loss(confidences, user_factors, item_factors, 0.3), rel=1e-5)


def test_confidences_follow_bigquery_preference_and_weight():
    matrix = wals.confidence_matrix(np.array([0, 0, 1, 1, 1]), np.array([0, 1, 0, 1, 1]), np.array([2.0, 0.0, -1.0, 0.5, 0.5]), (2, 2), 40.0)
    # positive: 1 + α·r (duplicates add up); zero: left out (an unobserved pair); negative: p = 0 with 1 + α·|r|
    assert matrix.toarray().tolist() == [[81.0, 0.0], [-41.0, 41.0]]


def test_confidences_without_zero_ratings_share_the_rated_pairs_indices_and_leave_them_unchanged():
    rated = sparse.csr_matrix(np.array([[2.5, 0.0, -0.25], [0.0, 1.0, 0.0]]))
    before = rated.copy()
    matrix = wals.confidences_of(rated, 40.0)
    assert matrix.dtype == np.float32 and matrix.toarray().tolist() == [[101.0, 0.0, -11.0], [0.0, 41.0, 0.0]]
    assert np.shares_memory(matrix.indices, rated.indices)
    assert (rated != before).nnz == 0 and rated.data.tolist() == [2.5, -0.25, 1.0]


def test_training_loss_of_float32_factors_over_many_gram_blocks_is_the_librarys():
    """20,000 users (three blocks of ``pairs.GRAM_ROWS``) with the library's float32 factors."""
    from concurrent.futures import ThreadPoolExecutor

    from implicit.cpu import _als

    rng = np.random.default_rng(5)
    user, item = rng.integers(0, 20_000, 60_000), rng.integers(0, 300, 60_000)
    confidences = wals.confidence_matrix(user, item, rng.exponential(1.0, 60_000), (20_000, 300), 40.0)
    user_factors = rng.normal(0, 0.3, (20_000, 8)).astype(np.float32)
    item_factors = rng.normal(0, 0.3, (300, 8)).astype(np.float32)
    with ThreadPoolExecutor(2) as pool:
        got = wals.TrainingLoss(confidences, 0.1, 8, pool, 2)(user_factors, item_factors)
    assert got == pytest.approx(_als.calculate_loss(confidences, user_factors, item_factors, 0.1), rel=1e-5)


@pytest.mark.parametrize(("feedback", "huge", "scale"), [
    ("implicit", 1e20, ", each confidence 1 + wals_alpha·rating with wals_alpha = 40"),
    ("explicit", 1e200, ""),
])  # fmt: skip
def test_ratings_that_make_the_factors_diverge_are_the_users_error_naming_the_column(implicit_con, feedback, huge, scale):
    """implicit's float32 solver turns NaN from ratings ~1e19 up (the library's ModelFitError, an
    internal error before); explicit ALS overflowed to NaN factors silently at 1e200."""
    con, (user, item, rating) = implicit_con
    con.register("huge", pd.DataFrame({"visitor": user, "content": item, "score": np.r_[huge, rating[1:]]}))
    message = f"MATRIX_FACTORIZATION training diverged: the factors became NaN or infinite with ratings up to {huge:g} in score{scale}.\n"
    with pytest.raises(sqlml.InvalidModelInputError, match="^" + re.escape(message)) as caught:
        con.query(f"CREATE MODEL ds.diverged OPTIONS(model_type='matrix_factorization', feedback_type='{feedback}', user_col='visitor', "
                  "item_col='content', rating_col='score', num_factors=3, max_iterations=3) AS SELECT * FROM huge")  # fmt: skip
    assert caught.value.hint == "Scale the ratings down in the training query, e.g. LOG(1 + score)." and caught.value.column == "score"
    assert "diverged" not in con.query("SELECT model_name FROM ds.INFORMATION_SCHEMA.MODELS").df().to_string()
