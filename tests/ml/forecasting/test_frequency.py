"""Frequency inference and the data_frequency check (sqlml.ml.forecasting.frequency)."""

from __future__ import annotations

import pandas as pd
import pytest

from sqlml.errors import InvalidOptionError
from sqlml.ml.forecasting.frequency import (
    FIXED_STEPS, STEPS, DataFrequency, grid_points, infer_frequency, parse_frequency, regular_grid, resolve_frequency, snap_to_grid,
)

CASES = [
    ("min", DataFrequency.PER_MINUTE),
    ("h", DataFrequency.HOURLY),
    ("D", DataFrequency.DAILY),
    ("W-SUN", DataFrequency.WEEKLY),
    ("MS", DataFrequency.MONTHLY),
    ("ME", DataFrequency.MONTHLY),
    ("QS", DataFrequency.QUARTERLY),
    ("YS", DataFrequency.YEARLY),
]


@pytest.mark.parametrize(("alias", "expected"), CASES)
def test_infer_frequency_each_frequency(alias: str, expected: DataFrequency) -> None:
    stamps = pd.date_range("2001-01-01", periods=40, freq=alias)
    assert infer_frequency(stamps) is expected
    # gaps (every third point missing) and duplicates do not change the answer
    gappy = stamps.delete(list(range(2, 40, 3))).append(stamps[:5])
    assert infer_frequency(gappy) is expected


def test_resolve_frequency_checks_explicit_option() -> None:
    daily = pd.date_range("2020-01-01", periods=30, freq="D")
    assert resolve_frequency(daily, "daily") is DataFrequency.DAILY
    assert resolve_frequency(daily, None) is DataFrequency.DAILY
    with pytest.raises(InvalidOptionError, match=r"The 'data_frequency' option .* is WEEKLY, but the timestamp 2020-01-02 00:00:00 .* 25 of 30 timestamps .* Set data_frequency to DAILY") as info:
        resolve_frequency(daily, "WEEKLY")
    assert info.value.option == "data_frequency"


def test_parse_frequency_rejects_unknown_value() -> None:
    with pytest.raises(InvalidOptionError, match=r"must be one of AUTO_FREQUENCY, PER_MINUTE, .* Got 'FORTNIGHTLY' instead\."):
        parse_frequency("FORTNIGHTLY")


@pytest.mark.parametrize("frequency", FIXED_STEPS)
def test_regular_grid_equals_the_calendar_offsets_range(frequency):
    # fixed steps go as a Timedelta (fast); the grid must be the calendar offset's, point for point
    start = pd.Timestamp("2020-01-31 10:07:03")
    end = start + (pd.Timedelta(days=2) if frequency is DataFrequency.PER_MINUTE else pd.Timedelta(days=1200))
    assert regular_grid(start, end, frequency).equals(pd.date_range(start=start, end=end, freq=STEPS[frequency]))


@pytest.mark.parametrize("frequency", [DataFrequency.MONTHLY, DataFrequency.QUARTERLY, DataFrequency.YEARLY])
@pytest.mark.parametrize("start", ["2020-01-31 10:07:03", "2020-01-30", "2020-02-29", "2021-04-30 23:00", "2020-03-15"])
def test_calendar_grid_counts_each_point_from_the_start(frequency, start):
    # point k is start + k steps (no drift); a start on a month's last day stays on month ends
    start = pd.Timestamp(start)
    end = start + pd.Timedelta(days=2000)
    months = {DataFrequency.MONTHLY: 1, DataFrequency.QUARTERLY: 3, DataFrequency.YEARLY: 12}[frequency]
    points = [start + pd.DateOffset(months=k * months) for k in range(100)]
    if start.is_month_end:
        points = [point + pd.offsets.MonthEnd(0) for point in points]
    assert list(regular_grid(start, end, frequency)) == [point for point in points if point <= end]
    assert list(grid_points(start, 7, frequency)) == points[:7]


def test_month_end_grid_keeps_month_ends():
    grid = regular_grid(pd.Timestamp("2020-01-31"), pd.Timestamp("2020-06-30"), DataFrequency.MONTHLY)
    assert list(grid.strftime("%Y-%m-%d")) == ["2020-01-31", "2020-02-29", "2020-03-31", "2020-04-30", "2020-05-31", "2020-06-30"]


def test_month_end_series_is_on_its_monthly_grid():
    # the check and the snapping agree: month ends are MONTHLY points, each its own slot
    month_ends = pd.date_range("2019-01-31", periods=30, freq="ME")
    assert resolve_frequency(month_ends, "MONTHLY") is DataFrequency.MONTHLY
    assert snap_to_grid(month_ends, DataFrequency.MONTHLY).equals(month_ends.as_unit("ns"))
    quarter_ends = pd.date_range("2019-03-31", periods=12, freq="QE")
    assert resolve_frequency(quarter_ends, "QUARTERLY") is DataFrequency.QUARTERLY
    # a point mid-month goes to the month end before it, not to a drifted 28th
    stamps = month_ends.append(pd.DatetimeIndex(["2019-05-15"]))
    assert snap_to_grid(stamps, DataFrequency.MONTHLY)[-1] == pd.Timestamp("2019-04-30")


def test_timestamps_off_the_daily_grid_get_a_hint_other_than_the_set_frequency():
    # daily data at noon except one midnight point: the spacing is DAILY, the phase is not
    stamps = pd.date_range("2020-01-01 12:00", periods=30, freq="D").append(pd.DatetimeIndex(["2020-02-05 00:00"]))
    with pytest.raises(
        InvalidOptionError,
        match=r"is DAILY, but the timestamp 2020-02-05 00:00:00 is not a whole number of DAILY steps .* 1 of 31 timestamps are off "
        r"that grid\. The data is DAILY but not aligned: truncate the timestamps in the training query "
        r"\(TIMESTAMP_TRUNC\(<timestamp>, DAY\)\), or set data_frequency to 'AUTO_FREQUENCY', which puts each timestamp "
        r"on the DAILY point at or before it\.$",
    ) as info:
        resolve_frequency(stamps, "DAILY")
    assert "Set data_frequency to DAILY" not in str(info.value)
