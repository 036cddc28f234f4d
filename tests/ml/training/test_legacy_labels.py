"""``labels=['col']``, the label option of older Google courses, means ``input_label_cols``."""

from __future__ import annotations

import pytest

import sqlml


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query(
            "CREATE SCHEMA ecommerce; CREATE TABLE ecommerce.visits AS "
            "SELECT x AS pageviews, MOD(x, 7) AS bounces, x > 12 AS will_buy_on_return_visit FROM UNNEST(GENERATE_ARRAY(1, 30)) AS x"
        )
        yield connection


def test_labels_list_names_the_label_column(con):
    # as in Qwiklabs GSP229, "Predict Visitor Purchases with a Classification Model in BigQuery ML"
    con.query("""
        CREATE OR REPLACE MODEL ecommerce.classification_model
        OPTIONS(model_type='logistic_reg', labels=['will_buy_on_return_visit'])
        AS SELECT * FROM ecommerce.visits
    """)
    con.query("""
        CREATE OR REPLACE MODEL ecommerce.reference_model
        OPTIONS(model_type='logistic_reg', input_label_cols=['will_buy_on_return_visit'])
        AS SELECT * FROM ecommerce.visits
    """)
    legacy = con.query("SELECT processed_input, weight FROM ML.WEIGHTS(MODEL ecommerce.classification_model) ORDER BY 1").fetchall()
    reference = con.query("SELECT processed_input, weight FROM ML.WEIGHTS(MODEL ecommerce.reference_model) ORDER BY 1").fetchall()
    assert legacy == reference
    assert [row[0] for row in legacy] == ["__INTERCEPT__", "bounces", "pageviews"]
    predicted = con.query("SELECT predicted_will_buy_on_return_visit FROM ML.PREDICT(MODEL ecommerce.classification_model, TABLE ecommerce.visits)")
    assert len(predicted.fetchall()) == 30


def test_key_value_labels_stay_resource_labels(con):
    con.query("""
        CREATE OR REPLACE MODEL ecommerce.tagged
        OPTIONS(model_type='logistic_reg', input_label_cols=['will_buy_on_return_visit'], labels=[('team', 'growth')])
        AS SELECT * FROM ecommerce.visits
    """)
    assert con.query("SELECT COUNT(*) FROM ML.WEIGHTS(MODEL ecommerce.tagged)").fetchall() == [(3,)]


def test_labels_and_input_label_cols_must_agree(con):
    with pytest.raises(sqlml.InvalidOptionError, match=r"labels=\[…\] \(the older name of input_label_cols\) and input_label_cols name different columns"):
        con.query(
            "CREATE OR REPLACE MODEL ecommerce.confused OPTIONS(model_type='logistic_reg', labels=['bounces'], "
            "input_label_cols=['will_buy_on_return_visit']) AS SELECT * FROM ecommerce.visits"
        )
