"""A wide one-hot encoding stays sparse from training to prediction; dense ones are refused before
they are allocated."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import sqlml
from sqlml.ml.preprocessing.automatic import feature_matrix
from sqlml.store.records import ModelRef


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root = tmp_path_factory.mktemp("sparse")
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as connection:
        connection.query("CREATE SCHEMA ds")
        yield connection


def _probability_of_true(con, model: str, query: str) -> np.ndarray:
    rows = con.query(f"SELECT (SELECT p.prob FROM UNNEST(predicted_c_probs) AS p WHERE p.label) FROM ML.PREDICT(MODEL {model}, ({query})) ORDER BY i").fetchall()
    return np.array([r[0] for r in rows])


@pytest.mark.slow
def test_fifty_thousand_distinct_strings_train_and_predict_in_bounded_memory(con):
    from scipy.special import expit
    from sklearn.preprocessing import OneHotEncoder

    con.query("CREATE TABLE ds.wide_rows AS SELECT range AS i, 'k' || (range % 50000) AS key, CAST(range % 97 AS DOUBLE) AS x, "
              "(range % 50000) % 3 = 0 AS c FROM range(60000)")  # fmt: skip
    tracemalloc.start()
    try:
        con.query("CREATE OR REPLACE MODEL ds.wide OPTIONS(model_type='logistic_reg', input_label_cols=['c'], max_iterations=3, "
                  "data_split_method='NO_SPLIT') AS SELECT key, x, c FROM ds.wide_rows")  # fmt: skip
        query = "SELECT i, key, x FROM ds.wide_rows WHERE i % 30 = 0 UNION ALL SELECT -1, 'unseen', 1.0"
        got = _probability_of_true(con, "ds.wide", query)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # dense, the training matrix alone would be 60,000 × 50,001 × 8 bytes = 22 GiB
    assert peak < 256 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    assert con.models.resolve(ModelRef("ds", "wide")).metadata["task"]["sparse"] is True

    # The same probabilities from scikit-learn's own sparse one-hot and ML.WEIGHTS' weights.
    weights = con.query("SELECT processed_input, weight, category_weights FROM ML.WEIGHTS(MODEL ds.wide)").fetchall()
    by_input = {name: (weight, categories) for name, weight, categories in weights}
    vocabulary = sorted(entry["category"] for entry in by_input["key"][1])
    per_category = {entry["category"]: entry["weight"] for entry in by_input["key"][1]}
    rows = con.query(f"SELECT key, x FROM ({query}) ORDER BY i").fetchall()
    encoder = OneHotEncoder(categories=[vocabulary], handle_unknown="ignore", sparse_output=True)
    hot = encoder.fit_transform(np.array([[r[0]] for r in rows], dtype=object))
    assert hot.format == "csr"
    logits = hot @ np.array([per_category[v] for v in vocabulary]) + by_input["x"][0] * np.array([r[1] for r in rows]) + by_input["__INTERCEPT__"][0]
    np.testing.assert_allclose(got, expit(logits), rtol=1e-9, atol=1e-12)


def test_sparse_and_dense_training_agree(con, monkeypatch):
    """The sparse code path computes what the dense one does (gradient descent, line search)."""
    con.query("CREATE OR REPLACE TABLE ds.mid AS SELECT range AS i, 'k' || (range % 1500) AS key, sin(range) AS x, "
              "(range % 1500) % 4 = 1 OR cos(range) > 0.7 AS c FROM range(6000)")  # fmt: skip
    create = ("CREATE OR REPLACE MODEL ds.{} OPTIONS(model_type='logistic_reg', input_label_cols=['c'], max_iterations=6, "
              "l2_reg=0.001, early_stop=FALSE, enable_global_explain=TRUE) AS SELECT key, x, c FROM ds.mid")  # fmt: skip
    con.query(create.format("mid_sparse"))
    monkeypatch.setattr(feature_matrix, "SPARSE_MIN_FEATURES", 10**9)
    con.query(create.format("mid_dense"))
    sparse = con.models.resolve(ModelRef("ds", "mid_sparse")).metadata
    dense = con.models.resolve(ModelRef("ds", "mid_dense")).metadata
    assert (sparse["task"]["sparse"], dense["task"]["sparse"]) == (True, False)
    query = "SELECT i, key, x FROM ds.mid WHERE i % 7 = 0"
    np.testing.assert_allclose(_probability_of_true(con, "ds.mid_sparse", query), _probability_of_true(con, "ds.mid_dense", query), rtol=1e-9)
    losses = [[r[0] for r in con.query(f"SELECT loss FROM ML.TRAINING_INFO(MODEL ds.{m}) ORDER BY iteration").fetchall()] for m in ("mid_sparse", "mid_dense")]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-9)
    # explanations need the dense rows: the sparse model gives them the same
    explained = [con.query(f"SELECT e.feature, e.attribution FROM ML.EXPLAIN_PREDICT(MODEL ds.{m}, ({query} ORDER BY i LIMIT 20)), "
                           "UNNEST(top_feature_attributions) AS e ORDER BY i, e.feature").fetchall() for m in ("mid_sparse", "mid_dense")]  # fmt: skip
    assert [f for f, _ in explained[0]] == [f for f, _ in explained[1]]
    np.testing.assert_allclose([a for _, a in explained[0]], [a for _, a in explained[1]], rtol=1e-9, atol=1e-12)
    overall = [dict(con.query(f"SELECT * FROM ML.GLOBAL_EXPLAIN(MODEL ds.{m})").fetchall()) for m in ("mid_sparse", "mid_dense")]
    assert overall[0] == pytest.approx(overall[1], rel=1e-9)


def test_sparse_normal_equation_matches_scikit_learn_ridge(con, monkeypatch):
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import OneHotEncoder

    # 151 processed features take the sparse path once the width threshold (1,000) is lowered below
    # them: the same sparse code as 1,201 features, without solving a 1,202-wide dense system; 20 rows
    # per key as before, so AUTO_STRATEGY (≥ 10 rows per feature) still picks the normal equation.
    monkeypatch.setattr(feature_matrix, "SPARSE_MIN_FEATURES", 100)
    con.query("CREATE OR REPLACE TABLE ds.ridge_rows AS SELECT range AS i, 'k' || (range % 150) AS key, cos(range) * 3 AS x, "
              "(range % 150) % 5 + 2.0 * cos(range) * 3 + sin(range * range) AS y FROM range(3000)")  # fmt: skip
    con.query("CREATE OR REPLACE MODEL ds.ridge OPTIONS(model_type='linear_reg', input_label_cols=['y'], l2_reg=0.0005, "
              "data_split_method='NO_SPLIT') AS SELECT key, x, y FROM ds.ridge_rows")  # fmt: skip
    metadata = con.models.resolve(ModelRef("ds", "ridge")).metadata
    assert metadata["task"]["sparse"] is True
    assert [r[0] for r in con.query("SELECT learning_rate IS NULL FROM ML.TRAINING_INFO(MODEL ds.ridge)").fetchall()] == [True]  # normal equation
    frame = con.query("SELECT key, x, y FROM ds.ridge_rows ORDER BY i").df()
    hot = OneHotEncoder(sparse_output=True).fit_transform(frame[["key"]])
    x = ((frame["x"] - frame["x"].mean()) / frame["x"].std(ddof=1)).to_numpy()[:, None]
    from scipy import sparse

    design = sparse.hstack([hot, x], format="csr")
    # sqlml minimizes mean squared error + l2_reg·‖β‖²; Ridge the sum of squares + alpha·‖β‖².
    ridge = Ridge(alpha=0.0005 * len(frame), solver="sparse_cg", tol=1e-12, max_iter=100_000).fit(design, frame["y"])
    got = np.array([r[0] for r in con.query("SELECT predicted_y FROM ML.PREDICT(MODEL ds.ridge, (SELECT i, key, x FROM ds.ridge_rows)) ORDER BY i").fetchall()])
    np.testing.assert_allclose(got, ridge.predict(design), rtol=1e-6, atol=1e-6)


def test_a_dense_matrix_too_large_for_memory_is_refused(con, monkeypatch):
    monkeypatch.setattr(feature_matrix, "DENSE_LIMIT_BYTES", 10 * 2**20)
    con.query("CREATE OR REPLACE TABLE ds.dense_rows AS SELECT 'k' || (range % 2000) AS key, CAST(range AS DOUBLE) AS x FROM range(4000)")
    sql = "CREATE OR REPLACE MODEL ds.dense OPTIONS(model_type='kmeans', num_clusters=2)\n  AS SELECT x, key FROM ds.dense_rows"
    with pytest.raises(sqlml.InvalidModelInputError, match=r"^The feature matrix would need 0\.1 GiB \(4000 rows × 2001 processed features\); the column key alone becomes 2000 features\.") as info:
        con.query(sql)
    assert (info.value.location.line, info.value.location.col) == (2, 16)
    assert not con.models.exists("ds", "dense")
