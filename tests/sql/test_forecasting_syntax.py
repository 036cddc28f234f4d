"""The SQL of BigQuery ML's forecasting tutorials parses, regenerates, is planned, and runs into
"not supported yet" (or the model-type error) rather than a syntax error.

The statements are written out as the tutorials publish them (layout, back-quoted names, lower-case
``model``); only the tables are whatever the tutorials read.
"""

from __future__ import annotations

import logging

import pytest
import sqlglot
from sqlglot import exp

import sqlml
from sqlml.ml.functions import FUNCTIONS
from sqlml.ml.models.model_types import UNSUPPORTED
from sqlml.ml.models.options import option_value
from sqlml.sql.dialect import DIALECTS, Sqlml, SqlmlDuckdb
from sqlml.sql.expressions import ML_FUNCTIONS, MLFunction, TrainingData, custom_holiday_query, training_query
from sqlml.sql.planner import StatementKind, node_kind, plan
from sqlml.sql.script import ScriptParser

# https://cloud.google.com/bigquery/docs/arima-single-time-series-forecasting-tutorial
SINGLE_SERIES_CREATE = """CREATE OR REPLACE MODEL `bqml_tutorial.ga_arima_model`
OPTIONS
  (model_type = 'ARIMA_PLUS',
   time_series_timestamp_col = 'parsed_date',
   time_series_data_col = 'total_visits',
   auto_arima = TRUE,
   data_frequency = 'AUTO_FREQUENCY',
   decompose_time_series = TRUE
  ) AS
SELECT
  PARSE_TIMESTAMP("%Y%m%d", date) AS parsed_date,
  SUM(totals.visits) AS total_visits
FROM
  `bigquery-public-data.google_analytics_sample.ga_sessions_*`
GROUP BY date"""

# https://cloud.google.com/bigquery/docs/arima-multiple-time-series-forecasting-tutorial
MULTI_SERIES_CREATE = """CREATE OR REPLACE MODEL `bqml_tutorial.nyc_citibike_arima_model_group`
OPTIONS
  (model_type = 'ARIMA_PLUS',
   time_series_timestamp_col = 'date',
   time_series_data_col = 'num_trips',
   time_series_id_col = 'start_station_name',
   auto_arima_max_order = 5
  ) AS
SELECT
   start_station_name,
   EXTRACT(DATE from starttime) AS date,
   COUNT(*) AS num_trips
FROM
  `bigquery-public-data.new_york.citibike_trips`
WHERE start_station_name LIKE '%Central Park%'
GROUP BY start_station_name, date"""

# time_series_id_col as an ARRAY<STRING> (one series per (station, user type)), with the
# forecast limit of https://cloud.google.com/bigquery/docs/arima-time-series-forecasting-with-limits-tutorial
MULTI_COLUMN_ID_CREATE = """CREATE OR REPLACE MODEL `bqml_tutorial.nyc_citibike_arima_model_with_limits`
OPTIONS
  (model_type = 'ARIMA_PLUS',
   time_series_timestamp_col = 'date',
   time_series_data_col = 'num_trips',
   time_series_id_col = ['start_station_id', 'usertype'],
   forecast_limit_lower_bound = 0
  ) AS
SELECT
  start_station_id, usertype, EXTRACT(DATE FROM starttime) AS date, COUNT(*) AS num_trips
FROM `bigquery-public-data.new_york.citibike_trips`
GROUP BY start_station_id, usertype, date"""

# https://cloud.google.com/bigquery/docs/time-series-forecasting-holidays-tutorial
CUSTOM_HOLIDAY_CREATE = """CREATE OR REPLACE MODEL `bqml_tutorial.forecast_googleio_with_custom_holiday`
  OPTIONS (
    model_type = 'ARIMA_PLUS',
    holiday_region = 'US',
    time_series_timestamp_col = 'date',
    time_series_data_col = 'views',
    data_frequency = 'DAILY',
    horizon = 365)
AS (
  training_data AS (
      SELECT *
      FROM
        `bqml_tutorial.googleio_page_views`
      WHERE
        date < '2022-01-01'
    ),
  custom_holiday AS (
      SELECT
        'US' AS region,
        'GoogleIO' AS holiday_name,
        primary_date,
        1 AS preholiday_days,
        2 AS postholiday_days
      FROM
        UNNEST(
          [
            DATE('2017-05-17'),
            DATE('2018-05-08'),
            DATE('2019-05-07'),
            -- cancelled in 2020 due to pandemic
            DATE('2021-05-18'),
            DATE('2022-05-11')])
          AS primary_date
    )
)"""

