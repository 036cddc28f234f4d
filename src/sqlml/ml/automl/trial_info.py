"""ML.TRIAL_INFO of an AutoML model: one row per candidate the search tried (and the ensemble,
when one was chosen).

BigQuery's AutoML models have no ML.TRIAL_INFO (Vertex AI keeps the search to itself); sqlml
shows its search with the columns of a tuned model's ML.TRIAL_INFO
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-trial-info) where
they apply, and its own where they do not: ``model_type`` (the family tried, or ``ENSEMBLE``),
``hyperparameters`` as a JSON string (each family has its own; a tree trial fitted again on
another family's rows for a blend names that family in ``features_of``), the value of the
``optimization_objective`` on the validation rows, ``cross_validation_objective_value`` — its value on
the out-of-fold outputs of the training and validation rows for the finalists the search
cross-validated (:mod:`sqlml.ml.automl.crossval`), NULL for the others — ``cross_validation_folds``,
how many folds that value averages (5; fewer for a finalist stopped early as clearly worse than
the leader on its first folds: :func:`~sqlml.ml.automl.crossval.clearly_worse`) — and the trial's training time.
"""

from __future__ import annotations

import json

import pyarrow as pa

COLUMNS = ("trial_id", "model_type", "hyperparameters", "hparam_tuning_evaluation_metrics", "optimization_objective_value",
           "cross_validation_objective_value", "cross_validation_folds", "duration_ms", "status", "error_message", "is_optimal")  # fmt: skip


def automl_trial_info(search: dict) -> pa.Table:
    """The trials of a model's ``automl`` description, in the order they ran."""
    trials = search["trials"]
    names = next((list(t["eval_metrics"]) for t in trials if t.get("eval_metrics")), [])
    metrics = pa.array(
        [None if not t.get("eval_metrics") else {m: t["eval_metrics"].get(m) for m in names} for t in trials],
        pa.struct([pa.field(m, pa.float64()) for m in names]),
    )
    return pa.table({
        "trial_id": pa.array([t["trial_id"] for t in trials], pa.int64()),
        "model_type": pa.array([t["model_type"] for t in trials], pa.string()),
        "hyperparameters": pa.array([json.dumps(t["hyperparameters"], sort_keys=True) for t in trials], pa.string()),
        "hparam_tuning_evaluation_metrics": metrics,
        "optimization_objective_value": pa.array([t.get("objective_value") for t in trials], pa.float64()),
        "cross_validation_objective_value": pa.array([t.get("cross_validation_objective_value") for t in trials], pa.float64()),
        "cross_validation_folds": pa.array([t.get("cross_validation_folds") for t in trials], pa.int64()),
        "duration_ms": pa.array([t.get("duration_ms") for t in trials], pa.int64()),
        "status": pa.array([t["status"] for t in trials], pa.string()),
        "error_message": pa.array([t.get("error_message") for t in trials], pa.string()),
        "is_optimal": pa.array([bool(t.get("is_optimal")) for t in trials], pa.bool_()),
    })  # fmt: skip
