"""BigQuery's series preparation for ARIMA_PLUS (sqlml.ml.forecasting.preparation): each component
of a generated series with known parts is recovered, and the real series decompose as expected."""

from __future__ import annotations

from pathlib import Path

import holidays as holiday_library
import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.seasonal import MSTL

from sqlml.errors import InvalidModelInputError
from sqlml.ml.forecasting.frequency import DataFrequency
from sqlml.ml.forecasting.preparation import PreparationOptions, PreparedSeries, prepare, regularize

FIXTURES = Path(__file__).parents[2] / "fixtures"
N = 800
STEP_AT, STEP = 400, 20.0
SPIKES = {100: 40.0, 650: -35.0}
THANKSGIVING = 30.0


@pytest.fixture(scope="module")
def generated() -> dict[str, np.ndarray]:
    """800 daily points: trend + weekly sine + a step of 20 + two spikes + Thanksgiving +30 + N(0, 1)."""
    stamps = pd.date_range("2020-01-01", periods=N, freq="D")
    us = holiday_library.country_holidays("US", years=[2020, 2021, 2022])
    parts = {
        "trend": 100 + 0.02 * np.arange(N),
        "weekly": 5 * np.sin(2 * np.pi * np.arange(N) / 7),
        "step": np.where(np.arange(N) >= STEP_AT, STEP, 0.0),
        "spikes": np.zeros(N),
        "holiday": np.array([THANKSGIVING if us.get(day) == "Thanksgiving Day" else 0.0 for day in stamps.date]),
        "noise": np.random.default_rng(0).normal(0, 1, N),
    }
    parts["spikes"][list(SPIKES)] = list(SPIKES.values())
    parts["stamps"] = stamps
    return parts


@pytest.fixture(scope="module")
def prepared(generated: dict[str, np.ndarray]) -> PreparedSeries:
    values = sum(generated[k] for k in ("trend", "weekly", "step", "spikes", "holiday", "noise"))
    return prepare(generated["stamps"], values, PreparationOptions(holiday_region="US"))


def test_prepare_components_add_up(prepared: PreparedSeries) -> None:
    total = prepared.trend + prepared.seasonal_total() + prepared.holiday_effect + prepared.spikes_and_dips
    np.testing.assert_allclose(total + prepared.step_changes + prepared.residual, prepared.values, atol=1e-9)
    np.testing.assert_allclose(prepared.adjusted, prepared.trend + prepared.residual)
    assert prepared.frequency is DataFrequency.DAILY
    assert prepared.seasonal_periods == {"WEEKLY": 7}  # no yearly pattern in the data: AUTO leaves YEARLY out


def test_prepare_recovers_step_change(prepared: PreparedSeries) -> None:
    # one step, at the right day, of the right height (± 1.5, noise σ = 1), zero on the latest level
    assert np.flatnonzero(np.diff(prepared.step_changes)).tolist() == [STEP_AT - 1]
    assert prepared.step_changes[0] == pytest.approx(-STEP, abs=1.5)
    assert (prepared.step_changes[STEP_AT:] == 0).all()


def test_prepare_recovers_spikes_and_dips(prepared: PreparedSeries) -> None:
    found = prepared.spikes_and_dips
    for at, height in SPIKES.items():
        assert found[at] == pytest.approx(height, abs=3.0)
    # anything else flagged is within ordinary noise (σ = 1), never a real component
    others = np.delete(found, list(SPIKES))
    assert np.abs(others).max() < 6.0


def test_prepare_recovers_holiday_effect(prepared: PreparedSeries, generated: dict[str, np.ndarray]) -> None:
    days = np.flatnonzero(generated["holiday"])
    assert len(days) == 2
    np.testing.assert_allclose(prepared.holiday_effects["Thanksgiving Day"][days], THANKSGIVING, atol=3.0)
    small = {name: np.abs(effect).max() for name, effect in prepared.holiday_effects.items() if name != "Thanksgiving Day"}
    assert max(small.values()) < 3.0


def test_prepare_recovers_weekly_seasonality(prepared: PreparedSeries, generated: dict[str, np.ndarray]) -> None:
    error = prepared.seasonal["WEEKLY"] - generated["weekly"]
    assert np.sqrt(np.mean(error**2)) < 0.6  # the seasonal amplitude is 5, the noise σ 1


def test_prepare_without_cleaning_leaves_components_zero(generated: dict[str, np.ndarray]) -> None:
    values = generated["trend"] + generated["weekly"] + generated["spikes"] + generated["step"]
    options = PreparationOptions(clean_spikes_and_dips=False, adjust_step_changes=False)
    result = prepare(generated["stamps"], values, options)
    assert not result.spikes_and_dips.any() and not result.step_changes.any() and not result.holiday_effect.any()


