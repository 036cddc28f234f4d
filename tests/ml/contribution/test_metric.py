"""The ``contribution_metric`` option read as SQL (sqlglot's BigQuery tree, no regular expression):
the three forms BigQuery accepts, spelled in any case, spacing or quoting, and nothing else.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-contribution-analysis#contribution_metric
"""

from __future__ import annotations

import pytest

import sqlml
from sqlml.ml.contribution.metric import Metric, MetricKind, parse_metric
from tests.ml.contribution.reference import reference_insights
from tests.ml.contribution.test_insights import _assert_equal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SUM(sales)", Metric(MetricKind.SUMMABLE, "sales")),
        ("sum(sales)", Metric(MetricKind.SUMMABLE, "sales")),
        ("  Sum ( sales )  ", Metric(MetricKind.SUMMABLE, "sales")),
        ("SUM(\n\tsales\n)", Metric(MetricKind.SUMMABLE, "sales")),
        ("SUM(`total sales`)", Metric(MetricKind.SUMMABLE, "total sales")),
        ("SUM(Sales_2)", Metric(MetricKind.SUMMABLE, "Sales_2")),  # the spelling is kept; columns match case-insensitively later
        ("SUM(sales)/SUM(cost)", Metric(MetricKind.SUMMABLE_RATIO, "sales", "cost")),
        ("sum( sales ) / sum( `unit cost` )", Metric(MetricKind.SUMMABLE_RATIO, "sales", "unit cost")),
        ("SUM(sales)/COUNT(DISTINCT month)", Metric(MetricKind.SUMMABLE_BY_CATEGORY, "sales", "month")),
        ("sum(sales) / count( distinct `the month` )", Metric(MetricKind.SUMMABLE_BY_CATEGORY, "sales", "the month")),
    ],
)
def test_accepted_forms(text, expected):
    assert parse_metric(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "SUM(x)/SUM(x+1)",  # a computation inside the sum
        "SUM(x + 1)",
        "SUM(SUM(x))",  # nested aggregates
        "(SUM(x))",
        "SUM(x)/(SUM(y))",
        "SUM(x)/SUM(y)/SUM(z)",
        "SUM(x)*SUM(y)",
        "SUM(x)/COUNT(y)",
        "SUM(x)/COUNT(DISTINCT x, y)",
        "SUM(x)/COUNT(DISTINCT(y))",
        "SUM(DISTINCT x)",
        "COUNT(DISTINCT y)",
        "SUM(x)/SUM(y) + 1",
        "SUM(t.x)",  # a qualified column
        "SUM('x')",  # a string, not a column
        "SUM(1)",
        "SUM(x) OVER ()",
        "SAFE.SUM(x)",
        "SUM(x",  # not SQL
        "SUM(x); DROP TABLE ds.t",  # two statements
        "",
        "x",
    ],
)
def test_refused_forms(text):
    with pytest.raises(sqlml.InvalidOptionError) as caught:
        parse_metric(text)
    assert caught.value.message == (
        "The 'contribution_metric' option of CREATE MODEL (model_type='contribution_analysis') must be "
        f"SUM(x), SUM(x)/SUM(y) or SUM(x)/COUNT(DISTINCT y). Got '{text}' instead."
    )
    assert caught.value.option == "contribution_metric"


def test_a_backquoted_spaced_metric_trains_as_the_plain_one(ca_con, rows):
    """Backquoted names, lower case and spaces in the option give the insights of the plain spelling."""
    ca_con.query(
        "CREATE OR REPLACE MODEL ds.quoted OPTIONS(model_type='contribution_analysis', "
        "contribution_metric='sum( `Sales` ) / count( distinct `month` )', is_test_col='is_test', "
        "dimension_id_cols=['region', 'tier'], min_apriori_support=0.05) "
        "AS SELECT region, tier, is_test, sales, month FROM ds.sales"
    )
    got = ca_con.query("SELECT * FROM ML.GET_INSIGHTS(MODEL ds.quoted)").arrow()
    _assert_equal(got, reference_insights(rows, ["region", "tier"], "summable_by_category", ("sales", "month"), threshold=0.05),
                  "summable_by_category", ["region", "tier"])
