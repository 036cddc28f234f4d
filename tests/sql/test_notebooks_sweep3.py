"""BigQuery ML notebooks from public repositories other than the earlier sweeps' (a third notebook
sweep), their cells run unchanged on small generated stand-ins for their tables.

Sources (GitHub): GoogleCloudPlatform/analytics-componentized-patterns (retail demand forecasting,
gaming churn propensity, retail recommendations), GoogleCloudPlatform/asl-ml-immersion (babyweight
with feature crosses and TRANSFORM), GoogleCloudPlatform/vertex-ai-samples (anomaly detection in
Cloud Audit logs). Each test names the notebook it copies; numbers are checked against NumPy /
pandas on the same stand-in rows. The ledger is /work/notes/notebooks37_ledger.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sqlml

ACP = "GoogleCloudPlatform/analytics-componentized-patterns/"
ASL = "GoogleCloudPlatform/asl-ml-immersion/asl_core/notebooks/"
VAS = "GoogleCloudPlatform/vertex-ai-samples/notebooks/"

ARIMA_EVALUATE_COLUMNS = ["non_seasonal_p", "non_seasonal_d", "non_seasonal_q", "has_drift", "log_likelihood"]


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        yield connection


@pytest.fixture(scope="module")
def liquor(con):
    """`bigquery-public-data.iowa_liquor_sales.sales`: three items sold daily, two others rarely."""
    rng = np.random.default_rng(2)
    days = pd.date_range("2017-02-01", "2017-07-15", freq="D")
    rows = [(f"INV-{item}-{day:%Y%m%d}-{k}", day.date(), str(100 + k), item, int(5 + i + 3 * (day.dayofweek >= 5) + rng.integers(0, 4)), 20.0)
            for i, item in enumerate(["BLACK VELVET", "FIREBALL", "TITOS"]) for day in days for k in range(2)]  # fmt: skip
    # two rare items in the top five sell only after the training window; the sixth item sells inside it
    later = pd.date_range("2017-06-10", periods=3, freq="D")
    rows += [(f"INV-A{k}", later[k].date(), "999", "RARE A", 1, 9.0) for k in range(3)]
    rows += [(f"INV-B{k}", later[k].date(), "999", "RARE B", 1, 9.0) for k in range(2)]
    rows += [("INV-C0", days[10].date(), "999", "RARE C", 1, 9.0)]
    columns = ["invoice_and_item_number", "date", "store_number", "item_description", "bottles_sold", "sale_dollars"]
    con.register("liquor_frame", pd.DataFrame(rows, columns=columns))
    con.query("CREATE SCHEMA iowa_liquor_sales; CREATE TABLE iowa_liquor_sales.sales AS SELECT * FROM liquor_frame; CREATE SCHEMA bqmlforecast")
    con.unregister("liquor_frame")
    return pd.DataFrame(rows, columns=columns)


def test_demand_forecasting_with_the_arima_model_type(con, liquor):
    # ACP retail/time-series/bqml-demand-forecasting/bqml_retail_demand_forecasting.ipynb, cells
    # 28, 36, 39, 43, 49 (the notebook's --params: the training window)
    params = {"TRAININGDATA_STARTDATE": "2016-01-01", "TRAININGDATA_ENDDATE": "2017-06-01"}
    con.query("""CREATE OR REPLACE TABLE bqmlforecast.training_data AS (
    WITH topsellingitems AS(
         SELECT 
            item_description,
            count(item_description) cnt_transactions
        FROM
            `bigquery-public-data.iowa_liquor_sales.sales` 
        GROUP BY 
            item_description
        ORDER BY cnt_transactions DESC
        LIMIT 5 #Top N
    )
    SELECT 
        date,
        item_description AS item_name,
        SUM(bottles_sold) AS total_amount_sold
    FROM
        `bigquery-public-data.iowa_liquor_sales.sales` 
    GROUP BY
        date, item_name
    HAVING 
        date BETWEEN @TRAININGDATA_STARTDATE AND @TRAININGDATA_ENDDATE
        AND item_description IN (SELECT item_description FROM topsellingitems)
    );""", params)  # fmt: skip
    top = liquor.item_description.value_counts().head(5).index
    window = liquor[(liquor.date <= pd.Timestamp("2017-06-01").date()) & liquor.item_description.isin(top)]
    expected = window.groupby(["date", "item_description"]).bottles_sold.sum()
    trained = con.query("SELECT date, item_name, total_amount_sold FROM bqmlforecast.training_data").df()
    assert len(trained) == len(expected) == 121 * 3
    assert trained.set_index(["date", "item_name"]).total_amount_sold.sort_index().tolist() == expected.sort_index().tolist()

    # MODEL_TYPE='ARIMA' is ARIMA_PLUS's name before its 2021 rename
    con.query("""CREATE OR REPLACE MODEL bqmlforecast.arima_model