def test_regularize_averages_duplicates_and_interpolates_gaps() -> None:
    stamps = pd.DatetimeIndex(["2021-01-01", "2021-01-01", "2021-01-02", "2021-01-05", "2021-01-06"])
    grid, values, filled = regularize(stamps, np.array([1.0, 3.0, 4.0, 10.0, 11.0]), DataFrequency.DAILY)
    assert grid.equals(pd.date_range("2021-01-01", "2021-01-06", freq="D"))
    np.testing.assert_allclose(values, [2.0, 4.0, 6.0, 8.0, 10.0, 11.0])
    assert filled.tolist() == [False, False, True, True, False, False]


def test_prepare_drops_null_values_and_needs_three_points() -> None:
    stamps = pd.date_range("2021-01-01", periods=4, freq="D")
    with pytest.raises(InvalidModelInputError, match=r"needs at least 3 points .* this one has 2\."):
        prepare(stamps, [1.0, np.nan, np.nan, 2.0])


def test_co2_weekly_has_yearly_seasonality_equal_to_mstl() -> None:
    frame = pd.read_csv(FIXTURES / "co2_weekly.csv")
    stamps = pd.to_datetime(frame["date"].astype(str), format="%Y%m%d")
    result = prepare(stamps, frame["co2"].to_numpy(), PreparationOptions(clean_spikes_and_dips=False, adjust_step_changes=False))
    assert result.frequency is DataFrequency.WEEKLY
    assert result.seasonal_periods == {"YEARLY": 52}
    assert result.interpolated.sum() == 59  # the weeks with no co2 value
    r_stl = {"seasonal_deg": 0, "trend_jump": 10, "low_pass_jump": 6}  # R's stl() settings for period 52
    direct = MSTL(result.values, periods=[52], stl_kwargs=r_stl).fit()  # the library called directly
    np.testing.assert_allclose(result.seasonal["YEARLY"], direct.seasonal, atol=1e-9)
    np.testing.assert_allclose(result.trend, direct.trend, atol=1e-9)


def test_bikeshare_hourly_has_daily_and_weekly_seasonality() -> None:
    frame = pd.read_csv(FIXTURES / "bikeshare_hourly.csv").query("day <= 28")  # four weeks (three weekly cycles are needed) keep the test fast
    stamps = pd.Timestamp("2011-01-01") + pd.to_timedelta(frame["day"] - 1, unit="D") + pd.to_timedelta(frame["hr"].astype(int), unit="h")
    result = prepare(stamps, frame["bikers"].to_numpy(dtype=float))
    assert result.frequency is DataFrequency.HOURLY
    assert result.seasonal_periods == {"DAILY": 24, "WEEKLY": 168}
    assert len(result.timestamps) == 28 * 24 and result.interpolated.sum() == 28 * 24 - len(frame)  # hours missing
    daily = result.seasonal["DAILY"].reshape(-1, 24).mean(axis=0)
    assert daily.argmax() in (17, 18)  # the evening rush hour
    weekly = result.seasonal["WEEKLY"].reshape(-1, 168).mean(axis=0)
    assert np.ptp(weekly) > 0.2 * np.ptp(daily)  # a weekly pattern of its own, not a copy of the daily one



@pytest.mark.parametrize("kind", ["datetime64[s]", "datetime64[ms]", "datetime64[us]", "datetime64[D]", "DATE objects", "tz-aware"])
def test_prepare_takes_timestamps_of_any_unit(kind: str) -> None:
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    values = 10 + 3 * np.sin(2 * np.pi * np.arange(40) / 7) + 0.1 * np.arange(40)
    stamps = {"DATE objects": list(days.date), "tz-aware": days.tz_localize("America/New_York")}.get(kind)
    if stamps is None:
        stamps = days.to_numpy().astype(kind)
    expected = prepare(days, values)
    got = prepare(stamps, values)
    shift = pd.Timedelta(hours=5) if kind == "tz-aware" else pd.Timedelta(0)  # New York midnight is 05:00 UTC
    assert got.timestamps.equals(expected.timestamps + shift) and got.frequency is DataFrequency.DAILY
    np.testing.assert_array_equal(got.adjusted, expected.adjusted)


def test_three_yearly_cycles_are_not_spikes() -> None:
    # with three cycles of 365 days robust STL zeroed the middle year's weights and the whole year
    # came out as "spikes" (and its edges as steps); the yearly period is now fitted plainly
    rng = np.random.default_rng(7)
    t = np.arange(3 * 365)
    values = 100 + 6 * np.sin(2 * np.pi * t / 7) + 15 * np.sin(2 * np.pi * t / 365.25) + np.cumsum(rng.normal(0, 0.3, t.size)) + rng.normal(0, 2, t.size)
    result = prepare(pd.date_range("2021-01-01", periods=t.size, freq="D"), values)
    assert result.seasonal_periods == {"WEEKLY": 7, "YEARLY": 365}
    assert np.count_nonzero(result.spikes_and_dips) <= 3 and not result.step_changes.any()
    assert np.sqrt(np.mean((result.seasonal["YEARLY"] - 15 * np.sin(2 * np.pi * t / 365.25)) ** 2)) < 3.0
