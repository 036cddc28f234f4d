"""The boosted tree family: BOOSTED_TREE_CLASSIFIER and BOOSTED_TREE_REGRESSOR, trained with LightGBM.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-boosted-tree
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.option_groups import option
from sqlml.ml.models.options import Kind
from sqlml.ml.models.tree_ensemble import TREE_SHARED_OPTIONS, TreeEnsembleFamily

if TYPE_CHECKING:
    from sqlml.ml.models.estimator import Estimator

BOOSTED_TREE_OPTIONS = [
    *TREE_SHARED_OPTIONS,
    option("max_iterations", Kind.INT, 20, low=1),
    option("booster_type", Kind.ENUM, "GBTREE", choices=("GBTREE", "DART"), search=()),
    option("dart_normalize_type", Kind.ENUM, "TREE", choices=("TREE", "FOREST"), search=()),
    option("num_parallel_tree", Kind.INT, 1, low=1, search=(1, 10, "LINEAR")),
    option("max_tree_depth", Kind.INT, 6, low=1, high=20, search=(1, 10, "LINEAR")),
    option("dropout", Kind.FLOAT, 0.0, low=0, high=1, search=(0.0, 1.0, "LINEAR")),
    option("learn_rate", Kind.FLOAT, 0.3, low=0, low_open=True, search=(0.0, 1.0, "LINEAR")),
    option("subsample", Kind.FLOAT, 1.0, low=0, high=1, low_open=True, search=(0.0, 1.0, "LINEAR")),
    option("colsample_bynode", Kind.FLOAT, 1.0, low=0, high=1, search=(0.0, 1.0, "LINEAR")),
    option("category_encoding_method", Kind.ENUM, "LABEL_ENCODING", choices=("ONE_HOT_ENCODING", "TARGET_ENCODING", "LABEL_ENCODING")),
]  # fmt: skip


class BoostedTreeFamily(TreeEnsembleFamily):
    """BOOSTED_TREE_CLASSIFIER and BOOSTED_TREE_REGRESSOR."""

    name = "boosted_tree"
    model_types = (ModelType.BOOSTED_TREE_CLASSIFIER, ModelType.BOOSTED_TREE_REGRESSOR)
    regressor = ModelType.BOOSTED_TREE_REGRESSOR
    classifier = ModelType.BOOSTED_TREE_CLASSIFIER
    family_options = BOOSTED_TREE_OPTIONS
    # https://cloud.google.com/bigquery/docs/hp-tuning-overview (default search space)
    search_space = ("learn_rate", "l1_reg", "l2_reg", "max_tree_depth", "subsample")

    def estimator_class(self, model_type: str) -> type[Estimator]:
        """:class:`~sqlml.ml.models.tree_estimators.BoostedTree`."""
        from sqlml.ml.models.tree_estimators import BoostedTree

        return BoostedTree