OPTIONS(
  MODEL_TYPE='ARIMA',
  TIME_SERIES_TIMESTAMP_COL='date', 
  TIME_SERIES_DATA_COL='total_amount_sold',
  TIME_SERIES_ID_COL='item_name',
  HOLIDAY_REGION='US'
) AS

SELECT 
    date,
    item_name,
    total_amount_sold
FROM
  bqmlforecast.training_data""")
    con.query("""CREATE MODEL bqmlforecast.arima_plus OPTIONS(MODEL_TYPE='ARIMA_PLUS', TIME_SERIES_TIMESTAMP_COL='date',
        TIME_SERIES_DATA_COL='total_amount_sold', TIME_SERIES_ID_COL='item_name', HOLIDAY_REGION='US') AS
        SELECT * FROM bqmlforecast.training_data""")  # fmt: skip

    # ML.EVALUATE without input: the evaluate page's deprecated form, `aic` lower-case there
    evaluated = con.query("""SELECT
  *
FROM
  ML.EVALUATE(MODEL bqmlforecast.arima_model)""").arrow()
    assert evaluated.column_names == ["item_name", *ARIMA_EVALUATE_COLUMNS, "aic", "variance", "seasonal_periods",
                                      "has_holiday_effect", "has_spikes_and_dips", "has_step_changes"]  # fmt: skip
    arima = con.query("SELECT item_name, AIC, variance FROM ML.ARIMA_EVALUATE(MODEL bqmlforecast.arima_model) ORDER BY item_name").fetchall()
    assert [(r["item_name"], r["aic"], r["variance"]) for r in evaluated.to_pylist()] == arima
    assert [r[0] for r in arima] == sorted(set(trained.item_name))

    forecast = con.query('''DECLARE HORIZON STRING DEFAULT "30"; #number of values to forecast
DECLARE CONFIDENCE_LEVEL STRING DEFAULT "0.90";

EXECUTE IMMEDIATE format("""
    SELECT
      *
    FROM 
      ML.FORECAST(MODEL bqmlforecast.arima_model, 
                  STRUCT(%s AS horizon, 
                         %s AS confidence_level)
                 )
    """,HORIZON,CONFIDENCE_LEVEL)''').df()  # fmt: skip
    assert len(forecast) == 90 and (forecast.confidence_level == 0.9).all()
    same = con.query("SELECT * FROM ML.FORECAST(MODEL bqmlforecast.arima_plus, STRUCT(30 AS horizon, 0.90 AS confidence_level))").df()
    pd.testing.assert_frame_equal(forecast, same)
    first = forecast.groupby("item_name").forecast_timestamp.min()
    assert (first.dt.date == pd.Timestamp("2017-06-02").date()).all()
    coefficients = con.query("""SELECT
  *
FROM 
  ML.ARIMA_COEFFICIENTS(MODEL bqmlforecast.arima_model)""").arrow()  # fmt: skip
    assert coefficients.column_names == ["item_name", "ar_coefficients", "ma_coefficients", "intercept_or_drift"]
    assert [len(a) for a in coefficients.column("ar_coefficients").to_pylist()] == [r["non_seasonal_p"] for r in evaluated.to_pylist()]


@pytest.fixture(scope="module")
def babyweight(con):
    rng = np.random.default_rng(1)

    def frame(n):
        f = pd.DataFrame({"is_male": rng.choice(["true", "false", "Unknown"], n), "mother_age": rng.integers(15, 46, n),
                          "plurality": rng.choice(["Single(1)", "Twins(2)", "Triplets(3)", "Multiple(2+)"], n),
                          "gestation_weeks": rng.integers(20, 45, n)})  # fmt: skip
        f.insert(0, "weight_pounds", 2 + 0.12 * f.gestation_weeks + 0.01 * f.mother_age + rng.normal(0, 0.5, n))
        return f

    train, evaluation = frame(400), frame(100)
    con.register("train_frame", train)
    con.register("eval_frame", evaluation)
    con.query("""CREATE SCHEMA babyweight; CREATE TABLE babyweight.babyweight_data_train AS SELECT * FROM train_frame;
                 CREATE TABLE babyweight.babyweight_data_eval AS SELECT * FROM eval_frame""")
    return evaluation


CROSSED = """
    ML.FEATURE_CROSS(
        STRUCT(
            is_male,
            ML.BUCKETIZE(
                mother_age,
                GENERATE_ARRAY(15, 45, 1)
            ) AS bucketed_mothers_age,
            plurality,
            ML.BUCKETIZE(
                gestation_weeks,
                GENERATE_ARRAY(17, 47, 1)
            ) AS bucketed_gestation_weeks
        )
    ) AS crossed"""


def test_babyweight_feature_cross_inline_and_in_transform(con, babyweight):
    # ASL end-to-end-structured/solutions/3b_bqml_linear_transform_babyweight.ipynb cells 12, 18,
    # 21, 27: the same crossed feature written in the SELECT (model_2) and in TRANSFORM (model_3)
    con.query(f"""CREATE OR REPLACE MODEL
    babyweight.model_2
