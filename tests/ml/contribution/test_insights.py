"""ML.GET_INSIGHTS of CONTRIBUTION_ANALYSIS models equals the same segments computed with pandas:
columns, types, values and order, for each metric kind, threshold, top-k and pruning method."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from tests.ml.contribution.reference import DIMENSIONS, contributors, reference_insights

#: metric kind → (CONTRIBUTION_METRIC, the columns it reads)
METRICS = {
    "summable": ("SUM(sales)", ("sales",)),
    "summable_ratio": ("SUM(sales)/SUM(clicks)", ("sales", "clicks")),
    "summable_by_category": ("SUM(sales)/COUNT(DISTINCT month)", ("sales", "month")),
}
#: ML.GET_INSIGHTS's metric columns per kind, as the page lists them.
COLUMNS = {
    "summable": ["metric_test", "metric_control", "difference", "relative_difference", "unexpected_difference",
                 "relative_unexpected_difference", "apriori_support", "contribution"],
    "summable_ratio": ["metric_test", "metric_control", "metric_test_over_metric_control", "metric_test_over_complement",
                       "metric_control_over_complement", "aumann_shapley_attribution", "apriori_support", "contribution"],
    "summable_by_category": ["metric_test", "metric_control", "difference", "relative_difference", "metric_test_over_population",
                             "metric_control_over_population", "apriori_support", "contribution"],
}  # fmt: skip
DIMENSION_TYPES = {"region": pa.string(), "continent": pa.string(), "device": pa.string(), "tier": pa.int64(), "member": pa.bool_()}


def _create(con, kind: str, options: str = "", dims=DIMENSIONS) -> pa.Table:
    metric, columns = METRICS[kind]
    select = ", ".join([*dims, "is_test", *columns])
    dim_list = ", ".join(f"'{d}'" for d in dims)
    con.query(f"CREATE OR REPLACE MODEL ds.ca OPTIONS(model_type='CONTRIBUTION_ANALYSIS', contribution_metric='{metric}', "
              f"dimension_id_cols=[{dim_list}], is_test_col='is_test'{options}) AS SELECT {select} FROM ds.sales")  # fmt: skip
    return con.query("SELECT * FROM ML.GET_INSIGHTS(MODEL ds.ca)").arrow()


def _assert_equal(got: pa.Table, expected: list[dict], kind: str, dims=DIMENSIONS) -> None:
    schema = [("contributors", pa.list_(pa.string())), *((d, DIMENSION_TYPES[d]) for d in dims), *((c, pa.float64()) for c in COLUMNS[kind])]
    assert [(f.name, f.type) for f in got.schema] == schema
    assert got.column("contributors").to_pylist() == [contributors(row, dims) for row in expected]
    for d in dims:
        assert got.column(d).to_pylist() == [row["items"].get(d) for row in expected]
    for column in COLUMNS[kind]:
        values = np.array(got.column(column).to_pylist(), dtype=float)
        np.testing.assert_allclose(values, [row[column] for row in expected], rtol=1e-7 if "shapley" in column else 1e-10, atol=1e-13)


@pytest.mark.parametrize("kind", list(METRICS))
@pytest.mark.parametrize("pruning", ["NO_PRUNING", "PRUNE_REDUNDANT_INSIGHTS"])
def test_insights_above_the_threshold_equal_pandas(ca_con, rows, kind, pruning):
    got = _create(ca_con, kind, f", min_apriori_support=0.07, pruning_method='{pruning}'")
    expected = reference_insights(rows, DIMENSIONS, kind, METRICS[kind][1], threshold=0.07, prune=pruning != "NO_PRUNING")
    _assert_equal(got, expected, kind)


@pytest.mark.parametrize("kind", list(METRICS))
def test_top_k_insights_by_apriori_support_equal_pandas(ca_con, rows, kind):
    got = _create(ca_con, kind, ", top_k_insights_by_apriori_support=12, pruning_method='PRUNE_REDUNDANT_INSIGHTS'")
    expected = reference_insights(rows, DIMENSIONS, kind, METRICS[kind][1], top_k=12, prune=True)
    assert got.num_rows == 12
    _assert_equal(got, expected, kind)


def test_the_default_threshold_is_a_tenth_and_pruning_is_off(ca_con, rows):
    got = _create(ca_con, "summable")
    _assert_equal(got, reference_insights(rows, DIMENSIONS, "summable", ("sales",), threshold=0.1), "summable")


def test_min_apriori_support_zero_keeps_every_segment(ca_con, rows):
    dims = ["region", "device", "tier"]
    got = _create(ca_con, "summable", ", min_apriori_support=0", dims=dims)
    expected = reference_insights(rows, dims, "summable", ("sales",), threshold=0.0)
    assert got.num_rows == 1 + 3 + 2 + 3 + 6 + 9 + 6 + 18
    _assert_equal(got, expected, "summable", dims)


def test_the_planted_segment_has_the_largest_unexpected_difference(ca_con):
    got = _create(ca_con, "summable", ", min_apriori_support=0.05, pruning_method='PRUNE_REDUNDANT_INSIGHTS'").to_pylist()
    top = max((row for row in got if row["contributors"] != ["all"]), key=lambda row: row["unexpected_difference"])
    assert top["contributors"] == ["region=EU", "continent=Europe", "device=mobile"]
    assert top["relative_unexpected_difference"] > 1.0
    assert not any(row["contributors"] == ["region=EU", "device=mobile"] for row in got)  # pruned: continent adds nothing


def test_the_all_row_expects_the_control_value(ca_con, rows):
    got = _create(ca_con, "summable", ", min_apriori_support=0.2").to_pylist()
    everything = next(row for row in got if row["contributors"] == ["all"])
    test, control = rows.sales[rows.is_test].sum(), rows.sales[~rows.is_test].sum()
    assert everything["unexpected_difference"] == everything["difference"] == test - control
    assert everything["apriori_support"] == 1.0 and everything["region"] is None


def test_attributions_of_a_partition_add_up_to_the_ratio_change(ca_con):
    got = _create(ca_con, "summable_ratio", ", min_apriori_support=0").to_pylist()
    everything = next(row for row in got if row["contributors"] == ["all"])
    assert everything["aumann_shapley_attribution"] == pytest.approx(everything["metric_test"] - everything["metric_control"], rel=1e-12)
    regions = [row["aumann_shapley_attribution"] for row in got if len(row["contributors"]) == 1 and row["contributors"][0].startswith("region=")]
    assert sum(regions) == pytest.approx(everything["aumann_shapley_attribution"], rel=1e-9)
    assert everything["metric_test_over_complement"] is None and everything["metric_control_over_complement"] is None


def test_omitted_dimension_id_cols_are_the_other_columns(ca_con, rows):
    ca_con.query("CREATE OR REPLACE MODEL ds.ca OPTIONS(model_type='contribution_analysis', contribution_metric='sum(sales)', "
                 "is_test_col='is_test') AS SELECT tier, device, sales, is_test FROM ds.sales")  # fmt: skip
    got = ca_con.query("SELECT * FROM ML.GET_INSIGHTS(MODEL ds.ca)").arrow()
    _assert_equal(got, reference_insights(rows, ["tier", "device"], "summable", ("sales",)), "summable", ["tier", "device"])


def test_rows_with_a_null_dimension_are_left_out(ca_con, rows):
    ca_con.query("CREATE OR REPLACE MODEL ds.ca OPTIONS(model_type='contribution_analysis', contribution_metric='SUM(sales)', "
                 "is_test_col='is_test', dimension_id_cols=['device', 'region']) AS "
                 "SELECT IF(tier = 1, NULL, device) AS device, region, sales, is_test FROM ds.sales")  # fmt: skip
    got = ca_con.query("SELECT * FROM ML.GET_INSIGHTS(MODEL ds.ca)").arrow()
    kept = rows[rows.tier != 1]
    _assert_equal(got, reference_insights(kept, ["device", "region"], "summable", ("sales",)), "summable", ["device", "region"])


def test_insights_are_read_back_from_the_store(tmp_path, rows):
    """The arrays the model keeps give the same rows in a new process's connection."""
    import sqlml

    statement = ("CREATE MODEL ds.ca OPTIONS(model_type='contribution_analysis', contribution_metric='SUM(sales)/COUNT(DISTINCT month)', "
                 "is_test_col='is_test', dimension_id_cols=['region', 'tier', 'member'], min_apriori_support=0.05) "
                 "AS SELECT region, tier, member, is_test, sales, month FROM sales_frame")  # fmt: skip
    with sqlml.connect(tmp_path / "w", tmp_path / "m", idle_release=0) as con:
        con.register("sales_frame", rows)
        con.query("CREATE SCHEMA ds")
        con.query(statement)
        before = con.query("SELECT * FROM ML.GET_INSIGHTS(MODEL ds.ca)").arrow()
    with sqlml.connect(tmp_path / "w", tmp_path / "m", idle_release=0) as con:
        after = con.query("SELECT * FROM ML.GET_INSIGHTS(MODEL ds.ca)").arrow()
    assert after.equals(before)
    expected = reference_insights(rows, ["region", "tier", "member"], "summable_by_category", ("sales", "month"), threshold=0.05)
    _assert_equal(after, expected, "summable_by_category", ["region", "tier", "member"])


def test_top_k_above_the_number_of_segments_returns_them_all(ca_con, rows):
    dims = ["region", "device", "tier"]
    got = _create(ca_con, "summable_ratio", ", top_k_insights_by_apriori_support=1000", dims=dims)
    expected = reference_insights(rows, dims, "summable_ratio", ("sales", "clicks"), top_k=1000)
    assert got.num_rows == len(expected) == 48
    _assert_equal(got, expected, "summable_ratio", dims)
