"""ARIMA_PLUS end to end: CREATE MODEL on series, ML.FORECAST, reloading, BigQuery's option rules.

Forecasts are checked against statsforecast called directly on the series F2's preparation
gives (:func:`sqlml.ml.forecasting.preparation.prepare`): auto.ARIMA over BigQuery's candidates
(``auto_arima_f`` with p + q ≤ 2, no seasonal ARIMA, AIC) on the adjusted series, plus each
seasonal component's last cycle repeated.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.stats import norm
from statsforecast.arima import auto_arima_f, forecast_arima

import sqlml
from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.forecasting.preparation import prepare

CO2 = Path(__file__).parents[2] / "fixtures" / "co2_weekly.csv"
CREATE = "CREATE OR REPLACE MODEL ds.{name} OPTIONS(model_type='ARIMA_PLUS', {options}) AS {query}"
CO2_OPTIONS = "time_series_timestamp_col='week', time_series_data_col='co2', horizon=20"
#: BigQuery's TIMESTAMP as the warehouse returns it (DuckDB's TIMESTAMPTZ, UTC).
TIMESTAMP = pa.timestamp("us", tz="Etc/UTC")
FORECAST_COLUMNS = [
    ("forecast_timestamp", TIMESTAMP), ("forecast_value", pa.float64()),
    ("standard_error", pa.float64()), ("confidence_level", pa.float64()),
    ("prediction_interval_lower_bound", pa.float64()), ("prediction_interval_upper_bound", pa.float64()),
    ("confidence_interval_lower_bound", pa.float64()), ("confidence_interval_upper_bound", pa.float64()),
]  # fmt: skip


def _sales() -> pd.DataFrame:
    """Three daily series (id: store STRING, dept INT64) with a trend and a weekly pattern, and
    one series of two points that cannot be fitted."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2024-01-01", periods=70, freq="D")
    frames = []
    for store, dept, level in (("north", 1, 50.0), ("north", 2, 20.0), ("south", 1, 80.0)):
        weekly = 5.0 * np.sin(2 * np.pi * np.arange(70) / 7)
        values = level + 0.3 * np.arange(70) + weekly + rng.normal(0, 1.0, 70)
        frames.append(pd.DataFrame({"store": store, "dept": dept, "day": days.date, "sales": values}))
    frames.append(pd.DataFrame({"store": "tiny", "dept": 9, "day": days[:2].date, "sales": [1.0, 2.0]}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("arima")


@pytest.fixture(scope="module")
def con(root):
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as connection:
        connection.query("CREATE SCHEMA ds")
        connection.query(
            f"CREATE TABLE ds.co2_weekly AS SELECT strptime(date::VARCHAR, '%Y%m%d') AS week, co2 "
            f"FROM read_csv_auto('{CO2}') WHERE date >= 19960101"
        )
        connection.register("sales_frame", _sales())
        connection.query("CREATE TABLE ds.sales_daily AS SELECT store, dept::BIGINT AS dept, day, sales FROM sales_frame")
        connection.query(CREATE.format(name="co2", options=CO2_OPTIONS, query="SELECT * FROM ds.co2_weekly"))
        connection.query(CREATE.format(name="sales", query="SELECT * FROM ds.sales_daily", options=(
            "time_series_timestamp_col='day', time_series_data_col='sales', time_series_id_col=['store', 'dept'], horizon=10")))  # fmt: skip
        yield connection


def _direct(timestamps, values, horizon: int, confidence: float) -> pd.DataFrame:
    """statsforecast on the prepared series: the forecast, its standard error and interval."""
    prepared = prepare(pd.DatetimeIndex(timestamps).as_unit("ns"), np.asarray(values, dtype=float))
    fitted = auto_arima_f(prepared.adjusted, seasonal=False, stepwise=False, ic="aic", max_order=2, max_p=2, max_q=2, approximation=False)
    level = round(confidence * 100)
    result = forecast_arima(fitted, h=horizon, level=[level])
    seasonal = sum((prepared.seasonal[name][-period:][np.arange(horizon) % period] for name, period in prepared.seasonal_periods.items()), np.zeros(horizon))
    z = norm.ppf(0.5 + confidence / 2)
    return pd.DataFrame({
        "forecast_value": result["mean"] + seasonal,
        "standard_error": (result["upper"][f"{level}%"].to_numpy() - result["mean"]) / z,
        "prediction_interval_lower_bound": result["lower"][f"{level}%"].to_numpy() + seasonal,
        "prediction_interval_upper_bound": result["upper"][f"{level}%"].to_numpy() + seasonal,
    })  # fmt: skip


def test_co2_forecasts_and_intervals_equal_statsforecasts(con):
    got = con.query("SELECT * FROM ML.FORECAST(MODEL ds.co2, STRUCT(8 AS horizon, 0.9 AS confidence_level))").arrow().to_pandas()
    rows = con.query("SELECT week, co2 FROM ds.co2_weekly ORDER BY week").arrow().to_pandas()
    expected = _direct(rows["week"], rows["co2"], 8, 0.9)
    for column in expected:
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-9, err_msg=column)
    np.testing.assert_allclose(got["confidence_interval_upper_bound"], got["prediction_interval_upper_bound"])
    weeks = pd.date_range(rows["week"].max(), periods=9, freq="7D", tz="UTC")[1:]
    assert list(got["forecast_timestamp"]) == list(weeks)
    assert (got["confidence_level"] == 0.9).all()


def test_forecast_columns_types_and_defaults(con):
    table = con.query("SELECT * FROM ML.FORECAST(MODEL ds.co2)").arrow()
    assert [(f.name, f.type) for f in table.schema] == FORECAST_COLUMNS
    assert table.num_rows == 3 and table.column("confidence_level").to_pylist() == [0.95] * 3


def test_many_series_in_one_statement(con):
    got = con.query("SELECT * FROM ML.FORECAST(MODEL ds.sales, STRUCT(4 AS horizon)) ORDER BY store, dept, forecast_timestamp").arrow()
    assert [(f.name, f.type) for f in got.schema] == [("store", pa.string()), ("dept", pa.int64()), *FORECAST_COLUMNS]
    frame = got.to_pandas()
    assert list(frame.groupby(["store", "dept"]).size().items()) == [(("north", 1), 4), (("north", 2), 4), (("south", 1), 4)]
    sales = _sales()
    for (store, dept), rows in frame.groupby(["store", "dept"]):
        series = sales[(sales.store == store) & (sales.dept == dept)]
        expected = _direct(pd.to_datetime(series["day"]), series["sales"], 4, 0.95)
        np.testing.assert_allclose(rows["forecast_value"], expected["forecast_value"], rtol=1e-9)
        np.testing.assert_allclose(rows["prediction_interval_lower_bound"], expected["prediction_interval_lower_bound"], rtol=1e-9)


def test_a_series_that_cannot_be_fitted_is_skipped_with_its_reason(con, root):
    store = con.models
    from sqlml.ml.models.model import Model
    from sqlml.store.records import ModelRef

    model = Model.load(store.verified_files(store.resolve(ModelRef.parse("ds.sales"))))
    tiny = [s for s in model.spec["time_series"]["series"] if s["id"] == ["tiny", 9]]
    assert tiny[0]["error"].startswith("A time series needs at least 3 points")


def test_a_reloaded_model_forecasts_the_same_numbers(con, root):
    query = "SELECT * FROM ML.FORECAST(MODEL ds.sales, STRUCT(10 AS horizon, 0.8 AS confidence_level)) ORDER BY store, dept, forecast_timestamp"
    before = con.query(query).arrow()
    with sqlml.connect(root / "warehouse2", root / "models", idle_release=0) as fresh:
        assert fresh.query(query).arrow().equals(before)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ("time_series_data_col='co2'", InvalidOptionError, "model_type='ARIMA_PLUS' needs the option time_series_timestamp_col."),
        (f"{CO2_OPTIONS}, non_seasonal_order=(1, 1, 1)", InvalidOptionError, r"non_seasonal_order requires auto_arima=FALSE\."),
        (f"{CO2_OPTIONS}, auto_arima=FALSE", InvalidOptionError, r"auto_arima=FALSE needs non_seasonal_order=\(p, d, q\)\."),
        (f"{CO2_OPTIONS}, auto_arima=FALSE, non_seasonal_order=(6, 1, 0)", InvalidOptionError,
         r"non_seasonal_order must be \(p, d, q\) with p and q in \[0, 5\] and d in \[0, 2\]\. Got \(6, 1, 0\) instead\."),
        (f"{CO2_OPTIONS}, auto_arima=FALSE, non_seasonal_order=(1, 0, 1), include_drift=TRUE", InvalidOptionError,
         "include_drift=TRUE needs d = 1 in non_seasonal_order; got d = 0."),
        (f"{CO2_OPTIONS}, auto_arima=FALSE, non_seasonal_order=(1, 1, 1), time_series_id_col='week'", InvalidOptionError,
         r"auto_arima must be TRUE when time_series_id_col is set"),
        (f"{CO2_OPTIONS}, auto_arima_min_order=2", InvalidOptionError, r"auto_arima_min_order \(2\) must be less than auto_arima_max_order \(2\)\."),
        ("time_series_timestamp_col='week', time_series_data_col='co2', horizon=10001", InvalidOptionError,
         r"The 'horizon' option of CREATE MODEL \(model_type='arima_plus'\) must be an integer in the range \[1, 10000\]\. Got 10001 instead\."),
        (f"{CO2_OPTIONS}, max_time_series_length=30, time_series_length_fraction=0.5", InvalidOptionError,
         "max_time_series_length cannot be combined with time_series_length_fraction or min_time_series_length."),
        ("time_series_timestamp_col='week', time_series_data_col='price'", InvalidModelInputError,
         "The training query has no column price, which time_series_data_col names."),
        ("time_series_timestamp_col='co2', time_series_data_col='co2'", InvalidModelInputError,
         r"The column co2 \(time_series_timestamp_col\) must be TIMESTAMP, DATE or DATETIME; it is double\."),
    ],
)  # fmt: skip
def test_option_and_column_errors(con, options, error, message):
    with pytest.raises(error, match=message):
        con.query(CREATE.format(name="bad", options=options, query="SELECT * FROM ds.co2_weekly"))


