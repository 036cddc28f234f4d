"""``optimization_objective``: BigQuery AutoML's objectives, their defaults and how each is scored.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-automl —
``OPTIMIZATION_OBJECTIVE = { string_value | struct_value }``: regression: MINIMIZE_RMSE (default),
MINIMIZE_MAE, MINIMIZE_RMSLE; binary classification: MAXIMIZE_AU_ROC (default), MINIMIZE_LOG_LOSS,
MAXIMIZE_AU_PRC, and, written as a STRUCT with their target between 0 and 1,
``STRUCT('MAXIMIZE_PRECISION_AT_RECALL', 0.3)`` and ``STRUCT('MAXIMIZE_RECALL_AT_PRECISION', 0.3)``
(Vertex AI's "maximize precision for a specified recall value" and the reverse); multiclass:
MINIMIZE_LOG_LOSS (default and only). Every objective is computed on held-out rows from the
candidate's raw outputs, as ML.EVALUATE computes its metrics.

An objective is its name, or ``(name, target)`` for the two STRUCT forms.
"""

from __future__ import annotations

import math

import numpy as np

from sqlml.errors import InvalidOptionError
from sqlml.ml.models import metrics

#: The objectives written as STRUCT(name, target): name → what the target is.
WITH_TARGET = {"MAXIMIZE_PRECISION_AT_RECALL": "recall", "MAXIMIZE_RECALL_AT_PRECISION": "precision"}
#: Objectives by task, BigQuery's default first.
OBJECTIVES: dict[str, tuple[str, ...]] = {
    "regression": ("MINIMIZE_RMSE", "MINIMIZE_MAE", "MINIMIZE_RMSLE"),
    "binary": ("MAXIMIZE_AU_ROC", "MINIMIZE_LOG_LOSS", "MAXIMIZE_AU_PRC", *WITH_TARGET),
    "multiclass": ("MINIMIZE_LOG_LOSS",),
}
CLASSIFIER_OBJECTIVES = tuple(dict.fromkeys(OBJECTIVES["binary"] + OBJECTIVES["multiclass"]))

Objective = str | tuple[str, float]


def valid_for(classifier: bool) -> tuple[str, ...]:
    """The objectives an AUTOML_CLASSIFIER (or AUTOML_REGRESSOR) accepts."""
    return CLASSIFIER_OBJECTIVES if classifier else OBJECTIVES["regression"]


def spelled(names: tuple[str, ...]) -> str:
    """The objectives as written in OPTIONS: a name, or its STRUCT with the target's name."""
    return ", ".join(f"STRUCT('{n}', <{WITH_TARGET[n]}>)" if n in WITH_TARGET else n for n in names)


def check_objective(model_type: str, value: str | tuple | list | None, classifier: bool) -> None:
    """An ``optimization_objective`` written in the statement is one of the model type's, with a
    target between 0 and 1 exactly when it is a STRUCT form.

    Raises:
        InvalidOptionError: unknown, an objective of the other task, a STRUCT form without its
            target (or a target out of range), or a target for an objective that takes none.
    """
    if value is None:
        return
    name, target = (value, None) if isinstance(value, str) else (value[0], value[1])
    upper = name.upper()
    valid = valid_for(classifier)
    hint = f"Valid values: {spelled(valid)}."
    if upper not in valid:
        other = "AUTOML_REGRESSOR" if classifier else "AUTOML_CLASSIFIER"
        message = (
            f"optimization_objective '{name}' is an objective of {other} models, not {model_type}."
            if upper in valid_for(not classifier)
            else f"Unknown optimization_objective '{name}' for {model_type}."
        )
        raise InvalidOptionError(message, option="optimization_objective", hint=hint)
    if upper in WITH_TARGET and target is None:
        raise InvalidOptionError(
            f"optimization_objective '{name}' needs a {WITH_TARGET[upper]} value: write STRUCT('{upper}', <{WITH_TARGET[upper]}>).",
            option="optimization_objective", hint=f"The {WITH_TARGET[upper]} is a FLOAT64 between 0 and 1, e.g. STRUCT('{upper}', 0.8).",
        )  # fmt: skip
    if upper not in WITH_TARGET and target is not None:
        raise InvalidOptionError(
            f"optimization_objective '{name}' takes no value; only {' and '.join(WITH_TARGET)} are written as a STRUCT.",
            option="optimization_objective", hint=f"Write optimization_objective='{upper}'.",
        )  # fmt: skip
    if target is not None and not 0.0 <= target <= 1.0:
        raise InvalidOptionError(
            f"optimization_objective {upper}'s {WITH_TARGET[upper]} must be between 0 and 1; got {target}.",
            option="optimization_objective", hint=f"e.g. STRUCT('{upper}', 0.8).",
        )  # fmt: skip


