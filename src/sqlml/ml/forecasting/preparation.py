"""BigQuery's preparation of one ARIMA_PLUS series, in one call: :func:`prepare`.

The steps follow BigQuery's time series modeling pipeline
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#time_series_modeling_pipeline):
infer the frequency, average duplicated timestamps, fill gaps on the regular grid by local
linear interpolation, clean spikes and dips, adjust step changes, take out holiday effects and
decompose the several seasonalities by STL (MSTL). What is left — trend plus residual — is the
series the trend's ARIMA is fitted on (``PreparedSeries.adjusted``); every component is kept for
ML.EXPLAIN_FORECAST, so that ``values == trend + seasonal… + holiday_effect + spikes_and_dips +
step_changes + residual`` holds point by point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sqlml.errors import InvalidModelInputError
from sqlml.ml.forecasting import decomposition, holidays, outliers
from sqlml.ml.forecasting.frequency import DataFrequency, regular_grid, resolve_frequency, snap_to_grid

#: BigQuery fits a series of at least three points.
MIN_POINTS = 3

#: Holiday effects apply to daily and weekly series spanning more than a year (see holidays.py).
HOLIDAY_FREQUENCIES = (DataFrequency.DAILY, DataFrequency.WEEKLY)


@dataclass(frozen=True)
class PreparationOptions:
    """The CREATE MODEL options that shape the preparation, with BigQuery's defaults.

    Attributes:
        data_frequency: ``AUTO_FREQUENCY`` or one of the concrete frequencies.
        clean_spikes_and_dips: whether spikes and dips are found and taken out.
        adjust_step_changes: whether step changes are found and taken out.
        holiday_region: a region, a list of them, or None for no holiday modelling.
        custom_holidays: the rows of a ``custom_holiday AS (…)`` query, or None.
        seasonalities: ``['AUTO']``, ``['NO_SEASONALITY']`` or period names.
    """

    data_frequency: str | DataFrequency | None = DataFrequency.AUTO_FREQUENCY
    clean_spikes_and_dips: bool = True
    adjust_step_changes: bool = True
    holiday_region: str | Sequence[str] | None = None
    custom_holidays: pd.DataFrame | None = None
    seasonalities: Sequence[str] | str | None = ("AUTO",)


@dataclass
class PreparedSeries:
    """One series on its regular grid, cleaned and decomposed.

    Attributes:
        timestamps: the regular grid, from the first to the last timestamp.
        values: the series on that grid: duplicates averaged, gaps interpolated.
        interpolated: True where a value was filled in (no data at that grid point).
        frequency: the data frequency (inferred or checked).
        seasonal_periods: the seasonal periods modelled, BigQuery's name → length in steps.
        trend: MSTL's trend of the cleaned series.
        seasonal: one component per seasonal period (``seasonal_period_<name>`` in EXPLAIN_FORECAST).
        holiday_effect: the sum of the holiday effects.
        holiday_effects: each holiday's effect, by holiday name.
        spikes_and_dips: the spikes and dips taken out.
        step_changes: the step changes taken out (zero over the latest level).
        residual: what is left.
        adjusted: trend + residual: the series the trend's ARIMA model is fitted on.
    """

    timestamps: pd.DatetimeIndex
    values: np.ndarray
    interpolated: np.ndarray
    frequency: DataFrequency
    seasonal_periods: dict[str, int]
    trend: np.ndarray
    seasonal: dict[str, np.ndarray]
    holiday_effect: np.ndarray
    spikes_and_dips: np.ndarray
    step_changes: np.ndarray
    residual: np.ndarray
    adjusted: np.ndarray
    holiday_effects: dict[str, np.ndarray] = field(default_factory=dict)

    def seasonal_total(self) -> np.ndarray:
        """The sum of the seasonal components (zeros without seasonality)."""
        return np.sum(list(self.seasonal.values()), axis=0) if self.seasonal else np.zeros_like(self.values)


def regularize(timestamps: pd.DatetimeIndex, values: np.ndarray, frequency: DataFrequency) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """Put a series on its regular grid: duplicates averaged, gaps linearly interpolated.

    Each timestamp goes to its grid point (the latest at or before it); points sharing one are
    averaged, as BigQuery "handles duplicated timestamps by taking the mean value"; a grid point
    with no data gets the straight line between its two nearest neighbours with data (local
    linear interpolation).

    Returns:
        The grid, the values on it, and a mask of the interpolated points.
    """
    slots = snap_to_grid(timestamps, frequency)
    means = pd.Series(values, index=slots).groupby(level=0).mean()
    grid = regular_grid(slots.min(), slots.max(), frequency).as_unit("ns")
    known = grid.isin(means.index)
    filled = np.interp(grid.asi8.astype(float), means.index.asi8.astype(float), means.to_numpy(dtype=float))
    return grid, filled, ~known


def prepare(timestamps: Sequence | pd.DatetimeIndex, values: Sequence[float] | np.ndarray, options: PreparationOptions | None = None) -> PreparedSeries:
    """Prepare one series BigQuery's way for the trend's ARIMA model and ML.EXPLAIN_FORECAST.

    Args:
        timestamps: the series' timestamps (any order; duplicates allowed).
        values: the data column; NULL (NaN) values are dropped like missing points.
        options: the CREATE MODEL options that matter here (BigQuery's defaults when None).

    Returns:
        The series on its regular grid with each component; see :class:`PreparedSeries`.

    Raises:
        InvalidModelInputError: fewer than three points with data.
        InvalidOptionError: ``data_frequency``, ``holiday_region``, ``seasonalities`` or the
            custom holidays are invalid, or the data does not follow ``data_frequency``.
    """
    options = options or PreparationOptions()
    stamps, numbers = _points(timestamps, values)
    frequency = resolve_frequency(stamps, options.data_frequency)
    grid, series, interpolated = regularize(stamps, numbers, frequency)
    seasonalities = decomposition.parse_seasonalities(options.seasonalities)
    periods = decomposition.candidate_periods(frequency, len(series), seasonalities)
    first = decomposition.robust_decomposition(series, periods, seasonalities)
    periods = {name: periods[name] for name in first.seasonal}
    fit = first.trend + first.seasonal_total()
    positions = _holiday_positions(grid, frequency, options)
    effects = holidays.holiday_effects(series - fit, positions)
    holiday = _total(effects, len(series))
    # Steps first (their detector compares medians, which spikes do not move), so that the robust
    # fit spikes are measured against does not smooth across a step and flag its edges.
    steps = np.zeros_like(series)
    if options.adjust_step_changes:
        steps = outliers.step_changes(series - holiday - first.seasonal_total())
    spikes = np.zeros_like(series)
    if options.clean_spikes_and_dips:
        if steps.any():
            first = decomposition.decompose(series - steps, periods, robust=True)
            fit = first.trend + first.seasonal_total() + steps
        spikes = outliers.spikes_and_dips(series, fit + holiday, keep=_covered(positions, len(series)))
    final = decomposition.decompose(series - spikes - steps - holiday, periods)
    return PreparedSeries(
        timestamps=grid,
        values=series,
        interpolated=interpolated,
        frequency=frequency,
        seasonal_periods=periods,
        trend=final.trend,
        seasonal=final.seasonal,
        holiday_effect=holiday,
        holiday_effects=effects,
        spikes_and_dips=spikes,
        step_changes=steps,
        residual=final.residual,
        adjusted=final.trend + final.residual,
    )


def _points(timestamps: Sequence | pd.DatetimeIndex, values: Sequence[float] | np.ndarray) -> tuple[pd.DatetimeIndex, np.ndarray]:
    # The points with both a timestamp and a value, as a DatetimeIndex (naive UTC) and floats.
    stamps = pd.DatetimeIndex(pd.to_datetime(timestamps)).as_unit("ns")  # one unit for the grid arithmetic
    if stamps.tz is not None:
        stamps = stamps.tz_convert("UTC").tz_localize(None)
    numbers = np.asarray(values, dtype=float)
    present = ~np.isnan(numbers) & ~stamps.isna()
    stamps, numbers = stamps[present], numbers[present]
    if len(np.unique(stamps.asi8)) < MIN_POINTS:
        raise InvalidModelInputError(
            f"A time series needs at least {MIN_POINTS} points with a timestamp and a value to be modelled; "
            f"this one has {len(np.unique(stamps.asi8))}. Add data or leave the series out.",
        )
    return stamps, numbers


def _holiday_positions(grid: pd.DatetimeIndex, frequency: DataFrequency, options: PreparationOptions) -> dict[str, list[tuple[int, int]]]:
    # Holidays are modelled for daily and weekly series longer than a year that asked for them.
    regions = holidays.parse_regions(options.holiday_region)
    if not regions or frequency not in HOLIDAY_FREQUENCIES or grid[-1] - grid[0] <= pd.Timedelta(days=365):
        return {}
    years = range(grid[0].year, grid[-1].year + 1)
    calendar = holidays.holiday_calendar(regions, years, options.custom_holidays)
    return holidays.holiday_positions(grid, calendar)


def _total(effects: dict[str, np.ndarray], length: int) -> np.ndarray:
    return np.sum(list(effects.values()), axis=0) if effects else np.zeros(length)


def _covered(positions: dict[str, list[tuple[int, int]]], length: int) -> np.ndarray:
    # True on the grid points some holiday window covers.
    mask = np.zeros(length, dtype=bool)
    for pairs in positions.values():
        mask[[slot for slot, _ in pairs]] = True
    return mask
