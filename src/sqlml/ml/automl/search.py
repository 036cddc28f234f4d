"""Train an AUTOML_CLASSIFIER or AUTOML_REGRESSOR: Optuna trials across the searched families
and their hyperparameters, then a cross-validated choice of the best candidate or an ensemble,
within ``budget_hours``.

The budget rule: every family's default is trained and — when the rows are few enough to
cross-validate — cross-validated whatever the budget (only the user's cancel stops them), so the
choice can never lose to a default it did not evaluate; ``budget_hours`` bounds what comes after
the defaults (tuned trials, their cross-validation, blends and ensembles). BigQuery's budget is a
target, not a guarantee; a budget smaller than the defaults take is exceeded by the defaults' time
(up to about 5.5 times their fits with the folds, less when a slow default is raced out after two
to four folds as clearly worse than the leader: :func:`~sqlml.ml.automl.crossval.clearly_worse`;
a small table's defaults take seconds).

Each family's first trial is its BigQuery defaults (fast families first; a random forest's default
grows all its trees); later trials are drawn by Optuna's TPE
sampler over the family (a categorical choice) and that family's hyperparameters
(:mod:`sqlml.ml.automl.candidates`); a drawn family whose default fit took longer than the
search has left is not tried (the sampler marks it pruned and draws elsewhere: under load the
seeded sampler's first free picks were tuned forests, 10–66 s each, that took the time of a dozen
boosted-tree or DNN trials and were never chosen). Trials run one at a time on every core and are scored on the
validation rows with ``optimization_objective``. The tuned trials end at the budget — or, when the
rows are few enough to cross-validate, after :data:`CROSS_VALIDATION_SHARE` of it — a tuned trial
still training then stops, recorded as STOPPED (a tuned forest keeps the trees it has grown); or
earlier when :data:`PATIENCE` trials in a row have not improved the best value (AutoML may end
before its budget when training stops improving). The rest of the budget cross-validates the
finalists (:mod:`sqlml.ml.automl.crossval`: every default first, past the budget if need be, then
tuned finalists while they fit), fits the best tree trials on the one-hot families' rows so they
can blend with them (:mod:`sqlml.ml.automl.blend`), and chooses among them and their ensembles
(ensemble selection on the out-of-fold outputs): the family default best on the folds unless a
tuned trial or an ensemble beats it by more than the folds' noise. A cross-validated choice serves its trials' fold
models (AutoGluon's bagging; each trial's weight split evenly among its folds) and its members
refitted on all the folds' rows, half each; a choice made on the validation rows alone is
refitted on the training and validation rows (:mod:`sqlml.ml.automl.refit`). The final metrics
are computed on the test rows.
"""

from __future__ import annotations

import math
import threading
import time
import warnings

import numpy as np
import pyarrow as pa

from sqlml.errors import Cancelled, Error, TrainingError
from sqlml.ml.automl.blend import transplant
from sqlml.ml.automl.candidates import Candidate, Rows, automl_split, candidates
from sqlml.ml.automl.crossval import FOLDS, Validated, clearly_better, clearly_better_on_folds, cross_validate, fold_splits
from sqlml.ml.automl.fitting import Kept, Stop, fit_candidate
from sqlml.ml.automl.ensemble import combine
from sqlml.ml.automl.objectives import Objective, minimized, name_of, objective_for, score
from sqlml.ml.automl.refit import refit_chosen
from sqlml.ml.automl.selection import POOL, cross_fitted, near_tied, select
from sqlml.ml.models.catalog import family_of
from sqlml.ml.models.estimator import Task
from sqlml.ml.models.model import Model
from sqlml.ml.preprocessing.automatic.feature_matrix import dense
from sqlml.ml.runtime.attribution import global_attributions
from sqlml.ml.training.preparation import Prepared, base_spec, resolve_label
from sqlml.ml.training.split import Split
from sqlml.ml.training.tuning import SEED, suggest
from sqlml.progress import task

