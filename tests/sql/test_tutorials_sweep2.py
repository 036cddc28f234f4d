"""Statements from BigQuery ML's public notebooks that a second sweep found failing, run as published
on small generated stand-ins for their tables.

The sweep ran the ``%%bigquery`` cells of GoogleCloudPlatform/bigquery-ml-utils' notebooks (model
monitoring, feature transform modules) and of GoogleCloudPlatform/training-data-analyst's BigQuery
ML courses (recommendation systems, feature engineering, babyweight). Each test names the notebook
and the cell it copies; numbers are checked against NumPy / pandas on the same stand-in rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import sqlml

MLUTILS = "https://github.com/GoogleCloudPlatform/bigquery-ml-utils/blob/main/notebooks/"
TDA = "https://github.com/GoogleCloudPlatform/training-data-analyst/blob/master/courses/machine_learning/deepdive2/"


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        yield connection


def _penguins(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "species": rng.choice(["Adelie Penguin (Pygoscelis adeliae)", "Gentoo penguin (Pygoscelis papua)"], n),
        "island": rng.choice(["Biscoe", "Dream"], n),
        "culmen_length_mm": rng.normal(44, 5, n), "culmen_depth_mm": rng.normal(17, 2, n),
        "flipper_length_mm": rng.normal(200, 14, n), "body_mass_g": rng.normal(4200, 800, n),
        "sex": rng.choice(["MALE", "FEMALE", "."], n),
    })  # fmt: skip


def test_create_schema_named_with_its_project_holds_the_tables_created_in_it(con):
    # MLUTILS bqml-model-monitoring-introduction.ipynb, cells 25 and 27: `project.dataset` in one pair
    # of backticks named a schema "project.dataset", so the CREATE TABLE after it found no dataset
    penguins = _penguins()
    con.query("CREATE SCHEMA IF NOT EXISTS ml_datasets")
    con.register("penguins_frame", penguins)
    con.query("CREATE OR REPLACE TABLE ml_datasets.penguins AS SELECT * FROM penguins_frame")
    con.query("""CREATE SCHEMA IF NOT EXISTS `statmike-mlops-349915.bqml_model_monitoring`
    OPTIONS(
        location = 'US'
    )""")
    con.query("""CREATE OR REPLACE TABLE `statmike-mlops-349915.bqml_model_monitoring.training` AS
    SELECT * EXCEPT(sex),
        CASE WHEN sex = '.' THEN NULL ELSE sex END AS sex
    FROM `bigquery-public-data.ml_datasets.penguins`""")
    training = con.query("SELECT * FROM bqml_model_monitoring.training").arrow()
    assert training.schema.names == [*penguins.columns.drop("sex"), "sex"]
    assert training.column("sex").null_count == (penguins["sex"] == ".").sum()
    con.query("DROP SCHEMA `statmike-mlops-349915.bqml_model_monitoring` CASCADE")
    with pytest.raises(sqlml.NotFoundError, match=r"^Unknown table bqml_model_monitoring\.training\."):
        con.query("SELECT * FROM bqml_model_monitoring.training")


def test_error_alert_keeps_its_whole_message(con):
    # MLUTILS bqml-model-monitoring-introduction.ipynb, cell 72 (the alert after retraining): the
    # message starts with two newlines, and only its first (empty) line was kept
    script = """DECLARE skew_anomalies ARRAY<STRUCT<input STRING, visualization_link STRING>>
        DEFAULT [STRUCT('body_mass_g', 'https://example.com/skew')];
    SELECT ERROR(
        CONCAT(
            '\\n\\nFound data skew in features: ',
            (
                SELECT STRING_AGG(
                    CONCAT('\\n- ', sa.input, ', link to visuals: ', sa.visualization_link),
                    '\\n'
                )
                FROM UNNEST(skew_anomalies) AS sa
            ),
            '\\n\\nModel is retrained with the latest serving data now.\\n\\n'
        )
    );"""
    with pytest.raises(sqlml.ExecutionError) as raised:
        con.query(script).fetchall()
    assert raised.value.message == (
        "\n\nFound data skew in features: \n- body_mass_g, link to visuals: https://example.com/skew"
        "\n\nModel is retrained with the latest serving data now.\n\n"
    )


ARR_TO_INPUT_16_USERS = """CREATE OR REPLACE FUNCTION movielens.arr_to_input_16_users(u ARRAY<FLOAT64>)
RETURNS
    STRUCT<
        u1 FLOAT64, u2 FLOAT64, u3 FLOAT64, u4 FLOAT64, u5 FLOAT64, u6 FLOAT64, u7 FLOAT64, u8 FLOAT64,
        u9 FLOAT64, u10 FLOAT64, u11 FLOAT64, u12 FLOAT64, u13 FLOAT64, u14 FLOAT64, u15 FLOAT64, u16 FLOAT64
    > AS (STRUCT(
        u[OFFSET(0)], u[OFFSET(1)], u[OFFSET(2)], u[OFFSET(3)], u[OFFSET(4)], u[OFFSET(5)], u[OFFSET(6)], u[OFFSET(7)],
        u[OFFSET(8)], u[OFFSET(9)], u[OFFSET(10)], u[OFFSET(11)], u[OFFSET(12)], u[OFFSET(13)], u[OFFSET(14)], u[OFFSET(15)]
));"""  # fmt: skip
ARR_TO_INPUT_16_PRODUCTS = ARR_TO_INPUT_16_USERS.replace("users(u ", "products(p ").replace("u[", "p[").replace(" u", " p")


@pytest.fixture(scope="module")
def movielens(con):
    con.query("CREATE SCHEMA IF NOT EXISTS movielens")
    con.query(ARR_TO_INPUT_16_USERS)
    con.query(ARR_TO_INPUT_16_PRODUCTS)
    return con


def test_struct_star_of_a_function_call_selects_its_fields(movielens):
    # TDA recommendation_systems/solutions/als_bqml_hybrid.ipynb, cells 29 and 31: `.*` after a
    # function's STRUCT was a DuckDB syntax error, and the RETURNS type did not name the fields
    result = movielens.query("""SELECT movielens.arr_to_input_16_users(u).*
