"""ML.DESCRIBE_DATA, ML.VALIDATE_DATA_SKEW and ML.VALIDATE_DATA_DRIFT: figures checked against NumPy
and SciPy on the same rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy.spatial.distance import jensenshannon

import sqlml

DATA = """
CREATE SCHEMA ds;
CREATE TABLE ds.loans AS
SELECT i AS id,
       MOD(i * 37, 1000) / 10.0 AS income,
       IF(MOD(i, 9) = 0, NULL, MOD(i * 13, 50)) AS debt,
       ['rent', 'own', 'mortgage', 'rent'][OFFSET(MOD(i, 4))] AS housing,
       [MOD(i, 3), MOD(i, 5)] AS scores,
       MOD(i * 37, 1000) / 10.0 - MOD(i * 13, 50) > 20 AS repaid
FROM UNNEST(GENERATE_ARRAY(1, 2000)) AS i;
"""


@pytest.fixture
def loans(con):
    con.query(DATA)
    return con


def test_describe_data_columns_and_figures(loans):
    table = loans.query("SELECT * FROM ML.DESCRIBE_DATA(TABLE ds.loans, STRUCT(4 AS num_quantiles, 2 AS top_k))").arrow()
    assert table.schema.names == [
        "name", "num_rows", "num_nulls", "num_zeros", "min", "max", "mean", "stdev", "median", "quantiles", "unique",
        "avg_string_length", "num_values", "top_values", "min_array_length", "max_array_length", "avg_array_length",
        "total_array_length", "array_length_quantiles", "dimension",
    ]  # fmt: skip
    assert table.schema.field("top_values").type == pa.list_(pa.struct([("value", pa.string()), ("count", pa.int64())]))
    rows = {r["name"]: r for r in table.to_pylist()}
    frame = loans.query("SELECT * FROM ds.loans").df()
    debt = frame["debt"].dropna().to_numpy(float)
    assert rows["debt"]["num_rows"] == 2000 and rows["debt"]["num_nulls"] == frame["debt"].isna().sum()
    assert rows["debt"]["num_zeros"] == int((debt == 0).sum()) and rows["debt"]["num_values"] == len(debt)
    assert rows["debt"]["mean"] == pytest.approx(debt.mean(), abs=1e-9)
    assert rows["debt"]["stdev"] == pytest.approx(debt.std(ddof=1), abs=1e-9)
    assert rows["debt"]["quantiles"] == pytest.approx(np.quantile(debt, [0, 0.25, 0.5, 0.75, 1], method="inverted_cdf").tolist())
    assert (rows["debt"]["min"], rows["debt"]["max"]) == ("0", "49")
    housing = rows["housing"]
    assert housing["unique"] == 3 and housing["mean"] is None
    assert housing["top_values"] == [{"value": "rent", "count": 1000}, {"value": "mortgage", "count": 500}]
    assert housing["avg_string_length"] == pytest.approx(frame["housing"].str.len().mean())
    scores = rows["scores"]
    assert (scores["num_values"], scores["min_array_length"], scores["max_array_length"], scores["dimension"]) == (4000, 2, 2, 2)
    assert scores["mean"] == pytest.approx(np.concatenate(frame["scores"].to_numpy()).mean())
    assert rows["repaid"]["top_values"][0]["value"] in ("true", "false")
    with pytest.raises(sqlml.Error, match="top_k must be between 1 and 10,000"):
        loans.query("SELECT * FROM ML.DESCRIBE_DATA(TABLE ds.loans, STRUCT(0 AS top_k))")


def _model(loans):
    loans.query(
        "CREATE MODEL ds.m OPTIONS(model_type='logistic_reg', input_label_cols=['repaid']) AS SELECT income, debt, housing, repaid FROM ds.loans"
    )


def test_skew_against_the_training_rows_needs_no_training_data(loans):
    _model(loans)
    loans.query("CREATE TABLE ds.serving AS SELECT * FROM ds.loans")
    loans.query("DROP TABLE ds.loans")
    same = loans.query("SELECT input, metric, threshold, value, is_anomaly FROM ML.VALIDATE_DATA_SKEW(MODEL ds.m, TABLE ds.serving)").fetchall()
    assert {(name, metric, threshold, anomaly) for name, metric, threshold, _, anomaly in same} == {
        ("income", "JENSEN_SHANNON_DIVERGENCE", 0.3, False), ("debt", "JENSEN_SHANNON_DIVERGENCE", 0.3, False),
        ("housing", "L_INFTY", 0.3, False),
    }  # fmt: skip
    assert all(value < 1e-9 for *_, value, _ in same)
    moved = loans.query(
        "SELECT input, value, is_anomaly FROM ML.VALIDATE_DATA_SKEW(MODEL ds.m, "
        "(SELECT income + 60 AS income, debt, IF(housing = 'own', 'rent', housing) AS housing FROM ds.serving), "
        "STRUCT(0.2 AS categorical_default_threshold, [STRUCT('debt', 0.01)] AS thresholds))"
    ).fetchall()
    by_name = {name: (value, anomaly) for name, value, anomaly in moved}
    assert by_name["income"][1] and by_name["income"][0] > 0.3  # 60% of the mass moved past the training range
    assert by_name["housing"] == (pytest.approx(0.25), True)  # 'own' (25%) became 'rent'
    assert by_name["debt"] == (pytest.approx(0.0, abs=1e-9), False)


def test_drift_is_scipys_jensen_shannon_and_l_infinity(loans):
    result = loans.query(
        "SELECT input, metric, value, is_anomaly FROM ML.VALIDATE_DATA_DRIFT("
        "(SELECT income, housing FROM ds.loans WHERE id <= 1000), "
        "(SELECT income * 0.5 AS income, IF(id > 1800, 'own', housing) AS housing FROM ds.loans WHERE id > 1000), "
        "STRUCT(5 AS num_histogram_buckets))"
    ).fetchall()
    by_name = {name: (metric, value, anomaly) for name, metric, value, anomaly in result}
    frame = loans.query("SELECT id, income, housing FROM ds.loans").df()
    base, study = frame[frame.id <= 1000], frame[frame.id > 1000].copy()
    study["income"] *= 0.5
    edges = np.linspace(min(base.income.min(), study.income.min()), max(base.income.max(), study.income.max()), 6)
    p, _ = np.histogram(base.income, edges)
    q, _ = np.histogram(study.income, edges)
    assert by_name["income"][0] == "JENSEN_SHANNON_DIVERGENCE"
    assert by_name["income"][1] == pytest.approx(jensenshannon(p, q, base=2) ** 2, abs=1e-12)
    study.loc[study.id > 1800, "housing"] = "own"
    shares = lambda s: s.value_counts(normalize=True)  # noqa: E731
    expected = (shares(base.housing) - shares(study.housing)).abs().max()
    assert by_name["housing"][:2] == ("L_INFTY", pytest.approx(expected, abs=1e-12))
    with pytest.raises(sqlml.Error, match="categorical_metric_type must be one of"):
        loans.query("SELECT * FROM ML.VALIDATE_DATA_DRIFT(TABLE ds.loans, TABLE ds.loans, STRUCT('COSINE' AS categorical_metric_type))")


SCHEMA = [("input", pa.string()), ("metric", pa.string()), ("threshold", pa.float64()), ("value", pa.float64()), ("is_anomaly", pa.bool_())]
LINK = ("visualization_link", pa.string())


def test_skew_and_drift_have_bigquerys_columns_and_the_visualization_link_when_asked(loans):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-validate-data-skew and
    # …-validate-data-drift: visualization_link only with enable_visualization_link=TRUE / a MODEL argument
    _model(loans)
    skew = loans.query("SELECT * FROM ML.VALIDATE_DATA_SKEW(MODEL ds.m, TABLE ds.loans)").arrow()
    assert list(zip(skew.schema.names, skew.schema.types)) == SCHEMA
    linked = loans.query("SELECT * FROM ML.VALIDATE_DATA_SKEW(MODEL ds.m, TABLE ds.loans, STRUCT(TRUE AS enable_visualization_link))").arrow()
    assert list(zip(linked.schema.names, linked.schema.types)) == SCHEMA + [LINK]
    assert linked.column("visualization_link").null_count == linked.num_rows == 3  # no Vertex AI monitor to link to
    drift = loans.query("SELECT * FROM ML.VALIDATE_DATA_DRIFT(TABLE ds.loans, TABLE ds.loans)").arrow()
    assert list(zip(drift.schema.names, drift.schema.types)) == SCHEMA
    with_model = loans.query("SELECT * FROM ML.VALIDATE_DATA_DRIFT(TABLE ds.loans, TABLE ds.loans, STRUCT(10 AS num_histogram_buckets), MODEL ds.m)").arrow()
    assert list(zip(with_model.schema.names, with_model.schema.types)) == SCHEMA + [LINK]
    with pytest.raises(sqlml.Error, match="ML.VALIDATE_DATA_DRIFT has no setting 'enable_visualization_link'"):
        loans.query("SELECT * FROM ML.VALIDATE_DATA_DRIFT(TABLE ds.loans, TABLE ds.loans, STRUCT(TRUE AS enable_visualization_link))")


def test_drift_with_a_model_that_does_not_exist_is_model_not_found(loans):
    # the MODEL argument only asks for a visualization link, but it must name a model, as in every ML function
    _model(loans)
    with pytest.raises(sqlml.ModelNotFoundError, match=r"^Model 'ds\.missing' was not found\.") as info:
        loans.query("SELECT * FROM ML.VALIDATE_DATA_DRIFT(TABLE ds.loans, TABLE ds.loans, MODEL ds.missing)")
    assert info.value.hint.startswith("Did you mean ds.m? ") or "Known models in 'ds': " in info.value.hint
