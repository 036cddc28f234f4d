"""Frequency inference and the data_frequency check (sqlml.ml.forecasting.frequency)."""

from __future__ import annotations

import pandas as pd
import pytest

from sqlml.errors import InvalidOptionError
from sqlml.ml.forecasting.frequency import STEPS, DataFrequency, infer_frequency, parse_frequency, regular_grid, resolve_frequency

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


@pytest.mark.parametrize("frequency", [f for f in DataFrequency if f is not DataFrequency.AUTO_FREQUENCY])
def test_regular_grid_equals_the_calendar_offsets_range(frequency):
    # fixed steps go as a Timedelta (fast); the grid must be the calendar offset's, point for point
    start = pd.Timestamp("2020-01-31 10:07:03")
    end = start + (pd.Timedelta(days=2) if frequency is DataFrequency.PER_MINUTE else pd.Timedelta(days=1200))
    assert regular_grid(start, end, frequency).equals(pd.date_range(start=start, end=end, freq=STEPS[frequency]))
