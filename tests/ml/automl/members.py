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
    assert stored.spec["automl"]["refit_on_validation_rows"] and not stored.spec["automl"]["bagged_folds"]
    training_rows = con.query("SELECT COUNT(*) FROM ds.train WHERE part != 'TEST'").fetchall()[0][0]
    assert stored.spec["split"]["training_rows"] == training_rows  # the training and validation rows
    trials = _searched(con, model)
    return [(model_type, _refit_options(options, trials[model_type]), weight) for model_type, options, weight, _ in stored.estimator.members]


def bagged_members(con, model: str) -> list[tuple[str, str, float, int | None]]:
    """``(model_type, OPTIONS text, weight, fold)`` of each member of a cross-validated AUTOML model
    (ml/automl/search.py's ``_model``): each chosen trial's fold models (``fold`` 0–4, its trial's
    hyperparameters — what a direct model of that type trained on the fold's other training and
    validation rows, the fold evaluating, needs), then each chosen trial refitted on all of those
    rows (``fold`` None, as :func:`refitted_members` describes it), the bag and the refits half
    the weight each."""
    stored = trained(con, model)
    assert stored.spec["automl"]["bagged_folds"] == FOLDS and stored.spec["automl"]["refit_on_validation_rows"]
    trials = _searched(con, model)
    members = stored.estimator.members
    bag = len(members) * FOLDS // (FOLDS + 1)
    found = []
    for index, (model_type, options, weight, _) in enumerate(members):
        searched = [k for k in trials[model_type] if k != "features_of"]
        if index < bag:
            found.append((model_type, ", ".join(f"{k}={options[k]!r}" for k in searched if options[k] is not None), weight, index % FOLDS))
        else:
            found.append((model_type, _refit_options(options, searched), weight, None))
    return found


def direct_split(fold: int | None) -> tuple[str, str]:
    """The OPTIONS splitting a direct model's rows (:func:`fold_table`) as ``fold``'s member was
    trained, and the column to select for it: the fold's held-out rows evaluating, or none for a refit."""
    return ("data_split_method='NO_SPLIT'", "") if fold is None else ("data_split_method='CUSTOM', data_split_col='is_eval'", ", is_eval")


def _searched(con, model: str) -> dict[str, dict]:
    """Each model type's searched hyperparameters, as ML.TRIAL_INFO shows its first trial's."""
    found: dict[str, dict] = {}
    for model_type, hyperparameters in con.query(f"SELECT model_type, hyperparameters FROM ML.TRIAL_INFO(MODEL {model})").fetchall():
        found.setdefault(model_type, json.loads(hyperparameters))
    return found


def _refit_options(options: dict, searched) -> str:
    """A refitted member's OPTIONS: its trial's hyperparameters, the iterations it ran, no early stop."""
    refit = {**{key: options[key] for key in searched if key != "features_of"}, "early_stop": False}
    if "max_iterations" in options:
        refit["max_iterations"] = options["max_iterations"]
    return ", ".join(f"{k}={v!r}" for k, v in refit.items() if v is not None)


def fold_table(con, folds: list, query: str, fold: int | None, name: str) -> None:
    """``name``: ``query``'s rows of ``fold``'s training and held-out rows, ``is_eval`` marking the
    held-out ones; every fold's rows for ``fold`` None (a refit's)."""
    frame = con.query(query).df()
    split = folds[fold or 0]
    rows = np.sort(np.concatenate([split.train, split.evaluation]))
    part = frame.iloc[rows].reset_index(drop=True)
    part["is_eval"] = np.isin(rows, split.evaluation) & (fold is not None)
    con.register("fold_frame", part)
    con.query(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM fold_frame")
