"""The random forest family: RANDOM_FOREST_CLASSIFIER and RANDOM_FOREST_REGRESSOR, trained with LightGBM.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-random-forest
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.errors import InvalidOptionError
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.option_groups import option
from sqlml.ml.models.options import Kind
from sqlml.ml.models.tree_ensemble import TREE_SHARED_OPTIONS, TreeEnsembleFamily

if TYPE_CHECKING:
    from sqlml.ml.models.estimator import Estimator

RANDOM_FOREST_OPTIONS = [
    *TREE_SHARED_OPTIONS,
    option("num_parallel_tree", Kind.INT, 100, low=2, search=(2, 200, "LINEAR")),
    option("max_tree_depth", Kind.INT, 15, low=1, high=20, search=(1, 20, "LINEAR")),
    option("subsample", Kind.FLOAT, 0.8, low=0, high=1, low_open=True, search=(0.0, 1.0, "LINEAR")),
    option("colsample_bynode", Kind.FLOAT, 0.8, low=0, high=1, search=(0.0, 1.0, "LINEAR")),
]


class RandomForestFamily(TreeEnsembleFamily):
    """RANDOM_FOREST_CLASSIFIER and RANDOM_FOREST_REGRESSOR."""

    name = "random_forest"
    model_types = (ModelType.RANDOM_FOREST_CLASSIFIER, ModelType.RANDOM_FOREST_REGRESSOR)
    regressor = ModelType.RANDOM_FOREST_REGRESSOR
    classifier = ModelType.RANDOM_FOREST_CLASSIFIER
    family_options = RANDOM_FOREST_OPTIONS
    # https://cloud.google.com/bigquery/docs/hp-tuning-overview (default search space)
    search_space = ("num_parallel_tree", "max_tree_depth", "l1_reg", "l2_reg", "subsample")

    def check_options(self, model_type: str, options: dict, given: set[str]) -> None:
        """A forest of identical trees is refused: some row or column sampling below 1 is needed."""
        if options["subsample"] >= 1 and options["colsample_bytree"] >= 1 and options["colsample_bynode"] >= 1:
            raise InvalidOptionError("A random forest needs subsample < 1 or column sampling below 1.", option="subsample")

    def estimator_class(self, model_type: str) -> type[Estimator]:
        """:class:`~sqlml.ml.models.tree_estimators.RandomForest`."""
        from sqlml.ml.models.tree_estimators import RandomForest

        return RandomForest
