"""ML.EVALUATE of an ARIMA_PLUS model: forecasts matched to actual values by id and timestamp.

The metrics are recomputed here from ML.FORECAST's rows and the held-back values with
scikit-learn and NumPy; ML.FORECAST itself is checked against statsforecast in
tests/ml/models/test_arima_plus.py.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.metrics import mean_absolute_error, mean_absolute_percentage_error, mean_squared_error

import sqlml
from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.forecasting.evaluation import METRIC_NAMES, forecast_errors, naive_scale

TIMESTAMP = pa.timestamp("us", tz="Etc/UTC")
CUTOFF = "DATE '2024-03-01'"  # training: the 60 days before; held back: the 15 days from it
CUTOFF_DAY = pd.Timestamp("2024-03-01").date()
HELD_BACK = f"(SELECT store, day, sales FROM ds.sales WHERE day >= {CUTOFF})"


def _sales() -> pd.DataFrame:
    """Two daily stores with a trend, a weekly cycle and noise, 75 days each."""
    rng = np.random.default_rng(7)
    days = pd.date_range("2024-01-01", periods=75, freq="D")
    frames = []
    for store, level in (("north", 40.0), ("south", 90.0)):
        values = level + 0.4 * np.arange(75) + 6 * np.sin(2 * np.pi * np.arange(75) / 7) + rng.normal(0, 1.5, 75)
        frames.append(pd.DataFrame({"store": store, "day": days.date, "sales": values}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root: Path = tmp_path_factory.mktemp("evaluate_forecast")
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as connection:
        connection.query("CREATE SCHEMA ds")
        connection.register("sales_frame", _sales())
        connection.query("CREATE TABLE ds.sales AS SELECT * FROM sales_frame")
        connection.query(
            "CREATE MODEL ds.m OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='day', time_series_data_col='sales', "
            f"time_series_id_col='store', horizon=10) AS SELECT * FROM ds.sales WHERE day < {CUTOFF}"
        )
        connection.query(  # the same series named by two id columns, STRING and INT64
            "CREATE MODEL ds.two OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='day', time_series_data_col='sales', "
            "time_series_id_col=['store', 'dept'], horizon=3) AS SELECT store, IF(store = 'north', 1, 2) AS dept, day, sales "
            f"FROM ds.sales WHERE day < {CUTOFF}"
        )
        connection.query(  # one series, no history kept
            "CREATE MODEL ds.plain OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='day', time_series_data_col='sales', "
            f"decompose_time_series=FALSE, horizon=5) AS SELECT day, sales FROM ds.sales WHERE store = 'north' AND day < {CUTOFF}"
        )
        yield connection


def _joined(con, horizon: int, confidence: float = 0.95) -> pd.DataFrame:
    """ML.FORECAST's rows with the held-back value of each forecast day."""
    forecast = con.query(
        f"SELECT * FROM ML.FORECAST(MODEL ds.m, STRUCT({horizon} AS horizon, {confidence} AS confidence_level))"
    ).arrow().to_pandas()
    actual = _sales()
    actual["forecast_timestamp"] = pd.to_datetime(actual["day"]).dt.tz_localize("UTC")
    return forecast.merge(actual, on=["store", "forecast_timestamp"])


def _smape(actual, forecast) -> float:
    return float(np.mean(200 * np.abs(actual - forecast) / (np.abs(actual) + np.abs(forecast))))


def test_aggregated_metrics_per_series_equal_sklearns(con):
    table = con.query(f"SELECT * FROM ML.EVALUATE(MODEL ds.m, {HELD_BACK}) ORDER BY store").arrow()
    assert [(f.name, f.type) for f in table.schema] == [("store", pa.string())] + [(name, pa.float64()) for name in METRIC_NAMES]
    got = table.to_pandas().set_index("store")
    joined = _joined(con, horizon=10)  # the default horizon is the model's
    assert list(got.index) == ["north", "south"]
    for store, rows in joined.groupby("store"):
        assert len(rows) == 10
        a, f = rows["sales"].to_numpy(), rows["forecast_value"].to_numpy()
        row = got.loc[store]
        assert row["mean_absolute_error"] == pytest.approx(mean_absolute_error(a, f), rel=1e-12)
        assert row["mean_squared_error"] == pytest.approx(mean_squared_error(a, f), rel=1e-12)
        assert row["root_mean_squared_error"] == pytest.approx(np.sqrt(mean_squared_error(a, f)), rel=1e-12)
        assert row["mean_absolute_percentage_error"] == pytest.approx(100 * mean_absolute_percentage_error(a, f), rel=1e-12)
        assert row["symmetric_mean_absolute_percentage_error"] == pytest.approx(_smape(a, f), rel=1e-12)
        training = _sales().query("store == @store and day < @CUTOFF_DAY")["sales"].to_numpy()
        naive = np.mean(np.abs(np.diff(training)))  # the in-sample one-step naive error
        assert row["mean_absolute_scaled_error"] == pytest.approx(mean_absolute_error(a, f) / naive, rel=1e-9)


