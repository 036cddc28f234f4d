"""Column-typed BigQuery rewrites (sqlml.sql.typed_columns) on both engines, in one statement: a
column's INTERVAL cast to STRING and printed by FORMAT('%T', …), ARRAY and STRUCT columns printed by
%T, and positional subscripts of a STRUCT column, the types read from the warehouse's table (the
DuckDB cases in detail: tests/sql/test_typed_column_rewrites.py). An INTERVAL column keeps Spark's
text there: its catalog says INTERVAL for both of Spark's interval types, whose parts differ.
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#interval_type
https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#format_string
https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#struct_subscript_operator
"""

from __future__ import annotations

STATEMENT = (
    "WITH c AS (SELECT i AS j, s AS u FROM ds.t) "
    "SELECT FORMAT('%T', l), FORMAT('%T', s), s[0], s[OFFSET(1)], t.s[ORDINAL(2)], "
    "(SELECT u[1] FROM c), CAST(i AS STRING) FROM ds.t AS t"
)
EXPECTED = ("[1, 2]", '(1, "x")', 1, "x", "x", "x")
INTERVAL_TEXT = {"con": "0-0 1 2:3:4", "spark_con": "INTERVAL '1 02:03:04' DAY TO SECOND"}


def test_column_typed_rewrites_on_both_engines(engine, request):
    engine.query(
        "CREATE SCHEMA IF NOT EXISTS ds; CREATE OR REPLACE TABLE ds.t AS "
        "SELECT INTERVAL '1 2:3:4' DAY TO SECOND AS i, STRUCT(1 AS a, 'x' AS b) AS s, [1, 2] AS l"
    )
    assert engine.query(STATEMENT).fetchall() == [(*EXPECTED, INTERVAL_TEXT[request.node.callspec.params["engine"]])]
