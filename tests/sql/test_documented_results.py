"""Examples from BigQuery's function reference whose DuckDB translation gave another answer, each
with the result the reference documents: APPROX_TOP_COUNT counts NULLs, CURRENT_DATETIME and
CURRENT_TIME take a time zone, subscripts chain (a[OFFSET(0)][OFFSET(1)]), and a bare x[i] is an
ARRAY's offset or a JSON array's 0-based element.
https://cloud.google.com/bigquery/docs/reference/standard-sql/approximate_aggregate_functions#approx_top_count
https://cloud.google.com/bigquery/docs/reference/standard-sql/datetime_functions#current_datetime
https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#array_subscript_operator
https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#json_subscript_operator
"""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest

import sqlml


def test_approx_top_count_counts_nulls(con):
    # "APPROX_TOP_COUNT doesn't ignore NULLs in the input": [{pear, 3}, {NULL, 2}]
    rows = con.query('SELECT APPROX_TOP_COUNT(x, 2) AS t FROM UNNEST([NULL, "pear", "pear", "pear", "apple", NULL]) AS x').fetchall()
    assert rows == [([{"value": "pear", "count": 3}, {"value": None, "count": 2}],)]


def test_approx_top_count_of_no_rows_is_null(con):
    # "Returns NULL if there are zero input rows."
    assert con.query("SELECT APPROX_TOP_COUNT(x, 2) FROM UNNEST(CAST([] AS ARRAY<STRING>)) AS x").fetchall() == [(None,)]


def test_current_datetime_and_time_in_a_time_zone(con):
    table = con.query(
        "SELECT CURRENT_DATETIME() AS utc, CURRENT_DATETIME AS bare, CURRENT_DATETIME('Asia/Kolkata') AS kolkata, "
        "CURRENT_TIME('Asia/Kolkata') AS kolkata_time, CURRENT_TIMESTAMP() AS now"
    ).arrow()
    assert table.schema.field("utc").type == pa.timestamp("us") and table.schema.field("kolkata_time").type == pa.time64("us")
    row = table.to_pylist()[0]
    now = row["now"].astimezone(datetime.timezone.utc).replace(tzinfo=None)
    assert abs(row["utc"] - now) < datetime.timedelta(seconds=5) and abs(row["bare"] - now) < datetime.timedelta(seconds=5)
    assert abs(row["kolkata"] - now - datetime.timedelta(hours=5, minutes=30)) < datetime.timedelta(seconds=5)  # UTC+05:30
    assert row["kolkata_time"] == row["kolkata"].time() or abs(datetime.datetime.combine(row["kolkata"].date(), row["kolkata_time"]) - row["kolkata"]) < datetime.timedelta(seconds=5)


def test_chained_offsets(con):
    rows = con.query("SELECT a[OFFSET(0)][OFFSET(1)], a[ORDINAL(1)][SAFE_OFFSET(5)], a[SAFE_ORDINAL(1)][ORDINAL(1)] FROM (SELECT [[10, 20]] AS a)")
    assert rows.fetchall() == [(20, None, 10)]
    with pytest.raises(sqlml.ExecutionError, match=r"^Array offset 2 is out of bounds: the array has 2 elements\n"):
        con.query("SELECT a[OFFSET(0)][OFFSET(2)] FROM (SELECT [[10, 20]] AS a)").fetchall()


def test_bare_subscripts_of_arrays_and_json(con):
    # ["coffee", "tea", "milk"][0] is "coffee" (as OFFSET(0)); json_col[0] is the first element, json_col['k'] a field
    rows = con.query(
        "SELECT ['coffee', 'tea', 'milk'][0], a[i], a[0], j[0], j[1], j[2], k['x'][0] "
        "FROM (SELECT [10, 20, 30] AS a, 1 AS i, JSON '[10, 20]' AS j, JSON '{\"x\": [5]}' AS k)"
    ).fetchall()
    assert [str(value) if value is not None else None for value in rows[0]] == ["coffee", "20", "10", "10", "20", None, "5"]
    with pytest.raises(sqlml.ExecutionError, match=r"^Array index 6 is out of bounds: the array has 3 elements\n"):  # the reference: "Array index 6 is out of bounds"
        con.query("SELECT ['coffee', 'tea', 'milk'][6]").fetchall()


def test_array_slice_takes_zero_based_inclusive_offsets(con):
    # the reference's examples: 0-based, inclusive, negative from the end, out of bounds moved or empty
    row = con.query(
        "SELECT ARRAY_SLICE(a, 1, 3), ARRAY_SLICE(a, -1, 3), ARRAY_SLICE(a, 1, -3), ARRAY_SLICE(a, -3, -1), ARRAY_SLICE(a, 3, 3), "
        "ARRAY_SLICE(a, 1, 30), ARRAY_SLICE(a, 5, 30), ARRAY_SLICE(a, -30, 0), ARRAY_SLICE(a, NULL, 1) FROM (SELECT ['a', 'b', 'c', 'd', 'e'] AS a)"
    ).fetchall()
    assert row == [(["b", "c", "d"], [], ["b", "c"], ["c", "d", "e"], ["d"], ["b", "c", "d", "e"], [], ["a"], None)]


def test_array_concat_agg_keeps_order_and_limit(con):
    arrays = "(SELECT [1, 2, 3, 4] AS x UNION ALL SELECT [5, 6] UNION ALL SELECT [7, 8, 9])"
    row = con.query(
        f"SELECT (SELECT ARRAY_CONCAT_AGG(x ORDER BY ARRAY_LENGTH(x) DESC LIMIT 2) FROM {arrays}), "
        f"(SELECT ARRAY_CONCAT_AGG(x ORDER BY ARRAY_LENGTH(x) LIMIT 2) FROM {arrays}), "
        f"(SELECT ARRAY_CONCAT_AGG(x ORDER BY ARRAY_LENGTH(x)) FROM {arrays})"
    ).fetchall()
    # the reference: [5, 6, 7, 8, 9] for ORDER BY ARRAY_LENGTH(x) LIMIT 2 (sqlglot dropped both clauses)
    assert row == [([1, 2, 3, 4, 7, 8, 9], [5, 6, 7, 8, 9], [5, 6, 7, 8, 9, 1, 2, 3, 4])]


def test_corr_of_fewer_than_two_pairs_is_null(con):
    # "If there are fewer than two input pairs without NULL values, this function returns NULL" (DuckDB: NaN)
    row = con.query("SELECT CORR(y, x) FROM UNNEST([STRUCT(1.0 AS y, NULL AS x), (9.0, 3.0)])").fetchall()
    assert row == [(None,)]
    (value,) = con.query("SELECT CORR(y, x) FROM UNNEST([STRUCT(1.0 AS y, 5.0 AS x), (3.0, 6.0), (9.0, 3.0)])").fetchall()[0]
    assert value == pytest.approx(-0.8386278693775344)  # numpy.corrcoef([1, 3, 9], [5, 6, 3])


def test_code_points_to_string_of_a_null_code_point_is_null(con):
    # the reference: CODE_POINTS_TO_STRING([65, 255, NULL, 1024]) is NULL
    row = con.query("SELECT CODE_POINTS_TO_STRING([65, 255, NULL, 1024]), CODE_POINTS_TO_STRING([65, 255, 513, 1024])").fetchall()
    assert row == [(None, "AÿȁЀ")]