def test_mase_is_null_for_a_model_that_kept_no_history(con):
    row = con.query(f"SELECT * FROM ML.EVALUATE(MODEL ds.plain, (SELECT day, sales FROM {HELD_BACK} WHERE store = 'north'))").arrow()
    assert row.column_names == list(METRIC_NAMES) and row.num_rows == 1
    assert row.column("mean_absolute_scaled_error").to_pylist() == [None] and row.column("mean_absolute_error")[0].as_py() > 0


def test_an_xreg_model_is_evaluated_on_the_regressors_of_the_input(con):
    con.query("CREATE OR REPLACE TABLE ds.promo AS SELECT day, sales + 5 * (EXTRACT(DAY FROM day) % 3) AS sales, "
              "EXTRACT(DAY FROM day) % 3 AS promo FROM ds.sales WHERE store = 'north'")  # fmt: skip
    con.query(
        "CREATE OR REPLACE MODEL ds.xreg OPTIONS(model_type='ARIMA_PLUS_XREG', time_series_timestamp_col='day', "
        f"time_series_data_col='sales', horizon=10) AS SELECT * FROM ds.promo WHERE day < {CUTOFF}"
    )
    held_back = f"(SELECT * FROM ds.promo WHERE day >= {CUTOFF} AND day < DATE '2024-03-08')"  # 7 of the 10 steps
    got = con.query(f"SELECT * FROM ML.EVALUATE(MODEL ds.xreg, {held_back})").arrow().to_pylist()
    forecast = con.query(f"SELECT * FROM ML.FORECAST(MODEL ds.xreg, STRUCT(7 AS horizon), {held_back})").arrow().to_pandas()
    actual = con.query(f"SELECT sales FROM {held_back} ORDER BY day").arrow().column("sales").to_numpy()
    assert len(got) == 1 and len(forecast) == 7
    assert got[0]["mean_absolute_error"] == pytest.approx(mean_absolute_error(actual, forecast["forecast_value"]), rel=1e-12)
    assert got[0]["mean_squared_error"] == pytest.approx(mean_squared_error(actual, forecast["forecast_value"]), rel=1e-12)
    training = con.query(f"SELECT sales FROM ds.promo WHERE day < {CUTOFF} ORDER BY day").arrow().column("sales").to_numpy()
    naive = np.mean(np.abs(np.diff(training)))  # MASE scales by the data's naive error, not the residual's
    assert got[0]["mean_absolute_scaled_error"] == pytest.approx(got[0]["mean_absolute_error"] / naive, rel=1e-9)


def test_the_horizon_setting_limits_the_points_compared(con):
    got = con.query(f"SELECT store, mean_absolute_error FROM ML.EVALUATE(MODEL ds.m, {HELD_BACK}, STRUCT(3 AS horizon)) ORDER BY store")
    joined = _joined(con, horizon=3)
    expected = [mean_absolute_error(rows["sales"], rows["forecast_value"]) for _, rows in joined.groupby("store")]
    assert [mae for _, mae in got.fetchall()] == pytest.approx(expected, rel=1e-12)


def test_series_named_by_two_id_columns_keep_their_types(con):
    dept = "IF(store = 'north', 1, 2) AS dept"
    table = con.query(f"SELECT * FROM ML.EVALUATE(MODEL ds.two, (SELECT store, {dept}, day, sales FROM {HELD_BACK})) ORDER BY store").arrow()
    assert [(f.name, f.type) for f in table.schema][:3] == [("store", pa.string()), ("dept", pa.int64()), ("mean_absolute_error", pa.float64())]
    assert [(row["store"], row["dept"]) for row in table.to_pylist()] == [("north", 1), ("south", 2)]
    one_id = con.query(f"SELECT mean_absolute_error FROM ML.EVALUATE(MODEL ds.m, {HELD_BACK}, STRUCT(3 AS horizon)) ORDER BY store")
    assert table.column("mean_absolute_error").to_pylist() == pytest.approx([mae for (mae,) in one_id.fetchall()], rel=1e-12)


