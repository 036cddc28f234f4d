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

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.models.catalog import family_of
from sqlml.ml.models.model import Model
from sqlml.ml.models.options import HparamCandidates, HparamRange
from sqlml.ml.preprocessing.automatic.feature_matrix import dense
from sqlml.ml.runtime.attribution import global_attributions
from sqlml.ml.training.preparation import Prepared, base_spec, fit_estimator, kept_outputs, monitor_for, prepare
from sqlml.ml.training.split import Split
from sqlml.ml.training.tuning import tune


def check_options(model_type: str, options: dict, given: set[str]) -> None:
    """Rules between options that a per-option check cannot see (BigQuery's CREATE MODEL pages):
    those of every model type here, then the family's own."""

    def fail(message: str, option: str, hint: str | None = None):
        raise InvalidOptionError(message, option=option, hint=hint)

    if options.get("auto_class_weights") and options.get("class_weights"):
        fail("auto_class_weights and class_weights cannot be used together.", "class_weights")
    if options.get("instance_weight_col") and (options.get("auto_class_weights") or options.get("class_weights")):
        fail("instance_weight_col cannot be combined with class weights.", "instance_weight_col")
    # (AutoML has no data_split_method: its data_split_col alone decides the split)
    if "data_split_col" in given and "data_split_method" in options and options["data_split_method"] not in ("CUSTOM", "SEQ"):
        fail("data_split_col applies only with data_split_method='CUSTOM' or 'SEQ'.", "data_split_col")
    spaces = sorted(name for name, value in options.items() if isinstance(value, (HparamRange, HparamCandidates)))
    if spaces and "num_trials" not in given:  # a search space with nothing to search it
        kind = "HPARAM_RANGE" if isinstance(options[spaces[0]], HparamRange) else "HPARAM_CANDIDATES"
        fail(f"{spaces[0]}={kind}(...) requires num_trials.", spaces[0], "Set num_trials to tune hyperparameters, or give one value.")
    tuning_options = {"max_parallel_trials", "hparam_tuning_algorithm", "hparam_tuning_objectives"} & given
    if tuning_options and "num_trials" not in given:
        fail(f"{sorted(tuning_options)[0]} requires num_trials.", sorted(tuning_options)[0],
             "Set num_trials to tune hyperparameters.")  # fmt: skip
    family_of(model_type).check_options(model_type, options, given)


def train(
    model_type: str,
    options: dict,
    table: pa.Table,
    hashes: np.ndarray,
    *,
    description: str,
    cancel: threading.Event | None = None,
    split: Split | None = None,
    previous: Model | None = None,
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
        previous: the version a warm start continues from (:func:`warm_start`), or None.
    """
    started = time.monotonic()
    family = family_of(model_type)
    if family.searches_families:  # AUTOML_*: trials across the other families (sqlml.ml.automl)
        from sqlml.ml.automl.search import search

        model = search(model_type, options, table, hashes, description=description, cancel=cancel, split=split)
        model.spec["training_seconds"] = round(time.monotonic() - started, 3)
        return model
    prepared = prepare(model_type, options, table, hashes, split)
    family.check_task(model_type, options, prepared.task)
    if options.get("num_trials"):
        if previous is not None:
            raise InvalidOptionError(
                "warm_start=TRUE continues one model's weights; it cannot be combined with num_trials.",
                option="warm_start",
                hint="Tune without warm_start, or warm-start the tuned model's chosen options without num_trials.",
            )
        model = tune(prepared, description=description, cancel=cancel)
    else:
        runs = warm_start(prepared, previous)
        run = max((row["training_run"] for row in runs), default=-1) + 1
        with monitor_for(options, description, cancel) as monitor:
            estimator = fit_estimator(prepared, options, monitor)
        scored = prepared.scored
        raw = estimator.fitted_outputs()
        if raw is None:
            raw = family.metric_outputs(model_type, estimator, scored.X)
        spec = {
            **base_spec(prepared),
            "training_info": [*runs, *({"training_run": run, **row} for row in monitor.rows)],
            "metrics": family.metrics(model_type, estimator, scored.y, raw),
        }
        arrays = {**kept_outputs(prepared, lambda: raw), **prepared.extra_arrays}
        arrays.update(family.fitted_arrays(model_type, estimator, prepared.train_set, prepared.preprocessor, options))
        model = Model(spec, prepared.preprocessor, estimator, arrays)
    if options.get("enable_global_explain") and model.estimator is not None:
        scored = prepared.scored
        copies = max(2, prepared.task.n_classes)  # attributions are (rows, classes, features)
        model.spec["global_explain"] = global_attributions(model, model.estimator, dense(scored.X, prepared.preprocessor, copies))
    model.spec["training_seconds"] = round(time.monotonic() - started, 3)
    return model


def warm_start(prepared: Prepared, previous: Model | None) -> list[dict]:
    """Hand the replaced version's estimator to the new one (``warm_start=TRUE``) and return that
    version's ML.TRAINING_INFO rows, which the new run's rows follow; none without a version.

    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-glm#warm_start —
    the feature columns must be unchanged; iterations restart at 0 and ``training_run`` increments.

    Raises:
        InvalidModelInputError: the rows' (preprocessed) features are not the replaced version's.
    """
    if previous is None or previous.estimator is None:
        return []
    if previous.task.feature_names != prepared.task.feature_names:
        raise InvalidModelInputError(
            f"warm_start=TRUE continues from weights trained on the features {previous.task.feature_names}; "
            f"the training query gives {prepared.task.feature_names}.",
            hint="Train on the same columns (and categories) as the current version, or remove warm_start to train new weights.",
        )
    prepared.previous = previous.estimator
    return list(previous.spec.get("training_info") or [])
