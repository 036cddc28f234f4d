"""The model types sqlml trains, and what each one is (supervised or not, classifier or regressor).

BigQuery ML's list: https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create
"""

from __future__ import annotations

from enum import Enum


class ModelType(str, Enum):
    """A ``model_type`` value, upper-case as BigQuery's documentation writes it."""

    LINEAR_REG = "LINEAR_REG"
    LOGISTIC_REG = "LOGISTIC_REG"
    BOOSTED_TREE_CLASSIFIER = "BOOSTED_TREE_CLASSIFIER"
    BOOSTED_TREE_REGRESSOR = "BOOSTED_TREE_REGRESSOR"
    RANDOM_FOREST_CLASSIFIER = "RANDOM_FOREST_CLASSIFIER"
    RANDOM_FOREST_REGRESSOR = "RANDOM_FOREST_REGRESSOR"
    KMEANS = "KMEANS"
    PCA = "PCA"
    TRANSFORM_ONLY = "TRANSFORM_ONLY"
    ONNX = "ONNX"
    LIGHTGBM = "LIGHTGBM"

    @property
    def is_classifier(self) -> bool:
        """Predicts a class label."""
        return self in _CLASSIFIERS

    @property
    def is_regressor(self) -> bool:
        """Predicts a number."""
        return self in _REGRESSORS

    @property
    def is_supervised(self) -> bool:
        """Trained on a label column."""
        return self.is_classifier or self.is_regressor

    @property
    def is_tree(self) -> bool:
        """A tree ensemble (no feature standardization, label encoding by default)."""
        return self in _TREES

    @property
    def is_linear(self) -> bool:
        """A generalized linear model."""
        return self in (ModelType.LINEAR_REG, ModelType.LOGISTIC_REG)

    @property
    def is_imported(self) -> bool:
        """Created from an exported file (``model_path``) rather than trained."""
        return self in (ModelType.ONNX, ModelType.LIGHTGBM)


_CLASSIFIERS = {ModelType.LOGISTIC_REG, ModelType.BOOSTED_TREE_CLASSIFIER, ModelType.RANDOM_FOREST_CLASSIFIER}
_REGRESSORS = {ModelType.LINEAR_REG, ModelType.BOOSTED_TREE_REGRESSOR, ModelType.RANDOM_FOREST_REGRESSOR}
_TREES = {
    ModelType.BOOSTED_TREE_CLASSIFIER,
    ModelType.BOOSTED_TREE_REGRESSOR,
    ModelType.RANDOM_FOREST_CLASSIFIER,
    ModelType.RANDOM_FOREST_REGRESSOR,
}

#: BigQuery model types sqlml does not train, with the reason shown to the user.
UNSUPPORTED = {
    "DNN_CLASSIFIER": "deep neural networks need TensorFlow",
    "DNN_REGRESSOR": "deep neural networks need TensorFlow",
    "DNN_LINEAR_COMBINED_CLASSIFIER": "wide-and-deep models need TensorFlow",
    "DNN_LINEAR_COMBINED_REGRESSOR": "wide-and-deep models need TensorFlow",
    "AUTOENCODER": "autoencoders need TensorFlow",
    "MATRIX_FACTORIZATION": "matrix factorization is not implemented yet",
    "ARIMA_PLUS": "time-series models are not implemented yet",
    "ARIMA_PLUS_XREG": "time-series models are not implemented yet",
    "ARIMA": "time-series models are not implemented yet",
    "AUTOML_CLASSIFIER": "AutoML is a Vertex AI service",
    "AUTOML_REGRESSOR": "AutoML is a Vertex AI service",
    "TENSORFLOW": "TensorFlow SavedModels need TensorFlow; export to ONNX and import with model_type='ONNX'",
    "TENSORFLOW_LITE": "TensorFlow Lite models need TensorFlow",
    "XGBOOST": "XGBoost models are not supported; import LightGBM text models with model_type='LIGHTGBM'",
    "CONTRIBUTION_ANALYSIS": "contribution analysis is not implemented",
}
