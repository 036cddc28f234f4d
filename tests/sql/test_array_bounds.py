"""BigQuery's array subscripts on DuckDB (sqlml.sql.generator_fixes): OFFSET and ORDINAL fail past
either end with the Spark engine's message and the SAFE_ form as the hint; SAFE_OFFSET and
SAFE_ORDINAL give NULL. DuckDB's own subscript gave NULL, and read ORDINAL(-1) as the last element.
https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#array_subscript_operator
"""

from __future__ import annotations

import pytest

import sqlml

#: (subscript of [1, 2], its index as a column x, message, hint)
OUT_OF_BOUNDS = [
    ("OFFSET(x)", 5, "Array offset 5 is out of bounds: the array has 2 elements", "Use SAFE_OFFSET to get NULL instead."),
    ("OFFSET(x)", 2, "Array offset 2 is out of bounds: the array has 2 elements", "Use SAFE_OFFSET to get NULL instead."),
    ("OFFSET(x)", -1, "Array offset -1 is out of bounds: the array has 2 elements", "Use SAFE_OFFSET to get NULL instead."),
    ("ORDINAL(x)", 3, "Array ordinal 3 is out of bounds: the array has 2 elements", "Use SAFE_ORDINAL to get NULL instead."),
    ("ORDINAL(x)", 0, "Array ordinal 0 is out of bounds: the array has 2 elements", "Use SAFE_ORDINAL to get NULL instead."),
    ("ORDINAL(x)", -1, "Array ordinal -1 is out of bounds: the array has 2 elements", "Use SAFE_ORDINAL to get NULL instead."),
]


@pytest.mark.parametrize(("subscript", "index", "message", "hint"), OUT_OF_BOUNDS, ids=[f"{c[0][:-3]}{c[1]}" for c in OUT_OF_BOUNDS])
def test_subscript_past_either_end_fails(con, subscript, index, message, hint):
    with pytest.raises(sqlml.ExecutionError) as caught:
        con.query(f"SELECT [1, 2][{subscript}] FROM UNNEST([{index}]) AS x").fetchall()
    assert (caught.value.message, caught.value.hint) == (message, hint)


def test_literal_offset_past_the_end_fails(con):
    with pytest.raises(sqlml.ExecutionError, match=r"^Array offset 5 is out of bounds: the array has 2 elements\n"):
        con.query("SELECT [1, 2][OFFSET(5)]").fetchall()


def test_subscripts_within_bounds_and_null_operands(con):
    row = con.query(
        "SELECT a[OFFSET(0)], a[OFFSET(2)], a[ORDINAL(1)], a[ORDINAL(3)], a[OFFSET(n)], a[ORDINAL(n)], e[OFFSET(0)] "
        "FROM (SELECT [10, 20, 30] AS a, CAST(NULL AS INT64) AS n, CAST(NULL AS ARRAY<INT64>) AS e)"
    ).fetchall()
    assert row == [(10, 30, 10, 30, None, None, None)]  # a NULL index or array gives NULL, as in BigQuery


def test_safe_subscripts_stay_null_past_either_end(con):
    row = con.query(
        "SELECT a[SAFE_OFFSET(2)], a[SAFE_OFFSET(-1)], a[SAFE_ORDINAL(0)], a[SAFE_ORDINAL(3)], a[SAFE_ORDINAL(2)] FROM (SELECT [1, 2] AS a)"
    ).fetchall()
    assert row == [(None, None, None, None, 2)]


def test_safe_prefix_does_not_hide_its_arguments_bounds_error(con):
    # SAFE. covers the prefixed function only, not the errors of its arguments
    with pytest.raises(sqlml.ExecutionError, match=r"^Array offset 3 is out of bounds: the array has 1 elements\n"):
        con.query("SELECT SAFE.ABS([1][OFFSET(3)])").fetchall()