def test_per_point_rows_carry_the_forecast_interval_and_errors(con):
    query = (
        "SELECT * FROM ML.EVALUATE(MODEL ds.m, (SELECT store, CAST(day AS TIMESTAMP) AS day, sales FROM ds.sales "
        "WHERE day >= DATE '2024-02-28'), STRUCT(FALSE AS perform_aggregation, 4 AS horizon, 0.8 AS confidence_level))"
    )
    table = con.query(query).arrow()
    assert [(f.name, f.type) for f in table.schema] == [
        ("store", pa.string()), ("day", TIMESTAMP), ("sales", pa.float64()), ("forecasted_sales", pa.float64()),
        ("lower_bound", pa.float64()), ("upper_bound", pa.float64()), ("absolute_error", pa.float64()),
        ("absolute_percentage_error", pa.float64()),
    ]  # fmt: skip
    got = table.to_pandas()
    assert len(got) == 2 * 17 and list(got["store"]) == ["north"] * 17 + ["south"] * 17
    assert got.groupby("store")["day"].apply(lambda s: s.is_monotonic_increasing).all()
    matched = got.dropna(subset=["forecasted_sales"])
    assert sorted(set(matched["day"].dt.strftime("%m-%d"))) == ["03-01", "03-02", "03-03", "03-04"]
    history = got[got["day"] < pd.Timestamp("2024-03-01", tz="UTC")]
    assert len(history) == 4 and history[["forecasted_sales", "lower_bound", "absolute_error"]].isna().all().all()
    expected = _joined(con, horizon=4, confidence=0.8).drop(columns="day").rename(columns={"forecast_timestamp": "day"})
    merged = matched.merge(expected, on=["store", "day"])
    assert len(merged) == 8
    np.testing.assert_allclose(merged["forecasted_sales"], merged["forecast_value"], rtol=1e-12)
    np.testing.assert_allclose(merged["lower_bound"], merged["prediction_interval_lower_bound"], rtol=1e-12)
    np.testing.assert_allclose(merged["upper_bound"], merged["prediction_interval_upper_bound"], rtol=1e-12)
    np.testing.assert_allclose(merged["absolute_error"], np.abs(merged["sales_x"] - merged["forecast_value"]), rtol=1e-12)
    np.testing.assert_allclose(merged["absolute_percentage_error"], 100 * merged["absolute_error"] / merged["sales_x"].abs(), rtol=1e-12)


def test_series_the_model_does_not_know_are_left_out_of_the_metrics(con):
    query = (
        f"SELECT * FROM ML.EVALUATE(MODEL ds.m, (SELECT * FROM {HELD_BACK} UNION ALL "
        f"SELECT 'east', {CUTOFF}, 10.0)) ORDER BY store"
    )
    assert [row[0] for row in con.query(query).fetchall()] == ["north", "south"]
    point = con.query(
        f"SELECT forecasted_sales FROM ML.EVALUATE(MODEL ds.m, (SELECT 'east' AS store, {CUTOFF} AS day, 10.0 AS sales), "
        "STRUCT(FALSE AS perform_aggregation))"
    ).fetchall()
    assert point == [(None,)]


def test_no_input_rows_give_no_rows(con):
    for model in ("ds.m", "ds.plain"):
        assert con.query(f"SELECT * FROM ML.EVALUATE(MODEL {model}, (SELECT * FROM ds.sales WHERE FALSE))").fetchall() == []


