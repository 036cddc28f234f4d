"""BigQuery's bare and STRUCT subscripts, INTERVAL literals with a span, casts with a format and a
time zone, TIMESTAMP_TRUNC in a time zone and FORMAT's %T on both engines, each a single statement
(the DuckDB cases in detail: tests/sql/test_subscripts_json_intervals.py). On Spark, a bare a[i]
had failed for a[0] of an array literal (index -1) and read a computed a[i] one element off, and
TIMESTAMP_TRUNC(ts, DAY, zone) moved the truncated time the wrong way, and JSON_QUERY unquoted a
string (JSON_QUERY_ARRAY and JSON_VALUE_ARRAY failed); a JSON subscript, which Spark cannot read (JSON is a STRING there), is refused clearly.
https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#array_subscript_operator
https://cloud.google.com/bigquery/docs/reference/standard-sql/timestamp_functions#timestamp_trunc
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import sqlml

STATEMENT = (
    "SELECT a[0], a[1], a[i], [10, 20][1], STRUCT<INT64, STRING, BOOL>(23, 'tea', FALSE)[0], STRUCT(1 AS x, 'y' AS y)[ORDINAL(2)], "
    "CAST(INTERVAL '1 2:3:4' DAY TO SECOND AS STRING), CAST(INTERVAL '1-2' YEAR TO MONTH AS STRING), "
    "CAST(INTERVAL '1:2:3' HOUR TO SECOND * 10 AS STRING), "
    "CAST('2020-01-02 03:04:05' AS TIMESTAMP FORMAT 'YYYY-MM-DD HH24:MI:SS' AT TIME ZONE 'America/Los_Angeles'), "
    "CAST('2020-01-02 03:04:05' AS DATETIME FORMAT 'YYYY-MM-DD HH24:MI:SS'), "
    "CAST(ts AS STRING FORMAT 'YYYY-MM-DD HH24:MI' AT TIME ZONE 'Asia/Kolkata'), "
    "TIMESTAMP_TRUNC(ts, DAY, 'America/Los_Angeles'), TIMESTAMP_TRUNC(ts, WEEK, 'Asia/Kolkata'), "
    "FORMAT('%T', CAST('nan' AS FLOAT64)), FORMAT('%T', INTERVAL 1 DAY), "
    "JSON_QUERY(j, '$.a[1].b'), JSON_EXTRACT(j, '$.a'), JSON_QUERY(j, '$.n'), JSON_QUERY(j, '$.z'), JSON_QUERY('{\"a.b\": 1}', '$.\"a.b\"'), "
    "JSON_QUERY_ARRAY(j, '$.a'), JSON_VALUE_ARRAY(JSON '{\"s\": [\"x\", 2]}', '$.s'), "
    "FORMAT('%T', [1.5, 2]), FORMAT('%T', STRUCT(1 AS a, 'x' AS b, [DATE '2020-01-01'] AS c)) "
    "FROM (SELECT [1, 2] AS a, 1 AS i, TIMESTAMP '2020-01-02 03:04:05+00' AS ts, JSON '{\"a\": [1, {\"b\": \"x\"}], \"n\": null}' AS j)"
)
EXPECTED = (
    1, 2, 2, 20, 23, "y", "0-0 1 2:3:4", "1-2 0 0:0:0", "0-0 0 10:20:30",
    datetime(2020, 1, 2, 11, 4, 5, tzinfo=UTC), datetime(2020, 1, 2, 3, 4, 5), "2020-01-02 08:34",
    datetime(2020, 1, 1, 8, tzinfo=UTC), datetime(2019, 12, 28, 18, 30, tzinfo=UTC),  # Sunday 2019-12-29 in Kolkata
    'CAST("nan" AS FLOAT64)', 'INTERVAL "0-0 1 0:0:0" YEAR TO SECOND',
    '"x"', '[1,{"b":"x"}]', "null", None, "1",  # JSON_QUERY's string is JSON text, quoted (Spark's GET_JSON_OBJECT unquoted it)
    ["1", '{"b":"x"}'], ["x", "2"],  # Spark had refused CAST(… AS ARRAY<JSON>)
    "[1.5, 2.0]", '(1, "x", [DATE "2020-01-01"])',
)  # fmt: skip


def test_subscripts_intervals_and_zoned_casts_are_bigquerys_on_both_engines(engine):
    assert engine.query(STATEMENT).fetchall() == [EXPECTED]


def test_bare_subscript_past_the_end_fails_on_both_engines(engine):
    with pytest.raises(sqlml.ExecutionError) as caught:
        engine.query("SELECT a[x] FROM (SELECT [1, 2] AS a), UNNEST([2]) AS x").fetchall()
    assert (caught.value.message, caught.value.hint) == ("Array index 2 is out of bounds: the array has 2 elements", "Use SAFE_OFFSET to get NULL instead.")


@pytest.mark.slow  # a Spark query
def test_json_subscripts_are_refused_clearly_on_spark(spark_con):
    # Spark keeps JSON values as STRING: a subscript failed with Spark's INVALID_EXTRACT_BASE_FIELD_TYPE
    with pytest.raises(sqlml.SqlTypeError) as caught:
        spark_con.query("SELECT j['a'] FROM (SELECT JSON '{\"a\": 1}' AS j)").fetchall()
    assert (caught.value.message, caught.value.hint) == (
        "A JSON value's subscript or field (j[0], j['a'], j.a) has no Spark translation yet: Spark keeps JSON values as STRING.",
        "Use JSON_VALUE(j, '$.a') for a scalar or JSON_QUERY(j, '$[0]') for JSON, or run the statement with engine='duckdb'.",
    )
