"""Every CREATE MODEL option of every model type, with BigQuery's type, default and range.

Sources (one per model family, as ``../shared/reference/bigquery-ml.md`` §1 restates them):
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-glm
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-boosted-tree
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-random-forest
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-kmeans
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-pca
Tuning ranges: https://cloud.google.com/bigquery/docs/hp-tuning-overview
"""

from __future__ import annotations

import functools

from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.options import Kind, Option

INF = None  # an open upper bound


def _o(name, kind, default=None, **kw) -> Option:
    return Option(name, kind, default, **kw)


# Options every model type accepts. Registry/KMS options are BigQuery's; ``description``,
# ``labels`` (sent by dbt_ml) and ``max_versions`` are sqlml's registry settings.
COMMON = [
    _o("kms_key_name", Kind.STRING),
    _o("model_registry", Kind.ENUM, choices=("VERTEX_AI",)),
    _o("vertex_ai_model_id", Kind.STRING),
    _o("vertex_ai_model_version_aliases", Kind.STRING_ARRAY),
    _o("description", Kind.STRING),
    _o("labels", Kind.LABELS),
    _o("max_versions", Kind.INT, low=1),
]

TUNING = [
    _o("num_trials", Kind.INT, low=1, high=100),
    _o("max_parallel_trials", Kind.INT, 1, low=1, high=5),
    _o("hparam_tuning_algorithm", Kind.ENUM, "VIZIER_DEFAULT", choices=("VIZIER_DEFAULT", "RANDOM_SEARCH", "GRID_SEARCH")),
    _o("hparam_tuning_objectives", Kind.STRING_OR_ARRAY),
]

SUPERVISED = [
    _o("input_label_cols", Kind.STRING_ARRAY, ["label"]),
    _o("data_split_method", Kind.ENUM, "AUTO_SPLIT", choices=("AUTO_SPLIT", "RANDOM", "CUSTOM", "SEQ", "NO_SPLIT")),
    _o("data_split_eval_fraction", Kind.FLOAT, 0.2, low=0, high=1, low_open=True, high_open=True),
    _o("data_split_test_fraction", Kind.FLOAT, 0.0, low=0, high=1, high_open=True),
    _o("data_split_col", Kind.STRING),
    _o("enable_global_explain", Kind.BOOL, False),
]

CLASSIFIER = [
    _o("auto_class_weights", Kind.BOOL, False),
    _o("class_weights", Kind.CLASS_WEIGHTS),
]

ITERATIVE = [
    _o("max_iterations", Kind.INT, 20, low=1),
    _o("early_stop", Kind.BOOL, True),
    _o("min_rel_progress", Kind.FLOAT, 0.01, low=0, high=1),
]

GLM = [
    *ITERATIVE,
    _o("warm_start", Kind.BOOL, False),
    _o("optimize_strategy", Kind.ENUM, "AUTO_STRATEGY", choices=("AUTO_STRATEGY", "BATCH_GRADIENT_DESCENT", "NORMAL_EQUATION")),
    _o("learn_rate_strategy", Kind.ENUM, "LINE_SEARCH", choices=("LINE_SEARCH", "CONSTANT")),
    _o("learn_rate", Kind.FLOAT, 0.1, low=0, low_open=True),
    _o("ls_init_learn_rate", Kind.FLOAT, 0.1, low=0, low_open=True),
    _o("calculate_p_values", Kind.BOOL, False),
    _o("fit_intercept", Kind.BOOL, True),
    _o("category_encoding_method", Kind.ENUM, "ONE_HOT_ENCODING", choices=("ONE_HOT_ENCODING", "DUMMY_ENCODING")),
    _o("l1_reg", Kind.FLOAT, 0.0, low=0, search=(0.0, 10.0, "LOG")),
    _o("l2_reg", Kind.FLOAT, 0.0, low=0, search=(0.0, 10.0, "LOG")),
]

TREE_SHARED = [
    _o("early_stop", Kind.BOOL, True),
    _o("min_rel_progress", Kind.FLOAT, 0.01, low=0, high=1),
    _o("l1_reg", Kind.FLOAT, 0.0, low=0, search=(0.0, 10.0, "LOG")),
    _o("l2_reg", Kind.FLOAT, 1.0, low=0, search=(0.0, 10.0, "LOG")),
    _o("tree_method", Kind.ENUM, "AUTO", choices=("AUTO", "EXACT", "APPROX", "HIST"), search=()),
    _o("min_tree_child_weight", Kind.INT, 1, low=0, search=(0, 10, "LINEAR")),
    _o("colsample_bytree", Kind.FLOAT, 1.0, low=0, high=1, search=(0.0, 1.0, "LINEAR")),
    _o("colsample_bylevel", Kind.FLOAT, 1.0, low=0, high=1, search=(0.0, 1.0, "LINEAR")),
    _o("min_split_loss", Kind.FLOAT, 0.0, low=0, search=(0.0, 10.0, "LINEAR")),
    _o("instance_weight_col", Kind.STRING),
    _o("xgboost_version", Kind.ENUM, "0.9", choices=("0.9", "1.1")),
    _o("approx_global_feature_contrib", Kind.BOOL),
]

