"""The CREATE MODEL options several families share, with BigQuery's type, default and range
(each family declares its own in its module under :mod:`sqlml.ml.models`), and ALTER MODEL's.

Sources (one per model family, as ``../shared/reference/bigquery-ml.md`` §1 restates them):
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-glm
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-boosted-tree
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-random-forest
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-kmeans
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-pca
Tuning ranges: https://cloud.google.com/bigquery/docs/hp-tuning-overview
"""

from __future__ import annotations

from sqlml.ml.models.options import Kind, Option


def option(name: str, kind: Kind, default: object = None, **kw: object) -> Option:
    """An :class:`Option` declaration, compactly."""
    return Option(name, kind, default, **kw)


# Options every model type accepts. Registry/KMS options are BigQuery's; ``description``,
# ``labels`` (sent by dbt_ml) and ``max_versions`` are sqlml's registry settings.
COMMON = [
    option("kms_key_name", Kind.STRING),
    option("model_registry", Kind.ENUM, choices=("VERTEX_AI",)),
    option("vertex_ai_model_id", Kind.STRING),
    option("vertex_ai_model_version_aliases", Kind.STRING_ARRAY),
    option("description", Kind.STRING),
    option("labels", Kind.LABELS),
    option("max_versions", Kind.INT, low=1),
]

TUNING = [
    option("num_trials", Kind.INT, low=1, high=100),
    option("max_parallel_trials", Kind.INT, 1, low=1, high=5),
    option("hparam_tuning_algorithm", Kind.ENUM, "VIZIER_DEFAULT", choices=("VIZIER_DEFAULT", "RANDOM_SEARCH", "GRID_SEARCH")),
    option("hparam_tuning_objectives", Kind.STRING_OR_ARRAY),
]

SUPERVISED = [
    option("input_label_cols", Kind.STRING_ARRAY, ["label"]),
    option("data_split_method", Kind.ENUM, "AUTO_SPLIT", choices=("AUTO_SPLIT", "RANDOM", "CUSTOM", "SEQ", "NO_SPLIT")),
    option("data_split_eval_fraction", Kind.FLOAT, 0.2, low=0, high=1, low_open=True, high_open=True),
    option("data_split_test_fraction", Kind.FLOAT, 0.0, low=0, high=1, high_open=True),
    option("data_split_col", Kind.STRING),
    option("enable_global_explain", Kind.BOOL, False),
]

CLASSIFIER = [
    option("auto_class_weights", Kind.BOOL, False),
    option("class_weights", Kind.CLASS_WEIGHTS),
]

ITERATIVE = [
    option("max_iterations", Kind.INT, 20, low=1),
    option("early_stop", Kind.BOOL, True),
    option("min_rel_progress", Kind.FLOAT, 0.01, low=0, high=1),
]


def table(*groups: list[Option]) -> dict[str, Option]:
    """Option name → option, in declaration order; a later group's declaration of a name wins."""
    merged: dict[str, Option] = {}
    for group in groups:
        for declared in group:
            merged[declared.name] = declared
    return merged


#: ALTER MODEL … SET OPTIONS: BigQuery's model options
#: (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-alter-model),
#: plus sqlml's version settings ``version_aliases`` and ``max_versions``.
ALTER_OPTIONS: dict[str, Option] = table([
    option("description", Kind.STRING),
    option("labels", Kind.LABELS),
    option("expiration_timestamp", Kind.TIMESTAMP),
    option("kms_key_name", Kind.STRING),
    option("vertex_ai_model_id", Kind.STRING),
    option("version_aliases", Kind.STRING_ARRAY),
    option("max_versions", Kind.INT, low=1),
])