OPTIONS (
    MODEL_TYPE="LINEAR_REG",
    INPUT_LABEL_COLS=["weight_pounds"],
    L2_REG=0.1,
    DATA_SPLIT_METHOD="NO_SPLIT") AS

SELECT
    weight_pounds,
    is_male,
    mother_age,
    plurality,
    gestation_weeks,{CROSSED}
FROM
    babyweight.babyweight_data_train""")
    con.query(f"""CREATE OR REPLACE MODEL
    babyweight.model_3

TRANSFORM(
    weight_pounds,
    is_male,
    mother_age,
    plurality,
    gestation_weeks,{CROSSED}
)

OPTIONS (
    MODEL_TYPE="LINEAR_REG",
    INPUT_LABEL_COLS=["weight_pounds"],
    L2_REG=0.1,
    DATA_SPLIT_METHOD="NO_SPLIT") AS

SELECT
    *
FROM
    babyweight.babyweight_data_train""")
    inline = con.query(f"""SELECT
    SQRT(mean_squared_error) AS rmse
FROM
    ML.EVALUATE(MODEL babyweight.model_2,
    (
    SELECT
        weight_pounds,
        is_male,
        mother_age,
        plurality,
        gestation_weeks,{CROSSED}
    FROM
        babyweight.babyweight_data_eval))""").fetchall()[0][0]
    transformed = con.query("""SELECT
    SQRT(mean_squared_error) AS rmse
FROM
    ML.EVALUATE(MODEL babyweight.model_3,
    (
    SELECT
        *
    FROM
        babyweight.babyweight_data_eval
    ))""").fetchall()[0][0]
    predicted = con.query("SELECT weight_pounds, predicted_weight_pounds FROM ML.PREDICT(MODEL babyweight.model_3, TABLE babyweight.babyweight_data_eval)").df()
    assert transformed == pytest.approx(np.sqrt(np.mean((predicted.weight_pounds - predicted.predicted_weight_pounds) ** 2)), rel=1e-9)
    assert inline == pytest.approx(transformed, rel=1e-6)
    one = con.query("""SELECT * FROM ML.PREDICT(MODEL babyweight.model_3, (SELECT "Unknown" AS is_male, 32 AS mother_age,
                       "Multiple(2+)" AS plurality, 30 AS gestation_weeks))""").arrow()  # fmt: skip
    assert one.column_names == ["predicted_weight_pounds", "is_male", "mother_age", "plurality", "gestation_weeks"]


@pytest.fixture(scope="module")
def gaming(con):
    """`firebase-public-project.analytics_153293282.events_*`: 80 users over six daily tables."""
    rng = np.random.default_rng(3)
    con.query("CREATE SCHEMA analytics_153293282; CREATE SCHEMA bqmlga4")
    names = ["user_engagement", "level_start_quickplay", "level_end_quickplay", "post_score", "spend_virtual_currency", "ad_reward"]
    users = [f"U{i:03d}" for i in range(80)]
    start = {u: 1528761600_000000 + int(rng.integers(0, 2 * 86400)) * 1_000_000 for u in users}
    span = {u: int(rng.choice([300, 5000, 90000, 300000])) * 1_000_000 for u in users}
    frames = []
    for d, day in enumerate(("20180612", "20180613", "20180614", "20180615", "20180616", "20180617")):
        rows = [(day, start[u], "user_engagement", u) for u in users] if d == 0 else []
        for u in users:
            for ts in start[u] + (rng.uniform(0, 1, 4) * span[u]).astype(np.int64):
                if ts // 86400_000000 == 1528761600 // 86400 + d:
                    rows.append((day, int(ts), str(rng.choice(names, p=[0.4, 0.2, 0.1, 0.1, 0.1, 0.1])), u))
        frame = pd.DataFrame(rows, columns=["event_date", "event_timestamp", "event_name", "user_pseudo_id"])
        con.register("day_frame", frame)
        con.query(f"""CREATE TABLE analytics_153293282.events_{day} AS SELECT event_date, event_timestamp, event_name, user_pseudo_id,
            STRUCT(IF(MOD(ABS(FARM_FINGERPRINT(user_pseudo_id)), 3) = 0, 'United States', 'India') AS country) AS geo,
            STRUCT(IF(MOD(ABS(FARM_FINGERPRINT(user_pseudo_id)), 2) = 0, 'ANDROID', 'IOS') AS operating_system, 'en-us' AS language) AS device
            FROM day_frame""")  # fmt: skip
        frames.append(frame)
    con.unregister("day_frame")
    return pd.concat(frames)


def test_gaming_churn_propensity(con, gaming):
    # ACP gaming/propensity-model/bqml/bqml_ga4_gaming_propensity_to_churn.ipynb cells 40, 46, 68,
    # 83, 94: views over the wildcard table, LOGISTIC_REG on SELECT *, the confusion matrix's
    # `_0`/`_1` columns and the first class's probability
    con.query("""CREATE OR REPLACE VIEW bqmlga4.returningusers AS (
  WITH firstlasttouch AS (
    SELECT
      user_pseudo_id,
      MIN(event_timestamp) AS user_first_engagement,
      MAX(event_timestamp) AS user_last_engagement
    FROM
      `firebase-public-project.analytics_153293282.events_*`
    WHERE event_name="user_engagement"
    GROUP BY
      user_pseudo_id

  )
  SELECT
    user_pseudo_id,
    user_first_engagement,
    user_last_engagement,
    EXTRACT(MONTH from TIMESTAMP_MICROS(user_first_engagement)) as month,
    EXTRACT(DAYOFYEAR from TIMESTAMP_MICROS(user_first_engagement)) as julianday,
    EXTRACT(DAYOFWEEK from TIMESTAMP_MICROS(user_first_engagement)) as dayofweek,

    #add 24 hr to user's first touch
    (user_first_engagement + 86400000000) AS ts_24hr_after_first_engagement,

#churned = 1 if last_touch within 24 hr of app installation, else 0
IF (user_last_engagement < (user_first_engagement + 86400000000),
    1,
    0 ) AS churned,

#bounced = 1 if last_touch within 10 min, else 0
IF (user_last_engagement <= (user_first_engagement + 600000000),
    1,
    0 ) AS bounced,
  FROM
    firstlasttouch
  GROUP BY
    1,2,3
    );""")
    engaged = gaming[gaming.event_name == "user_engagement"].groupby("user_pseudo_id").event_timestamp.agg(["min", "max"])
    churned, bounced = engaged["max"] < engaged["min"] + 86400000000, engaged["max"] <= engaged["min"] + 600000000
    rate = con.query("""SELECT
    COUNTIF(churned=1)/COUNT(churned) as churn_rate
