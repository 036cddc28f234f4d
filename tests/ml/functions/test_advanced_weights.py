"""ML.ADVANCED_WEIGHTS: weights, standard errors and p-values as ordinary least squares (and the
logistic MLE) give them on the same rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

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
    expected = {("size", None): 0, ("age", None): 1, ("area", "town"): 2, ("area", "village"): 3}
    for key, index in expected.items():
        row = rows[key]
        assert row["weight"] == pytest.approx(beta[index], rel=1e-6, abs=1e-9), key
        assert row["standard_error"] == pytest.approx(errors[index], rel=1e-6), key
        assert row["p_value"] == pytest.approx(math.erfc(abs(beta[index]) / errors[index] / math.sqrt(2)), rel=1e-6, abs=1e-12), key
    dropped = rows[("area", "city")]
    assert dropped["weight"] == 0.0 and math.isnan(dropped["standard_error"]) and math.isnan(dropped["p_value"])
    # BigQuery gives the intercept's standard error and p-value only with standardize=TRUE
    intercept = rows[("__INTERCEPT__", None)]
    assert intercept["weight"] == pytest.approx(beta[4], rel=1e-6) and intercept["standard_error"] is None and intercept["p_value"] is None


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
    for key, error in zip([("size", None), ("age", None), ("area", "town"), ("area", "village")], errors):
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


PENGUINS = "/work/shared/data/penguins.csv"
NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]


@pytest.fixture
def penguins(con):
    """The BigQuery penguins tutorial's rows (body_mass_g known)."""
    frame = pd.read_csv(PENGUINS, na_values="NA")
    con.register("penguins_frame", frame[frame["body_mass_g"].notna()].reset_index(drop=True))
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.penguins AS SELECT * FROM penguins_frame")
    return con


def _penguin_design(frame: pd.DataFrame) -> np.ndarray:
    """Numeric columns, dummies (Adelie, Biscoe and male — the most frequent — dropped; NULL sex is
    its own category), intercept."""
    columns = [frame[c].to_numpy(float) for c in NUMERIC]
    columns += [(frame["species"] == c).to_numpy(float) for c in ("Chinstrap", "Gentoo")]
    columns += [(frame["island"] == c).to_numpy(float) for c in ("Dream", "Torgersen")]
    columns += [frame["sex"].isna().to_numpy(float), (frame["sex"] == "female").to_numpy(float), np.ones(len(frame))]
    return np.column_stack(columns)


def test_penguins_errors_are_statsmodels_ols_and_p_values_the_documented_normal(penguins):
    penguins.query(
        "CREATE MODEL ds.mass OPTIONS(model_type='linear_reg', input_label_cols=['body_mass_g'], calculate_p_values=TRUE, "
        "category_encoding_method='DUMMY_ENCODING') AS SELECT species, island, bill_length_mm, bill_depth_mm, flipper_length_mm, sex, body_mass_g FROM ds.penguins"
    )
    frame = penguins.query("SELECT * FROM ds.penguins").df()
    X, y = _penguin_design(frame), frame["body_mass_g"].to_numpy(float)
    n, p = X.shape
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    residual = y - X @ beta
    covariance = residual @ residual / (n - p) * np.linalg.inv(X.T @ X)  # statsmodels OLS: scale = ssr / df_resid
    errors = np.sqrt(np.diag(covariance))
    keys = [(c, None) for c in NUMERIC] + [("species", "Chinstrap"), ("species", "Gentoo"), ("island", "Dream"), ("island", "Torgersen"),
                                           ("sex", "_null_filler"), ("sex", "female")]  # fmt: skip
    raw = {(r["processed_input"], r["category"]): r for r in penguins.query("SELECT * FROM ML.ADVANCED_WEIGHTS(MODEL ds.mass)").arrow().to_pylist()}
    for index, key in enumerate(keys):
        assert raw[key]["weight"] == pytest.approx(beta[index], rel=1e-6), key
        assert raw[key]["standard_error"] == pytest.approx(errors[index], rel=1e-6), key
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-advanced-weights
        assert raw[key]["p_value"] == pytest.approx(2 * (1 - stats.norm.cdf(abs(beta[index]), loc=0, scale=errors[index])), rel=1e-6, abs=1e-15), key
    assert raw[("__INTERCEPT__", None)]["standard_error"] is None and raw[("__INTERCEPT__", None)]["p_value"] is None
    # standardized: each numeric weight and error times the column's sample deviation; the intercept
    # is the prediction at the numeric means, with the error that linear combination has
    standardized = {(r["processed_input"], r["category"]): r for r in
                    penguins.query("SELECT * FROM ML.ADVANCED_WEIGHTS(MODEL ds.mass, STRUCT(TRUE AS standardize))").arrow().to_pylist()}  # fmt: skip
    for index, column in enumerate(NUMERIC):
        deviation = frame[column].std(ddof=1)
        assert standardized[(column, None)]["standard_error"] == pytest.approx(errors[index] * deviation, rel=1e-6)
    at_means = np.array([frame[c].mean() for c in NUMERIC] + [0.0] * 6 + [1.0])
    intercept = standardized[("__INTERCEPT__", None)]
    assert intercept["weight"] == pytest.approx(at_means @ beta, rel=1e-6)
    assert intercept["standard_error"] == pytest.approx(math.sqrt(at_means @ covariance @ at_means), rel=1e-6)
    assert intercept["p_value"] == pytest.approx(2 * stats.norm.sf(abs(at_means @ beta) / math.sqrt(at_means @ covariance @ at_means)), abs=1e-15)


def test_class_weighted_logistic_errors_use_the_weighted_fisher_information(penguins):
    penguins.query(
        "CREATE MODEL ds.sex OPTIONS(model_type='logistic_reg', input_label_cols=['sex'], calculate_p_values=TRUE, auto_class_weights=TRUE, "
        "category_encoding_method='DUMMY_ENCODING', data_split_method='NO_SPLIT', max_iterations=200, min_rel_progress=0, early_stop=FALSE) "
        "AS SELECT bill_depth_mm, body_mass_g, sex FROM ds.penguins WHERE sex IS NOT NULL"
    )
    frame = penguins.query("SELECT bill_depth_mm, body_mass_g, sex FROM ds.penguins WHERE sex IS NOT NULL").df()
    rows = {r["processed_input"]: r for r in penguins.query("SELECT * FROM ML.ADVANCED_WEIGHTS(MODEL ds.sex)").arrow().to_pylist()}
    X = np.column_stack([frame["bill_depth_mm"], frame["body_mass_g"], np.ones(len(frame))]).astype(float)
    beta = np.array([rows[k]["weight"] for k in ("bill_depth_mm", "body_mass_g", "__INTERCEPT__")])
    male = (frame["sex"] == "male").to_numpy()  # the higher label is the positive class
    weights = np.where(male, len(frame) / (2 * male.sum()), len(frame) / (2 * (~male).sum()))  # auto_class_weights
    probability = 1 / (1 + np.exp(-X @ beta))
    errors = np.sqrt(np.diag(np.linalg.inv(X.T @ (X * (weights * probability * (1 - probability))[:, None]))))
    assert rows["bill_depth_mm"]["standard_error"] == pytest.approx(errors[0], rel=1e-5)
    assert rows["body_mass_g"]["standard_error"] == pytest.approx(errors[1], rel=1e-5)
