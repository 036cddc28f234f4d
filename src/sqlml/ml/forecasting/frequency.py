"""The data frequency of a time series: inferred from its timestamps, or checked against them.

BigQuery's pipeline starts by inferring the frequency of each series and then handles irregular
intervals on that grid (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#time_series_modeling_pipeline);
``data_frequency`` names the frequency instead of inferring it and must then agree with the data.
"""

from __future__ import annotations

from enum import Enum

import numpy as np
import pandas as pd

from sqlml.errors import InvalidOptionError


class DataFrequency(str, Enum):
    """The values of the ``data_frequency`` option (``AUTO_FREQUENCY`` asks for inference)."""

    AUTO_FREQUENCY = "AUTO_FREQUENCY"
    PER_MINUTE = "PER_MINUTE"
    HOURLY = "HOURLY"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"
    YEARLY = "YEARLY"


#: Each concrete frequency's step on the calendar, for one step from a point. Grids are built by
#: :func:`grid_points`: stepping a month offset repeatedly drifts (31 January, 29 February, 29 March …).
STEPS: dict[DataFrequency, pd.DateOffset] = {
    DataFrequency.PER_MINUTE: pd.DateOffset(minutes=1),
    DataFrequency.HOURLY: pd.DateOffset(hours=1),
    DataFrequency.DAILY: pd.DateOffset(days=1),
    DataFrequency.WEEKLY: pd.DateOffset(weeks=1),
    DataFrequency.MONTHLY: pd.DateOffset(months=1),
    DataFrequency.QUARTERLY: pd.DateOffset(months=3),
    DataFrequency.YEARLY: pd.DateOffset(years=1),
}

#: The frequencies whose step is a fixed duration (no months or years in it).
FIXED_STEPS = (DataFrequency.PER_MINUTE, DataFrequency.HOURLY, DataFrequency.DAILY, DataFrequency.WEEKLY)

#: The months in one step of each calendar frequency.
MONTHS: dict[DataFrequency, int] = {DataFrequency.MONTHLY: 1, DataFrequency.QUARTERLY: 3, DataFrequency.YEARLY: 12}

#: The TIMESTAMP_TRUNC part that puts a timestamp on each frequency's points.
TRUNCATION: dict[DataFrequency, str] = {
    DataFrequency.PER_MINUTE: "MINUTE", DataFrequency.HOURLY: "HOUR", DataFrequency.DAILY: "DAY", DataFrequency.WEEKLY: "WEEK",
    DataFrequency.MONTHLY: "MONTH", DataFrequency.QUARTERLY: "QUARTER", DataFrequency.YEARLY: "YEAR",
}  # fmt: skip

#: The nominal length of each step in seconds (a month is 365.25 / 12 days), for inference.
NOMINAL_SECONDS: dict[DataFrequency, float] = {
    DataFrequency.PER_MINUTE: 60.0,
    DataFrequency.HOURLY: 3600.0,
    DataFrequency.DAILY: 86400.0,
    DataFrequency.WEEKLY: 7 * 86400.0,
    DataFrequency.MONTHLY: 365.25 / 12 * 86400.0,
    DataFrequency.QUARTERLY: 365.25 / 4 * 86400.0,
    DataFrequency.YEARLY: 365.25 * 86400.0,
}


def parse_frequency(value: str | DataFrequency | None) -> DataFrequency:
    """Read the ``data_frequency`` option (any case; None means ``AUTO_FREQUENCY``).

    Raises:
        InvalidOptionError: the value is not one of BigQuery's frequencies.
    """
    if value is None:
        return DataFrequency.AUTO_FREQUENCY
    try:
        return DataFrequency(str(value.value if isinstance(value, DataFrequency) else value).upper())
    except ValueError:
        known = ", ".join(f.value for f in DataFrequency)
        raise InvalidOptionError(
            f"The 'data_frequency' option of CREATE MODEL (model_type='ARIMA_PLUS') must be one of {known}. "
            f"Got {value!r} instead.",
            option="data_frequency",
        ) from None


def infer_frequency(timestamps: pd.DatetimeIndex) -> DataFrequency:
    """The frequency whose step is nearest (on a log scale) to the series' typical interval.

    The typical interval is the median of the gaps between distinct timestamps, so a few missing
    points or a few extra ones do not change the answer; a series with a single distinct timestamp
    is called DAILY (nothing else can be told from it).

    Args:
        timestamps: the series' timestamps, in any order, duplicates allowed.
    """
    distinct = np.unique(timestamps.as_unit("ns").asi8)
    if distinct.size < 2:
        return DataFrequency.DAILY
    typical = float(np.median(np.diff(distinct))) / 1e9
    names = list(NOMINAL_SECONDS)
    distances = [abs(np.log(typical / NOMINAL_SECONDS[name])) for name in names]
    return names[int(np.argmin(distances))]