FROM (SELECT
    [0., 1., 2., 3., 4., 5., 6., 7., 8., 9., 10., 11., 12., 13., 14., 15.] AS u)""").arrow()
    assert result.schema == pa.schema([(f"u{i}", pa.float64()) for i in range(1, 17)])
    assert list(result.to_pylist()[0].values()) == [float(i) for i in range(16)]


def test_struct_star_of_a_computed_struct_keeps_the_other_columns(movielens):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#select_expression_star
    result = movielens.query("SELECT 1 AS a, STRUCT(2 AS b, 'x' AS c).*, movielens.arr_to_input_16_products([1., 2., 3., 4., 5., 6., 7., 8., "
                             "9., 10., 11., 12., 13., 14., 15., 16.]).p16 AS last").arrow()  # fmt: skip
    assert result.schema == pa.schema([("a", pa.int64()), ("b", pa.int64()), ("c", pa.string()), ("last", pa.float64())])
    assert result.to_pylist() == [{"a": 1, "b": 2, "c": "x", "last": 16.0}]


def test_hybrid_model_trains_on_the_expanded_factors(movielens):
    # TDA recommendation_systems/solutions/als_bqml_hybrid.ipynb, cell 36, over a stand-in of the
    # hybrid_dataset cell 25 builds from a matrix factorization model's ML.WEIGHTS
    rng = np.random.default_rng(1)
    n = 40
    users, products = rng.normal(0, 1, (n, 16)), rng.normal(0, 1, (n, 16))
    frame = pd.DataFrame({"title": [f"m{i}" for i in range(n)], "g": rng.choice(["Comedy", "Drama"], n),
                          "product_factors": list(products), "loyalty": rng.random(n), "postcode": rng.choice(["10", "20"], n),
                          "user_factors": list(users), "rating": rng.integers(1, 6, n).astype(float)})  # fmt: skip
    movielens.register("hybrid_frame", frame)
    movielens.query("CREATE OR REPLACE TABLE movielens.hybrid_dataset AS SELECT * FROM hybrid_frame")
    movielens.query("""CREATE OR REPLACE MODEL movielens.recommender_hybrid