def test_evaluation_composes_with_filters_and_tables(con):
    con.query(f"CREATE OR REPLACE TABLE ds.accuracy AS SELECT * FROM ML.EVALUATE(MODEL ds.m, {HELD_BACK})")
    rows = con.query(
        "SELECT a.store FROM ds.accuracy AS a JOIN (SELECT DISTINCT store FROM ds.sales) AS s USING (store) "
        "WHERE a.mean_absolute_percentage_error < 100 ORDER BY a.store"
    ).fetchall()
    assert rows == [("north",), ("south",)]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (f"MODEL ds.m, {HELD_BACK}, STRUCT(11 AS horizon)", InvalidOptionError,
         r"ML.EVALUATE's horizon must be between 1 and the model's horizon \(10\)\. Got 11 instead\."),
        (f"MODEL ds.m, {HELD_BACK}, STRUCT(0 AS horizon)", InvalidOptionError,
         r"ML.EVALUATE's horizon must be between 1 and the model's horizon \(10\)\. Got 0 instead\."),
        (f"MODEL ds.m, {HELD_BACK}, STRUCT(0.8 AS confidence_level)", InvalidOptionError,
         r"ML.EVALUATE's confidence_level applies only with perform_aggregation=FALSE"),
        (f"MODEL ds.m, {HELD_BACK}, STRUCT(FALSE AS perform_aggregation, 1.5 AS confidence_level)", InvalidOptionError,
         r"ML.EVALUATE's confidence_level must be in \[0, 1\)\. Got 1.5 instead\."),
        (f"MODEL ds.m, {HELD_BACK}, STRUCT(0.5 AS threshold)", InvalidOptionError, r"ML.EVALUATE has no setting 'threshold'\."),
        ("MODEL ds.m, (SELECT store, day, sales AS amount FROM ds.sales)", InvalidModelInputError,
         r"The evaluation data has no column sales, which time_series_data_col names\."),
        ("MODEL ds.two, (SELECT store, '1' AS dept, day, sales FROM ds.sales)", InvalidModelInputError,
         r"The column dept \(time_series_id_col\) of the evaluation data is string; the model was trained with int64\."),
        ("MODEL ds.m, (SELECT store, CAST(day AS VARCHAR) AS day, sales FROM ds.sales)", InvalidModelInputError,
         r"The column day \(time_series_timestamp_col\) must be TIMESTAMP, DATE or DATETIME; it is string\."),
        ("MODEL ds.m, STRUCT(5 AS horizon)", InvalidOptionError, r"The horizon setting of ML.EVALUATE needs input data\."),
    ],
)  # fmt: skip
def test_bad_settings_and_input_are_clear_errors(con, call, error, message):
    with pytest.raises(error, match=message):
        con.query(f"SELECT * FROM ML.EVALUATE({call})")


def test_without_input_the_deprecated_form_gives_arima_evaluates_columns(con):
    got = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.m) ORDER BY store").arrow()
    expected = con.query(
        "SELECT * EXCEPT (error_message) FROM ML.ARIMA_EVALUATE(MODEL ds.m, STRUCT(FALSE AS show_all_candidate_models)) ORDER BY store"
    ).arrow()
    # the evaluate page lists `aic` lower-case where ML.ARIMA_EVALUATE's page writes `AIC`
    expected = expected.rename_columns(["aic" if name == "AIC" else name for name in expected.column_names])
    assert got.column_names[:5] == ["store", "non_seasonal_p", "non_seasonal_d", "non_seasonal_q", "has_drift"]
    assert "error_message" not in got.column_names and got.num_rows == 2
    assert got.equals(expected)


def test_forecast_errors_equal_numpys_and_mase_scales_by_the_naive_error():
    rng = np.random.default_rng(1)
    actual, forecast, history = rng.normal(50, 5, 12), rng.normal(50, 5, 12), rng.normal(50, 5, 40)
    history[[3, 17]] = np.nan  # NULL points: their steps are skipped
    steps = np.abs(np.diff(history))
    scale = float(np.nanmean(steps))
    assert naive_scale(history) == pytest.approx(scale, rel=1e-12)
    got = forecast_errors(actual, forecast, scale)
    assert got["mean_absolute_scaled_error"] == pytest.approx(mean_absolute_error(actual, forecast) / scale, rel=1e-12)
    assert got["symmetric_mean_absolute_percentage_error"] == pytest.approx(_smape(actual, forecast), rel=1e-12)
    assert forecast_errors(actual, forecast)["mean_absolute_scaled_error"] is None
    zero = forecast_errors(np.array([0.0, 2.0]), np.array([1.0, 1.0]))
    assert zero["mean_absolute_percentage_error"] == pytest.approx(50.0)  # a zero actual has no percentage error
    assert forecast_errors(np.empty(0), np.empty(0)) == dict.fromkeys(METRIC_NAMES)
