"""Linear + tree blends: a tree finalist fitted again on the one-hot families' rows, so that an
ensemble can mix it with a linear model or a DNN.

An ensemble reads one feature matrix (:mod:`sqlml.ml.automl.ensemble`), and the families
preprocess differently: the linear family and DNNs standardize numbers and one-hot encode
categories, the tree families label-encode them. A tree ensemble learns as well from the former —
a split on a standardized column is a split on the column, and a one-hot indicator splits one
category from the rest — so the best cross-validated trial of each tree family is fitted again,
with its options, on the rows of the best cross-validated one-hot trial (its "host"): on the
host's training rows (its validation outputs) and on each fold (its out-of-fold outputs). It is
listed in ML.TRIAL_INFO as one more trial of its family, its hyperparameters naming the host
family in ``features_of``, and ensemble selection may then mix it with the host's candidates — a
weighted blend of a linear model or DNN and a boosted tree or forest, kept only when it beats the
best single candidate on the folds by more than their noise (:mod:`sqlml.ml.automl.crossval`).
Transplants run once the best trial of each model type is cross-validated, before the next best
trials (a blend of two families is worth more than a second trial of one; measured after all the
finalists, a bench run under load never had the time left for it).
"""

from __future__ import annotations

import time

import numpy as np

from sqlml.errors import Cancelled, Error
from sqlml.ml.automl.candidates import Candidate
from sqlml.ml.automl.crossval import Validated, estimated_seconds, fits_in
from sqlml.ml.automl.fitting import Kept, Stop, fit_candidate
from sqlml.ml.automl.objectives import Objective, minimized, score


def _native(candidate: Candidate) -> bool:
    """Whether the candidate's family reads label-encoded categories (the tree families)."""
    return candidate.family.preprocessing(candidate.model_type, candidate.defaults).native_categorical


def transplant(
    kept: dict[int, Kept], records: list[dict], by_name: dict[str, Candidate], validated: Validated, objective: Objective,
    description: str, stop: Stop,
) -> None:  # fmt: skip
    """Fit the best cross-validated trial of each tree family on the best one-hot trial's rows and
    folds, adding each as a trial to ``records``, ``kept`` and ``validated.scores``."""
    scores, crossval = validated.scores, validated.crossval
    if not scores or crossval is None:
        return
    sign = 1.0 if minimized(objective) else -1.0
    ranked = sorted(scores, key=lambda t: (sign * scores[t].value, t))
    hosts = [t for t in ranked if not _native(by_name[kept[t].model_type]) and kept[t].rows_of is None]
    guests = {}
    for trial_id in ranked:
        if _native(by_name[kept[trial_id].model_type]) and kept[trial_id].rows_of is None:
            guests.setdefault(kept[trial_id].model_type, trial_id)
    if not hosts:
        return
    host = kept[hosts[0]]
    prepared = host.prepared
    for guest_id in guests.values():
        guest = kept[guest_id]
        candidate = by_name[guest.model_type]
        if prepared.task.sparse and not candidate.family.estimator_class(candidate.model_type).accepts_sparse:
            continue
        if not fits_in(guest.seconds + estimated_seconds(guest.seconds, prepared.split), stop.deadline):
            continue
        started = time.monotonic()
        try:
            estimator, info = fit_candidate(candidate, prepared, guest.options, description, stop)
            seconds = time.monotonic() - started
            raw = np.asarray(candidate.family.metric_outputs(candidate.model_type, estimator, prepared.eval_set.X))
            fit = lambda c, p, o: fit_candidate(c, p, o, description, stop)[0]  # noqa: E731
            found = crossval.run(candidate, guest.options, fit, objective, rows_of=by_name[host.model_type])
        except Cancelled:
            if stop.by_user():
                raise
            return  # the budget ran out
        except Error:
            continue
        value = score(objective, prepared.eval_set.y, raw)
        if found is None or value is None:
            continue
        trial_id = len(records) + 1
        records.append({
            "trial_id": trial_id, "model_type": guest.model_type, "status": "SUCCEEDED", "error_message": None,
            "hyperparameters": {**records[guest_id - 1]["hyperparameters"], "features_of": host.model_type},
            "objective_value": value, "cross_validation_objective_value": found.value,
            "cross_validation_folds": len(found.fold_values),
            "eval_metrics": candidate.family.metrics(candidate.model_type, estimator, prepared.eval_set.y, raw),
            "duration_ms": int(round((time.monotonic() - started) * 1000)),
        })  # fmt: skip
        kept[trial_id] = Kept(guest.model_type, guest.options, estimator, raw, info, prepared, seconds, rows_of=host.model_type)
        scores[trial_id] = found
