"""Anomaly scores against a model's expected values: probabilities, bounds and flags as scipy's
normal distribution gives them, and the new-data form joined on the model's forecast."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.stats import norm

from sqlml.errors import InvalidModelInputError
from sqlml.ml.forecasting.anomalies import detect_history, detect_new, score
from sqlml.ml.forecasting.forecast import forecast_table
from sqlml.ml.forecasting.limits import Limits
from sqlml.ml.forecasting.training import fit_table
from sqlml.ml.models.arima_plus import ArimaPlusFamily

DAYS = pd.date_range("2024-01-01", periods=84, freq="D")
NEW_DAYS = pd.date_range(DAYS[-1], periods=15, freq="D")[1:]


def _level(level: float, n: int, rng) -> np.ndarray:
    """A stationary series: ``level`` plus unit white noise."""
    return level + rng.normal(0, 1.0, n)


def _options(**given) -> dict:
    """ARIMA_PLUS's resolved options: BigQuery's defaults, then ``given``."""
    options = {name: option.default for name, option in ArimaPlusFamily().option_table("ARIMA_PLUS").items()}
    return {**options, "model_type": "ARIMA_PLUS", "time_series_timestamp_col": "day", "time_series_data_col": "y", **given}


@pytest.fixture(scope="module")
def model():
    """An ARIMA_PLUS spec and arrays for two daily series (INT64 ids 1 and 2), without
    seasonality, so that the model's standard error is the noise's (with a seasonal component,
    MSTL takes some of the noise into the seasonal cycle and the intervals come out narrower)."""
    rng = np.random.default_rng(7)
    rows = pd.concat([pd.DataFrame({"shop": shop, "day": DAYS, "y": _level(level, len(DAYS), rng)}) for shop, level in ((1, 20.0), (2, 60.0))])
    options = _options(time_series_id_col=["shop"], horizon=14, seasonalities=["NO_SEASONALITY"])
    spec, arrays = fit_table(options, pa.Table.from_pandas(rows, preserve_index=False), None)
    return spec, arrays


def _expected_scores(values, mean, se, threshold):
    """The same scores by scipy's distribution functions, written independently."""
    lower, upper = norm.interval(threshold, loc=mean, scale=se)
    probability = norm.cdf(np.abs(values - mean), scale=se) - norm.cdf(-np.abs(values - mean), scale=se)
    return probability, lower, upper, (values < lower) | (values > upper)


@pytest.mark.parametrize("threshold", [0.0, 0.5, 0.9, 0.95, 0.999])
def test_scores_are_the_normal_probability_and_interval(threshold):
    rng = np.random.default_rng(1)
    mean, se = rng.normal(10, 3, 200), rng.uniform(0.5, 2.0, 200)
    values = mean + se * rng.normal(0, 2.0, 200)
    got = score(values, mean, se, threshold)
    probability, lower, upper, flags = _expected_scores(values, mean, se, threshold)
    np.testing.assert_allclose(got.probability, probability, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.lower, lower, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.upper, upper, rtol=1e-12, atol=1e-12)
    assert (got.is_anomaly == 1.0).tolist() == flags.tolist()
    assert ((got.probability > threshold) == flags).all()


def test_scores_of_missing_values_and_a_constant_series():
    got = score(np.array([5.0, 6.0, np.nan, 1.0]), np.array([5.0, 5.0, 5.0, np.nan]), np.array([0.0, 0.0, 1.0, np.nan]), 0.95)
    assert got.probability[:2].tolist() == [0.0, 1.0] and np.isnan(got.probability[2:]).all()
    assert got.is_anomaly[:2].tolist() == [0.0, 1.0] and np.isnan(got.is_anomaly[2:]).all()
    # a missing value still has the model's bounds; a point the model has no forecast for has none
    assert got.lower[:3].tolist() == [5.0, 5.0, 5.0 - norm.ppf(0.975)] and np.isnan(got.lower[3])
    flags = got.columns()[0]
    assert flags.to_pylist() == [False, True, None, None]


