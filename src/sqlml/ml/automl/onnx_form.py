"""The ONNX form of an AutoML model: its chosen members as one ONNX model, where that is exact.

The ensemble (:mod:`sqlml.ml.automl.ensemble`) averages its members' raw outputs with their
weights — the prediction of a regressor, the logit of a binary classifier, the log-probabilities
of a multiclass one (the class scores up to a per-row constant, which the softmax drops). So:

- linear members (a bagged LINEAR_REG or LOGISTIC_REG: one trial's fold models and its refit, read from one
  feature matrix) are one linear model whose coefficients and intercepts are the members'
  weighted sums — Σ wᵢ(βᵢx + bᵢ) = (Σ wᵢβᵢ)x + Σ wᵢbᵢ, exact for the averaged prediction;
- tree members (boosted trees and random forests) are one ONNX tree ensemble holding every
  member's trees, each leaf scaled by its member's weight (and by 1/trees for a forest): the
  ensemble sums the leaves before the sigmoid or softmax, as the members' weighted raw sum.

Members of different kinds (a linear model with a DNN, a DNN bag, a linear + tree blend) have no
one ONNX form sqlml writes: EXPORT MODEL names the model types and writes the model's own files.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sqlml.errors import ModelError

if TYPE_CHECKING:
    from sqlml.ml.models.base import ModelFamily
    from sqlml.ml.models.model import Model
    from sqlml.ml.models.onnx_graph import Graph

#: The member families whose averaged members have one exact ONNX form, by how they are merged.
LINEAR, TREES = frozenset({"linear"}), frozenset({"boosted_tree", "random_forest"})


def automl_graph(graph: Graph, model: Model, features: str, lookup: Callable[[str], ModelFamily]) -> Graph:
    """ML.PREDICT's outputs of the AutoML ``model``'s members as one ONNX graph on ``features``.

    Raises:
        ModelError: the members mix kinds that have no one exact ONNX form (naming them).
    """
    from sqlml.ml.models.onnx_graph import tree_graph

    members = model.estimator.members
    families = {lookup(model_type).name for model_type, *_ in members}
    if families <= TREES and len(members) > 1:  # the AutoML model's own task and label: its members share them
        return tree_graph(graph, model, features, [(estimator, weight) for *_, weight, estimator in members])
    if len(members) > 1 and not families <= LINEAR:
        kinds = ", ".join(f"{count} {name}" for name, count in Counter(m[0] for m in members).items())
        raise ModelError(
            f"EXPORT MODEL's ONNX format has no exact form for this {model.model_type} model's average of {len(members)} "
            f"members ({kinds}){_fold_models(model)}: only linear members, or only tree members, average into one ONNX model.",
            hint="Its own files are exported; use ML.PREDICT or sqlml serve. Averaged linear members "
            "(LINEAR_REG, LOGISTIC_REG) or tree members (BOOSTED_TREE_*, RANDOM_FOREST_*) export to ONNX.",
        )
    # one member, or linear members (one model type: an AutoML model has one linear family member type):
    # the first member's model as its family writes it, with the averaged coefficients
    model_type, options, _weight, estimator = members[0]
    chosen = copy.copy(model)
    chosen.spec = {**model.spec, "model_type": model_type, "options": options}
    chosen.estimator = estimator if len(members) == 1 else _averaged_linear(members)
    return lookup(model_type).onnx_graph(graph, chosen, features)


def _averaged_linear(members: list) -> object:
    """One linear estimator whose coefficients and intercept are the members' weighted sums."""
    averaged = copy.copy(members[0][3])
    averaged.coef_ = sum(weight * np.asarray(estimator.coef_, dtype=np.float64) for _, _, weight, estimator in members)
    intercept = sum(weight * np.asarray(estimator.intercept_, dtype=np.float64) for _, _, weight, estimator in members)
    averaged.intercept_ = intercept if np.ndim(intercept) else float(intercept)
    return averaged


def _fold_models(model: Model) -> str:
    """How a bagged model's members came to be, for the error naming them ('' when not bagged)."""
    automl = model.spec.get("automl", {})
    folds = automl.get("bagged_folds")
    refit = " and its refit on all their rows" if automl.get("refit_on_validation_rows") else ""
    return f", each chosen trial's {folds} fold models{refit}" if folds else ""
