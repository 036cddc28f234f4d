"""ML.EXPLAIN_PREDICT, ML.GLOBAL_EXPLAIN and ML.FEATURE_IMPORTANCE.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-explain-predict —
EXPLAIN_PREDICT streams its input batch by batch like ML.PREDICT, through the prediction runtime
(:mod:`sqlml.ml.runtime.explain` says which columns it returns).

GLOBAL_EXPLAIN returns the mean absolute attribution per input column over the evaluation rows,
computed when the model was trained with ``enable_global_explain=TRUE`` (as on BigQuery);
``class_level_explain`` gives one block per class in a ``class_label`` column (BigQuery's
documentation leaves that column's name open; the API calls the field ``classLabel``), the top
10 features of each.

FEATURE_IMPORTANCE (boosted trees and random forests): per input column, ``importance_weight``
(how many splits use it), ``importance_gain`` (their average gain) and ``importance_cover``
(the average number of training rows reaching them), from LightGBM's trees — for a model with a
TRANSFORM clause, per input column the TRANSFORM reads, as BigQuery reports them; for an imported
XGBOOST model, XGBoost's own ``Booster.get_score`` of each kind
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-xgboost).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import pyarrow as pa

from sqlml.errors import InvalidOptionError
from sqlml.ml.functions.call import Call, function
from sqlml.ml.models.base import Target
from sqlml.ml.models.xgboost_file import feature_importance as xgboost_importance
from sqlml.ml.runtime.attribution import transform_sources
from sqlml.ml.runtime.explain import DEFAULT_TOP_K, explanation_reader
from sqlml.ml.runtime.predict import prediction_estimator

if TYPE_CHECKING:
    from sqlml.ml.models.model import Model

CLASS_LEVEL_TOP = 10


@function("EXPLAIN_PREDICT")
def explain_predict(call: Call) -> pa.RecordBatchReader:
    """``ML.EXPLAIN_PREDICT(MODEL m, data [, STRUCT(top_k_features, threshold, approx_feature_contrib, trial_id)])``."""
    model = call.require(what="a linear, logistic, boosted tree or random forest model")
    settings = call.settings({
        "top_k_features": int, "threshold": float, "approx_feature_contrib": bool, "trial_id": int,
        "integrated_gradients_num_steps": int,
    })  # fmt: skip
    top_k = settings.get("top_k_features", DEFAULT_TOP_K)
    if top_k < 1:
        raise InvalidOptionError(f"top_k_features must be at least 1; got {top_k}.", option="top_k_features")
    threshold = settings.get("threshold")
    estimator = prediction_estimator(model, threshold, settings.get("trial_id"), call.name)
    steps = settings.get("integrated_gradients_num_steps")
    if steps is not None:  # DNN models: this call's path integral points instead of the model's option
        if not 0 < steps <= 30:
            raise InvalidOptionError(f"integrated_gradients_num_steps must be in (0, 30]; got {steps}.", option="integrated_gradients_num_steps")
        estimator = copy.copy(estimator)
        estimator.options = {**estimator.options, "integrated_gradients_num_steps": steps}
    reader = call.data(0).reader()
    model.check_input(reader.schema)
    return explanation_reader(model, reader, threshold, top_k, estimator)


@function("GLOBAL_EXPLAIN")
def global_explain(call: Call) -> pa.Table:
    """``ML.GLOBAL_EXPLAIN(MODEL m [, STRUCT(class_level_explain)])``."""
    model = call.require(what="a linear, logistic, boosted tree or random forest model")
    settings = call.settings({"class_level_explain": bool})
    stored = model.spec.get("global_explain")
    if not stored:
        raise call.trained_without("enable_global_explain=TRUE", "Re-train it with OPTIONS(…, enable_global_explain=TRUE).")
    if settings.get("class_level_explain") and model.family.searches_families:  # the bigqueryml-syntax-global-explain page
        raise InvalidOptionError(
            f"class_level_explain applies only to non-AutoML classification models; {model.model_type} models have "
            "model-level global feature importance only.",
            option="class_level_explain", hint="Call ML.GLOBAL_EXPLAIN without class_level_explain.",
        )  # fmt: skip
    if settings.get("class_level_explain") and model.target is Target.CLASSIFICATION:
        labels = model.classes().cast(pa.string()).to_pylist()
        rows = []
        for label, per_feature in zip(labels, stored["by_class"]):
            ranked = sorted(per_feature.items(), key=lambda item: -item[1])[:CLASS_LEVEL_TOP]
            rows += [{"class_label": label, "feature": name, "attribution": value} for name, value in ranked]
        schema = pa.schema([("class_label", pa.string()), ("feature", pa.string()), ("attribution", pa.float64())])
        return pa.Table.from_pylist(rows, schema=schema)
    ranked = sorted(stored["overall"].items(), key=lambda item: -item[1])
    return pa.table({"feature": pa.array([n for n, _ in ranked], pa.string()), "attribution": pa.array([v for _, v in ranked], pa.float64())})


@function("FEATURE_IMPORTANCE")
def feature_importance(call: Call) -> pa.Table:
    """``ML.FEATURE_IMPORTANCE(MODEL m)``: split count, average gain and average cover per input column."""
    model = call.require(what="a boosted tree, random forest or imported XGBOOST model")
    if model.spec.get("imported", {}).get("format") == "xgboost":
        return xgboost_importance(model)
    trees = model.estimator.booster_.trees_to_dataframe()
    splits = trees[trees["split_feature"].notna()]
    names, owners = _importance_columns(model)
    weight, gain, cover = (dict.fromkeys(names, 0.0) for _ in range(3))
    for feature, split_gain, count in zip(splits["split_feature"], splits["split_gain"], splits["count"]):
        for column in owners[feature]:
            weight[column] += 1
            gain[column] += split_gain
            cover[column] += count
    average = lambda total, column: total[column] / weight[column] if weight[column] else 0.0  # noqa: E731
    return pa.table({
        "feature": pa.array(names, pa.string()),
        "importance_weight": pa.array([weight[c] for c in names], pa.float64()),
        "importance_gain": pa.array([average(gain, c) for c in names], pa.float64()),
        "importance_cover": pa.array([average(cover, c) for c in names], pa.float64()),
    })  # fmt: skip


def _importance_columns(model: Model) -> tuple[list[str], dict[str, list[str]]]:
    """The columns importance is reported for, and each booster feature → the columns its splits count for.

    Without TRANSFORM, the input column each processed feature comes from (a one-hot indicator
    counts for its column). With TRANSFORM, BigQuery "returns the information of the pre-transform
    columns from the query_statement clause"
    (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-importance): a
    split on a TRANSFORM output counts for every input column the output's expression reads
    (``a * b AS ab`` for both ``a`` and ``b``), and averages are over all splits counted for a column.
    """
    feature_names = model.estimator.booster_.feature_name()
    groups = model.preprocessor.groups
    transform = model.spec.get("transform")
    sources = transform_sources(transform["clause"], tuple(transform["inputs"])) if transform else {}
    owners = {}
    for output, indices in groups.items():
        columns = list(sources.get(output.lower(), ())) if transform else [output]
        owners.update({feature_names[index]: columns for index in indices})
    return (list(transform["inputs"]) if transform else list(groups)), owners
