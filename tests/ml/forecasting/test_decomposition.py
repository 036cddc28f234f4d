"""Seasonal periods and MSTL (sqlml.ml.forecasting.decomposition) and the outlier detectors
(sqlml.ml.forecasting.outliers) on series with and without the patterns they look for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.seasonal import MSTL

from sqlml.errors import InvalidOptionError
from sqlml.ml.forecasting.decomposition import candidate_periods, decompose, parse_seasonalities, robust_decomposition, stl_settings
from sqlml.ml.forecasting.frequency import DataFrequency
from sqlml.ml.forecasting.outliers import spikes_and_dips, step_changes
from sqlml.ml.forecasting.preparation import prepare


def test_candidate_periods_follow_frequency_and_length() -> None:
    assert candidate_periods(DataFrequency.DAILY, 3 * 365) == {"WEEKLY": 7, "YEARLY": 365}
    assert candidate_periods(DataFrequency.DAILY, 3 * 365 - 1) == {"WEEKLY": 7}
    assert candidate_periods(DataFrequency.HOURLY, 2000) == {"DAILY": 24, "WEEKLY": 168}
    assert candidate_periods(DataFrequency.WEEKLY, 200, ("YEARLY",)) == {"YEARLY": 52}
    assert candidate_periods(DataFrequency.DAILY, 3000, ("NO_SEASONALITY",)) == {}
    assert candidate_periods(DataFrequency.YEARLY, 3000) == {}


def test_parse_seasonalities_rules() -> None:
    assert parse_seasonalities(None) == ("AUTO",)
    assert parse_seasonalities(["weekly", "YEARLY"]) == ("WEEKLY", "YEARLY")
    with pytest.raises(InvalidOptionError, match=r"cannot list AUTO or NO_SEASONALITY together with other values"):
        parse_seasonalities(["AUTO", "WEEKLY"])
    with pytest.raises(InvalidOptionError, match=r"takes values among AUTO, .* Got \['HOURLY'\] instead\."):
        parse_seasonalities(["HOURLY"])


def test_auto_keeps_only_the_seasonality_present() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(24 * 7 * 4)
    values = 10 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1, len(t))  # daily pattern, no weekly one
    chosen = robust_decomposition(values, {"DAILY": 24, "WEEKLY": 168})
    assert list(chosen.seasonal) == ["DAILY"]
    explicit = robust_decomposition(values, {"DAILY": 24, "WEEKLY": 168}, ("DAILY", "WEEKLY"))
    assert list(explicit.seasonal) == ["DAILY", "WEEKLY"]


def test_decompose_equals_statsmodels_mstl_with_two_periods() -> None:
    # R's locally constant seasonal smoother for both periods. statsmodels' MSTL evaluates every
    # LOESS at every point; ours jumps as R's stl() does, which moves the components by less than
    # 0.1 % of their amplitude (1 and 0.5 here)
    t = np.arange(168 * 15, dtype=float)
    values = np.sin(2 * np.pi * t / 24) + 0.5 * np.cos(2 * np.pi * t / 168) + 0.01 * t
    ours = decompose(values, {"DAILY": 24, "WEEKLY": 168})
    direct = MSTL(values, periods=[24, 168], stl_kwargs={"seasonal_deg": 0}).fit()
    np.testing.assert_allclose(np.column_stack([ours.seasonal["DAILY"], ours.seasonal["WEEKLY"]]), direct.seasonal, atol=1e-3)
    np.testing.assert_allclose(ours.trend, direct.trend, atol=1e-4)
    np.testing.assert_allclose(ours.trend + ours.seasonal_total() + ours.residual, values, atol=1e-12)
    assert decompose(values, {}).trend.tolist() == values.tolist()  # no period: all trend


def test_decompose_one_period_is_statsmodels_mstl_with_rs_settings() -> None:
    # R's stl() settings: a locally constant seasonal smoother, the long smoothers every window/10 points
    values = np.random.default_rng(5).normal(0, 1, 400).cumsum() + 3 * np.sin(2 * np.pi * np.arange(400) / 52)
    settings = stl_settings(52, 11)
    assert settings == {"period": 52, "seasonal": 11, "seasonal_deg": 0, "seasonal_jump": 1, "trend_jump": 10, "low_pass_jump": 6}
    r_stl = {k: v for k, v in settings.items() if k.startswith(("seasonal_", "trend_", "low_pass_"))}
    for robust, iterations in ((False, {}), (True, {"inner_iter": 1, "outer_iter": 15})):
        direct = MSTL(values, periods=[52], stl_kwargs={**r_stl, "robust": robust, **iterations}).fit()
        ours = decompose(values, {"YEARLY": 52}, robust=robust)
        np.testing.assert_array_equal(ours.seasonal["YEARLY"], direct.seasonal)
        np.testing.assert_array_equal(ours.trend, direct.trend)


def test_step_changes_ignore_trend_and_noise() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(500, dtype=float)
    assert not step_changes(0.05 * t + rng.normal(0, 1, 500)).any()
    assert not step_changes(20 * np.sin(2 * np.pi * t / 500) + rng.normal(0, 1, 500)).any()  # slow curve


def test_step_changes_two_steps() -> None:
    rng = np.random.default_rng(3)
    level = np.concatenate([np.zeros(200), np.full(150, 10.0), np.full(150, -5.0)]) + rng.normal(0, 1, 500)
    component = step_changes(level)
    assert np.flatnonzero(np.diff(component)).tolist() == [199, 349]
    assert component[0] == pytest.approx(5.0, abs=1.0) and component[250] == pytest.approx(15.0, abs=1.0)


def test_ordinary_noise_is_no_spike_and_a_real_one_still_is() -> None:
    # Robust STL hugs the bulk of the points, so the MAD of its residual alone put the threshold at
    # about 4σ: a fifth of such 400-day series had ordinary noise taken out as spikes, which
    # narrowed the ARIMA's variance and ML.FORECAST's intervals.
    rng = np.random.default_rng(11)
    days = pd.date_range("2024-01-01", periods=400, freq="D")
    weekly = 10 + 4 * np.sin(2 * np.pi * np.arange(400) / 7)
    flagged = [np.flatnonzero(prepare(days, weekly + rng.normal(0, 1, 400)).spikes_and_dips).tolist() for _ in range(15)]
    assert flagged == [[]] * 15
    values = weekly + rng.normal(0, 1, 400)
    values[[100, 300]] += [9.0, -9.0]
    assert np.flatnonzero(prepare(days, values).spikes_and_dips).tolist() == [100, 300]


def test_spikes_and_dips_respect_kept_points() -> None:
    values = np.zeros(100)
    values[[10, 50]] = [25.0, -25.0]
    values += np.random.default_rng(4).normal(0, 1, 100)
    keep = np.zeros(100, dtype=bool)
    keep[50] = True
    found = spikes_and_dips(values, np.zeros(100), keep)
    assert np.flatnonzero(found).tolist() == [10]