FROM
    bqmlga4.returningusers
WHERE bounced = 0""").fetchall()[0][0]
    assert rate == pytest.approx(churned[~bounced].mean())
    con.query("""CREATE OR REPLACE VIEW bqmlga4.train AS (
  SELECT ret.user_pseudo_id, ret.user_first_engagement, ret.month, ret.julianday, ret.dayofweek, ret.churned
  FROM bqmlga4.returningusers ret WHERE ret.bounced = 0)""")
    con.query("""CREATE OR REPLACE MODEL bqmlga4.churn_logreg

OPTIONS(
  MODEL_TYPE="LOGISTIC_REG",
  INPUT_LABEL_COLS=["churned"]
) AS

SELECT
  *
FROM
  bqmlga4.train""")
    matrix = con.query("""SELECT
  expected_label,
  _0 AS predicted_0,
  _1 AS predicted_1
FROM
  ML.CONFUSION_MATRIX(MODEL bqmlga4.churn_logreg)""").df()
    assert matrix.expected_label.tolist() == [0, 1] and matrix[["predicted_0", "predicted_1"]].to_numpy().sum() == (~bounced).sum()
    scored = con.query("""SELECT
  user_pseudo_id,
  churned,
  predicted_churned,
  predicted_churned_probs[OFFSET(0)].prob as probability_churned
FROM
  ML.PREDICT(MODEL bqmlga4.churn_logreg,
  (SELECT * FROM bqmlga4.train)) #can be replaced with a proper test dataset""").df()
    assert len(scored) == (~bounced).sum()
    # the probabilities are sorted by label, 1 first: the notebook's column is P(churned = 1)
    assert ((scored.probability_churned > 0.5) == (scored.predicted_churned == 1)).all()