#: Trials in a row without a better validation value that end the search before its budget.
PATIENCE = 40
#: The share of the budget left to cross-validating the finalists (when the rows are few enough).
CROSS_VALIDATION_SHARE = 0.5
MIN_CROSS_VALIDATION_SHARE = 0.2
#: ML.GLOBAL_EXPLAIN's validation rows × members attributed at most (:func:`_explained_rows`)
EXPLAINED_MEMBER_ROWS = 1_200
MIN_EXPLAINED_ROWS = 100


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
    import optuna  # imported before the budget's clock starts: one-off costs, not the search's
    import scipy.stats  # noqa: F401  (the classification metrics' ranks; seconds to import)

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
    budget = options["budget_hours"] * 3600
    folds = fold_splits(rows.split, hashes)
    stop = Stop(cancel, started + budget * (1 - CROSS_VALIDATION_SHARE if folds else 1))
    kept: dict[int, Kept] = {}
    default_seconds: dict[str, float] = {}  # each family's default fit: what one of its trials costs, roughly

    def run(trial) -> float:
        name = trial.suggest_categorical("model_type", list(by_name))
        candidate = by_name[name]
        if name in failed:  # its rows could not be prepared: nothing to try
            raise optuna.TrialPruned()
        first = not any(r["model_type"] == name for r in records)
        if not first and default_seconds.get(name, 0.0) > stop.deadline - time.monotonic():
            raise optuna.TrialPruned()  # a trial of a family slower than the search's time left: not tried, not listed
        if first:
            params = candidate.default_hyperparameters()
        else:
            params = {n: suggest(trial, f"{name}.{n}", s, candidate.table[n]) for n, s in candidate.spaces.items()}
        record = {"trial_id": len(records) + 1, "model_type": name, "hyperparameters": params, "status": "SUCCEEDED",
                  "error_message": None, "objective_value": None, "eval_metrics": None, "duration_ms": 0}  # fmt: skip
        records.append(record)
        trial_started = time.monotonic()
        try:
            prepared = rows.prepared(candidate)
            # a family's default trial runs to its end whatever the budget (the user's cancel stops
            # it): the defaults are what AutoML must at least reach; a tuned forest stops growing at the deadline
            budgeted, cap = (Stop(stop.cancel, math.inf), None) if first else (stop, stop.deadline)
            fit_started = time.monotonic()  # the fit's time, not the rows' first preparation, predicts its refits
            estimator, monitor_rows = fit_candidate(candidate, prepared, {**candidate.defaults, **params}, description, budgeted, cap)
            fit_seconds = time.monotonic() - fit_started
            if first:
                default_seconds[name] = fit_seconds
            if "num_parallel_tree" in params and candidate.family.name == "random_forest":  # the trees it grew
                params["num_parallel_tree"] = estimator.booster_.current_iteration()
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
            record.update(status="FAILED", error_message=f"{name_of(objective)} is undefined on the validation rows")
            raise optuna.TrialPruned()
        stop.armed = True
        kept[record["trial_id"]] = Kept(
            candidate.model_type, {**candidate.defaults, **params}, estimator, raw, monitor_rows, prepared, fit_seconds, default=first
        )  # fmt: skip
        _forget_worst(kept, records, sign)
        return value

    def end(study, _trial) -> None:
        values = [r["objective_value"] for r in records if r["objective_value"] is not None]
        progress.advance(1, f"best {min(values, key=lambda v: sign * v):.4g}" if values else "")
        tried = {r["model_type"] for r in records}
        left = stop.deadline - time.monotonic()
        if len(tried) == len(searched) and all(n in failed or default_seconds.get(n, 0.0) > left for n in by_name):
            study.stop()  # no family's trial fits in the search's time left: the rest of the budget measures
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
    # the tuned finalists are measured until the budget's end, and for at least MIN_CROSS_VALIDATION_SHARE
    # of it even when the default trials ran past the search's share (the defaults' folds take what they need)
    cv_end = max(started + budget, time.monotonic() + MIN_CROSS_VALIDATION_SHARE * budget)
    measuring = Stop(cancel, cv_end, armed=True)
    blend = lambda validated: transplant(kept, records, by_name, validated, objective, description, measuring)  # noqa: E731
    validated = cross_validate(table, hashes, folds, kept, records, by_name, objective, description, measuring, between=blend)
    refitter = lambda weights, bag=None: refit_chosen(table, hashes, kept, weights, by_name, description, Stop(cancel, cv_end), budget, bag)  # noqa: E731
    return _model(model_type, options, objective, records, kept, validated, sign, refitter, started)


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


