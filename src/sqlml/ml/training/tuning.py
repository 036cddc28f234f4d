"""Hyperparameter tuning: NUM_TRIALS, HPARAM_RANGE / HPARAM_CANDIDATES, served by Optuna.

https://cloud.google.com/bigquery/docs/hp-tuning-overview — trials are scored on the eval split
(with BigQuery's 80/10/10 split when tuning) and their final metrics come from the test split
(the eval split doubles as test when there is none). ``hparam_tuning_algorithm``:

* VIZIER_DEFAULT → Optuna's TPE sampler (a Bayesian optimizer; Vertex Vizier is not available);
* RANDOM_SEARCH → Optuna's random sampler; GRID_SEARCH → Optuna's grid sampler (discrete spaces).

Trials run ``max_parallel_trials`` at a time in threads (LightGBM and NumPy release the GIL),
sharing the machine's cores. Iterative model types report their eval loss each iteration, and
Optuna's median pruner stops trials that fall behind (status PRUNED, a sqlml addition). A failed
trial is recorded with its error; more than half failing fails the statement.
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from typing import TYPE_CHECKING

import numpy as np

from sqlml.errors import Cancelled, InvalidOptionError, TrainingError
from sqlml.ml.models.catalog import OPTIONS_BY_TYPE, family_of
from sqlml.ml.models.estimator import Dataset, Estimator
from sqlml.ml.models.model import Model
from sqlml.ml.models.options import HparamCandidates, HparamRange
from sqlml.ml.training.preparation import Prepared, base_spec, fit_estimator, kept_outputs, monitor_for
from sqlml.progress import task

if TYPE_CHECKING:
    import optuna

    from sqlml.ml.models.options import Option

SEED = 20240601
#: Tuning objectives by what the model learns (the first is BigQuery's default).
OBJECTIVES = {
    "regression": ("R2_SCORE", "EXPLAINED_VARIANCE", "MEDIAN_ABSOLUTE_ERROR", "MEAN_ABSOLUTE_ERROR",
                   "MEAN_SQUARED_ERROR", "MEAN_SQUARED_LOG_ERROR"),
    "classification": ("ROC_AUC", "PRECISION", "RECALL", "ACCURACY", "F1_SCORE", "LOG_LOSS"),
    "clustering": ("DAVIES_BOULDIN_INDEX",),
}  # fmt: skip
MINIMIZED = {"MEDIAN_ABSOLUTE_ERROR", "MEAN_ABSOLUTE_ERROR", "MEAN_SQUARED_ERROR", "MEAN_SQUARED_LOG_ERROR",
             "LOG_LOSS", "DAVIES_BOULDIN_INDEX", "AVERAGE_RANK"}  # fmt: skip
LOG_FLOOR = 1e-14  # BigQuery: a 0 lower bound on a LOG scale becomes 1e-14


def objective_of(model_type: str, options: dict) -> str:
    """The tuning objective: the option's, else BigQuery's default for the model type."""
    family = family_of(model_type)
    allowed = family.tuning_objectives(model_type, options) or OBJECTIVES[family.target(model_type).value]
    chosen = options.get("hparam_tuning_objectives") or [allowed[0]]
    if len(chosen) != 1:
        raise InvalidOptionError("hparam_tuning_objectives takes exactly one objective.", option="hparam_tuning_objectives")
    name = chosen[0].upper()
    if name not in allowed:
        raise InvalidOptionError(
            f"'{name}' is not a tuning objective for {model_type}.",
            option="hparam_tuning_objectives",
            hint=f"Objectives: {', '.join(allowed)}.",
        )
    return name


def search_spaces(model_type: str, options: dict) -> dict:
    """Option name → HparamRange/HparamCandidates; the family's default space (BigQuery's, from
    hp-tuning-overview's "default range" column) when none is given."""
    table = OPTIONS_BY_TYPE[model_type]
    spaces = {name: value for name, value in options.items() if isinstance(value, (HparamRange, HparamCandidates))}
    if spaces:
        return spaces
    defaults = {}
    for name in family_of(model_type).tuned_options(model_type, options):
        low, high, _scale = table[name].search
        defaults[name] = HparamRange(float(low), float(high))
    return defaults


def _bounds(space: HparamRange, option) -> tuple[float, float, bool]:
    """The range a sampler draws from: log scale floored at 1e-14, open lower bounds nudged in."""
    low, high = space.low, space.high
    log = bool(option.search) and option.search[2] == "LOG"
    if log:
        low = max(low, LOG_FLOOR)
    elif option.low_open and low == option.low:
        low = low + (high - low) * 1e-9
    if option.kind.name == "INT":
        return math.ceil(low), math.floor(high), log
    return low, high, log


