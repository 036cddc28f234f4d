"""ML.ADVANCED_WEIGHTS: weights, standard errors and p-values as ordinary least squares (and the
logistic MLE) give them on the same rows."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sqlml

DATA = """
CREATE SCHEMA ds;
CREATE TABLE ds.houses AS
SELECT MOD(i * 37, 100) / 10.0 AS size, MOD(i * 13, 30) AS age,
       ['town', 'city', 'city', 'village', 'city'][OFFSET(MOD(i, 5))] AS area,
       3 * MOD(i * 37, 100) / 10.0 - 0.2 * MOD(i * 13, 30) + IF(MOD(i, 5) = 3, 4, 0) + MOD(i * 71, 17) / 4.0 AS price,
       3 * MOD(i * 37, 100) / 10.0 - 0.2 * MOD(i * 13, 30) + MOD(i * 71, 17) > 18 AS sold
FROM UNNEST(GENERATE_ARRAY(1, 400)) AS i;
"""


@pytest.fixture
def houses(con):
    con.query(DATA)
    return con


def design(con) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Raw features with dummy indicators ('city', the most frequent area, dropped) and an intercept."""
    frame = con.query("SELECT * FROM ds.houses").df()
    names = ["size", "age", "town", "village"]
    X = np.column_stack([frame["size"], frame["age"], frame["area"] == "town", frame["area"] == "village", np.ones(len(frame))]).astype(float)
    return X, frame["price"].to_numpy(float), frame["sold"].to_numpy(float), names


def test_linear_weights_errors_and_p_values_are_ordinary_least_squares(houses):
    houses.query(
        "CREATE MODEL ds.lin OPTIONS(model_type='linear_reg', input_label_cols=['price'], calculate_p_values=TRUE, "
        "category_encoding_method='DUMMY_ENCODING', data_split_method='NO_SPLIT', optimize_strategy='NORMAL_EQUATION') "
        "AS SELECT size, age, area, price FROM ds.houses"
    )
    table = houses.query("SELECT * FROM ML.ADVANCED_WEIGHTS(MODEL ds.lin)").arrow()
    assert table.schema.names == ["processed_input", "category", "weight", "standard_error", "p_value"]
    rows = {(r["processed_input"], r["category"]): r for r in table.to_pylist()}
    X, y, _, _ = design(houses)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    residual = y - X @ beta
    covariance = residual @ residual / (len(y) - X.shape[1]) * np.linalg.inv(X.T @ X)
    errors = np.sqrt(np.diag(covariance))
    expected = {("size", None): 0, ("age", None): 1, ("area", "town"): 2, ("area", "village"): 3, ("__INTERCEPT__", None): 4}
    for key, index in expected.items():
        row = rows[key]
        assert row["weight"] == pytest.approx(beta[index], rel=1e-6, abs=1e-9), key
        assert row["standard_error"] == pytest.approx(errors[index], rel=1e-6), key
        assert row["p_value"] == pytest.approx(math.erfc(abs(beta[index]) / errors[index] / math.sqrt(2)), rel=1e-6, abs=1e-12), key
    dropped = rows[("area", "city")]
    assert dropped["weight"] == 0.0 and math.isnan(dropped["standard_error"]) and math.isnan(dropped["p_value"])


def test_logistic_errors_are_the_inverse_fisher_information(houses):
    houses.query(
        "CREATE MODEL ds.logit OPTIONS(model_type='logistic_reg', input_label_cols=['sold'], calculate_p_values=TRUE, "
        "category_encoding_method='DUMMY_ENCODING', data_split_method='NO_SPLIT', max_iterations=100, min_rel_progress=0) "
        "AS SELECT size, age, area, sold FROM ds.houses"
    )
    rows = {(r["processed_input"], r["category"]): r for r in houses.query("SELECT * FROM ML.ADVANCED_WEIGHTS(MODEL ds.logit)").arrow().to_pylist()}
    X, _, sold, _ = design(houses)
    beta = np.array([rows[k]["weight"] for k in [("size", None), ("age", None), ("area", "town"), ("area", "village"), ("__INTERCEPT__", None)]])
    probability = 1 / (1 + np.exp(-X @ beta))
    errors = np.sqrt(np.diag(np.linalg.inv(X.T @ (X * (probability * (1 - probability))[:, None]))))
    for key, error in zip([("size", None), ("age", None), ("area", "town"), ("area", "village"), ("__INTERCEPT__", None)], errors):
        assert rows[key]["standard_error"] == pytest.approx(error, rel=1e-6), key
    # the fit is the maximum-likelihood one: the score (gradient) vanishes at these weights
    assert np.abs(X.T @ (sold - probability)).max() < 1e-2 * len(sold)


def test_p_values_need_the_options_bigquery_needs(houses):
    with pytest.raises(sqlml.Error, match="needs category_encoding_method='DUMMY_ENCODING'"):
        houses.query("CREATE MODEL ds.a OPTIONS(model_type='linear_reg', input_label_cols=['price'], calculate_p_values=TRUE) AS SELECT size, area, price FROM ds.houses")
    with pytest.raises(sqlml.Error, match="needs l1_reg=0"):
        houses.query(
            "CREATE MODEL ds.a OPTIONS(model_type='linear_reg', input_label_cols=['price'], calculate_p_values=TRUE, "
            "category_encoding_method='DUMMY_ENCODING', l1_reg=0.5) AS SELECT size, price FROM ds.houses"
        )
    houses.query("CREATE MODEL ds.plain OPTIONS(model_type='linear_reg', input_label_cols=['price']) AS SELECT size, price FROM ds.houses")
    with pytest.raises(sqlml.Error, match="calculate_p_values=TRUE"):
        houses.query("SELECT * FROM ML.ADVANCED_WEIGHTS(MODEL ds.plain)")
