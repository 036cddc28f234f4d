"""ML.EXPLAIN_FORECAST: BigQuery's columns, types and order, the identities of its page point by
point, the known parts of a generated series recovered, forecast rows equal to ML.FORECAST's,
composable, and refused clearly when the model kept no decomposition."""

from __future__ import annotations

import holidays as holiday_library
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import sqlml
from sqlml.ml.forecasting.history import smooth_trend

N = 800
YEARS = 1100  # three years and a bit: YEARLY needs three cycles of 365 days
DAYS = pd.date_range("2020-01-01", periods=YEARS, freq="D")
STEP_AT, STEP = 500, 25.0
SPIKES = {200: 50.0, 650: -45.0}
THANKSGIVING = 30.0
TIMESTAMP = pa.timestamp("us", tz="Etc/UTC")
CREATE = "CREATE OR REPLACE MODEL ds.{name} OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='d', time_series_data_col='y', {options}) AS {query}"


def _known(n: int = N, yearly: float = 0.0) -> dict[str, np.ndarray]:
    """Known parts of a daily series of ``n`` days: trend, weekly (and yearly) sines, a step of
    +25, two spikes, Thanksgiving +30 and N(0, 1) noise."""
    t = np.arange(n)
    us = holiday_library.country_holidays("US", years=range(2020, 2024))
    parts = {
        "trend": 100 + 0.02 * t,
        "weekly": 6 * np.sin(2 * np.pi * t / 7),
        "yearly": yearly * np.sin(2 * np.pi * t / 365),
        "step": np.where(t >= STEP_AT, STEP, 0.0),
        "spikes": np.zeros(n),
        "holiday": np.array([THANKSGIVING if us.get(day) == "Thanksgiving Day" else 0.0 for day in DAYS[:n].date]),
        "noise": np.random.default_rng(7).normal(0, 1, n),
    }
    parts["spikes"][list(SPIKES)] = list(SPIKES.values())
    return parts


@pytest.fixture(scope="module")
def known() -> dict[str, np.ndarray]:
    return _known()


@pytest.fixture(scope="module")
def con(known):
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE SCHEMA ds")
        connection.register("generated", pd.DataFrame({"d": DAYS[:N].date, "y": sum(known.values())}))
        connection.query("CREATE TABLE ds.generated AS SELECT * FROM generated")
        connection.query(CREATE.format(name="known", options="holiday_region='US', horizon=60", query="SELECT * FROM ds.generated"))
        small = pd.DataFrame({"s": np.repeat(["a", "b", "tiny"], [80, 80, 2]), "d": np.concatenate([DAYS[:80].date, DAYS[:80].date, DAYS[:2].date]),
                              "y": np.concatenate([50 + 3 * np.sin(np.arange(80)), 20 + 0.1 * np.arange(80) + np.random.default_rng(1).normal(0, 1, 80), [1, 2]])})  # fmt: skip
        connection.register("small", small)
        connection.query("CREATE TABLE ds.small_rows AS SELECT * FROM small")
        connection.query(CREATE.format(name="small", options="time_series_id_col='s', horizon=10", query="SELECT * FROM ds.small_rows"))
        yield connection


@pytest.fixture(scope="module")
def explained(con) -> pd.DataFrame:
    return con.query("SELECT * FROM ML.EXPLAIN_FORECAST(MODEL ds.known, STRUCT(30 AS horizon, 0.9 AS confidence_level))").arrow().to_pandas()


def test_columns_types_and_order(con):
    table = con.query("SELECT * FROM ML.EXPLAIN_FORECAST(MODEL ds.known)").arrow()
    float_columns = ["time_series_data", "time_series_adjusted_data", "standard_error", "confidence_level",
                     "prediction_interval_lower_bound", "prediction_interval_upper_bound", "trend", "seasonal_period_yearly",
                     "seasonal_period_quarterly", "seasonal_period_monthly", "seasonal_period_weekly", "seasonal_period_daily",
                     "holiday_effect", "spikes_and_dips", "step_changes", "residual"]  # fmt: skip
    expected = [("time_series_timestamp", TIMESTAMP), ("time_series_type", pa.string()), *((name, pa.float64()) for name in float_columns)]
    assert [(f.name, f.type) for f in table.schema][: len(expected)] == expected
    holidays = table.schema.names[len(expected) :]
    assert "holiday_effect_Thanksgiving_Day" in holidays and "holiday_effect_Christmas" in holidays
    assert all(name.startswith("holiday_effect_") and table.schema.field(name).type == pa.float64() for name in holidays)
    frame = table.to_pandas()
    assert list(frame["time_series_type"]) == ["history"] * N + ["forecast"] * 3  # the default horizon is 3
    assert frame["time_series_timestamp"].is_monotonic_increasing
    assert list(frame["time_series_timestamp"].dt.tz_localize(None)[:N]) == list(DAYS[:N])


