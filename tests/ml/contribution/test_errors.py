"""Bad CONTRIBUTION_ANALYSIS statements fail with exact messages, before anything is stored; a failed
CREATE OR REPLACE keeps the previous model; the model answers only ML.GET_INSIGHTS."""

from __future__ import annotations

import pytest

import sqlml

GOOD = "contribution_metric='SUM(sales)', is_test_col='is_test', dimension_id_cols=['region', 'device']"
QUERY = "SELECT region, device, is_test, sales FROM ds.sales"


def _create(con, options: str, query: str = QUERY) -> None:
    con.query(f"CREATE OR REPLACE MODEL ds.bad OPTIONS(model_type='contribution_analysis', {options}) AS {query}")


@pytest.mark.parametrize("metric", ["AVG(sales)", "SUM(AVG(sales))", "SUM(sales) + SUM(clicks)", "SUM(sales)/COUNT(month)", "sales"])
def test_a_metric_bigquery_does_not_accept(ca_con, metric):
    with pytest.raises(sqlml.InvalidOptionError) as caught:
        _create(ca_con, f"contribution_metric='{metric}', is_test_col='is_test'")
    assert caught.value.message == (
        "The 'contribution_metric' option of CREATE MODEL (model_type='contribution_analysis') must be "
        f"SUM(x), SUM(x)/SUM(y) or SUM(x)/COUNT(DISTINCT y). Got '{metric}' instead."
    )
    assert caught.value.option == "contribution_metric"


@pytest.mark.parametrize("missing", ["contribution_metric", "is_test_col"])
def test_required_options(ca_con, missing):
    options = {"contribution_metric": "'SUM(sales)'", "is_test_col": "'is_test'"}
    del options[missing]
    with pytest.raises(sqlml.InvalidOptionError, match=rf"^model_type='CONTRIBUTION_ANALYSIS' needs the option {missing}\."):
        _create(ca_con, ", ".join(f"{k}={v}" for k, v in options.items()))


@pytest.mark.parametrize(("option", "value", "described"), [
    ("min_apriori_support", "1.5", "a float in the range [0, 1]"),
    ("min_apriori_support", "-0.1", "a float in the range [0, 1]"),
    ("top_k_insights_by_apriori_support", "0", "an integer in the range [1, 1000000]"),
    ("pruning_method", "'SOME'", "one of 'NO_PRUNING', 'PRUNE_REDUNDANT_INSIGHTS'"),
])  # fmt: skip
def test_option_out_of_range(ca_con, option, value, described):
    with pytest.raises(sqlml.InvalidOptionError) as caught:
        _create(ca_con, f"{GOOD}, {option}={value}")
    shown = value if not value.startswith("'") else value
    assert caught.value.message == f"The '{option}' option of CREATE MODEL (model_type='contribution_analysis') must be {described}. Got {shown} instead."


def test_min_apriori_support_and_top_k_exclude_each_other(ca_con):
    with pytest.raises(sqlml.InvalidOptionError, match=r"^Please specify only one of the MIN_APRIORI_SUPPORT or TOP_K_INSIGHTS_BY_APRIORI_SUPPORT options\."):
        _create(ca_con, f"{GOOD}, min_apriori_support=0.1, top_k_insights_by_apriori_support=5")


@pytest.mark.parametrize(("options", "query", "message"), [
    ("contribution_metric='SUM(sales)', is_test_col='in_test'", QUERY, r"^The training query has no column in_test, which is_test_col names\."),
    ("contribution_metric='SUM(revenue)', is_test_col='is_test'", QUERY, r"^The training query has no column revenue, which contribution_metric names\."),
    (f"{GOOD[:-1]}, 'city']", QUERY, r"^The training query has no column city, which dimension_id_cols names\."),
    (GOOD, "SELECT region, device, tier = 1 AS is_test, sales, clicks FROM ds.sales",
     r"^Only is_test, dimension id, and contribution metric columns are allowed as input columns; the training query also has clicks\."),
    (GOOD, "SELECT region, device, 'yes' AS is_test, sales FROM ds.sales", r"^The column is_test \(is_test_col\) must be BOOL; it is STRING\."),
    (GOOD, "SELECT region, device, is_test, region AS sales FROM ds.sales",
     r"^The column sales \(contribution_metric\) must be INT64, NUMERIC, BIGNUMERIC or FLOAT64; it is STRING\."),
    (GOOD, "SELECT region, clicks / 2 AS device, is_test, sales FROM ds.sales",
     r"^The column device \(dimension_id_cols\) must be INT64, BOOL or STRING; it is FLOAT64\."),
    ("contribution_metric='SUM(sales)', is_test_col='is_test'", "SELECT region, device, is_test, sales - 50 AS sales FROM ds.sales",
     r"^For Contribution Analysis models with a min_apriori_support value greater than 0, all 'sales' values must be non-negative; the smallest is -49\.0\."),
    (GOOD, "SELECT region, device, TRUE AS is_test, sales FROM ds.sales",
     r"^The training query has no control \(FALSE\) rows with every dimension set: contribution analysis compares test rows with control rows\."),
])  # fmt: skip
def test_rows_that_do_not_fit_the_options(ca_con, options, query, message):
    with pytest.raises(sqlml.InvalidModelInputError, match=message):
        _create(ca_con, options, query)


