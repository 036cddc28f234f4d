"""ML.ARIMA_EVALUATE, ML.ARIMA_COEFFICIENTS, ML.HOLIDAY_INFO and ML.TRAINING_INFO of ARIMA_PLUS models.

The numbers are checked against statsforecast called directly on the series that
:func:`sqlml.ml.forecasting.preparation.prepare` gives: every candidate BigQuery's auto.ARIMA
fits (p + q ≤ 2, d from the KPSS test, with and without drift when d = 1) refitted by
``statsforecast.arima.Arima``, and the chosen one compared with ``auto_arima_f``'s choice.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from statsforecast.arima import Arima, auto_arima_f, ndiffs

import sqlml
from sqlml.errors import InvalidOptionError, ModelError
from sqlml.ml.forecasting.holidays import BIGQUERY_NAMES
from sqlml.ml.forecasting.preparation import PreparationOptions, prepare

CREATE = "CREATE OR REPLACE MODEL ds.{name} OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='day', time_series_data_col='y'{options}) AS {query}"
EVALUATE_COLUMNS = [
    ("non_seasonal_p", pa.int64()), ("non_seasonal_d", pa.int64()), ("non_seasonal_q", pa.int64()),
    ("has_drift", pa.bool_()), ("log_likelihood", pa.float64()), ("AIC", pa.float64()), ("variance", pa.float64()),
    ("seasonal_periods", pa.list_(pa.string())), ("has_holiday_effect", pa.bool_()),
    ("has_spikes_and_dips", pa.bool_()), ("has_step_changes", pa.bool_()), ("error_message", pa.string()),
]  # fmt: skip
COEFFICIENT_COLUMNS = [("ar_coefficients", pa.list_(pa.float64())), ("ma_coefficients", pa.list_(pa.float64())), ("intercept_or_drift", pa.float64())]
HOLIDAY_COLUMNS = [("region", pa.string()), ("holiday_name", pa.string()), ("primary_date", pa.date32()),
                   ("preholiday_days", pa.int64()), ("postholiday_days", pa.int64())]  # fmt: skip
#: The series of the multi-series model, in BigQuery's id order (NULL first); "tiny" cannot be fitted.
SERIES = [(None, 4, 30.0), ("north", 1, 50.0), ("north", 2, 20.0), ("south", 1, 80.0)]
TINY_ERROR = "A time series needs at least 3 points with a timestamp and a value to be modelled; this one has 2."


#: A daily series longer than a year (holiday effects are modelled only then), with US holidays.
VISIT_DAYS = pd.date_range("2022-01-03", periods=420, freq="D")
#: Members day's dates: only 2022-10-21's window touches the series.
MEMBERS_DAYS = ("2021-10-22", "2022-10-21", "2023-10-20")
HOLIDAY_CREATE = """CREATE OR REPLACE MODEL ds.{name} OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='day',
  time_series_data_col='y', holiday_region='US'{options})
AS (training_data AS (SELECT * FROM ds.visits),
    custom_holiday AS (SELECT 'US' AS region, 'Members day' AS holiday_name, primary_date, 1 AS preholiday_days, 1 AS postholiday_days
                       FROM UNNEST([{days}]) AS primary_date))"""


def _visits() -> np.ndarray:
    """Daily visits with a weekly pattern, noise and a jump on every US holiday."""
    import holidays

    rng = np.random.default_rng(11)
    steps = np.arange(len(VISIT_DAYS))
    on_holiday = np.isin(VISIT_DAYS.date, list(holidays.country_holidays("US", years=[2022, 2023])))
    return 100.0 + 8.0 * np.sin(2 * np.pi * steps / 7) + 30.0 * on_holiday + rng.normal(0, 1.0, len(steps))


def _trending(level: float, seed: int, n: int = 84) -> np.ndarray:
    """A daily series with a trend, a weekly pattern and noise."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    return level + 0.3 * steps + 5.0 * np.sin(2 * np.pi * steps / 7) + rng.normal(0, 1.0, n)


def _stationary(n: int = 84) -> np.ndarray:
    """An AR(1) series around 10: no trend, no seasonality (d = 0, an intercept)."""
    rng = np.random.default_rng(5)
    values = np.zeros(n)
    for index in range(1, n):
        values[index] = 0.5 * values[index - 1] + rng.normal()
    return 10.0 + values


def _jumpy() -> np.ndarray:
    """A weekly pattern with a spike at day 30 and a step of +25 from day 55."""
    values = _trending(50.0, 7) - 0.3 * np.arange(84)
    values[30] += 40.0
    values[55:] += 25.0
    return values