def suggest(trial: optuna.Trial, name: str, space: HparamRange | HparamCandidates, option: Option) -> object:
    """A value of option ``name`` drawn by an Optuna trial from ``space`` (a range or candidates)."""
    if isinstance(space, HparamCandidates):
        return trial.suggest_categorical(name, list(space.values))
    low, high, log = _bounds(space, option)
    if option.kind.name == "INT":
        return trial.suggest_int(name, int(low), int(high), log=log)
    return trial.suggest_float(name, low, high, log=log)


def _start(space, option, default):
    """BigQuery's first trial: the default if it is in the space, else the space's closest point."""
    if isinstance(space, HparamCandidates):
        return default if default in space.values else space.values[0]
    low, high, _log = _bounds(space, option)
    return min(max(default if default is not None else low, low), high)


def _sampler(options: dict, spaces: dict):
    import optuna

    algorithm = options.get("hparam_tuning_algorithm") or "VIZIER_DEFAULT"
    if algorithm == "GRID_SEARCH":
        if not all(isinstance(s, HparamCandidates) for s in spaces.values()):
            raise InvalidOptionError(
                "hparam_tuning_algorithm='GRID_SEARCH' needs every tuned option as HPARAM_CANDIDATES([…]).",
                option="hparam_tuning_algorithm",
            )
        return optuna.samplers.GridSampler({n: list(s.values) for n, s in spaces.items()}, seed=SEED)
    if algorithm == "RANDOM_SEARCH":
        return optuna.samplers.RandomSampler(seed=SEED)
    return optuna.samplers.TPESampler(seed=SEED, multivariate=True, n_startup_trials=5)


def trial_metrics(prepared: Prepared, estimator: Estimator, dataset: Dataset) -> dict:
    """ML.EVALUATE's metrics of one trial's estimator on a dataset."""
    family = family_of(prepared.model_type)
    raw = family.metric_outputs(prepared.model_type, estimator, dataset.X)
    return family.metrics(prepared.model_type, estimator, dataset.y, raw)