# https://cloud.google.com/bigquery/docs/arima-plus-xreg-single-time-series-forecasting-tutorial
XREG_CREATE = """CREATE OR REPLACE MODEL
  `bqml_tutorial.seattle_pm25_xreg_model`
  OPTIONS (
    MODEL_TYPE = 'ARIMA_PLUS_XREG',
    time_series_timestamp_col = 'date',
    time_series_data_col = 'pm25')
AS
SELECT
  date,
  pm25,
  temperature,
  wind_speed
FROM
  `bqml_tutorial.seattle_air_quality_daily`
WHERE
  date
  BETWEEN DATE('2012-01-01')
  AND DATE('2020-12-31')"""

# https://cloud.google.com/bigquery/docs/time-series-anomaly-detection-tutorial
ANOMALY_CREATE = """CREATE OR REPLACE MODEL `bqml_tutorial.arimax_model`
  OPTIONS (
    model_type = 'ARIMA_PLUS_XREG',
    auto_arima=TRUE,
    time_series_data_col = 'temperature',
    time_series_timestamp_col = 'date'
    )
AS
SELECT
  *
FROM
  `bqml_tutorial.seattle_air_quality_daily`
WHERE
  date < "2023-02-01\""""

CREATES = [SINGLE_SERIES_CREATE, MULTI_SERIES_CREATE, MULTI_COLUMN_ID_CREATE, CUSTOM_HOLIDAY_CREATE, XREG_CREATE, ANOMALY_CREATE]

#: (the function called, the statement as published)
CALLS = [
    ("ARIMA_EVALUATE", "SELECT\n *\nFROM\n ML.ARIMA_EVALUATE(MODEL `bqml_tutorial.ga_arima_model`)"),
    ("ARIMA_COEFFICIENTS", "SELECT\n *\nFROM\n ML.ARIMA_COEFFICIENTS(MODEL `bqml_tutorial.ga_arima_model`)"),
    (
        "FORECAST",
        "SELECT\n *\nFROM\n ML.FORECAST(MODEL `bqml_tutorial.ga_arima_model`,\n"
        "             STRUCT(30 AS horizon, 0.8 AS confidence_level))",
    ),
    (
        "EXPLAIN_FORECAST",
        "SELECT\n *\nFROM\n ML.EXPLAIN_FORECAST(MODEL `bqml_tutorial.ga_arima_model`,\n"
        "                     STRUCT(30 AS horizon, 0.8 AS confidence_level))",
    ),
    (
        "ARIMA_EVALUATE",
        "SELECT *\nFROM ML.ARIMA_EVALUATE(MODEL `bqml_tutorial.nyc_citibike_arima_model_group`,\n"
        "                       STRUCT(FALSE AS show_all_candidate_models))",
    ),
    (
        "FORECAST",
        "SELECT\n  *\nFROM\n  ML.FORECAST(MODEL `bqml_tutorial.nyc_citibike_arima_model_group`,\n"
        "              STRUCT(3 AS horizon, 0.9 AS confidence_level))",
    ),
    (
        "HOLIDAY_INFO",
        "SELECT *\nFROM\n  ML.HOLIDAY_INFO(\n    MODEL `bqml_tutorial.forecast_googleio_with_custom_holiday`)",
    ),
    (
        "EXPLAIN_FORECAST",
        "SELECT\n  time_series_timestamp,\n  holiday_effect_GoogleIO,\n  holiday_effect_US_Juneteenth,\n"
        "  holiday_effect_Christmas,\n  holiday_effect_NewYear\nFROM\n  ML.EXPLAIN_FORECAST(\n"
        "    model `bqml_tutorial.forecast_googleio_with_custom_holiday`,\n    STRUCT(365 AS horizon))\n"
        "WHERE holiday_effect != 0",
    ),
    (
        "FORECAST",
        "SELECT\n  *\nFROM\n  ML.FORECAST(\n    MODEL\n      `bqml_tutorial.seattle_pm25_xreg_model`,\n"
        "    STRUCT(\n      30 AS horizon,\n      0.8 AS confidence_level),\n    (\n      SELECT\n        date,\n"
        "        temperature,\n        wind_speed\n      FROM\n        `bqml_tutorial.seattle_air_quality_daily`\n"
        "      WHERE\n        date > DATE('2020-12-31')\n    ))",
    ),
    (
        "FORECAST",
        "SELECT * FROM ML.FORECAST(MODEL `bqml_tutorial.seattle_pm25_xreg_model`,\n"
        "  STRUCT(30 AS horizon, 0.8 AS confidence_level), TABLE `bqml_tutorial.seattle_future_weather`)",
    ),
    (
        "EVALUATE",
        "SELECT\n  *\nFROM\n  ML.EVALUATE(\n    MODEL `bqml_tutorial.seattle_pm25_xreg_model`,\n    (\n      SELECT\n"
        "        date,\n        pm25,\n        temperature,\n        wind_speed\n      FROM\n"
        "        `bqml_tutorial.seattle_air_quality_daily`\n      WHERE\n        date > DATE('2020-12-31')\n    ),\n"
        "    STRUCT(\n      TRUE AS perform_aggregation,\n      30 AS horizon))",
    ),
    (
        "DETECT_ANOMALIES",
        "SELECT\n  *\nFROM\n  ML.DETECT_ANOMALIES (\n   MODEL `bqml_tutorial.arimax_model`,\n"
        "   STRUCT(0.6 AS anomaly_prob_threshold)\n  )\nORDER BY\n  date ASC",
    ),
    (
        "DETECT_ANOMALIES",
        "SELECT\n  *\nFROM\n  ML.DETECT_ANOMALIES (\n   MODEL `bqml_tutorial.arimax_model`,\n"
        "   STRUCT(0.6 AS anomaly_prob_threshold),\n   (\n     SELECT\n       *\n     FROM\n       UNNEST(\n"
        "         [\n           STRUCT<date TIMESTAMP, pm25 FLOAT64, wind_speed FLOAT64, temperature FLOAT64>\n"
        "           ('2023-02-01 00:00:00 UTC', 8.8166665, 1.6525, 44.0),\n"
        "           ('2023-02-02 00:00:00 UTC', 11.8354165, 1.558333, 40.5)\n         ]\n       )\n   )\n  )",
    ),
]

