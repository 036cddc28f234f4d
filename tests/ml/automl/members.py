"""The members of a trained AUTOML model as direct models of their families would be written."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sqlml.ml.automl import search as automl_search
from sqlml.ml.automl.crossval import FOLDS
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.records import ModelRef


def trained(con, model: str):
    """The stored model ``dataset.name``, as ML.PREDICT loads it."""
    dataset, name = model.split(".")
    return CACHE.get(con.models, con.models.resolve(ModelRef(dataset, name)))


def recording_folds(patch: pytest.MonkeyPatch) -> list:
    """The fold splits the next search draws (row positions in its query's rows), once it has run."""
    recorded: list = []
    original = automl_search.fold_splits

    def recording(split, hashes):
        folds = original(split, hashes)
        recorded[:] = folds or []
        return folds

    patch.setattr(automl_search, "fold_splits", recording)
    return recorded


def refitted_members(con, model: str) -> list[tuple[str, str, float]]:
    """``(model_type, OPTIONS text, weight)`` of each member of an AUTOML model as its refit trained it
    (ml/automl/refit.py, a choice not cross-validated): its trial's hyperparameters, the iterations it
    ran and no early stop — what a direct model of that type trained on the training and validation
    rows with NO_SPLIT needs."""
    stored = trained(con, model)
    assert stored.spec["automl"]["refit_on_validation_rows"]
    training_rows = con.query("SELECT COUNT(*) FROM ds.train WHERE part != 'TEST'").fetchall()[0][0]
    assert stored.spec["split"]["training_rows"] == training_rows  # the training and validation rows
    trials = con.query(f"SELECT model_type, hyperparameters FROM ML.TRIAL_INFO(MODEL {model})").fetchall()
    found = []
    for model_type, options, weight, _ in stored.estimator.members:
        searched = json.loads(next(h for t, h in trials if t == model_type))
        refit = {**{key: options[key] for key in searched}, "early_stop": False}
        if "max_iterations" in options:
            refit["max_iterations"] = options["max_iterations"]
        found.append((model_type, ", ".join(f"{k}={v!r}" for k, v in refit.items() if v is not None), weight))
    return found


def bagged_members(con, model: str) -> list[tuple[str, str, float, int]]:
    """``(model_type, OPTIONS text, weight, fold)`` of each member of a bagged AUTOML model
    (ml/automl/search.py's ``_bagged``): its trial's hyperparameters — what a direct model of that
    type trained on the fold's other training and validation rows, the fold evaluating, needs."""
    stored = trained(con, model)
    assert stored.spec["automl"]["bagged_folds"] == FOLDS and not stored.spec["automl"]["refit_on_validation_rows"]
    trials = con.query(f"SELECT model_type, hyperparameters FROM ML.TRIAL_INFO(MODEL {model})").fetchall()
    found = []
    for index, (model_type, options, weight, _) in enumerate(stored.estimator.members):
        searched = [k for k in json.loads(next(h for t, h in trials if t == model_type)) if k != "features_of"]
        text = ", ".join(f"{k}={options[k]!r}" for k in searched if options[k] is not None)
        found.append((model_type, text, weight, index % FOLDS))
    return found


def fold_table(con, folds: list, query: str, fold: int, name: str) -> None:
    """``name``: ``query``'s rows of ``fold``'s training and held-out rows, ``is_eval`` marking the held-out ones."""
    frame = con.query(query).df()
    split = folds[fold]
    rows = np.sort(np.concatenate([split.train, split.evaluation]))
    part = frame.iloc[rows].reset_index(drop=True)
    part["is_eval"] = np.isin(rows, split.evaluation)
    con.register("fold_frame", part)
    con.query(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM fold_frame")
