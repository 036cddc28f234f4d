"""When a distance between two distributions is an anomaly: the metric and threshold per column
kind and per column, as ML.VALIDATE_DATA_SKEW, ML.VALIDATE_DATA_DRIFT and ML.TFDV_VALIDATE take them.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-validate-data-skew —
L_INFTY for categorical columns, JENSEN_SHANNON_DIVERGENCE for numeric ones, default threshold 0.3,
``thresholds`` overriding it per column.
"""

from __future__ import annotations

from sqlml.errors import InvalidOptionError
from sqlml.ml.monitoring.distributions import METRICS

DEFAULT_THRESHOLD = 0.3


def anomaly_rules(function_name: str, settings: dict) -> dict:
    """Metric and threshold per kind, and per-column threshold overrides, from a call's settings.

    Args:
        function_name: the ML function the settings were given to (named in errors).
        settings: the call's settings (``categorical_metric_type``, ``thresholds``, …).

    Returns:
        ``{"metric": {kind: metric}, "default": {kind: threshold}, "columns": {column: threshold}}``.

    Raises:
        InvalidOptionError: an unknown metric, a malformed ``thresholds`` entry, or a threshold
            outside [0, 1).
    """
    categorical = settings.get("categorical_metric_type", "L_INFTY").upper()
    numerical = settings.get("numerical_metric_type", "JENSEN_SHANNON_DIVERGENCE").upper()
    if categorical not in METRICS:
        raise InvalidOptionError(f"categorical_metric_type must be one of {', '.join(METRICS)}; got {categorical}.", option="categorical_metric_type")
    if numerical != "JENSEN_SHANNON_DIVERGENCE":
        raise InvalidOptionError("numerical_metric_type must be JENSEN_SHANNON_DIVERGENCE.", option="numerical_metric_type")
    thresholds = {}
    for entry in settings.get("thresholds") or []:
        if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str) and isinstance(entry[1], (int, float))):
            raise InvalidOptionError(
                f"{function_name} thresholds are [STRUCT('column', 0.2), …]; got {entry!r}.", option="thresholds"
            )
        thresholds[entry[0].lower()] = float(entry[1])
    defaults = {
        "categorical": float(settings.get("categorical_default_threshold", DEFAULT_THRESHOLD)),
        "numeric": float(settings.get("numerical_default_threshold", DEFAULT_THRESHOLD)),
    }
    for name, value in [*defaults.items(), *thresholds.items()]:
        if not 0.0 <= value < 1.0:
            raise InvalidOptionError(f"Thresholds must lie in [0, 1); {name} has {value}.", option="thresholds")
    return {"metric": {"categorical": categorical, "numeric": numerical}, "default": defaults, "columns": thresholds}