STATEMENTS = CREATES + [sql for _, sql in CALLS]


def _parse_quietly(sql: str, caplog, dialect=Sqlml) -> exp.Expression:
    with caplog.at_level(logging.WARNING, logger="sqlglot"):
        tree = sqlglot.parse_one(sql, read=dialect)
    assert not isinstance(tree, exp.Command), "fell back to an opaque Command"
    assert "unsupported syntax" not in caplog.text
    return tree


@pytest.mark.parametrize("sql", STATEMENTS)
def test_tutorial_statement_round_trips(sql, caplog):
    tree = _parse_quietly(sql, caplog)
    written = tree.sql(dialect=Sqlml)
    again = sqlglot.parse_one(written, read=Sqlml)
    assert again == tree
    assert again.sql(dialect=Sqlml) == written


@pytest.mark.parametrize(("name", "sql"), CALLS)
def test_tutorial_call_parses_into_its_ml_node(name, sql):
    call = sqlglot.parse_one(sql, read=Sqlml).find(MLFunction)
    assert type(call) is ML_FUNCTIONS[name]
    assert call.model is not None and call.model.parts[-1].name in sql
    assert call.settings is not None or name in ("ARIMA_EVALUATE", "ARIMA_COEFFICIENTS", "HOLIDAY_INFO")


def test_forecasting_call_arguments_keep_their_roles():
    _, xreg = CALLS[8]
    call = sqlglot.parse_one(xreg, read=Sqlml).find(MLFunction)
    assert call.settings.sql() == "STRUCT(30 AS horizon, 0.8 AS confidence_level)"
    assert [type(a).__name__ for a in call.data_arguments] == ["Subquery"]
    table_first = sqlglot.parse_one("SELECT * FROM ML.FORECAST(MODEL ds.m, TABLE ds.f, STRUCT(3 AS horizon))", read=Sqlml)
    call = table_first.find(MLFunction)
    assert (call.settings.sql(), call.data_arguments[0].sql()) == ("STRUCT(3 AS horizon)", "ds.f")


@pytest.mark.parametrize("name", ["FORECAST", "EXPLAIN_FORECAST", "DETECT_ANOMALIES", "ARIMA_EVALUATE", "ARIMA_COEFFICIENTS", "HOLIDAY_INFO"])
def test_forecasting_calls_reach_the_function_table(name):
    # A node marked unsupported is refused before the function table is asked: an implementation
    # marked @function("HOLIDAY_INFO") in ml/functions must be enough to run ML.HOLIDAY_INFO.
    node_type = ML_FUNCTIONS[name]
    assert node_type.supported and node_type.requires_model and node_type.model_first


