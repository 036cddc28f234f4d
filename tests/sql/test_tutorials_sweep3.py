"""Statements from BigQuery ML's official tutorial and how-to pages that a third sweep found
failing, run as published on small generated stand-ins for their tables.

Each test names the page it copies; numbers are checked against scikit-learn / NumPy on the same
stand-in rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

import sqlml

DOCS = "https://cloud.google.com/bigquery/docs/"


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        yield connection


@pytest.fixture(scope="module")
def tuned(con):
    """A tuned binary classifier (logistic regression, l1_reg searched) over generated rows."""
    rng = np.random.default_rng(7)
    n = 300
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "tier": rng.choice(["a", "b"], n)})
    frame["label"] = ((frame.x1 - 0.5 * frame.x2 + rng.normal(0, 0.8, n)) > 0).astype(np.int64)
    con.register("tuned_frame", frame)
    con.query("CREATE SCHEMA IF NOT EXISTS bqml_tutorial; CREATE TABLE bqml_tutorial.clf_input AS SELECT * FROM tuned_frame")
    con.query("""CREATE MODEL `bqml_tutorial.hp_clf`
        OPTIONS (MODEL_TYPE = 'LOGISTIC_REG', NUM_TRIALS = 4, L1_REG = HPARAM_RANGE(0, 20)) AS
        SELECT * FROM `bqml_tutorial.clf_input`""")
    trials = con.query("SELECT trial_id, is_optimal FROM ML.TRIAL_INFO(MODEL `bqml_tutorial.hp_clf`) ORDER BY trial_id").fetchall()
    optimal = min(t for t, best in trials if best)
    other = next(t for t, best in trials if t != optimal)
    return con, frame, optimal, other


def test_tuned_predict_starts_with_the_served_trial(tuned):
    # DOCS hyperparameter-tuning-tutorial "Use the tuned model to predict taxi tips": SELECT * FROM
    # ML.PREDICT of the tuned model shows `trial_id | predicted_label | vendor_id | …`, the optimal trial's id on each row
    con, frame, optimal, other = tuned
    result = con.query("""SELECT *
        FROM
          ML.PREDICT(
            MODEL `bqml_tutorial.hp_clf`,
            (
              SELECT
                *
              FROM
                `bqml_tutorial.clf_input`
              LIMIT 5
            ));""").arrow()
    assert result.column_names == ["trial_id", "predicted_label", "predicted_label_probs", "x1", "x2", "tier", "label"]
    assert str(result.schema.field("trial_id").type) == "int64" and result.column("trial_id").to_pylist() == [optimal] * 5
    chosen = con.query(f"SELECT trial_id, predicted_label FROM ML.PREDICT(MODEL bqml_tutorial.hp_clf, TABLE bqml_tutorial.clf_input, STRUCT({other} AS trial_id))").df()
    assert (chosen["trial_id"] == other).all() and len(chosen) == len(frame)


def test_tuned_evaluate_confusion_and_roc_with_input_name_their_trial(tuned):
    # DOCS reference/standard-sql/bigqueryml-syntax-evaluate#output: `trial_id` first, "only returned
    # if you ran hyperparameter tuning"; with input data one trial is served (hp-tuning-overview
    # "Model serving functions"): the optimal one, or the STRUCT's trial_id
    con, frame, optimal, other = tuned
    for trial, settings in ((optimal, ""), (other, f", STRUCT({other} AS trial_id)")):
        scored = con.query(f"SELECT label, predicted_label, predicted_label_probs[OFFSET(0)] AS first FROM ML.PREDICT("
                           f"MODEL bqml_tutorial.hp_clf, TABLE bqml_tutorial.clf_input{settings})").df()  # fmt: skip
        p1 = np.where(scored["first"].map(lambda s: s["label"]) == 1, scored["first"].map(lambda s: s["prob"]), 1 - scored["first"].map(lambda s: s["prob"]))
        evaluated = con.query(f"SELECT * FROM ML.EVALUATE(MODEL bqml_tutorial.hp_clf, TABLE bqml_tutorial.clf_input{settings})").arrow()
        assert evaluated.column_names == ["trial_id", "precision", "recall", "accuracy", "f1_score", "log_loss", "roc_auc"]
        row = evaluated.to_pylist()[0]
        assert row["trial_id"] == trial
        assert row["accuracy"] == pytest.approx(skm.accuracy_score(scored["label"], scored["predicted_label"]))
        assert row["roc_auc"] == pytest.approx(skm.roc_auc_score(scored["label"], p1))
        matrix = con.query(f"SELECT * FROM ML.CONFUSION_MATRIX(MODEL bqml_tutorial.hp_clf, TABLE bqml_tutorial.clf_input{settings})").arrow()
        assert matrix.column_names == ["trial_id", "expected_label", "_0", "_1"]
        assert matrix.column("trial_id").to_pylist() == [trial, trial]
        expected = skm.confusion_matrix(scored["label"], scored["predicted_label"], labels=[0, 1])
        assert np.array([matrix.column("_0").to_pylist(), matrix.column("_1").to_pylist()]).T.tolist() == expected.tolist()
        roc = con.query(f"SELECT * FROM ML.ROC_CURVE(MODEL bqml_tutorial.hp_clf, TABLE bqml_tutorial.clf_input, GENERATE_ARRAY(0.5, 0.5, 1){settings})").arrow()
        assert roc.column_names[:2] == ["trial_id", "threshold"] and roc.column("trial_id").to_pylist() == [trial]
        assert roc.column("true_positives").to_pylist() == [int(expected[1, 1])]


def test_tuned_confusion_matrix_without_input_is_the_asked_trials(tuned):
    # without input data the STRUCT's trial_id still chooses the trial: each trial's outputs on the
    # test rows are kept (here all 300 rows: AUTO_SPLIT does not split under 500 rows)
    con, _, optimal, other = tuned
    for trial, settings in ((optimal, ""), (other, f", STRUCT({other} AS trial_id)")):
        matrix = con.query(f"SELECT * FROM ML.CONFUSION_MATRIX(MODEL bqml_tutorial.hp_clf{settings})").df()
        assert list(matrix.columns) == ["trial_id", "expected_label", "_0", "_1"] and (matrix["trial_id"] == trial).all()
        scored = con.query(f"SELECT label, predicted_label FROM ML.PREDICT(MODEL bqml_tutorial.hp_clf, TABLE bqml_tutorial.clf_input{settings})").df()
        assert matrix[["_0", "_1"]].to_numpy().tolist() == skm.confusion_matrix(scored["label"], scored["predicted_label"]).tolist()
        roc = con.query(f"SELECT * FROM ML.ROC_CURVE(MODEL bqml_tutorial.hp_clf, GENERATE_ARRAY(0.5, 0.5, 1){settings})").df()
        assert roc["trial_id"].tolist() == [trial] and roc["true_positives"].tolist() == [matrix.loc[matrix["expected_label"] == 1, "_1"].item()]
        evaluated = con.query(f"SELECT trial_id, accuracy FROM ML.EVALUATE(MODEL bqml_tutorial.hp_clf, STRUCT({trial} AS trial_id))").fetchall()
        assert evaluated == [(trial, pytest.approx(skm.accuracy_score(scored["label"], scored["predicted_label"])))]


def test_tuned_matrix_factorization_predict_names_its_trial(con):
    # ML.PREDICT of a matrix factorization scores chosen (user, item) pairs; a tuned one's rows start
    # with the served trial's id like every model's (DOCS hyperparameter-tuning-tutorial), with the
    # ratings ML.RECOMMEND gives the same trial
    rng = np.random.default_rng(3)
    ratings = pd.DataFrame({"user": rng.integers(0, 12, 200), "item": rng.integers(0, 9, 200), "rating": rng.integers(1, 6, 200).astype(float)})
    con.register("ratings_frame", ratings.drop_duplicates(["user", "item"]))
    con.query("CREATE SCHEMA IF NOT EXISTS movielens; CREATE TABLE movielens.ratings AS SELECT * FROM ratings_frame")
    con.query("""CREATE MODEL movielens.mf_tuned OPTIONS(model_type='matrix_factorization', user_col='user', item_col='item',
        rating_col='rating', feedback_type='explicit', num_trials=2, max_iterations=3, num_factors=HPARAM_CANDIDATES([2, 4])) AS
        SELECT * FROM movielens.ratings""")
    optimal = con.query("SELECT trial_id FROM ML.TRIAL_INFO(MODEL movielens.mf_tuned) WHERE is_optimal ORDER BY 1 LIMIT 1").fetchall()[0][0]
    for trial, settings in ((optimal, ""), (3 - optimal, f", STRUCT({3 - optimal} AS trial_id)")):
        predicted = con.query(f"SELECT * FROM ML.PREDICT(MODEL movielens.mf_tuned, (SELECT 3 AS user, item FROM UNNEST([1, 2]) AS item){settings})").df()
        assert list(predicted.columns) == ["trial_id", "predicted_rating", "user", "item"] and predicted["trial_id"].tolist() == [trial, trial]
        recommended = con.query(f"SELECT item, predicted_rating FROM ML.RECOMMEND(MODEL movielens.mf_tuned, (SELECT 3 AS user){settings}) "
                                "WHERE item IN (1, 2) ORDER BY item").fetchall()  # fmt: skip
        assert recommended == [(i, pytest.approx(r)) for i, r in zip(predicted["item"], predicted["predicted_rating"])]
        # DOCS reference/standard-sql/bigqueryml-syntax-generate-embedding#matrix_factorization: trial_id "only
        # returned if you ran hyperparameter tuning"; the embedding is ML.WEIGHTS' factor weights, intercept last
        embedded = con.query(f"SELECT * FROM ML.GENERATE_EMBEDDING(MODEL movielens.mf_tuned{settings}) WHERE processed_input = 'user' AND feature = '3'").df()
        assert list(embedded.columns) == ["trial_id", "processed_input", "feature", "ml_generate_embedding_result"] and embedded["trial_id"].tolist() == [trial]
        weights = con.query(f"SELECT factor_weights, intercept FROM ML.WEIGHTS(MODEL movielens.mf_tuned) WHERE trial_id = {trial} "
                            "AND processed_input = 'user' AND feature = '3'").fetchall()[0]  # fmt: skip
        expected = [w["weight"] for w in sorted(weights[0], key=lambda w: w["factor"])] + [weights[1]]
        np.testing.assert_allclose(embedded["ml_generate_embedding_result"].iloc[0], expected)


def test_tuned_linear_predict_over_many_rows_names_its_trial_in_the_query_path(con):
    # over more than sql_prediction.FEW_ROWS rows a linear model's ML.PREDICT is a query DuckDB runs;
    # the trial_id column is added there too, INT64 like the Python path's
    rng = np.random.default_rng(11)
    n = 12_000
    frame = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    frame["label"] = 2 * frame["x"] + rng.normal(0, 0.5, n)
    con.register("many_frame", frame)
    con.query("CREATE SCHEMA IF NOT EXISTS many; CREATE TABLE many.t AS SELECT * FROM many_frame")
    con.query("CREATE MODEL many.m OPTIONS(model_type='linear_reg', num_trials=2, l1_reg=HPARAM_RANGE(0, 5)) AS SELECT * FROM many.t")
    weights = con.query("SELECT trial_id, processed_input, weight FROM ML.WEIGHTS(MODEL many.m)").df()
    for trial in (1, 2):
        result = con.query(f"SELECT * FROM ML.PREDICT(MODEL many.m, TABLE many.t, STRUCT({trial} AS trial_id))").arrow()
        assert result.schema.names == ["trial_id", "predicted_label", "x", "z", "label"] and str(result.schema.field("trial_id").type) == "int64"
        assert set(result.column("trial_id").to_pylist()) == {trial} and result.num_rows == n
        w = weights[weights["trial_id"] == trial].set_index("processed_input")["weight"]
        expected = w["__INTERCEPT__"] + w["x"] * result.column("x").to_numpy() + w["z"] * result.column("z").to_numpy()
        np.testing.assert_allclose(result.column("predicted_label").to_numpy(), expected, rtol=1e-9, atol=1e-9)
