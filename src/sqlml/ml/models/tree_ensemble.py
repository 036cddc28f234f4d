"""What the two LightGBM families (boosted trees, random forests) share: options, preprocessing,
ML.* functions and their ONNX form.

https://cloud.google.com/bigquery/docs/auto-preprocessing — tree models get no standardization
and label-encoded categories by default, which LightGBM splits on as categorical features.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.ml.models.base import CATEGORY_ENCODINGS, Preprocessing
from sqlml.ml.models.option_groups import option
from sqlml.ml.models.options import Kind
from sqlml.ml.models.supervised import SupervisedFamily

if TYPE_CHECKING:
    from sqlml.ml.models.model import Model
    from sqlml.ml.models.onnx_graph import Graph

#: https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-boosted-tree
#: and …-create-random-forest: the options both pages list with the same default.
TREE_SHARED_OPTIONS = [
    option("early_stop", Kind.BOOL, True),
    option("min_rel_progress", Kind.FLOAT, 0.01, low=0, high=1),
    option("l1_reg", Kind.FLOAT, 0.0, low=0, search=(0.0, 10.0, "LOG")),
    option("l2_reg", Kind.FLOAT, 1.0, low=0, search=(0.0, 10.0, "LOG")),
    option("tree_method", Kind.ENUM, "AUTO", choices=("AUTO", "EXACT", "APPROX", "HIST"), search=()),
    option("min_tree_child_weight", Kind.INT, 1, low=0, search=(0, 10, "LINEAR")),
    option("colsample_bytree", Kind.FLOAT, 1.0, low=0, high=1, search=(0.0, 1.0, "LINEAR")),
    option("colsample_bylevel", Kind.FLOAT, 1.0, low=0, high=1, search=(0.0, 1.0, "LINEAR")),
    option("min_split_loss", Kind.FLOAT, 0.0, low=0, search=(0.0, 10.0, "LINEAR")),
    option("instance_weight_col", Kind.STRING),
    option("xgboost_version", Kind.ENUM, "0.9", choices=("0.9", "1.1")),
    option("approx_global_feature_contrib", Kind.BOOL),
]


class TreeEnsembleFamily(SupervisedFamily):
    """A regressor and a classifier trained as a LightGBM ensemble."""

    family_functions = frozenset({"EXPLAIN_PREDICT", "GLOBAL_EXPLAIN", "FEATURE_IMPORTANCE"})

    def preprocessing(self, model_type: str, options: dict) -> Preprocessing:
        """No standardization; label-encoded categories (unless the options say otherwise) split natively."""
        method = CATEGORY_ENCODINGS[options.get("category_encoding_method") or "LABEL_ENCODING"]
        return Preprocessing(standardize=False, categorical=method, native_categorical=True)

    def onnx_graph(self, graph: Graph, model: Model, features: str) -> Graph:
        """The preprocessing graph merged with onnxmltools' conversion of the booster."""
        from sqlml.ml.models.onnx_graph import tree_graph

        return tree_graph(graph, model, features)