def test_ai_forecast_stays_sqlglots_own_function():
    # AI.FORECAST (TimesFM, no model) shares its name with ML.FORECAST's parser entry.
    tree = sqlglot.parse_one("SELECT * FROM AI.FORECAST(TABLE ds.t, data_col => 'y', timestamp_col => 'd')", read=Sqlml)
    assert tree.find(MLFunction) is None and tree.find(exp.AIForecast) is not None


@pytest.mark.parametrize("name", ["FORECAST", "EXPLAIN_FORECAST", "DETECT_ANOMALIES", "ARIMA_EVALUATE", "ARIMA_COEFFICIENTS", "HOLIDAY_INFO"])
def test_forecasting_functions_need_a_model_first(name):
    with pytest.raises(sqlglot.errors.ParseError, match=rf"Expected MODEL <name> as the first argument of ML\.{name}"):
        sqlglot.parse_one(f"SELECT * FROM ML.{name}(TABLE ds.t)", read=Sqlml)


def test_id_column_array_and_order_tuple_are_options():
    tree = sqlglot.parse_one(MULTI_COLUMN_ID_CREATE, read=Sqlml)
    options = {p.name.lower(): p.args["value"] for p in tree.args["properties"].expressions if type(p) is exp.Property}
    assert option_value(options["time_series_id_col"], {}) == ["start_station_id", "usertype"]
    assert option_value(options["forecast_limit_lower_bound"], {}) == 0
    order = sqlglot.parse_one("CREATE MODEL ds.m OPTIONS(non_seasonal_order=(1, 1, 2)) AS SELECT 1 AS y", read=Sqlml)
    assert isinstance(order.args["properties"].expressions[0].args["value"], exp.Tuple)
    assert [e.name for e in order.args["properties"].expressions[0].args["value"].expressions] == ["1", "1", "2"]


def test_xreg_statement_has_one_query_and_no_transform():
    tree = sqlglot.parse_one(XREG_CREATE, read=Sqlml)
    assert isinstance(training_query(tree), exp.Select) and custom_holiday_query(tree) is None
    assert not any(isinstance(p, exp.TransformModelProperty) for p in tree.args["properties"].expressions)


@pytest.mark.parametrize("dialect", [Sqlml, SqlmlDuckdb])
def test_custom_holiday_form_carries_both_queries(dialect, caplog):
    sql = CUSTOM_HOLIDAY_CREATE if dialect is Sqlml else CUSTOM_HOLIDAY_CREATE.replace("`", "")  # DuckDB quotes with "
    tree = _parse_quietly(sql, caplog, dialect)
    assert isinstance(tree.expression, TrainingData)
    training = training_query(tree)
    assert isinstance(training, exp.Select) and training.find(exp.Table).name == "googleio_page_views"
    assert training.args["where"].sql() == "WHERE date < '2022-01-01'"
    holidays = custom_holiday_query(tree)
    assert [s.alias_or_name for s in holidays.selects] == ["region", "holiday_name", "primary_date", "preholiday_days", "postholiday_days"]


def test_custom_holiday_form_regenerates_in_bigquerys_order():
    tree = sqlglot.parse_one(
        "CREATE MODEL ds.m OPTIONS(model_type='ARIMA_PLUS') AS (custom_holiday AS (SELECT 2 AS h), training_data AS (SELECT 1 AS y))",
        read=Sqlml,
    )
    assert tree.sql(dialect=Sqlml) == (
        "CREATE MODEL ds.m OPTIONS (model_type='ARIMA_PLUS') AS (training_data AS (SELECT 1 AS y), custom_holiday AS (SELECT 2 AS h))"
    )


def test_a_single_query_is_left_as_it_is():
    tree = sqlglot.parse_one("CREATE MODEL ds.m OPTIONS(model_type='linear_reg') AS (SELECT 1 AS y)", read=Sqlml)
    assert isinstance(training_query(tree), exp.Subquery) and custom_holiday_query(tree) is None


