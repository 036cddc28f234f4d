"""BigQuery functions whose Spark function of the same name answers differently (engine/spark/
functions.py, numbers.py, lists.py, datetimes.py): each class of them gives BigQuery's answer on
Spark as on DuckDB. One query per class, run on both engines."""

from __future__ import annotations

import math
from datetime import date, datetime, timezone

import pytest

import sqlml


def test_ieee_divide_gives_infinities_and_nan_for_a_zero_divisor(engine):
    (row,) = engine.query(
        "SELECT IEEE_DIVIDE(x, 0), IEEE_DIVIDE(-x, 0.0), IEEE_DIVIDE(0, 0), IEEE_DIVIDE(2.5, 0.5), "
        "IEEE_DIVIDE(CAST(NULL AS INT64), 0), IEEE_DIVIDE(RAND() + 1, 0) FROM (SELECT 3 AS x)"
    ).fetchall()
    assert (row[0], row[1], row[3], row[4], row[5]) == (math.inf, -math.inf, 5.0, None, math.inf)
    assert math.isnan(row[2])


def test_sign_keeps_its_argument_type_and_log_is_exact_in_base_10(engine):
    (row,) = engine.query(
        "SELECT SIGN(x), SIGN(-x), SIGN(0), SIGN(-2.5), SIGN(CAST(NULL AS INT64)), "
        "LOG(1000, 10), LOG10(0.001), LOG(8, 2), LOG10(100000) FROM (SELECT 7 AS x)"
    ).fetchall()
    assert row == (1, -1, 0, -1.0, None, 3.0, -3.0, 3.0, 5.0)
    assert [type(value) for value in row[:3]] == [int, int, int]  # INT64 for INT64, not Spark's DOUBLE


def test_safe_subscripts_are_null_outside_the_array(engine):
    (row,) = engine.query(
        "SELECT a[SAFE_OFFSET(3)], a[SAFE_ORDINAL(0)], a[SAFE_OFFSET(-1)], a[SAFE_OFFSET(-2)], "
        "a[SAFE_ORDINAL(3)], a[SAFE_OFFSET(i)], a[OFFSET(1)], a[ORDINAL(1)] FROM (SELECT [10, 20, 30] AS a, 2 AS i)"
    ).fetchall()
    assert row == (None, None, None, None, 30, 30, 20, 10)


@pytest.mark.slow  # a Spark query
def test_offset_past_the_end_fails_on_spark(spark_con):
    with pytest.raises(sqlml.Error, match=r"^Array offset 3 is out of bounds: the array has 2 elements\n"):
        spark_con.query("SELECT a[OFFSET(3)] FROM (SELECT [1, 2] AS a)").fetchall()


def test_limited_aggregates_and_range_bucket_count_list_elements(engine):
    rows = engine.query(
        "SELECT STRING_AGG(x, '-' ORDER BY x DESC LIMIT 2), STRING_AGG(DISTINCT x ORDER BY x LIMIT 2), ARRAY_AGG(x ORDER BY x LIMIT 2), "
        "RANGE_BUCKET(20, [0, 10, 20, 30]), RANGE_BUCKET(-1, [0, 10]) FROM UNNEST(['c', 'a', 'b', 'a']) AS x"
    ).fetchall()
    assert rows == [("c-b", "a,b", ["a", "a"], 3, 0)]


def test_approx_top_count_counts_per_group_most_frequent_first(engine):
    # ties are ordered by value, greatest first, as the DuckDB front end sorts them
    rows = engine.query(
        "SELECT g, APPROX_TOP_COUNT(x, 2), APPROX_TOP_COUNT(n, 1) FROM UNNEST([STRUCT(1 AS g, 'b' AS x, 5 AS n), "
        "(1, 'a', 5), (1, 'b', 6), (1, 'a', 5), (1, 'c', 6), (2, 'z', 7)]) GROUP BY g ORDER BY g"
    ).fetchall()
    assert rows == [
        (1, [{"value": "b", "count": 2}, {"value": "a", "count": 2}], [{"value": 5, "count": 3}]),
        (2, [{"value": "z", "count": 1}], [{"value": 7, "count": 1}]),
    ]


