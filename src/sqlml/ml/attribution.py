"""Feature attributions: exact Shapley values, per input column, for linear and tree models.

* Linear models see standardized features, so feature ``j`` contributes ``w_j · x_j`` and the
  baseline is the intercept — the exact Shapley values against the mean input (BigQuery's GLM
  method, https://cloud.google.com/bigquery/docs/xai-overview).
* Boosted trees and random forests: LightGBM's ``pred_contrib`` (Tree SHAP, exact); the baseline
  is the expected raw score over the training rows.

Both live in the model's raw space — the prediction for a regressor, the logit of a class for a
classifier (BigQuery's ``prediction_value``) — so baseline + Σ attributions = prediction value
exactly. Features made from one input column (one-hot indicators, timestamp parts) add up to
that column's attribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sqlml.errors import ModelError
from sqlml.ml.outputs import predicted_class_index


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


def class_contributions(estimator, X: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-feature contributions in raw space, shape (rows, classes, features + 1), the last
    entry the baseline; a regressor has one "class"."""
    from sqlml.ml.linear import LinearModel
    from sqlml.ml.trees import TreeEnsemble

    rows, features = X.shape
    if isinstance(estimator, TreeEnsemble):
        raw = estimator.contributions(X)
        if n_classes > 2:
            return raw.reshape(rows, n_classes, features + 1)
        positive = raw.reshape(rows, 1, features + 1)
    elif isinstance(estimator, LinearModel):
        coef, intercept = np.atleast_2d(estimator.coef_), np.atleast_1d(estimator.intercept_)
        parts = X[:, None, :] * coef[None, :, :]
        bias = np.broadcast_to(intercept[None, :, None], (rows, coef.shape[0], 1))
        both = np.concatenate([parts, bias], axis=2)
        if n_classes > 2:
            return both
        positive = both
    else:
        raise ModelError(f"{type(estimator).__name__} models have no feature attributions.")
    if n_classes == 2:  # the negative class's logit is minus the positive one's
        return np.concatenate([-positive, positive], axis=1)
    return positive


def explain(model, estimator, X: np.ndarray, threshold: float | None = None) -> Explanation:
    """Attributions of each row's prediction (its predicted class for a classifier)."""
    classifier = model.model_type.is_classifier
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
    groups = model.preprocessor.groups
    inputs = list(groups)
    per_input = np.column_stack([chosen[:, indices].sum(axis=1) for indices in groups.values()]) if inputs else np.empty((len(rows), 0))
    baseline = chosen[:, -1]
    return Explanation(inputs, per_input, baseline, baseline + chosen[:, :-1].sum(axis=1), predicted, probabilities)


def global_attributions(model, estimator, X: np.ndarray) -> dict:
    """Mean absolute attribution per input column over ``X`` (the evaluation rows), overall and
    per class (a list in class order): what ML.GLOBAL_EXPLAIN reports."""
    classifier = model.model_type.is_classifier
    n_classes = len(model.label["classes"]) if classifier else 1
    contributions = class_contributions(estimator, X, n_classes)
    groups = model.preprocessor.groups

    def mean_abs(block: np.ndarray) -> dict[str, float]:
        return {name: float(np.abs(block[:, indices].sum(axis=1)).mean()) if len(block) else 0.0 for name, indices in groups.items()}

    if classifier:
        predicted = predicted_class_index(estimator.predict(X), None)
        overall = mean_abs(contributions[np.arange(X.shape[0]), predicted])
        return {"overall": overall, "by_class": [mean_abs(contributions[:, k]) for k in range(n_classes)]}
    return {"overall": mean_abs(contributions[:, 0]), "by_class": []}