@pytest.mark.parametrize(
    ("as_clause", "message"),
    [
        ("(training_data AS (SELECT 1 AS y))", r"Expected custom_holiday AS \(query\) in CREATE MODEL"),
        ("(custom_holiday AS (SELECT 1 AS y))", r"Expected training_data AS \(query\) in CREATE MODEL"),
        ("(training_data AS (SELECT 1 AS y), training_data AS (SELECT 2 AS y))", r"training_data AS \(query\) is given twice"),
        ("(training_data AS (SELECT 1 AS y), holidays AS (SELECT 2 AS y))", r"Expected training_data AS \(query\) or custom_holiday AS \(query\)"),
    ],
)
def test_a_malformed_custom_holiday_form_is_a_syntax_error(as_clause, message):
    with pytest.raises(sqlglot.errors.ParseError, match=message):
        sqlglot.parse_one(f"CREATE MODEL ds.m OPTIONS(model_type='ARIMA_PLUS') AS {as_clause}", read=Sqlml)


def test_the_custom_holiday_form_belongs_to_create_model_only():
    with pytest.raises(sqlglot.errors.ParseError):
        sqlglot.parse_one("CREATE TABLE ds.t AS (training_data AS (SELECT 1 AS y), custom_holiday AS (SELECT 2 AS h))", read=Sqlml)


def _planned(sql: str) -> tuple[StatementKind, str]:
    """The kind and verb the executor plans the one statement of ``sql`` as (script splitting included)."""
    parser = ScriptParser(sql + ";", DIALECTS["bigquery"])
    [node] = parser.nodes()
    assert node_kind(node) is None
    planned = plan(parser.parse_statement(node))
    return planned.kind, planned.verb


@pytest.mark.parametrize("sql", STATEMENTS)
def test_planner_classifies_forecasting_statements(sql):
    expected = (StatementKind.CREATE_MODEL, "CREATE MODEL") if sql in CREATES else (StatementKind.QUERY, "SELECT")
    assert _planned(sql) == expected


@pytest.mark.parametrize(("name", "sql"), CALLS)
def test_running_a_tutorial_call_is_never_a_syntax_error(con, name, sql):
    # Without an implementation the call says so at its position; with one, the model it names
    # does not exist here.
    if name in FUNCTIONS:
        with pytest.raises(sqlml.ModelNotFoundError, match=r"bqml_tutorial"):
            con.query(sql).fetchall()
        return
    with pytest.raises(sqlml.UnsupportedStatementError) as caught:
        con.query(sql).fetchall()
    error = caught.value
    assert error.message == f"ML.{name} is not supported yet"
    assert error.location.source_line[error.location.col - 1 :].upper().startswith(f"ML.{name}")


@pytest.mark.parametrize("sql", CREATES)
def test_running_a_tutorial_create_model_is_never_a_syntax_error(con, sql):
    model_type = "ARIMA_PLUS_XREG" if "ARIMA_PLUS_XREG" in sql else "ARIMA_PLUS"
    with pytest.raises(sqlml.Error) as caught:
        con.query(sql)
    assert not isinstance(caught.value, sqlml.SqlSyntaxError)
    if model_type in UNSUPPORTED:
        assert isinstance(caught.value, sqlml.InvalidOptionError)
        assert caught.value.message == f"model_type='{model_type}' is not supported by sqlml: {UNSUPPORTED[model_type]}."


def test_custom_holiday_needs_a_time_series_model_type(con):
    sql = (
        "CREATE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y'])\n"
        "AS (training_data AS (SELECT x, y FROM ds.t), custom_holiday AS (SELECT 'US' AS region))"
    )
    with pytest.raises(sqlml.SqlSyntaxError) as caught:
        con.query(sql)
    assert caught.value.message == "custom_holiday AS (…) is for model_type='ARIMA_PLUS' or 'ARIMA_PLUS_XREG', not 'linear_reg'."
    location = caught.value.location
    assert location.line == 2 and location.source_line[location.col - 1 :].startswith("SELECT 'US' AS region")


def test_custom_holiday_cannot_be_combined_with_transform(con):
    sql = (
        "CREATE MODEL ds.m TRANSFORM(y, x * 2 AS x2) OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='d', "
        "time_series_data_col='y') AS (training_data AS (SELECT 1 AS y), custom_holiday AS (SELECT 'US' AS region))"
    )
    with pytest.raises(sqlml.SqlSyntaxError) as caught:
        con.query(sql)
    assert caught.value.message == "custom_holiday AS (…) cannot be combined with a TRANSFORM clause."
    assert (caught.value.location.line, caught.value.location.col) == (1, 29)
