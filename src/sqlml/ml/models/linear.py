"""The linear family: LINEAR_REG and LOGISTIC_REG, BigQuery's generalized linear models.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-glm —
options, defaults and the 50-class limit of LOGISTIC_REG; numeric features are standardized and
categorical ones one-hot (or dummy) encoded
(https://cloud.google.com/bigquery/docs/auto-preprocessing). ``calculate_p_values`` keeps the
weights' covariance for ML.ADVANCED_WEIGHTS (:mod:`sqlml.ml.models.linear_p_values`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.errors import InvalidOptionError
from sqlml.ml.models.base import CATEGORY_ENCODINGS, Preprocessing, Target
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.option_groups import ITERATIVE, option
from sqlml.ml.models.options import Kind
from sqlml.ml.models.supervised import SupervisedFamily

if TYPE_CHECKING:
    import numpy as np

    from sqlml.ml.models.estimator import Dataset, Estimator, Task
    from sqlml.ml.models.model import Model
    from sqlml.ml.models.onnx_graph import Graph
    from sqlml.ml.preprocessing.automatic.preprocessor import Preprocessor

GLM_OPTIONS = [
    *ITERATIVE,
    option("warm_start", Kind.BOOL, False),
    option("optimize_strategy", Kind.ENUM, "AUTO_STRATEGY", choices=("AUTO_STRATEGY", "BATCH_GRADIENT_DESCENT", "NORMAL_EQUATION")),
    option("learn_rate_strategy", Kind.ENUM, "LINE_SEARCH", choices=("LINE_SEARCH", "CONSTANT")),
    option("learn_rate", Kind.FLOAT, 0.1, low=0, low_open=True),
    option("ls_init_learn_rate", Kind.FLOAT, 0.1, low=0, low_open=True),
    option("calculate_p_values", Kind.BOOL, False),
    option("fit_intercept", Kind.BOOL, True),
    option("category_encoding_method", Kind.ENUM, "ONE_HOT_ENCODING", choices=("ONE_HOT_ENCODING", "DUMMY_ENCODING")),
    option("l1_reg", Kind.FLOAT, 0.0, low=0, search=(0.0, 10.0, "LOG")),
    option("l2_reg", Kind.FLOAT, 0.0, low=0, search=(0.0, 10.0, "LOG")),
]  # fmt: skip

#: https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-glm#input_label_cols
MAX_LOGISTIC_CLASSES = 50


class LinearFamily(SupervisedFamily):
    """LINEAR_REG and LOGISTIC_REG."""

    name = "linear"
    model_types = (ModelType.LINEAR_REG, ModelType.LOGISTIC_REG)
    regressor = ModelType.LINEAR_REG
    classifier = ModelType.LOGISTIC_REG
    family_functions = frozenset({"EXPLAIN_PREDICT", "GLOBAL_EXPLAIN", "WEIGHTS", "ADVANCED_WEIGHTS"})
    family_options = GLM_OPTIONS
    search_space = ("l1_reg", "l2_reg")

    def check_options(self, model_type: str, options: dict, given: set[str]) -> None:
        """``learn_rate`` needs ``learn_rate_strategy='CONSTANT'``."""
        if "learn_rate" in given and options["learn_rate_strategy"] == "LINE_SEARCH":
            raise InvalidOptionError(
                "learn_rate applies only with learn_rate_strategy='CONSTANT'.", option="learn_rate",
                hint="Add learn_rate_strategy='CONSTANT', or use ls_init_learn_rate with LINE_SEARCH.",
            )  # fmt: skip

    def check_task(self, model_type: str, options: dict, task: Task) -> None:
        """``calculate_p_values`` needs a regression or a binary classifier, dummy encoding and no L1."""
        from sqlml.ml.models.linear_p_values import check_p_value_options

        check_p_value_options(options, task.n_classes)

    def max_classes(self, model_type: str) -> int:
        """50 for LOGISTIC_REG."""
        return MAX_LOGISTIC_CLASSES if model_type == self.classifier else super().max_classes(model_type)

    def preprocessing(self, model_type: str, options: dict) -> Preprocessing:
        """Standardized numbers; one-hot or dummy encoded categories."""
        return Preprocessing(standardize=True, categorical=CATEGORY_ENCODINGS[options["category_encoding_method"]])

    def estimator_class(self, model_type: str) -> type[Estimator]:
        """:class:`~sqlml.ml.models.linear_estimator.LinearModel`."""
        from sqlml.ml.models.linear_estimator import LinearModel

        return LinearModel

    def fitted_arrays(
        self, model_type: str, estimator: Estimator, train: Dataset, preprocessor: Preprocessor, options: dict
    ) -> dict[str, np.ndarray]:
        """The weights' covariance when ``calculate_p_values`` is set."""
        if not options.get("calculate_p_values"):
            return {}
        from sqlml.ml.models.linear_p_values import weight_covariance
        from sqlml.ml.preprocessing.automatic.feature_matrix import dense

        logistic = self.target(model_type) is Target.CLASSIFICATION
        return {"weight_covariance": weight_covariance(estimator, dense(train.X, preprocessor), train.y, logistic, train.w)}

    def onnx_graph(self, graph: Graph, model: Model, features: str) -> Graph:
        """A MatMul and, for classifiers, a sigmoid or softmax."""
        from sqlml.ml.models.onnx_graph import linear_graph

        linear_graph(graph, model, features)
        return graph