def regular_grid(start: pd.Timestamp, end: pd.Timestamp, frequency: DataFrequency) -> pd.DatetimeIndex:
    """Every step of ``frequency`` from ``start`` up to ``end`` inclusive (see :func:`grid_points`)."""
    if frequency in FIXED_STEPS:
        count = (end - start) // pd.Timedelta(seconds=NOMINAL_SECONDS[frequency]) + 1
    else:
        count = ((end.year - start.year) * 12 + end.month - start.month) // MONTHS[frequency] + 1
    points = grid_points(start, max(int(count), 0), frequency)
    return points[points <= end]


def grid_points(start: pd.Timestamp, count: int, frequency: DataFrequency) -> pd.DatetimeIndex:
    """``count`` steps of ``frequency`` from ``start``: point k is ``start`` + k steps.

    Fixed steps (per minute … weekly) are plain arithmetic. Months, quarters and years are counted
    from ``start`` itself, never stepped from the previous point, so the day of the month does
    not drift (pandas' repeated ``DateOffset(months=1)`` takes 31 January to 29 February, then
    29 March, 29 April …): a day past a month's end becomes that month's last day, and a start on
    a month's last day keeps every point on its month's last day (31 January, 29 February,
    31 March, 30 April …). The time of day is kept.
    """
    steps = np.arange(count, dtype=np.int64)
    if frequency in FIXED_STEPS:
        return start + pd.to_timedelta(steps * int(NOMINAL_SECONDS[frequency]), unit="s")
    months = np.datetime64(f"{start.year:04d}-{start.month:02d}", "M") + steps * MONTHS[frequency]
    first_days = months.astype("datetime64[D]")
    lengths = ((months + 1).astype("datetime64[D]") - first_days).astype(np.int64)
    days = lengths if start.is_month_end else np.minimum(start.day, lengths)
    points = (pd.DatetimeIndex(first_days + (days - 1)) + (start - start.normalize())).as_unit(start.unit)
    return points.tz_localize(start.tz) if start.tz is not None else points


def snap_to_grid(timestamps: pd.DatetimeIndex, frequency: DataFrequency) -> pd.DatetimeIndex:
    """The grid point each timestamp belongs to: the latest one at or before it.

    The grid starts at the earliest timestamp, so a series sampled on its grid maps onto itself,
    and an inferred frequency tolerates jitter (a point at 10:00:03 of an hourly series goes to 10:00).
    """
    timestamps = timestamps.as_unit("ns")  # pandas 3 keeps the input's unit; compare like with like
    grid = regular_grid(timestamps.min(), timestamps.max(), frequency).as_unit("ns")
    slots = np.searchsorted(grid.asi8, timestamps.asi8, side="right") - 1
    return grid[slots]


def check_frequency(timestamps: pd.DatetimeIndex, frequency: DataFrequency) -> None:
    """Refuse a ``data_frequency`` the data does not follow.

    Every timestamp must lie on the grid of ``frequency`` that starts at the earliest timestamp
    (gaps are fine: they are interpolated later).

    Raises:
        InvalidOptionError: a timestamp is off the grid, naming it and the option to change.
    """
    on_grid = snap_to_grid(timestamps, frequency)
    off = np.flatnonzero(on_grid.asi8 != timestamps.as_unit("ns").asi8)
    if off.size:
        raise InvalidOptionError(
            f"The 'data_frequency' option of CREATE MODEL (model_type='ARIMA_PLUS') is {frequency.value}, "
            f"but the timestamp {timestamps[off[0]]} is not a whole number of {frequency.value} steps "
            f"after the first one ({timestamps.min()}); {off.size} of {len(timestamps)} timestamps are off "
            f"that grid. {_frequency_fix(timestamps, frequency)}",
            option="data_frequency",
        )


def _frequency_fix(timestamps: pd.DatetimeIndex, frequency: DataFrequency) -> str:
    """What to do about timestamps off ``frequency``'s grid: another frequency when the data
    follows one, else align the timestamps (their spacing is right, their phase is not)."""
    inferred = infer_frequency(timestamps)
    if inferred is not frequency:
        return (
            f"Set data_frequency to {inferred.value} (what the data looks like) or to 'AUTO_FREQUENCY', "
            f"or aggregate the data to {frequency.value} points first."
        )
    return (
        f"The data is {frequency.value} but not aligned: truncate the timestamps in the training query "
        f"(TIMESTAMP_TRUNC(<timestamp>, {TRUNCATION[frequency]})), or set data_frequency to 'AUTO_FREQUENCY', "
        f"which puts each timestamp on the {frequency.value} point at or before it."
    )


def resolve_frequency(timestamps: pd.DatetimeIndex, requested: str | DataFrequency | None) -> DataFrequency:
    """The frequency to model: inferred for ``AUTO_FREQUENCY``, else the requested one once checked.

    Raises:
        InvalidOptionError: the option's value is unknown or the data is off its grid.
    """
    frequency = parse_frequency(requested)
    if frequency is DataFrequency.AUTO_FREQUENCY:
        return infer_frequency(timestamps)
    check_frequency(timestamps, frequency)
    return frequency