def test_retail_recommendations_scaled_per_item(con):
    # ACP retail/recommendation-system/bqml/bqml_retail_recommendation_system.ipynb cells 28, 37,
    # 42, 50 on a stand-in for bqml.aggregate_web_stats (cell 21, which builds it, names the
    # UNNEST fields unqualified: reported to the SQL layer, see the ledger)
    rng = np.random.default_rng(4)
    pairs = pd.DataFrame({"visitorId": [f"{v}-1" for v in rng.integers(1000, 1040, 300)], "itemId": [f"GGOE{i}" for i in rng.integers(0, 12, 300)]})
    pairs = pairs.drop_duplicates().assign(session_duration=lambda f: rng.integers(1, 90000, len(f)))
    pairs.loc[pairs.index[0], "itemId"] = "GGOEYOLR018699"
    con.register("stats_frame", pairs)
    con.query("CREATE SCHEMA bqml; CREATE TABLE bqml.aggregate_web_stats AS SELECT * FROM stats_frame")
    con.query("""CREATE OR REPLACE MODEL bqml.retail_recommender
OPTIONS(model_type='matrix_factorization', 
        user_col='visitorId', 
        item_col='itemId',
        rating_col='session_duration',
        feedback_type='implicit'
        )
AS
SELECT * FROM bqml.aggregate_web_stats""")
    visitor = pairs.visitorId.iloc[0]
    top = con.query(f"""#check for a single visitor
DECLARE MY_VISITORID STRING DEFAULT "{visitor}";

SELECT
  *
FROM
  ML.RECOMMEND(MODEL `bqml.retail_recommender`,
      (SELECT MY_VISITORID as visitorID)
              )
ORDER BY predicted_session_duration_confidence DESC
LIMIT 5""").arrow()
    assert top.column_names == ["visitorId", "itemId", "predicted_session_duration_confidence"] and top.num_rows == 5
    scaled = con.query("""WITH predictions AS (
    SELECT 
      visitorId, 
      ARRAY_AGG(STRUCT(itemId, 
                       predicted_session_duration_confidence)
                ORDER BY 
                  predicted_session_duration_confidence) as recommended
    FROM ML.RECOMMEND(MODEL bqml.retail_recommender)
    WHERE itemId = "GGOEYOLR018699"
    GROUP BY visitorId
)

SELECT
  visitorId,
  ML.MIN_MAX_SCALER(
    predicted_session_duration_confidence
    ) OVER() as GGOEYOLR018699
FROM
  predictions p,
  UNNEST(recommended)
ORDER BY GGOEYOLR018699 DESC""").df()
    raw = con.query("SELECT visitorId, predicted_session_duration_confidence AS c FROM ML.RECOMMEND(MODEL bqml.retail_recommender) WHERE itemId = 'GGOEYOLR018699'").df()
    expected = ((raw.c - raw.c.min()) / (raw.c.max() - raw.c.min())).sort_values(ascending=False)
    assert len(scaled) == pairs.visitorId.nunique()
    assert np.allclose(scaled.GGOEYOLR018699.to_numpy(), expected.to_numpy())


def test_audit_log_anomalies_with_tuned_cosine_kmeans(con):
    # VAS community/bigquery_ml/Anomaly_detection_in_Cloud_Audit_logs_with_BQML.ipynb cells 44,
    # 47, 49: NUM_CLUSTERS searched over 10 trials, ML.EVALUATE lists every trial, and
    # ML.DETECT_ANOMALIES takes its STRUCT before the TABLE
    rng = np.random.default_rng(7)
    n = 200
    logs = pd.DataFrame({"principal_email": rng.choice(["a@x.com", "b@x.com", "svc@p"], n), "action": rng.choice(["SetIamPolicy", "insert", "delete"], n),
                         "channel": rng.choice(["Cloud Console", "gcloud CLI", "other"], n), "counter": rng.integers(1, 20, n)})  # fmt: skip
    con.register("logs_frame", logs)
    con.query("CREATE SCHEMA audit_ds; CREATE TABLE audit_ds.training_data AS SELECT * FROM logs_frame")
    con.query("""CREATE MODEL IF NOT EXISTS `audit_ds.kmeans_model`
OPTIONS(MODEL_TYPE = 'KMEANS',
NUM_CLUSTERS = HPARAM_RANGE(2, 10),
KMEANS_INIT_METHOD = 'KMEANS++',
DISTANCE_TYPE = 'COSINE',
STANDARDIZE_FEATURES = TRUE,
MAX_ITERATIONS = 10,
EARLY_STOP = TRUE,
NUM_TRIALS = 10
) AS
SELECT * FROM `audit_ds.training_data`;""")
    evaluated = con.query("SELECT * FROM ML.EVALUATE(MODEL `audit_ds.kmeans_model`);").arrow()
    assert evaluated.column_names == ["trial_id", "davies_bouldin_index", "mean_squared_distance"]
    assert sorted(evaluated.column("trial_id").to_pylist()) == list(range(1, 11))
    anomalies = con.query("""SELECT * FROM ML.DETECT_ANOMALIES(MODEL `proj.audit_ds.kmeans_model`,
STRUCT(0.001 AS contamination),
TABLE `proj.audit_ds.training_data`)
WHERE is_anomaly=true
ORDER BY normalized_distance DESC;""").arrow()
    assert anomalies.column_names == ["is_anomaly", "normalized_distance", "centroid_id", *logs.columns]
    every = con.query("SELECT normalized_distance FROM ML.DETECT_ANOMALIES(MODEL audit_ds.kmeans_model, STRUCT(0.001 AS contamination), TABLE audit_ds.training_data)").df()
    assert anomalies.num_rows >= 1 and min(anomalies.column("normalized_distance").to_pylist()) > every.normalized_distance.median()


