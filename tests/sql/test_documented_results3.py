"""Examples from BigQuery's function reference, run as the pages write them, against the results
the pages document (values and types), where sqlml's translation gave another value, a naive
type or an error: week parts, LAST_DAY of an ISO year, TIME_TRUNC, Unix-time conversions, format
elements, JSON_TYPE and the JSON converters, window keys that divide, hexadecimal literals.
https://cloud.google.com/bigquery/docs/reference/standard-sql/date_functions
https://cloud.google.com/bigquery/docs/reference/standard-sql/format-elements
https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions
"""

from __future__ import annotations

import datetime
import decimal

import pyarrow as pa
import pytest

import sqlml

UTC = datetime.timezone.utc


def _row(con, sql):
    table = con.query(sql).arrow()
    return [field.type for field in table.schema], table.to_pylist()[0]


def test_extract_week_starting_on_a_weekday(con):
    # the EXTRACT example: 2017-11-05 is a Sunday, in week 45 of weeks starting on Sunday, 44 of Monday's
    rows = con.query(
        "SELECT EXTRACT(WEEK(SUNDAY) FROM date) AS week_sunday, EXTRACT(WEEK(MONDAY) FROM date) AS week_monday, "
        "EXTRACT(WEEK(FRIDAY) FROM date) AS week_friday "
        "FROM UNNEST([DATE '2017-11-05', DATE '2017-01-01', DATE '2017-01-02', DATE '2016-12-31']) AS date"
    ).fetchall()
    # 2017-01-01 (Sunday) is before 2017's first Monday and Friday: week 0 there; 2016 starts on a
    # Friday, so its 53rd Friday (30 December) starts week 53
    assert rows == [(45, 44, 44), (1, 0, 0), (1, 1, 0), (52, 52, 53)]
    with pytest.raises(sqlml.ExecutionError, match=r"^A valid date part name is required but found WEEK\(FOO\)"):
        con.query("SELECT EXTRACT(WEEK(FOO) FROM DATE '2017-01-01')").fetchall()


def test_last_day_of_week_and_iso_year(con):
    types, row = _row(con, "SELECT LAST_DAY(DATE '2008-11-10', WEEK(MONDAY)) AS a, LAST_DAY(DATE '2008-11-25', ISOYEAR) AS b, "
                           "LAST_DAY(DATE '2015-06-15', ISOYEAR) AS c")  # fmt: skip
    assert types == [pa.date32()] * 3
    # ISO 2009 starts on Monday 2008-12-29; ISO 2015 has 53 weeks and ends on 2016-01-03
    assert row == {"a": datetime.date(2008, 11, 16), "b": datetime.date(2008, 12, 28), "c": datetime.date(2016, 1, 3)}


def test_time_and_timestamp_trunc(con):
    types, row = _row(con, "SELECT TIME_TRUNC(TIME '15:30:00', HOUR) AS t, TIMESTAMP_TRUNC('2015-06-15 00:00:00+00', ISOYEAR) AS iso, "
                           "TIMESTAMP_TRUNC(TIMESTAMP '2017-11-06 00:00:00+12', WEEK(MONDAY), 'Pacific/Auckland') AS nz")  # fmt: skip
    assert types == [pa.time64("us"), pa.timestamp("us", tz="Etc/UTC"), pa.timestamp("us", tz="Etc/UTC")]
    assert row["t"] == datetime.time(15, 0)
    assert row["iso"] == datetime.datetime(2014, 12, 29, tzinfo=UTC)
    assert row["nz"] == datetime.datetime(2017, 11, 5, 11, 0, tzinfo=UTC)  # Monday 00:00 in Auckland (UTC+13)


def test_unix_conversions_have_bigquery_types(con):
    types, row = _row(con, "SELECT DATE_FROM_UNIX_DATE(14238) AS d, TIMESTAMP_MILLIS(1230219000000) AS ms, TIMESTAMP_MICROS(1230219000000000) AS us")
    assert types == [pa.date32(), pa.timestamp("us", tz="Etc/UTC"), pa.timestamp("us", tz="Etc/UTC")]
    instant = datetime.datetime(2008, 12, 25, 15, 30, tzinfo=UTC)
    assert row == {"d": datetime.date(2008, 12, 25), "ms": instant, "us": instant}