OPTIONS(model_type='linear_reg', input_label_cols=['rating'])
AS

SELECT
  * EXCEPT(user_factors, product_factors),
    movielens.arr_to_input_16_users(user_factors).*,
    movielens.arr_to_input_16_products(product_factors).*
FROM
  movielens.hybrid_dataset""")
    info = {row["input"]: row for row in movielens.query("SELECT * FROM ML.FEATURE_INFO(MODEL movielens.recommender_hybrid)").arrow().to_pylist()}
    assert sorted(info) == sorted(["title", "g", "loyalty", "postcode", *(f"u{i}" for i in range(1, 17)), *(f"p{i}" for i in range(1, 17))])
    assert (info["u1"]["min"], info["u1"]["max"]) == pytest.approx((users[:, 0].min(), users[:, 0].max()))
    assert info["p16"]["mean"] == pytest.approx(products[:, 15].mean())


def test_snap_to_grid_crosses_pickup_and_dropoff_cells(con):
    # TDA feature_engineering/solutions/2_bqml_adv_feat_eng.ipynb, cells 64 and 66: ST_SNAPTOGRID
    # was "not supported yet"; feateng_training_data is cell 11's table, generated here
    rng = np.random.default_rng(2)
    n = 120
    frame = pd.DataFrame({
        "fare_amount": rng.uniform(3, 40, n), "passengers": rng.integers(1, 4, n) * 1.0,
        "pickup_datetime": pd.Timestamp("2014-03-01") + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s"),
        "pickuplon": -73.98 + rng.normal(0, 0.02, n), "pickuplat": 40.75 + rng.normal(0, 0.02, n),
        "dropofflon": -73.97 + rng.normal(0, 0.02, n), "dropofflat": 40.76 + rng.normal(0, 0.02, n),
    })  # fmt: skip
    con.query("CREATE SCHEMA IF NOT EXISTS feat_eng")
    con.register("trips_frame", frame)
    con.query("CREATE OR REPLACE TABLE feat_eng.feateng_training_data AS SELECT * FROM trips_frame")
    con.query("""
# Use feature cross for the pick-up and drop-off locations features. 
CREATE OR REPLACE MODEL
  feat_eng.model_6 OPTIONS (model_type='linear_reg',
    input_label_cols=['fare_amount']) AS
SELECT
  fare_amount,
  passengers,
  #pickup_datetime,
  ML.FEATURE_CROSS(STRUCT(CAST(EXTRACT(DAYOFWEEK
        FROM
          pickup_datetime) AS STRING) AS dayofweek,
      CAST(EXTRACT(HOUR
        FROM
          pickup_datetime) AS STRING) AS hourofday)) AS day_hr,
  ST_Distance(ST_GeogPoint(pickuplon,
      pickuplat),
    ST_GeogPoint(dropofflon,
      dropofflat)) AS euclidean,
  CONCAT(ST_AsText(ST_SnapToGrid(ST_GeogPoint(pickuplon,
          pickuplat),
        0.01)), ST_AsText(ST_SnapToGrid(ST_GeogPoint(dropofflon,
          dropofflat),
        0.01))) AS pickup_and_dropoff
FROM
  `feat_eng.feateng_training_data`""")
    evaluation = con.query("""
# Use `ML.EVALUATE` function to evaluate model metrics. 
SELECT
  *