def test_history_and_forecast_identities_hold_point_by_point(explained):
    history, forecast = explained[explained["time_series_type"] == "history"], explained[explained["time_series_type"] == "forecast"]
    seasonal = ["seasonal_period_weekly"]
    holidays = [name for name in explained.columns if name.startswith("holiday_effect_")]
    adjusted = explained["trend"] + explained[seasonal].sum(axis=1) + explained["holiday_effect"]
    np.testing.assert_allclose(explained["time_series_adjusted_data"], adjusted, atol=1e-9)
    np.testing.assert_allclose(explained["holiday_effect"], explained[holidays].sum(axis=1), atol=1e-9)
    parts = history["time_series_adjusted_data"] + history["spikes_and_dips"] + history["step_changes"] + history["residual"]
    np.testing.assert_allclose(history["time_series_data"], parts, atol=1e-9)
    np.testing.assert_allclose(forecast["time_series_data"], forecast["time_series_adjusted_data"])
    assert forecast[["spikes_and_dips", "step_changes", "residual"]].isna().all().all()
    assert history[["confidence_level", "prediction_interval_lower_bound", "prediction_interval_upper_bound"]].isna().all().all()
    assert (forecast["confidence_level"] == 0.9).all() and history["standard_error"].notna().all()
    empty = ["seasonal_period_yearly", "seasonal_period_quarterly", "seasonal_period_monthly", "seasonal_period_daily"]
    assert explained[empty].isna().all().all() and explained[[*seasonal, "holiday_effect", *holidays]].notna().all().all()


def _check_recovered(history: pd.DataFrame, known: dict[str, np.ndarray]) -> None:
    np.testing.assert_allclose(history["time_series_data"], sum(known.values()))
    assert np.abs(history["seasonal_period_weekly"] - known["weekly"]).max() < 1.5
    steps = history["step_changes"].to_numpy()
    assert steps[STEP_AT - 1] - steps[STEP_AT] == pytest.approx(-STEP, abs=2.5)
    assert np.count_nonzero(np.diff(steps)) == 1 and steps[-1] == 0.0
    spikes = history["spikes_and_dips"].to_numpy()
    assert sorted(np.flatnonzero(spikes)) == sorted(SPIKES)
    np.testing.assert_allclose(spikes[list(SPIKES)], list(SPIKES.values()), atol=4.0)
    thanksgiving = np.flatnonzero(known["holiday"])
    np.testing.assert_allclose(history["holiday_effect_Thanksgiving_Day"][thanksgiving], THANKSGIVING, atol=3.0)
    assert history["residual"].std() < 1.5


def test_the_known_parts_are_recovered(explained, known):
    _check_recovered(explained[explained["time_series_type"] == "history"].reset_index(drop=True), known)


@pytest.mark.xfail(strict=True, reason="preparation with a YEARLY period over three years flags noise as spikes — a known limit of the spike-and-dip cleaning, kept visible by strict xfail")
def test_a_yearly_seasonality_is_recovered_with_the_other_parts(con):
    known = _known(YEARS, yearly=15.0)
    con.register("three_years", pd.DataFrame({"d": DAYS.date, "y": sum(known.values())}))
    con.query(CREATE.format(name="yearly", options="holiday_region='US'", query="SELECT * FROM three_years"))
    explained = con.query("SELECT * FROM ML.EXPLAIN_FORECAST(MODEL ds.yearly)").arrow().to_pandas()
    history = explained[explained["time_series_type"] == "history"].reset_index(drop=True)
    assert np.abs(history["seasonal_period_yearly"] - known["yearly"]).max() < 4.0
    _check_recovered(history, known)


def test_forecast_rows_equal_ml_forecast(con, explained):
    forecast = explained[explained["time_series_type"] == "forecast"].reset_index(drop=True)
    expected = con.query("SELECT * FROM ML.FORECAST(MODEL ds.known, STRUCT(30 AS horizon, 0.9 AS confidence_level))").arrow().to_pandas()
    assert list(forecast["time_series_timestamp"]) == list(expected["forecast_timestamp"])
    for mine, theirs in (("time_series_data", "forecast_value"), ("standard_error", "standard_error"),
                         ("prediction_interval_lower_bound", "prediction_interval_lower_bound"),
                         ("prediction_interval_upper_bound", "prediction_interval_upper_bound")):  # fmt: skip
        np.testing.assert_allclose(forecast[mine], expected[theirs], rtol=1e-12, err_msg=mine)