def objective_for(value: str | tuple | list | None, kind: str, n_classes: int) -> Objective:
    """The objective a search of a ``kind`` task (regression, binary, multiclass) optimizes: the
    option's (checked by :func:`check_objective`), else BigQuery's default.

    Raises:
        InvalidOptionError: a binary-only objective for a label of more than two classes.
    """
    allowed = OBJECTIVES[kind]
    if value is None:
        return allowed[0]
    name = (value if isinstance(value, str) else value[0]).upper()
    if name not in allowed:
        raise InvalidOptionError(
            f"optimization_objective '{name}' needs a label of two classes; this label has {n_classes}.",
            option="optimization_objective",
            hint=f"Valid values for a label of more than two classes: {', '.join(allowed)}.",
        )
    return name if isinstance(value, str) else (name, float(value[1]))


def name_of(objective: Objective) -> str:
    """The objective's name (without a STRUCT form's target)."""
    return objective if isinstance(objective, str) else objective[0]


def minimized(objective: Objective) -> bool:
    """MINIMIZE_* objectives are minimized, MAXIMIZE_* ones maximized."""
    return name_of(objective).startswith("MINIMIZE_")


def score(objective: Objective, y: np.ndarray, raw: np.ndarray) -> float | None:
    """The objective's value for labels ``y`` (encoded) and raw outputs (values, or class
    probabilities); None when it is undefined on these rows (one class only, a log of a negative)."""
    name = name_of(objective)
    if name == "MINIMIZE_RMSE":
        return _finite(math.sqrt(float(np.mean((np.asarray(y, float) - raw) ** 2))))
    if name == "MINIMIZE_MAE":
        return _finite(float(np.mean(np.abs(np.asarray(y, float) - raw))))
    if name == "MINIMIZE_RMSLE":
        y = np.asarray(y, float)
        if np.any(y <= -1) or np.any(raw <= -1):
            return None
        return _finite(math.sqrt(float(np.mean((np.log1p(y) - np.log1p(raw)) ** 2))))
    codes = np.asarray(y, dtype=np.int64)
    if name == "MAXIMIZE_AU_PRC":
        return average_precision(codes == 1, raw[:, 1])
    if name in WITH_TARGET:
        return at_target(name, objective[1], codes == 1, raw[:, 1])
    found = metrics.classification_metrics(codes, raw, np.argmax(raw, axis=1))
    return found["roc_auc"] if name == "MAXIMIZE_AU_ROC" else found["log_loss"]


def _curve(positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Precision and recall at each distinct score threshold (a row is positive at or above it),
    highest threshold first; None without positive rows."""
    total = int(np.sum(positive))
    if total == 0:
        return None
    order = np.argsort(-scores, kind="mergesort")
    ranked, hits = scores[order], np.cumsum(positive[order])
    last = np.r_[np.nonzero(np.diff(ranked))[0], len(ranked) - 1]  # the last row of each threshold
    true_positives = hits[last].astype(float)
    return true_positives / (last + 1), true_positives / total


def average_precision(positive: np.ndarray, scores: np.ndarray) -> float | None:
    """The area under the precision-recall curve as the step sum Σ (Rₙ − Rₙ₋₁) Pₙ over the
    distinct score thresholds (scikit-learn's ``average_precision_score``); None without positives."""
    curve = _curve(positive, scores)
    if curve is None:
        return None
    precision, recall = curve
    return _finite(float(np.sum(np.diff(np.r_[0.0, recall]) * precision)))


def at_target(name: str, target: float, positive: np.ndarray, scores: np.ndarray) -> float | None:
    """MAXIMIZE_PRECISION_AT_RECALL: the highest precision of a threshold whose recall is at
    least ``target``; MAXIMIZE_RECALL_AT_PRECISION: the highest recall of a threshold whose
    precision is at least ``target`` (0 when none reaches it). None without positive rows."""
    curve = _curve(positive, scores)
    if curve is None:
        return None
    precision, recall = curve
    if name == "MAXIMIZE_PRECISION_AT_RECALL":
        return float(precision[recall >= target - 1e-12].max())  # the lowest threshold has recall 1
    reached = recall[precision >= target - 1e-12]
    return float(reached.max()) if len(reached) else 0.0


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