def test_format_elements_duckdb_lacks_or_reads_otherwise(con):
    row = con.query(
        "SELECT FORMAT_DATE('%j %U %W %u %w %e %y %C %G %V %Q %g', DATE '2008-12-05'), FORMAT_DATE('[%e]', DATE '2008-12-05'), "
        "FORMAT_DATETIME('%c', DATETIME '2008-12-25 15:30:00'), FORMAT_DATETIME('%c', DATETIME '2008-12-05 15:30:00'), "
        "FORMAT_TIMESTAMP('%b %Y %Ez', TIMESTAMP '2050-12-25 15:30:55+00'), FORMAT_TIME('%R', TIME '15:30:00'), "
        "FORMAT_TIMESTAMP('%k|%l|%P|%E3S|%E4Y|%%|%n', TIMESTAMP '2050-12-25 05:30:55.123456+00'), "
        "FORMAT_TIMESTAMP('%F %T %z|%Ez', TIMESTAMP '2050-12-25 15:30:55+00', 'America/Los_Angeles'), "
        "FORMAT_TIMESTAMP('%T%Ez', TIMESTAMP '2050-12-25 15:30:55+00', 'Asia/Kolkata')"
    ).fetchall()[0]
    assert row == (
        "340 48 48 5 5  5 08 20 2008 49 4 08", "[ 5]", "Thu Dec 25 15:30:00 2008", "Fri Dec  5 15:30:00 2008",
        "Dec 2050 +00:00", "15:30", " 5| 5|am|55.123|2050|%|\n", "2050-12-25 07:30:55 -0800|-08:00", "21:00:55+05:30",
    )  # fmt: skip


def test_parse_with_format_elements_duckdb_lacks(con):
    row = con.query(
        "SELECT PARSE_DATETIME('%c', 'Thu Dec 25 07:30:00 2008'), PARSE_DATETIME('%a %b %e %I:%M:%S %Y', 'Thu Dec 25 07:30:00 2008'), "
        "PARSE_TIME('%R', '15:30'), PARSE_DATE('%e/%m/%Y', ' 5/12/2008'), PARSE_TIMESTAMP('%c', 'Thu Dec 25 07:30:00 2008')"
    ).fetchall()[0]
    assert row[:4] == (datetime.datetime(2008, 12, 25, 7, 30), datetime.datetime(2008, 12, 25, 7, 30), datetime.time(15, 30), datetime.date(2008, 12, 5))
    assert row[4] == datetime.datetime(2008, 12, 25, 7, 30, tzinfo=UTC)


def test_json_type_names(con):
    rows = con.query(
        "SELECT JSON_TYPE(json_val) FROM UNNEST([JSON '\"apple\"', JSON '10', JSON '3.14', JSON 'null', "
        "JSON '{\"city\": \"New York\", \"State\": \"NY\"}', JSON '[\"apple\", \"banana\"]', JSON 'false', NULL]) AS json_val WITH OFFSET AS o ORDER BY o"
    ).fetchall()
    assert [value for (value,) in rows] == ["string", "number", "number", "null", "object", "array", "boolean", None]


def test_json_converters(con):
    types, row = _row(con, "SELECT INT64(JSON '2005') AS i, FLOAT64(JSON '9.8') AS f, BOOL(JSON 'true') AS b, STRING(JSON '\"purple\"') AS s, "
                           "STRING(TIMESTAMP '2008-12-25 15:30:00+00') AS t")  # fmt: skip
    assert types == [pa.int64(), pa.float64(), pa.bool_(), pa.string(), pa.string()]
    assert row == {"i": 2005, "f": 9.8, "b": True, "s": "purple", "t": "2008-12-25 15:30:00+00"}