LTV_HISTOGRAM = """
WITH
  min_max AS (
  SELECT
    MIN(qty) min_qty,
    MAX(qty) max_qty,
    CEIL((MAX(qty) - MIN(qty)) / 100) step
  FROM
    `ltv_ecommerce.10_orders` 
)
SELECT
  COUNT(1) c,
  bucket_same_size AS bucket
FROM (
  SELECT
    -- Creates (1000-100)/100 + 1 buckets of data.
    ML.BUCKETIZE(qty, GENERATE_ARRAY(min_qty, max_qty, step)) AS bucket_same_size,
    -- Creates custom ranges.
    ML.BUCKETIZE(qty, [-1, -1, -2, -3, -4, -5, 0, 1, 2, 3, 4, 5]) AS bucket_specific,
  FROM
    `ltv_ecommerce.10_orders`, min_max )
  # WHERE bucket != "bin_1" and bucket != "bin_2"
GROUP BY
  bucket
  -- Ohterwise, orders bin_10 before bin_2
ORDER BY CAST(SPLIT(bucket, "_")[OFFSET(1)] AS INT64)
"""


def test_ltv_histogram_buckets_by_split_points_each_row_computes(con):
    # ACP retail/ltv/bqml/notebooks/bqml_automl_ltv_activate_lookalike.ipynb cell 28 (its output
    # is plotted by cell 29): the split points are GENERATE_ARRAY over the joined CTE's columns, and
    # the unsorted custom points of a column no query reads raise nothing
    rng = np.random.default_rng(9)
    qty = rng.integers(-5, 300, 500)
    con.register("orders_frame", pd.DataFrame({"qty": qty}))
    con.query("CREATE SCHEMA ltv_ecommerce; CREATE TABLE ltv_ecommerce.`10_orders` AS SELECT * FROM orders_frame")
    got = con.query(LTV_HISTOGRAM).fetchall()
    step = np.ceil((qty.max() - qty.min()) / 100)
    points = np.arange(qty.min(), qty.max() + step / 2, step)
    index = (points[None, :] <= qty[:, None]).sum(axis=1)
    counts = pd.Series(index).value_counts().sort_index()
    assert got == [(int(n), f"bin_{i + 1}") for i, n in counts.items()]
    with pytest.raises(sqlml.ExecutionError, match=r"ML\.BUCKETIZE's split points must be in ascending order\."):
        con.query("SELECT ML.BUCKETIZE(qty, [-1, -1, -2, -3, -4, -5, 0, 1, 2, 3, 4, 5]) FROM ltv_ecommerce.`10_orders`").fetchall()


TRAIN_ITEM_MATCHING = """CREATE OR REPLACE PROCEDURE recommendations.sp_TrainItemMatchingModel(
  IN dimensions INT64
)

BEGIN

  CREATE OR REPLACE MODEL recommendations.item_matching_model
  OPTIONS(
    MODEL_TYPE='matrix_factorization', 
    FEEDBACK_TYPE='implicit',
    WALS_ALPHA=1,
    NUM_FACTORS=(dimensions),
    USER_COL='item1_Id', 
    ITEM_COL='item2_Id',
    RATING_COL='score',
    DATA_SPLIT_METHOD='no_split'
  )
  AS
  SELECT 
    item1_Id, 
    item2_Id, 
    cooc *  pmi AS score
  FROM recommendations.item_cooc;

END"""


