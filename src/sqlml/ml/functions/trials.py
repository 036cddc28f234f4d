"""ML.TRIAL_INFO: one row per hyperparameter-tuning trial, with BigQuery's columns.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-trial-info
"""

from __future__ import annotations

import pyarrow as pa

from sqlml.errors import ModelError
from sqlml.ml.automl.trial_info import automl_trial_info
from sqlml.ml.functions.call import Call, function


@function("TRIAL_INFO")
def trial_info(call: Call) -> pa.Table:
    """trial_id, hyperparameters, hparam_tuning_evaluation_metrics, training_loss, eval_loss,
    status, error_message, is_optimal."""
    model = call.model
    if "automl" in model.spec:  # an AutoML model's search (sqlml.ml.automl.trial_info)
        return automl_trial_info(model.spec["automl"])
    if not model.is_tuned:
        raise ModelError(
            f"ML.TRIAL_INFO needs a model trained with num_trials; {call.record.dataset}.{call.record.name} was not tuned.",
            model=str(call.ref),
        )
    trials = model.spec["trials"]
    names = model.spec["tuned_hyperparameters"]
    metric_names = _metric_names(trials)
    hyperparameters = pa.array(
        [{n: t["hyperparameters"].get(n) for n in names} for t in trials],
        pa.struct([pa.field(n, _type_of([t["hyperparameters"].get(n) for t in trials])) for n in names]),
    )
    evaluation = pa.array(
        [{m: (t.get("eval_metrics") or {}).get(m) for m in metric_names} for t in trials],
        pa.struct([pa.field(m, pa.float64()) for m in metric_names]),
    )
    return pa.table({
        "trial_id": pa.array([t["trial_id"] for t in trials], pa.int64()),
        "hyperparameters": hyperparameters,
        "hparam_tuning_evaluation_metrics": evaluation,
        "training_loss": pa.array([t.get("training_loss") for t in trials], pa.float64()),
        "eval_loss": pa.array([t.get("eval_loss") for t in trials], pa.float64()),
        "status": pa.array([t["status"] for t in trials], pa.string()),
        "error_message": pa.array([t.get("error_message") for t in trials], pa.string()),
        "is_optimal": pa.array([bool(t.get("is_optimal")) for t in trials], pa.bool_()),
    })  # fmt: skip


def _metric_names(trials: list[dict]) -> list[str]:
    for trial in trials:
        if trial.get("eval_metrics"):
            return list(trial["eval_metrics"])
    return []


def _type_of(values: list) -> pa.DataType:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.bool_()
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.int64()
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pa.float64()
    if present and all(isinstance(v, (list, tuple)) for v in present):  # hidden_units candidates: ARRAY<INT64>
        return pa.list_(pa.int64())
    return pa.string()
