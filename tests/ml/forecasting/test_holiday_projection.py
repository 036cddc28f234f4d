"""Holiday effects carried into forecasts (sqlml.ml.forecasting.holiday_projection): the effect a
holiday had in the history comes back on its next date, built-in and custom."""

from __future__ import annotations

import holidays as holiday_library
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sqlml.ml.forecasting.forecast import forecast_table, series_forecasts
from sqlml.ml.forecasting import holidays
from sqlml.ml.forecasting.holiday_projection import future_positions, project, spec_custom_holidays, window_effects
from sqlml.ml.forecasting.training import fit_table

THANKSGIVING = 30.0
START, END = "2021-01-01", "2023-11-10"  # the forecast's 30 days hold Thanksgiving, 23 November 2023


def _options(**extra) -> dict:
    return {"model_type": "ARIMA_PLUS", "time_series_timestamp_col": "d", "time_series_data_col": "y", "time_series_id_col": None,
            "data_frequency": "AUTO_FREQUENCY", "clean_spikes_and_dips": True, "adjust_step_changes": True, "holiday_region": None,
            "seasonalities": ["AUTO"], "auto_arima": True, "auto_arima_max_order": 2, "auto_arima_min_order": 0, **extra}  # fmt: skip


def _daily(effects: dict[pd.Timestamp, float]) -> pa.Table:
    days = pd.date_range(START, END, freq="D")
    t = np.arange(len(days))
    values = 200 + 0.01 * t + 6 * np.sin(2 * np.pi * t / 7) + np.random.default_rng(4).normal(0, 1, len(days))
    values += np.array([effects.get(day, 0.0) for day in days])
    return pa.table({"d": pa.array(days.date), "y": values})


def _by_day(spec: dict, arrays: dict) -> pd.Series:
    table = forecast_table(spec, arrays, 30, 0.9, []).to_pandas()
    return pd.Series(table["forecast_value"].to_numpy(), index=table["forecast_timestamp"].dt.tz_localize(None))


def _lift(forecast: pd.Series, day: str) -> float:
    """The forecast on ``day`` above the mean of the same weekday a week before and after."""
    at = pd.Timestamp(day)
    return forecast[at] - (forecast[at - pd.Timedelta(days=7)] + forecast[at + pd.Timedelta(days=7)]) / 2


def test_a_builtin_holidays_effect_recurs_on_its_next_date():
    us = holiday_library.country_holidays("US", years=range(2021, 2024))
    thanksgiving = {pd.Timestamp(day): THANKSGIVING for day, name in us.items() if name == "Thanksgiving Day"}
    spec, arrays = fit_table(_options(holiday_region="US"), _daily(thanksgiving), None)
    item = spec["time_series"]["series"][0]
    assert item["holiday_windows"]["Thanksgiving Day"][0] == pytest.approx(THANKSGIVING, abs=2.0)
    forecast = _by_day(spec, arrays)
    assert _lift(forecast, "2023-11-23") == pytest.approx(THANKSGIVING, abs=2.0)
    assert forecast[pd.Timestamp("2023-11-30")] == pytest.approx(forecast[pd.Timestamp("2023-11-16")], abs=1.0)
    parts = series_forecasts(spec, arrays, 30)[0]
    day = list(pd.to_datetime(parts.timestamps, unit="us")).index(pd.Timestamp("2023-11-23"))
    others = sum(effect[day] for name, effect in parts.holiday_effects.items() if name != "Thanksgiving Day")
    assert parts.holiday_effects["Thanksgiving Day"][day] == item["holiday_windows"]["Thanksgiving Day"][0] and others == 0.0


def test_a_custom_holidays_window_recurs_day_by_day():
    custom = pa.table({
        "region": ["US"] * 3, "holiday_name": ["Promo"] * 3,
        "primary_date": pa.array(pd.to_datetime(["2021-11-18", "2022-11-17", "2023-11-16"]).date),
        "preholiday_days": [1, 1, 1], "postholiday_days": [2, 2, 2],
    })  # fmt: skip
    shape = {-1: 8.0, 0: 25.0, 1: 12.0, 2: 4.0}
    effects = {day + pd.Timedelta(days=k): v for day in pd.to_datetime(custom["primary_date"].to_pylist()) for k, v in shape.items()}
    spec, arrays = fit_table(_options(holiday_region="US"), _daily(effects), custom)
    assert spec["time_series"]["custom_holidays"][2] == {
        "region": "US", "holiday_name": "Promo", "primary_date": "2023-11-16", "preholiday_days": 1, "postholiday_days": 2}  # fmt: skip
    np.testing.assert_allclose(spec["time_series"]["series"][0]["holiday_windows"]["Promo"], list(shape.values()), atol=2.0)
    parts = series_forecasts(spec, arrays, 30)[0]
    promo = parts.holiday_effects["Promo"]  # the forecast starts on 11 November: 15-18 November are steps 4-7
    np.testing.assert_allclose(promo[4:8], spec["time_series"]["series"][0]["holiday_windows"]["Promo"])
    assert np.count_nonzero(promo) == 4
    np.testing.assert_allclose(_by_day(spec, arrays).to_numpy(), parts.total())


def test_a_weekly_point_shares_its_days_effects():
    # A custom three-day window inside one week: the week's effect is split among its days and
    # projected back whole onto the week of the next occurrence.
    weeks = pd.date_range("2021-01-04", periods=140, freq="7D")
    days = pd.DataFrame({"region": "US", "holiday_name": "Fair", "primary_date": pd.to_datetime(["2021-06-09", "2022-06-08", "2023-06-07"]),
                         "preholiday_days": 1, "postholiday_days": 1})  # fmt: skip
    component = np.where(weeks.isin(pd.to_datetime(["2021-06-07", "2022-06-06"])), 9.0, 0.0)
    windows = window_effects(holidays.holiday_positions(weeks[:100], days), {"Fair": component[:100]})
    assert windows == {"Fair": [3.0, 3.0, 3.0]}
    projected = project(windows, future_positions(weeks[100:], days), 40)["Fair"]
    assert list(np.flatnonzero(projected)) == [list(weeks[100:]).index(pd.Timestamp("2023-06-05"))]
    assert projected.sum() == 9.0


def test_custom_rows_are_kept_with_their_defaults():
    table = pa.table({"region": ["gb"], "holiday_name": ["Fete"], "primary_date": pa.array([pd.Timestamp("2022-05-01").date()])})
    assert spec_custom_holidays(table) == [{"region": "GB", "holiday_name": "Fete", "primary_date": "2022-05-01", "preholiday_days": 1, "postholiday_days": 1}]
    assert spec_custom_holidays(None) == []