def test_an_infinite_value_is_an_error_naming_the_column(con):
    query = "SELECT week, IF(co2 > 370, CAST('inf' AS FLOAT64), co2) AS co2 FROM ds.co2_weekly"
    with pytest.raises(InvalidModelInputError, match=r"The column co2 \(time_series_data_col\) has \d+ infinite value\(s\)") as info:
        con.query(CREATE.format(name="bad", options=CO2_OPTIONS, query=query))
    assert info.value.column == "co2"


def test_forecast_settings_are_checked(con):
    with pytest.raises(InvalidOptionError, match=r"ML.FORECAST's horizon must be between 1 and the model's horizon \(20\)\. Got 21 instead\."):
        con.query("SELECT * FROM ML.FORECAST(MODEL ds.co2, STRUCT(21 AS horizon))")
    with pytest.raises(InvalidOptionError, match=r"ML.FORECAST's confidence_level must be in \[0, 1\)\. Got 1.0 instead\."):
        con.query("SELECT * FROM ML.FORECAST(MODEL ds.co2, STRUCT(1.0 AS confidence_level))")


def test_too_few_points_fail_and_keep_the_previous_model(con):
    before = con.query("SELECT * FROM ML.FORECAST(MODEL ds.co2)").arrow()
    with pytest.raises(InvalidModelInputError, match="The training query returned no rows."):
        con.query(CREATE.format(name="co2", options=CO2_OPTIONS, query="SELECT * FROM ds.co2_weekly WHERE FALSE"))
    with pytest.raises(InvalidModelInputError, match="A time series needs at least 3 points with a timestamp and a value"):
        con.query(CREATE.format(name="co2", options=CO2_OPTIONS, query="SELECT * FROM ds.co2_weekly ORDER BY week LIMIT 2"))
    assert con.query("SELECT * FROM ML.FORECAST(MODEL ds.co2)").arrow().equals(before)