def test_item_matching_model_trained_by_a_procedure(con):
    # ACP retail/recommendation-system/bqml-scann: 00_prep_bq_procedures.ipynb cells 10-11 (the
    # placeholder table and one-row model), sql_scripts/sp_TrainItemMatchingModel.sql with
    # @DATASET_NAME replaced as cell 14 does, 01_train_bqml_mf_pmi.ipynb cells 17 and 32
    con.query("CREATE SCHEMA recommendations")
    con.query("""CREATE TABLE IF NOT EXISTS recommendations.item_cooc
AS SELECT 0 AS item1_Id, 0 AS item2_Id, 0 AS cooc, 0 AS pmi;""")
    con.query("""CREATE MODEL IF NOT EXISTS recommendations.item_matching_model
OPTIONS(
    MODEL_TYPE='matrix_factorization', 
    USER_COL='item1_Id', 
    ITEM_COL='item2_Id',
    RATING_COL='score'
)
AS
SELECT 0 AS item1_Id, 0 AS item2_Id, 0 AS score;""")
    rng = np.random.default_rng(8)
    cooc = pd.DataFrame({"item1_Id": rng.integers(1, 30, 400), "item2_Id": rng.integers(1, 30, 400)}).drop_duplicates()
    cooc = cooc.assign(cooc=rng.integers(1, 20, len(cooc)), pmi=rng.uniform(0.1, 3, len(cooc)))
    con.register("cooc_frame", cooc)
    con.query("CREATE OR REPLACE TABLE recommendations.item_cooc AS SELECT * FROM cooc_frame")
    con.query(TRAIN_ITEM_MATCHING)
    con.query("""DECLARE dimensions INT64 DEFAULT 50;
CALL recommendations.sp_TrainItemMatchingModel(dimensions)""")
    weights = con.query("""SELECT processed_input, feature, ARRAY_LENGTH(factor_weights) AS factors
        FROM ML.WEIGHTS(MODEL recommendations.item_matching_model) WHERE processed_input IS NOT NULL""").df()
    assert set(weights.factors) == {50}
    assert weights.groupby("processed_input").size().to_dict() == {"item1_Id": cooc.item1_Id.nunique(), "item2_Id": cooc.item2_Id.nunique()}
    # cell 17: ML.BUCKETIZE of an aggregate, grouped by its bucket
    con.register("groups_frame", pd.DataFrame({"group_Id": rng.integers(1, 40, 600), "item_Id": rng.integers(1, 30, 600)}))
    sizes = con.query("""SELECT group_size, COUNT(group_Id) AS group_count FROM (
        SELECT group_Id, ML.BUCKETIZE(COUNT(item_Id), [10, 20, 30, 40, 50, 101]) AS group_size
        FROM groups_frame GROUP BY group_Id) GROUP BY group_size ORDER BY group_size""").fetchall()
    counts = con.query("SELECT COUNT(*) AS n FROM groups_frame GROUP BY group_Id").df().n.to_numpy()
    expected = pd.Series(np.searchsorted([10, 20, 30, 40, 50, 101], counts, side="right") + 1).value_counts()
    assert sizes == sorted((f"bin_{b}", int(n)) for b, n in expected.items())


def test_abalone_custom_split_on_a_case_expression(con):
    # VAS official/pipelines/rapid_prototyping_bqml_automl.ipynb cell 41 (_query_create_model,
    # formatted with its defaults): DATA_SPLIT_METHOD='CUSTOM' on a BOOL the query computes, TRUE
    # rows evaluating; the metrics are those of the TEST rows
    rng = np.random.default_rng(13)
    n = 300
    f = pd.DataFrame({"Sex": rng.choice(["M", "F", "I"], n)})
    for column in ["Length", "Diameter", "Height", "Whole_weight", "Shucked_weight", "Viscera_weight", "Shell_weight"]:
        f[column] = rng.uniform(0.1, 1, n)
    f["Rings"] = (5 + 10 * f.Shell_weight + rng.normal(0, 1, n)).round().astype(int)
    f["split_col"] = rng.choice(["TRAIN", "TEST"], n, p=[0.8, 0.2])
    con.register("abalone_frame", f)
    con.query("CREATE SCHEMA abalone; CREATE TABLE abalone.dataset AS SELECT * FROM abalone_frame")
    con.query("""
    CREATE OR REPLACE MODEL
      `proj.abalone.linear_regression_model_prototyping`
      OPTIONS
      ( MODEL_TYPE='LINEAR_REG',
        input_label_cols=['Rings'],
         DATA_SPLIT_METHOD='CUSTOM',
        DATA_SPLIT_COL='split_col'
        )
        
     AS
    SELECT
      Sex,
      Length,
      Diameter,
      Height,
      Whole_weight,
      Shucked_weight,
      Viscera_weight,
      Shell_weight,
      Rings,
      CASE(split_col)
        WHEN 'TEST' THEN TRUE
      ELSE
      FALSE
    END
      AS split_col
    FROM
      `proj.abalone.dataset`;
    """)
    metrics = con.query("SELECT * FROM ML.EVALUATE(MODEL `proj.abalone.linear_regression_model_prototyping`)").df()
    design = np.column_stack([pd.get_dummies(f.Sex).to_numpy(float), f.iloc[:, 1:8].to_numpy()])
    train, test = (f.split_col == "TRAIN").to_numpy(), (f.split_col == "TEST").to_numpy()
    coefficients = np.linalg.lstsq(design[train], f.Rings[train].to_numpy(float), rcond=None)[0]
    errors = design[test] @ coefficients - f.Rings[test].to_numpy()
    assert metrics.mean_squared_error[0] == pytest.approx(np.mean(errors**2), rel=1e-6)
    assert metrics.mean_absolute_error[0] == pytest.approx(np.mean(np.abs(errors)), rel=1e-6)


FLIGHTS = """
SELECT
  IF(arr_delay < 15, 'ontime', 'late') AS ontime,
  dep_delay,
  taxi_out,
  distance
FROM dsongcp.flights_tzcorr f
JOIN dsongcp.trainday t
ON f.FL_DATE = t.FL_DATE
WHERE
  f.CANCELLED = False AND
  f.DIVERTED = False AND
    is_train_day = 'False'
"""


