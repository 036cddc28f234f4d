"""BigQuery functions DuckDB lacked or answered otherwise (:mod:`sqlml.sql.function_gaps`), each with
the result BigQuery's reference documents; the Spark engine runs the same battery in
tests/engine/spark/test_spark_function_gaps.py.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

import pytest

import sqlml

UTC = datetime.timezone.utc


def test_reciprocal_trigonometric_functions(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#sec (and #csc, #coth, #sech, #csch)
    row = con.query("SELECT SEC(1.0), CSC(1.0), COTH(1.0), SECH(1.0), CSCH(1.0), SEC(CAST('inf' AS FLOAT64)), SECH(CAST('-inf' AS FLOAT64)), COTH(CAST('-inf' AS FLOAT64)), CSCH(1000.0)").fetchall()[0]
    expected = [1 / math.cos(1), 1 / math.sin(1), 1 / math.tanh(1), 1 / math.cosh(1), 1 / math.sinh(1)]
    assert row[:5] == pytest.approx(expected, rel=1e-12)
    assert math.isnan(row[5]) and row[6:] == (0.0, -1.0, 0.0)  # SEC(±inf) NaN, SECH(±inf) 0, COTH(-inf) -1


@pytest.mark.parametrize("call", ["CSC(0)", "COTH(0.0)", "CSCH(0)"])
def test_reciprocal_of_zero_is_an_error_and_safe_null(con, call):
    # "X = 0: Error"; the SAFE. prefix returns NULL instead
    name = call.split("(")[0]
    with pytest.raises(sqlml.ExecutionError, match=rf"^Floating point error in function: {name}\(0"):
        con.query(f"SELECT {call}").fetchall()
    assert con.query(f"SELECT SAFE.{call}").fetchall() == [(None,)]


def test_parse_numeric(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_functions#parse_numeric
    row = con.query(
        "SELECT PARSE_NUMERIC('123.45'), PARSE_NUMERIC('  -  12.34 '), PARSE_NUMERIC('12.34e-1-'), PARSE_NUMERIC('1.0123456789'), "
        "PARSE_NUMERIC('.1'), PARSE_NUMERIC('12.34E27'), PARSE_BIGNUMERIC('+1.5e3'), PARSE_NUMERIC(NULL), SAFE.PARSE_NUMERIC('1 2')"
    ).fetchall()[0]
    assert row == (Decimal("123.45"), Decimal("-12.34"), Decimal("-1.234"), Decimal("1.012345679"), Decimal("0.1"), Decimal("12340000000000000000000000000"), Decimal("1500"), None, None)


@pytest.mark.parametrize("text", ["1 2", "- 1 -", "1.2.3", "e1", "--1", ""])
def test_parse_numeric_refuses_malformed_text(con, text):
    with pytest.raises(sqlml.ExecutionError, match=rf"^Invalid NUMERIC value: {text}\n"):
        con.query(f"SELECT PARSE_NUMERIC('{text}')").fetchall()


def test_pi(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#pi
    assert con.query("SELECT PI(), PI_NUMERIC(), PI_BIGNUMERIC()").fetchall() == [(math.pi, Decimal("3.141592654"), Decimal("3.141592654"))]


def test_array_first_and_last(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#array_first
    rows = con.query("SELECT ARRAY_FIRST(a), ARRAY_LAST(a), SAFE.ARRAY_LAST(CAST([] AS ARRAY<STRING>)) FROM UNNEST([STRUCT(['a', 'b', 'c'] AS a), (NULL)]) ORDER BY 1").fetchall()
    assert rows == [(None, None, None), ("a", "c", None)]
    with pytest.raises(sqlml.ExecutionError, match=r"^ARRAY_LAST cannot get the last element of an empty array\n"):
        con.query("SELECT ARRAY_LAST(CAST([] AS ARRAY<INT64>))").fetchall()


def test_array_concat_of_a_null_array_is_null(con):
    # "The function returns NULL if any input argument is NULL."
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#array_concat
    rows = con.query("SELECT ARRAY_CONCAT([1, 2], a), ARRAY_CONCAT([1], [2], [3]) FROM UNNEST([STRUCT([3] AS a), (NULL)]) ORDER BY 1").fetchall()
    assert rows == [(None, [1, 2, 3]), ([1, 2, 3], [1, 2, 3])]


def test_approx_top_sum(con):
    # the reference's three examples: NULL values and NULL weights are not ignored; NULL for no rows
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/approximate_aggregate_functions#approx_top_sum
    examples = [
        "STRUCT('apple' AS x, 3 AS weight), ('pear', 2), ('apple', 0), ('banana', 5), ('pear', 4)",
        "STRUCT('apple' AS x, NULL AS weight), ('pear', 0), ('pear', NULL)",
        "STRUCT('apple' AS x, 0 AS weight), (NULL, 2)",
    ]
    rows = [con.query(f"SELECT APPROX_TOP_SUM(x, weight, 2) FROM UNNEST([{rows}])").fetchall()[0][0] for rows in examples]
    assert rows == [
        [{"value": "pear", "sum": 6}, {"value": "banana", "sum": 5}],
        [{"value": "pear", "sum": 0}, {"value": "apple", "sum": None}],
        [{"value": None, "sum": 2}, {"value": "apple", "sum": 0}],
    ]
    assert con.query("SELECT APPROX_TOP_SUM(x, 1.5, 2) FROM UNNEST(CAST([] AS ARRAY<STRING>)) AS x").fetchall() == [(None,)]


def test_format_time_of_a_time(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/time_functions#format_time
    assert con.query("SELECT FORMAT_TIME('%T', TIME '12:34:56'), FORMAT_TIME('%H', t) FROM (SELECT TIME '01:02:03' AS t)").fetchall() == [("12:34:56", "01")]


def test_format_t_writes_literals(con):
    # "%T: Produces a string that is a valid GoogleSQL constant" (a quoted STRING, DATE "…", b"…")
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#format_string
    row = con.query(
        "SELECT FORMAT('%T', 'abc'), FORMAT('%t', 'abc'), FORMAT('%T', 'a\"b\\\\c'), FORMAT('%T', DATE '2020-01-01'), FORMAT('%T', b'ab'), "
        "FORMAT('%T', CAST(NULL AS STRING)), FORMAT('%T', 5), FORMAT('%T', TIMESTAMP '2011-02-03 04:05:06+00'), FORMAT('%T | %t | %T', s, s, d) "
        "FROM (SELECT 'x' AS s, DATETIME '2011-02-03 04:05:06' AS d)"
    ).fetchall()[0]
    assert row == ('"abc"', "abc", '"a\\"b\\\\c"', 'DATE "2020-01-01"', 'b"ab"', "NULL", "5", 'TIMESTAMP "2011-02-03 04:05:06+00"', '"x" | x | DATETIME "2011-02-03 04:05:06"')


def test_time_zone_offsets(con):
    # "(+|-)H[H][:M[M]]" offsets name time zones too
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#time_zones
    row = con.query(
        "SELECT TIMESTAMP '2020-01-01 00:00:00-08', TIMESTAMP '2020-01-01 00:00:00 UTC+05:30', TIMESTAMP('2020-01-01 00:00:00', '+05:30'), "
        "TIMESTAMP('2020-01-01 00:00:00', 'UTC-8'), TIMESTAMP('2020-01-01', 'America/Los_Angeles'), "
        "FORMAT_TIMESTAMP('%H:%M', TIMESTAMP '2020-01-01 12:00:00+00', '+05:30'), DATE(TIMESTAMP '2020-01-01 03:00:00+00', '-08'), "
        "EXTRACT(HOUR FROM TIMESTAMP '2020-01-01 12:00:00+00' AT TIME ZONE '-8')"
    ).fetchall()[0]
    eight, half_past_six = datetime.datetime(2020, 1, 1, 8, tzinfo=UTC), datetime.datetime(2019, 12, 31, 18, 30, tzinfo=UTC)
    assert row == (eight, half_past_six, half_past_six, eight, eight, "17:30", datetime.date(2019, 12, 31), 4)


def test_datetime_of_a_timestamp_column_in_a_time_zone(con):
    # DATETIME(timestamp_expression[, time_zone]); DATETIME(date, time) stays itself
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/datetime_functions#datetime
    row = con.query(
        "SELECT DATETIME(ts, 'America/Los_Angeles'), DATETIME(ts, '+05:30'), DATETIME(ts), DATETIME(d, '01:02:03') "
        "FROM (SELECT TIMESTAMP '2020-01-01 12:00:00+00' AS ts, DATE '2020-01-01' AS d)"
    ).fetchall()[0]
    assert row == tuple(datetime.datetime(2020, 1, 1, *time) for time in ((4, 0), (17, 30), (12, 0), (1, 2, 3)))


def test_parse_timestamp_gives_an_instant_in_its_time_zone(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/timestamp_functions#parse_timestamp
    row = con.query(
        "SELECT PARSE_TIMESTAMP('%Y-%m-%d %H', '2020-01-02 03'), PARSE_TIMESTAMP('%Y-%m-%d %H', '2020-01-02 03', 'America/Los_Angeles'), "
        "PARSE_TIMESTAMP('%Y-%m-%d %H%z', '2020-01-02 03+0100'), SAFE.PARSE_TIMESTAMP('%Y', 'x'), PARSE_DATETIME('%Y', '2020')"
    ).fetchall()[0]
    at = lambda hour: datetime.datetime(2020, 1, 2, hour, tzinfo=UTC)  # noqa: E731
    assert row == (at(3), at(11), at(2), None, datetime.datetime(2020, 1, 1))


def test_string_of_a_timestamp_in_a_time_zone_ends_in_its_offset(con):
    # STRING(TIMESTAMP "2008-12-25 15:30:00+00", "America/Los_Angeles") is "2008-12-25 07:30:00-08"
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#string
    row = con.query("SELECT STRING(ts), STRING(ts, 'America/Los_Angeles'), STRING(ts, '+05:30'), STRING(ts + INTERVAL 200 DAY, 'America/Los_Angeles') FROM (SELECT TIMESTAMP '2008-12-25 15:30:00+00' AS ts)")
    assert row.fetchall() == [("2008-12-25 15:30:00+00", "2008-12-25 07:30:00-08", "2008-12-25 21:00:00+05:30", "2009-07-13 08:30:00-07")]


def test_generate_timestamp_array_of_strings_is_in_utc(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#generate_timestamp_array
    rows = con.query("SELECT GENERATE_TIMESTAMP_ARRAY('2016-10-05 00:00:00', '2016-10-07 00:00:00', INTERVAL 1 DAY)").fetchall()
    assert rows == [([datetime.datetime(2016, 10, day, tzinfo=UTC) for day in (5, 6, 7)],)]


def test_hex_strings_cast_to_int64(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_functions#cast_as_int64
    rows = con.query("SELECT SAFE_CAST('0x1A' AS INT64), SAFE_CAST('-0x1A' AS INT64), CAST(s AS INT64) FROM UNNEST([' 0x1a', '-0X1A']) AS s ORDER BY 3").fetchall()
    assert rows == [(26, -26, -26), (26, -26, 26)]


def test_cast_to_string_with_a_format(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/format-elements#format_date_time_as_string
    row = con.query(
        "SELECT CAST(DATE '2020-01-02' AS STRING FORMAT 'YYYY/MM/DD'), CAST(DATE '2020-01-02' AS STRING FORMAT 'MON DD, YYYY'), "
        "CAST(DATE '2020-01-02' AS STRING FORMAT 'Month dy'), CAST(TIMESTAMP '2020-01-02 13:04:05.123456+00' AS STRING FORMAT 'HH24:MI:SS.FF3 AM \"at\" HH12'), "
        "CAST(TIME '13:04:05' AS STRING FORMAT 'HH24:MI'), SAFE_CAST(d AS STRING FORMAT 'DD.MM.YY'), CAST('2020-01-02' AS DATE FORMAT 'YYYY-MM-DD') "
        "FROM (SELECT DATETIME '2021-03-04 05:06:07' AS d)"
    ).fetchall()[0]
    assert row == ("2020/01/02", "JAN 02, 2020", "January thu", "13:04:05.123 PM at 01", "13:04", "04.03.21", datetime.date(2020, 1, 2))


def test_cast_format_without_translation_is_a_clear_error(con):
    with pytest.raises(sqlml.UnsupportedStatementError, match=r"^CAST\(number AS STRING FORMAT '999.99'\) has no translation yet\."):
        con.query("SELECT CAST(12.5 AS STRING FORMAT '999.99')")
    with pytest.raises(sqlml.UnsupportedStatementError, match=r"^The format element at 'Q' of CAST\(\.\.\. FORMAT 'YYYY Q'\) has no translation yet\."):
        con.query("SELECT CAST(DATE '2020-01-02' AS STRING FORMAT 'YYYY Q')")


def test_cast_of_an_interval_to_string_is_canonical(con):
    # "[sign]Y-M [sign]D [sign]H:M:S[.F]"
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#interval_type
    row = con.query(
        "SELECT CAST(INTERVAL 1 DAY AS STRING), CAST(INTERVAL -1 MONTH AS STRING), CAST(INTERVAL -90 MINUTE AS STRING), CAST(INTERVAL 14 MONTH AS STRING), "
        "CAST(INTERVAL 1 DAY + INTERVAL 1500 MILLISECOND AS STRING), CAST(CAST(NULL AS INTERVAL) AS STRING)"
    ).fetchall()[0]
    assert row == ("0-0 1 0:0:0", "-0-1 0 0:0:0", "0-0 0 -1:30:0", "1-2 0 0:0:0", "0-0 1 0:0:1.5", None)


def test_star_replace_of_an_ambiguous_column_is_an_error(con):
    # ZetaSQL: "Column x in SELECT * REPLACE list is ambiguous" (DuckDB kept one x silently); USING merges it
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#select_replace
    with pytest.raises(sqlml.ExecutionError, match=r"^Ambiguous reference to column name \"x\" \(use: 'a\.x' or 'b\.x'\)"):
        con.query("SELECT * REPLACE (1 AS x) FROM (SELECT 1 AS x, 2 AS y) a JOIN (SELECT 3 AS x, 4 AS z) b ON TRUE").fetchall()
    rows = con.query("SELECT * REPLACE (5 AS y) FROM (SELECT 1 AS x, 2 AS y) a JOIN (SELECT 3 AS x, 4 AS z) b ON a.x < b.x").fetchall()
    assert rows == [(1, 5, 3, 4)]
    assert con.query("SELECT * REPLACE (5 AS x) FROM (SELECT 1 AS x, 2 AS y) a JOIN (SELECT 1 AS x) b USING (x)").fetchall() == [(5, 2)]