def test_functions_for_other_model_types_refuse_an_arima_plus_model_clearly(con):
    with pytest.raises(sqlml.ModelError, match=r"ML.FEATURE_INFO does not support ARIMA_PLUS models: they have no feature columns\."):
        con.query("SELECT * FROM ML.FEATURE_INFO(MODEL ds.co2)")
    with pytest.raises(sqlml.ModelError, match=r"ML.PREDICT does not support ARIMA_PLUS models"):
        con.query("SELECT * FROM ML.PREDICT(MODEL ds.co2, (SELECT 1 AS x))")


def test_forecasts_compose_with_views_tables_and_joins(con):
    con.query("CREATE OR REPLACE TABLE ds.next_sales AS SELECT * FROM ML.FORECAST(MODEL ds.sales, STRUCT(2 AS horizon))")
    con.query("CREATE OR REPLACE VIEW ds.sales_view AS SELECT store, dept, forecast_value FROM ML.FORECAST(MODEL ds.sales)")
    rows = con.query(
        "SELECT t.store, t.dept, COUNT(*) AS n FROM ds.next_sales AS t JOIN ds.sales_view AS v USING (store, dept) "
        "GROUP BY t.store, t.dept ORDER BY t.store, t.dept"
    ).arrow().to_pylist()
    assert rows == [{"store": "north", "dept": 1, "n": 6}, {"store": "north", "dept": 2, "n": 6}, {"store": "south", "dept": 1, "n": 6}]