def test_series_follow_each_other_and_a_failed_one_has_no_rows(con):
    frame = con.query("SELECT * FROM ML.EXPLAIN_FORECAST(MODEL ds.small, STRUCT(4 AS horizon))").arrow().to_pandas()
    assert list(frame.columns[:3]) == ["s", "time_series_timestamp", "time_series_type"]
    assert list(frame["s"]) == ["a"] * 84 + ["b"] * 84
    assert list(frame["time_series_type"][:84]) == ["history"] * 80 + ["forecast"] * 4
    assert frame["holiday_effect"].isna().all() and not any(name.startswith("holiday_effect_") for name in frame.columns)


def test_composes_with_tables_views_and_joins(con):
    con.query("CREATE OR REPLACE TABLE ds.explained AS SELECT * FROM ML.EXPLAIN_FORECAST(MODEL ds.small)")
    con.query("CREATE OR REPLACE VIEW ds.explained_view AS SELECT s, time_series_timestamp, trend FROM ML.EXPLAIN_FORECAST(MODEL ds.small)")
    rows = con.query(
        "SELECT e.s, e.time_series_type, COUNT(*) AS n FROM ds.explained AS e JOIN ds.explained_view AS v "
        "USING (s, time_series_timestamp) WHERE e.trend = v.trend GROUP BY e.s, e.time_series_type ORDER BY e.s, e.time_series_type"
    ).arrow().to_pylist()
    assert rows == [{"s": s, "time_series_type": kind, "n": n} for s in ("a", "b") for kind, n in (("forecast", 3), ("history", 80))]


def test_trend_smoothing_changes_the_history_trend_only(con):
    con.query(CREATE.format(name="smoothed", options="time_series_id_col='s', horizon=10, trend_smoothing_window_size=5", query="SELECT * FROM ds.small_rows"))
    query = "SELECT * FROM ML.EXPLAIN_FORECAST(MODEL ds.{}, STRUCT(4 AS horizon)) ORDER BY s, time_series_timestamp"
    plain, smoothed = (con.query(query.format(name)).arrow().to_pandas() for name in ("small", "smoothed"))
    for s in ("a", "b"):
        rows, other = (plain["s"] == s) & (plain["time_series_type"] == "history"), (smoothed["s"] == s) & (smoothed["time_series_type"] == "history")
        np.testing.assert_allclose(smoothed["trend"][other], smooth_trend(plain["trend"][rows].to_numpy(), 5))
        np.testing.assert_allclose((smoothed["trend"] + smoothed["residual"])[other], (plain["trend"] + plain["residual"])[rows])
    forecast = plain["time_series_type"] == "forecast"
    np.testing.assert_allclose(smoothed["time_series_data"][forecast], plain["time_series_data"][forecast])


def test_limits_keep_the_identities_and_the_forecast_inside(con):
    con.query(CREATE.format(name="limited", options="time_series_id_col='s', horizon=10, forecast_limit_lower_bound=0, forecast_limit_upper_bound=60",
                            query="SELECT * FROM ds.small_rows WHERE s <> 'tiny'"))  # fmt: skip
    frame = con.query("SELECT * FROM ML.EXPLAIN_FORECAST(MODEL ds.limited, STRUCT(10 AS horizon))").arrow().to_pandas()
    history = frame[frame["time_series_type"] == "history"]
    parts = history["trend"] + history["seasonal_period_weekly"].fillna(0) + history["spikes_and_dips"] + history["step_changes"] + history["residual"]
    np.testing.assert_allclose(history["time_series_data"], parts, atol=1e-9)
    forecast = frame[frame["time_series_type"] == "forecast"]
    assert ((forecast["prediction_interval_lower_bound"] > 0) & (forecast["prediction_interval_upper_bound"] < 60)).all()
    adjusted = forecast["trend"] + forecast["seasonal_period_weekly"].fillna(0)
    np.testing.assert_allclose(forecast["time_series_adjusted_data"], adjusted, atol=1e-9)


