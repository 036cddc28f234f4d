"""ML.DETECT_ANOMALIES of ARIMA_PLUS models in SQL: BigQuery's columns and types, the threshold
setting, agreement with ML.FORECAST's prediction intervals, and composition with other SQL.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-detect-anomalies
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.stats import norm

import sqlml
from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.forecasting.history import series_history
from sqlml.ml.models.model import Model
from sqlml.store.records import ModelRef

#: BigQuery's TIMESTAMP as the warehouse returns it (DuckDB's TIMESTAMPTZ, UTC).
TIMESTAMP = pa.timestamp("us", tz="Etc/UTC")
RESULT_COLUMNS = [("is_anomaly", pa.bool_()), ("lower_bound", pa.float64()), ("upper_bound", pa.float64()), ("anomaly_probability", pa.float64())]
DAYS = pd.date_range("2024-01-01", periods=98, freq="D")
TRAINED = DAYS[:84]


def _visits() -> pd.DataFrame:
    """Two daily series (page STRING) with a weekly pattern; the last 14 days are "new"."""
    rng = np.random.default_rng(5)
    frames = []
    for page, level in (("home", 100.0), ("shop", 40.0)):
        values = level + 6.0 * np.sin(2 * np.pi * np.arange(len(DAYS)) / 7) + rng.normal(0, 1.0, len(DAYS))
        frames.append(pd.DataFrame({"page": page, "day": DAYS, "visits": values, "source": f"log-{page}"}))
    return pd.concat(frames, ignore_index=True)


#: The sensor readings' injected outliers: (sensor, day index) → offset, in units of the noise.
INJECTED = {("s1", 30): 8.0, ("s1", 75): -8.0, ("s2", 50): 9.0}


def _readings() -> pd.DataFrame:
    """Two daily sensors (INT64 ids would do too; STRING here) with a weekly pattern, unit noise
    and the :data:`INJECTED` outliers."""
    rng = np.random.default_rng(3)
    frames = []
    for sensor, level in (("s1", 10.0), ("s2", 50.0)):
        values = level + 4.0 * np.sin(2 * np.pi * np.arange(112) / 7) + rng.normal(0, 1.0, 112)
        for (which, day), offset in INJECTED.items():
            values[day] += offset if which == sensor else 0.0
        frames.append(pd.DataFrame({"sensor": sensor, "at": pd.date_range("2024-01-01", periods=112, freq="D"), "reading": values}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root: Path = tmp_path_factory.mktemp("anomalies")
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as connection:
        connection.query("CREATE SCHEMA ds")
        connection.register("visits_frame", _visits())
        connection.query("CREATE TABLE ds.visits AS SELECT page, day::TIMESTAMPTZ AS day, visits, source FROM visits_frame")
        connection.query(
            "CREATE MODEL ds.visits_model OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='day', "
            "time_series_data_col='visits', time_series_id_col='page', horizon=14) AS "
            f"SELECT page, day, visits FROM ds.visits WHERE day <= TIMESTAMP '{TRAINED[-1]}'"
        )
        connection.query(f"CREATE TABLE ds.new_visits AS SELECT * FROM ds.visits WHERE day > TIMESTAMP '{TRAINED[-1]}'")
        connection.register("readings_frame", _readings())
        connection.query("CREATE TABLE ds.readings AS SELECT sensor, at::DATE AS at, reading FROM readings_frame")
        connection.query(
            "CREATE MODEL ds.sensors OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='at', "
            "time_series_data_col='reading', time_series_id_col='sensor') AS SELECT * FROM ds.readings"
        )
        yield connection


def test_new_data_columns_and_types(con):
    got = con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.visits_model, STRUCT(0.9 AS anomaly_prob_threshold), TABLE ds.new_visits)").arrow()
    assert [(f.name, f.type) for f in got.schema] == [
        ("page", pa.string()), ("day", TIMESTAMP), ("visits", pa.float64()), *RESULT_COLUMNS, ("source", pa.string()),
    ]  # fmt: skip
    assert got.num_rows == 28 and got.column("anomaly_probability").null_count == 0


@pytest.mark.parametrize("threshold", [0.8, 0.95, 0.99])
def test_new_data_bounds_are_ml_forecasts_intervals(con, threshold):
    rows = con.query(
        f"SELECT d.*, f.forecast_value, f.standard_error, f.prediction_interval_lower_bound AS lo, f.prediction_interval_upper_bound AS hi "
        f"FROM ML.DETECT_ANOMALIES(MODEL ds.visits_model, STRUCT({threshold} AS anomaly_prob_threshold), TABLE ds.new_visits) AS d "
        f"JOIN ML.FORECAST(MODEL ds.visits_model, STRUCT(14 AS horizon, {threshold} AS confidence_level)) AS f "
        f"ON d.page = f.page AND d.day = f.forecast_timestamp ORDER BY d.page, d.day"
    ).arrow().to_pandas()  # fmt: skip
    assert len(rows) == 28
    np.testing.assert_allclose(rows["lower_bound"], rows["lo"], rtol=1e-12)
    np.testing.assert_allclose(rows["upper_bound"], rows["hi"], rtol=1e-12)
    deviation = np.abs(rows["visits"] - rows["forecast_value"])
    expected = norm.cdf(deviation, scale=rows["standard_error"]) - norm.cdf(-deviation, scale=rows["standard_error"])
    np.testing.assert_allclose(rows["anomaly_probability"], expected, rtol=1e-12, atol=1e-15)
    assert rows["is_anomaly"].tolist() == ((rows["visits"] < rows["lo"]) | (rows["visits"] > rows["hi"])).tolist()


def test_the_default_threshold_is_0_95(con):
    default = con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.visits_model, TABLE ds.new_visits)").arrow()
    explicit = con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.visits_model, STRUCT(0.95 AS anomaly_prob_threshold), TABLE ds.new_visits)")
    assert default.equals(explicit.arrow())


def test_rows_the_model_cannot_forecast_are_null_and_kept(con):
    got = con.query(
        "SELECT page, day, is_anomaly, lower_bound FROM ML.DETECT_ANOMALIES(MODEL ds.visits_model, ("
        "SELECT 'blog' AS page, TIMESTAMP '2024-03-30 00:00:00+00' AS day, 1.0 AS visits UNION ALL "
        "SELECT 'home', TIMESTAMP '2024-04-30 00:00:00+00', 1.0 UNION ALL "
        "SELECT 'home', TIMESTAMP '2024-03-30 12:00:00+00', 1.0 UNION ALL "
        "SELECT 'home', TIMESTAMP '2024-03-30 00:00:00+00', 1.0)) ORDER BY page, day"
    ).arrow().to_pylist()  # fmt: skip
    assert [(row["page"], row["is_anomaly"], row["lower_bound"] is None) for row in got] == [
        ("blog", None, True), ("home", True, False), ("home", None, True), ("home", None, True),
    ]  # fmt: skip


def test_empty_new_data_gives_no_rows_with_the_columns(con):
    got = con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.visits_model, (SELECT * FROM ds.new_visits WHERE FALSE))").arrow()
    assert got.num_rows == 0 and got.column_names == ["page", "day", "visits", *(name for name, _ in RESULT_COLUMNS), "source"]


@pytest.mark.parametrize("threshold", ["1.0", "-0.1", "1.5"])
def test_a_threshold_outside_0_1_is_refused(con, threshold):
    message = rf"ML.DETECT_ANOMALIES's anomaly_prob_threshold must be in \[0, 1\)\. Got {float(threshold)} instead\."
    with pytest.raises(InvalidOptionError, match=message) as caught:
        con.query(f"SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.visits_model, STRUCT({threshold} AS anomaly_prob_threshold), TABLE ds.new_visits)")
    assert caught.value.option == "anomaly_prob_threshold"


def test_settings_of_other_model_types_are_refused(con):
    with pytest.raises(InvalidOptionError, match=r"ML.DETECT_ANOMALIES has no setting 'contamination'\."):
        con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.visits_model, STRUCT(0.1 AS contamination), TABLE ds.new_visits)")


def test_input_columns_must_match_training(con):
    message = r"The column page of ML.DETECT_ANOMALIES's input data must be STRING, as in training; it is int64\."
    with pytest.raises(InvalidModelInputError, match=message):
        con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.visits_model, (SELECT 1 AS page, day, visits FROM ds.new_visits))")
    with pytest.raises(InvalidModelInputError, match=r"ML.DETECT_ANOMALIES's input data has no column visits, the model's time_series_data_col\."):
        con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.visits_model, (SELECT page, day FROM ds.new_visits))")


def test_models_of_other_types_are_refused(con):
    con.query("CREATE OR REPLACE MODEL ds.linear OPTIONS(model_type='linear_reg', input_label_cols=['visits']) AS SELECT visits, page FROM ds.visits")
    with pytest.raises(sqlml.ModelError, match=r"ML.DETECT_ANOMALIES does not support LINEAR_REG models; it needs [A-Z_, ]*\bARIMA_PLUS\b"):
        con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.linear, STRUCT(0.9 AS anomaly_prob_threshold), TABLE ds.new_visits)")


def test_detections_compose_with_tables_views_and_joins(con):
    call = "ML.DETECT_ANOMALIES(MODEL ds.visits_model, STRUCT(0.8 AS anomaly_prob_threshold), TABLE ds.new_visits)"
    con.query(f"CREATE OR REPLACE TABLE ds.flags AS SELECT * FROM {call}")
    con.query(f"CREATE OR REPLACE VIEW ds.flag_view AS SELECT page, day, is_anomaly FROM {call}")
    rows = con.query(
        "SELECT t.page, COUNT(*) AS n, COUNTIF(t.is_anomaly = v.is_anomaly) AS same FROM ds.flags AS t "
        "JOIN ds.flag_view AS v USING (page, day) GROUP BY t.page ORDER BY t.page"
    ).arrow().to_pylist()
    assert rows == [{"page": "home", "n": 14, "same": 14}, {"page": "shop", "n": 14, "same": 14}]


def _history(con, threshold: float) -> pd.DataFrame:
    rows = con.query(f"SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.sensors, STRUCT({threshold} AS anomaly_prob_threshold)) ORDER BY sensor, at")
    return rows.arrow().to_pandas()


def test_history_columns_and_rows(con):
    got = con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.sensors)").arrow()
    assert [(f.name, f.type) for f in got.schema] == [("sensor", pa.string()), ("at", TIMESTAMP), ("reading", pa.float64()), *RESULT_COLUMNS]
    frame = got.to_pandas().sort_values(["sensor", "at"])
    readings = _readings()
    assert frame["reading"].tolist() == pytest.approx(readings["reading"].tolist(), rel=1e-12)
    assert frame["at"].dt.tz_localize(None).tolist() == readings["at"].tolist()


def test_history_flags_the_injected_outliers(con):
    strict = _history(con, 0.99)
    flagged = {(row.sensor, (row.at.tz_localize(None) - pd.Timestamp("2024-01-01")).days) for row in strict[strict.is_anomaly].itertuples()}
    # every injected point, and at most one ordinary point (a 2.6-sigma noise point is beyond 0.99 too)
    assert set(INJECTED) <= flagged and len(flagged - set(INJECTED)) <= 1
    # at 0.95 the injected points and about 5 % of the others, as a calibrated model flags
    loose = _history(con, 0.95)
    assert loose["is_anomaly"].sum() - len(INJECTED) <= 0.08 * (len(loose) - len(INJECTED))
    assert strict["is_anomaly"].le(loose["is_anomaly"]).all()


@pytest.mark.parametrize("threshold", [0.9, 0.99])
def test_history_scores_are_the_normal_distribution_of_the_fitted_values(con, threshold):
    store = con.models
    model = Model.load(store.verified_files(store.resolve(ModelRef.parse("ds.sensors"))))
    got = _history(con, threshold)
    for index, sensor in enumerate(("s1", "s2")):
        history = series_history(model.spec, model.arrays, index)
        rows = got[got.sensor == sensor]
        lower, upper = norm.interval(threshold, loc=history.fitted, scale=history.sigma)
        deviation = np.abs(history.data - history.fitted)
        np.testing.assert_allclose(rows["lower_bound"], lower, rtol=1e-12)
        np.testing.assert_allclose(rows["upper_bound"], upper, rtol=1e-12)
        expected = norm.cdf(deviation, scale=history.sigma) - norm.cdf(-deviation, scale=history.sigma)
        np.testing.assert_allclose(rows["anomaly_probability"], expected, rtol=1e-12, atol=1e-15)
        assert rows["is_anomaly"].tolist() == ((history.data < lower) | (history.data > upper)).tolist()


def test_history_needs_a_decomposed_model(con):
    con.query(
        "CREATE OR REPLACE MODEL ds.plain OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='at', "
        "time_series_data_col='reading', decompose_time_series=FALSE) AS SELECT at, reading FROM ds.readings WHERE sensor = 's1'"
    )
    message = r"ML.DETECT_ANOMALIES needs a model trained with decompose_time_series=TRUE, which keeps the training history; ds.plain was not\."
    with pytest.raises(sqlml.ModelError, match=message) as caught:
        con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.plain)")
    assert "TABLE t" in caught.value.hint
    # new data needs no history
    got = con.query("SELECT is_anomaly FROM ML.DETECT_ANOMALIES(MODEL ds.plain, (SELECT DATE '2024-04-22' AS at, 1000.0 AS reading))")
    assert got.arrow().to_pylist() == [{"is_anomaly": True}]


@pytest.fixture(scope="module")
def xreg(con):
    """An ARIMA_PLUS_XREG model of pm25 on temperature (70 days, an outlier on day 40), and the
    14 days after it as new data."""
    rng = np.random.default_rng(8)
    days = pd.date_range("2024-01-01", periods=84, freq="D")
    temperature = 15.0 + 5.0 * rng.normal(size=84)
    pm25 = 20.0 + 0.8 * temperature + rng.normal(0, 1.0, 84)
    pm25[40] += 8.0
    con.register("air_frame", pd.DataFrame({"day": days.date, "pm25": pm25, "temperature": temperature}))
    con.query("CREATE TABLE ds.air AS SELECT * FROM air_frame")
    con.query(
        "CREATE MODEL ds.air_model OPTIONS(model_type='ARIMA_PLUS_XREG', time_series_timestamp_col='day', "
        "time_series_data_col='pm25', horizon=14) AS SELECT * FROM ds.air WHERE day < DATE '2024-03-11'"
    )
    return con


def test_xreg_new_data_bounds_are_ml_forecasts_intervals_with_the_regressors(xreg):
    future = "(SELECT * FROM ds.air WHERE day >= DATE '2024-03-11')"
    rows = xreg.query(
        f"SELECT d.*, f.forecast_value, f.standard_error, f.prediction_interval_lower_bound AS lo, f.prediction_interval_upper_bound AS hi "
        f"FROM ML.DETECT_ANOMALIES(MODEL ds.air_model, STRUCT(0.9 AS anomaly_prob_threshold), {future}) AS d "
        f"JOIN ML.FORECAST(MODEL ds.air_model, STRUCT(14 AS horizon, 0.9 AS confidence_level), {future}) AS f "
        f"ON d.day = f.forecast_timestamp ORDER BY d.day"
    ).arrow().to_pandas()  # fmt: skip
    assert list(rows.columns[:7]) == ["day", "pm25", *(name for name, _ in RESULT_COLUMNS), "temperature"]
    assert len(rows) == 14
    np.testing.assert_allclose(rows["lower_bound"], rows["lo"], rtol=1e-12)
    np.testing.assert_allclose(rows["upper_bound"], rows["hi"], rtol=1e-12)
    deviation = np.abs(rows["pm25"] - rows["forecast_value"])
    expected = norm.cdf(deviation, scale=rows["standard_error"]) - norm.cdf(-deviation, scale=rows["standard_error"])
    np.testing.assert_allclose(rows["anomaly_probability"], expected, rtol=1e-12, atol=1e-15)


def test_xreg_history_is_in_data_units_and_flags_the_outlier(xreg):
    got = xreg.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.air_model, STRUCT(0.99 AS anomaly_prob_threshold)) ORDER BY day").arrow().to_pandas()
    trained = xreg.query("SELECT pm25 FROM ds.air WHERE day < DATE '2024-03-11' ORDER BY day").arrow().column("pm25").to_numpy()
    np.testing.assert_allclose(got["pm25"], trained, rtol=1e-12)
    assert got.index[got["is_anomaly"]].tolist() == [40]
    # the bounds are fit ± z·sigma around the model's fit of the data (regression included)
    centre, sigma = (got["lower_bound"] + got["upper_bound"]) / 2, (got["upper_bound"] - got["lower_bound"]) / (2 * norm.ppf(0.995))
    assert np.abs(trained - centre).median() < 1.5 and np.ptp(sigma) < 1e-9 and 0.5 < sigma[0] < 1.5
    deviation = np.abs(trained - centre)
    expected = norm.cdf(deviation, scale=sigma) - norm.cdf(-deviation, scale=sigma)
    np.testing.assert_allclose(got["anomaly_probability"], expected, rtol=1e-9, atol=1e-12)


def test_forecast_limits_keep_bounds_inside_and_agree_with_ml_forecast(con):
    con.query(
        "CREATE OR REPLACE MODEL ds.bounded OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='at', time_series_data_col='reading', "
        "forecast_limit_lower_bound=0, horizon=7) AS SELECT at, reading FROM ds.readings WHERE sensor = 's1' AND at < DATE '2024-04-01'"
    )
    rows = con.query(
        "SELECT d.*, f.forecast_value, f.prediction_interval_lower_bound AS lo, f.prediction_interval_upper_bound AS hi "
        "FROM ML.DETECT_ANOMALIES(MODEL ds.bounded, STRUCT(0.99 AS anomaly_prob_threshold), "
        "(SELECT at, reading FROM ds.readings WHERE sensor = 's1' AND at >= DATE '2024-04-01')) AS d "
        "JOIN ML.FORECAST(MODEL ds.bounded, STRUCT(7 AS horizon, 0.99 AS confidence_level)) AS f ON d.at = f.forecast_timestamp"
    ).arrow().to_pandas()  # fmt: skip
    assert len(rows) == 7 and (rows["lower_bound"] > 0).all()
    np.testing.assert_allclose(rows["lower_bound"], rows["lo"], rtol=1e-9)
    np.testing.assert_allclose(rows["upper_bound"], rows["hi"], rtol=1e-9)
    # on the log scale the model is normal: the probability of the value's distance from the forecast there
    z = norm.ppf(0.995)
    sigma = (np.log(rows["hi"]) - np.log(rows["lo"])) / (2 * z)
    deviation = np.abs(np.log(rows["reading"]) - np.log(rows["forecast_value"]))
    np.testing.assert_allclose(rows["anomaly_probability"], norm.cdf(deviation, scale=sigma) - norm.cdf(-deviation, scale=sigma), rtol=1e-9)
    history = con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.bounded)").arrow().to_pandas()
    assert (history["lower_bound"] > 0).all() and history["anomaly_probability"].notna().all()