def _since_best(values: list[float], sign: float) -> int:
    """Trials since the best value so far was found."""
    best = int(np.argmin([sign * v for v in values]))
    return len(values) - 1 - best


def _forget_worst(kept: dict[int, Kept], records: list[dict], sign: float) -> None:
    """Keep the estimators of the best :data:`POOL` tuned trials per preprocessing (the ensemble's
    pool), and every family's default trial (the choice falls back to the best of them)."""
    groups: dict[int, list[int]] = {}
    for trial_id, trial in kept.items():
        if not trial.default:
            groups.setdefault(id(trial.prepared), []).append(trial_id)
    for members in groups.values():
        for trial_id in sorted(members, key=lambda t: (sign * records[t - 1]["objective_value"], t))[POOL:]:
            del kept[trial_id]


def _model(
    model_type: str, options: dict, objective: Objective, records: list[dict], kept: dict[int, Kept], validated: Validated,
    sign: float, refitter, started: float,
) -> Model:  # fmt: skip
    """The model of the chosen candidate, or of the ensemble that beats it on the held-out rows
    (the folds when the finalists were cross-validated, else the validation rows): when
    cross-validated, its trials' fold models (:func:`_bagged`) and the same members refitted on
    all the folds' rows (``refitter`` → :func:`~sqlml.ml.automl.refit.refit_chosen`), half each;
    else refitted on the training and validation rows when ``refitter`` can.

    Why both: on 24 splits of the shared tables (credit_default, credit_scoring, bikeshare_hourly,
    seeds 0–7; bench/README, "AUTOML serving") the half-and-half mix had the best mean difference
    from the best default on the TEST rows of every serving measured — and the best worst case —
    against the fold models alone, the refit alone or the members as the search trained them: the
    fold models lower the variance of one fit (bagged tree defaults beat one fit by 0.012 ROC AUC
    on credit_scoring seed 5), the refit learns from every row, which the small folds of a DNN or
    of a logistic regression miss (one fit beat the bag by 0.007 on credit_scoring seed 0)."""
    best, scores = _choice(objective, records, kept, validated, sign), validated.scores
    weights, value = _weights(objective, records, kept, validated, sign, best)
    prepared = kept[next(iter(weights))].prepared
    members = [(kept[t].model_type, kept[t].options, weight, kept[t].estimator) for t, weight in weights.items()]
    family = family_of(model_type)
    estimator = family.estimator_class(model_type)(options=options, task=prepared.task, members=members)
    chosen = best
    if len(weights) > 1:
        chosen = len(records) + 1
        raw = estimator.predict(prepared.eval_set.X)
        records.append({
            "trial_id": chosen, "model_type": "ENSEMBLE", "hyperparameters": {f"trial_{t}": w for t, w in weights.items()},
            "status": "SUCCEEDED", "error_message": None, "objective_value": score(objective, prepared.eval_set.y, raw),
            "cross_validation_objective_value": value if best in scores else None,
            "cross_validation_folds": FOLDS if best in scores else None, "duration_ms": 0,
            "eval_metrics": family.metrics(model_type, estimator, prepared.eval_set.y, raw),
        })  # fmt: skip
    for record in records:
        record["is_optimal"] = record["trial_id"] == chosen
    training_info = kept[best].training_info
    bagged = _bagged(kept, weights, scores) if best in scores else None
    refitted = refitter(weights, validated.crossval.whole if bagged is not None else None)
    if bagged is not None:
        prepared, members = bagged
        if refitted is not None and refitted.prepared is prepared:  # the bag and one fit on all its rows, half each
            members = [(t, o, w / 2, e) for t, o, w, e in members + refitted.members]
        else:
            refitted = None
        estimator = family.estimator_class(model_type)(options=options, task=prepared.task, members=members)
    elif refitted is not None:
        prepared, training_info = refitted.prepared, refitted.training_info
        estimator = family.estimator_class(model_type)(options=options, task=prepared.task, members=refitted.members)
    final = prepared.test_set if prepared.test_set is not None else prepared.eval_set
    raw = estimator.predict(final.X)
    spec = {
        **base_spec(prepared),
        "model_type": str(model_type),
        "options": options,
        "training_info": [{"training_run": 0, **row} for row in training_info] if len(weights) == 1 else [],
        "metrics": family.metrics(model_type, estimator, final.y, raw),
        "automl": {"optimization_objective": objective, "trials": records, "optimal_trial_id": chosen,
                   "search_seconds": round(time.monotonic() - started, 3), "refit_on_validation_rows": refitted is not None,
                   "bagged_folds": FOLDS if bagged is not None else 0,
                   "chosen_by": "CROSS_VALIDATION" if best in scores else "VALIDATION_ROWS"},  # fmt: skip
    }
    arrays = {"eval_output": np.asarray(raw), "eval_target": final.y} if prepared.task.is_classification else {}
    model = Model(spec, prepared.preprocessor, estimator, arrays)
    # ML.GLOBAL_EXPLAIN takes every AutoML model (BigQuery's AutoML has no enable_global_explain):
    # the chosen model's mean absolute attributions over the validation rows, as the families compute theirs
    copies = max(2, prepared.task.n_classes)
    explained = dense(_explained_rows(prepared.eval_set.X, len(estimator.members)), prepared.preprocessor, copies)
    model.spec["global_explain"] = global_attributions(model, estimator, explained)
    return model


