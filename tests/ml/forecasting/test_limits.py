"""forecast_limit_lower_bound / forecast_limit_upper_bound (sqlml.ml.forecasting.limits): the
transforms of fpp2 §"Ensuring forecasts stay within limits", forecasts and intervals strictly
inside, training points at or beyond a bound left out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sqlml.errors import InvalidModelInputError
from sqlml.ml.forecasting.forecast import forecast_table
from sqlml.ml.forecasting.history import series_history
from sqlml.ml.forecasting.limits import Limits
from sqlml.ml.forecasting.training import fit_table

N = 90


def _options(**extra) -> dict:
    return {"model_type": "ARIMA_PLUS", "time_series_timestamp_col": "d", "time_series_data_col": "y", "time_series_id_col": None,
            "data_frequency": "AUTO_FREQUENCY", "clean_spikes_and_dips": True, "adjust_step_changes": True, "holiday_region": None,
            "seasonalities": ["AUTO"], "auto_arima": True, "auto_arima_max_order": 2, "auto_arima_min_order": 0, **extra}  # fmt: skip


def _table(values: np.ndarray) -> pa.Table:
    return pa.table({"d": pa.array(pd.date_range("2024-01-01", periods=len(values), freq="D").date), "y": values})


def _falling() -> np.ndarray:
    """A series falling towards 0 (an unbounded forecast goes below it)."""
    t = np.arange(N)
    return 30 - 0.3 * t + 2 * np.sin(2 * np.pi * t / 7) + np.random.default_rng(2).normal(0, 0.6, N)


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        (Limits(lower=1.0), [1.0 + np.exp(0.5), 1.0 + np.exp(2.0)]),
        (Limits(upper=5.0), [5.0 - np.exp(-0.5), 5.0 - np.exp(-2.0)]),
        (Limits(-1.0, 3.0), [-1.0 + 4.0 / (1 + np.exp(-0.5)), -1.0 + 4.0 / (1 + np.exp(-2.0))]),
    ],
)
def test_transforms_are_fpp2s_and_invert(limits, expected):
    np.testing.assert_allclose(limits.inverse(np.array([0.5, 2.0])), expected)
    np.testing.assert_allclose(limits.transform(limits.inverse(np.array([-3.0, 0.5, 2.0]))), [-3.0, 0.5, 2.0])
    at_bounds = [limits.lower if limits.lower is not None else limits.upper]
    assert np.isnan(limits.transform(np.array(at_bounds))).all()
    x = np.array([-1.0, 0.3, 1.7])
    np.testing.assert_allclose(limits.slope(x), (limits.inverse(x + 1e-6) - limits.inverse(x - 1e-6)) / 2e-6, rtol=1e-6)
    parts = [np.array([0.2, -1.0]), np.array([0.5, 0.1]), np.array([-0.3, 0.4])]
    np.testing.assert_allclose(sum(limits.attribute(parts)), limits.inverse(sum(parts)))


@pytest.mark.parametrize("options", [{"forecast_limit_lower_bound": 0.0}, {"forecast_limit_lower_bound": 0.0, "forecast_limit_upper_bound": 40.0}])
def test_forecasts_and_intervals_stay_strictly_inside(options):
    values = _falling()
    free = forecast_table(*fit_table(_options(), _table(values), None), 60, 0.95, []).to_pandas()
    assert (free["prediction_interval_lower_bound"] < 0).any()  # without the limit the forecast leaves it
    spec, arrays = fit_table(_options(**options), _table(values), None)
    got = forecast_table(spec, arrays, 60, 0.95, []).to_pandas()
    upper = options.get("forecast_limit_upper_bound", np.inf)
    for column in ("forecast_value", "prediction_interval_lower_bound", "prediction_interval_upper_bound"):
        assert ((got[column] > 0.0) & (got[column] < upper)).all(), column
    assert (got["prediction_interval_lower_bound"] < got["forecast_value"]).all()
    assert (got["forecast_value"] < got["prediction_interval_upper_bound"]).all()


def test_a_limited_model_is_the_unlimited_model_of_the_transformed_series():
    values = _falling()
    limits = Limits(lower=-2.0)
    spec, arrays = fit_table(_options(forecast_limit_lower_bound=-2.0), _table(values), None)
    got = forecast_table(spec, arrays, 10, 0.8, []).to_pandas()
    plain = forecast_table(*fit_table(_options(), _table(np.log(values + 2.0)), None), 10, 0.8, []).to_pandas()
    np.testing.assert_allclose(got["forecast_value"], -2.0 + np.exp(plain["forecast_value"]))
    np.testing.assert_allclose(got["prediction_interval_upper_bound"], -2.0 + np.exp(plain["prediction_interval_upper_bound"]))
    np.testing.assert_allclose(got["standard_error"], plain["standard_error"] * limits.slope(plain["forecast_value"].to_numpy()))


def test_training_points_at_or_beyond_a_bound_are_left_out():
    values = 10 + np.sin(np.arange(N) / 5) + np.random.default_rng(1).normal(0, 0.1, N)
    values[[20, 21, 50]] = [12.0, 15.0, 12.5]  # at or over the upper bound 12
    spec, arrays = fit_table(_options(forecast_limit_upper_bound=12.0), _table(values), None)
    history = series_history(spec, arrays, 0)
    assert list(np.flatnonzero(history.interpolated)) == [20, 21, 50]
    assert (history.data < 12.0).all()
    keep = np.ones(N, dtype=bool)
    keep[[20, 21, 50]] = False
    np.testing.assert_allclose(history.data[keep], values[keep])


def test_a_series_entirely_beyond_a_bound_fails_clearly():
    message = (r"Every value of the time series is at or beyond the forecast limits \(forecast_limit_lower_bound = 5.0\); "
               r"points at or beyond a bound are left out of training, so none is left to fit\.")  # fmt: skip
    with pytest.raises(InvalidModelInputError, match=message):
        fit_table(_options(forecast_limit_lower_bound=5.0), _table(np.linspace(1.0, 5.0, N)), None)
    two = pa.table({"s": ["a"] * N + ["b"] * N, "d": pa.array(list(pd.date_range("2024-01-01", periods=N).date) * 2),
                    "y": np.concatenate([np.linspace(1.0, 5.0, N), _falling() + 10])})  # fmt: skip
    spec, _ = fit_table(_options(forecast_limit_lower_bound=5.0, time_series_id_col=["s"]), two, None)
    first, second = spec["time_series"]["series"]
    assert first["error"].startswith("Every value of the time series is at or beyond the forecast limits") and second["error"] is None