def test_flights_logistic_with_a_custom_split_and_a_threshold(con):
    # GoogleCloudPlatform/data-science-on-gcp 08_bqml/bqml_logistic.ipynb cells 7, 11, 13: string
    # labels ('ontime' > 'late', so 'ontime' is the positive class), the BOOL split column of a
    # join, ML.EVALUATE and ML.PREDICT with STRUCT(0.7 AS threshold)
    rng = np.random.default_rng(14)
    n = 1200
    days = pd.date_range("2015-01-01", periods=40)
    f = pd.DataFrame({"FL_DATE": rng.choice(days, n), "dep_delay": rng.normal(10, 20, n), "taxi_out": rng.uniform(5, 40, n),
                      "distance": rng.uniform(100, 2500, n), "CANCELLED": rng.random(n) < 0.02, "DIVERTED": rng.random(n) < 0.01})  # fmt: skip
    f["arr_delay"] = f.dep_delay + f.taxi_out / 4 - 8 + rng.normal(0, 8, n)
    f["FL_DATE"] = f.FL_DATE.dt.date
    con.register("flights_frame", f)
    con.register("days_frame", pd.DataFrame({"FL_DATE": days.date, "is_train_day": np.where(rng.random(len(days)) < 0.7, "True", "False")}))
    con.query("CREATE SCHEMA dsongcp; CREATE TABLE dsongcp.flights_tzcorr AS SELECT * FROM flights_frame; CREATE TABLE dsongcp.trainday AS SELECT * FROM days_frame")
    con.query("""CREATE OR REPLACE MODEL dsongcp.arr_delay_lm
OPTIONS(input_label_cols=['ontime'], 
        model_type='logistic_reg', 
        data_split_method='custom',
        data_split_col='is_eval_day')
AS
SELECT
  IF(arr_delay < 15, 'ontime', 'late') AS ontime,
  dep_delay,
  taxi_out,
  distance,
  IF(is_train_day = 'True', False, True) AS is_eval_day
FROM dsongcp.flights_tzcorr f
JOIN dsongcp.trainday t
ON f.FL_DATE = t.FL_DATE
WHERE
  f.CANCELLED = False AND
  f.DIVERTED = False""")
    evaluated = con.query(f"SELECT * FROM ML.EVALUATE(MODEL dsongcp.arr_delay_lm, ({FLIGHTS}), STRUCT(0.7 AS threshold))").df()
    scored = con.query(f"SELECT * FROM ML.PREDICT(MODEL dsongcp.arr_delay_lm, ({FLIGHTS}), STRUCT(0.7 AS threshold))").df()
    p_ontime = scored.predicted_ontime_probs.map(lambda probs: next(p["prob"] for p in probs if p["label"] == "ontime"))
    assert ((scored.predicted_ontime == "ontime") == (p_ontime > 0.7)).all() and 0 < (p_ontime > 0.7).sum() < len(scored)
    truth, predicted = scored.ontime == "ontime", scored.predicted_ontime == "ontime"
    assert evaluated.accuracy[0] == pytest.approx((truth == predicted).mean())
    assert evaluated.precision[0] == pytest.approx((truth & predicted).sum() / predicted.sum())
    assert evaluated.recall[0] == pytest.approx((truth & predicted).sum() / truth.sum())
    stats = con.query(f"""WITH predictions AS (
SELECT 
  *
FROM ML.PREDICT(MODEL dsongcp.arr_delay_lm,
                 ({FLIGHTS}),
                 STRUCT(0.7 AS threshold))),
stats AS (
SELECT 
  COUNTIF(ontime != 'ontime' AND ontime = predicted_ontime) AS correct_cancel
  , COUNTIF(predicted_ontime = 'ontime') AS total_noncancel
  , COUNTIF(ontime = 'ontime' AND ontime = predicted_ontime) AS correct_noncancel
  , COUNTIF(ontime != 'ontime') AS total_cancel
  , SQRT(SUM((IF(ontime = 'ontime', 1, 0) - p.prob) * (IF(ontime = 'ontime', 1, 0) - p.prob))/COUNT(*)) AS rmse
FROM predictions, UNNEST(predicted_ontime_probs) p
WHERE p.label = 'ontime'
)
SELECT
   correct_cancel / total_cancel AS correct_cancel
   , total_noncancel
   , correct_noncancel / total_noncancel AS correct_noncancel
   , total_cancel
   , rmse
FROM stats""").fetchall()[0]
    assert stats[1] == predicted.sum() and stats[3] == (~truth).sum()
    assert stats[0] == pytest.approx((~truth & ~predicted).sum() / (~truth).sum())
    assert stats[4] == pytest.approx(np.sqrt(np.mean((truth.astype(float) - p_ontime) ** 2)))