def test_scores_under_forecast_limits_are_normal_on_the_unbounded_scale():
    # forecast_limit_lower_bound = 0: the model is normal on log(y) (limits.py)
    mean, se = np.log([10.0, 10.0, 10.0, 10.0]), np.array([0.1, 0.1, 0.1, 0.1])
    values = np.array([10.5, 15.0, 0.0, -3.0])
    got = score(values, mean, se, 0.95, Limits(lower=0.0))
    with np.errstate(divide="ignore"):
        deviation = np.abs(np.log(values[:2]) - mean[:2])
    np.testing.assert_allclose(got.probability[:2], norm.cdf(deviation, scale=0.1) - norm.cdf(-deviation, scale=0.1), rtol=1e-12)
    lower, upper = np.exp(norm.interval(0.95, loc=mean, scale=se))
    np.testing.assert_allclose(got.lower, lower, rtol=1e-12)
    np.testing.assert_allclose(got.upper, upper, rtol=1e-12)
    # at or beyond the limit the model puts no probability: certainly an anomaly
    assert got.probability[2:].tolist() == [1.0, 1.0] and got.is_anomaly.tolist() == [0.0, 1.0, 1.0, 1.0]


def test_history_rows_are_the_observed_points_of_the_fitted_series():
    rng = np.random.default_rng(4)
    gappy = pd.DataFrame({"shop": 1, "day": DAYS, "y": _level(20.0, len(DAYS), rng)}).drop(index=[10, 11, 40])
    tiny = pd.DataFrame({"shop": 2, "day": DAYS[:2], "y": [1.0, 2.0]})  # two points: fails, no rows
    rows = pa.Table.from_pandas(pd.concat([gappy, tiny]), preserve_index=False)
    spec, arrays = fit_table(_options(time_series_id_col=["shop"]), rows, None)
    got = detect_history(spec, arrays, 0.9, [pa.int64()])
    assert got.column("shop").to_pylist() == [1] * len(gappy)
    assert got.column("day").to_pylist() == [pd.Timestamp(day, tz="UTC") for day in gappy["day"]]
    assert got.column("y").to_pylist() == pytest.approx(gappy["y"].tolist(), rel=1e-12)
    assert got.column("anomaly_probability").null_count == 0


def _new_points(rng) -> pd.DataFrame:
    frames = [
        pd.DataFrame({"shop": shop, "day": NEW_DAYS, "y": _level(level, len(NEW_DAYS), rng), "note": f"s{shop}"})
        for shop, level in ((1, 20.0), (2, 60.0))
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize(("threshold", "others"), [(0.95, 1), (0.99, 0)])
def test_new_points_are_scored_against_the_forecast(model, threshold, others):
    spec, arrays = model
    rows = _new_points(np.random.default_rng(11))
    outliers = [2, 9, 20]  # shop 1 on its 3rd and 10th new day, shop 2 on its 7th
    rows.loc[outliers, "y"] += [6.0, -6.0, 6.0]
    got = detect_new(spec, arrays, pa.Table.from_pandas(rows, preserve_index=False), threshold, [pa.int64()]).to_pandas()
    forecast = forecast_table(spec, arrays, 14, threshold, [pa.int64()]).to_pandas()
    np.testing.assert_allclose(got["lower_bound"], forecast["prediction_interval_lower_bound"], rtol=1e-12)
    np.testing.assert_allclose(got["upper_bound"], forecast["prediction_interval_upper_bound"], rtol=1e-12)
    mean, se = forecast["forecast_value"].to_numpy(), forecast["standard_error"].to_numpy()
    probability, _, _, flags = _expected_scores(rows["y"].to_numpy(), mean, se, threshold)
    np.testing.assert_allclose(got["anomaly_probability"], probability, rtol=1e-12, atol=1e-15)
    assert got["is_anomaly"].tolist() == flags.tolist()
    flagged = set(got.index[got["is_anomaly"]])
    assert set(outliers) <= flagged and len(flagged - set(outliers)) <= others
    assert got["note"].tolist() == rows["note"].tolist() and got["y"].tolist() == rows["y"].tolist()


def test_columns_types_and_order(model):
    spec, arrays = model
    rows = _new_points(np.random.default_rng(2))[["note", "y", "day", "shop"]]
    rows["day"] = rows["day"].dt.date  # a DATE column: BigQuery's TIMESTAMP comes out
    rows["y"] = rows["y"].round().astype("int64")  # an INT64 data column: FLOAT64 comes out
    got = detect_new(spec, arrays, pa.Table.from_pandas(rows, preserve_index=False), 0.95, [pa.int64()])
    assert [(f.name, f.type) for f in got.schema] == [
        ("shop", pa.int64()), ("day", pa.timestamp("us", tz="UTC")), ("y", pa.float64()), ("is_anomaly", pa.bool_()),
        ("lower_bound", pa.float64()), ("upper_bound", pa.float64()), ("anomaly_probability", pa.float64()), ("note", pa.string()),
    ]  # fmt: skip
    assert got.column("day").to_pylist()[0] == pd.Timestamp(NEW_DAYS[0], tz="UTC")


def test_points_the_model_cannot_forecast_have_null_results(model):
    spec, arrays = model
    points = [
        (1, NEW_DAYS[0], 20.0),  # known series, first forecast step: a result
        (3, NEW_DAYS[0], 20.0),  # unknown series
        (1, NEW_DAYS[-1] + pd.Timedelta(days=1), 20.0),  # one step past the horizon (14)
        (1, NEW_DAYS[0] + pd.Timedelta(hours=6), 20.0),  # off the daily grid
        (2, DAYS[-1], 60.0),  # the last training day: not a forecast
        (2, None, 60.0),  # no timestamp
        (2, NEW_DAYS[-1], None),  # no value: the bounds only
    ]
    table = pa.table({"shop": [p[0] for p in points], "day": pa.array([p[1] for p in points], pa.timestamp("us")), "y": [p[2] for p in points]})
    got = detect_new(spec, arrays, table, 0.95, [pa.int64()])
    assert got.column("is_anomaly").to_pylist() == [False, None, None, None, None, None, None]
    assert [v is not None for v in got.column("lower_bound").to_pylist()] == [True, False, False, False, False, False, True]
    assert got.column("anomaly_probability").null_count == 6


def test_a_series_far_beyond_the_horizon_alone_needs_no_forecast(model):
    spec, arrays = model
    table = pa.table({"shop": [1], "day": pa.array([pd.Timestamp("2030-01-01")], pa.timestamp("us")), "y": [1.0]})
    assert detect_new(spec, arrays, table, 0.95, [pa.int64()]).column("lower_bound").to_pylist() == [None]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pa.table({"shop": [1], "y": [1.0]}), r"ML.DETECT_ANOMALIES's input data has no column day, the model's time_series_timestamp_col\."),
        (pa.table({"shop": [1], "DAY": pa.array([0], pa.timestamp("us"))}), r"input data has no column y, the model's time_series_data_col\."),
        (pa.table({"shop": ["1"], "day": pa.array([0], pa.timestamp("us")), "y": [1.0]}),
         r"The column shop of ML.DETECT_ANOMALIES's input data must be INT64, as in training; it is string\."),
        (pa.table({"shop": [1], "day": ["2024-01-01"], "y": [1.0]}),
         r"The column day of ML.DETECT_ANOMALIES's input data must be TIMESTAMP, DATE or DATETIME, as in training; it is string\."),
        (pa.table({"shop": [1], "day": pa.array([0], pa.timestamp("us")), "y": ["1"]}),
         r"The column y of ML.DETECT_ANOMALIES's input data must be INT64, NUMERIC, BIGNUMERIC or FLOAT64, as in training; it is string\."),
    ],
)  # fmt: skip
def test_input_columns_must_match_training(model, table, message):
    spec, arrays = model
    with pytest.raises(InvalidModelInputError, match=message):
        detect_new(spec, arrays, table, 0.95, [pa.int64()])