BOOSTED_TREE = [
    *TREE_SHARED,
    _o("max_iterations", Kind.INT, 20, low=1),
    _o("booster_type", Kind.ENUM, "GBTREE", choices=("GBTREE", "DART"), search=()),
    _o("dart_normalize_type", Kind.ENUM, "TREE", choices=("TREE", "FOREST"), search=()),
    _o("num_parallel_tree", Kind.INT, 1, low=1, search=(1, 10, "LINEAR")),
    _o("max_tree_depth", Kind.INT, 6, low=1, high=20, search=(1, 10, "LINEAR")),
    _o("dropout", Kind.FLOAT, 0.0, low=0, high=1, search=(0.0, 1.0, "LINEAR")),
    _o("learn_rate", Kind.FLOAT, 0.3, low=0, low_open=True, search=(0.0, 1.0, "LINEAR")),
    _o("subsample", Kind.FLOAT, 1.0, low=0, high=1, low_open=True, search=(0.0, 1.0, "LINEAR")),
    _o("colsample_bynode", Kind.FLOAT, 1.0, low=0, high=1, search=(0.0, 1.0, "LINEAR")),
    _o("category_encoding_method", Kind.ENUM, "LABEL_ENCODING", choices=("ONE_HOT_ENCODING", "TARGET_ENCODING", "LABEL_ENCODING")),
]

RANDOM_FOREST = [
    *TREE_SHARED,
    _o("num_parallel_tree", Kind.INT, 100, low=2, search=(2, 200, "LINEAR")),
    _o("max_tree_depth", Kind.INT, 15, low=1, high=20, search=(1, 20, "LINEAR")),
    _o("subsample", Kind.FLOAT, 0.8, low=0, high=1, low_open=True, search=(0.0, 1.0, "LINEAR")),
    _o("colsample_bynode", Kind.FLOAT, 0.8, low=0, high=1, search=(0.0, 1.0, "LINEAR")),
]

KMEANS = [
    *ITERATIVE,
    _o("warm_start", Kind.BOOL, False),
    # Default log10(training rows), at least 2 — computed at training time (None here).
    _o("num_clusters", Kind.INT, None, low=2, high=100, search=(2, 10, "LINEAR")),
    _o("kmeans_init_method", Kind.ENUM, "RANDOM", choices=("RANDOM", "KMEANS++", "CUSTOM")),
    _o("kmeans_init_col", Kind.STRING),
    _o("distance_type", Kind.ENUM, "EUCLIDEAN", choices=("EUCLIDEAN", "COSINE")),
    _o("standardize_features", Kind.BOOL, True),
]

PCA = [
    _o("num_principal_components", Kind.INT, low=1),
    _o("pca_explained_variance_ratio", Kind.FLOAT, low=0, high=1, low_open=True, high_open=True),
    _o("scale_features", Kind.BOOL, True),
    _o("pca_solver", Kind.ENUM, "AUTO", choices=("FULL", "RANDOMIZED", "AUTO")),
]

IMPORTED = [_o("model_path", Kind.STRING)]


def _table(*groups) -> dict[str, Option]:
    table: dict[str, Option] = {}
    for group in groups:
        for option in group:
            table[option.name] = option
    return table


OPTIONS_BY_TYPE: dict[ModelType, dict[str, Option]] = {
    ModelType.LINEAR_REG: _table(COMMON, TUNING, SUPERVISED, GLM),
    ModelType.LOGISTIC_REG: _table(COMMON, TUNING, SUPERVISED, CLASSIFIER, GLM),
    ModelType.BOOSTED_TREE_REGRESSOR: _table(COMMON, TUNING, SUPERVISED, BOOSTED_TREE),
    ModelType.BOOSTED_TREE_CLASSIFIER: _table(COMMON, TUNING, SUPERVISED, CLASSIFIER, BOOSTED_TREE),
    ModelType.RANDOM_FOREST_REGRESSOR: _table(COMMON, TUNING, SUPERVISED, RANDOM_FOREST),
    ModelType.RANDOM_FOREST_CLASSIFIER: _table(COMMON, TUNING, SUPERVISED, CLASSIFIER, RANDOM_FOREST),
    ModelType.KMEANS: _table(COMMON, TUNING, KMEANS),
    ModelType.PCA: _table(COMMON, PCA),
    ModelType.TRANSFORM_ONLY: _table(COMMON),
    ModelType.ONNX: _table(COMMON, IMPORTED),
    ModelType.LIGHTGBM: _table(COMMON, IMPORTED),
}


#: ALTER MODEL … SET OPTIONS: BigQuery's model options
#: (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-alter-model),
#: plus sqlml's version settings ``version_aliases`` and ``max_versions``.
ALTER_OPTIONS: dict[str, Option] = _table([
    _o("description", Kind.STRING),
    _o("labels", Kind.LABELS),
    _o("expiration_timestamp", Kind.TIMESTAMP),
    _o("kms_key_name", Kind.STRING),
    _o("vertex_ai_model_id", Kind.STRING),
    _o("version_aliases", Kind.STRING_ARRAY),
    _o("max_versions", Kind.INT, low=1),
])


@functools.cache
def all_option_names() -> dict[str, set[str]]:
    """Option name → the model types that accept it (for "does not apply" messages)."""
    owners: dict[str, set[str]] = {}
    for model_type, table in OPTIONS_BY_TYPE.items():
        for name in table:
            owners.setdefault(name, set()).add(model_type.value)
    return owners