def test_forecasting_functions_run_in_scripts_with_variables(con):
    # a BigQuery script: the horizon a variable, a FOR loop over the series, ARIMA_EVALUATE's AIC in SET
    con.query("""
        DECLARE steps INT64 DEFAULT 4;
        DECLARE best_aic FLOAT64;
        CREATE OR REPLACE TABLE ds.script_forecasts (store STRING, n INT64);
        FOR series IN (SELECT DISTINCT store FROM ML.FORECAST(MODEL ds.sales, STRUCT(steps AS horizon))) DO
          INSERT INTO ds.script_forecasts
          SELECT series.store, COUNT(*) FROM ML.FORECAST(MODEL ds.sales, STRUCT(steps AS horizon)) WHERE store = series.store;
        END FOR;
        SET best_aic = (SELECT MIN(AIC) FROM ML.ARIMA_EVALUATE(MODEL ds.co2));
        ASSERT best_aic IS NOT NULL AS 'ML.ARIMA_EVALUATE gave no AIC';
    """)
    rows = con.query("SELECT store, n FROM ds.script_forecasts ORDER BY store").arrow().to_pylist()
    assert rows == [{"store": "north", "n": 8}, {"store": "south", "n": 4}]  # two north series, one south, 4 steps each


def test_forecast_limits_keep_forecasts_inside_and_a_series_beyond_them_fails(con):
    # https://cloud.google.com/bigquery/docs/arima-time-series-forecasting-with-limits-tutorial: forecast_limit_lower_bound = 0
    con.query(CREATE.format(name="sales_limited", query="SELECT * FROM ds.sales_daily", options=(
        "time_series_timestamp_col='day', time_series_data_col='sales', time_series_id_col=['store', 'dept'], "
        "horizon=10, forecast_limit_lower_bound=0, forecast_limit_upper_bound=100")))  # fmt: skip
    rows = con.query("SELECT * FROM ML.FORECAST(MODEL ds.sales_limited, STRUCT(10 AS horizon))").arrow().to_pandas()
    assert len(rows) == 30
    for column in ("forecast_value", "prediction_interval_lower_bound", "prediction_interval_upper_bound"):
        assert ((rows[column] > 0) & (rows[column] < 100)).all(), column
    with pytest.raises(InvalidModelInputError, match=r"Every value of the time series is at or beyond the forecast limits \(forecast_limit_upper_bound = 10\.0\)"):
        con.query(CREATE.format(name="beyond", options=f"{CO2_OPTIONS}, forecast_limit_upper_bound=10", query="SELECT * FROM ds.co2_weekly"))


def test_versions_record_the_training_rows(con):
    # every row of the training query trains a series model (no data split)
    rows = con.query("SELECT training_rows, eval_rows FROM ML.VERSIONS(MODEL ds.sales) ORDER BY version DESC LIMIT 1").arrow().to_pylist()
    assert rows == [{"training_rows": len(_sales()), "eval_rows": 0}]


MONTH_ENDS = (
    "CREATE OR REPLACE TABLE ds.month_end_values AS SELECT LAST_DAY(DATE '2021-01-15' + INTERVAL (i) MONTH) AS month, "
    "100 + 2 * i + 5 * SIN(i * PI() / 6) + (i * 37 % 11) / 10.0 AS v FROM range(36) AS t(i)"
)


def test_a_month_end_series_is_monthly_on_month_ends(con):
    # the MONTHLY grid of a series on month ends keeps month ends (it drifted to the 28th before)
    con.query(MONTH_ENDS)
    con.query(CREATE.format(name="month_ends", query="SELECT * FROM ds.month_end_values",
                            options="time_series_timestamp_col='month', time_series_data_col='v', data_frequency='MONTHLY'"))  # fmt: skip
    store = con.models
    from sqlml.ml.models.model import Model
    from sqlml.store.records import ModelRef

    model = Model.load(store.verified_files(store.resolve(ModelRef.parse("ds.month_ends"))))
    (series,) = model.spec["time_series"]["series"]
    assert (series["frequency"], series["error"]) == ("MONTHLY", None)
    assert pd.Timestamp(series["last_timestamp"], unit="us") == pd.Timestamp("2023-12-31")


def test_a_month_end_series_forecasts_month_ends(con):
    con.query(MONTH_ENDS)
    con.query(CREATE.format(name="month_ends", query="SELECT * FROM ds.month_end_values",
                            options="time_series_timestamp_col='month', time_series_data_col='v'"))  # fmt: skip
    got = con.query("SELECT forecast_timestamp FROM ML.FORECAST(MODEL ds.month_ends, STRUCT(4 AS horizon))").arrow()
    expected = pd.date_range("2024-01-31", periods=4, freq="ME", tz="UTC")
    assert [stamp.tz_convert("UTC") for stamp in got.column(0).to_pandas()] == list(expected)
