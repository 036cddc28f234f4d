"""BigQuery's two contribution analysis tutorials, their statements unchanged, on a small generated
copy of ``bigquery-public-data.iowa_liquor_sales.sales``:
https://cloud.google.com/bigquery/docs/get-contribution-analysis-insights and
https://cloud.google.com/bigquery/docs/get-contribution-analysis-insights-sum-ratio."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sqlml
from tests.ml.contribution.reference import contributors, reference_insights

DIMENSIONS = ["store_name", "city", "vendor_name", "category_name", "item_description"]

SUM_TABLE = """
CREATE OR REPLACE TABLE bqml_tutorial.iowa_liquor_sales_sum_data AS (
  (SELECT
    store_name,
    city,
    vendor_name,
    category_name,
    item_description,
    SUM(sale_dollars) AS total_sales,
    FALSE AS is_test
  FROM `bigquery-public-data.iowa_liquor_sales.sales`
  WHERE EXTRACT(YEAR from date) = 2020
  GROUP BY store_name, city, vendor_name, category_name, item_description, is_test)
  UNION ALL
  (SELECT
    store_name,
    city,
    vendor_name,
    category_name,
    item_description,
    SUM(sale_dollars) AS total_sales,
    TRUE AS is_test
  FROM `bigquery-public-data.iowa_liquor_sales.sales`
  WHERE EXTRACT (YEAR FROM date) = 2021
  GROUP BY store_name, city, vendor_name, category_name, item_description, is_test)
);
"""
SUM_MODEL = """
CREATE OR REPLACE MODEL bqml_tutorial.iowa_liquor_sales_sum_model
  OPTIONS(
    model_type='CONTRIBUTION_ANALYSIS',
    contribution_metric = 'sum(total_sales)',
    dimension_id_cols = ['store_name', 'city', 'vendor_name', 'category_name',
      'item_description'],
    is_test_col = 'is_test',
    min_apriori_support=0.05
  ) AS
SELECT * FROM bqml_tutorial.iowa_liquor_sales_sum_data;
"""
SUM_INSIGHTS = """
SELECT
  contributors,
  metric_test,
  metric_control,
  difference,
  relative_difference,
  unexpected_difference,
  relative_unexpected_difference,
  apriori_support,
  contribution
FROM
  ML.GET_INSIGHTS(
    MODEL `bqml_tutorial.iowa_liquor_sales_sum_model`);
"""
RATIO_TABLE = """
CREATE OR REPLACE TABLE bqml_tutorial.iowa_liquor_sales_data AS
(SELECT
  store_name,
  city,
  vendor_name,
  category_name,
  item_description,
  SUM(sale_dollars) AS total_sales,
  SUM(state_bottle_cost) AS total_bottle_cost,
  FALSE AS is_test
FROM `bigquery-public-data.iowa_liquor_sales.sales`
WHERE EXTRACT(YEAR FROM date) = 2020
GROUP BY store_name, city, vendor_name, category_name, item_description, is_test)
UNION ALL
(SELECT
  store_name,
  city,
  vendor_name,
  category_name,
  item_description,
  SUM(sale_dollars) AS total_sales,
  SUM(state_bottle_cost) AS total_bottle_cost,
  TRUE AS is_test
FROM `bigquery-public-data.iowa_liquor_sales.sales`
WHERE EXTRACT(YEAR FROM date) = 2021
GROUP BY store_name, city, vendor_name, category_name, item_description, is_test);
"""
RATIO_MODEL = """
CREATE OR REPLACE MODEL bqml_tutorial.liquor_sales_model
OPTIONS(
  model_type = 'CONTRIBUTION_ANALYSIS',
  contribution_metric = 'sum(total_bottle_cost)/sum(total_sales)',
  dimension_id_cols = ['store_name', 'city', 'vendor_name', 'category_name', 'item_description'],
  is_test_col = 'is_test',
  min_apriori_support = 0.05
) AS
SELECT * FROM bqml_tutorial.iowa_liquor_sales_data;
"""
RATIO_INSIGHTS = """
SELECT
contributors,
metric_test,
metric_control,
metric_test_over_metric_control,
metric_test_over_complement,
metric_control_over_complement,
aumann_shapley_attribution,
apriori_support
contribution
FROM
  ML.GET_INSIGHTS(
    MODEL `bqml_tutorial.liquor_sales_model`)
