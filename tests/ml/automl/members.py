"""The members of a trained AUTOML model as direct models of their families would be written."""

from __future__ import annotations

import json

from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.records import ModelRef


def trained(con, model: str):
    """The stored model ``dataset.name``, as ML.PREDICT loads it."""
    dataset, name = model.split(".")
    return CACHE.get(con.models, con.models.resolve(ModelRef(dataset, name)))


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


def served_members(con, model: str) -> list[tuple[str, str, float]]:
    """``(model_type, OPTIONS text, weight)`` of each member of a cross-validated AUTOML model, served
    as the search trained it (ml/automl/search.py's ``_model``): its trial's hyperparameters — what a
    direct model of that type trained on the TRAIN rows, the VALIDATE rows evaluating, needs."""
    stored = trained(con, model)
    assert stored.spec["automl"]["chosen_by"] == "CROSS_VALIDATION" and not stored.spec["automl"]["refit_on_validation_rows"]
    training_rows = con.query("SELECT COUNT(*) FROM ds.train WHERE part = 'TRAIN'").fetchall()[0][0]
    assert stored.spec["split"]["training_rows"] == training_rows  # the training rows only, as the search trained it
    trials = con.query(f"SELECT model_type, hyperparameters FROM ML.TRIAL_INFO(MODEL {model})").fetchall()
    found = []
    for model_type, options, weight, _ in stored.estimator.members:
        searched = [k for k in json.loads(next(h for t, h in trials if t == model_type)) if k != "features_of"]
        found.append((model_type, ", ".join(f"{k}={options[k]!r}" for k in searched if options[k] is not None), weight))
    return found
