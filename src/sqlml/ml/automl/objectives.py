"""``optimization_objective``: BigQuery AutoML's objectives, their defaults and how each is scored.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-automl —
regression: MINIMIZE_RMSE (default), MINIMIZE_MAE, MINIMIZE_RMSLE; binary classification:
MAXIMIZE_AU_ROC (default), MINIMIZE_LOG_LOSS, MAXIMIZE_AU_PRC; multiclass: MINIMIZE_LOG_LOSS
(default and only). MAXIMIZE_PRECISION_AT_RECALL and MAXIMIZE_RECALL_AT_PRECISION (written as a
STRUCT with the target value) are not accepted yet. Every objective is computed on the validation
rows from the candidate's raw outputs, as ML.EVALUATE computes its metrics.
"""

from __future__ import annotations

import math

import numpy as np

from sqlml.errors import InvalidOptionError
from sqlml.ml.models import metrics

#: Objectives by task, BigQuery's default first.
OBJECTIVES: dict[str, tuple[str, ...]] = {
    "regression": ("MINIMIZE_RMSE", "MINIMIZE_MAE", "MINIMIZE_RMSLE"),
    "binary": ("MAXIMIZE_AU_ROC", "MINIMIZE_LOG_LOSS", "MAXIMIZE_AU_PRC"),
    "multiclass": ("MINIMIZE_LOG_LOSS",),
}
CLASSIFIER_OBJECTIVES = tuple(dict.fromkeys(OBJECTIVES["binary"] + OBJECTIVES["multiclass"]))


def valid_for(classifier: bool) -> tuple[str, ...]:
    """The objectives an AUTOML_CLASSIFIER (or AUTOML_REGRESSOR) accepts."""
    return CLASSIFIER_OBJECTIVES if classifier else OBJECTIVES["regression"]


def check_objective(model_type: str, value: str | None, classifier: bool) -> None:
    """An ``optimization_objective`` written in the statement is one of the model type's.

    Raises:
        InvalidOptionError: unknown, or an objective of the other task, naming the valid values.
    """
    if value is None:
        return
    name = value.upper()
    valid = valid_for(classifier)
    if name in valid:
        return
    other = "AUTOML_REGRESSOR" if classifier else "AUTOML_CLASSIFIER"
    known = name in valid_for(not classifier)
    message = (
        f"optimization_objective '{value}' is an objective of {other} models, not {model_type}."
        if known
        else f"Unknown optimization_objective '{value}' for {model_type}."
    )
    raise InvalidOptionError(message, option="optimization_objective", hint=f"Valid values: {', '.join(valid)}.")


def objective_for(value: str | None, kind: str, n_classes: int) -> str:
    """The objective a search of a ``kind`` task (regression, binary, multiclass) optimizes: the
    option's, else BigQuery's default.

    Raises:
        InvalidOptionError: a binary-only objective for a label of more than two classes.
    """
    allowed = OBJECTIVES[kind]
    if value is None:
        return allowed[0]
    if value.upper() not in allowed:
        raise InvalidOptionError(
            f"optimization_objective '{value}' needs a label of two classes; this label has {n_classes}.",
            option="optimization_objective",
            hint=f"Valid values for a label of more than two classes: {', '.join(allowed)}.",
        )
    return value.upper()


def minimized(objective: str) -> bool:
    """MINIMIZE_* objectives are minimized, MAXIMIZE_* ones maximized."""
    return objective.startswith("MINIMIZE_")


def score(objective: str, y: np.ndarray, raw: np.ndarray) -> float | None:
    """The objective's value for labels ``y`` (encoded) and raw outputs (values, or class
    probabilities); None when it is undefined on these rows (one class only, a log of a negative)."""
    if objective == "MINIMIZE_RMSE":
        return _finite(math.sqrt(float(np.mean((np.asarray(y, float) - raw) ** 2))))
    if objective == "MINIMIZE_MAE":
        return _finite(float(np.mean(np.abs(np.asarray(y, float) - raw))))
    if objective == "MINIMIZE_RMSLE":
        y = np.asarray(y, float)
        if np.any(y <= -1) or np.any(raw <= -1):
            return None
        return _finite(math.sqrt(float(np.mean((np.log1p(y) - np.log1p(raw)) ** 2))))
    codes = np.asarray(y, dtype=np.int64)
    if objective == "MAXIMIZE_AU_PRC":
        return average_precision(codes == 1, raw[:, 1])
    found = metrics.classification_metrics(codes, raw, np.argmax(raw, axis=1))
    return found["roc_auc"] if objective == "MAXIMIZE_AU_ROC" else found["log_loss"]


def average_precision(positive: np.ndarray, scores: np.ndarray) -> float | None:
    """The area under the precision-recall curve as the step sum Σ (Rₙ − Rₙ₋₁) Pₙ over the
    distinct score thresholds (scikit-learn's ``average_precision_score``); None without positives."""
    total = int(np.sum(positive))
    if total == 0:
        return None
    order = np.argsort(-scores, kind="mergesort")
    ranked, hits = scores[order], np.cumsum(positive[order])
    last = np.r_[np.nonzero(np.diff(ranked))[0], len(ranked) - 1]  # the last row of each threshold
    true_positives = hits[last].astype(float)
    precision = true_positives / (last + 1)
    recall = true_positives / total
    return _finite(float(np.sum(np.diff(np.r_[0.0, recall]) * precision)))


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
