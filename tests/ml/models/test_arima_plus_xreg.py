"""ARIMA_PLUS_XREG end to end: CREATE MODEL with external regressors, ML.FORECAST with their future
values (either argument order), the stored weights, BigQuery's option rules and input errors.

Weights are checked against scikit-learn called directly (LinearRegression, Ridge for l2_reg);
forecasts against statsforecast's auto.ARIMA on the same residual series (prepared by
:func:`sqlml.ml.forecasting.preparation.prepare`, BigQuery's candidates: p + q ≤ 2, AIC) plus
each seasonal component's last cycle, plus the weights times the future regressors.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sklearn.linear_model import LinearRegression, Ridge
from statsforecast.arima import Arima, forecast_arima, ndiffs

import sqlml
from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.forecasting.preparation import prepare
from sqlml.ml.forecasting.regressors import attributions, history_attributions, regression_contribution, weight_rows
from sqlml.ml.models.catalog import family_of
from sqlml.ml.models.model import Model
from sqlml.store.records import ModelRef

CREATE = "CREATE OR REPLACE MODEL ds.{name} OPTIONS(model_type='ARIMA_PLUS_XREG', {options}) AS {query}"
OPTIONS = "time_series_timestamp_col='day', time_series_data_col='y', horizon=14"
TRAIN = "SELECT day, y, x1, x2 FROM ds.single_daily WHERE day < DATE '2024-03-25'"
FUTURE = "(SELECT day, x1, x2 FROM ds.single_daily WHERE day >= DATE '2024-03-25')"
TIMESTAMP = pa.timestamp("us", tz="Etc/UTC")
#: ML.FORECAST's columns, as for ARIMA_PLUS: the timestamp, then seven FLOAT64 columns.
FLOATS = ("forecast_value", "standard_error", "confidence_level", "prediction_interval_lower_bound",
          "prediction_interval_upper_bound", "confidence_interval_lower_bound", "confidence_interval_upper_bound")  # fmt: skip
FORECAST_COLUMNS = [("forecast_timestamp", TIMESTAMP), *((name, pa.float64()) for name in FLOATS)]


def _single() -> pd.DataFrame:
    """y = 3·x1 − 2·x2 + a weekly pattern + noise, 84 training days and 14 future ones."""
    rng = np.random.default_rng(7)
    days = pd.date_range("2024-01-01", periods=98, freq="D")
    x1, x2 = rng.normal(10, 2, 98), rng.normal(5, 1, 98)
    y = 3 * x1 - 2 * x2 + 4 * np.sin(2 * np.pi * np.arange(98) / 7) + rng.normal(0, 0.5, 98)
    return pd.DataFrame({"day": days.date, "y": y, "x1": x1, "x2": x2})


def _stores() -> pd.DataFrame:
    """Two series (id: store) with a numeric regressor holding NULLs and a STRING one."""
    rng = np.random.default_rng(11)
    frames = []
    for store, level in (("east", 40.0), ("west", 70.0)):
        days = pd.date_range("2024-01-01", periods=63, freq="D")
        price = rng.normal(2.0 if store == "east" else 3.0, 0.3, 63)
        promo = rng.choice(["none", "flyer", "tv"], 63, p=[0.6, 0.25, 0.15])
        effect = np.select([promo == "flyer", promo == "tv"], [5.0, 12.0], 0.0)
        sales = level - 6 * price + effect + 3 * np.sin(2 * np.pi * np.arange(63) / 7) + rng.normal(0, 0.4, 63)
        frame = pd.DataFrame({"store": store, "day": days.date, "sales": sales, "price": price, "promo": promo})
        frame.loc[[5, 20, 50], "price"] = None
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("xreg")


@pytest.fixture(scope="module")
def con(root):
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as connection:
        connection.query("CREATE SCHEMA ds")
        connection.register("single_frame", _single())
        connection.query("CREATE TABLE ds.single_daily AS SELECT * FROM single_frame")
        connection.register("stores_frame", _stores())
        connection.query("CREATE TABLE ds.store_sales AS SELECT * FROM stores_frame")
        connection.query(CREATE.format(name="single", options=OPTIONS, query=TRAIN))
        connection.query(CREATE.format(name="stores", query="SELECT * FROM ds.store_sales WHERE day < DATE '2024-02-26'", options=(
            "time_series_timestamp_col='day', time_series_data_col='sales', time_series_id_col='store', horizon=7")))  # fmt: skip
        yield connection


def _model(con, name: str) -> Model:
    store = con.models
    return Model.load(store.verified_files(store.resolve(ModelRef.parse(f"ds.{name}"))))


def _residual_forecast(days, residual, horizon: int) -> np.ndarray:
    """statsforecast's forecast of the prepared residual series plus its seasonal cycles: every
    ARIMA(p, d, q) with p + q ≤ 2 and KPSS's d fitted by CSS-ML (a mean when d = 0), lowest AIC."""
    prepared = prepare(pd.DatetimeIndex(pd.to_datetime(days)).as_unit("ns"), np.asarray(residual, dtype=float))
    d = int(ndiffs(prepared.adjusted, max_d=2))
    fits = [Arima(prepared.adjusted, order=(p, d, q), include_mean=d == 0, include_drift=drift, method="CSS-ML")
            for p in range(3) for q in range(3 - p) for drift in ({False, d == 1})]  # fmt: skip
    fitted = min(fits, key=lambda fit: fit["aic"])
    seasonal = sum((prepared.seasonal[name][-period:][np.arange(horizon) % period] for name, period in prepared.seasonal_periods.items()), np.zeros(horizon))
    return forecast_arima(fitted, h=horizon, level=[95])["mean"] + seasonal


