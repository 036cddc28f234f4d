"""Standard errors of linear and logistic regression weights (``calculate_p_values=TRUE``).

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-advanced-weights —
BigQuery reports them for LINEAR_REG and binary LOGISTIC_REG trained with DUMMY_ENCODING and no L1
penalty (one-hot indicators and the intercept are collinear; an L1 fit has no such covariance).
The covariance of the fitted weights, intercept last, over the training rows' standardized features:

* linear regression: ``σ² (XᵀX)⁻¹`` with ``σ²`` the residual variance on ``n − p`` degrees of freedom
  (statsmodels' OLS ``bse``);
* logistic regression: the inverse Fisher information ``(Xᵀ V X)⁻¹``, ``V = w p̂ (1 − p̂)`` with ``w``
  the rows' class weights (1 without them).

The p-value of a weight is the page's formula, ``2 * (1 - stats.norm.cdf(abs(β), loc=0, scale=σ))``:
two-sided under the normal distribution, for linear and logistic models alike. The total
cardinality of the features must stay below 1,000 (the page's limitation).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sqlml.errors import InvalidModelInputError, InvalidOptionError

if TYPE_CHECKING:
    from sqlml.ml.models.linear_estimator import LinearModel

#: https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-advanced-weights#limitations
MAX_CARDINALITY = 1000


def check_p_value_options(options: dict, n_classes: int) -> None:
    """``calculate_p_values`` needs what BigQuery needs; else a clear error naming the option."""
    if not options.get("calculate_p_values"):
        return
    if n_classes > 2:
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


def weight_covariance(estimator: LinearModel, X: np.ndarray, y: np.ndarray, logistic: bool, weights: np.ndarray | None = None) -> np.ndarray:
    """The covariance matrix of (weights…, intercept) at the fitted values.

    Args:
        estimator: the fitted linear model (``coef_``, ``intercept_``, ``options``).
        X: the training rows' standardized features.
        y: the training label (0/1 for logistic regression).
        logistic: logistic (inverse Fisher information) rather than linear regression.
        weights: each row's class weight, or None.

    Raises:
        InvalidModelInputError: 1,000 features or more (BigQuery's limit for p-values).
    """
    if X.shape[1] >= MAX_CARDINALITY:
        raise InvalidModelInputError(
            f"calculate_p_values needs fewer than {MAX_CARDINALITY:,} features after encoding; this model has {X.shape[1]:,}.",
            hint="Drop or bucket high-cardinality columns, or train without calculate_p_values.",
        )
    fit_intercept = estimator.options.get("fit_intercept", True)
    design = np.column_stack([X, np.ones(len(X))]) if fit_intercept else X
    coef = np.ravel(estimator.coef_)
    linear = X @ coef + float(np.ravel(estimator.intercept_)[0])
    w = np.ones(len(X)) if weights is None else np.asarray(weights, dtype=np.float64)
    if logistic:
        probability = 1.0 / (1.0 + np.exp(-linear))
        covariance = np.linalg.pinv(design.T @ (design * (w * probability * (1.0 - probability))[:, None]))
    else:
        residuals = y - linear
        freedom = max(len(y) - design.shape[1], 1)
        covariance = float(residuals @ residuals) / freedom * np.linalg.pinv(design.T @ design)
    if not fit_intercept:
        # no intercept was estimated: it has no variance
        covariance = np.pad(covariance, ((0, 1), (0, 1)))
    return covariance


def p_value(weight: float, standard_error: float) -> float:
    """Two-sided p-value of ``weight`` under the normal distribution (NaN without a standard error)."""
    if not standard_error or math.isnan(standard_error):
        return math.nan
    return math.erfc(abs(weight) / standard_error / math.sqrt(2.0))