def _explained_rows(X, members: int):
    """The validation rows ML.GLOBAL_EXPLAIN averages the attributions of: all of them, or
    :data:`EXPLAINED_MEMBER_ROWS` ÷ ``members`` of them evenly spaced (at least
    :data:`MIN_EXPLAINED_ROWS`) — every member attributes every row, and a bag of deep forest fold
    models' exact Tree SHAP took 51 of the 63 s of a search with a 2.6 s budget on bikeshare's
    1,738 validation rows (10 fold models, 5 of them 100 trees of depth 15: 12 ms a row each).
    A mean of a hundred absolute attributions or more ranks the columns as all of them do."""
    keep = max(MIN_EXPLAINED_ROWS, EXPLAINED_MEMBER_ROWS // max(members, 1))
    if X.shape[0] <= keep:
        return X
    return X[np.linspace(0, X.shape[0] - 1, keep).round().astype(np.int64)]


def _bagged(kept: dict[int, Kept], weights: dict[int, float], scores: dict) -> tuple[Prepared, list] | None:
    """The chosen trials' fold models, each weighted ``weight / FOLDS``, on the folds' shared
    preprocessing — AutoGluon's bagging: averaging k models each trained on (k-1)/k of the
    training and validation rows lowers the variance a single fit has (a forest's or a small
    table's); :func:`_model` adds the refit to them. None when a member was not cross-validated,
    or without test rows (the metrics are computed on the test rows; the validation rows trained
    most fold models)."""
    if any(t not in scores for t in weights) or scores[next(iter(weights))].prepared.test_set is None:
        return None
    members = [
        (kept[t].model_type, kept[t].options, weight / len(scores[t].estimators), estimator)
        for t, weight in weights.items() for estimator in scores[t].estimators
    ]  # fmt: skip
    return scores[next(iter(weights))].prepared, members


def _weights(
    objective: Objective, records: list[dict], kept: dict[int, Kept], validated: Validated, sign: float, best: int,
) -> tuple[dict[int, float], float | None]:  # fmt: skip
    """The chosen members by trial id with their weights, and their value on the held-out rows.

    Cross-validated: ensemble selection on the out-of-fold outputs of each preprocessing's
    candidates (one feature matrix each), the best ensemble kept only when the selection's
    cross-fitted outputs (each fold mixed with the weights chosen on the other folds:
    :func:`~sqlml.ml.automl.selection.cross_fitted`) beat ``best`` on the folds by more than their noise. Otherwise: ensemble selection on the validation rows of
    ``best``'s preprocessing. A default chosen alone is averaged with the defaults within the
    folds' noise of it (:func:`~sqlml.ml.automl.selection.near_tied`)."""
    scores, kind = validated.scores, kept[best].prepared.task.kind
    if best not in scores:
        rank = lambda t: (sign * records[t - 1]["objective_value"], t)  # noqa: E731
        pooled = sorted((t for t in kept if kept[t].prepared is kept[best].prepared), key=rank)
        return select({t: kept[t].outputs for t in pooled}, pooled, objective, kept[best].prepared.eval_set.y, kind)
    groups: dict[int, list[int]] = {}
    for trial_id in sorted(scores, key=lambda t: (sign * scores[t].value, t)):
        groups.setdefault(id(kept[trial_id].prepared), []).append(trial_id)
    found = {best: 1.0}, scores[best].value
    for pooled in groups.values():
        outputs = {t: scores[t].outputs for t in pooled}
        weights, value = select(outputs, pooled, objective, validated.y, kind, validated.folds)
        if len(weights) < 2 or value is None or sign * value >= sign * found[1]:
            continue
        clear = lambda mixed: clearly_better_on_folds(objective, sign, validated.y, mixed, scores[best].outputs, validated.folds)  # noqa: E731
        if not clear(combine([outputs[t] for t in weights], list(weights.values()), kind)):  # gain within noise even on its own rows
            continue
        if clear(cross_fitted(outputs, objective, validated.y, kind, validated.folds)):  # weights chosen on the other folds
            found = weights, value
    if len(found[0]) == 1 and kept[best].default:  # no clear ensemble: the defaults within the folds' noise of it, averaged
        tied = [t for t in groups[id(kept[best].prepared)] if kept[t].default]
        found = near_tied({t: scores[t].outputs for t in tied}, tied, objective, validated.y, kind, validated.folds)
    return found


def _choice(objective: Objective, records: list[dict], kept: dict[int, Kept], validated: Validated, sign: float) -> int:
    """The chosen trial: the family default best on the folds (what a user comparing the families'
    defaults by cross-validation picks: the fallback), replaced by a tuned trial only when that
    trial's out-of-fold outputs beat it by more than their noise
    (:func:`~sqlml.ml.automl.crossval.clearly_better_on_folds`, by sqrt(2 ln k) standard errors
    as the best of k: a tuned trial best of several on the folds overstates its gain, and gains
    within the folds' noise lost to the defaults on credit_scoring's test rows), or by a trial not cross-validated that is clearly better on the
    validation rows than the best of the search's trials there would be by chance
    (:func:`~sqlml.ml.automl.crossval.clearly_better`); the best on the validation rows when none
    was cross-validated. A finalist raced out of the cross-validation
    (:func:`~sqlml.ml.automl.crossval.clearly_worse` than the leader on its first folds) is not
    one the budget left unmeasured: the validation rows cannot bring it back."""
    ranked = sorted(kept, key=lambda t: (sign * records[t - 1]["objective_value"], t))
    scores = validated.scores
    if not scores:
        return ranked[0]
    on_folds = sorted(scores, key=lambda t: (sign * scores[t].value, t))
    defaults = [t for t in on_folds if kept[t].default]
    best = defaults[0] if defaults else on_folds[0]
    challengers = on_folds[: on_folds.index(best)]
    for trial_id in challengers:
        if clearly_better_on_folds(objective, sign, validated.y, scores[trial_id].outputs, scores[best].outputs, validated.folds, len(challengers)):
            best = trial_id
            break
    y = kept[best].prepared.eval_set.y
    measured = sum(r["objective_value"] is not None for r in records)  # every trial competed on the validation rows
    for trial_id in ranked[: ranked.index(best)]:
        not_measured = records[trial_id - 1].get("cross_validation_folds") is None  # a raced-out finalist was: clearly worse
        if not_measured and clearly_better(objective, sign, y, kept[trial_id].outputs, kept[best].outputs, measured):
            return trial_id
    return best
