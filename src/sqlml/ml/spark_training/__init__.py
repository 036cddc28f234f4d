"""CREATE MODEL on Spark's executors: where a distributed trainer exists for the model type
(Spark MLlib: :mod:`.trainers`; ALS for MATRIX_FACTORIZATION: :mod:`.als`; LightGBM's distributed
mode in a barrier stage for boosted trees and random forests: :mod:`.trees`), the training rows
stay on the cluster — the label, the split and BigQuery's preprocessing statistics are computed
by Spark (:mod:`.rows`, :mod:`.statistics`) — and
the fitted result is stored as sqlml's portable model, the same files one process's training
writes, so that ML.PREDICT gives the same predictions on either engine.

What the stored model records from bounded samples (at most :data:`.rows.SAMPLE_ROWS` rows of a
part, exact below that): its metrics and kept outputs (on the evaluation part, else the training
part), k-means' anomaly radii, and the training distributions ML.VALIDATE_DATA_SKEW compares with.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sqlml.ml.models.catalog import canonical_name, family_of
from sqlml.ml.models.model import Model
from sqlml.ml.monitoring.distributions import profile_table
from sqlml.ml.spark_training import rows as training_rows
from sqlml.ml.spark_training.als import train_factorization
from sqlml.ml.spark_training.trainers import TRAINERS, trainer_description

if TYPE_CHECKING:
    from sqlglot import exp

    from sqlml.execution.context import StatementContext
    from sqlml.execution.executor import Executor

__all__ = ["train_on_workers", "trains_on_workers"]

#: The model types trained on the workers: the prepared-rows trainers', and MATRIX_FACTORIZATION's
#: ALS, which reads its (user, item, rating) rows itself.
WORKER_TYPES = frozenset({*TRAINERS, "MATRIX_FACTORIZATION"})
#: Options whose work the distributed trainers do not do; they train on the driver.
_DRIVER_OPTIONS = ("num_trials", "warm_start", "enable_global_explain", "calculate_p_values")


def trains_on_workers(executor: Executor, model_type: str) -> bool:
    """Whether CREATE MODEL of ``model_type`` trains on the engine's workers: an engine that runs
    work where the data is (its cursors map batches: Spark) and a distributed trainer for the type."""
    if canonical_name(model_type) not in WORKER_TYPES:
        return False
    with executor.engine.lease() as cursor:
        return cursor.maps_batches


def train_on_workers(context: StatementContext, model_type: str, options: dict, query: exp.Expression, transform: bool) -> Model:
    """Train ``model_type`` on the rows of ``query`` where they are, and describe it as one
    process's training does (the caller adds the statement's lineage).

    Raises:
        InvalidOptionError: TRANSFORM or an option the workers do not apply; the hint names
            ``spark_train='driver'``.
    """
    started = time.monotonic()
    if transform:
        raise training_rows.driver_only("CREATE MODEL with TRANSFORM(…) is not trained on Spark's workers yet.")
    given = [name for name in _DRIVER_OPTIONS if options.get(name)]
    if given:
        raise training_rows.driver_only(f"{given[0]} is not applied by CREATE MODEL on Spark's workers yet.")
    if canonical_name(model_type) == "MATRIX_FACTORIZATION":
        return train_factorization(context, model_type, options, query)
    prepared = training_rows.read(context, model_type, options, query)
    try:
        model = _model(prepared, model_type, options)
    finally:
        prepared.close()
    model.spec["lineage"] = {"fingerprint": prepared.fingerprint, "rows_read": prepared.split["training_rows"] + prepared.split["eval_rows"]}
    model.spec["training_seconds"] = round(time.monotonic() - started, 3)
    return model


def _model(prepared: training_rows.TrainingRows, model_type: str, options: dict) -> Model:
    family = family_of(model_type)
    name = canonical_name(model_type)
    estimator, info = TRAINERS[name](prepared, options)
    sample, train = prepared.sample(False)
    # without a split the scored part is the training part: its sample is fetched once, not twice
    scored = prepared.sample(True)[1] if prepared.scored_part else train
    raw = family.metric_outputs(model_type, estimator, scored.X)
    metrics = family.metrics(model_type, estimator, scored.y, raw)
    if prepared.scored_part and family.reports_eval_loss:
        info[-1]["eval_loss"] = metrics.get("mean_squared_error", metrics.get("log_loss"))
    label, task = prepared.label, prepared.task
    spec = {
        "model_type": str(model_type),
        "options": options,
        "label": label.describe() if label else None,
        "task": {"kind": task.kind, "n_classes": task.n_classes, "feature_names": task.feature_names,
                 "categorical_features": task.categorical_features, "sparse": task.sparse},  # fmt: skip
        "features": prepared.features,
        "feature_info": prepared.feature_info,
        "split": prepared.split,
        "training_info": info,
        "metrics": metrics,
        "trained_on": {"engine": "spark", "trainer": trainer_description(name, estimator), "sample_rows": training_rows.SAMPLE_ROWS},
    }
    arrays = {"eval_output": raw, "eval_target": scored.y} if task.is_classification else {}
    arrays.update(family.fitted_arrays(model_type, estimator, train, prepared.preprocessor, options))
    model = Model(spec, prepared.preprocessor, estimator, arrays)
    inputs = {name.lower() for name in model.required_columns()}
    model.spec["training_distributions"] = profile_table(sample, [c for c in sample.column_names if c.lower() in inputs])
    return model