# https://cloud.google.com/bigquery/docs/arima-plus-xreg-single-time-series-forecasting-tutorial, as published
TUTORIAL_CREATE = """CREATE OR REPLACE MODEL
  `bqml_tutorial.seattle_pm25_xreg_model`
  OPTIONS (
    MODEL_TYPE = 'ARIMA_PLUS_XREG',
    time_series_timestamp_col = 'date',
    time_series_data_col = 'pm25')
AS
SELECT date, pm25, temperature, wind_speed
FROM `bqml_tutorial.seattle_air_quality_daily`
WHERE date BETWEEN DATE('2012-01-01') AND DATE('2020-12-31')"""
TUTORIAL_FORECAST = """SELECT * FROM ML.FORECAST(
    MODEL `bqml_tutorial.seattle_pm25_xreg_model`,
    STRUCT(30 AS horizon, 0.8 AS confidence_level),
    (SELECT date, temperature, wind_speed FROM `bqml_tutorial.seattle_air_quality_daily` WHERE date > DATE('2020-12-31')))"""


def test_the_tutorials_statements_run_and_forecast_the_held_back_month(con):
    rng = np.random.default_rng(5)
    days = pd.date_range("2020-09-01", "2021-01-30", freq="D")
    temperature, wind = rng.normal(50, 8, len(days)), rng.gamma(3, 1.5, len(days))
    pm25 = 30 - 0.2 * temperature - 1.5 * wind + 2 * np.sin(2 * np.pi * np.arange(len(days)) / 7) + rng.normal(0, 0.5, len(days))
    con.register("air", pd.DataFrame({"date": days.date, "pm25": pm25, "temperature": temperature, "wind_speed": wind}))
    con.query("CREATE SCHEMA IF NOT EXISTS bqml_tutorial; CREATE OR REPLACE TABLE bqml_tutorial.seattle_air_quality_daily AS SELECT * FROM air")
    con.query(TUTORIAL_CREATE)
    got = con.query(TUTORIAL_FORECAST).arrow().to_pandas()
    assert len(got) == 30 and (got["confidence_level"] == 0.8).all()
    assert list(got["forecast_timestamp"].dt.date) == list(days[days > "2020-12-31"].date)
    # the noise's sd is 0.5; without the regressors the error would be about 4
    assert np.abs(got["forecast_value"].to_numpy() - pm25[days > "2020-12-31"]).mean() < 0.6


def test_weights_equal_scikit_learns_least_squares(con):
    model = _model(con, "single")
    rows = _single().iloc[:84]
    direct = LinearRegression().fit(rows[["x1", "x2"]], rows["y"])
    np.testing.assert_allclose(model.arrays["xreg.weights"], [direct.coef_], rtol=1e-9)
    np.testing.assert_allclose(model.arrays["xreg.intercepts"], [direct.intercept_], rtol=1e-9)
    assert model.spec["xreg"]["regressors"] == ["x1", "x2"] and model.spec["xreg"]["processed_inputs"] == ["x1", "x2"]
    assert abs(direct.coef_[0] - 3) < 0.3 and abs(direct.coef_[1] + 2) < 0.3


def test_l2_reg_is_ridges_alpha(con):
    con.query(CREATE.format(name="ridge", options=f"{OPTIONS}, l2_reg=25.0", query=TRAIN))
    rows = _single().iloc[:84]
    direct = Ridge(alpha=25.0).fit(rows[["x1", "x2"]], rows["y"])
    model = _model(con, "ridge")
    np.testing.assert_allclose(model.arrays["xreg.weights"], [direct.coef_], rtol=1e-9)
    np.testing.assert_allclose(model.arrays["xreg.intercepts"], [direct.intercept_], rtol=1e-9)


