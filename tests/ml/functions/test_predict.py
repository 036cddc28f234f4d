"""ML.PREDICT returns exactly what the underlying model computes on the same rows."""

from __future__ import annotations

import numpy as np
import pytest

from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.records import ModelRef


def _model(con, name: str):
    store = con.models
    return CACHE.get(store, store.resolve(ModelRef.parse(name)))


def test_boosted_tree_probabilities_equal_lightgbm_booster_on_the_same_features(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.bt OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['churned']) AS SELECT x1, x2, plan, active, churned FROM ds.train")
    model = _model(ml_con, "ds.bt")
    fresh = ml_con.query("SELECT x1, x2, plan, active FROM ds.fresh").arrow()
    expected = model.estimator.booster_.predict(model.preprocessor.transform(fresh))
    rows = ml_con.query("SELECT predicted_churned, predicted_churned_probs FROM ML.PREDICT(MODEL ds.bt, (SELECT x1, x2, plan, active FROM ds.fresh))").fetchall()
    got = np.array([{p["label"]: p["prob"] for p in r[1]}[True] for r in rows])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert [r[0] for r in rows] == (expected > 0.5).tolist()
    # the probabilities list the higher label (the positive class) first and sum to one
    assert all([p["label"] for p in r[1]] == [True, False] for r in rows)
    assert all(abs(sum(p["prob"] for p in r[1]) - 1) < 1e-12 for r in rows)