def test_lax_converters(con):
    row = con.query(
        "SELECT LAX_INT64(JSON '\"10\"'), LAX_INT64(JSON 'true'), LAX_INT64(JSON '10.6'), LAX_INT64(JSON '\"foo\"'), LAX_INT64(JSON '\"1e2\"'), "
        "LAX_FLOAT64(JSON '\"1.5\"'), LAX_FLOAT64(JSON 'true'), LAX_BOOL(JSON '\"TRUE\"'), LAX_BOOL(JSON '10'), LAX_BOOL(JSON '0'), "
        "LAX_BOOL(JSON '\"foo\"'), LAX_STRING(JSON '123'), LAX_STRING(JSON 'true'), LAX_STRING(JSON '\"purple\"'), LAX_INT64(JSON '[1]')"
    ).fetchall()[0]
    assert row == (10, 1, 11, None, 100, 1.5, None, True, True, False, None, "123", "true", "purple", None)


def test_division_and_mod_in_window_keys(con):
    # the COUNT example: COUNT(*) OVER (PARTITION BY MOD(x, 3)) was "cannot be volatile"
    rows = con.query(
        "SELECT x, COUNT(*) OVER (PARTITION BY MOD(x, 3)) AS count_star, COUNT(DISTINCT x) OVER (PARTITION BY MOD(x, 3)) AS count_dist_x, "
        "ROW_NUMBER() OVER (ORDER BY 10 / x DESC) AS r FROM UNNEST([1, 4, 4, 5]) AS x ORDER BY x"
    ).fetchall()
    assert [row[:3] for row in rows] == [(1, 3, 2), (4, 3, 2), (4, 3, 2), (5, 1, 1)]
    assert [row[3] for row in rows][0] == 1
    with pytest.raises(sqlml.ExecutionError, match=r"^division by zero: 1 / 0"):  # outside a window key, still checked
        con.query("SELECT x / 0 FROM UNNEST([1]) AS x").fetchall()


def test_hexadecimal_literals_are_int64(con):
    types, row = _row(con, "SELECT BIT_AND(x) AS bit_and, BIT_OR(x) AS bit_or, BIT_XOR(x) AS bit_xor FROM UNNEST([0xF001, 0x00A1]) AS x")
    assert types == [pa.int64()] * 3
    assert row == {"bit_and": 1, "bit_or": 61601, "bit_xor": 61600}


def test_instr_with_position_and_occurrence(con):
    # the INSTR reference's table: overlapping matches count, a negative position searches backwards
    rows = con.query(
        "SELECT INSTR(source_value, search_value, position, occurrence) FROM UNNEST(["
        "STRUCT('banana' AS source_value, 'an' AS search_value, 1 AS position, 1 AS occurrence), ('banana', 'an', 1, 2), "
        "('banana', 'an', 1, 3), ('banana', 'an', 3, 1), ('banana', 'an', -1, 1), ('banana', 'an', -3, 1), ('banana', 'ann', 1, 1), "
        "('helloooo', 'oo', 1, 1), ('helloooo', 'oo', 1, 2)]) WITH OFFSET AS o ORDER BY o"
    ).fetchall()
    assert [value for (value,) in rows] == [2, 4, 0, 4, 4, 4, 0, 5, 6]
    assert con.query("SELECT INSTR('banana', 'an', -1), INSTR(NULL, 'a', 1, 1), INSTR('abc', 'b', 1, NULL)").fetchall() == [(4, None, None)]
    with pytest.raises(sqlml.ExecutionError, match=r"^Position must be non-zero"):
        con.query("SELECT INSTR('banana', 'an', 0, 1)").fetchall()


def test_what_duckdb_lacks_is_refused_not_approximated(con):
    # sqlglot wrote SHA512 as SHA256 and dropped RESPECT NULLS, each with a warning on standard error
    with pytest.raises(sqlml.UnsupportedStatementError, match=r"^sqlml cannot translate this statement to DuckDB: DuckDB only supports SHA256 hashing algorithm\.\n  at statement 1, line 1"):
        con.query("SELECT SHA512('abc')").fetchall()
    with pytest.raises(sqlml.UnsupportedStatementError, match=r"RESPECT NULLS is not supported"):
        con.query("SELECT PERCENTILE_CONT(x, 0.5 RESPECT NULLS) OVER () FROM UNNEST([0, 3, NULL, 1, 2]) AS x").fetchall()