def test_a_bool_regressor_is_dummy_encoded(con):
    con.query(CREATE.format(name="hot", options=OPTIONS, query=TRAIN.replace("x1, x2", "x1, x2 > 5 AS hot")))
    rows = _single().iloc[:84]
    hot = (rows["x2"] > 5).to_numpy()
    dropped = "true" if hot.sum() > (~hot).sum() else "false"  # the most frequent category is dropped
    kept = ~hot if dropped == "true" else hot
    direct = LinearRegression().fit(np.column_stack([rows["x1"], kept]), rows["y"])
    model = _model(con, "hot")
    assert model.spec["xreg"]["processed_inputs"] == ["x1", f"hot_{'false' if dropped == 'true' else 'true'}"]
    np.testing.assert_allclose(model.arrays["xreg.weights"], [direct.coef_], rtol=1e-9)


def test_forecast_is_the_residual_forecast_plus_the_regression(con):
    got = con.query(f"SELECT * FROM ML.FORECAST(MODEL ds.single, STRUCT(10 AS horizon, 0.9 AS confidence_level), {FUTURE})").arrow()
    assert [(f.name, f.type) for f in got.schema] == FORECAST_COLUMNS
    rows = _single()
    train, future = rows.iloc[:84], rows.iloc[84:94]
    direct = LinearRegression().fit(train[["x1", "x2"]], train["y"])
    residual = train["y"] - direct.predict(train[["x1", "x2"]])
    expected = _residual_forecast(train["day"], residual, 10) + direct.predict(future[["x1", "x2"]])
    frame = got.to_pandas()
    np.testing.assert_allclose(frame["forecast_value"], expected, rtol=1e-7)
    assert list(frame["forecast_timestamp"].dt.date) == list(future["day"])
    half = frame["prediction_interval_upper_bound"] - frame["forecast_value"]
    np.testing.assert_allclose(half, 1.6448536269514722 * frame["standard_error"], rtol=1e-9)
    np.testing.assert_allclose(frame["confidence_interval_lower_bound"], frame["prediction_interval_lower_bound"])
    assert np.abs(frame["forecast_value"] - future["y"].to_numpy()).max() < 3


def test_the_table_may_come_before_the_struct(con):
    struct_first = con.query(f"SELECT * FROM ML.FORECAST(MODEL ds.single, STRUCT(5 AS horizon), {FUTURE})").arrow()
    con.query("CREATE OR REPLACE TABLE ds.future AS SELECT day, x2, x1, 'unused' AS note FROM ds.single_daily WHERE day >= DATE '2024-03-25'")
    table_first = con.query("SELECT * FROM ML.FORECAST(MODEL ds.single, TABLE ds.future, STRUCT(5 AS horizon))").arrow()
    assert table_first.equals(struct_first) and table_first.num_rows == 5


def test_series_regressions_use_means_over_all_series_and_dummy_categories(con):
    model = _model(con, "stores")
    rows = _stores()
    train = rows[pd.to_datetime(rows["day"]) < "2024-02-26"].copy()
    train["price"] = train["price"].fillna(train["price"].mean())  # the mean over both series
    dummies = pd.get_dummies(train["promo"], dtype=float).drop(columns="none")  # "none" is the most frequent
    assert model.spec["xreg"]["processed_inputs"] == ["price", "promo_flyer", "promo_tv"]
    for index, store in enumerate(["east", "west"]):
        mine = train["store"] == store
        direct = LinearRegression().fit(np.column_stack([train.loc[mine, "price"], dummies[mine]]), train.loc[mine, "sales"])
        np.testing.assert_allclose(model.arrays["xreg.weights"][index], direct.coef_, rtol=1e-8)
        np.testing.assert_allclose(model.arrays["xreg.intercepts"][index], direct.intercept_, rtol=1e-8)
    assert [item["id"] for item in model.spec["time_series"]["series"]] == [["east"], ["west"]]
    west = train[train["store"] == "west"]
    first = pd.DatetimeIndex(pd.to_datetime(west["day"][:1])).as_unit("us").asi8
    history = history_attributions(model.spec, model.arrays, 1, first)
    row = np.concatenate([west["price"][:1], dummies[train["store"] == "west"].iloc[0]])
    assert history["price"][0] + history["promo"][0] == pytest.approx(model.arrays["xreg.weights"][1] @ row)