ORDER BY aumann_shapley_attribution DESC;
"""


def _sales(n: int = 1500, seed: int = 5) -> pd.DataFrame:
    """Liquor sales of 2020 and 2021 with whole-dollar amounts; one vendor grows in 2021."""
    rng = np.random.default_rng(seed)
    stores = [("HY-VEE #3", "DES MOINES"), ("CENTRAL CITY 2", "DES MOINES"), ("FAREWAY #9", "AMES"), ("KUM & GO 17", "URBANDALE")]
    store = rng.integers(0, len(stores), n)
    vendor = rng.choice(["SAZERAC COMPANY INC", "DIAGEO AMERICAS", "BACARDI USA INC"], n)
    year = rng.choice([2020, 2021], n)
    dollars = rng.integers(5, 200, n) * np.where((vendor == "SAZERAC COMPANY INC") & (year == 2021), 2, 1)
    return pd.DataFrame({
        "date": pd.to_datetime([f"{y}-{m:02d}-15" for y, m in zip(year, rng.integers(1, 13, n))]).date,
        "store_name": [stores[i][0] for i in store], "city": [stores[i][1] for i in store], "vendor_name": vendor,
        "category_name": rng.choice(["100% AGAVE TEQUILA", "CANADIAN WHISKIES", "AMERICAN VODKAS"], n),
        "item_description": rng.choice(["FIREBALL", "CROWN ROYAL", "TITOS", "PATRON"], n),
        "sale_dollars": dollars.astype(float), "state_bottle_cost": rng.integers(2, 40, n).astype(float),
    })  # fmt: skip


@pytest.fixture(scope="module")
def tutorial_con():
    with sqlml.connect(":memory:") as con:
        con.register("sales_frame", _sales())
        con.query("CREATE SCHEMA iowa_liquor_sales; CREATE SCHEMA bqml_tutorial; CREATE TABLE iowa_liquor_sales.sales AS SELECT * FROM sales_frame")
        yield con


def _check(got: pd.DataFrame, expected: list[dict], columns: list[str]) -> None:
    assert list(got["contributors"].map(list)) == [contributors(row, DIMENSIONS) for row in expected]
    for column in columns:
        np.testing.assert_allclose(got[column].astype(float), [row[column] for row in expected], rtol=1e-7, atol=1e-12)


def test_the_summable_tutorial_runs_unchanged(tutorial_con):
    tutorial_con.query(SUM_TABLE)
    tutorial_con.query(SUM_MODEL)
    got = tutorial_con.query(SUM_INSIGHTS).df()
    assert list(got.columns) == ["contributors", "metric_test", "metric_control", "difference", "relative_difference",
                                 "unexpected_difference", "relative_unexpected_difference", "apriori_support", "contribution"]  # fmt: skip
    rows = tutorial_con.query("SELECT * FROM bqml_tutorial.iowa_liquor_sales_sum_data").df()
    expected = reference_insights(rows, DIMENSIONS, "summable", ("total_sales",), threshold=0.05)
    _check(got, expected, list(got.columns[1:]))
    top = got.loc[got["unexpected_difference"].idxmax(), "contributors"]
    assert top.tolist() == ["vendor_name=SAZERAC COMPANY INC"]


def test_the_summable_ratio_tutorial_runs_unchanged(tutorial_con):
    tutorial_con.query(RATIO_TABLE)
    tutorial_con.query(RATIO_MODEL)
    got = tutorial_con.query(RATIO_INSIGHTS).df()
    # the tutorial's SELECT has no comma after apriori_support: its values come out named contribution
    assert list(got.columns) == ["contributors", "metric_test", "metric_control", "metric_test_over_metric_control", "metric_test_over_complement",
                                 "metric_control_over_complement", "aumann_shapley_attribution", "contribution"]  # fmt: skip
    rows = tutorial_con.query("SELECT * FROM bqml_tutorial.iowa_liquor_sales_data").df()
    expected = reference_insights(rows, DIMENSIONS, "summable_ratio", ("total_bottle_cost", "total_sales"), threshold=0.05)
    expected = [{**row, "contribution": row["apriori_support"]} for row in expected]
    # ORDER BY aumann_shapley_attribution leaves equal attributions (a store that is its whole city) in any order
    got["key"] = got["contributors"].map(lambda items: ",".join(items))
    got = got.sort_values(["aumann_shapley_attribution", "key"], ascending=[False, True], kind="stable")
    expected = sorted(expected, key=lambda row: (-row["aumann_shapley_attribution"], ",".join(contributors(row, DIMENSIONS))))
    _check(got, expected, list(got.columns[1:-1]))
