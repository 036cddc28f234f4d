"""hierarchical_time_series_cols (sqlml.ml.forecasting.hierarchy): roll-up series fitted next to the
leaves, their forecasts the sums of the leaves' (bottom-up), BigQuery's NULLs for rolled-up columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sqlml
from sqlml.ml.forecasting.hierarchy import leaves

DAYS = pd.date_range("2024-01-01", periods=60, freq="D")
CREATE = ("CREATE OR REPLACE MODEL ds.{name} OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='day', time_series_data_col='sales', "
          "time_series_id_col=['state', 'city'], horizon=7{options}) AS SELECT * FROM ds.sales")  # fmt: skip


def _sales() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    frames = [
        pd.DataFrame({"state": state, "city": city, "day": DAYS.date,
                      "sales": level + 2 * np.sin(2 * np.pi * np.arange(60) / 7) + 0.1 * np.arange(60) + rng.normal(0, 0.5, 60)})
        for state, city, level in (("CA", "LA", 50.0), ("CA", "SF", 30.0), ("NY", "NYC", 80.0), ("NY", "Albany", 10.0))
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE SCHEMA ds")
        connection.register("sales_frame", _sales())
        connection.query("CREATE TABLE ds.sales AS SELECT * FROM sales_frame")
        connection.query(CREATE.format(name="stores", options=", hierarchical_time_series_cols=['state', 'city']"))
        yield connection


def test_roll_ups_are_forecast_as_the_sums_of_their_leaves(con):
    got = con.query("SELECT * FROM ML.FORECAST(MODEL ds.stores, STRUCT(7 AS horizon))").arrow().to_pandas()
    got = got.fillna({"state": "<all>", "city": "<all>"})  # a rolled-up column is NULL
    by_key = {key: frame.reset_index(drop=True) for key, frame in got.groupby(["state", "city"])}
    assert sorted(by_key) == sorted([("CA", "LA"), ("CA", "SF"), ("CA", "<all>"), ("NY", "NYC"), ("NY", "Albany"), ("NY", "<all>"), ("<all>", "<all>")])
    for state, cities in (("CA", ("LA", "SF")), ("NY", ("NYC", "Albany"))):
        rollup = by_key[(state, "<all>")]
        np.testing.assert_allclose(rollup["forecast_value"], sum(by_key[(state, city)]["forecast_value"] for city in cities))
        expected_se = np.sqrt(sum(by_key[(state, city)]["standard_error"] ** 2 for city in cities))
        np.testing.assert_allclose(rollup["standard_error"], expected_se)
        np.testing.assert_allclose(rollup["prediction_interval_upper_bound"], rollup["forecast_value"] + 1.959963984540054 * expected_se)
    leaves_total = sum(frame["forecast_value"] for key, frame in by_key.items() if "<all>" not in key)
    np.testing.assert_allclose(by_key[("<all>", "<all>")]["forecast_value"], leaves_total)


def test_a_roll_ups_history_is_the_sum_of_its_leaves_data(con):
    got = con.query("SELECT * FROM ML.EXPLAIN_FORECAST(MODEL ds.stores) WHERE state = 'NY' AND city IS NULL AND time_series_type = 'history'").arrow()
    expected = _sales().query("state == 'NY'").groupby("day")["sales"].sum().to_numpy()
    np.testing.assert_allclose(got.column("time_series_data").to_numpy(), expected)


def test_leaves_are_found_below_each_roll_up():
    ids = [["CA", "LA"], ["CA", "SF"], ["CA", None], ["NY", "NYC"], ["NY", None], [None, None]]
    assert leaves(ids, [0, 1]) == {2: [0, 1], 4: [3], 5: [0, 1, 3]}


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (", hierarchical_time_series_cols=['region']", sqlml.InvalidOptionError,
         r"hierarchical_time_series_cols names region, which is not a time_series_id_col \(state, city\)\."),
        (", hierarchical_time_series_cols=['state', 'city'], forecast_limit_lower_bound=0", sqlml.InvalidOptionError,
         r"hierarchical_time_series_cols cannot be combined with forecast_limit_lower_bound / forecast_limit_upper_bound in sqlml"),
    ],
)  # fmt: skip
def test_hierarchy_errors(con, options, error, message):
    with pytest.raises(error, match=message):
        con.query(CREATE.format(name="bad", options=options))


def test_a_null_in_a_hierarchy_column_is_refused(con):
    con.query("CREATE OR REPLACE TABLE ds.holes AS SELECT state, CASE WHEN day = DATE '2024-01-05' AND city = 'LA' THEN NULL ELSE city END AS city, day, sales FROM ds.sales")
    with pytest.raises(sqlml.InvalidModelInputError, match=r"The column city \(hierarchical_time_series_cols\) has NULL values; NULL marks the roll-ups of a hierarchy\."):
        con.query(CREATE.format(name="bad", options=", hierarchical_time_series_cols=['state', 'city']").replace("FROM ds.sales", "FROM ds.holes"))
