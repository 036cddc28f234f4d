"""BigQuery ML's boosted-tree classification tutorial on census data with Explainable AI, its
statements as published, on a small generated stand-in for
``bigquery-public-data.ml_datasets.census_adult_income`` (same column names and types):
https://cloud.google.com/bigquery/docs/boosted-tree-classifier-tutorial and
https://cloud.google.com/bigquery/docs/xai-overview (ML.EXPLAIN_PREDICT, ML.GLOBAL_EXPLAIN)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sqlml

INPUT_VIEW = """
CREATE OR REPLACE VIEW
`bqml_tutorial.input_view` AS
SELECT
  age,
  workclass,
  marital_status,
  education_num,
  occupation,
  hours_per_week,
  income_bracket,
  CASE
    WHEN MOD(functional_weight, 10) < 8 THEN 'training'
    WHEN MOD(functional_weight, 10) = 8 THEN 'evaluation'
    WHEN MOD(functional_weight, 10) = 9 THEN 'prediction'
  END AS dataframe
FROM
  `bigquery-public-data.ml_datasets.census_adult_income`
"""

TREE_MODEL = """
CREATE MODEL `bqml_tutorial.tree_model`
    OPTIONS(MODEL_TYPE='BOOSTED_TREE_CLASSIFIER',
            BOOSTER_TYPE = 'GBTREE',
            NUM_PARALLEL_TREE = 1,
            MAX_ITERATIONS = 10,
            TREE_METHOD = 'HIST',
            EARLY_STOP = FALSE,
            SUBSAMPLE = 0.85,
            INPUT_LABEL_COLS = ['income_bracket'])
    AS SELECT * EXCEPT(dataframe)
    FROM `bqml_tutorial.input_view`
    WHERE dataframe = 'training';
"""


@pytest.fixture(scope="module")
def con():
    rng = np.random.default_rng(11)
    n = 800
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, n), "workclass": rng.choice([" Private", " Self-emp-not-inc", " Local-gov"], n),
        "functional_weight": rng.integers(10_000, 500_000, n), "education_num": rng.integers(1, 16, n),
        "marital_status": rng.choice([" Married-civ-spouse", " Never-married", " Divorced"], n),
        "occupation": rng.choice([" Exec-managerial", " Sales", " Craft-repair"], n), "hours_per_week": rng.integers(10, 70, n),
    })  # fmt: skip
    score = frame["education_num"] * 0.4 + frame["hours_per_week"] * 0.05 + (frame["marital_status"] == " Married-civ-spouse") * 2
    frame["income_bracket"] = np.where(score + rng.normal(0, 0.8, n) > 6.5, " >50K", " <=50K")
    with sqlml.connect(":memory:") as connection:
        connection.register("census_frame", frame)
        connection.query("CREATE SCHEMA ml_datasets; CREATE SCHEMA bqml_tutorial; CREATE TABLE ml_datasets.census_adult_income AS SELECT * FROM census_frame")
        connection.query(INPUT_VIEW)
        connection.query(TREE_MODEL)
        connection.frame = frame
        yield connection


def test_evaluate_matches_the_predictions_it_scores(con):
    metrics = con.query("""
        SELECT
          *
        FROM
          ML.EVALUATE (MODEL `bqml_tutorial.tree_model`,
            (
            SELECT
              *
            FROM
              `bqml_tutorial.input_view`
            WHERE
              dataframe = 'evaluation'
            )
          );
    """)
    assert metrics.columns == ["precision", "recall", "accuracy", "f1_score", "log_loss", "roc_auc"]
    row = dict(zip(metrics.columns, metrics.fetchall()[0]))
    scored = con.query("""
        SELECT income_bracket, predicted_income_bracket FROM ML.PREDICT(MODEL `bqml_tutorial.tree_model`,
          (SELECT * FROM `bqml_tutorial.input_view` WHERE dataframe = 'evaluation'))
    """).df()
    assert row["accuracy"] == pytest.approx((scored["income_bracket"] == scored["predicted_income_bracket"]).mean())
    assert row["roc_auc"] > 0.75


def test_predict_on_the_prediction_rows(con):
    predicted = con.query("""
        SELECT
          *
        FROM
          ML.PREDICT (MODEL `bqml_tutorial.tree_model`,
            (
            SELECT
              *
            FROM
              `bqml_tutorial.input_view`
            WHERE
              dataframe = 'prediction'
             )
          );
    """)
    assert predicted.columns[:3] == ["predicted_income_bracket", "predicted_income_bracket_probs", "age"]
    expected = int((con.frame["functional_weight"] % 10 == 9).sum())
    rows = predicted.fetchall()
    assert len(rows) == expected
    assert all(abs(sum(p["prob"] for p in probs) - 1) < 1e-9 for _, probs, *_ in rows)


def test_explain_predict_top_three_features(con):
    explained = con.query("""
        SELECT
        *
        FROM
        ML.EXPLAIN_PREDICT(MODEL `bqml_tutorial.tree_model`,
          (
          SELECT
            *
          FROM
            `bqml_tutorial.input_view`
          WHERE
            dataframe = 'evaluation'),
          STRUCT(3 AS top_k_features));
    """)
    assert explained.columns[:5] == [
        "predicted_income_bracket", "probability", "top_feature_attributions", "baseline_prediction_value", "prediction_value",
    ]  # fmt: skip
    frame = explained.df()
    assert frame["top_feature_attributions"].map(len).eq(3).all()
    # all six features' attributions add up from the baseline to the prediction (Tree SHAP)
    every = con.query("""
        SELECT top_feature_attributions, baseline_prediction_value, prediction_value FROM ML.EXPLAIN_PREDICT(
          MODEL `bqml_tutorial.tree_model`, (SELECT * FROM `bqml_tutorial.input_view` WHERE dataframe = 'evaluation'),
          STRUCT(6 AS top_k_features))
    """).fetchall()
    for attributions, baseline, prediction in every:
        assert baseline + sum(a["attribution"] for a in attributions) == pytest.approx(prediction, abs=1e-6)


def test_global_explain_with_enable_global_explain(con):
    con.query("""
        CREATE OR REPLACE MODEL `bqml_tutorial.tree_model_ge`
            OPTIONS(MODEL_TYPE='BOOSTED_TREE_CLASSIFIER', MAX_ITERATIONS = 10, INPUT_LABEL_COLS = ['income_bracket'],
                    ENABLE_GLOBAL_EXPLAIN = TRUE)
            AS SELECT * EXCEPT(dataframe) FROM `bqml_tutorial.input_view` WHERE dataframe = 'training';
    """)
    explained = con.query("SELECT * FROM ML.GLOBAL_EXPLAIN(MODEL `bqml_tutorial.tree_model_ge`)")
    assert explained.columns == ["feature", "attribution"]
    ranked = [feature for feature, _ in explained.fetchall()]
    assert sorted(ranked) == ["age", "education_num", "hours_per_week", "marital_status", "occupation", "workclass"]
    assert ranked.index("education_num") < ranked.index("occupation")  # the label depends on it, not on occupation