def test_forecast_matches_future_rows_by_series_and_timestamp(con):
    future = "(SELECT store, day, price, promo FROM ds.store_sales WHERE day >= DATE '2024-02-26' ORDER BY day DESC)"
    got = con.query(f"SELECT * FROM ML.FORECAST(MODEL ds.stores, STRUCT(4 AS horizon), {future}) ORDER BY store, forecast_timestamp").arrow()
    assert [(f.name, f.type) for f in got.schema] == [("store", pa.string()), *FORECAST_COLUMNS]
    model, rows = _model(con, "stores"), _stores()
    mean = rows[pd.to_datetime(rows["day"]) < "2024-02-26"]["price"].mean()
    for index, store in enumerate(["east", "west"]):
        series = rows[rows["store"] == store]
        train, ahead = series.iloc[:56], series.iloc[56:60]
        x = lambda part: np.column_stack([part["price"].fillna(mean), part["promo"] == "flyer", part["promo"] == "tv"]).astype(float)  # noqa: E731
        weights, intercept = model.arrays["xreg.weights"][index], model.arrays["xreg.intercepts"][index]
        residual = train["sales"] - x(train) @ weights - intercept
        expected = _residual_forecast(train["day"], residual, 4) + x(ahead) @ weights + intercept
        np.testing.assert_allclose(got.filter(pc.equal(got.column("store"), store)).column("forecast_value").to_numpy(), expected, rtol=1e-7)


def test_contribution_and_attributions_for_other_functions(con):
    model = _model(con, "stores")
    rows = pa.table({"store": ["west", "east", "north"], "price": [2.5, None, 1.0], "promo": ["tv", "unseen", "none"]})
    part = regression_contribution(model.spec, model.arrays, rows)
    weights, intercepts = model.arrays["xreg.weights"], model.arrays["xreg.intercepts"]
    mean = model.spec["xreg"]["preprocessing"]["encoders"][0]["mean"]
    np.testing.assert_allclose(part[:2], [weights[1] @ [2.5, 0, 1] + intercepts[1], weights[0] @ [mean, 0, 0] + intercepts[0]])
    assert np.isnan(part[2])
    each = attributions(model.spec, model.arrays, rows)
    assert list(each) == ["price", "promo"]
    np.testing.assert_allclose(each["price"][:2] + each["promo"][:2] + intercepts[[1, 0]], part[:2])


def test_history_attributions_are_weight_times_training_value(con):
    model, train = _model(con, "single"), _single().iloc[:84]
    weights = model.arrays["xreg.weights"][0]
    days = pd.DatetimeIndex(pd.to_datetime(train["day"])).as_unit("us").asi8
    between = days[10] + 12 * 3600 * 10**6  # noon: between two training days
    got = history_attributions(model.spec, model.arrays, 0, np.concatenate([days, [between, days[-1] + 86400 * 10**6]]))
    np.testing.assert_allclose(got["x1"][:84], weights[0] * train["x1"], rtol=1e-12)
    np.testing.assert_allclose(got["x2"][:84], weights[1] * train["x2"], rtol=1e-12)
    assert got["x1"][84] == pytest.approx(weights[0] * train["x1"].iloc[10:12].mean())
    assert np.isnan(got["x1"][85]) and np.isnan(got["x2"][85])


def test_weight_rows_for_arima_coefficients(con):
    model = _model(con, "stores")
    weights, intercepts = model.arrays["xreg.weights"][1], model.arrays["xreg.intercepts"][1]
    assert weight_rows(model.spec, model.arrays, 1) == [
        {"processed_input": "price", "weight": weights[0], "category_weights": None},
        {"processed_input": "promo", "weight": None,
         "category_weights": [{"category": "flyer", "weight": weights[1]}, {"category": "tv", "weight": weights[2]}]},
        {"processed_input": "__INTERCEPT__", "weight": intercepts, "category_weights": None},
    ]  # fmt: skip


def test_a_reloaded_model_forecasts_the_same_numbers(con, root):
    query = f"SELECT * FROM ML.FORECAST(MODEL ds.single, STRUCT(7 AS horizon), {FUTURE})"
    before = con.query(query).arrow()
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0, read_only=True) as fresh:
        assert fresh.query(query).arrow().equals(before)


def test_family_takes_the_forecasting_functions():
    family = family_of("ARIMA_PLUS_XREG")
    assert family.functions("ARIMA_PLUS_XREG") == family_of("ARIMA_PLUS").functions("ARIMA_PLUS")
    assert {"FORECAST", "EXPLAIN_FORECAST", "ARIMA_COEFFICIENTS", "EVALUATE"} <= family.functions("ARIMA_PLUS_XREG")


