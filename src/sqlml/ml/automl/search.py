"""Train an AUTOML_CLASSIFIER or AUTOML_REGRESSOR: Optuna trials across the searched families
and their hyperparameters within ``budget_hours``, then the best candidate or an ensemble.

Each family's first trial is its BigQuery defaults (fast families first; one that the budget leaves no time for is listed as STOPPED); later trials are drawn
by Optuna's TPE sampler over the family (a categorical choice) and that family's hyperparameters
(:mod:`sqlml.ml.automl.candidates`). Trials run one at a time on every core and are scored on the
validation rows with ``optimization_objective``. The search ends at the budget — a trial still
training then stops, recorded as STOPPED, unless it is a family's default trial (those started
within the budget may run on until twice the budget) — or earlier when
:data:`PATIENCE` trials in a row have not improved the best value (AutoML may end before its
budget when training stops improving). The final metrics are computed on the test rows.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sqlml.errors import Cancelled, Error, TrainingError
from sqlml.ml.automl.candidates import Candidate, Rows, automl_split, candidates
from sqlml.ml.automl.objectives import minimized, objective_for, score
from sqlml.ml.automl.selection import POOL, select
from sqlml.ml.models.catalog import family_of
from sqlml.ml.models.estimator import Estimator, Task
from sqlml.ml.models.model import Model
from sqlml.ml.training.preparation import Prepared, base_spec, monitor_for, resolve_label
from sqlml.ml.training.split import Split
from sqlml.ml.training.tuning import SEED, suggest
from sqlml.progress import task

#: Trials in a row without a better validation value that end the search before its budget.
PATIENCE = 40


class _Stop:
    """The training monitors' cancel flag: the user's, or the budget once a trial has succeeded."""

    def __init__(self, cancel: threading.Event | None, deadline: float, armed: bool = False):
        self.cancel, self.deadline, self.armed = cancel, deadline, armed

    def by_user(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def is_set(self) -> bool:
        return self.by_user() or (self.armed and time.monotonic() > self.deadline)


def search(
    model_type: str, options: dict, table: pa.Table, hashes: np.ndarray, *, description: str,
    cancel: threading.Event | None = None, split: Split | None = None,
) -> Model:  # fmt: skip
    """The AutoML model of ``table``'s rows: every trial recorded, the chosen candidate (or
    ensemble) serving.

    Raises:
        Cancelled: the user stopped the statement.
        TrainingError: no trial succeeded.
        InvalidOptionError: the objective does not fit the label (checked on the first family's rows).
    """
    import optuna  # imported before the budget's clock starts: a one-off cost, not the search's

    started = time.monotonic()
    family = family_of(model_type)
    resolve_label(model_type, options, table)  # a label error is every family's: raised once, up front
    rows = Rows(table, hashes, split or automl_split(options, table, hashes))
    searched = candidates(family.searched(model_type), options)
    by_name = {c.model_type: c for c in searched}
    records: list[dict] = []
    failed: set[str] = set()
    learned = _first_task(searched, rows, records, failed)
    objective = objective_for(options.get("optimization_objective"), learned.kind, learned.n_classes)
    sign = 1.0 if minimized(objective) else -1.0
    stop = _Stop(cancel, started + options["budget_hours"] * 3600)
    kept: dict[int, Kept] = {}

    def run(trial) -> float:
        name = trial.suggest_categorical("model_type", list(by_name))
        candidate = by_name[name]
        if name in failed:  # its rows could not be prepared: nothing to try
            raise optuna.TrialPruned()
        first = not any(r["model_type"] == name for r in records)
        if first:
            params = candidate.default_hyperparameters()
        else:
            params = {n: suggest(trial, f"{name}.{n}", s, candidate.table[n]) for n, s in candidate.spaces.items()}
        record = {"trial_id": len(records) + 1, "model_type": name, "hyperparameters": params, "status": "SUCCEEDED",
                  "error_message": None, "objective_value": None, "eval_metrics": None, "duration_ms": 0}  # fmt: skip
        records.append(record)
        trial_started = time.monotonic()
        if stop.is_set():  # a family's first trial after the budget is listed, not trained
            record.update(status="STOPPED", error_message="budget_hours ran out before it started")
            raise optuna.TrialPruned()
        try:
            prepared = rows.prepared(candidate)
            # a family's default trial, started within the budget, may run on to twice the budget:
            # the defaults are what AutoML must at least reach
            budgeted = stop if not first else _Stop(stop.cancel, stop.deadline + options["budget_hours"] * 3600, armed=stop.armed)
            estimator, monitor_rows = _fit(candidate, prepared, {**candidate.defaults, **params}, description, budgeted)
        except Cancelled:
            record.update(status="STOPPED", error_message="budget_hours ran out during training")
            raise optuna.TrialPruned() from None
        except Exception as error:  # a candidate's failure is recorded, not fatal
            record.update(status="FAILED", error_message=str(error).splitlines()[0])
            raise optuna.TrialPruned() from None
        finally:
            record["duration_ms"] = int(round((time.monotonic() - trial_started) * 1000))
        evaluation = prepared.eval_set
        raw = candidate.family.metric_outputs(name, estimator, evaluation.X)
        record["eval_metrics"] = candidate.family.metrics(name, estimator, evaluation.y, raw)
        value = record["objective_value"] = score(objective, evaluation.y, raw)
        if value is None:
            record.update(status="FAILED", error_message=f"{objective} is undefined on the validation rows")
            raise optuna.TrialPruned()
        stop.armed = True
        kept[record["trial_id"]] = Kept(candidate.model_type, {**candidate.defaults, **params}, estimator, raw, monitor_rows, prepared)
        _forget_worst(kept, records, sign)
        return value

    def end(study, _trial) -> None:
        values = [r["objective_value"] for r in records if r["objective_value"] is not None]
        progress.advance(1, f"best {min(values, key=lambda v: sign * v):.4g}" if values else "")
        tried = {r["model_type"] for r in records}
        if stop.by_user() or (len(tried) == len(searched) and (not values or time.monotonic() > stop.deadline or _since_best(values, sign) >= PATIENCE)):
            study.stop()

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=SEED, multivariate=True, group=True, n_startup_trials=len(searched) + 5)
    study = optuna.create_study(direction="minimize" if sign > 0 else "maximize", sampler=sampler)
    for candidate in searched:
        if candidate.model_type not in failed:
            study.enqueue_trial({"model_type": candidate.model_type})
    with task(f"AutoML search {description.removeprefix('Training ')}", None, "trials") as progress:
        study.optimize(run, callbacks=[end])
    if stop.by_user():
        raise Cancelled("Training was cancelled; the previous model is unchanged.")
    if not kept:
        errors = "; ".join(f"{r['model_type']}: {r['error_message']}" for r in records if r["error_message"])[:500]
        raise TrainingError(f"The AutoML search found no model: all {len(records)} trial(s) failed. {errors}")
    return _model(model_type, options, objective, records, kept, sign, time.monotonic() - started)


@dataclass
class Kept:
    """A successful trial kept for the final choice: its member and validation outputs."""

    model_type: str
    options: dict
    estimator: Estimator
    outputs: np.ndarray
    training_info: list[dict]
    prepared: Prepared


def _first_task(searched: list[Candidate], rows: Rows, records: list[dict], failed: set[str]) -> Task:
    """The task of the first family whose rows can be prepared (families that cannot are recorded
    as FAILED trials).

    Raises:
        Error: no family can learn these rows (the first family's error).
    """
    errors = []
    for candidate in searched:
        try:
            return rows.prepared(candidate).task
        except Error as error:
            errors.append(error)
            failed.add(candidate.model_type)
            records.append({"trial_id": len(records) + 1, "model_type": candidate.model_type, "hyperparameters": {},
                            "status": "FAILED", "error_message": str(error).splitlines()[0], "objective_value": None,
                            "eval_metrics": None, "duration_ms": 0})  # fmt: skip
    raise errors[0]


def _fit(candidate: Candidate, prepared: Prepared, options: dict, description: str, stop: _Stop) -> tuple[Estimator, list]:
    """One candidate fitted on the training rows, and its ML.TRAINING_INFO rows."""
    estimator = candidate.family.estimator_class(candidate.model_type)(options=options, task=prepared.task)
    with monitor_for(options, description, stop) as monitor:
        estimator.fit(prepared.train_set, prepared.eval_set, monitor)
    return estimator, monitor.rows


def _since_best(values: list[float], sign: float) -> int:
    """Trials since the best value so far was found."""
    best = int(np.argmin([sign * v for v in values]))
    return len(values) - 1 - best


def _forget_worst(kept: dict[int, Kept], records: list[dict], sign: float) -> None:
    """Keep the estimators of the best :data:`POOL` trials per preprocessing (the ensemble's pool)."""
    groups: dict[int, list[int]] = {}
    for trial_id, trial in kept.items():
        groups.setdefault(id(trial.prepared), []).append(trial_id)
    for members in groups.values():
        for trial_id in sorted(members, key=lambda t: (sign * records[t - 1]["objective_value"], t))[POOL:]:
            del kept[trial_id]


def _model(model_type: str, options: dict, objective: str, records: list[dict], kept: dict[int, Kept], sign: float, seconds: float) -> Model:
    """The model of the best candidate, or of the ensemble that beats it on the validation rows."""
    rank = lambda t: (sign * records[t - 1]["objective_value"], t)  # noqa: E731
    best = min(kept, key=rank)
    prepared = kept[best].prepared
    pooled = sorted((t for t in kept if kept[t].prepared is prepared), key=rank)
    weights, value = select({t: kept[t].outputs for t in pooled}, pooled, objective, prepared.eval_set.y, prepared.task.kind)
    members = [(kept[t].model_type, kept[t].options, weight, kept[t].estimator) for t, weight in weights.items()]
    family = family_of(model_type)
    estimator = family.estimator_class(model_type)(options=options, task=prepared.task, members=members)
    chosen = best
    if len(weights) > 1:
        chosen = len(records) + 1
        raw = estimator.predict(prepared.eval_set.X)
        records.append({
            "trial_id": chosen, "model_type": "ENSEMBLE", "hyperparameters": {f"trial_{t}": w for t, w in weights.items()},
            "status": "SUCCEEDED", "error_message": None, "objective_value": value, "duration_ms": 0,
            "eval_metrics": family.metrics(model_type, estimator, prepared.eval_set.y, raw),
        })  # fmt: skip
    for record in records:
        record["is_optimal"] = record["trial_id"] == chosen
    final = prepared.test_set if prepared.test_set is not None else prepared.eval_set
    raw = estimator.predict(final.X)
    spec = {
        **base_spec(prepared),
        "model_type": str(model_type),
        "options": options,
        "training_info": [{"training_run": 0, **row} for row in kept[best].training_info] if len(weights) == 1 else [],
        "metrics": family.metrics(model_type, estimator, final.y, raw),
        "automl": {"optimization_objective": objective, "trials": records, "optimal_trial_id": chosen,
                   "search_seconds": round(seconds, 3)},  # fmt: skip
    }
    arrays = {"eval_output": np.asarray(raw), "eval_target": final.y} if prepared.task.is_classification else {}
    return Model(spec, prepared.preprocessor, estimator, arrays)