def tune(prepared: Prepared, *, description: str, cancel: threading.Event | None = None) -> Model:
    """Run the trials and return a model holding every successful trial, the best one serving."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # hidden_units=HPARAM_CANDIDATES([STRUCT([8]), STRUCT([8, 16])]) has tuple candidates, which the
    # in-memory study tuning uses takes; Optuna's warning is about storing them in a database.
    warnings.filterwarnings("ignore", message=r".*for persistent storage", category=UserWarning)
    model_type, options = prepared.model_type, prepared.options
    if not family_of(model_type).search_space:
        raise InvalidOptionError(f"{model_type} models cannot be tuned.", option="num_trials")
    table = OPTIONS_BY_TYPE[model_type]
    spaces = search_spaces(model_type, options)
    objective_name = objective_of(model_type, options)
    direction = "minimize" if objective_name in MINIMIZED else "maximize"
    parallel = min(options.get("max_parallel_trials") or 1, options["num_trials"])
    threads = max(1, (os.cpu_count() or 1) // parallel)
    scored = prepared.eval_set if prepared.eval_set is not None else prepared.train_set
    final = prepared.test_set if prepared.test_set is not None else scored
    records, estimators, lock = {}, {}, threading.Lock()
    stopped = threading.Event()
    pruner = optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=2)
    study = optuna.create_study(direction=direction, sampler=_sampler(options, spaces), pruner=pruner)
    if options.get("hparam_tuning_algorithm") != "GRID_SEARCH":  # a grid visits every point anyway
        defaults = family_of(model_type).data_defaults(model_type, options, len(prepared.train_set))
        study.enqueue_trial({n: _start(s, table[n], defaults.get(n, table[n].default)) for n, s in spaces.items()})

    with task(f"Tuning {description.removeprefix('Training ')}", options["num_trials"], "trials") as progress:

        def objective(trial):
            if stopped.is_set() or (cancel is not None and cancel.is_set()):
                stopped.set()
                raise optuna.TrialPruned()
            record = {"trial_id": trial.number + 1, "hyperparameters": {}, "status": "SUCCEEDED", "error_message": None}
            try:
                record["hyperparameters"] = params = {n: suggest(trial, n, s, table[n]) for n, s in spaces.items()}
            except ValueError as error:
                record.update(status="INFEASIBLE", error_message=str(error))
                _finish(record, None, progress, lock, records, study)
                raise _ended(record) from None
            trial_options = {**options, **params, "_threads": threads}

            def observe(row):
                if row["eval_loss"] is not None:
                    trial.report(row["eval_loss"], row["iteration"])
                    if trial.should_prune():
                        raise optuna.TrialPruned()

            try:
                with monitor_for(trial_options, description, cancel, observe) as monitor:
                    estimator = fit_estimator(prepared, trial_options, monitor)
            except optuna.TrialPruned:
                record["status"] = "PRUNED"
                _finish(record, None, progress, lock, records, study)
                raise
            except (Cancelled, KeyboardInterrupt):
                stopped.set()
                raise optuna.TrialPruned() from None
            except Exception as error:  # a trial's failure is recorded, not fatal
                record.update(status="FAILED", error_message=str(error).splitlines()[0])
                _finish(record, None, progress, lock, records, study)
                raise _ended(record) from None
            record["eval_metrics"] = trial_metrics(prepared, estimator, scored)
            record["metrics"] = trial_metrics(prepared, estimator, final)
            last = monitor.rows[-1] if monitor.rows else {}
            record.update(training_loss=last.get("loss"), eval_loss=last.get("eval_loss"), training_info=monitor.rows)
            value = record["eval_metrics"].get(objective_name.lower())
            with lock:
                estimators[record["trial_id"]] = estimator
            _finish(record, value, progress, lock, records, study)
            if value is None:
                raise _ended(record)
            return value

        study.optimize(objective, n_trials=options["num_trials"], n_jobs=parallel)
    if stopped.is_set():
        raise Cancelled("Tuning was cancelled; the previous model is unchanged.")
    return _tuned_model(prepared, base_spec(prepared), records, estimators, objective_name, direction, spaces)


def _ended(record: dict):
    """What ends a trial that failed or has no objective value, for Optuna: a prune, which it
    takes quietly (a failure it logs with a traceback on stderr). ``record`` keeps the status."""
    import optuna

    return optuna.TrialPruned(record.get("error_message") or "no objective value")


def _finish(record, value, progress, lock, records, study) -> None:
    with lock:
        record["objective"] = value
        records[record["trial_id"]] = record
        best = [r["objective"] for r in records.values() if r.get("objective") is not None]
        detail = ""
        if best:
            chosen = min(best) if study.direction.name == "MINIMIZE" else max(best)
            detail = f"best {chosen:.4g}"
        progress.advance(1, detail)


def _tuned_model(prepared, spec, records, estimators, objective_name, direction, spaces) -> Model:
    trials = [records[k] for k in sorted(records)]
    failed = sum(1 for t in trials if t["status"] == "FAILED")
    if not estimators or failed * 2 > len(trials):
        errors = "; ".join(f"trial {t['trial_id']}: {t['error_message']}" for t in trials if t["error_message"])[:500]
        raise TrainingError(f"Hyperparameter tuning failed: {failed} of {len(trials)} trials failed. {errors}")
    candidates = [t for t in trials if t["status"] == "SUCCEEDED" and t["objective"] is not None]
    if not candidates:
        raise TrainingError(
            f"Hyperparameter tuning found no trial with a value of {objective_name} on the evaluation rows "
            f"({len(trials)} trial(s) ran).",
            hint="Give the model more rows (tuning evaluates on 10% of them), or choose another hparam_tuning_objectives.",
        )
    sign = 1 if direction == "minimize" else -1
    best_value = min(sign * t["objective"] for t in candidates)
    for t in trials:
        t["is_optimal"] = t in candidates and sign * t["objective"] == best_value
    optimal = min(t["trial_id"] for t in trials if t["is_optimal"])  # ties: the smallest trial_id serves
    spec.update(
        trials=[{k: v for k, v in t.items() if k != "objective"} for t in trials],
        optimal_trial_id=optimal,
        objective=objective_name,
        tuned_hyperparameters=sorted(spaces),
        metrics=records[optimal]["metrics"],
        training_info=[],
    )
    best = estimators[optimal]
    model = Model(spec, prepared.preprocessor, best, prepared.extra_arrays)
    model.trial_estimators = dict(estimators)
    # what the serving trial keeps beyond its estimator (e.g. the training rows' anomaly scores)
    family = family_of(prepared.model_type)
    model.arrays.update(family.fitted_arrays(prepared.model_type, best, prepared.train_set, prepared.preprocessor, best.options))
    model.arrays.update(kept_outputs(prepared, lambda: best.predict(prepared.scored.X)))
    if "eval_output" in model.arrays:  # each other trial's too: ML.CONFUSION_MATRIX / ML.ROC_CURVE with STRUCT(n AS trial_id)
        for trial_id, estimator in estimators.items():
            if trial_id != optimal:
                model.arrays[f"eval_output_trial_{trial_id}"] = np.asarray(estimator.predict(prepared.scored.X))
    return model
