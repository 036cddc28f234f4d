"""Issue 17, point 6: bad input to ARIMA_PLUS is a clear error naming the option or column and the
fix, and a failed CREATE OR REPLACE leaves the previous model (and its forecasts) as they were.

The cases tests/ml/models/test_arima_plus.py already covers (a missing data column, a timestamp
column of the wrong type, too few points, horizon above 10000, non_seasonal_order without
auto_arima=FALSE, ML.FORECAST's horizon above the model's) are not repeated here.
"""

from __future__ import annotations

import pytest

import sqlml
from sqlml.errors import InvalidModelInputError, InvalidOptionError

CREATE = "CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='ARIMA_PLUS', {options}) AS {query}"
BASE = "time_series_timestamp_col='day', time_series_data_col='v'"
DAILY = "SELECT * FROM ds.daily"


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root = tmp_path_factory.mktemp("arima_errors")
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as connection:
        connection.query(
            "CREATE SCHEMA ds; CREATE TABLE ds.daily AS SELECT DATE '2024-01-01' + CAST(i AS INTEGER) AS day, "
            "10 + 0.5 * i + 3 * SIN(i * 2 * PI() / 7) + (i * 37 % 11) / 10.0 AS v, CAST(i % 2 AS DOUBLE) AS half, "
            "CAST(i AS VARCHAR) AS text FROM range(40) AS t(i)"
        )
        connection.query(CREATE.format(options=f"{BASE}, horizon=5", query=DAILY))
        yield connection


@pytest.mark.parametrize(
    ("options", "query", "error", "message", "named", "hint"),
    [
        ("time_series_timestamp_col='when', time_series_data_col='v'", DAILY, InvalidModelInputError,
         r"The training query has no column when, which time_series_timestamp_col names\.", "when",
         "Select when in the query, or set time_series_timestamp_col to one of: day, v, half, text."),
        (BASE, "SELECT day, text AS v FROM ds.daily", InvalidModelInputError,
         r"The column v \(time_series_data_col\) must be INT64, NUMERIC, BIGNUMERIC or FLOAT64; it is string\.", "v",
         "CAST v in the training query, or name another column in time_series_data_col."),
        (f"{BASE}, time_series_id_col='half'", DAILY, InvalidModelInputError,
         r"The column half \(time_series_id_col\) must be STRING or INT64; it is double\.", "half",
         "CAST half in the training query, or name another column in time_series_id_col."),
        (BASE, "SELECT day, CAST(NULL AS FLOAT64) AS v FROM ds.daily", InvalidModelInputError,
         r"The column v \(time_series_data_col\) is NULL in all 40 rows of the training query; there is no series to model\.", "v",
         "Check the training query's filters and joins, or name another column in time_series_data_col."),
        (BASE, "SELECT CAST(NULL AS DATE) AS day, v FROM ds.daily", InvalidModelInputError,
         r"The column day \(time_series_timestamp_col\) is NULL in all 40 rows of the training query", "day", None),
        (f"{BASE}, data_frequency='WEEKLY'", DAILY, InvalidOptionError,
         r"The 'data_frequency' option of CREATE MODEL \(model_type='ARIMA_PLUS'\) is WEEKLY, but the timestamp 2024-01-02 00:00:00 "
         r"is not a whole number of WEEKLY steps after the first one \(2024-01-01 00:00:00\); 34 of 40 timestamps are off that grid\. "
         r"Set data_frequency to DAILY", "data_frequency", None),
        (f"{BASE}, horizon=0", DAILY, InvalidOptionError,
         r"The 'horizon' option of CREATE MODEL \(model_type='arima_plus'\) must be an integer in the range \[1, 10000\]\. Got 0 instead\.",
         "horizon", None),
        (f"{BASE}, include_drift=TRUE", DAILY, InvalidOptionError,
         r"include_drift requires auto_arima=FALSE \(auto.ARIMA decides the drift itself\)\.", "include_drift",
         "Drop include_drift, or set auto_arima=FALSE with non_seasonal_order=(p, 1, q)."),
        (f"{BASE}, auto_arima=FALSE, non_seasonal_order=(1, 1, 1), auto_arima_max_order=3", DAILY, InvalidOptionError,
         r"auto_arima_max_order requires auto_arima=TRUE\.", "auto_arima_max_order",
         "Drop auto_arima_max_order, or drop auto_arima=FALSE and non_seasonal_order."),
        (f"{BASE}, auto_arima=FALSE, non_seasonal_order=(1, 1, 1), auto_arima_min_order=1", DAILY, InvalidOptionError,
         r"auto_arima_min_order requires auto_arima=TRUE\.", "auto_arima_min_order", None),
        (f"{BASE}, auto_arima=FALSE", DAILY, InvalidOptionError, r"auto_arima=FALSE needs non_seasonal_order=\(p, d, q\)\.",
         "non_seasonal_order", "Add e.g. non_seasonal_order=(1, 1, 1), or drop auto_arima=FALSE to let auto.ARIMA choose."),
        (f"{BASE}, auto_arima=FALSE, non_seasonal_order=(2, 0, 1), include_drift=TRUE", DAILY, InvalidOptionError,
         r"include_drift=TRUE needs d = 1 in non_seasonal_order; got d = 0\.", "include_drift",
         "Set non_seasonal_order=(2, 1, 1), or drop include_drift."),
        (f"{BASE}, min_time_series_length=10", DAILY, InvalidOptionError,
         r"min_time_series_length requires time_series_length_fraction\.", "min_time_series_length",
         "Add time_series_length_fraction (in (0, 1)), or drop min_time_series_length."),
        (f"{BASE}, forecast_limit_lower_bound=5, forecast_limit_upper_bound=1", DAILY, InvalidOptionError,
         r"forecast_limit_lower_bound \(5.0\) must be less than forecast_limit_upper_bound \(1.0\)\.", "forecast_limit_lower_bound",
         "Swap the two bounds, or drop one of them."),
    ],
)  # fmt: skip
def test_bad_input_names_the_option_or_column_and_the_fix(con, options, query, error, message, named, hint):
    with pytest.raises(error, match=message) as info:
        con.query(CREATE.format(options=options, query=query))
    assert (info.value.column if error is InvalidModelInputError else info.value.option) == named
    if hint is not None:
        assert info.value.hint == hint


