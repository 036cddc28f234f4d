"""BigQuery ML's hyperparameter tuning tutorial, its statements as published, on a small generated
stand-in for ``bigquery-public-data.new_york_taxi_trips.tlc_yellow_trips_2018`` (same columns and
types: NUMERIC amounts, TIMESTAMP pickup/dropoff, STRING codes):
https://cloud.google.com/bigquery/docs/hyperparameter-tuning-tutorial."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sqlml

AMOUNTS = ["trip_distance", "fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount", "imp_surcharge", "airport_fee", "total_amount"]


@pytest.fixture(scope="module")
def con():
    rng = np.random.default_rng(5)
    n = 300
    distance = rng.uniform(0.5, 15, n)
    fare = 2.5 + 2.5 * distance + rng.normal(0, 1, n)
    pickup = pd.Timestamp("2018-03-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 30 * 86400, n), unit="s")
    frame = pd.DataFrame({
        "vendor_id": rng.choice(["1", "2"], n), "pickup_datetime": pickup, "dropoff_datetime": pickup + pd.to_timedelta(distance * 240, unit="s"),
        "passenger_count": rng.integers(1, 5, n), "trip_distance": distance.round(2), "rate_code": rng.choice(["1", "2"], n),
        "store_and_fwd_flag": rng.choice(["N", "Y"], n), "payment_type": rng.choice(["1", "2"], n), "fare_amount": fare.round(2),
        "extra": rng.choice([0.0, 0.5, 1.0], n), "mta_tax": 0.5, "tip_amount": (0.18 * fare + rng.normal(0, 0.3, n)).round(2),
        "tolls_amount": 0.0, "imp_surcharge": 0.3, "airport_fee": 0.0, "total_amount": (fare * 1.2).round(2),
        "pickup_location_id": rng.choice(["100", "200", "300"], n), "dropoff_location_id": rng.choice(["100", "200"], n),
        "data_file_year": 2018, "data_file_month": 3,
    })  # fmt: skip
    numeric = ", ".join(f"CAST({c} AS NUMERIC) AS {c}" for c in AMOUNTS)
    with sqlml.connect(":memory:") as connection:
        connection.register("taxi_frame", frame)
        connection.query(f"""
            CREATE SCHEMA new_york_taxi_trips; CREATE SCHEMA bqml_tutorial;
            CREATE TABLE new_york_taxi_trips.tlc_yellow_trips_2018 AS SELECT * REPLACE ({numeric}) FROM taxi_frame
        """)
        connection.query("""
            CREATE TABLE `bqml_tutorial.taxi_tip_input`
            AS
            SELECT
              * EXCEPT(tip_amount), tip_amount AS label
            FROM
              `bigquery-public-data.new_york_taxi_trips.tlc_yellow_trips_2018`
            WHERE
              tip_amount IS NOT NULL
            LIMIT 100000;
        """)
        yield connection


def test_baseline_model(con):
    con.query("""
        CREATE MODEL `bqml_tutorial.baseline_taxi_tip_model`
        OPTIONS (
          MODEL_TYPE = 'LINEAR_REG'
        ) AS
        SELECT
          *
        FROM
          `bqml_tutorial.taxi_tip_input`;
    """)
    metrics = con.query("SELECT * FROM ML.EVALUATE(MODEL `bqml_tutorial.baseline_taxi_tip_model`);")
    assert metrics.columns == [
        "mean_absolute_error", "mean_squared_error", "mean_squared_log_error", "median_absolute_error", "r2_score", "explained_variance",
    ]  # fmt: skip
    assert dict(zip(metrics.columns, metrics.fetchall()[0]))["r2_score"] > 0.8


def test_tuned_model_trials_and_optimal_predictions(con):
    con.query("""
        CREATE MODEL `bqml_tutorial.hp_taxi_tip_model`
        OPTIONS (
          MODEL_TYPE = 'LINEAR_REG',
          NUM_TRIALS = 20,
          MAX_PARALLEL_TRIALS = 2,
          L1_REG = HPARAM_RANGE(0, 5)
        ) AS
        SELECT
          *
        FROM
          `bqml_tutorial.taxi_tip_input`;
    """)
    trials = con.query("SELECT * FROM ML.TRIAL_INFO(MODEL `bqml_tutorial.hp_taxi_tip_model`) ORDER BY is_optimal DESC;")
    assert trials.columns == [
        "trial_id", "hyperparameters", "hparam_tuning_evaluation_metrics", "training_loss", "eval_loss", "status", "error_message", "is_optimal",
    ]  # fmt: skip
    frame = trials.df()
    assert len(frame) == 20 and frame["is_optimal"].sum() == 1 and bool(frame["is_optimal"].iloc[0])
    assert frame["hyperparameters"].map(lambda h: 0 <= h["l1_reg"] <= 5).all()
    optimal = int(frame["trial_id"].iloc[0])

    evaluated = con.query("SELECT * FROM ML.EVALUATE(MODEL `bqml_tutorial.hp_taxi_tip_model`) ORDER BY r2_score DESC;").df()
    assert len(evaluated) == 20 and sorted(evaluated["trial_id"]) == sorted(frame["trial_id"])

    query = "(SELECT * FROM `bqml_tutorial.taxi_tip_input` LIMIT 5)"
    predicted = con.query(f"SELECT predicted_label FROM ML.PREDICT(MODEL `bqml_tutorial.hp_taxi_tip_model`, {query})").fetchall()
    explicit = con.query(
        f"SELECT predicted_label FROM ML.PREDICT(MODEL `bqml_tutorial.hp_taxi_tip_model`, {query}, STRUCT({optimal} AS trial_id))"
    ).fetchall()
    assert len(predicted) == 5 and predicted == explicit  # the optimal trial predicts by default