def _promotions() -> pd.DataFrame:
    """A daily series driven by a temperature and a promotion (``none`` the commonest), for ARIMA_PLUS_XREG."""
    rng = np.random.default_rng(9)
    promo = np.array(["none"] * 50 + ["flyer"] * 20 + ["tv"] * 14)[rng.permutation(84)]
    temp = rng.normal(15.0, 5.0, 84)
    y = _trending(50.0, 8) + 2.0 * temp + np.select([promo == "flyer", promo == "tv"], [5.0, 9.0], 0.0)
    return pd.DataFrame({"day": pd.date_range("2024-01-01", periods=84, freq="D").date, "y": y, "temp": temp, "promo": promo})


def _frame() -> pd.DataFrame:
    days = pd.date_range("2024-01-01", periods=84, freq="D")
    frames = [pd.DataFrame({"store": store, "dept": dept, "day": days.date, "y": _trending(level, seed)})
              for seed, (store, dept, level) in enumerate(SERIES)]  # fmt: skip
    frames.append(pd.DataFrame({"store": "tiny", "dept": 9, "day": days[:2].date, "y": [1.0, 2.0]}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root = tmp_path_factory.mktemp("arima_inspect")
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as connection:
        connection.query("CREATE SCHEMA ds")
        connection.register("sales_frame", _frame())
        connection.query("CREATE TABLE ds.sales AS SELECT store, dept::BIGINT AS dept, day, y FROM sales_frame")
        connection.register("flat_frame", pd.DataFrame({"day": pd.date_range("2024-01-01", periods=84, freq="D").date, "y": _stationary()}))
        connection.query("CREATE TABLE ds.flat_days AS SELECT * FROM flat_frame")
        one = "SELECT day, y FROM ds.sales WHERE store = 'north' AND dept = 1"
        connection.query(CREATE.format(name="many", options=", time_series_id_col=['store', 'dept']", query="SELECT * FROM ds.sales"))
        connection.query(CREATE.format(name="one", options="", query=one))
        connection.query(CREATE.format(name="flat", options=", seasonalities=['NO_SEASONALITY']", query="SELECT * FROM ds.flat_days"))
        connection.query(CREATE.format(name="drift", options=", auto_arima=FALSE, non_seasonal_order=(1, 1, 0), include_drift=TRUE", query=one))
        connection.query(CREATE.format(name="d2", options=", auto_arima=FALSE, non_seasonal_order=(0, 2, 1)", query=one))
        connection.register("visit_frame", pd.DataFrame({"day": VISIT_DAYS.date, "y": _visits()}))
        connection.query("CREATE TABLE ds.visits AS SELECT * FROM visit_frame")
        days = ", ".join(f"DATE '{day}'" for day in MEMBERS_DAYS)
        connection.query(HOLIDAY_CREATE.format(name="visits_model", options="", days=days))
        connection.query(HOLIDAY_CREATE.format(name="visits_plain", options=", decompose_time_series=FALSE", days=days))
        connection.query(CREATE.format(name="short", options=", holiday_region='US'", query=one))
        connection.register("jump_frame", pd.DataFrame({"day": pd.date_range("2024-01-01", periods=84, freq="D").date, "y": _jumpy()}))
        connection.query("CREATE TABLE ds.jumps AS SELECT * FROM jump_frame")
        connection.query(CREATE.format(name="jumpy", options="", query="SELECT * FROM ds.jumps"))
        connection.query(CREATE.format(name="undecomposed", options=", decompose_time_series=FALSE", query="SELECT * FROM ds.jumps"))
        connection.register("promo_frame", _promotions())
        connection.query("CREATE TABLE ds.promotions AS SELECT * FROM promo_frame")
        connection.query("CREATE OR REPLACE MODEL ds.xreg OPTIONS(model_type='ARIMA_PLUS_XREG', time_series_timestamp_col='day', "
                         "time_series_data_col='y') AS SELECT * FROM ds.promotions")  # fmt: skip
        yield connection


def _adjusted(values: np.ndarray, **options) -> tuple[np.ndarray, list[str]]:
    """The series the trend's ARIMA is fitted on, and its seasonal period names."""
    days = pd.date_range("2024-01-01", periods=len(values), freq="D").as_unit("ns")
    prepared = prepare(days, values, PreparationOptions(**options))
    return prepared.adjusted, list(prepared.seasonal_periods)


def _fit(values: np.ndarray, order: tuple[int, int, int], drift: bool) -> dict:
    return Arima(values, order=order, include_mean=order[1] == 0, include_drift=drift, method="CSS-ML")


def _candidates(values: np.ndarray) -> pd.DataFrame:
    """BigQuery's candidates (p + q ≤ 2, drift tried when d = 1) fitted directly, best AIC first."""
    d = int(ndiffs(values, max_d=2))
    rows = []
    for p, q in [(p, q) for p in range(3) for q in range(3) if p + q <= 2]:
        for drift in (False, True) if d == 1 else (False,):
            fitted = _fit(values, (p, d, q), drift)
            rows.append({"non_seasonal_p": p, "non_seasonal_d": d, "non_seasonal_q": q, "has_drift": drift,
                         "log_likelihood": fitted["loglik"], "AIC": fitted["aic"], "variance": fitted["sigma2"]})  # fmt: skip
    return pd.DataFrame(rows).sort_values("AIC", ignore_index=True)


def _schema(table: pa.Table) -> list[tuple[str, pa.DataType]]:
    return [(field.name, field.type) for field in table.schema]


def test_arima_evaluate_of_one_series_shows_every_candidate_by_aic(con):
    table = con.query("SELECT * FROM ML.ARIMA_EVALUATE(MODEL ds.one)").arrow()
    assert _schema(table) == EVALUATE_COLUMNS
    got = table.to_pandas()
    adjusted, periods = _adjusted(_trending(50.0, 1))
    expected = _candidates(adjusted)
    assert len(got) == len(expected) == 12  # d = 1: six (p, q), each with and without drift
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=False, rtol=1e-9)
    assert all(list(value) == periods == ["WEEKLY"] for value in got["seasonal_periods"])
    assert got["error_message"].isna().all()
    chosen = auto_arima_f(adjusted, seasonal=False, stepwise=False, ic="aic", max_order=2, max_p=2, max_q=2, approximation=False)
    arma = chosen["arma"]
    assert (got.non_seasonal_p[0], got.non_seasonal_d[0], got.non_seasonal_q[0], got.has_drift[0]) == (arma[0], arma[5], arma[1], "drift" in chosen["coef"])


def test_arima_evaluate_of_one_series_shows_only_the_best_when_asked(con):
    got = con.query("SELECT * FROM ML.ARIMA_EVALUATE(MODEL ds.one, STRUCT(FALSE AS show_all_candidate_models))").arrow()
    every = con.query("SELECT * FROM ML.ARIMA_EVALUATE(MODEL ds.one)").arrow()
    assert got.equals(every.slice(0, 1))


def test_arima_evaluate_of_many_series_shows_the_best_of_each_sorted_by_id(con):
    table = con.query("SELECT * FROM ML.ARIMA_EVALUATE(MODEL ds.many)").arrow()
    assert _schema(table) == [("store", pa.string()), ("dept", pa.int64()), *EVALUATE_COLUMNS]
    got = table.to_pylist()
    assert [(row["store"], row["dept"]) for row in got] == [(store, dept) for store, dept, _ in SERIES] + [("tiny", 9)]
    for row, (seed, (_, _, level)) in zip(got, enumerate(SERIES)):
        best = _candidates(_adjusted(_trending(level, seed))[0]).iloc[0]
        assert (row["non_seasonal_p"], row["non_seasonal_d"], row["non_seasonal_q"], row["has_drift"]) == tuple(best[:4])
        np.testing.assert_allclose([row["log_likelihood"], row["AIC"], row["variance"]], best[4:].astype(float), rtol=1e-9)
    failed = got[-1]
    assert failed["error_message"].startswith(TINY_ERROR)
    assert all(value is None for name, value in failed.items() if name not in ("store", "dept", "error_message"))


def test_arima_evaluate_of_many_series_shows_every_candidate_when_asked(con):
    got = con.query("SELECT * FROM ML.ARIMA_EVALUATE(MODEL ds.many, STRUCT(TRUE AS show_all_candidate_models))").arrow().to_pandas()
    north = got[(got.store == "north") & (got.dept == 2)].reset_index(drop=True)
    expected = _candidates(_adjusted(_trending(20.0, 2))[0])
    pd.testing.assert_frame_equal(north[expected.columns], expected, check_dtype=False, rtol=1e-9)
    ids = [(None if pd.isna(store) else store, dept) for store, dept in zip(got.store, got.dept)]
    assert ids == [(s, d) for s, d, _ in SERIES for _ in range(12)] + [("tiny", 9)]  # the failed series still gives its one row


def test_arima_evaluate_says_no_seasonality(con):
    got = con.query("SELECT * FROM ML.ARIMA_EVALUATE(MODEL ds.flat)").arrow().to_pandas()
    expected = _candidates(_adjusted(_stationary(), seasonalities=["NO_SEASONALITY"])[0])
    assert len(got) == 6 and (got.non_seasonal_d == 0).all() and not got.has_drift.any()
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=False, rtol=1e-9)
    assert all(list(value) == ["NO_SEASONALITY"] for value in got["seasonal_periods"])


