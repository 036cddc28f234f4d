"""Scripts written the way Google's public BigQuery ML tutorials write them run unchanged.

Each test builds a small stand-in for a public sample dataset (same table and column names, same
nesting) and runs the tutorial's statements as they are published: GA4 and GA360 samples with
wildcard tables, nested RECORDs and UNNEST; the census income classifier; the penguins
regression; natality with RAND() and FARM_FINGERPRINT splits; the NYC taxi feature-engineering
lab with ST_DISTANCE and ML.BUCKETIZE over GENERATE_ARRAY; data monitoring with TFDV.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sqlml

SEEDS = Path(__file__).parents[2] / "sql" / "seeds"


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        yield connection


def test_ga4_events_wildcard_with_event_params(con):
    # https://developers.google.com/analytics/bigquery/basic-queries and the GA4 propensity tutorial
    rng = np.random.default_rng(1)
    con.query("CREATE SCHEMA ga4_obfuscated_sample_ecommerce")
    for day in ("20210101", "20210102", "20210103"):
        users = [f"u{i}" for i in rng.integers(0, 12, 40)]
        events = rng.choice(["page_view", "session_start", "purchase"], 40, p=[0.7, 0.2, 0.1])
        con.register("day_frame", pd.DataFrame({"user_pseudo_id": users, "event_name": events, "revenue": rng.uniform(5, 50, 40)}))
        con.query(f"""
            CREATE TABLE ga4_obfuscated_sample_ecommerce.events_{day} AS
            SELECT '{day}' AS event_date, user_pseudo_id, event_name,
                   [STRUCT('page_title' AS key, STRUCT(IF(event_name = 'page_view', 'Home', NULL) AS string_value, CAST(NULL AS INT64) AS int_value) AS value),
                    STRUCT('engagement_time_msec', STRUCT(NULL, 1000))] AS event_params,
                   STRUCT(IF(event_name = 'purchase', revenue, NULL) AS purchase_revenue) AS ecommerce
            FROM day_frame
        """)
    counts = con.query("""
        SELECT event_name, COUNT(*) AS event_count
        FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
        WHERE _TABLE_SUFFIX BETWEEN '20210101' AND '20210102'
        GROUP BY 1 ORDER BY event_count DESC, event_name
    """).fetchall()
    assert sum(n for _, n in counts) == 80
    titles = con.query("""
        SELECT (SELECT value.string_value FROM UNNEST(event_params) WHERE key = 'page_title') AS page_title, COUNT(*) AS views
        FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
        WHERE event_name = 'page_view' GROUP BY 1
    """).fetchall()
    assert titles[0][0] == "Home" and titles[0][1] == con.query(
        "SELECT COUNTIF(event_name = 'page_view') FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`"
    ).fetchall()[0][0]
    engaged = con.query("""
        SELECT user_pseudo_id, SUM(ep.value.int_value) AS engagement_msec, SUM(ecommerce.purchase_revenue) AS revenue
        FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`, UNNEST(event_params) AS ep
        WHERE ep.key = 'engagement_time_msec' AND _TABLE_SUFFIX = '20210103'
        GROUP BY user_pseudo_id ORDER BY engagement_msec DESC LIMIT 3
    """).fetchall()
    assert len(engaged) == 3 and engaged[0][1] >= engaged[-1][1]


def test_ga360_sample_model_with_nested_hits(con):
    # https://cloud.google.com/bigquery/docs/create-machine-learning-model (the original BQML tutorial)
    rng = np.random.default_rng(2)
    con.query("CREATE SCHEMA google_analytics_sample; CREATE SCHEMA bqml_tutorial")
    for month, suffix in ((0, "20170630"), (1, "20170715")):
        n = 300
        frame = pd.DataFrame({
            "fullVisitorId": [f"v{i}" for i in range(n)], "pageviews": rng.integers(1, 30, n), "isMobile": rng.random(n) < 0.4,
            "os": rng.choice(["Windows", "Macintosh", "Android", None], n), "country": rng.choice(["United States", "India", "Canada"], n),
        })  # fmt: skip
        frame["bought"] = (frame["pageviews"] + rng.normal(0, 4, n)) > 20
        con.register("sessions_frame", frame)
        con.query(f"""
            CREATE TABLE google_analytics_sample.ga_sessions_{suffix} AS
            SELECT fullVisitorId, '{suffix}' AS date,
                   STRUCT(IF(bought, 1, NULL) AS transactions, pageviews, CAST(NULL AS INT64) AS bounces) AS totals,
                   STRUCT(os AS operatingSystem, isMobile) AS device, STRUCT(country) AS geoNetwork,
                   [STRUCT(1 AS hitNumber, STRUCT('/home' AS pagePath) AS page, [STRUCT('GGOE1' AS productSKU)] AS product),
                    STRUCT(2, STRUCT(IF(bought, '/checkout', '/shop')), [STRUCT('GGOE1'), STRUCT('GGOE2')])] AS hits
            FROM sessions_frame
        """)
    features = """
        SELECT IF(totals.transactions IS NULL, 0, 1) AS label, IFNULL(device.operatingSystem, "") AS os,
               device.isMobile AS is_mobile, IFNULL(geoNetwork.country, "") AS country, IFNULL(totals.pageviews, 0) AS pageviews
        FROM `bigquery-public-data.google_analytics_sample.ga_sessions_*`
    """
    con.query(f"CREATE MODEL `bqml_tutorial.sample_model` OPTIONS(model_type='logistic_reg') AS {features} WHERE _TABLE_SUFFIX BETWEEN '20160801' AND '20170630'")
    evaluation = con.query(f"SELECT * FROM ML.EVALUATE(MODEL `bqml_tutorial.sample_model`, ({features} WHERE _TABLE_SUFFIX BETWEEN '20170701' AND '20170801'))")
    metrics = dict(zip(evaluation.columns, evaluation.fetchall()[0]))
    assert metrics["roc_auc"] > 0.8
    by_country = con.query(f"""
        SELECT country, SUM(predicted_label) AS total_predicted_purchases
        FROM ML.PREDICT(MODEL `bqml_tutorial.sample_model`, ({features} WHERE _TABLE_SUFFIX BETWEEN '20170701' AND '20170801'))
        GROUP BY country ORDER BY total_predicted_purchases DESC LIMIT 10
    """).fetchall()
    assert {country for country, _ in by_country} == {"United States", "India", "Canada"}
    pages = con.query("""
        SELECT hits.page.pagePath, COUNT(DISTINCT fullVisitorId) AS visitors, COUNT(product.productSKU) AS products
        FROM `bigquery-public-data.google_analytics_sample.ga_sessions_*`, UNNEST(hits) AS hits, UNNEST(hits.product) AS product
        WHERE _TABLE_SUFFIX = '20170630' GROUP BY 1 ORDER BY 1
    """).fetchall()
    checkout = con.query("SELECT COUNTIF(totals.transactions = 1) FROM google_analytics_sample.ga_sessions_20170630").fetchall()[0][0]
    assert pages[0] == ("/checkout", checkout, 2 * checkout) and pages[1][0] == "/home" and pages[1][1] == 300


def test_predict_visitor_purchases_lab(con):
    # Qwiklabs GSP229, written for the labs' `data-to-insights.ecommerce.web_analytics` table
    con.query("""
        CREATE SCHEMA ecommerce;
        CREATE TABLE ecommerce.web_analytics AS
        SELECT CONCAT('v', CAST(MOD(x, 150) AS STRING)) AS fullVisitorId, IF(x < 150, '20160901', '20170501') AS date,
               STRUCT(IF(x < 150, 1, NULL) AS newVisits, MOD(x * 7, 5) AS bounces, MOD(x * 37, 600) AS timeOnSite,
                      IF(x >= 150 AND MOD((x - 150) * 37, 600) > 250, 1, NULL) AS transactions) AS totals
        FROM UNNEST(GENERATE_ARRAY(0, 299)) AS x
    """)
    training = """
        SELECT * EXCEPT(fullVisitorId) FROM
          (SELECT fullVisitorId, IFNULL(totals.bounces, 0) AS bounces, IFNULL(totals.timeOnSite, 0) AS time_on_site
           FROM `data-to-insights.ecommerce.web_analytics`
           WHERE totals.newVisits = 1 AND date BETWEEN '20160801' AND '20170430')
        JOIN
          (SELECT fullvisitorid, IF(COUNTIF(totals.transactions > 0 AND totals.newVisits IS NULL) > 0, 1, 0) AS will_buy_on_return_visit
           FROM `data-to-insights.ecommerce.web_analytics` GROUP BY fullvisitorid)
        USING (fullVisitorId)
    """
    con.query(f"CREATE OR REPLACE MODEL ecommerce.classification_model OPTIONS(model_type='logistic_reg', labels=['will_buy_on_return_visit']) AS {training}")
    quality = con.query(f"""
        SELECT roc_auc,
          CASE WHEN roc_auc > .9 THEN 'good' WHEN roc_auc > .8 THEN 'fair' WHEN roc_auc > .7 THEN 'decent'
               WHEN roc_auc > .6 THEN 'not great' ELSE 'poor' END AS model_quality
        FROM ML.EVALUATE(MODEL ecommerce.classification_model, ({training}))
    """).fetchall()
    assert quality[0][1] == "good"


def test_census_income_classifier(con):
    # https://cloud.google.com/bigquery/docs/logistic-regression-prediction
    rng = np.random.default_rng(3)
    n = 600
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, n), "workclass": rng.choice([" Private", " Self-emp-not-inc", " Local-gov"], n),
        "marital_status": rng.choice([" Married-civ-spouse", " Never-married", " Divorced"], n), "education_num": rng.integers(1, 16, n),
        "occupation": rng.choice([" Exec-managerial", " Sales", " Craft-repair"], n), "hours_per_week": rng.integers(10, 70, n),
        "functional_weight": rng.integers(10_000, 500_000, n),
    })  # fmt: skip
    score = frame["education_num"] * 0.4 + frame["hours_per_week"] * 0.05 + (frame["marital_status"] == " Married-civ-spouse") * 2
    frame["income_bracket"] = np.where(score + rng.normal(0, 0.8, n) > 6.5, " >50K", " <=50K")
    con.register("census_frame", frame)
    con.query("CREATE SCHEMA ml_datasets; CREATE SCHEMA census; CREATE TABLE ml_datasets.census_adult_income AS SELECT * FROM census_frame")
    con.query("""
        CREATE OR REPLACE VIEW `census.input_data` AS
        SELECT age, workclass, marital_status, education_num, occupation, hours_per_week, income_bracket,
          CASE WHEN MOD(functional_weight, 10) < 8 THEN 'training' WHEN MOD(functional_weight, 10) = 8 THEN 'evaluation'
               WHEN MOD(functional_weight, 10) = 9 THEN 'prediction' END AS dataframe
        FROM `bigquery-public-data.ml_datasets.census_adult_income`;

        CREATE OR REPLACE MODEL `census.census_model`
        OPTIONS (model_type='logistic_reg', auto_class_weights=TRUE, data_split_method='NO_SPLIT',
                 input_label_cols=['income_bracket'], max_iterations=15)
        AS SELECT * EXCEPT(dataframe) FROM `census.input_data` WHERE dataframe = 'training';
    """)
    metrics = con.query("SELECT * FROM ML.EVALUATE(MODEL `census.census_model`, (SELECT * FROM `census.input_data` WHERE dataframe = 'evaluation'))")
    assert dict(zip(metrics.columns, metrics.fetchall()[0]))["roc_auc"] > 0.75
    predictions = con.query(
        "SELECT predicted_income_bracket, predicted_income_bracket_probs FROM ML.PREDICT(MODEL `census.census_model`, "
        "(SELECT * FROM `census.input_data` WHERE dataframe = 'prediction'))"
    ).fetchall()
    assert {p for p, _ in predictions} <= {" >50K", " <=50K"} and all(abs(sum(x["prob"] for x in probs) - 1) < 1e-9 for _, probs in predictions)
    explained = con.query(
        "SELECT * FROM ML.EXPLAIN_PREDICT(MODEL `census.census_model`, (SELECT * FROM `census.input_data` WHERE dataframe = 'evaluation'), "
        "STRUCT(3 AS top_k_features))"
    )
    assert all(len(row[explained.columns.index("top_feature_attributions")]) == 3 for row in explained.fetchall())


def test_penguins_regression(con):
    # https://cloud.google.com/bigquery/docs/linear-regression-tutorial
    con.query("CREATE SCHEMA IF NOT EXISTS ml_datasets; CREATE SCHEMA IF NOT EXISTS bqml_tutorial")
    con.load("ml_datasets.penguins", SEEDS / "penguins.csv", nullstr="NA")
    con.query("""
        CREATE OR REPLACE MODEL `bqml_tutorial.penguins_model`
        OPTIONS (model_type='linear_reg', input_label_cols=['body_mass_g'], enable_global_explain=TRUE) AS
        SELECT * FROM `bigquery-public-data.ml_datasets.penguins` WHERE body_mass_g IS NOT NULL
    """)
    metrics = con.query("SELECT * FROM ML.EVALUATE(MODEL `bqml_tutorial.penguins_model`, (SELECT * FROM `bigquery-public-data.ml_datasets.penguins` WHERE body_mass_g IS NOT NULL))")
    assert dict(zip(metrics.columns, metrics.fetchall()[0]))["r2_score"] > 0.8
    biscoe = con.query("SELECT * FROM ML.PREDICT(MODEL `bqml_tutorial.penguins_model`, (SELECT * FROM `bigquery-public-data.ml_datasets.penguins` WHERE island = 'Biscoe'))")
    assert biscoe.columns[0] == "predicted_body_mass_g" and len(biscoe.fetchall()) == 168
    features = {row[0] for row in con.query("SELECT feature FROM ML.GLOBAL_EXPLAIN(MODEL `bqml_tutorial.penguins_model`)").fetchall()}
    assert {"species", "island", "sex", "flipper_length_mm"} <= features


def test_natality_with_random_and_fingerprint_splits(con):
    # the natality tutorials: RAND() sampling, FARM_FINGERPRINT splits, ML.TRAINING_INFO, ML.WEIGHTS
    rng = np.random.default_rng(4)
    n = 2000
    frame = pd.DataFrame({
        "year": rng.integers(1995, 2005, n), "is_male": rng.random(n) < 0.5, "gestation_weeks": rng.integers(30, 43, n),
        "mother_age": rng.integers(16, 45, n), "mother_race": rng.integers(1, 4, n), "plurality": rng.choice([1, 1, 1, 2], n),
    })  # fmt: skip
    frame["weight_pounds"] = 1.2 + 0.16 * frame["gestation_weeks"] + 0.25 * frame["is_male"] - 0.9 * (frame["plurality"] - 1) + rng.normal(0, 0.4, n)
    con.register("natality_frame", frame)
    con.query("CREATE SCHEMA samples; CREATE SCHEMA natality; CREATE TABLE samples.natality AS SELECT * FROM natality_frame")
    con.query("""
        CREATE OR REPLACE MODEL `natality.weight`
        OPTIONS(model_type='linear_reg', input_label_cols=['weight_pounds'], data_split_method='NO_SPLIT') AS
        SELECT weight_pounds, is_male, gestation_weeks, mother_age, CAST(mother_race AS STRING) AS mother_race
        FROM `bigquery-public-data.samples.natality`
        WHERE weight_pounds IS NOT NULL AND ABS(MOD(FARM_FINGERPRINT(CAST(year AS STRING)), 10)) < 8 AND RAND() < 0.9
    """)
    assert con.query("SELECT COUNT(*) FROM ML.TRAINING_INFO(MODEL `natality.weight`)").fetchall()[0][0] >= 1
    weights = dict(con.query("SELECT processed_input, weight FROM ML.WEIGHTS(MODEL `natality.weight`) WHERE processed_input IN ('gestation_weeks', 'is_male')").fetchall())
    assert weights["gestation_weeks"] == pytest.approx(0.16, abs=0.02)
    held_out = con.query("""
        SELECT COUNT(*) FROM ML.PREDICT(MODEL `natality.weight`,
          (SELECT * FROM `bigquery-public-data.samples.natality` WHERE ABS(MOD(FARM_FINGERPRINT(CAST(year AS STRING)), 10)) >= 8))
    """).fetchall()[0][0]
    years = con.query("SELECT COUNT(*) FROM samples.natality WHERE ABS(MOD(FARM_FINGERPRINT(CAST(year AS STRING)), 10)) >= 8").fetchall()[0][0]
    assert held_out == years
    sample = con.query("SELECT COUNT(*) FROM samples.natality WHERE RAND() < 0.1").fetchall()[0][0]
    assert 100 < sample < 320


def test_taxi_feature_engineering_with_geography(con):
    # the NYC taxi "feature engineering in BigQuery ML" lab: ST_DISTANCE, FEATURE_CROSS and
    # BUCKETIZE over GENERATE_ARRAY inside TRANSFORM
    rng = np.random.default_rng(5)
    n = 400
    frame = pd.DataFrame({
        "pickuplon": rng.uniform(-74.02, -73.93, n), "pickuplat": rng.uniform(40.70, 40.80, n),
        "dropofflon": rng.uniform(-74.02, -73.93, n), "dropofflat": rng.uniform(40.70, 40.80, n),
        "hour": rng.integers(0, 24, n), "passengers": rng.integers(1, 5, n),
    })  # fmt: skip
    con.register("taxi_frame", frame)
    con.query("""
        CREATE SCHEMA feat_eng;
        CREATE TABLE feat_eng.feats AS
        SELECT *, 2.5 + 0.002 * ST_DISTANCE(ST_GEOGPOINT(pickuplon, pickuplat), ST_GEOGPOINT(dropofflon, dropofflat)) AS fare_amount
        FROM taxi_frame
    """)
    con.query("""
        CREATE OR REPLACE MODEL feat_eng.final_model
        TRANSFORM(fare_amount, passengers,
          ML.FEATURE_CROSS(STRUCT(CAST(hour AS STRING) AS hourofday, CAST(passengers AS STRING) AS p)) AS hour_passengers,
          ST_DISTANCE(ST_GEOGPOINT(pickuplon, pickuplat), ST_GEOGPOINT(dropofflon, dropofflat)) AS euclidean,
          CONCAT(ML.BUCKETIZE(pickuplon, GENERATE_ARRAY(-78, -70, 0.01)), ML.BUCKETIZE(pickuplat, GENERATE_ARRAY(37, 45, 0.01))) AS pickup_area)
        OPTIONS(input_label_cols=['fare_amount'], model_type='linear_reg', l2_reg=0.1)
        AS SELECT * FROM feat_eng.feats
    """)
    rmse = con.query("SELECT SQRT(mean_squared_error) FROM ML.EVALUATE(MODEL feat_eng.final_model)").fetchall()[0][0]
    assert rmse < 1.0
    nearest = con.query("""
        SELECT ROUND(ST_DISTANCE(ST_GEOGPOINT(pickuplon, pickuplat), ST_GEOGPOINT(-73.985, 40.758)), 1) AS meters
        FROM feat_eng.feats WHERE ST_DWITHIN(ST_GEOGPOINT(pickuplon, pickuplat), ST_GEOGPOINT(-73.985, 40.758), 1000)
        ORDER BY meters LIMIT 3
    """).fetchall()
    assert all(m <= 1000 for (m,) in nearest)


def test_data_monitoring_with_tfdv_in_a_script(con):
    # https://cloud.google.com/bigquery/docs/model-monitoring-overview, with a default dataset
    result = con.query("""
        SET @@dataset_id = 'census';
        DECLARE training_stats JSON;
        DECLARE serving_stats JSON;
        SET training_stats = (SELECT * FROM ML.TFDV_DESCRIBE((SELECT * EXCEPT(dataframe) FROM input_data WHERE dataframe = 'training')));
        SET serving_stats = (SELECT * FROM ML.TFDV_DESCRIBE((SELECT * EXCEPT(dataframe, income_bracket) FROM input_data WHERE dataframe = 'prediction' AND age > 60)));
        SELECT ML.TFDV_VALIDATE(training_stats, serving_stats, 'SKEW', 0.3, 'L_INFTY', 0.1)
    """).fetchall()[0][0]
    anomalies = json.loads(result)
    assert "age" in anomalies["anomalyInfo"]  # only the over-60s are served
    assert "income_bracket" not in {".".join(m["path"]["step"]) for m in anomalies["driftSkewInfo"]}
    con.query("SET @@dataset_id = NULL")
