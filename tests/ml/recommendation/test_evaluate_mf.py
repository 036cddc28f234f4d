"""ML.EVALUATE of MATRIX_FACTORIZATION models against direct computations: scikit-learn's
regression metrics of the predicted ratings (explicit), and a per-user ranking of every item
with sklearn.metrics.ndcg_score and NumPy (implicit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn import metrics

import sqlml
from sqlml.ml.models.model import Model
from sqlml.ml.recommendation.stored import factorization_of
from sqlml.store.records import ModelRef


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate_mf")
    rng = np.random.default_rng(11)
    user, item = np.nonzero(rng.random((50, 40)) < 0.25)
    frame = pd.DataFrame({"user": [f"u{u}" for u in user], "item": item, "rating": rng.integers(1, 6, len(user)).astype(float)})
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as connection:
        connection.query("CREATE SCHEMA ds")
        connection.register("f", frame)
        connection.query("CREATE TABLE ds.r AS SELECT * FROM f")
        connection.query("CREATE MODEL ds.explicit OPTIONS(model_type='matrix_factorization', num_factors=3) AS SELECT * FROM ds.r")
        connection.query(
            "CREATE MODEL ds.implicit OPTIONS(model_type='matrix_factorization', feedback_type='implicit', num_factors=3, "
            "wals_alpha=5) AS SELECT * FROM ds.r"
        )
        yield connection


def factorization(con, name: str):
    store = con.models
    return factorization_of(Model.load(store.verified_files(store.resolve(ModelRef.parse(name)))))


def test_explicit_metrics_are_sklearns_with_unseen_users_and_items_scored_by_intercepts(con):
    rows = pd.DataFrame({"user": ["u1", "u2", "u3", "new", "u4", "u5"], "item": [1, 2, 3, 4, 999, 6], "rating": [4.0, 2, 5, 3, 1, None]})
    con.register("held", rows)
    got = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.explicit, (SELECT * FROM held))").df()
    assert list(got.columns) == ["mean_absolute_error", "mean_squared_error", "mean_squared_log_error",
                                 "median_absolute_error", "r2_score", "explained_variance"]  # fmt: skip
    model = factorization(con, "ds.explicit")
    rated = rows.dropna()
    users, items = model.user_index(pa.array(rated.user)), model.item_index(pa.array(rated.item))
    assert users[3] == -1 and items[4] == -1
    predicted = model.score_pairs(users, items)
    assert predicted[3] == pytest.approx(model.global_intercept + model.item_intercepts[items[3]])
    truth = rated.rating.to_numpy()
    expected = [metrics.mean_absolute_error(truth, predicted), metrics.mean_squared_error(truth, predicted),
                metrics.mean_squared_log_error(truth, predicted), metrics.median_absolute_error(truth, predicted),
                metrics.r2_score(truth, predicted), metrics.explained_variance_score(truth, predicted)]  # fmt: skip
    np.testing.assert_allclose(got.iloc[0].to_numpy(), expected, rtol=1e-10)


def test_stored_explicit_metrics_are_those_of_the_training_rows_without_a_split(con):
    stored = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.explicit)").df()
    again = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.explicit, (SELECT * FROM ds.r))").df()
    np.testing.assert_allclose(stored.to_numpy(), again.to_numpy(), rtol=1e-10)


def test_implicit_metrics_rank_every_item_for_each_user(con):
    got = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.implicit, (SELECT * FROM ds.r WHERE item < 20))").df()
    assert list(got.columns) == ["mean_average_precision", "mean_squared_error", "normalized_discounted_cumulative_gain", "average_rank"]
    model = factorization(con, "ds.implicit")
    rows = con.query("SELECT * FROM ds.r WHERE item < 20").df()
    users = model.user_index(pa.array(rows.user))
    items = model.item_index(pa.array(rows.item))
    scores = model.user_factors @ model.item_factors.T
    n_items = len(model.items)
    aps, ndcgs, ranked, weights, squares = [], [], [], [], []
    for u in np.unique(users):
        gains = np.zeros(n_items)
        gains[items[users == u]] = rows.rating.to_numpy()[users == u]
        order = np.argsort(-scores[u])
        relevant = gains[order] > 0
        hits = np.cumsum(relevant)
        aps.append(np.mean(hits[relevant] / (np.flatnonzero(relevant) + 1)))
        ndcgs.append(metrics.ndcg_score(gains[None, :], scores[u][None, :]))
        positions = np.empty(n_items)
        positions[order] = np.arange(n_items) / (n_items - 1)
        ranked.append(np.sum(gains * positions))
        weights.append(gains.sum())
        squares.append(np.sum(((gains > 0) - scores[u]) ** 2))
    expected = [np.mean(aps), np.sum(squares) / (len(squares) * n_items), np.mean(ndcgs), np.sum(ranked) / np.sum(weights)]
    np.testing.assert_allclose(got.iloc[0].to_numpy(), expected, rtol=1e-9)


def test_stored_implicit_metrics_are_those_of_the_training_rows(con):
    stored = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.implicit)").df()
    again = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.implicit, (SELECT * FROM ds.r))").df()
    np.testing.assert_allclose(stored.to_numpy(), again.to_numpy(), rtol=1e-10)


def test_many_users_rank_a_seeded_sample_and_keep_the_exact_squared_error(con):
    from sqlml.ml.recommendation import ranking

    model = factorization(con, "ds.implicit")
    rows = con.query("SELECT * FROM ds.r").df()
    users, items = model.user_index(pa.array(rows.user)), model.item_index(pa.array(rows.item))
    raw = np.column_stack([users, items])
    full = ranking.implicit_metrics(model.user_factors, model.item_factors, rows.rating.to_numpy(), raw)
    sampled = ranking.implicit_metrics(model.user_factors, model.item_factors, rows.rating.to_numpy(), raw, max_users=7)
    chosen = np.random.default_rng(ranking.SEED).choice(np.unique(users), 7, replace=False)
    subset = np.isin(users, chosen)
    exact = ranking.implicit_metrics(model.user_factors, model.item_factors, rows.rating.to_numpy()[subset], raw[subset])
    assert sampled["mean_squared_error"] == pytest.approx(full["mean_squared_error"], rel=1e-12)
    for name in ("mean_average_precision", "normalized_discounted_cumulative_gain", "average_rank"):
        assert sampled[name] == pytest.approx(exact[name], rel=1e-12)
    assert sampled["mean_average_precision"] != pytest.approx(full["mean_average_precision"], rel=1e-6)


def test_implicit_metrics_add_up_duplicate_pairs_skip_unseen_ones_and_count_only_higher_scores():
    from sqlml.ml.recommendation import ranking

    rng = np.random.default_rng(5)
    user_factors, item_factors = np.round(rng.normal(size=(30, 2))), np.round(rng.normal(size=(12, 2)))  # many tied scores
    users, items = rng.integers(-1, 30, 300), rng.integers(-1, 12, 300)
    ratings = rng.integers(-2, 4, 300).astype(float)
    scores = user_factors @ item_factors.T
    got = ranking.implicit_metrics(user_factors, item_factors, ratings, np.column_stack([users, items]))
    aps, ndcgs, weighted, weights, squares = [], [], 0.0, 0.0, 0.0
    for u in np.unique(users[(users >= 0) & (items >= 0)]):
        mine = (users == u) & (items >= 0)
        gains = np.bincount(items[mine], weights=ratings[mine], minlength=12)
        relevant = np.flatnonzero(gains > 0)
        squares += np.sum(((gains > 0) - scores[u]) ** 2)
        if not len(relevant):
            continue
        ranks = np.array([1 + np.sum(scores[u] > scores[u, i]) for i in relevant])
        aps.append(np.mean(np.arange(1, len(ranks) + 1) / np.sort(ranks)))
        ideal = np.sum(np.sort(gains[relevant])[::-1] / np.log2(np.arange(2, len(relevant) + 2)))
        ndcgs.append(np.sum(gains[relevant] / np.log2(ranks + 1)) / ideal)
        weighted += np.sum(gains[relevant] * (ranks - 1) / 11)
        weights += np.sum(gains[relevant])
    evaluated = len(np.unique(users[(users >= 0) & (items >= 0)]))
    expected = [np.mean(aps), squares / (evaluated * 12), np.mean(ndcgs), weighted / weights]
    np.testing.assert_allclose([got[name] for name in ranking.IMPLICIT_METRICS], expected, rtol=1e-12)


def test_ranks_count_items_scoring_higher_by_less_than_float32_resolves():
    from sqlml.ml.recommendation import ranking

    # scores 1, 1 + 1e-12, 1 - 1e-12, 1 + 1e-12, 2: one float32 key for the first four
    user_factors, item_factors = np.ones((1, 1)), np.array([[1.0], [1.0 + 1e-12], [1.0 - 1e-12], [1.0 + 1e-12], [2.0]])
    got = ranking.implicit_metrics(user_factors, item_factors, np.ones(3), np.array([[0, 0], [0, 1], [0, 2]]))
    ranks = np.array([4, 2, 5])  # 1 + the items scoring strictly higher in float64
    assert got["average_rank"] == pytest.approx(np.mean((ranks - 1) / 4), rel=1e-12)
    assert got["mean_average_precision"] == pytest.approx(np.mean(np.arange(1, 4) / np.sort(ranks)), rel=1e-12)


def test_users_or_items_of_another_type_are_a_clear_error_as_in_ml_recommend(con):
    # the items were trained as INT64; a STRING item column converts no more than in ML.RECOMMEND
    with pytest.raises(sqlml.InvalidModelInputError, match=r"^The column item has type string, which does not convert to the type the model was trained on \(int64\)\.") as caught:
        con.query("SELECT * FROM ML.EVALUATE(MODEL ds.explicit, (SELECT 'u1' AS user, 'seven' AS item, 4.0 AS rating))")
    assert caught.value.hint == "Give item values of type int64, e.g. with CAST(item AS …)."


def test_training_an_implicit_model_scores_no_rows_and_keeps_no_outputs(con, monkeypatch):
    """The stored ranking metrics score pairs from the factors: CREATE MODEL never predicts the
    training rows, and keeps no outputs (only classifiers' are read back, by ML.CONFUSION_MATRIX)."""
    from sqlml.ml.recommendation.estimator import FactorizationEstimator

    def refuse(self, X):
        raise AssertionError("an implicit CREATE MODEL predicted its training rows")

    monkeypatch.setattr(FactorizationEstimator, "predict", refuse)
    con.query(
        "CREATE MODEL ds.implicit_again OPTIONS(model_type='matrix_factorization', feedback_type='implicit', num_factors=3, "
        "wals_alpha=5) AS SELECT * FROM ds.r"
    )
    monkeypatch.undo()
    stored = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.implicit_again)").df()
    again = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.implicit_again, (SELECT * FROM ds.r))").df()
    np.testing.assert_allclose(stored.to_numpy(), again.to_numpy(), rtol=1e-10)
    store = con.models
    arrays = Model.load(store.verified_files(store.resolve(ModelRef.parse("ds.implicit_again")))).arrays
    assert not {"eval_output", "eval_target"} & set(arrays)