@pytest.mark.parametrize(("model", "values", "expected"), [("jumpy", _jumpy, (False, True, True)), ("one", lambda: _trending(50.0, 1), (False, False, False))])
def test_arima_evaluate_flags_say_which_components_the_decomposition_found(con, model, values, expected):
    got = con.query(f"SELECT DISTINCT has_holiday_effect, has_spikes_and_dips, has_step_changes FROM ML.ARIMA_EVALUATE(MODEL ds.{model})").fetchall()
    prepared = prepare(pd.date_range("2024-01-01", periods=84, freq="D").as_unit("ns"), values())
    assert got == [expected] == [(bool(prepared.holiday_effect.any()), bool(prepared.spikes_and_dips.any()), bool(prepared.step_changes.any()))]


def test_arima_evaluate_flags_are_null_without_decomposition(con):
    got = con.query("SELECT has_holiday_effect, has_spikes_and_dips, has_step_changes, seasonal_periods FROM ML.ARIMA_EVALUATE(MODEL ds.undecomposed)")
    rows = got.fetchall()
    assert len(rows) > 1 and all(row[:3] == (None, None, None) and row[3] == ["WEEKLY"] for row in rows)


def test_arima_coefficients_of_many_series_equal_statsforecasts_sorted_by_id(con):
    table = con.query("SELECT * FROM ML.ARIMA_COEFFICIENTS(MODEL ds.many)").arrow()
    assert _schema(table) == [("store", pa.string()), ("dept", pa.int64()), *COEFFICIENT_COLUMNS]
    got = table.to_pylist()
    assert [(row["store"], row["dept"]) for row in got] == [(store, dept) for store, dept, _ in SERIES]  # "tiny" failed: no row
    for row, (seed, (_, _, level)) in zip(got, enumerate(SERIES)):
        adjusted = _adjusted(_trending(level, seed))[0]
        best = _candidates(adjusted).iloc[0]
        p, d, q, drift = (int(best.non_seasonal_p), int(best.non_seasonal_d), int(best.non_seasonal_q), bool(best.has_drift))
        coef = _fit(adjusted, (p, d, q), drift)["coef"]
        assert (len(row["ar_coefficients"]), len(row["ma_coefficients"])) == (p, q)
        np.testing.assert_allclose(row["ar_coefficients"] + row["ma_coefficients"], [coef[f"ar{k}"] for k in range(1, p + 1)] + [coef[f"ma{k}"] for k in range(1, q + 1)], rtol=1e-9)
        assert row["intercept_or_drift"] == pytest.approx(coef.get("drift", 0.0), rel=1e-9)


