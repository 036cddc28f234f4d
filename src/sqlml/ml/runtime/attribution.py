"""Feature attributions: exact Shapley values, per input column, for linear and tree models.

* Linear models see standardized features, so feature ``j`` contributes ``w_j · x_j`` and the
  baseline is the intercept — the exact Shapley values against the mean input (BigQuery's GLM
  method, https://cloud.google.com/bigquery/docs/xai-overview).
* Boosted trees and random forests: LightGBM's ``pred_contrib`` (Tree SHAP, exact); the baseline
  is the expected raw score over the training rows.

Both live in the model's raw space — the prediction for a regressor, the logit of a class for a
classifier (BigQuery's ``prediction_value``) — so baseline + Σ attributions = prediction value
exactly. Features made from one input column (one-hot indicators, timestamp parts) add up to
that column's attribution, and so do the TRANSFORM outputs computed from one input column
(``ML.STANDARD_SCALER(x) AS xs`` and ``x * x AS x2`` both count for ``x``); an output that
combines several columns (a feature cross) keeps its own name.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import sqlglot
from sqlglot import exp

from sqlml.ml.models.base import Target
from sqlml.ml.models.prediction_columns import predicted_class_index
from sqlml.sql.dialect import DIALECTS

if TYPE_CHECKING:
    from sqlml.ml.models.estimator import Estimator
    from sqlml.ml.models.model import Model


@dataclass
class Explanation:
    """Explanations of a batch of rows, for the predicted class of each.

    Attributes:
        inputs: the input columns attributions are reported for.
        attributions: (rows, inputs).
        baseline: (rows,) the baseline prediction value.
        value: (rows,) the prediction value (baseline + Σ attributions).
        predicted: (rows,) predicted class index, or None for a regressor.
        probabilities: (rows, classes) or None for a regressor.
    """

    inputs: list[str]
    attributions: np.ndarray
    baseline: np.ndarray
    value: np.ndarray
    predicted: np.ndarray | None
    probabilities: np.ndarray | None


def class_contributions(estimator: Estimator, X: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-feature contributions in raw space, shape (rows, classes, features + 1), the last
    entry the baseline; a regressor has one "class"."""
    raw = estimator.contributions(X)
    if n_classes == 2:  # the negative class's logit is minus the positive one's
        return np.concatenate([-raw, raw], axis=1)
    return raw


def explain(model: Model, estimator: Estimator, X: np.ndarray, threshold: float | None = None) -> Explanation:
    """Attributions of each row's prediction (its predicted class for a classifier)."""
    classifier = model.target is Target.CLASSIFICATION
    n_classes = len(model.label["classes"]) if classifier else 1
    contributions = class_contributions(estimator, X, n_classes)
    rows = np.arange(X.shape[0])
    predicted = probabilities = None
    if classifier:
        probabilities = estimator.predict(X)
        predicted = predicted_class_index(probabilities, threshold)
        chosen = contributions[rows, predicted]
    else:
        chosen = contributions[:, 0]
    groups = input_groups(model)
    inputs = list(groups)
    per_input = np.column_stack([chosen[:, indices].sum(axis=1) for indices in groups.values()]) if inputs else np.empty((len(rows), 0))
    baseline = chosen[:, -1]
    return Explanation(inputs, per_input, baseline, baseline + chosen[:, :-1].sum(axis=1), predicted, probabilities)


def global_attributions(model: Model, estimator: Estimator, X: np.ndarray) -> dict:
    """Mean absolute attribution per input column over ``X`` (the evaluation rows), overall and
    per class (a list in class order): what ML.GLOBAL_EXPLAIN reports."""
    classifier = model.target is Target.CLASSIFICATION
    n_classes = len(model.label["classes"]) if classifier else 1
    contributions = class_contributions(estimator, X, n_classes)
    groups = input_groups(model)

    def mean_abs(block: np.ndarray) -> dict[str, float]:
        return {name: float(np.abs(block[:, indices].sum(axis=1)).mean()) if len(block) else 0.0 for name, indices in groups.items()}

    if classifier:
        predicted = predicted_class_index(estimator.predict(X), None)
        overall = mean_abs(contributions[np.arange(X.shape[0]), predicted])
        return {"overall": overall, "by_class": [mean_abs(contributions[:, k]) for k in range(n_classes)]}
    return {"overall": mean_abs(contributions[:, 0]), "by_class": []}


def input_groups(model: Model) -> dict[str, list[int]]:
    """Attribution name → the feature indices it sums: the input column behind each processed
    feature, through the TRANSFORM clause when the model has one."""
    groups = model.preprocessor.groups
    transform = model.spec.get("transform")
    if not transform:
        return groups
    sources = transform_sources(transform["clause"], tuple(transform["inputs"]))
    merged: dict[str, list[int]] = {}
    for output, indices in groups.items():
        origin = sources.get(output.lower(), ())
        merged.setdefault(origin[0] if len(origin) == 1 else output, []).extend(indices)
    return merged


@functools.lru_cache(maxsize=64)
def transform_sources(clause: str, inputs: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """TRANSFORM output (lower-case) → the input columns its expression reads."""
    known = {name.lower(): name for name in inputs}
    query = sqlglot.parse_one(f"SELECT {clause} FROM __input", read=DIALECTS["bigquery"])
    sources = {}
    for projection in query.expressions:
        read = {known[c.name.lower()] for c in projection.find_all(exp.Column) if c.name.lower() in known}
        sources[projection.alias_or_name.lower()] = tuple(sorted(read))
    return sources
