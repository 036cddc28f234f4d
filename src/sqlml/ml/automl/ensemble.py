"""The estimator an AUTOML model serves: the chosen candidate, or a weighted ensemble of
candidates that share one preprocessing.

Members keep their own state as their family stores it (LightGBM text, NumPy arrays, JSON),
under a ``m<i>.`` prefix; nothing is pickled. One member predicts exactly as its family trained
directly would. Several members are averaged in the raw space ML.EXPLAIN_PREDICT reports in —
the prediction for a regressor, the logit for a binary classifier, the log-probabilities (the
class scores up to a per-row constant) for a multiclass one — so the ensemble's attributions are
the weighted sums of its members' and still add up to its prediction value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sqlml.errors import CorruptModelError
from sqlml.ml.models.estimator import Dataset, Estimator, EstimatorState, Monitor, Task

if TYPE_CHECKING:
    from sqlml.ml.models.base import ModelFamily

EPSILON = 1e-15


def combine(outputs: list[np.ndarray], weights: list[float], kind: str) -> np.ndarray:
    """Members' outputs (:meth:`Estimator.predict`'s shape) averaged with ``weights`` in raw space."""
    if len(outputs) == 1:
        return outputs[0]
    if kind == "regression":
        return sum(w * out for w, out in zip(weights, outputs))
    if kind == "binary":  # log p1 - log p0 averages the members' logits
        logit = sum(w * (np.log(np.clip(o[:, 1], EPSILON, 1.0)) - np.log(np.clip(o[:, 0], EPSILON, 1.0))) for w, o in zip(weights, outputs))
        positive = 1.0 / (1.0 + np.exp(-logit))
        return np.column_stack([1.0 - positive, positive])
    logs = sum(w * np.log(np.clip(out, EPSILON, 1.0)) for w, out in zip(weights, outputs))
    shifted = np.exp(logs - logs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


class Ensemble(Estimator):
    """Weighted members (model type, options, estimator) fitted on one preprocessing.

    Attributes:
        lookup: model type → its family (the catalog's ``family_of``, given by the AutoML family:
            this module cannot import the catalog, which imports the AutoML family).
        members: ``(model_type, options, weight, estimator)`` per member.
    """

    lookup: ClassVar[Callable[[str], ModelFamily]]

    def __init__(self, *, options: dict, task: Task, members: list[tuple[str, dict, float, Estimator]] | None = None):
        super().__init__(options=options, task=task)
        self.members = list(members or [])

    @classmethod
    def bound(cls, lookup: Callable[[str], ModelFamily]) -> type[Ensemble]:
        """A subclass that finds its members' families with ``lookup``."""
        return type("Ensemble", (cls,), {"lookup": staticmethod(lookup), "__doc__": cls.__doc__})

    def fit(self, train: Dataset, evaluation: Dataset | None, monitor: Monitor) -> Ensemble:
        """Never fitted directly: the AutoML search fits the members and assembles them."""
        raise NotImplementedError("An AutoML ensemble is assembled from fitted candidates.")

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The members' outputs combined (:func:`combine`); one member's own outputs unchanged."""
        outputs = [estimator.predict(X) for *_, estimator in self.members]
        return combine(outputs, [weight for _, _, weight, _ in self.members], self.task.kind)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """The weighted sum of the members' exact contributions (same raw space as :func:`combine`)."""
        return sum(weight * estimator.contributions(X) for _, _, weight, estimator in self.members)

    def state(self) -> EstimatorState:
        """Each member's state under ``m<i>.``; its model type, options and weight in the parameters."""
        described, arrays, texts = [], {}, {}
        for index, (model_type, options, weight, estimator) in enumerate(self.members):
            params, member_arrays, member_texts = estimator.state()
            public = {key: value for key, value in options.items() if not key.startswith("_")}
            described.append({"model_type": model_type, "options": public, "weight": weight, "params": params})
            arrays.update({f"m{index}.{key}": value for key, value in member_arrays.items()})
            texts.update({f"m{index}.{name}": text for name, text in member_texts.items()})
        return {"members": described}, arrays, texts

    @classmethod
    def from_state(cls, options: dict, task: Task, params: dict, arrays: dict, texts: dict) -> Ensemble:
        """Rebuild each member with its family's estimator class.

        Raises:
            CorruptModelError: the description names no member.
        """
        described = params.get("members") or []
        if not described:
            raise CorruptModelError("The AutoML model's description has no members.", hint="Re-train it with CREATE OR REPLACE MODEL.")
        members = []
        for index, member in enumerate(described):
            prefix = f"m{index}."
            model_type = member["model_type"]
            estimator_class = cls.lookup(model_type).estimator_class(model_type)
            own_arrays = {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}
            own_texts = {name[len(prefix):]: text for name, text in texts.items() if name.startswith(prefix)}
            estimator = estimator_class.from_state(member["options"], task, member["params"], own_arrays, own_texts)
            members.append((model_type, member["options"], float(member["weight"]), estimator))
        return cls(options=options, task=task, members=members)