def test_unnest_of_structs_with_offset_and_no_alias_has_the_fields_as_columns(con):
    rows = con.query("SELECT a, b, o FROM UNNEST([STRUCT(1 AS a, 'x' AS b), (2, 'y')]) WITH OFFSET AS o ORDER BY o").fetchall()
    assert rows == [(1, "x", 0), (2, "y", 1)]
    assert con.query("SELECT f0_, o FROM UNNEST([10, 20]) WITH OFFSET AS o ORDER BY o").fetchall() == [(10, 0), (20, 1)]


def test_range_bucket_of_null_is_null(con):
    # "If the point is NULL, returns NULL"
    rows = con.query("SELECT RANGE_BUCKET(x, [0, 10, 20, 30, 40]) FROM UNNEST([20, NULL]) AS x WITH OFFSET AS o ORDER BY o").fetchall()
    assert rows == [(3,), (None,)]


def test_functions_returning_an_integer_literal_argument_are_int64(con):
    # MAX(1), ABS(-5), ARRAY_AGG(1)…: INT64 as in BigQuery (DuckDB read the literal as INTEGER)
    table = con.query(
        "SELECT ABS(-5) AS a, GREATEST(1, 2) AS b, NULLIF(1, 2) AS c, MAX(1) AS d, ANY_VALUE(1) AS e, ARRAY_AGG(1) AS f, "
        "SIGN(-3) AS g, LAG(1, 1, 0) OVER () AS h, NTH_VALUE(5, 1) OVER () AS i, LPAD('a', 3) AS j"
    ).arrow()
    assert [field.type for field in table.schema] == [pa.int64()] * 5 + [pa.list_(pa.field("l", pa.int64()))] + [pa.int64()] * 3 + [pa.string()]
    assert table.to_pylist() == [{"a": 5, "b": 2, "c": 1, "d": 1, "e": 1, "f": [1], "g": -1, "h": 0, "i": 5, "j": "  a"}]


def test_json_functions_not_translated_are_refused_by_name(con):
    for call, name in (("JSON_KEYS(JSON '{\"a\": {\"b\": 1}}')", "JSON_KEYS"), ("JSON_ARRAY_APPEND(JSON '[1]', '$', 2)", "JSON_ARRAY_APPEND"),
                       ("TO_JSON_STRING(STRUCT(1 AS id), true)", "TO_JSON_STRING with pretty_print")):  # fmt: skip
        with pytest.raises(sqlml.UnsupportedStatementError, match=rf"^sqlml cannot translate this statement to DuckDB: {name} is not supported yet\."):
            con.query(f"SELECT {call}").fetchall()
    assert con.query("SELECT TO_JSON_STRING(STRUCT(1 AS id), false)").fetchall() == [('{"id":1}',)]


def test_delete_without_from(con):
    con.query("CREATE TEMP TABLE t (id INT64); INSERT t VALUES (1), (2), (3); DELETE t WHERE id = 2; DELETE t AS x WHERE x.id = 3")
    assert con.query("SELECT id FROM t").fetchall() == [(1,)]


def test_extract_parts_within_a_second_and_civil_parts(con):
    # MILLISECOND is 0-999 and MICROSECOND 0-999999 (DuckDB's counted the whole seconds too: 5123, 5123456)
    types, row = _row(con, "SELECT EXTRACT(MICROSECOND FROM TIMESTAMP '2008-12-25 15:30:05.123456+00') AS us, "
                           "EXTRACT(MILLISECOND FROM DATETIME '2008-12-25 15:30:05.123456') AS ms, EXTRACT(MICROSECOND FROM TIME '15:30:05.000001') AS t, "
                           "EXTRACT(DATETIME FROM TIMESTAMP '2008-12-25 15:30:00+00') AS dt, EXTRACT(TIME FROM DATETIME '2008-12-25 15:30:00') AS tm")  # fmt: skip
    assert types == [pa.int64()] * 3 + [pa.timestamp("us"), pa.time64("us")]
    assert row == {"us": 123456, "ms": 123, "t": 1, "dt": datetime.datetime(2008, 12, 25, 15, 30), "tm": datetime.time(15, 30)}


