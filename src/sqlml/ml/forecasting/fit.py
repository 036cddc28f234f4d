"""The trend model of one series: non-seasonal ARIMA(p, d, q), chosen by AIC as BigQuery does.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series
— with ``auto_arima=TRUE`` the order d comes from the KPSS test and every (p, q) with
``auto_arima_min_order ≤ p + q ≤ auto_arima_max_order`` is fitted, with and without drift when
d = 1 ("candidates: 1→3, 2→6, 3→10 … doubled when d=1"); the lowest AIC wins. With
``auto_arima=FALSE`` the one model ``non_seasonal_order`` (drift when ``include_drift``) is fitted.

The statistics are statsforecast's (``ndiffs`` for d, ``Arima`` with CSS-ML for each candidate,
as its ``auto_arima_f`` does); this module only enumerates BigQuery's candidates and keeps them
all, since ML.ARIMA_EVALUATE can show every candidate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from sqlml.ml.forecasting.state import ArimaState

#: The fewest points a series needs (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#limitations).
MIN_POINTS = 3
#: The largest p and q BigQuery's auto.ARIMA considers.
MAX_PQ = 5


@dataclass
class TrendFit:
    """The fitted trend model of one series, or why it could not be fitted.

    Attributes:
        best: the chosen model (None when the series failed).
        candidates: every candidate that fitted, best first by AIC.
        error: why the series failed (None when it did not), for ML.ARIMA_EVALUATE's
            ``error_message``.
    """

    best: ArimaState | None
    candidates: list[ArimaState] = field(default_factory=list)
    error: str | None = None


def fit_trend(values: np.ndarray, options: dict) -> TrendFit:
    """Fit the trend model of a regular series (no missing values) with the resolved options.

    Args:
        values: the prepared series, oldest first.
        options: the model's resolved options (``auto_arima``, ``auto_arima_max_order``,
            ``auto_arima_min_order``, ``non_seasonal_order``, ``include_drift``).
    """
    values = np.asarray(values, dtype=np.float64)
    if len(values) < MIN_POINTS:
        return TrendFit(None, error=f"The time series has {len(values)} point(s); ARIMA_PLUS needs at least {MIN_POINTS}.")
    if not np.all(np.isfinite(values)):
        return TrendFit(None, error="The time series has missing or infinite values after preparation.")
    candidates, failures = [], []
    for order, drift in candidate_orders(values, options):
        try:
            candidates.append(fit_order(values, order, drift))
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:  # statsforecast's failures
            failures.append(f"ARIMA{order}: {error}")
    if not candidates:
        return TrendFit(None, error="No ARIMA model could be fitted: " + "; ".join(failures))
    candidates.sort(key=lambda state: (np.isnan(state.aic), state.aic))
    return TrendFit(candidates[0], candidates)


def candidate_orders(values: np.ndarray, options: dict) -> list[tuple[tuple[int, int, int], bool]]:
    """The ``((p, d, q), drift)`` models to fit: BigQuery's candidates, or the one asked for."""
    if not options.get("auto_arima", True):
        p, d, q = options["non_seasonal_order"]
        return [((p, d, q), bool(options.get("include_drift")) and d == 1)]
    from statsforecast.arima import ndiffs

    d = int(ndiffs(values, max_d=2)) if len(values) > MIN_POINTS else 0
    d = min(d, len(values) - MIN_POINTS + 1)  # a differenced series must keep points to fit
    low, high = options.get("auto_arima_min_order") or 0, options.get("auto_arima_max_order") or 2
    orders = []
    for total in range(low, high + 1):
        for p in range(min(total, MAX_PQ), -1, -1):
            q = total - p
            if q <= MAX_PQ:
                orders.append(((p, d, q), False))
                if d == 1:
                    orders.append(((p, d, q), True))
    return orders


def fit_order(values: np.ndarray, order: tuple[int, int, int], drift: bool) -> ArimaState:
    """One ARIMA model fitted by statsforecast (CSS-ML; a mean when d = 0, as auto.ARIMA)."""
    from statsforecast.arima import Arima

    with warnings.catch_warnings():  # scipy's optimizer warns on the way to a failure it then raises
        warnings.simplefilter("ignore", RuntimeWarning)
        fitted = Arima(values, order=order, include_mean=order[1] == 0, include_drift=drift, method="CSS-ML")
    return ArimaState.from_fit(fitted, values)
