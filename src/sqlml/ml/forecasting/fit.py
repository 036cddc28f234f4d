"""The trend model of one series: non-seasonal ARIMA(p, d, q), chosen by AIC as BigQuery does.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series
— with ``auto_arima=TRUE`` the order d comes from the KPSS test and every (p, q) with
``auto_arima_min_order ≤ p + q ≤ auto_arima_max_order`` is fitted, with and without drift when
d = 1 ("candidates: 1→3, 2→6, 3→10 … doubled when d=1"); the lowest AIC wins. With
``auto_arima=FALSE`` the one model ``non_seasonal_order`` (drift when ``include_drift``) is fitted.

The statistics are statsforecast's (``ndiffs`` for d, ``Arima`` for each candidate, as its
``auto_arima_f`` does); this module only enumerates BigQuery's candidates and keeps them all,
since ML.ARIMA_EVALUATE can show every candidate. Up to 150 points every candidate is fitted by
CSS-ML. Longer series follow auto.ARIMA's approximation (Hyndman & Khandakar 2008, and
``auto_arima_f``'s default ``approximation = len(x) > 150``): every candidate is fitted by
conditional sum of squares and ranked by its approximate AIC (offset by an exact ARIMA(0, d, 0)
fit), then the best is refitted by CSS-ML (the next one if that fails). A 1,095-point series'
42 candidates take ≈1 s instead of ≈3 s; the other candidates keep their approximate
log-likelihood and AIC.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from sqlml.ml.forecasting.state import ArimaState

#: The fewest points a series needs (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#limitations).
MIN_POINTS = 3
#: The largest p and q BigQuery's auto.ARIMA considers.
MAX_PQ = 5
#: Above this many points candidates are compared by their CSS fits (auto.ARIMA's approximation).
APPROXIMATION_POINTS = 150


@dataclass
class TrendFit:
    """The fitted trend model of one series, or why it could not be fitted.

    Attributes:
        best: the chosen model (None when the series failed).
        candidates: every candidate that fitted, the chosen one first, then by AIC.
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
    orders = candidate_orders(values, options)
    if len(values) > APPROXIMATION_POINTS and len(orders) > 1:
        candidates, failures = _approximate_candidates(values, orders)
    else:
        candidates, failures = _fitted(values, orders)
        candidates.sort(key=_by_aic)
    if not candidates:
        return TrendFit(None, error="No ARIMA model could be fitted: " + "; ".join(failures))
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

    with _quiet():
        fitted = Arima(values, order=order, include_mean=order[1] == 0, include_drift=drift, method="CSS-ML")
    return ArimaState.from_fit(fitted, values)


def _fitted(values: np.ndarray, orders: list[tuple[tuple[int, int, int], bool]]) -> tuple[list[ArimaState], list[str]]:
    # Each order fitted by CSS-ML; the failures as "ARIMA(p, d, q): reason".
    candidates, failures = [], []
    for order, drift in orders:
        try:
            candidates.append(fit_order(values, order, drift))
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:  # statsforecast's failures
            failures.append(f"ARIMA{order}: {error}")
    return candidates, failures


def _approximate_candidates(values: np.ndarray, orders: list[tuple[tuple[int, int, int], bool]]) -> tuple[list[ArimaState], list[str]]:
    # auto_arima_f's approximation: each candidate by statsforecast's own CSS candidate fit
    # (``myarima``: AIC from the CSS variance plus the offset, inf for a near-unit root), ranked;
    # the best refitted by CSS-ML, or the next when that fails.
    from statsforecast.arima import myarima

    offset = _aic_offset(values, orders[0][0][1])
    ranked, failures = [], []
    for order, drift in orders:
        try:
            with _quiet():
                fitted = myarima(values, order=order, constant=drift or order[1] == 0, approximation=True, offset=offset)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
            fitted = {"error": error}
        if "arma" not in fitted:
            failures.append(f"ARIMA{order}: {fitted.get('error', 'the conditional-sum-of-squares fit failed')}")
            continue
        ranked.append((float(fitted["ic"]), ArimaState.from_fit(fitted, values)))
    ranked.sort(key=lambda pair: (np.isnan(pair[0]), pair[0]))
    states = [state for _, state in ranked]
    for index, state in enumerate(states):
        exact, failed = _fitted(values, [(state.order, state.has_drift)])
        if exact and np.isfinite(exact[0].aic):
            return exact + states[:index] + states[index + 1 :], failures + failed
        failures += failed
    return [], failures


def _aic_offset(values: np.ndarray, d: int) -> float:
    # auto_arima_f's offset: -2 log L - n log(sigma2) of an exact ARIMA(0, d, 0) fit (0 if it fails).
    from statsforecast.arima import arima

    try:
        with _quiet():
            fitted = arima(values, order=(0, d, 0))
        return float(-2 * fitted["loglik"] - len(values) * np.log(fitted["sigma2"]))
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):
        return 0.0


@contextmanager
def _quiet() -> Iterator[None]:
    # scipy's optimizer and statsforecast ("possible convergence problem") warn about fits that
    # then fail or are ranked by AIC like any other.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def _by_aic(state: ArimaState) -> tuple[bool, float]:
    return (bool(np.isnan(state.aic)), state.aic)