def test_negative_values_are_analysed_without_a_threshold(ca_con):
    _create(ca_con, f"{GOOD}, min_apriori_support=0", "SELECT region, device, is_test, sales - 50 AS sales FROM ds.sales")
    got = ca_con.query("SELECT contributors, metric_test FROM ML.GET_INSIGHTS(MODEL ds.bad) WHERE contributors[OFFSET(0)] = 'all'").fetchall()
    expected = ca_con.query("SELECT SUM(sales - 50) FROM ds.sales WHERE is_test").fetchall()[0][0]
    assert got == [(["all"], pytest.approx(expected))]


@pytest.mark.parametrize(("dims", "support", "message"), [
    ("['region', 'region']", 0.1, r"^dimension_id_cols names region twice\."),
    ("['region', 'sales']", 0.1, r"^dimension_id_cols names sales, which contribution_metric or is_test_col uses\."),
    ("[]", 0.1, r"^A contribution analysis model takes 1 to 50 dimensions with an apriori support threshold; got 0\."),
    ("[" + ", ".join(f"'d{i}'" for i in range(14)) + "]", 0, r"^A contribution analysis model takes 1 to 13 dimensions with min_apriori_support = 0; got 14\."),
])  # fmt: skip
def test_dimension_id_cols(ca_con, dims, support, message):
    with pytest.raises(sqlml.InvalidOptionError, match=message):
        _create(ca_con, f"contribution_metric='SUM(sales)', is_test_col='is_test', dimension_id_cols={dims}, min_apriori_support={support}")


def test_transform_is_refused(ca_con):
    with pytest.raises(sqlml.SqlSyntaxError, match=r"^model_type='CONTRIBUTION_ANALYSIS' takes no TRANSFORM clause\."):
        ca_con.query(f"CREATE OR REPLACE MODEL ds.bad TRANSFORM(region, device, is_test, sales) OPTIONS(model_type='contribution_analysis', {GOOD}) AS {QUERY}")


def test_a_failed_create_or_replace_keeps_the_previous_model(ca_con):
    ca_con.query(f"CREATE OR REPLACE MODEL ds.kept OPTIONS(model_type='contribution_analysis', {GOOD}) AS {QUERY}")
    before = ca_con.query("SELECT * FROM ML.GET_INSIGHTS(MODEL ds.kept)").arrow()
    with pytest.raises(sqlml.InvalidModelInputError):
        ca_con.query(f"CREATE OR REPLACE MODEL ds.kept OPTIONS(model_type='contribution_analysis', {GOOD}) AS SELECT region, device, is_test, sales, clicks FROM ds.sales")
    with pytest.raises(sqlml.InvalidOptionError):
        ca_con.query(f"CREATE OR REPLACE MODEL ds.kept OPTIONS(model_type='contribution_analysis', contribution_metric='MAX(sales)', is_test_col='is_test') AS {QUERY}")
    assert ca_con.query("SELECT * FROM ML.GET_INSIGHTS(MODEL ds.kept)").arrow().equals(before)
    assert [row[0] for row in ca_con.query("SELECT version FROM ML.VERSIONS(MODEL ds.kept)").fetchall()] == [1]


@pytest.mark.parametrize("call", ["ML.PREDICT(MODEL ds.kept, (SELECT region, device FROM ds.sales))", "ML.EVALUATE(MODEL ds.kept)"])
def test_other_functions_point_to_get_insights(ca_con, call):
    ca_con.query(f"CREATE OR REPLACE MODEL ds.kept OPTIONS(model_type='contribution_analysis', {GOOD}) AS {QUERY}")
    with pytest.raises(sqlml.ModelError) as caught:
        ca_con.query(f"SELECT * FROM {call}")
    assert "does not support CONTRIBUTION_ANALYSIS models" in caught.value.message
    assert caught.value.hint == "Ask ML.GET_INSIGHTS(MODEL ds.kept) instead."


def test_get_insights_needs_a_contribution_analysis_model(ca_con):
    ca_con.query("CREATE OR REPLACE MODEL ds.lin OPTIONS(model_type='linear_reg', input_label_cols=['sales']) AS SELECT clicks, sales FROM ds.sales")
    with pytest.raises(sqlml.ModelError) as caught:
        ca_con.query("SELECT * FROM ML.GET_INSIGHTS(MODEL ds.lin)")
    assert caught.value.message == "ML.GET_INSIGHTS does not support LINEAR_REG models; it needs a CONTRIBUTION_ANALYSIS model. ds.lin is LINEAR_REG."


def test_get_insights_takes_only_the_model(ca_con):
    ca_con.query(f"CREATE OR REPLACE MODEL ds.kept OPTIONS(model_type='contribution_analysis', {GOOD}) AS {QUERY}")
    with pytest.raises(sqlml.UnsupportedStatementError, match=r"^ML.GET_INSIGHTS takes one argument, MODEL m"):
        ca_con.query("SELECT * FROM ML.GET_INSIGHTS(MODEL ds.kept, (SELECT * FROM ds.sales))")


def test_export_model_refuses_a_contribution_analysis_model_as_bigquery_does(ca_con, tmp_path):
    """https://cloud.google.com/bigquery/docs/exporting-models does not list CONTRIBUTION_ANALYSIS."""
    ca_con.query(f"CREATE OR REPLACE MODEL ds.kept OPTIONS(model_type='contribution_analysis', {GOOD}) AS {QUERY}")
    with pytest.raises(sqlml.ModelError) as caught:
        ca_con.query(f"EXPORT MODEL ds.kept OPTIONS(uri='{tmp_path / 'out'}')")
    assert caught.value.message == "EXPORT MODEL cannot export ds.kept: contribution analysis models cannot be exported."
    assert not (tmp_path / "out").exists()
