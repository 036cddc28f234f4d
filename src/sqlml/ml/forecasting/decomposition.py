"""Seasonal decomposition of a regular series: which seasonal periods, and MSTL over them.

BigQuery "detects multiple seasonal patterns" and decomposes the series by STL before the trend's
ARIMA is fitted (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#time_series_modeling_pipeline);
its seasonal periods are named DAILY, WEEKLY, MONTHLY, QUARTERLY and YEARLY (the
``seasonal_periods`` column of ML.ARIMA_EVALUATE). The decomposition is MSTL (Bandara, Hyndman &
Bergmeir 2021): statsmodels' loop over its STL, one STL per period, with R's ``stl()`` settings
(Cleveland et al. 1990) where statsmodels' defaults cost time or accuracy: the trend and low-pass
smoothers evaluated at every ``ceil(window / 10)``-th point with interpolation between, and a
locally constant seasonal smoother for a period with fewer cycles than its window.
statsmodels' STL defaults to evaluating every point, which for a yearly period of daily data
(trend window 635) costs 40× more for the same components (see bench/README.md). The smoothing
itself is statsmodels', never hand-written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sqlml.errors import InvalidOptionError
from sqlml.ml.forecasting.frequency import DataFrequency

#: The seasonal periods each frequency may carry, as (BigQuery's name, length in steps), shortest
#: first. A year of days is 365 steps and of weeks 52 (BigQuery's weekly CO2 tutorial shows YEARLY
#: seasonality); hourly data would need 8,766 steps a year and is left at daily and weekly.
CANDIDATE_PERIODS: dict[DataFrequency, tuple[tuple[str, int], ...]] = {
    DataFrequency.PER_MINUTE: (("DAILY", 1440),),
    DataFrequency.HOURLY: (("DAILY", 24), ("WEEKLY", 168)),
    DataFrequency.DAILY: (("WEEKLY", 7), ("YEARLY", 365)),
    DataFrequency.WEEKLY: (("YEARLY", 52),),
    DataFrequency.MONTHLY: (("QUARTERLY", 3), ("YEARLY", 12)),
    DataFrequency.QUARTERLY: (("YEARLY", 4),),
    DataFrequency.YEARLY: (),
}

#: The values the ``seasonalities`` option accepts; AUTO and NO_SEASONALITY must stand alone.
SEASONALITY_NAMES = ("AUTO", "NO_SEASONALITY", "DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY")

#: The full cycles of a period a series must hold for the period to be modelled.
MIN_CYCLES = 3

#: Under AUTO a candidate period is kept when its seasonal strength (Wang, Smith & Hyndman 2006:
#: 1 - Var(remainder) / Var(seasonal + remainder)) reaches this value; explicit periods are kept.
MIN_SEASONAL_STRENGTH = 0.3

#: The full cycles a period needs to be fitted robustly (see :func:`decompose`).
ROBUST_CYCLES = 4

#: The passes of MSTL's loop over several periods (statsmodels' and R's ``iterate=2``).
MSTL_PASSES = 2


@dataclass
class Decomposition:
    """A series split as ``values = trend + sum(seasonal.values()) + residual``.

    Attributes:
        trend: the trend component.
        seasonal: one component per seasonal period, keyed by BigQuery's period name.
        residual: what is left.
    """

    trend: np.ndarray
    seasonal: dict[str, np.ndarray]
    residual: np.ndarray

    def seasonal_total(self) -> np.ndarray:
        """The sum of the seasonal components (zeros when there are none)."""
        return np.sum(list(self.seasonal.values()), axis=0) if self.seasonal else np.zeros_like(self.trend)


def parse_seasonalities(value: Sequence[str] | str | None) -> tuple[str, ...]:
    """Read the ``seasonalities`` option (None means ``['AUTO']``).

    Raises:
        InvalidOptionError: an unknown name, or AUTO / NO_SEASONALITY listed with others.
    """
    names = ("AUTO",) if value is None else ((value,) if isinstance(value, str) else tuple(value))
    names = tuple(str(name).upper() for name in names)
    unknown = [name for name in names if name not in SEASONALITY_NAMES]
    if unknown or not names:
        raise InvalidOptionError(
            f"The 'seasonalities' option of CREATE MODEL (model_type='ARIMA_PLUS') takes values among "
            f"{', '.join(SEASONALITY_NAMES)}. Got {list(value or [])!r} instead.",
            option="seasonalities",
        )
    if len(names) > 1 and ({"AUTO", "NO_SEASONALITY"} & set(names)):
        raise InvalidOptionError(
            "The 'seasonalities' option of CREATE MODEL (model_type='ARIMA_PLUS') cannot list AUTO or "
            f"NO_SEASONALITY together with other values. Got {list(names)!r}; keep one of them alone.",
            option="seasonalities",
        )
    return names


def candidate_periods(frequency: DataFrequency, length: int, seasonalities: Sequence[str] = ("AUTO",)) -> dict[str, int]:
    """The seasonal periods a series of ``length`` points at ``frequency`` may be decomposed on.

    A period needs at least three full cycles of data (MSTL cannot estimate one longer than half
    the series, and over two cycles a seasonal component soaks up steps, spikes and holidays), and
    with explicit ``seasonalities`` only the named periods are candidates.

    Returns:
        BigQuery's period name → length in steps, shortest first.
    """
    if "NO_SEASONALITY" in seasonalities:
        return {}
    wanted = None if "AUTO" in seasonalities else set(seasonalities)
    return {
        name: period
        for name, period in CANDIDATE_PERIODS[frequency]
        if MIN_CYCLES * period <= length and (wanted is None or name in wanted)
    }


def decompose(values: np.ndarray, periods: dict[str, int], *, robust: bool = False) -> Decomposition:
    """MSTL of ``values`` over ``periods``: statsmodels' MSTL with the reference STL's jumps.

    The loop is statsmodels' ``MSTL.fit`` (periods shortest first, seasonal windows 11, 15, …,
    two passes when there are several periods); each STL gets :func:`stl_settings`. With no
    period the whole series is trend (there is nothing seasonal to take out).

    Args:
        values: the regular series, no missing values.
        periods: period name → length, as :func:`candidate_periods` returns.
        robust: STL's robust fitting, which down-weights outliers (used before spikes are removed),
            with R's ``stl(robust=TRUE)`` iterations (1 inner, 15 outer), for the periods the
            series holds at least :data:`ROBUST_CYCLES` cycles of: with fewer, each
            cycle-subseries has three points, and robustness weights zero out whichever of them
            a line through the other two misses (a whole middle year of a three-year daily
            series became "spikes"), so those periods are fitted plainly.
    """
    values = np.asarray(values, dtype=float)
    if not periods:
        return Decomposition(trend=values.copy(), seasonal={}, residual=np.zeros_like(values))
    from statsmodels.tsa.seasonal import STL  # noqa: PLC0415 - statsmodels is slow to import

    ordered = sorted(periods.items(), key=lambda item: item[1])
    seasonal = np.zeros((len(ordered), len(values)))
    deseasonalised = values
    for _ in range(1 if len(ordered) == 1 else MSTL_PASSES):
        for i, (_name, period) in enumerate(ordered):
            deseasonalised = deseasonalised + seasonal[i]
            robustly = robust and len(values) >= ROBUST_CYCLES * period
            iterations = {"inner_iter": 1, "outer_iter": 15} if robustly else {}
            fit = STL(deseasonalised, robust=robustly, **stl_settings(period, 7 + 4 * (i + 1))).fit(**iterations)
            seasonal[i] = fit.seasonal
            deseasonalised = deseasonalised - seasonal[i]
    return Decomposition(
        trend=np.asarray(fit.trend, dtype=float),
        seasonal={name: seasonal[i] for i, (name, _period) in enumerate(ordered)},
        residual=deseasonalised - fit.trend,
    )


def stl_settings(period: int, seasonal: int) -> dict[str, int]:
    """The STL arguments of one period, on statsmodels' STL.

    The seasonal smoother is a local constant (R's ``stl()`` default ``s.degree = 0``, also
    statsforecast's MSTL): statsmodels' default local line swings at the ends of the
    cycle-subseries with their noise, and the last cycle, which the forecast repeats, with it
    (held-back 30-day forecasts of 1,000 three-year daily series: mean MASE 1.021 with the line
    where a subseries holds a window of points, 0.959 with the constant; statsforecast 0.961).

    The trend window is the next odd integer from ``1.5 * period / (1 - 1.5 / seasonal)``, the
    low-pass window the next odd integer above ``period``; these two long smoothers are evaluated
    every ``ceil(window / 10)`` points (R's ``stl()`` defaults ``t.jump``, ``l.jump``). The
    seasonal smoother runs on cycle-subseries of a few points each, so it stays at every point
    (statsmodels' default): interpolating across cycles would blur the seasonal shape.
    """
    trend = math.ceil(1.5 * period / (1 - 1.5 / seasonal))
    trend += trend % 2 == 0
    low_pass = period + 1 + (period % 2 == 1)
    return {
        "period": period,
        "seasonal": seasonal,
        "seasonal_deg": 0,
        "seasonal_jump": 1,
        "trend_jump": math.ceil(trend / 10),
        "low_pass_jump": math.ceil(low_pass / 10),
    }


def seasonal_strength(component: np.ndarray, residual: np.ndarray) -> float:
    """1 - Var(residual) / Var(component + residual), floored at 0 (Wang, Smith & Hyndman 2006)."""
    total = float(np.var(component + residual))
    return 0.0 if total == 0.0 else max(0.0, 1.0 - float(np.var(residual)) / total)


def robust_decomposition(values: np.ndarray, periods: dict[str, int], seasonalities: Sequence[str] = ("AUTO",)) -> Decomposition:
    """A robust MSTL over the periods the data shows: the fit outliers are measured against.

    Explicitly requested periods are all kept. Under AUTO one robust MSTL over every candidate
    measures each component's seasonal strength against the common residual; the periods below
    0.3 are dropped and the rest decomposed again (the first fit is kept when none is dropped).
    The periods chosen are the keys of the result's ``seasonal``.
    """
    trial = decompose(values, periods, robust=True)
    if "AUTO" not in seasonalities:
        return trial
    kept = {
        name: period
        for name, period in periods.items()
        if seasonal_strength(trial.seasonal[name], trial.residual) >= MIN_SEASONAL_STRENGTH
    }
    return trial if kept == periods else decompose(values, kept, robust=True)