@pytest.mark.parametrize(
    ("model", "values", "options", "order", "constant"),
    [
        ("flat", _stationary, {"seasonalities": ["NO_SEASONALITY"]}, None, "intercept"),  # d = 0: the intercept
        ("drift", lambda: _trending(50.0, 1), {}, (1, 1, 0), "drift"),  # d = 1: the drift
        ("d2", lambda: _trending(50.0, 1), {}, (0, 2, 1), None),  # d = 2: always 0
    ],
)  # fmt: skip
def test_arima_coefficients_intercept_or_drift_follows_d(con, model, values, options, order, constant):
    got = con.query(f"SELECT * FROM ML.ARIMA_COEFFICIENTS(MODEL ds.{model})").arrow()
    assert _schema(got) == COEFFICIENT_COLUMNS and got.num_rows == 1
    row = got.to_pylist()[0]
    adjusted = _adjusted(values(), **options)[0]
    if order is None:
        best = _candidates(adjusted).iloc[0]
        order = (int(best.non_seasonal_p), int(best.non_seasonal_d), int(best.non_seasonal_q))
    coef = _fit(adjusted, order, constant == "drift")["coef"]
    assert (len(row["ar_coefficients"]), len(row["ma_coefficients"])) == (order[0], order[2])
    np.testing.assert_allclose(row["ar_coefficients"], [coef[f"ar{k}"] for k in range(1, order[0] + 1)], rtol=1e-9)
    np.testing.assert_allclose(row["ma_coefficients"], [coef[f"ma{k}"] for k in range(1, order[2] + 1)], rtol=1e-9)
    assert row["intercept_or_drift"] == (pytest.approx(coef[constant], rel=1e-9) if constant else 0.0)


