"""The members of a trained AUTOML model as direct models of their families would be written."""

from __future__ import annotations

import json

from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.records import ModelRef


def refitted_members(con, model: str) -> list[tuple[str, str, float]]:
    """``(model_type, OPTIONS text, weight)`` of each member of an AUTOML model as its refit trained it
    (ml/automl/refit.py): its trial's hyperparameters, the iterations it ran and no early stop — what
    a direct model of that type trained on the training and validation rows with NO_SPLIT needs."""
    dataset, name = model.split(".")
    trained = CACHE.get(con.models, con.models.resolve(ModelRef(dataset, name)))
    assert trained.spec["automl"]["refit_on_validation_rows"]
    training_rows = con.query("SELECT COUNT(*) FROM ds.train WHERE part != 'TEST'").fetchall()[0][0]
    assert trained.spec["split"]["training_rows"] == training_rows  # the training and validation rows
    trials = con.query(f"SELECT model_type, hyperparameters FROM ML.TRIAL_INFO(MODEL {model})").fetchall()
    found = []
    for model_type, options, weight, _ in trained.estimator.members:
        searched = json.loads(next(h for t, h in trials if t == model_type))
        refit = {**{key: options[key] for key in searched}, "early_stop": False}
        if "max_iterations" in options:
            refit["max_iterations"] = options["max_iterations"]
        found.append((model_type, ", ".join(f"{k}={v!r}" for k, v in refit.items() if v is not None), weight))
    return found