FROM
  ML.EVALUATE(MODEL feat_eng.model_6)""").arrow()
    assert evaluation.schema.names == ["mean_absolute_error", "mean_squared_error", "mean_squared_log_error",
                                       "median_absolute_error", "r2_score", "explained_variance"]  # fmt: skip
    cells = {
        f"POINT({round(a, 2):g} {round(b, 2):g})POINT({round(c, 2):g} {round(d, 2):g})"
        for a, b, c, d in frame[["pickuplon", "pickuplat", "dropofflon", "dropofflat"]].itertuples(index=False)
    }
    (count,), = con.query("SELECT category_count FROM ML.FEATURE_INFO(MODEL feat_eng.model_6) WHERE input = 'pickup_and_dropoff'").fetchall()
    assert count == len(cells)


def test_snap_to_grid_values_and_refusals(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/geography_functions#st_snaptogrid:
    # the grid size is rounded to a power of ten
    row = con.query("SELECT ST_AsText(ST_SnapToGrid(ST_GeogPoint(-73.98765, 40.75123), 0.01)) AS a, "
                    "ST_AsText(ST_SnapToGrid(ST_GeogPoint(-73.98765, 40.75123), 0.001)) AS b, "
                    "ST_AsText(ST_SnapToGrid(ST_GeogPoint(1.26, 2), 0.05)) AS c, ST_SnapToGrid(NULL, 0.01) AS d").fetchall()  # fmt: skip
    assert row == [("POINT(-73.99 40.75)", "POINT(-73.988 40.751)", "POINT(1.3 2)", None)]
    with pytest.raises(sqlml.ExecutionError) as raised:
        con.query("SELECT ST_SNAPTOGRID(ST_GEOGFROMTEXT('LINESTRING(1 2, 3 4)'), 0.1)").fetchall()
    assert raised.value.message == "ST_SNAPTOGRID in sqlml snaps points only; got 'LINESTRING(1 2, 3 4)'"


@pytest.mark.parametrize(
    ("call", "name"),
    [
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-ai-generate-bool (and _int, _double):
        # the scalar form was a syntax error ("unexpected '=>'"): sqlglot reads only the (MODEL m, (query)) form
        ("SELECT AI.GENERATE_BOOL(('Is this about cats? ', 'x'), connection_id => 'us.conn', endpoint => 'gemini-2.0-flash').result", "AI.GENERATE_BOOL"),
        ("SELECT AI.GENERATE_INT('How many legs?', connection_id => 'us.conn', endpoint => 'gemini-2.0-flash')", "AI.GENERATE_INT"),
        ("SELECT AI.GENERATE_DOUBLE('Pi?', connection_id => 'us.conn')", "AI.GENERATE_DOUBLE"),
        ("SELECT * FROM AI.GENERATE_BOOL(MODEL `bqml_tutorial.gemini`, (SELECT 'x' AS prompt))", "AI.GENERATE_BOOL"),
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-ai-generate: without a
        # field access sqlglot's own node is named AI_GENERATE, and the message said AI.AI_GENERATE
        ("SELECT AI.GENERATE('Write a haiku', connection_id => 'us.conn', endpoint => 'gemini-2.0-flash')", "AI.GENERATE"),
        # AI.GENERATE_TEXT(MODEL m, (query), STRUCT(…)) was "unexpected ')'": sqlml's parser read the
        # AI. spelling of an ML table function as a plain call
        ("SELECT * FROM AI.GENERATE_TEXT(MODEL `bqml_tutorial.gemini`, (SELECT 'Hi' AS prompt), STRUCT(0.2 AS temperature))", "AI.GENERATE_TEXT"),
        ("SELECT * FROM AI.GENERATE_TEXT_EMBEDDING(MODEL `bqml_tutorial.embedding`, TABLE bqml_tutorial.docs)", "AI.GENERATE_TEXT_EMBEDDING"),
        # AI.SEARCH(TABLE t, …) was a syntax error: a plain call cannot take a TABLE argument
        ("SELECT * FROM AI.SEARCH(TABLE bqml_tutorial.docs, 'content', 'cats', top_k => 3)", "AI.SEARCH"),
    ],
)
def test_generative_ai_calls_are_refused_by_their_own_name(con, call, name):
    with pytest.raises(sqlml.UnsupportedStatementError) as caught:
        con.query(call).fetchall()
    assert caught.value.message == (
        f"{name} calls a Google-hosted model (Gemini, TimesFM, a Vertex AI endpoint), which sqlml cannot reach: it runs models locally."
    )


GOOGLE_IO_DAYS = ["2017-05-17", "2018-05-08", "2019-05-07", "2021-05-18", "2022-05-11"]


@pytest.mark.slow  # ~5.5 s: ARIMA_PLUS over four years of days, with holidays
def test_custom_holiday_tutorial_selects_bigquery_holiday_names(con):
    # https://cloud.google.com/bigquery/docs/time-series-forecasting-holidays-tutorial (and MLUTILS
    # bqml-arima-plus-custom-holiday.ipynb, cells 15 and 21): the built-in US holidays are named as
    # BigQuery names them (US_Juneteenth, Christmas, NewYear), which the published SELECT asks for
    rng = np.random.default_rng(3)
    days = pd.date_range("2018-01-01", "2021-12-31", freq="D")
    views = 200 + 40 * np.sin(np.arange(len(days)) * 2 * np.pi / 7) + rng.normal(0, 5, len(days))
    views[days.isin(pd.to_datetime(GOOGLE_IO_DAYS))] += 2000
    con.query("CREATE SCHEMA IF NOT EXISTS bqml_tutorial")
    con.register("page_views", pd.DataFrame({"date": days, "views": views.round()}))
    con.query("CREATE OR REPLACE TABLE bqml_tutorial.googleio_page_views AS SELECT CAST(date AS DATETIME) AS date, CAST(views AS INT64) AS views FROM page_views")
    con.query("""CREATE OR REPLACE MODEL `bqml_tutorial.forecast_googleio_with_custom_holiday`
  OPTIONS (
    model_type = 'ARIMA_PLUS',
    holiday_region = 'US',
    time_series_timestamp_col = 'date',
    time_series_data_col = 'views',
    data_frequency = 'DAILY',
    horizon = 365)