def test_a_model_whose_every_series_fails_is_refused_with_the_first_reason(con):
    with pytest.raises(InvalidModelInputError, match=(
        r"No time series could be fitted: A time series needs at least 3 points with a timestamp and a value to be modelled; this one has 1\."
    )):  # fmt: skip
        con.query(CREATE.format(options=f"{BASE}, time_series_id_col='text'", query=DAILY))


def test_forecast_horizon_below_one_is_refused(con):
    with pytest.raises(InvalidOptionError, match=r"ML.FORECAST's horizon must be between 1 and the model's horizon \(5\)\. Got 0 instead\.") as info:
        con.query("SELECT * FROM ML.FORECAST(MODEL ds.m, STRUCT(0 AS horizon))")
    assert info.value.option == "horizon"
    # the hint fits the side that was violated: more steps below 1, fewer above the model's horizon
    assert info.value.hint == "Ask for at least 1 step."
    with pytest.raises(InvalidOptionError, match=r"ML.FORECAST's horizon must be between 1 and the model's horizon \(5\)\. Got 6 instead\.") as info:
        con.query("SELECT * FROM ML.FORECAST(MODEL ds.m, STRUCT(6 AS horizon))")
    assert info.value.hint == "Ask for fewer steps, or train the model with a larger horizon option."


def test_data_skew_of_a_time_series_model_is_refused_with_what_to_use_instead(con):
    with pytest.raises(sqlml.ModelError, match=(
        r"^ML.VALIDATE_DATA_SKEW does not support ARIMA_PLUS models: a time-series model keeps no training statistics of "
        r"features to compare with\. ds\.m is ARIMA_PLUS\."
    )) as info:  # fmt: skip
        con.query("SELECT * FROM ML.VALIDATE_DATA_SKEW(MODEL ds.m, TABLE ds.daily)")
    assert info.value.hint == (
        "Compare new rows with earlier ones by ML.VALIDATE_DATA_DRIFT, or measure the forecasts on held-back data by ML.EVALUATE."
    )


@pytest.mark.parametrize(
    ("options", "query"),
    [
        (f"{BASE}, horizon=0", DAILY),  # refused while reading the options
        (f"{BASE}, data_frequency='WEEKLY'", DAILY),  # refused while preparing the series
        ("time_series_timestamp_col='when', time_series_data_col='v'", DAILY),  # refused while reading the rows
        (BASE, "SELECT day, CAST(NULL AS FLOAT64) AS v FROM ds.daily"),
        (f"{BASE}, time_series_id_col='text'", DAILY),  # every series fails: one point each
    ],
)
def test_a_failed_create_or_replace_keeps_the_previous_model_and_its_forecasts(con, options, query):
    forecast = "SELECT * FROM ML.FORECAST(MODEL ds.m, STRUCT(5 AS horizon))"
    before, versions = con.query(forecast).arrow(), con.query("SELECT version FROM ML.VERSIONS(MODEL ds.m)").fetchall()
    with pytest.raises(sqlml.Error):
        con.query(CREATE.format(options=options, query=query))
    assert con.query(forecast).arrow().equals(before)
    assert con.query("SELECT version FROM ML.VERSIONS(MODEL ds.m)").fetchall() == versions
