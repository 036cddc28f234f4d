"""The fitted series' history as data (sqlml.ml.forecasting.history): packed and read back exactly,
written by training with BigQuery's identities, the ARIMA's in-sample fit as the trend, the
trend smoothing window, nothing kept without decomposition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from statsforecast.arima import Arima

from sqlml.ml.forecasting.frequency import DataFrequency, grid_points
from sqlml.ml.forecasting.history import HistoryParts, grid_timestamps, has_history, pack_history, series_history, smooth_trend
from sqlml.ml.forecasting.limits import Limits
from sqlml.ml.forecasting.preparation import PreparationOptions, prepare

N = 120
DAY_US = 86_400_000_000


def _parts(seed: int, n: int, periods: tuple[str, ...], holidays: tuple[str, ...]) -> HistoryParts:
    rng = np.random.default_rng(seed)
    spikes, steps = np.zeros(n), np.zeros(n)
    spikes[[5, 6, n - 1]] = [3.0, -2.0, 7.0]
    steps[: n // 2] = -4.5
    effects = {name: np.where(np.arange(n) % 30 == k, 1.5 + k, 0.0) for k, name in enumerate(holidays)}
    return HistoryParts(
        start=1_600_000_000_000_000 + seed * DAY_US, data=rng.normal(size=n), interpolated=rng.random(n) < 0.1,
        trend=rng.normal(size=n), seasonal={name: rng.normal(size=n) for name in periods},
        holiday_effects=effects, spikes_and_dips=spikes, step_changes=steps,
    )  # fmt: skip


def _spec(parts: list[HistoryParts], holidays: list[tuple[str, ...]], options: dict | None = None) -> tuple[dict, dict]:
    described, arrays = pack_history(parts, [list(names) for names in holidays])
    series = [
        {"error": None, "frequency": "DAILY", "history": where, "holiday_windows": dict.fromkeys(names, [0.0]), "arima": {"sigma2": 4.0}}
        for where, names in zip(described, holidays)
    ]
    return {"options": options or {}, "time_series": {"series": series}}, arrays


def test_packed_histories_read_back_exactly():
    holidays = [("Christmas Day",), (), ("A", "B")]
    parts = [_parts(0, N, ("WEEKLY", "YEARLY"), holidays[0]), _parts(1, 50, (), ()), _parts(2, 70, ("WEEKLY",), holidays[2])]
    spec, arrays = _spec(parts, holidays)
    assert len(arrays) == 9 and all(name.startswith("arima.history.") for name in arrays)
    for index, part in enumerate(parts):
        got = series_history(spec, arrays, index)
        n = len(part.data)
        np.testing.assert_array_equal(got.timestamps, part.start + DAY_US * np.arange(n))
        for name in ("data", "interpolated", "trend", "spikes_and_dips", "step_changes"):
            np.testing.assert_array_equal(getattr(got, name), getattr(part, name), err_msg=name)
        assert got.seasonal.keys() == part.seasonal.keys() and got.holiday_effects.keys() == part.holiday_effects.keys()
        for name, component in part.seasonal.items():
            np.testing.assert_array_equal(got.seasonal[name], component)
        for name, component in part.holiday_effects.items():
            np.testing.assert_array_equal(got.holiday_effects[name], component)
        others = sum(part.seasonal.values(), np.zeros(n)) + sum(part.holiday_effects.values(), np.zeros(n))
        np.testing.assert_allclose(got.residual, part.data - part.trend - others - part.spikes_and_dips - part.step_changes)
        np.testing.assert_allclose(got.fitted, part.trend + others + part.step_changes)
        np.testing.assert_allclose(got.adjusted, part.trend + others)
        lower, upper = got.interval(1.96)
        np.testing.assert_allclose(upper - lower, np.full(n, 2 * 1.96 * 2.0))


def test_a_series_without_history_is_refused():
    spec, arrays = _spec([_parts(0, N, (), ())], [()])
    spec["time_series"]["series"][0]["history"] = None
    assert not has_history(spec)
    with pytest.raises(ValueError, match="series 0 of the model has no stored history"):
        series_history(spec, arrays, 0)


@pytest.mark.parametrize("window", [1, 4, 7])
def test_trend_smoothing_is_a_centred_average_padded_with_the_end_values(window):
    trend = np.random.default_rng(5).normal(size=40)
    before, after = window // 2, (window - 1) // 2
    expected = np.convolve(np.pad(trend, (before, after), mode="edge"), np.ones(window) / window, mode="valid")
    np.testing.assert_allclose(smooth_trend(trend, window), expected)


def test_smoothing_moves_the_difference_into_the_residual_and_keeps_the_fit():
    parts = [_parts(0, N, ("WEEKLY",), ())]
    plain = series_history(*_spec(parts, [()]), 0)
    smoothed = series_history(*_spec(parts, [()], {"trend_smoothing_window_size": 5}), 0)
    np.testing.assert_allclose(smoothed.trend, smooth_trend(plain.trend, 5))
    np.testing.assert_allclose(smoothed.trend + smoothed.residual, plain.trend + plain.residual)
    np.testing.assert_array_equal(smoothed.fitted, plain.fitted)


def test_under_limits_components_add_up_to_the_bounded_data():
    parts = [_parts(3, N, ("WEEKLY",), ("A",))]
    limits = {"forecast_limit_lower_bound": -1.0, "forecast_limit_upper_bound": 2.0}
    got = series_history(*_spec(parts, [("A",)], limits), 0)
    bounded = Limits(-1.0, 2.0).inverse(parts[0].data)
    np.testing.assert_allclose(got.data, bounded)
    total = got.trend + got.seasonal["WEEKLY"] + got.holiday_effect + got.spikes_and_dips + got.step_changes + got.residual
    np.testing.assert_allclose(total, bounded)
    assert ((got.fitted > -1.0) & (got.fitted < 2.0)).all()
    lower, upper = got.interval(3.0)
    assert ((lower > -1.0) & (upper < 2.0) & (lower < got.fitted) & (got.fitted < upper)).all()


def _options(**extra) -> dict:
    return {"model_type": "ARIMA_PLUS", "time_series_timestamp_col": "d", "time_series_data_col": "y", "time_series_id_col": None,
            "data_frequency": "AUTO_FREQUENCY", "clean_spikes_and_dips": True, "adjust_step_changes": True, "holiday_region": None,
            "seasonalities": ["AUTO"], "auto_arima": True, "auto_arima_max_order": 2, "auto_arima_min_order": 0, **extra}  # fmt: skip


def _series() -> tuple[pd.DatetimeIndex, np.ndarray]:
    days = pd.date_range("2024-01-01", periods=N, freq="D")
    t = np.arange(N)
    values = 50 + 0.1 * t + 4 * np.sin(2 * np.pi * t / 7) + np.random.default_rng(8).normal(0, 0.5, N)
    values[60] += 30.0
    return days, values


def test_training_keeps_the_history_with_the_arimas_in_sample_fit_as_trend():
    from sqlml.ml.forecasting.training import fit_table

    days, values = _series()
    keep = np.ones(N, dtype=bool)
    keep[[10, 11]] = False  # two missing days: interpolated
    spec, arrays = fit_table(_options(), pa.table({"d": pa.array(days[keep].date), "y": values[keep]}), None)
    item = spec["time_series"]["series"][0]
    assert item["has_spikes_and_dips"] and not item["has_holiday_effect"] and item["holiday_windows"] == {}
    assert spec["time_series"]["holiday_regions"] == [] and spec["time_series"]["custom_holidays"] == []
    got = series_history(spec, arrays, 0)
    prepared = prepare(days[keep], values[keep], PreparationOptions())
    np.testing.assert_array_equal(got.timestamps, days.as_unit("us").asi8)
    np.testing.assert_array_equal(got.data, prepared.values)
    assert list(np.flatnonzero(got.interpolated)) == [10, 11]
    p, d, q = item["arima"]["order"]
    direct = Arima(prepared.adjusted, order=(p, d, q), include_mean=d == 0, include_drift="drift" in item["arima"]["coef_names"], method="CSS-ML")
    np.testing.assert_allclose(got.trend, prepared.adjusted - direct["residuals"], atol=1e-8)
    np.testing.assert_allclose(got.residual, direct["residuals"], atol=1e-8)
    np.testing.assert_array_equal(got.spikes_and_dips, prepared.spikes_and_dips)
    np.testing.assert_allclose(got.seasonal["WEEKLY"], prepared.seasonal["WEEKLY"])
    assert got.sigma == pytest.approx(np.sqrt(direct["sigma2"]))


def test_without_decomposition_no_history_is_kept():
    from sqlml.ml.forecasting.training import fit_table

    days, values = _series()
    spec, arrays = fit_table(_options(decompose_time_series=False), pa.table({"d": pa.array(days.date), "y": values}), None)
    assert not has_history(spec) and not any(name.startswith("arima.history.") for name in arrays)
    assert spec["time_series"]["series"][0]["has_spikes_and_dips"]


@pytest.mark.parametrize("frequency", list(DataFrequency)[1:])
def test_grid_timestamps_are_the_frequencys_grid_points(frequency):
    # a month end stays a month end (31 Jan, 29 Feb, 31 Mar …): the points are counted from the start
    start = pd.Timestamp("2024-01-31 06:00")
    expected = grid_points(start, 40, frequency).as_unit("us").asi8
    np.testing.assert_array_equal(grid_timestamps(start.value // 1000, 40, frequency), expected)


def test_monthly_grid_timestamps_keep_month_ends():
    start = pd.Timestamp("2024-01-31 06:00")
    got = pd.to_datetime(grid_timestamps(start.value // 1000, 5, DataFrequency.MONTHLY), unit="us")
    assert [stamp.strftime("%m-%d %H:%M") for stamp in got] == ["01-31 06:00", "02-29 06:00", "03-31 06:00", "04-30 06:00", "05-31 06:00"]


def test_before_a_length_window_the_trend_is_the_decompositions():
    from sqlml.ml.forecasting.training import fit_table

    days, values = _series()
    spec, arrays = fit_table(_options(max_time_series_length=30), pa.table({"d": pa.array(days.date), "y": values}), None)
    got = series_history(spec, arrays, 0)
    prepared = prepare(days, values, PreparationOptions())
    arima = spec["time_series"]["series"][0]["arima"]
    p, d, q = arima["order"]
    direct = Arima(prepared.adjusted[-30:], order=(p, d, q), include_mean=d == 0, include_drift="drift" in arima["coef_names"], method="CSS-ML")
    np.testing.assert_allclose(got.trend[:-30], prepared.trend[:-30])
    np.testing.assert_allclose(got.trend[-30:], prepared.adjusted[-30:] - direct["residuals"], atol=1e-8)
    np.testing.assert_allclose(got.residual[:-30], prepared.residual[:-30], atol=1e-9)


def test_the_history_survives_the_model_files(tmp_path):
    import json

    holidays = [("A",), ()]
    spec, arrays = _spec([_parts(4, N, ("WEEKLY",), holidays[0]), _parts(5, 60, (), ())], holidays, {"trend_smoothing_window_size": 3})
    np.savez(tmp_path / "arrays.npz", **arrays)
    with np.load(tmp_path / "arrays.npz", allow_pickle=False) as stored:
        loaded = {name: stored[name] for name in stored.files}
    again = json.loads(json.dumps(spec))
    for index in range(2):
        before, after = series_history(spec, arrays, index), series_history(again, loaded, index)
        for name in ("timestamps", "data", "interpolated", "trend", "holiday_effect", "spikes_and_dips", "step_changes", "residual", "fitted"):
            np.testing.assert_array_equal(getattr(after, name), getattr(before, name), err_msg=name)
