"""ML.DESCRIBE_DATA describes each leaf of a STRUCT column, at any depth, as BigQuery does
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-describe-data):
the fields are found through the engine seam's relation types, not DuckDB's type parser."""

from __future__ import annotations

import statistics

import sqlml


def test_struct_columns_are_described_field_by_field_at_any_depth():
    with sqlml.connect(":memory:") as con:
        rows = con.query(
            """CREATE SCHEMA ds;
            CREATE TABLE ds.t AS SELECT * FROM UNNEST([
              STRUCT(1 AS id, STRUCT(2.5 AS x, STRUCT([1, 2] AS z, 'a' AS w) AS y) AS s),
              STRUCT(2, STRUCT(NULL, STRUCT([3], 'b')))]);
            SELECT name, num_rows, num_nulls, min, max, mean FROM ML.DESCRIBE_DATA(TABLE ds.t)"""
        ).fetchall()
    assert rows == [
        ("id", 2, 0, "1", "2", statistics.mean([1, 2])),
        ("s.x", 2, 1, "2.5", "2.5", 2.5),
        ("s.y.z", 2, 0, "1", "3", statistics.mean([1, 2, 3])),  # an array's elements
        ("s.y.w", 2, 0, "a", "b", None),
    ]


def test_a_one_column_table_from_a_temp_table_in_a_transaction():
    # one column: the query is a lone parenthesized part, whose own WITH DuckDB dropped under the
    # caller's WITH __data; a TEMP table and an open transaction read it on the session's cursor
    with sqlml.connect(":memory:") as con:
        con.query("CREATE TEMP TABLE one AS SELECT x FROM UNNEST([4, 1, 3, NULL]) AS x; BEGIN TRANSACTION")
        rows = con.query("SELECT name, num_rows, num_nulls, min, max, mean FROM ML.DESCRIBE_DATA(TABLE one, STRUCT())").fetchall()
        con.query("COMMIT TRANSACTION")
    assert rows == [("x", 4, 1, "1", "4", statistics.mean([4, 1, 3]))]