def test_approximations_that_keep_the_answer_still_run(con):
    # sqlglot also warns for EXTRACT from a TIMESTAMP WITH TIME ZONE; sqlml's session zone is UTC, as BigQuery's
    assert con.query("SELECT EXTRACT(HOUR FROM TIMESTAMP '2008-12-25 15:30:00+00')").fetchall() == [(15,)]


def test_net_host_as_the_reference_table(con):
    inputs = ["", "http://abc.xyz", "//user:password@a.b:80/path?query", "https://[::1]:80", "http://例子.卷筒纸.中国",
              "    www.Example.Co.UK    ", "mailto:?to=&subject=&body=", None]  # fmt: skip
    rows = con.query("SELECT NET.HOST(input) FROM UNNEST(@inputs) AS input WITH OFFSET AS o ORDER BY o", params={"inputs": inputs}).fetchall()
    assert [host for (host,) in rows] == [None, "abc.xyz", "a.b", "[::1]", "例子.卷筒纸.中国", "www.Example.Co.UK", "mailto", None]
    with pytest.raises(sqlml.UnsupportedStatementError, match=r"^sqlml cannot translate this statement to DuckDB: NET\.REG_DOMAIN is not supported yet\."):
        con.query("SELECT NET.REG_DOMAIN('https://www.google.co.uk')").fetchall()


def test_substr_positions_as_bigquery_counts_them(con):
    row = con.query(
        "SELECT SUBSTR('apple', 2), SUBSTR('apple', 2, 2), SUBSTR('apple', -2), SUBSTR('apple', 1, 123), SUBSTR('apple', 123), "
        "SUBSTR('apple', -7, 3), SUBSTRING('apple', 0, 2), SUBSTR('apple', -123)"
    ).fetchall()[0]
    assert row == ("pple", "pp", "le", "apple", "", "app", "ap", "apple")
    rows = con.query("SELECT SUBSTR(s, p, 1) FROM UNNEST([STRUCT('apple' AS s, -2 AS p), ('apple', 0)]) WITH OFFSET AS o ORDER BY o").fetchall()
    assert rows == [("l",), ("a",)]
    with pytest.raises(sqlml.ExecutionError, match=r"^Third argument in SUBSTR\(\) cannot be negative"):
        con.query("SELECT SUBSTR('apple', 1, -1)").fetchall()


def test_date_trunc_of_a_datetime_or_timestamp_keeps_its_type(con):
    con.query("CREATE TEMP TABLE times AS SELECT DATETIME '2020-05-17 13:45:12' AS dt")
    types, row = _row(con, "SELECT DATE_TRUNC(dt, HOUR) AS h, DATE_TRUNC(TIMESTAMP '2020-05-17 13:45:12+00', MONTH) AS m, "
                           "DATE_TRUNC(DATETIME '2020-05-17 13:45:12', DAY) AS d, DATE_TRUNC(DATE '2020-05-17', WEEK(MONDAY)) AS w FROM times")  # fmt: skip
    assert types == [pa.timestamp("us"), pa.timestamp("us", tz="Etc/UTC"), pa.timestamp("us"), pa.date32()]
    assert row == {"h": datetime.datetime(2020, 5, 17, 13), "m": datetime.datetime(2020, 5, 1, tzinfo=UTC), "d": datetime.datetime(2020, 5, 17), "w": datetime.date(2020, 5, 11)}


def test_date_trunc_of_datetime_and_timestamp_columns_keeps_their_types(con):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT DATETIME '2020-05-20 13:45:12' AS dt, TIMESTAMP '2020-05-20 13:45:12+00' AS ts, DATE '2020-05-20' AS d")
    types, row = _row(con, "WITH x AS (SELECT * FROM ds.t) SELECT DATE_TRUNC(dt, WEEK) AS a, DATE_TRUNC(ts, WEEK(MONDAY)) AS b, DATE_TRUNC(d, WEEK) AS c, "
                           "DATE_TRUNC(x.dt, MONTH) AS e, DATE_TRUNC(ts, DAY) AS f FROM x")  # fmt: skip
    assert types == [pa.timestamp("us"), pa.timestamp("us", tz="Etc/UTC"), pa.date32(), pa.timestamp("us"), pa.timestamp("us", tz="Etc/UTC")]
    assert row == {"a": datetime.datetime(2020, 5, 17), "b": datetime.datetime(2020, 5, 18, tzinfo=UTC), "c": datetime.date(2020, 5, 17),
                   "e": datetime.datetime(2020, 5, 1), "f": datetime.datetime(2020, 5, 20, tzinfo=UTC)}  # fmt: skip