def test_monthly_steps_follow_the_calendar():
    # calendar months are 28 to 31 days: the forecast must reach the input's last month
    months = pd.date_range("2019-01-01", periods=48, freq="MS")
    rng = np.random.default_rng(6)
    rows = pa.table({"day": months.as_unit("us"), "y": 50.0 + rng.normal(0, 1.0, 48)})
    spec, arrays = fit_table(_options(horizon=12, seasonalities=["NO_SEASONALITY"]), rows, None)
    ahead = pd.date_range(months[-1], periods=13, freq="MS")[1:]
    new = pa.table({"day": pa.array([ahead[0], ahead[11], ahead[11] + pd.Timedelta(days=1)], pa.timestamp("us")), "y": [50.0, 50.0, 50.0]})
    got = detect_new(spec, arrays, new, 0.95, [])
    assert [value is not None for value in got.column("lower_bound").to_pylist()] == [True, True, False]


def test_a_series_with_a_null_id_is_a_series_too():
    rng = np.random.default_rng(9)
    rows = pa.table({"shop": pa.array([None] * len(DAYS), pa.int64()), "day": DAYS.as_unit("us"), "y": _level(5.0, len(DAYS), rng)})
    spec, arrays = fit_table(_options(time_series_id_col=["shop"], horizon=3, seasonalities=["NO_SEASONALITY"]), rows, None)
    new = pa.table({"shop": pa.array([None, 1], pa.int64()), "day": pa.array([NEW_DAYS[0]] * 2, pa.timestamp("us")), "y": [5.0, 5.0]})
    got = detect_new(spec, arrays, new, 0.95, [pa.int64()])
    assert got.column("shop").to_pylist() == [None, 1] and got.column("is_anomaly").to_pylist() == [False, None]