def test_arima_coefficients_of_an_xreg_model_add_the_regression_weights(con):
    from sklearn.linear_model import LinearRegression

    table = con.query("SELECT * FROM ML.ARIMA_COEFFICIENTS(MODEL ds.xreg)").arrow()
    category_weights = pa.list_(pa.struct([("category", pa.string()), ("weight", pa.float64())]))
    assert _schema(table) == [*COEFFICIENT_COLUMNS, ("processed_input", pa.string()), ("weight", pa.float64()), ("category_weights", category_weights)]
    frame = _promotions()
    features = np.column_stack([frame.temp, frame.promo == "flyer", frame.promo == "tv"]).astype(float)  # "none", the commonest, dropped
    regression = LinearRegression().fit(features, frame.y)
    rows = table.to_pylist()
    assert [row["processed_input"] for row in rows] == ["temp", "promo", "__INTERCEPT__"]
    assert rows[0]["weight"] == pytest.approx(regression.coef_[0], rel=1e-9) and rows[0]["category_weights"] is None
    assert rows[1]["weight"] is None
    assert {c["category"]: c["weight"] for c in rows[1]["category_weights"]} == pytest.approx({"flyer": regression.coef_[1], "tv": regression.coef_[2]}, rel=1e-9)
    assert rows[2]["weight"] == pytest.approx(regression.intercept_, rel=1e-9)
    residual = _adjusted(frame.y.to_numpy() - regression.predict(features))[0]
    best = _candidates(residual).iloc[0]
    order = (int(best.non_seasonal_p), int(best.non_seasonal_d), int(best.non_seasonal_q))
    coef = _fit(residual, order, bool(best.has_drift))["coef"]
    # This residual equals the model's only up to the rounding of the two least-squares solves,
    # which the likelihood's optimizer amplifies to ~1e-8 in the coefficients.
    for row in rows:  # each row repeats the residual's ARIMA coefficients
        np.testing.assert_allclose(row["ar_coefficients"] + row["ma_coefficients"],
                                   [coef[f"ar{k}"] for k in range(1, order[0] + 1)] + [coef[f"ma{k}"] for k in range(1, order[2] + 1)], rtol=1e-6)  # fmt: skip
        assert row["intercept_or_drift"] == pytest.approx(coef.get("drift", coef.get("intercept", 0.0)) if order[1] < 2 else 0.0, rel=1e-6)


@pytest.mark.parametrize("model", ["visits_model", "visits_plain"])  # decomposition kept or not
def test_holiday_info_lists_the_occurrences_of_the_holidays_the_model_used(con, model):
    import holidays

    table = con.query(f"SELECT * FROM ML.HOLIDAY_INFO(MODEL ds.{model})").arrow()
    assert _schema(table) == HOLIDAY_COLUMNS
    calendar = holidays.country_holidays("US", years=range(2021, 2025), language="en_US")
    first, last = VISIT_DAYS[0].date(), VISIT_DAYS[-1].date()
    # the library's names, but those whose BigQuery name is published (Christmas Day is Christmas)
    expected = [("US", BIGQUERY_NAMES.get(name, name), day, 0, 0) for day in sorted(calendar) if first <= day <= last for name in calendar.get_list(day)]
    expected.append(("US", "Members day", pd.Timestamp(MEMBERS_DAYS[1]).date(), 1, 1))
    assert table.to_pylist() == [dict(zip(table.column_names, row)) for row in sorted(expected, key=lambda row: (row[0], row[1], row[2]))]
    evaluated = con.query(f"SELECT has_holiday_effect FROM ML.ARIMA_EVALUATE(MODEL ds.{model})").arrow()
    assert set(evaluated.column(0).to_pylist()) == ({True} if model == "visits_model" else {None})  # NULL without decomposition