AS (
  training_data AS (
      SELECT
        *
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
);""")
    effects = con.query("""SELECT
  time_series_timestamp,
  holiday_effect_GoogleIO,
  holiday_effect_US_Juneteenth,
  holiday_effect_Christmas,
  holiday_effect_NewYear
FROM
  ML.EXPLAIN_FORECAST(
    model
      `bqml_tutorial.forecast_googleio_with_custom_holiday`,
    STRUCT(365 AS horizon))
WHERE holiday_effect != 0;""").arrow()
    assert effects.schema.names == ["time_series_timestamp", "holiday_effect_GoogleIO", "holiday_effect_US_Juneteenth",
                                    "holiday_effect_Christmas", "holiday_effect_NewYear"]  # fmt: skip
    assert all(str(t) == "double" for t in effects.schema.types[1:])
    frame = effects.to_pandas()
    io_days = frame.loc[frame["holiday_effect_GoogleIO"].fillna(0) != 0, "time_series_timestamp"].dt.date
    windows = {(pd.Timestamp(day) + pd.Timedelta(days=k)).date() for day in GOOGLE_IO_DAYS for k in range(-1, 3)}
    assert len(io_days) > 0 and set(io_days) <= windows
    juneteenth = frame.loc[frame["holiday_effect_US_Juneteenth"].fillna(0) != 0, "time_series_timestamp"].dt.strftime("%m-%d")
    assert set(juneteenth) <= {"06-18", "06-19", "06-20"}  # the day or its observed Friday / Monday


@pytest.mark.slow  # a child process's first LightGBM import, ~3 s
def test_parallel_trials_share_one_lightgbm_import():
    # TDA quests/vertex-ai/vertex-bqml/lab_exercise.ipynb, cell 64 (num_trials=8, max_parallel_trials=4):
    # in a process that had not imported LightGBM, trials starting together read the module while
    # the first one imported it, and 7 of 8 failed with "partially initialized module 'lightgbm'
    # has no attribute 'Dataset'". A child process starts with LightGBM not imported.
    import subprocess
    import sys

    code = (
        "import threading\n"
        "from sqlml.ml.models.lightgbm_import import import_lightgbm\n"
        "seen = []\n"
        "threads = [threading.Thread(target=lambda: seen.append(hasattr(import_lightgbm(), 'Booster'))) for _ in range(4)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print(seen)\n"
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert child.stdout.strip() == "[True, True, True, True]"


def test_dataset_options_are_accepted_without_warnings(con, caplog):
    # MLUTILS bqml-model-monitoring-tutorial.ipynb, cell 25, and the DDL reference's dataset options:
    # DuckDB has no place for them, and sqlglot warned "Unsupported property locationproperty"
    caplog.set_level("WARNING")
    con.query("CREATE SCHEMA IF NOT EXISTS options_demo OPTIONS(location = 'US', description = 'demo', "
              "default_table_expiration_days = 3.75, labels = [('org_unit', 'development')])")  # fmt: skip
    con.query("CREATE TABLE options_demo.t AS SELECT 1 AS x")
    assert con.query("SELECT x FROM options_demo.t").fetchall() == [(1,)]
    assert [record.getMessage() for record in caplog.records] == []


def test_ai_spelling_of_a_cloud_ai_function_is_named_as_written(con):
    with pytest.raises(sqlml.UnsupportedStatementError) as caught:
        con.query("SELECT * FROM AI.UNDERSTAND_TEXT(MODEL `bqml_tutorial.nl`, (SELECT 'x' AS text_content), "
                  "STRUCT('analyze_sentiment' AS nlu_option))").fetchall()  # fmt: skip
    assert caught.value.message == "AI.UNDERSTAND_TEXT is not supported yet"
    assert caught.value.hint == (
        "It calls a remote model (Gemini, a Vertex AI endpoint or a Cloud AI service), which sqlml cannot reach: sqlml trains and runs models locally."
    )


@pytest.mark.parametrize(
    "statement",
    [
        # https://cloud.google.com/bigquery/docs/object-table-introduction, as BigQuery ML's image tutorials create one
        "CREATE OR REPLACE EXTERNAL TABLE `bqml_tutorial.product_images` WITH CONNECTION `us.bqml_tutorial` "
        "OPTIONS (object_metadata = 'SIMPLE', uris = ['gs://cloud-samples-data/bigquery/tutorials/cymbal-pets/images/*.png'])",
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_external_table_statement
        "CREATE EXTERNAL TABLE bqml_tutorial.sales OPTIONS (format = 'CSV', uris = ['gs://mybucket/sales/*.csv'])",
    ],
)
def test_external_tables_are_refused_with_the_reason(con, statement):
    # they said "Unknown table option ." or "sqlml does not support the statement CREATE …"
    with pytest.raises(sqlml.UnsupportedStatementError) as caught:
        con.query(statement)
    assert caught.value.message == (
        "sqlml does not support CREATE EXTERNAL TABLE: external and object tables read files where they live "
        "(Cloud Storage, Drive, Bigtable), which sqlml does not reach."
    )
    assert caught.value.hint == "Load local files into a table with LOAD DATA INTO dataset.table FROM FILES(format = 'CSV', uris = ['<local path>'])."


def test_object_ref_functions_are_refused_with_the_reason(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/objectref_functions: it said "Unknown function make_ref"
    with pytest.raises(sqlml.UnsupportedStatementError) as caught:
        con.query("SELECT OBJ.GET_ACCESS_URL(OBJ.MAKE_REF('gs://mybucket/images/cat.png', 'us.bqml_tutorial'), 'r') AS url").fetchall()
    assert caught.value.message == "OBJ.MAKE_REF works on Cloud Storage objects (ObjectRef values), which sqlml does not reach."
    con.query("CREATE SCHEMA IF NOT EXISTS obj")
    con.query("CREATE OR REPLACE FUNCTION obj.twice(x INT64) AS (2 * x)")
    assert con.query("SELECT obj.twice(21) AS v").fetchall() == [(42,)]  # a dataset named obj keeps its functions
