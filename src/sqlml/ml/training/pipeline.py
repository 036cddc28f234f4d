"""Train a model from its training rows: prepare them, fit the estimator (or tune it), store its
evaluation.

This module knows nothing of SQL or storage: :mod:`sqlml.ml.training.model_ddl` reads the rows out of the
warehouse and stores the :class:`~sqlml.ml.models.model.Model` this returns.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pyarrow as pa

from sqlml.errors import InvalidOptionError
from sqlml.ml.models import metrics
from sqlml.ml.models.estimator import Dataset
from sqlml.ml.models.linear_p_values import check_p_value_options, weight_covariance
from sqlml.ml.models.model import Model
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.prediction_columns import predicted_class_index
from sqlml.ml.preprocessing.automatic.feature_matrix import dense
from sqlml.ml.runtime.attribution import global_attributions
from sqlml.ml.training.preparation import base_spec, fit_estimator, monitor_for, prepare
from sqlml.ml.training.split import Split
from sqlml.ml.training.tuning import tune


def check_options(model_type: ModelType, options: dict, given: set[str]) -> None:
    """Rules between options that a per-option check cannot see (BigQuery's CREATE MODEL pages)."""

    def fail(message: str, option: str, hint: str | None = None):
        raise InvalidOptionError(message, option=option, hint=hint)

    if model_type.is_linear and "learn_rate" in given and options["learn_rate_strategy"] == "LINE_SEARCH":
        fail("learn_rate applies only with learn_rate_strategy='CONSTANT'.", "learn_rate",
             "Add learn_rate_strategy='CONSTANT', or use ls_init_learn_rate with LINE_SEARCH.")  # fmt: skip
    if options.get("auto_class_weights") and options.get("class_weights"):
        fail("auto_class_weights and class_weights cannot be used together.", "class_weights")
    if options.get("instance_weight_col") and (options.get("auto_class_weights") or options.get("class_weights")):
        fail("instance_weight_col cannot be combined with class weights.", "instance_weight_col")
    if "data_split_col" in given and options.get("data_split_method") not in ("CUSTOM", "SEQ"):
        fail("data_split_col applies only with data_split_method='CUSTOM' or 'SEQ'.", "data_split_col")
    tuning_options = {"max_parallel_trials", "hparam_tuning_algorithm", "hparam_tuning_objectives"} & given
    if tuning_options and "num_trials" not in given:
        fail(f"{sorted(tuning_options)[0]} requires num_trials.", sorted(tuning_options)[0],
             "Set num_trials to tune hyperparameters.")  # fmt: skip
    if model_type is ModelType.KMEANS and options["kmeans_init_method"] == "CUSTOM" and not options["kmeans_init_col"]:
        fail("kmeans_init_method='CUSTOM' needs kmeans_init_col.", "kmeans_init_col")
    if model_type in (ModelType.RANDOM_FOREST_CLASSIFIER, ModelType.RANDOM_FOREST_REGRESSOR) and options["subsample"] >= 1:
        if options["colsample_bytree"] >= 1 and options["colsample_bynode"] >= 1:
            fail("A random forest needs subsample < 1 or column sampling below 1.", "subsample")


def train(
    model_type: ModelType,
    options: dict,
    table: pa.Table,
    hashes: np.ndarray,
    *,
    description: str,
    cancel: threading.Event | None = None,
    split: Split | None = None,
) -> Model:
    """Train a model on ``table`` (rows after TRANSFORM, if any); tune it when num_trials is set.

    Args:
        model_type: what to train.
        options: resolved options.
        table: the training rows.
        hashes: a per-row hash for deterministic random splits.
        description: shown by progress reporters.
        cancel: set from another thread to stop between iterations.
        split: a split already made (by the TRANSFORM fit, which needs it first).
    """
    started = time.monotonic()
    prepared = prepare(model_type, options, table, hashes, split)
    check_p_value_options(model_type, options, prepared.task.n_classes)
    if options.get("num_trials"):
        model = tune(prepared, description=description, cancel=cancel)
    else:
        with monitor_for(options, description, cancel) as monitor:
            estimator = fit_estimator(prepared, options, monitor)
        scored = prepared.scored
        raw = estimator.fitted_outputs()
        if raw is None:
            raw = estimator.predict(scored.X)
        spec = {
            **base_spec(prepared),
            "training_info": [{"training_run": 0, **row} for row in monitor.rows],
            "metrics": stored_metrics(model_type, estimator, scored, raw, options),
        }
        arrays = {"eval_output": np.asarray(raw)}
        if scored.y is not None:
            arrays["eval_target"] = scored.y
        if options.get("calculate_p_values"):
            train_set = prepared.train_set
            arrays["weight_covariance"] = weight_covariance(
                estimator, dense(train_set.X, prepared.preprocessor), train_set.y, model_type is ModelType.LOGISTIC_REG, train_set.w
            )
        model = Model(spec, prepared.preprocessor, estimator, arrays)
    if options.get("enable_global_explain") and model.estimator is not None:
        scored = prepared.scored
        copies = max(2, prepared.task.n_classes)  # attributions are (rows, classes, features)
        model.spec["global_explain"] = global_attributions(model, model.estimator, dense(scored.X, prepared.preprocessor, copies))
    model.spec["training_seconds"] = round(time.monotonic() - started, 3)
    return model


def stored_metrics(model_type: ModelType, estimator, scored: Dataset, raw: np.ndarray, options: dict) -> dict:
    """The metrics ML.EVALUATE returns without input data."""
    if model_type.is_regressor:
        return metrics.regression_metrics(scored.y, raw)
    if model_type.is_classifier:
        return metrics.classification_metrics(scored.y.astype(np.int64), raw, predicted_class_index(raw, None))
    if model_type is ModelType.KMEANS:
        return metrics.kmeans_metrics(raw, estimator._prepare(estimator.centroids_))
    return {"total_explained_variance_ratio": float(estimator.explained_variance_ratio.sum())}