def test_array_agg_respect_nulls_is_its_default(con):
    rows = con.query("SELECT ARRAY_AGG(x RESPECT NULLS ORDER BY x NULLS FIRST), ARRAY_AGG(x IGNORE NULLS ORDER BY x) FROM UNNEST([2, NULL, 1]) AS x").fetchall()
    assert rows == [([None, 1, 2], [1, 2])]
    assert con.query("SELECT ARRAY_AGG(x RESPECT NULLS) OVER () FROM UNNEST([2, NULL]) AS x WITH OFFSET AS o ORDER BY o").fetchall() == [([2, None],), ([2, None],)]


def test_ignore_nulls_that_is_kept_or_is_the_default(con):
    # ARRAY_AGG(… IGNORE NULLS … LIMIT n) leaves the NULLs out before taking n (sqlglot dropped the words)
    assert con.query("SELECT ARRAY_AGG(x IGNORE NULLS ORDER BY x LIMIT 3) FROM UNNEST([1, NULL, 2]) AS x").fetchall() == [([1, 2],)]
    rows = con.query("SELECT PERCENTILE_CONT(x, 0.5 IGNORE NULLS) OVER (), PERCENTILE_DISC(x, 0.5 IGNORE NULLS) OVER () FROM UNNEST([1, NULL, 2]) AS x").fetchall()
    assert set(rows) == {(1.5, 1)}


def test_format_date_every_date_element_as_bigquery_prints_it(con):
    # BigQuery's own output for this call, recorded in Apache Calcite's CALCITE-6253 ("checked in the BigQuery playground")
    text = con.query("SELECT format_date('%A,%a,%B,%b,%C,%D,%d,%e,%F,%G,%g,%h,%j,%m,%U,%u,%V,%W,%w,%x,%Y,%y,%t,%%','2024-02-07')").fetchall()[0][0]
    assert text == "Wednesday,Wed,February,Feb,20,02/07/24,07, 7,2024-02-07,2024,24,Feb,038,02,05,3,06,06,3,02/07/24,2024,24,\t,%"


def test_a_null_literal_concatenated_is_a_string(con):
    types, row = _row(con, "SELECT CONCAT('a', NULL) AS a, 'a' || NULL AS b, CONCAT(NULL, NULL) AS c, CONCAT('x', 'y') AS d")
    assert types == [pa.string()] * 4
    assert row == {"a": None, "b": None, "c": None, "d": "xy"}


def test_avg_of_a_numeric_is_a_numeric(con):
    # "NUMERIC input → NUMERIC output" (AVG's return type table); DuckDB's average is a DOUBLE
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.amounts AS SELECT * FROM UNNEST([NUMERIC '1.5', NUMERIC '2.25']) AS x")
    types, row = _row(con, "WITH c AS (SELECT x FROM ds.amounts) SELECT (SELECT AVG(x) FROM c) AS a, (SELECT AVG(CAST(1 AS NUMERIC))) AS b, "
                           "(SELECT AVG(y) FROM UNNEST([1, 2]) AS y) AS f")  # fmt: skip
    assert types == [pa.decimal128(38, 9), pa.decimal128(38, 9), pa.float64()]
    assert row == {"a": decimal.Decimal("1.875"), "b": decimal.Decimal(1), "f": 1.5}


def test_approx_quantiles_of_distinct_values(con):
    # the reference's example: [1, 6, 10] (was "bucket count must be a positive integer")
    rows = con.query("SELECT APPROX_QUANTILES(DISTINCT x, 2) AS approx_quantiles FROM UNNEST([1, 1, 1, 4, 5, 6, 7, 8, 9, 10]) AS x").fetchall()
    assert rows == [([1, 6, 10],)]
