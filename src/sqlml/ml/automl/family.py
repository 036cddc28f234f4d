"""The AutoML family: AUTOML_CLASSIFIER and AUTOML_REGRESSOR, their options and what they serve.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-automl —
options ``budget_hours`` (default 1.0, BigQuery's range 1.0 to 72.0), ``optimization_objective``,
``input_label_cols`` and ``data_split_col``. sqlml also accepts budgets below BigQuery's one hour,
down to :data:`MIN_BUDGET_HOURS` (a local search of a small table is done in seconds, and tests
need such budgets); the search may end before the budget once further trials stop improving, as
AutoML may. The model is trained by :mod:`sqlml.ml.automl.search`, which the training pipeline
calls for a family that :attr:`~sqlml.ml.models.base.ModelFamily.searches_families`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlml.errors import InvalidOptionError
from sqlml.ml.automl.ensemble import Ensemble
from sqlml.ml.automl.objectives import check_objective
from sqlml.ml.models.base import ModelFamily, Target
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.option_groups import COMMON, option, table
from sqlml.ml.models.options import Kind
from sqlml.ml.models.supervised import CLASSIFIER_FUNCTIONS, SUPERVISED_FUNCTIONS, SupervisedFamily

if TYPE_CHECKING:
    from sqlml.ml.models.estimator import Estimator
    from sqlml.ml.models.model import Model
    from sqlml.ml.models.onnx_graph import Graph
    from sqlml.ml.models.options import Option

#: BigQuery's budget range, in hours (create-automl page).
BIGQUERY_BUDGET_HOURS = (1.0, 72.0)
#: sqlml's smallest budget: 0.36 seconds (BigQuery's is one hour).
MIN_BUDGET_HOURS = 0.0001

AUTOML_OPTIONS = [
    option("input_label_cols", Kind.STRING_ARRAY, ["label"]),
    option("budget_hours", Kind.FLOAT, 1.0),
    option("optimization_objective", Kind.STRING_OR_STRUCT),
    option("data_split_col", Kind.STRING),
]

#: The families searched, by what the AutoML model type learns, in the order their first
#: (default) trials run: fast ones first, so a small budget still gets a model — the DNN's
#: defaults (a few seconds on tabular rows: 2–3 s on the bench's tables, and the best default on
#: credit_scoring) before the random forest's 100 deep trees (30–110 s there), which a budget
#: taken by a slow boosted tree under load otherwise left the DNN no time to start.
SEARCHED = {
    Target.REGRESSION: ("LINEAR_REG", "BOOSTED_TREE_REGRESSOR", "DNN_REGRESSOR", "RANDOM_FOREST_REGRESSOR"),
    Target.CLASSIFICATION: ("LOGISTIC_REG", "BOOSTED_TREE_CLASSIFIER", "DNN_CLASSIFIER", "RANDOM_FOREST_CLASSIFIER"),
}


class AutoMLFamily(SupervisedFamily):
    """AUTOML_CLASSIFIER and AUTOML_REGRESSOR: the chosen candidate of a search across the
    registered supervised families, served through :class:`~sqlml.ml.automl.ensemble.Ensemble`.

    Args:
        lookup: model type → family (the catalog's ``family_of``), to find the searched families
            without importing the catalog (which imports this module).
    """

    name = "automl"
    model_types = (ModelType.AUTOML_CLASSIFIER, ModelType.AUTOML_REGRESSOR)
    regressor = ModelType.AUTOML_REGRESSOR
    classifier = ModelType.AUTOML_CLASSIFIER
    searches_families = True
    # BigQuery's end-to-end journey page lists no manual (TRANSFORM) preprocessing for AutoML models:
    # AutoML engineers its own features, so CREATE MODEL … TRANSFORM(…) with an AUTOML_* type is refused
    accepts_transform = False

    def __init__(self, lookup: Callable[[str], ModelFamily]):
        self.lookup = lookup
        self._estimator = Ensemble.bound(lookup)

    def searched(self, model_type: str) -> list[tuple[str, ModelFamily]]:
        """The registered families' model types the search tries, with their families (a DNN
        only when its family is registered)."""
        found = []
        for name in SEARCHED[self.target(model_type)]:
            try:
                found.append((name, self.lookup(name)))
            except InvalidOptionError:  # not registered (an optional family)
                continue
        return found

    def functions(self, model_type: str) -> frozenset[str]:
        """PREDICT, EVALUATE, EXPLAIN_PREDICT (every searched family explains its rows exactly)
        and GLOBAL_EXPLAIN (which BigQuery's function page lists for AutoML models), and
        CONFUSION_MATRIX and ROC_CURVE for the classifier. Not FEATURE_IMPORTANCE: BigQuery
        takes only boosted trees, random forests and XGBoost models there."""
        shared = SUPERVISED_FUNCTIONS | {"EXPLAIN_PREDICT", "GLOBAL_EXPLAIN"}
        return shared | CLASSIFIER_FUNCTIONS if self.target(model_type) is Target.CLASSIFICATION else shared

    def option_table(self, model_type: str) -> dict[str, Option]:
        """BigQuery's AutoML options and the common registry ones."""
        return table(COMMON, AUTOML_OPTIONS)

    def check_options(self, model_type: str, options: dict, given: set[str]) -> None:
        """``budget_hours`` within sqlml's range, ``optimization_objective`` one of the model type's.

        Raises:
            InvalidOptionError: naming the option and its valid values.
        """
        budget = options["budget_hours"]
        low, high = BIGQUERY_BUDGET_HOURS
        if not MIN_BUDGET_HOURS <= budget <= high:
            raise InvalidOptionError(
                f"budget_hours must be between {MIN_BUDGET_HOURS} and {high}; got {budget}.",
                option="budget_hours",
                hint=f"BigQuery accepts {low} to {high} hours (default {low}); sqlml also accepts fractions of an "
                f"hour down to {MIN_BUDGET_HOURS}.",
            )
        check_objective(model_type, options.get("optimization_objective"), self.target(model_type) is Target.CLASSIFICATION)

    def estimator_class(self, model_type: str) -> type[Estimator]:
        """:class:`~sqlml.ml.automl.ensemble.Ensemble`, finding its members' families in the catalog."""
        return self._estimator

    def onnx_graph(self, graph: Graph, model: Model, features: str) -> Graph:
        """The chosen members as one ONNX model where that is exact
        (:func:`~sqlml.ml.automl.onnx_form.automl_graph`: one candidate as its family builds it,
        averaged linear members as one linear model, tree members as one tree ensemble)."""
        from sqlml.ml.automl.onnx_form import automl_graph

        return automl_graph(graph, model, features, self.lookup)
