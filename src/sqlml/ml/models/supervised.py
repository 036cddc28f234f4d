"""What every supervised family shares: a regressor and a classifier type, their ML.PREDICT
columns and their ML.EVALUATE metrics.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-predict and
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-evaluate — the
columns and metrics depend only on whether the model predicts a number or a class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sqlml.ml.models import metrics
from sqlml.ml.models.base import ModelFamily, Target
from sqlml.ml.models.option_groups import CLASSIFIER, COMMON, SUPERVISED, TUNING, table
from sqlml.ml.models.prediction_columns import (
    classification_columns,
    classification_schema,
    predicted_class_index,
    regression_columns,
    regression_schema,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from sqlml.ml.models.estimator import Estimator
    from sqlml.ml.models.model import Model
    from sqlml.ml.models.options import Option

#: ML.* functions every supervised model takes; classifiers add CLASSIFIER_FUNCTIONS.
SUPERVISED_FUNCTIONS = frozenset({"PREDICT", "EVALUATE"})
CLASSIFIER_FUNCTIONS = frozenset({"CONFUSION_MATRIX", "ROC_CURVE"})


class SupervisedFamily(ModelFamily):
    """A family of one regressor and one classifier model type (either may be absent).

    Attributes:
        regressor: the model type that predicts a number (``""``: none).
        classifier: the model type that predicts a class (``""``: none).
        family_functions: ML.* functions both types take beyond PREDICT and EVALUATE.
        family_options: the family's own CREATE MODEL options (after the common ones).
    """

    regressor: ClassVar[str] = ""
    classifier: ClassVar[str] = ""
    family_functions: ClassVar[frozenset[str]] = frozenset()
    family_options: ClassVar[list[Option]] = []

    def target(self, model_type: str) -> Target:
        """REGRESSION for the regressor, CLASSIFICATION for the classifier."""
        return Target.CLASSIFICATION if model_type == self.classifier else Target.REGRESSION

    def functions(self, model_type: str) -> frozenset[str]:
        """PREDICT, EVALUATE, the family's own and, for classifiers, CONFUSION_MATRIX and ROC_CURVE."""
        shared = SUPERVISED_FUNCTIONS | self.family_functions
        return shared | CLASSIFIER_FUNCTIONS if self.target(model_type) is Target.CLASSIFICATION else shared

    def export_formats(self, model_type: str) -> tuple[str, ...]:
        """An ONNX model that includes the preprocessing."""
        return ("model.onnx",)

    def option_table(self, model_type: str) -> dict[str, Option]:
        """Common, tuning and supervised options, class weights for the classifier, then the family's."""
        classifier = CLASSIFIER if self.target(model_type) is Target.CLASSIFICATION else []
        return table(COMMON, TUNING, SUPERVISED, classifier, self.family_options)

    def output_schema(self, model: Model) -> pa.Schema:
        """``predicted_<label>`` (and ``predicted_<label>_probs`` for classifiers)."""
        if self.target(model.model_type) is Target.CLASSIFICATION:
            return classification_schema(model.label["name"], model.label_type())
        return regression_schema(model.label["name"])

    def prediction_columns(self, model: Model, raw: np.ndarray, threshold: float | None) -> list[pa.Array]:
        """The predicted value, or the predicted class and every class's probability."""
        if self.target(model.model_type) is Target.CLASSIFICATION:
            return classification_columns(model.classes(), raw, threshold)
        return regression_columns(raw)

    def metric_names(self, model_type: str) -> tuple[str, ...]:
        """BigQuery's regression or classification metrics."""
        if self.target(model_type) is Target.CLASSIFICATION:
            return metrics.CLASSIFICATION_METRICS
        return metrics.REGRESSION_METRICS

    def metrics(self, model_type: str, estimator: Estimator, y: np.ndarray | None, raw: np.ndarray, threshold: float | None = None) -> dict:
        """Regression metrics of the predictions, or classification metrics of the probabilities."""
        if self.target(model_type) is Target.CLASSIFICATION:
            return metrics.classification_metrics(y.astype(np.int64), raw, predicted_class_index(raw, threshold))
        return metrics.regression_metrics(y, raw)