def test_datetime_functions_give_datetimes_without_a_time_zone(engine):
    (row,) = engine.query(
        "SELECT DATETIME_TRUNC(d, HOUR), DATETIME_TRUNC(d, WEEK), DATETIME_TRUNC(d, MONTH), DATETIME(2020, 5, 17, 1, 2, 3), "
        "PARSE_DATETIME('%Y-%m-%d %H:%M', '2020-05-17 13:45'), PARSE_DATETIME('%H:%M', '13:45'), DATETIME_ADD(d, INTERVAL 1 HOUR), "
        "TIMESTAMP_TRUNC(TIMESTAMP '2020-05-17 13:45:12+00', HOUR), SAFE.PARSE_DATETIME('%Y-%m-%d', 'nope'), "
        "SAFE.PARSE_DATE('%Y%m%d', '20210102') FROM (SELECT DATETIME '2020-05-17 13:45:12' AS d)"
    ).fetchall()
    assert row == (
        datetime(2020, 5, 17, 13),
        datetime(2020, 5, 17),
        datetime(2020, 5, 1),
        datetime(2020, 5, 17, 1, 2, 3),
        datetime(2020, 5, 17, 13, 45),
        datetime(1970, 1, 1, 13, 45),
        datetime(2020, 5, 17, 14, 45, 12),
        datetime(2020, 5, 17, 13, tzinfo=timezone.utc),
        None,
        date(2021, 1, 2),
    )
    assert [value.tzinfo for value in row[:7]] == [None] * 7


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("LN(x - 2)", "Floating point error in function: LN(0)"),  # Spark's LN is NULL at 0, DuckDB's -inf
        ("LOG10(x - 3)", "Floating point error in function: LOG(-1, 10)"),  # NULL below 0, DuckDB's NaN
        ("EXP(1000)", "Floating point error in function: EXP(1000)"),  # +inf
    ],
)
def test_math_functions_fail_where_bigquery_does(engine, call, message):
    with pytest.raises(sqlml.ExecutionError) as caught:
        engine.query(f"SELECT {call} FROM UNNEST([2]) AS x").fetchall()
    assert caught.value.message == message


def test_string_functions_written_with_list_lambdas_and_type_dispatch(engine):
    # INITCAP reads DuckDB's 1-based lambda index (Spark's is 0-based); BYTE_LENGTH of a value of
    # unknown type dispatches on TYPEOF, whose names differ (BLOB / binary)
    rows = engine.query(
        "SELECT INITCAP(s), BYTE_LENGTH(s), BYTE_LENGTH(b), LENGTH(b) "
        "FROM (SELECT 'hello wörld' AS s, FROM_BASE64('qrs=') AS b)"
    ).fetchall()
    assert rows == [("Hello Wörld", 12, 2, 2)]


def test_regexp_extract_and_date_parts_spark_spells_otherwise(engine):
    rows = engine.query(
        "SELECT REGEXP_EXTRACT('abc123def', r'([a-z]+)\\d'), REGEXP_EXTRACT('abc', r'\\d'), EXTRACT(DAYOFYEAR FROM d), "
        "EXTRACT(ISOYEAR FROM d), EXTRACT(ISOWEEK FROM d) FROM (SELECT DATE '2021-01-01' AS d)"
    ).fetchall()
    assert rows == [("abc", None, 1, 2020, 53)]


def test_bytes_literals_and_percentile_cont_window(engine):
    rows = engine.query(
        "SELECT LENGTH(b'\\xaa\\xbb'), BYTE_LENGTH(b'ab'), b'\\x00a', PERCENTILE_CONT(x, 0.5) OVER () FROM UNNEST([1, 2, 3, 10]) AS x LIMIT 1"
    ).fetchall()
    assert rows == [(2, 2, b"\x00a", 2.5)]


def test_json_value_is_null_for_objects_arrays_and_json_null(engine):
    (row,) = engine.query(
        "SELECT JSON_VALUE(j, '$.a.b'), JSON_VALUE(j, '$.a'), JSON_VALUE(j, '$.c'), JSON_VALUE(j, '$.d'), "
        "JSON_VALUE(j, '$.e'), JSON_VALUE(j, '$.f'), JSON_VALUE(j, '$.g') "
        "FROM (SELECT '{\"a\": {\"b\": 3}, \"c\": [1], \"d\": null, \"e\": \"x\", \"f\": \"{\\\\\"k\\\\\": 1}\"}' AS j)"
    ).fetchall()
    assert row == ("3", None, None, None, "x", '{"k": 1}', None)


def test_datetime_of_a_date_and_a_time_is_the_dates_wall_clock_time(engine):
    assert engine.query(
        "SELECT DATETIME(DATE '2020-01-01', TIME '01:02:03.25'), DATETIME(d, CAST(t AS TIME)) "
        "FROM (SELECT DATE '2021-03-04' AS d, '23:59:59' AS t)"
    ).fetchall() == [(datetime(2020, 1, 1, 1, 2, 3, 250000), datetime(2021, 3, 4, 23, 59, 59))]


def test_list_concat_reads_a_null_list_as_empty_on_spark():
    # DuckDB's LIST_CONCAT skips a NULL list (the front end's APPROX_TOP_COUNT appends its NULLs' count so); Spark's CONCAT is NULL
    from sqlml.engine.spark.translate import parse, to_spark

    (tree,) = parse("SELECT LIST_CONCAT(a, [1], b) FROM t")
    assert to_spark(tree) == "SELECT CONCAT(COALESCE(a, ARRAY()), ARRAY(1), COALESCE(b, ARRAY())) FROM t"
