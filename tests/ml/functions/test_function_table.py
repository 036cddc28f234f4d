"""The ML table functions' table: read from the modules ``sqlml.ml.functions`` imports by name,
complete as soon as the package is imported (no registration by importing modules named as strings)."""

from __future__ import annotations

import subprocess
import sys

from sqlml.ml.functions import FUNCTIONS

EXPECTED = [
    "ADVANCED_WEIGHTS", "ARIMA_COEFFICIENTS", "ARIMA_EVALUATE", "CENTROIDS", "CONFUSION_MATRIX", "DESCRIBE_DATA", "DETECT_ANOMALIES",
    "ENTITY_FEATURES_AT_TIME", "EVALUATE", "EVALUATE_FAIRNESS", "EXPLAIN_FORECAST", "EXPLAIN_PREDICT", "FEATURES_AT_TIME",
    "FEATURE_IMPORTANCE", "FEATURE_INFO", "FORECAST",
    "GENERATE_EMBEDDING", "GET_INSIGHTS", "GLOBAL_EXPLAIN", "HOLIDAY_INFO", "PREDICT", "PRINCIPAL_COMPONENTS", "PRINCIPAL_COMPONENT_INFO",
    "RECOMMEND", "RECONSTRUCTION_LOSS", "ROC_CURVE", "TFDV_DESCRIBE",
    "TRAINING_INFO", "TRANSFORM", "TRIAL_INFO", "VALIDATE_DATA_DRIFT", "VALIDATE_DATA_SKEW", "VERSIONS", "WEIGHTS",
]  # fmt: skip


def test_every_function_is_in_the_table_under_the_name_it_is_marked_with():
    assert sorted(FUNCTIONS) == EXPECTED
    assert all(FUNCTIONS[name].ml_function_name == name for name in EXPECTED)


def test_the_table_is_complete_once_the_package_alone_is_imported():
    code = "import sys; from sqlml.ml.functions import FUNCTIONS; print(len(FUNCTIONS))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == str(len(EXPECTED))