@pytest.mark.parametrize("model", ["many", "short"])  # no holiday_region; a region, but a series shorter than a year
def test_holiday_info_of_a_model_without_holiday_effects_is_empty(con, model):
    got = con.query(f"SELECT * FROM ML.HOLIDAY_INFO(MODEL ds.{model})").arrow()
    assert _schema(got) == HOLIDAY_COLUMNS and got.num_rows == 0
    assert con.query(f"SELECT LOGICAL_OR(has_holiday_effect) FROM ML.ARIMA_EVALUATE(MODEL ds.{model})").fetchall() == [(False,)]


def test_training_info_of_a_forecasting_model_is_one_row_with_the_fits_duration(con):
    started = time.monotonic()
    con.query(CREATE.format(name="timed", options=", time_series_id_col=['store', 'dept']", query="SELECT * FROM ds.sales"))
    elapsed_ms = (time.monotonic() - started) * 1000
    got = con.query("SELECT * FROM ML.TRAINING_INFO(MODEL ds.timed)").arrow()
    assert _schema(got) == [("training_run", pa.int64()), ("iteration", pa.int64()), ("duration_ms", pa.int64())]
    rows = got.to_pylist()
    assert len(rows) == 1 and (rows[0]["training_run"], rows[0]["iteration"]) == (0, 0)
    assert 0 < rows[0]["duration_ms"] <= elapsed_ms  # the fit, within the whole statement


def test_the_functions_compose_with_tables_views_and_joins(con):
    con.query("CREATE OR REPLACE TABLE ds.orders AS SELECT * FROM ML.ARIMA_EVALUATE(MODEL ds.many) WHERE error_message IS NULL")
    con.query("CREATE OR REPLACE VIEW ds.coefs AS SELECT store, dept, intercept_or_drift FROM ML.ARIMA_COEFFICIENTS(MODEL ds.many)")
    rows = con.query(
        "SELECT o.store, o.dept, o.has_drift, c.intercept_or_drift <> 0 AS nonzero, t.duration_ms > 0 AS timed "
        "FROM ds.orders AS o JOIN ds.coefs AS c ON o.store IS NOT DISTINCT FROM c.store AND o.dept = c.dept CROSS JOIN ML.TRAINING_INFO(MODEL ds.many) AS t "
        "LEFT JOIN ML.HOLIDAY_INFO(MODEL ds.many) AS h ON h.region = o.store WHERE h.region IS NULL ORDER BY o.store NULLS FIRST, o.dept"
    ).arrow().to_pylist()
    direct = con.query("SELECT store, dept, has_drift FROM ML.ARIMA_EVALUATE(MODEL ds.many) WHERE error_message IS NULL").arrow().to_pylist()
    assert [{k: row[k] for k in ("store", "dept", "has_drift")} for row in rows] == direct
    assert all(row["nonzero"] == row["has_drift"] and row["timed"] for row in rows)


@pytest.mark.parametrize("name", ["ARIMA_EVALUATE", "ARIMA_COEFFICIENTS", "HOLIDAY_INFO"])
def test_the_functions_refuse_a_model_that_does_not_forecast(con, name):
    con.query("CREATE OR REPLACE TABLE ds.points AS SELECT x, 2 * x + 1 AS y FROM range(20) AS r(x)")
    con.query("CREATE OR REPLACE MODEL ds.lin OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT * FROM ds.points")
    with pytest.raises(ModelError, match=rf"ML\.{name} does not support LINEAR_REG models; it needs an ARIMA_PLUS or ARIMA_PLUS_XREG model\. ds\.lin is LINEAR_REG\."):
        con.query(f"SELECT * FROM ML.{name}(MODEL ds.lin)")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("ARIMA_EVALUATE(MODEL ds.one, STRUCT(TRUE AS show_all_candidates))", r"ML\.ARIMA_EVALUATE has no setting 'show_all_candidates'\."),
        ("ARIMA_EVALUATE(MODEL ds.one, STRUCT(1 AS show_all_candidate_models))",
         r"The ML\.ARIMA_EVALUATE setting 'show_all_candidate_models' has the wrong type: 1\."),
        ("ARIMA_COEFFICIENTS(MODEL ds.one, STRUCT(TRUE AS show_all_candidate_models))", r"ML\.ARIMA_COEFFICIENTS has no setting 'show_all_candidate_models'\."),
        ("HOLIDAY_INFO(MODEL ds.one, STRUCT(3 AS horizon))", r"ML\.HOLIDAY_INFO has no setting 'horizon'\."),
    ],
)  # fmt: skip
def test_settings_with_wrong_names_or_types_are_errors(con, call, message):
    with pytest.raises(InvalidOptionError, match=message):
        con.query(f"SELECT * FROM ML.{call}")
