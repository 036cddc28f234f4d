"""BigQuery's bare subscripts, JSON subscripts and JSON literals, STRUCT subscripts, INTERVAL literals
with a span and casts with a format and a time zone on DuckDB (sqlml.sql.subscripts,
sqlml.sql.generator_fixes, sqlml.sql.parser): a bare ``a[i]`` is ``a[OFFSET(i)]``, an error past
either end worded "Array index i"; ``j[i]`` of a JSON array is NULL past either end (DuckDB counted
``j[-1]`` from the end); ``JSON '[1]'[0]`` subscripts the JSON value, not the string; a STRUCT(...)
value's ``s[0]`` is its first field (sqlml.sql.struct_subscripts); ``INTERVAL '1 2:3:4' DAY TO
SECOND`` is a value (sqlml.sql.interval_literals; DuckDB's parser refused it).
https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#array_subscript_operator
https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#json_subscript_operator
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import sqlml


@pytest.mark.parametrize(
    ("sql", "index", "length"),
    [
        ("SELECT a[5] FROM (SELECT [1, 2] AS a)", 5, 2),  # a column: the type is DuckDB's to tell
        ("SELECT a[x] FROM (SELECT [1, 2] AS a), UNNEST([-1]) AS x", -1, 2),
        ("SELECT t.a[2] FROM (SELECT * FROM UNNEST([STRUCT([1, 2] AS a)])) AS t", 2, 2),
        ("SELECT [1, 2, 3][3]", 3, 3),  # an array literal: checked as [OFFSET(3)]
    ],
    ids=["column", "computed-negative", "struct-field", "literal"],
)
def test_bare_subscript_past_either_end_fails_as_bigquery_words_it(con, sql, index, length):
    with pytest.raises(sqlml.ExecutionError) as caught:
        con.query(sql).fetchall()
    assert (caught.value.message, caught.value.hint) == (
        f"Array index {index} is out of bounds: the array has {length} elements",
        "Use SAFE_OFFSET to get NULL instead.",
    )


def test_bare_subscripts_within_bounds_count_from_zero(con):
    row = con.query("SELECT a[0], a[1], a[x], [10, 20][1], a[n] FROM (SELECT [1, 2] AS a, 1 AS x, CAST(NULL AS INT64) AS n)").fetchall()
    assert row == [(1, 2, 2, 20, None)]


def test_json_subscripts_give_json_or_null(con):
    row = con.query(
        "SELECT j[0], j[1], j[2], j[-1], j[i], j['a'], o['a'], o.a, o['b'], o[0], JSON '[1, 2]'[0], "
        "JSON '{\"a\": [1, {\"b\": \"x\"}]}'['a'][1]['b'], JSON '{\"a\": \"x\"}'.a, PARSE_JSON('[3]')[0] "
        "FROM (SELECT JSON '[1, 2]' AS j, JSON '{\"a\": \"x\"}' AS o, -2 AS i)"
    ).fetchall()
    assert row == [("1", "2", None, None, None, None, '"x"', '"x"', None, None, "1", '"x"', '"x"', "3")]


def test_json_literal_with_subscripts_keeps_the_json_literal():
    from sqlglot import exp, parse_one

    select = parse_one("SELECT JSON '[1]'[0], JSON '{\"a\": 1}'.a", read="sqlml").selects
    assert [type(node) for node in select] == [exp.Bracket, exp.Dot]
    assert [node.this.sql("bigquery") for node in select] == ["JSON '[1]'", "JSON '{\"a\": 1}'"]


def test_struct_subscripts_select_a_field_by_position(con):
    # the reference's example: STRUCT<INT64, STRING, BOOL>(23, "tea", FALSE)[0], [OFFSET(0)], [ORDINAL(1)] are 23
    row = con.query(
        "SELECT STRUCT<INT64, STRING, BOOL>(23, 'tea', FALSE)[0], STRUCT<INT64, STRING, BOOL>(23, 'tea', FALSE)[OFFSET(1)], "
        "STRUCT<INT64, STRING, BOOL>(23, 'tea', FALSE)[ORDINAL(3)], STRUCT(1 AS x, 'y' AS y)[1], (1, 2.5)[1], STRUCT<a INT64>(2)[0] + 1"
    ).fetchall()
    assert row == [(23, "tea", False, "y", 2.5, 3)]


@pytest.mark.parametrize(
    ("subscript", "error", "message", "hint"),
    [
        ("[6]", sqlml.SqlTypeError, "Field ordinal 6 is out of bounds in STRUCT",
         "The STRUCT has 3 fields: use OFFSET(0) to OFFSET(2), or ORDINAL(1) to ORDINAL(3)."),
        ("[ORDINAL(0)]", sqlml.SqlTypeError, "Field ordinal 0 is out of bounds in STRUCT",
         "The STRUCT has 3 fields: use OFFSET(0) to OFFSET(2), or ORDINAL(1) to ORDINAL(3)."),
        ("[SAFE_OFFSET(0)]", sqlml.UnsupportedStatementError, "The STRUCT subscript operator does not support SAFE_OFFSET.",
         "Use OFFSET(i): a STRUCT's fields are known when the query is compiled, so an index out of range is an error, not NULL."),
        ("[n]", sqlml.SqlTypeError, "The index of a STRUCT subscript must be an integer literal; got n.",
         "Write the field's position as a number (s[0], s[OFFSET(0)], s[ORDINAL(1)]) or name the field."),
    ],
    ids=["past-the-end", "ordinal-0", "safe", "computed"],
)
def test_struct_subscript_errors_are_bigquerys(con, subscript, error, message, hint):
    with pytest.raises(error) as caught:
        con.query(f"SELECT STRUCT<INT64, STRING, BOOL>(23, 'tea', FALSE){subscript} FROM UNNEST([0]) AS n").fetchall()
    assert (caught.value.message, caught.value.hint) == (message, hint)


@pytest.mark.parametrize("subscript", ["[0]", "[OFFSET(0)]", "[ORDINAL(1)]"])
def test_struct_column_subscript_by_position_is_refused_clearly(con, subscript):
    with pytest.raises(sqlml.SqlTypeError) as caught:
        con.query(f"SELECT s{subscript} FROM (SELECT STRUCT(1 AS x, 2 AS y) AS s)").fetchall()
    assert (caught.value.message, caught.value.hint) == (
        "A STRUCT column cannot be subscripted by position (s[0], s[OFFSET(0)], s[ORDINAL(1)]) yet.",
        "Name the field instead (s.field_name): positional STRUCT subscripts are translated for STRUCT(...) values written in the statement and STRUCT columns of tables, not for a STRUCT the statement computes.",
    )


def test_fields_of_array_elements_and_arrays_of_struct_fields(con):
    row = con.query(
        "SELECT a[OFFSET(0)].x, a[1].x, s.b[OFFSET(1)].c, s.b[0].c FROM "
        "(SELECT [STRUCT(1 AS x), STRUCT(2 AS x)] AS a, STRUCT([STRUCT(1 AS c), STRUCT(2 AS c)] AS b) AS s)"
    ).fetchall()
    assert row == [(1, 2, 2, 1)]


def test_interval_literals_with_a_span_are_bigquerys_values(con):
    # the reference's canonical text: [-]Y-M [-]D [-]H:M:S[.F], each group signed on its own
    row = con.query(
        "SELECT CAST(INTERVAL '1 2:3:4' DAY TO SECOND AS STRING), CAST(INTERVAL '1-2' YEAR TO MONTH AS STRING), "
        "CAST(INTERVAL '10:20:30.5' HOUR TO SECOND AS STRING), CAST(INTERVAL '-1-2 3 -4:5:6.25' YEAR TO SECOND AS STRING), "
        "CAST(INTERVAL '0-0' YEAR TO MONTH AS STRING), CAST(INTERVAL '5 -3' DAY TO HOUR AS STRING), "
        "CAST(INTERVAL '1:2:3' HOUR TO SECOND * 10 AS STRING), DATE '2020-01-31' + INTERVAL '0-1' YEAR TO MONTH"
    ).fetchall()
    assert row == [("0-0 1 2:3:4", "1-2 0 0:0:0", "0-0 0 10:20:30.5", "-1-2 3 -4:5:6.25", "0-0 0 0:0:0", "0-0 5 -3:0:0", "0-0 0 10:20:30",
                    datetime(2020, 2, 29))]  # fmt: skip


def test_interval_literal_not_matching_its_span_is_refused(con):
    with pytest.raises(sqlml.SqlSyntaxError) as caught:
        con.query("SELECT INTERVAL '1 2' DAY TO SECOND")
    assert (caught.value.message, caught.value.hint) == (
        "Invalid INTERVAL value '1 2' for DAY TO SECOND.",
        "Write the parts from the first to the last unit as Y-M D H:M:S (e.g. INTERVAL '1 2:3:4' DAY TO SECOND, INTERVAL '1-2' YEAR TO MONTH).",
    )


def test_casts_with_a_format_and_a_time_zone(con):
    # CAST(s AS TIMESTAMP FORMAT … AT TIME ZONE z) reads s as z's civil time; without one, UTC's; a
    # DATETIME's stays civil. https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_functions
    row = con.query(
        "SELECT CAST('2020-01-02 03:04:05' AS TIMESTAMP FORMAT 'YYYY-MM-DD HH24:MI:SS' AT TIME ZONE 'America/Los_Angeles'), "
        "CAST('2020-01-02 03:04:05' AS TIMESTAMP FORMAT 'YYYY-MM-DD HH24:MI:SS'), "
        "CAST('2020-01-02 03:04:05' AS DATETIME FORMAT 'YYYY-MM-DD HH24:MI:SS'), "
        "CAST(ts AS STRING FORMAT 'YYYY-MM-DD HH24:MI' AT TIME ZONE 'Asia/Kolkata'), CAST(ts AS STRING FORMAT 'HH24:MI'), "
        "TIMESTAMP_TRUNC(ts, DAY, 'America/Los_Angeles') FROM (SELECT TIMESTAMP '2020-01-02 03:04:05+00' AS ts)"
    ).fetchall()
    assert row == [(datetime(2020, 1, 2, 11, 4, 5, tzinfo=UTC), datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2020, 1, 2, 3, 4, 5),
                    "2020-01-02 08:34", "03:04", datetime(2020, 1, 1, 8, tzinfo=UTC))]  # fmt: skip


def test_format_t_writes_float_json_and_interval_literals(con):
    # "%T": CAST("nan" AS <type>) for non-finite floats, JSON '…', INTERVAL "…" YEAR TO SECOND
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#format_string
    row = con.query(
        "SELECT FORMAT('%T', f), FORMAT('%T', CAST('inf' AS FLOAT64)), FORMAT('%T', CAST('-inf' AS FLOAT64)), FORMAT('%T', 1.5), "
        "FORMAT('%T', 1e20), FORMAT('%T', j), FORMAT('%T', JSON '{\"a\": \"it\\'s\"}'), FORMAT('%T', INTERVAL '1-2 3 4:5:6.5' YEAR TO SECOND), "
        "FORMAT('%T', CAST(NULL AS FLOAT64)) FROM (SELECT CAST('nan' AS FLOAT64) AS f, JSON '[1]' AS j)"
    ).fetchall()
    assert row == [('CAST("nan" AS FLOAT64)', 'CAST("inf" AS FLOAT64)', 'CAST("-inf" AS FLOAT64)', "1.5", "1e+20", "JSON '[1]'",
                    "JSON '{\"a\":\"it\\'s\"}'", 'INTERVAL "1-2 3 4:5:6.5" YEAR TO SECOND', "NULL")]  # fmt: skip


def test_field_of_an_array_of_structs_is_refused_with_the_unnest_fix(con):
    # BigQuery: "Cannot access field x on a value with type ARRAY<STRUCT<x INT64>>"
    with pytest.raises(sqlml.SqlTypeError) as caught:
        con.query("SELECT a.x FROM (SELECT [STRUCT(1 AS x), STRUCT(2 AS x)] AS a)").fetchall()
    assert (caught.value.message, caught.value.hint) == (
        "Cannot access field x of a: it is not a STRUCT or JSON value.",
        "If a is an ARRAY of STRUCTs, read each element's field through UNNEST: ARRAY(SELECT e.x FROM UNNEST(a) AS e).",
    )
    assert con.query("SELECT ARRAY(SELECT e.x FROM UNNEST(a) AS e) FROM (SELECT [STRUCT(1 AS x), STRUCT(2 AS x)] AS a)").fetchall() == [([1, 2],)]


def test_format_t_writes_array_and_struct_literals(con):
    # "%T": ARRAY [v, …], STRUCT (v, …), STRUCT() and STRUCT(v), each value a literal; the
    # array's elements of their common type (FLOAT64 for [1.5, 2])
    row = con.query(
        "SELECT FORMAT('%T', [1.5, 2]), FORMAT('%T', ['a', NULL]), FORMAT('%T', STRUCT(1 AS a, 'x' AS b)), FORMAT('%T', STRUCT(1.5)), "
        "FORMAT('%T', STRUCT<FLOAT64, STRING>(2, 'y')), FORMAT('%T', STRUCT([1, 2] AS a, STRUCT(DATE '2020-01-01' AS d) AS s)), "
        "FORMAT('%T', CAST(NULL AS ARRAY<INT64>)), FORMAT('%T', ARRAY<INT64>[]), FORMAT('%T', STRUCT())"
    ).fetchall()
    assert row == [("[1.5, 2.0]", '["a", NULL]', '(1, "x")', "STRUCT(1.5)", '(2.0, "y")', '([1, 2], STRUCT(DATE "2020-01-01"))', "NULL", "[]", "STRUCT()")]
