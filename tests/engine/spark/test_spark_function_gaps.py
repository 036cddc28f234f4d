"""tests/sql/test_function_gaps.py's BigQuery results on the Spark engine, which reads the front
end's DuckDB SQL back (:mod:`sqlml.engine.spark.functions`): few statements, each holding many calls.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

import pytest

import sqlml

pytestmark = pytest.mark.slow  # Spark queries

UTC = datetime.timezone.utc


def test_numbers(spark_con):
    row = spark_con.query(
        "SELECT SEC(1.0), CSC(1.0), COTH(1.0), SECH(1.0), CSCH(1.0), SECH(CAST('-inf' AS FLOAT64)), COTH(CAST('-inf' AS FLOAT64)), "
        "SAFE.CSC(0), PI(), PI_NUMERIC(), PARSE_NUMERIC('  -  12.34 '), PARSE_NUMERIC('12.34e-1-'), PARSE_BIGNUMERIC('1.0123456789'), "
        "SAFE.PARSE_NUMERIC('1 2'), SAFE_CAST('0x1A' AS INT64), SAFE_CAST('-0x1A' AS INT64)"
    ).fetchall()[0]
    expected = [1 / math.cos(1), 1 / math.sin(1), 1 / math.tanh(1), 1 / math.cosh(1), 1 / math.sinh(1)]
    assert row[:5] == pytest.approx(expected, rel=1e-12)
    assert row[5:] == (0.0, -1.0, None, math.pi, Decimal("3.141592654"), Decimal("-12.34"), Decimal("-1.234"), Decimal("1.012345679"), None, 26, -26)
    hex_rows = spark_con.query("SELECT CAST(a AS INT64), SAFE_CAST(b AS INT64) FROM UNNEST([STRUCT(' 0x1a' AS a, '0x' AS b), ('-0X1A', '0x1A')]) ORDER BY 1")
    assert hex_rows.fetchall() == [(-26, 26), (26, None)]  # hex digits of a column, as DuckDB reads them
    with pytest.raises(sqlml.Error, match=r"Floating point error in function: CSCH\(0"):
        spark_con.query("SELECT CSCH(0)").fetchall()
    with pytest.raises(sqlml.Error, match=r"Invalid NUMERIC value: 1 2"):
        spark_con.query("SELECT PARSE_NUMERIC('1 2')").fetchall()


def test_arrays(spark_con):
    rows = spark_con.query(
        "SELECT ARRAY_FIRST(a), ARRAY_LAST(a), ARRAY_CONCAT(['z'], a), ARRAY_CONCAT([1], [2]) FROM UNNEST([STRUCT(['a', 'b', 'c'] AS a), (NULL)]) ORDER BY 1"
    ).fetchall()
    assert rows == [(None, None, None, [1, 2]), ("a", "c", ["z", "a", "b", "c"], [1, 2])]
    with pytest.raises(sqlml.Error, match=r"ARRAY_FIRST cannot get the first element of an empty array"):
        spark_con.query("SELECT ARRAY_FIRST(CAST([] AS ARRAY<INT64>))").fetchall()
    with pytest.raises(sqlml.Error, match=r"(?i)ambiguous"):  # SELECT * REPLACE of a column both sides have
        spark_con.query("SELECT * REPLACE (1 AS x) FROM (SELECT 1 AS x, 2 AS y) a JOIN (SELECT 3 AS x, 4 AS z) b ON TRUE").fetchall()


def test_time_zones(spark_con):
    row = spark_con.query(
        "SELECT TIMESTAMP '2020-01-01 00:00:00-08', TIMESTAMP '2020-01-01 00:00:00 UTC+05:30', TIMESTAMP('2020-01-01 00:00:00', '+05:30'), "
        "TIMESTAMP('2020-01-01', 'America/Los_Angeles'), FORMAT_TIMESTAMP('%H:%M', TIMESTAMP '2020-01-01 12:00:00+00', '+05:30'), "
        "DATE(TIMESTAMP '2020-01-01 03:00:00+00', '-08'), GENERATE_TIMESTAMP_ARRAY('2016-10-05 00:00:00', '2016-10-06 00:00:00', INTERVAL 1 DAY)"
    ).fetchall()[0]
    eight, half_past_six = datetime.datetime(2020, 1, 1, 8, tzinfo=UTC), datetime.datetime(2019, 12, 31, 18, 30, tzinfo=UTC)
    days = [datetime.datetime(2016, 10, day, tzinfo=UTC) for day in (5, 6)]
    assert row == (eight, half_past_six, half_past_six, eight, "17:30", datetime.date(2019, 12, 31), days)
    zoned = spark_con.query(
        "SELECT DATETIME(ts, 'America/Los_Angeles'), DATETIME(ts, '+05:30'), PARSE_TIMESTAMP('%Y-%m-%d %H', '2020-01-02 03'), "
        "PARSE_TIMESTAMP('%Y-%m-%d %H', '2020-01-02 03', 'America/Los_Angeles'), SAFE.PARSE_TIMESTAMP('%Y', 'x'), STRING(ts, 'America/Los_Angeles'), "
        "STRING(ts, '+05:30') FROM (SELECT TIMESTAMP '2020-01-01 12:00:00+00' AS ts)"
    )
    parsed = [datetime.datetime(2020, 1, 2, hour, tzinfo=UTC) for hour in (3, 11)]
    texts = ("2020-01-01 04:00:00-08", "2020-01-01 17:30:00+05:30")
    assert zoned.fetchall() == [(datetime.datetime(2020, 1, 1, 4), datetime.datetime(2020, 1, 1, 17, 30), *parsed, None, *texts)]


def test_texts(spark_con):
    row = spark_con.query(
        "SELECT FORMAT('%T | %t | %T', 'a\"b', 'x', DATE '2020-01-01'), CAST(DATE '2020-01-02' AS STRING FORMAT 'MON DD, YYYY'), "
        "CAST(INTERVAL -90 MINUTE AS STRING), CAST(INTERVAL 14 MONTH AS STRING), FORMAT_TIME('%T', TIME '12:34:56')"
    ).fetchall()[0]
    assert row == ('"a\\"b" | x | DATE "2020-01-01"', "JAN 02, 2020", "0-0 0 -1:30:0", "1-2 0 0:0:0", "12:34:56")


def test_approx_top_sum(spark_con):
    rows = spark_con.query("SELECT APPROX_TOP_SUM(x, weight, 3) FROM UNNEST([STRUCT('apple' AS x, 3 AS weight), ('pear', NULL), (NULL, 2), ('apple', 1)])").fetchall()
    assert rows == [([{"value": "apple", "sum": 4}, {"value": None, "sum": 2}, {"value": "pear", "sum": None}],)]