def test_linear_prediction_equals_weights_applied_to_raw_columns(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.lin OPTIONS(model_type='linear_reg', input_label_cols=['target']) AS SELECT x1, x2, plan, target FROM ds.train")
    weights = {r[0]: (r[1], {c["category"]: c["weight"] for c in r[2]}) for r in ml_con.query("SELECT * FROM ML.WEIGHTS(MODEL ds.lin)").fetchall()}
    means = dict(ml_con.query("SELECT input, mean FROM ML.FEATURE_INFO(MODEL ds.lin)").fetchall())
    rows = ml_con.query("SELECT x1, x2, plan, predicted_target FROM ML.PREDICT(MODEL ds.lin, TABLE ds.fresh)").fetchall()
    for x1, x2, plan, predicted in rows:
        x2 = means["x2"] if x2 is None else x2  # NULL numeric → training mean, as BigQuery imputes
        manual = weights["__INTERCEPT__"][0] + weights["x1"][0] * x1 + weights["x2"][0] * x2 + weights["plan"][1][plan]
        assert predicted == pytest.approx(manual, rel=1e-9, abs=1e-9)


def test_linear_regression_normal_equation_matches_least_squares(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.ols OPTIONS(model_type='linear_reg', input_label_cols=['target'], data_split_method='NO_SPLIT') AS SELECT x1, target FROM ds.train")
    data = ml_con.query("SELECT x1, target FROM ds.train").df()
    slope, intercept = np.polyfit(data["x1"], data["target"], 1)
    weights = dict((r[0], r[1]) for r in ml_con.query("SELECT processed_input, weight FROM ML.WEIGHTS(MODEL ds.ols)").fetchall())
    assert weights["x1"] == pytest.approx(slope, rel=1e-9)
    assert weights["__INTERCEPT__"] == pytest.approx(intercept, rel=1e-9)


def test_kmeans_and_pca_outputs_equal_their_estimators(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.k3 OPTIONS(model_type='kmeans', num_clusters=3) AS SELECT x1, x2, plan FROM ds.train")
    ml_con.query("CREATE OR REPLACE MODEL ds.p2 OPTIONS(model_type='pca', num_principal_components=2) AS SELECT x1, x2, plan FROM ds.train")
    fresh = ml_con.query("SELECT x1, x2, plan FROM ds.fresh").arrow()
    kmeans, pca = _model(ml_con, "ds.k3"), _model(ml_con, "ds.p2")
    distances = kmeans.estimator.predict(kmeans.preprocessor.transform(fresh))
    rows = ml_con.query("SELECT CENTROID_ID, NEAREST_CENTROIDS_DISTANCE FROM ML.PREDICT(MODEL ds.k3, (SELECT x1, x2, plan FROM ds.fresh))").fetchall()
    assert [r[0] for r in rows] == (distances.argmin(axis=1) + 1).tolist()
    for row, expected in zip(rows, distances):
        assert [e["DISTANCE"] for e in row[1]] == pytest.approx(sorted(expected), abs=1e-12)
    projections = pca.estimator.predict(pca.preprocessor.transform(fresh))
    got = ml_con.query("SELECT principal_component_1, principal_component_2 FROM ML.PREDICT(MODEL ds.p2, (SELECT x1, x2, plan FROM ds.fresh))").fetchall()
    np.testing.assert_allclose(np.array(got), projections, atol=1e-12)


def test_pca_predict_passes_non_feature_columns_through(ml_con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-pca trains
    # a classifier on SELECT * FROM ML.PREDICT(MODEL iris_pca, (SELECT <features>, species …))
    ml_con.query("CREATE OR REPLACE MODEL ds.p2 OPTIONS(model_type='pca', num_principal_components=2) AS SELECT x1, x2, plan FROM ds.train")
    plain = ml_con.query("SELECT * FROM ML.PREDICT(MODEL ds.p2, (SELECT x1, x2, plan, tier, target FROM ds.fresh))").arrow()
    assert plain.column_names == ["principal_component_1", "principal_component_2", "tier", "target"]
    assert plain.column("tier").to_pylist() == [r[0] for r in ml_con.query("SELECT tier FROM ds.fresh").fetchall()]
    kept = ml_con.query("SELECT * FROM ML.PREDICT(MODEL ds.p2, (SELECT x1, x2, plan, tier FROM ds.fresh), STRUCT(TRUE AS keep_original_columns))").arrow()
    assert kept.column_names == ["principal_component_1", "principal_component_2", "x1", "x2", "plan", "tier"]
    ml_con.query("CREATE OR REPLACE MODEL ds.after_pca OPTIONS(model_type='logistic_reg', input_label_cols=['tier']) "
                 "AS SELECT * FROM ML.PREDICT(MODEL ds.p2, (SELECT x1, x2, plan, tier FROM ds.train))")
    assert ml_con.query("SELECT COUNT(*) FROM ML.PREDICT(MODEL ds.after_pca, (SELECT * FROM ML.PREDICT(MODEL ds.p2, TABLE ds.fresh)))").fetchall() == [(300,)]


def test_pca_one_hot_encodes_strings_as_numpy_does(ml_con):
    """https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-pca#scale_features:
    numeric features centered and scaled to unit variance, categorical ones one-hot encoded."""
    ml_con.query("CREATE OR REPLACE MODEL ds.p3 OPTIONS(model_type='pca', num_principal_components=3) AS SELECT x1, plan FROM ds.train WHERE x2 IS NOT NULL")
    frame = ml_con.query("SELECT x1, plan FROM ds.train WHERE x2 IS NOT NULL").df()
    x1 = (frame["x1"] - frame["x1"].mean()) / frame["x1"].std(ddof=1)
    design = np.column_stack([x1] + [(frame["plan"] == c).to_numpy(float) for c in ("basic", "plus", "pro")])
    design -= design.mean(axis=0)
    eigenvalues, vectors = np.linalg.eigh(design.T @ design / (len(design) - 1))
    order = np.argsort(eigenvalues)[::-1][:3]
    info = ml_con.query("SELECT eigenvalue FROM ML.PRINCIPAL_COMPONENT_INFO(MODEL ds.p3) ORDER BY principal_component_id").fetchall()
    assert [r[0] for r in info] == pytest.approx(eigenvalues[order].tolist(), rel=1e-9)
    loadings = ml_con.query("SELECT principal_component_id, feature, numerical_value, categorical_value FROM ML.PRINCIPAL_COMPONENTS(MODEL ds.p3)").fetchall()
    first = {r[1]: r for r in loadings if r[0] == 0}
    got = [first["x1"][2]] + [next(e["value"] for e in first["plan"][3] if e["category"] == c) for c in ("basic", "plus", "pro")]
    np.testing.assert_allclose(np.abs(got), np.abs(vectors[:, order[0]]), atol=1e-9)


def test_single_row_prediction_equals_batch_prediction(ml_con):
    # trained on ds.fresh's 300 rows (100 deep trees on ds.train's 1,200 took 4x as long), asked about ds.train's
    ml_con.query("CREATE OR REPLACE MODEL ds.rf OPTIONS(model_type='random_forest_regressor', input_label_cols=['target']) AS SELECT x1, x2, plan, target FROM ds.fresh")
    batch = ml_con.query("SELECT x1, x2, plan, predicted_target FROM ML.PREDICT(MODEL ds.rf, TABLE ds.train) ORDER BY x1 LIMIT 5").fetchall()
    for x1, x2, plan, predicted in batch:
        single = ml_con.query("SELECT predicted_target FROM ML.PREDICT(MODEL ds.rf, (SELECT @x1 AS x1, @x2 AS x2, @plan AS plan))",
                              params={"x1": x1, "x2": x2, "plan": plan}).fetchall()[0][0]
        assert single == pytest.approx(predicted, abs=1e-12)


def test_unseen_category_and_null_predict_like_bigquery(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.cat OPTIONS(model_type='linear_reg', input_label_cols=['target']) AS SELECT x1, plan, target FROM ds.train")
    weights = {r[0]: (r[1], {c["category"]: c["weight"] for c in r[2]}) for r in ml_con.query("SELECT * FROM ML.WEIGHTS(MODEL ds.cat)").fetchall()}
    unseen = ml_con.query("SELECT predicted_target FROM ML.PREDICT(MODEL ds.cat, (SELECT 1.0 AS x1, 'enterprise' AS plan))").fetchall()[0][0]
    # an unseen category contributes nothing (all one-hot columns zero)
    assert unseen == pytest.approx(weights["__INTERCEPT__"][0] + weights["x1"][0], rel=1e-9)
    null_plan = ml_con.query("SELECT predicted_target FROM ML.PREDICT(MODEL ds.cat, (SELECT 1.0 AS x1, CAST(NULL AS STRING) AS plan))").fetchall()[0][0]
    assert null_plan == pytest.approx(unseen, rel=1e-9)  # NULL was not seen in training either
