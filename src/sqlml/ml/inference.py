"""Standard errors of linear and logistic regression weights (``calculate_p_values=TRUE``).

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-advanced-weights —
BigQuery reports them for LINEAR_REG and binary LOGISTIC_REG trained with DUMMY_ENCODING and no L1
penalty (one-hot indicators and the intercept are collinear; an L1 fit has no such covariance).
The covariance of the fitted weights, intercept last, over the training rows' standardized features:

* linear regression: ``σ² (XᵀX)⁻¹`` with ``σ²`` the residual variance on ``n − p`` degrees of freedom;
* logistic regression: the inverse Fisher information ``(Xᵀ W X)⁻¹``, ``W = p̂ (1 − p̂)``.

The p-value of a weight is two-sided under the normal approximation, ``2 (1 − Φ(|β| / σ))``.
"""

from __future__ import annotations

import math

import numpy as np

from sqlml.errors import InvalidOptionError
from sqlml.ml.modeltypes import ModelType


def check_p_value_options(model_type: ModelType, options: dict, n_classes: int) -> None:
    """``calculate_p_values`` needs what BigQuery needs; else a clear error naming the option."""
    if not options.get("calculate_p_values"):
        return
    if model_type not in (ModelType.LINEAR_REG, ModelType.LOGISTIC_REG) or n_classes > 2:
        raise InvalidOptionError(
            "calculate_p_values applies to LINEAR_REG and binary LOGISTIC_REG models.", option="calculate_p_values"
        )
    if (options.get("category_encoding_method") or "ONE_HOT_ENCODING").upper() != "DUMMY_ENCODING":
        raise InvalidOptionError(
            "calculate_p_values needs category_encoding_method='DUMMY_ENCODING' (one-hot columns are collinear with the intercept).",
            option="calculate_p_values",
        )
    if options.get("l1_reg"):
        raise InvalidOptionError("calculate_p_values needs l1_reg=0: an L1 fit has no standard errors.", option="calculate_p_values")


def weight_covariance(estimator, X: np.ndarray, y: np.ndarray, logistic: bool) -> np.ndarray:
    """The covariance matrix of (weights…, intercept) at the fitted values."""
    design = np.column_stack([X, np.ones(len(X))])
    coef = np.append(np.ravel(estimator.coef_), float(np.ravel(estimator.intercept_)[0]))
    linear = design @ coef
    if logistic:
        probability = 1.0 / (1.0 + np.exp(-linear))
        information = design.T @ (design * (probability * (1.0 - probability))[:, None])
        return np.linalg.pinv(information)
    residuals = y - linear
    freedom = max(len(y) - design.shape[1], 1)
    return float(residuals @ residuals) / freedom * np.linalg.pinv(design.T @ design)


def p_value(weight: float, standard_error: float) -> float:
    """Two-sided p-value of ``weight`` under the normal approximation."""
    if not standard_error or math.isnan(standard_error):
        return math.nan
    return math.erfc(abs(weight) / standard_error / math.sqrt(2.0))