@pytest.mark.parametrize(
    ("options", "query", "error", "message"),
    [
        ("time_series_data_col='y'", TRAIN, InvalidOptionError, "model_type='ARIMA_PLUS_XREG' needs the option time_series_timestamp_col."),
        (f"{OPTIONS}, l2_reg=-1", TRAIN, InvalidOptionError,
         r"The 'l2_reg' option of CREATE MODEL \(model_type='arima_plus_xreg'\) must be a float in the range \[0, inf\)\. Got -1 instead\."),
        (f"{OPTIONS}, decompose_time_series=FALSE", TRAIN, InvalidOptionError, r"decompose_time_series"),
        (f"{OPTIONS}, non_seasonal_order=(1, 1, 1)", TRAIN, InvalidOptionError, r"non_seasonal_order requires auto_arima=FALSE\."),
        (OPTIONS, "SELECT day, y FROM ds.single_daily", InvalidModelInputError,
         r"model_type='ARIMA_PLUS_XREG' needs at least one external regressor column besides day, y; the training query has none\."),
        (OPTIONS, "SELECT day, y, x1, day AS d FROM ds.single_daily", InvalidModelInputError,
         r"The column d of the training query is an external regressor of ARIMA_PLUS_XREG and must be "
         r"INT64, NUMERIC, BIGNUMERIC, FLOAT64, STRING or BOOL; it is date32\[day\]\."),
        (OPTIONS, "SELECT day, y, x1, CAST(round(x1 * 1e6) AS STRING) || CAST(range AS STRING) AS tag FROM ds.single_daily, range(120)",
         InvalidModelInputError, r"The external regressors of ARIMA_PLUS_XREG expand to 11\d{3} features \(numbers, and one per "
         r"category of a STRING or BOOL column\); BigQuery takes at most 10000\."),
        (OPTIONS, "SELECT day, y, [x1] AS x FROM ds.single_daily", InvalidModelInputError,
         r"The column x of the training query is an external regressor of ARIMA_PLUS_XREG and must be .*; it is list<"),
    ],
)  # fmt: skip
def test_option_and_column_errors(con, options, query, error, message):
    with pytest.raises(error, match=message):
        con.query(CREATE.format(name="bad", options=options, query=query))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("MODEL ds.single, STRUCT(5 AS horizon)", r"ML.FORECAST of the ARIMA_PLUS_XREG model ds.single needs the future values of its external regressors\."),
        ("MODEL ds.single, (SELECT day, x1 FROM ds.single_daily)", r"The input data has no column x2, which the model was trained with \(an external regressor\)\."),
        ("MODEL ds.single, (SELECT x1, x2 FROM ds.single_daily)", r"The input data has no column day, which the model was trained with \(time_series_timestamp_col\)\."),
        ("MODEL ds.single, (SELECT day, x1, CAST(x2 AS STRING) AS x2 FROM ds.single_daily)",
         r"The column x2 of the input data must be INT64, NUMERIC, BIGNUMERIC or FLOAT64, as it was in training \(double\); it is string\."),
        ("MODEL ds.single, (SELECT CAST(day AS STRING) AS day, x1, x2 FROM ds.single_daily)",
         r"The column day \(time_series_timestamp_col\) of the input data must be TIMESTAMP, DATE or DATETIME; it is string\."),
        ("MODEL ds.single, STRUCT(10 AS horizon), (SELECT * FROM ds.single_daily WHERE day < DATE '2024-03-30')",
         r"ML.FORECAST needs the external regressors at every forecast timestamp; the input data has no row at "
         r"2024-03-30 00:00:00 \(5 forecast timestamp\(s\) are missing\)\."),
        ("MODEL ds.stores, (SELECT * FROM ds.store_sales WHERE store = 'east')",
         r"the input data has no row for store='west' at 2024-02-26 00:00:00 \(3 forecast timestamp\(s\) are missing\)\."),
    ],
)  # fmt: skip
def test_future_regressor_errors(con, call, message):
    with pytest.raises(InvalidModelInputError, match=message):
        con.query(f"SELECT * FROM ML.FORECAST({call})")


def test_versions_record_the_training_rows(con):
    # as ARIMA_PLUS: every row of the training query trains the model
    (count,) = con.query(f"SELECT COUNT(*) FROM ({TRAIN})").fetchone()
    rows = con.query("SELECT training_rows, eval_rows FROM ML.VERSIONS(MODEL ds.single) ORDER BY version DESC LIMIT 1").arrow().to_pylist()
    assert rows == [{"training_rows": count, "eval_rows": 0}]
