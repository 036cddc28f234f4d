"""Every model type through create → predict → evaluate → reload (scikit-learn's test_common)."""

from __future__ import annotations

import pyarrow as pa
import pytest

import sqlml

CASES = {
    "linear_reg": ("target", ["predicted_target"]),
    "logistic_reg": ("churned", ["predicted_churned", "predicted_churned_probs"]),
    "boosted_tree_classifier": ("tier", ["predicted_tier", "predicted_tier_probs"]),
    "boosted_tree_regressor": ("target", ["predicted_target"]),
    "random_forest_classifier": ("churned", ["predicted_churned", "predicted_churned_probs"]),
    "random_forest_regressor": ("target", ["predicted_target"]),
    "kmeans": (None, ["CENTROID_ID", "NEAREST_CENTROIDS_DISTANCE"]),
    "pca": (None, ["principal_component_1", "principal_component_2"]),
}
METRICS = {
    "linear_reg": ["mean_absolute_error", "mean_squared_error", "mean_squared_log_error",
                   "median_absolute_error", "r2_score", "explained_variance"],
    "logistic_reg": ["precision", "recall", "accuracy", "f1_score", "log_loss", "roc_auc"],
    "kmeans": ["davies_bouldin_index", "mean_squared_distance"],
    "pca": ["total_explained_variance_ratio"],
}  # fmt: skip
# Fewer trees than the defaults (100 forest trees, 20 rounds): the contract checked here (columns,
# types, metrics, reload) does not depend on the count, and the default forests took ~15 s each.
SMALLER = {
    "boosted_tree_classifier": ", max_iterations=5",
    "boosted_tree_regressor": ", max_iterations=5",
    "random_forest_classifier": ", num_parallel_tree=10",
    "random_forest_regressor": ", num_parallel_tree=10",
}


def _create(con, model_type: str) -> str:
    label, _ = CASES[model_type]
    name = f"ds.common_{model_type}"
    if label is None:
        extra = ", num_clusters=3" if model_type == "kmeans" else ", num_principal_components=2"
        con.query(f"CREATE OR REPLACE MODEL {name} OPTIONS(model_type='{model_type}'{extra}) AS SELECT x1, x2, plan FROM ds.train")
    else:
        con.query(
            f"CREATE OR REPLACE MODEL {name} OPTIONS(model_type='{model_type}', input_label_cols=['{label}']{SMALLER.get(model_type, '')}) "
            f"AS SELECT x1, x2, plan, active, {label} FROM ds.train"
        )
    return name


@pytest.mark.parametrize("model_type", list(CASES))
def test_model_type_creates_predicts_evaluates_and_reloads(ml_con, model_type, tmp_path):
    name = _create(ml_con, model_type)
    label, outputs = CASES[model_type]
    predictions = ml_con.query(f"SELECT * FROM ML.PREDICT(MODEL {name}, TABLE ds.fresh)").arrow()
    # model outputs first, then the input columns passed through (PCA's features only with keep_original_columns)
    passthrough = ["x1", "x2", "plan", "active", "target", "churned", "tier"]
    if model_type == "pca":
        passthrough = ["active", "target", "churned", "tier"]
    assert predictions.column_names == outputs + passthrough
    assert predictions.num_rows == 300
    if label is not None and model_type.endswith("classifier") or model_type == "logistic_reg":
        label_type = ml_con.query(f"SELECT {label} FROM ds.fresh").arrow().schema.field(0).type
        assert predictions.schema.field(outputs[0]).type == label_type
        probs_type = predictions.schema.field(outputs[1]).type
        assert probs_type == pa.list_(pa.struct([("label", label_type), ("prob", pa.float64())]))
    evaluation = ml_con.query(f"SELECT * FROM ML.EVALUATE(MODEL {name})").arrow()
    family = {"boosted_tree_regressor": "linear_reg", "random_forest_regressor": "linear_reg",
              "boosted_tree_classifier": "logistic_reg", "random_forest_classifier": "logistic_reg"}.get(model_type, model_type)  # fmt: skip
    assert evaluation.column_names == METRICS[family]
    assert all(field.type == pa.float64() for field in evaluation.schema)
    assert evaluation.num_rows == 1

    # A new process-like connection on the same store loads the model from its files.
    with sqlml.connect(ml_con.warehouse_path, ml_con.models_path, idle_release=0) as other:
        from sqlml.ml.runtime.model_cache import CACHE

        CACHE._models.clear()
        again = other.query(f"SELECT * FROM ML.PREDICT(MODEL {name}, TABLE ds.fresh)").arrow()
    assert again.column(0).to_pylist() == predictions.column(0).to_pylist()


@pytest.mark.parametrize(
    "model_type, label, extra",
    [
        ("boosted_tree_classifier", "churned", ", max_iterations=15"),
        ("boosted_tree_classifier", "tier", ", max_iterations=15, booster_type='DART'"),
        ("boosted_tree_regressor", "target", ", early_stop=TRUE, min_rel_progress=0.05"),
        ("random_forest_classifier", "churned", ", num_parallel_tree=20"),
    ],
)
def test_metrics_stored_at_training_equal_evaluating_the_same_rows(ml_con, model_type, label, extra):
    """Tree models take their stored metrics from LightGBM's training scores instead of predicting
    again; those must be the scores ML.PREDICT gives (an early stop included)."""
    ml_con.query(
        f"CREATE OR REPLACE MODEL ds.stored OPTIONS(model_type='{model_type}', input_label_cols=['{label}'], "
        f"data_split_method='NO_SPLIT'{extra}) AS SELECT x1, x2, plan, {label} FROM ds.train"
    )
    stored = ml_con.query("SELECT * FROM ML.EVALUATE(MODEL ds.stored)").df().iloc[0]
    again = ml_con.query(f"SELECT * FROM ML.EVALUATE(MODEL ds.stored, (SELECT x1, x2, plan, {label} FROM ds.train))").df().iloc[0]
    assert stored.to_dict() == pytest.approx(again.to_dict(), abs=1e-9, nan_ok=True)