def test_refused_without_decomposition_and_with_a_bad_horizon(con):
    con.query(CREATE.format(name="plain", options="time_series_id_col='s', decompose_time_series=FALSE", query="SELECT * FROM ds.small_rows"))
    with pytest.raises(sqlml.ModelError, match=r"ML.EXPLAIN_FORECAST needs a model trained with decompose_time_series=TRUE; ds.plain was not\."):
        con.query("SELECT * FROM ML.EXPLAIN_FORECAST(MODEL ds.plain)")
    assert con.query("SELECT COUNT(*) AS n FROM ML.FORECAST(MODEL ds.plain)").arrow().to_pylist() == [{"n": 6}]
    with pytest.raises(sqlml.InvalidOptionError, match=r"ML.EXPLAIN_FORECAST's horizon must be between 1 and the model's horizon \(10\)\. Got 11 instead\."):
        con.query("SELECT * FROM ML.EXPLAIN_FORECAST(MODEL ds.small, STRUCT(11 AS horizon))")
    with pytest.raises(sqlml.InvalidOptionError, match=r"ML.EXPLAIN_FORECAST's confidence_level must be in \[0, 1\)\. Got 1.0 instead\."):
        con.query("SELECT * FROM ML.EXPLAIN_FORECAST(MODEL ds.small, STRUCT(1.0 AS confidence_level))")


def _regressed() -> pd.DataFrame:
    """y = 3·x1 − 2·x2 + a weekly pattern + noise: 84 training days and 14 future ones."""
    rng = np.random.default_rng(7)
    x1, x2 = rng.normal(10, 2, 98), rng.normal(5, 1, 98)
    y = 3 * x1 - 2 * x2 + 4 * np.sin(2 * np.pi * np.arange(98) / 7) + rng.normal(0, 0.5, 98)
    return pd.DataFrame({"d": DAYS[:98].date, "y": y, "x1": x1, "x2": x2})


def test_an_xreg_models_rows_carry_each_regressors_attribution(con):
    from sklearn.linear_model import LinearRegression

    frame = _regressed()
    con.register("regressed", frame)
    con.query("CREATE OR REPLACE MODEL ds.xreg OPTIONS(model_type='ARIMA_PLUS_XREG', time_series_timestamp_col='d', "
              "time_series_data_col='y', horizon=14) AS SELECT * FROM regressed WHERE d < DATE '2020-03-25'")  # fmt: skip
    future = "(SELECT d, x1, x2 FROM regressed WHERE d >= DATE '2020-03-25')"
    got = con.query(f"SELECT * FROM ML.EXPLAIN_FORECAST(MODEL ds.xreg, STRUCT(14 AS horizon), {future})").arrow().to_pandas()
    assert list(got.columns[17:]) == ["residual", "attribution_x1", "attribution_x2"]
    weights = LinearRegression().fit(frame[["x1", "x2"]][:84], frame["y"][:84]).coef_
    np.testing.assert_allclose(got["attribution_x1"], weights[0] * frame["x1"], rtol=1e-9)
    np.testing.assert_allclose(got["attribution_x2"], weights[1] * frame["x2"], rtol=1e-9)
    history, forecast = got[got["time_series_type"] == "history"], got[got["time_series_type"] == "forecast"]
    np.testing.assert_allclose(history["time_series_data"], frame["y"][:84])
    attributed = got["attribution_x1"] + got["attribution_x2"]
    parts = history["trend"] + history["seasonal_period_weekly"] + history["spikes_and_dips"] + history["step_changes"] + history["residual"]
    np.testing.assert_allclose(history["time_series_data"], parts + attributed[:84], atol=1e-9)
    np.testing.assert_allclose(got["time_series_adjusted_data"], got["trend"] + got["seasonal_period_weekly"] + attributed, atol=1e-9)
    expected = con.query(f"SELECT * FROM ML.FORECAST(MODEL ds.xreg, STRUCT(14 AS horizon), {future})").arrow().to_pandas()
    for mine, theirs in (("time_series_data", "forecast_value"), ("prediction_interval_upper_bound", "prediction_interval_upper_bound")):
        np.testing.assert_allclose(forecast[mine], expected[theirs], rtol=1e-12)
    with pytest.raises(sqlml.InvalidModelInputError, match=r"ML.EXPLAIN_FORECAST of the ARIMA_PLUS_XREG model ds.xreg needs the future values of its external regressors\."):
        con.query("SELECT * FROM ML.EXPLAIN_FORECAST(MODEL ds.xreg)")
    with pytest.raises(sqlml.InvalidModelInputError, match=r"ML.EXPLAIN_FORECAST of ds.small takes no input data: the model has no external regressors\."):
        con.query(f"SELECT * FROM ML.EXPLAIN_FORECAST(MODEL ds.small, STRUCT(3 AS horizon), {future})")
