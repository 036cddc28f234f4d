"""The model types sqlml ships, and BigQuery's model types it does not train (with the reason).

BigQuery ML's list: https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create
"""

from __future__ import annotations

from enum import StrEnum


class ModelType(StrEnum):
    """A built-in ``model_type`` value, upper-case as BigQuery's documentation writes it.

    Model types are strings at every seam; which family owns one is :mod:`sqlml.ml.models.catalog`'s
    business, and a registered family may bring types that are not members here.
    """

    LINEAR_REG = "LINEAR_REG"
    LOGISTIC_REG = "LOGISTIC_REG"
    BOOSTED_TREE_CLASSIFIER = "BOOSTED_TREE_CLASSIFIER"
    BOOSTED_TREE_REGRESSOR = "BOOSTED_TREE_REGRESSOR"
    RANDOM_FOREST_CLASSIFIER = "RANDOM_FOREST_CLASSIFIER"
    RANDOM_FOREST_REGRESSOR = "RANDOM_FOREST_REGRESSOR"
    DNN_CLASSIFIER = "DNN_CLASSIFIER"
    DNN_REGRESSOR = "DNN_REGRESSOR"
    DNN_LINEAR_COMBINED_CLASSIFIER = "DNN_LINEAR_COMBINED_CLASSIFIER"
    DNN_LINEAR_COMBINED_REGRESSOR = "DNN_LINEAR_COMBINED_REGRESSOR"
    KMEANS = "KMEANS"
    PCA = "PCA"
    AUTOENCODER = "AUTOENCODER"
    TRANSFORM_ONLY = "TRANSFORM_ONLY"
    ONNX = "ONNX"
    LIGHTGBM = "LIGHTGBM"
    ARIMA_PLUS = "ARIMA_PLUS"
    ARIMA_PLUS_XREG = "ARIMA_PLUS_XREG"
    MATRIX_FACTORIZATION = "MATRIX_FACTORIZATION"
    XGBOOST = "XGBOOST"
    CONTRIBUTION_ANALYSIS = "CONTRIBUTION_ANALYSIS"
    AUTOML_CLASSIFIER = "AUTOML_CLASSIFIER"
    AUTOML_REGRESSOR = "AUTOML_REGRESSOR"


#: BigQuery model types sqlml does not train, with the reason shown to the user.
UNSUPPORTED = {
    "TENSORFLOW": "TensorFlow SavedModels need TensorFlow; export to ONNX and import with model_type='ONNX'",
    "TENSORFLOW_LITE": "TensorFlow Lite models need TensorFlow",
}

#: Older spellings BigQuery still accepts, trained as the model type they name now: ``ARIMA`` is
#: ARIMA_PLUS's name before its 2021 rename, which notebooks of that time write
#: (GoogleCloudPlatform/analytics-componentized-patterns bqml_retail_demand_forecasting.ipynb).
RENAMED = {"ARIMA": ModelType.ARIMA_PLUS.value}
