"""UNNEST of STRUCT arrays (fields as columns) and UNNEST joins with a condition, on both engines
(engine/spark/inline.py, laterals.py): BigQuery's rows, whatever the engine."""

from __future__ import annotations

import pytest
from sqlglot import parse_one

import sqlml

from sqlml.engine.spark.translate import to_spark

_ROWS = "(SELECT 1 AS id, [STRUCT(1 AS a, 'x' AS b), STRUCT(2, 'y')] AS arr UNION ALL SELECT 2, [] UNION ALL SELECT 3, NULL)"

#: (statement, BigQuery's rows): FROM, comma and LEFT joins, alias, WITH OFFSET, ON conditions.
CASES = [
    ("SELECT * FROM UNNEST([STRUCT(1 AS a, 'x' AS b), (2, 'y')]) ORDER BY a", [(1, "x"), (2, "y")]),
    ("SELECT * FROM UNNEST([3, 4]) ORDER BY 1", [(3,), (4,)]),  # scalars: BigQuery's f0_
    (f"SELECT t.id, a, b FROM {_ROWS} AS t, UNNEST(t.arr) ORDER BY t.id, a", [(1, 1, "x"), (1, 2, "y")]),
    (f"SELECT t.id, a FROM {_ROWS} AS t LEFT JOIN UNNEST(t.arr) ORDER BY t.id, a", [(1, 1), (1, 2), (2, None), (3, None)]),
    (f"SELECT t.id, b FROM {_ROWS} AS t LEFT JOIN UNNEST(t.arr) ON a > 1 ORDER BY t.id", [(1, "y"), (2, None), (3, None)]),
    (f"SELECT t.id, s.b FROM {_ROWS} AS t JOIN UNNEST(t.arr) AS s ON s.a = t.id ORDER BY t.id", [(1, "x")]),
    # every element of row 1 fails the condition: the row stays once, with NULLs
    (f"SELECT t.id, s.b, o FROM {_ROWS} AS t LEFT JOIN UNNEST(t.arr) AS s WITH OFFSET AS o ON o > 5 ORDER BY t.id",
     [(1, None, None), (2, None, None), (3, None, None)]),
    (f"SELECT t.id, s FROM {_ROWS} AS t LEFT JOIN UNNEST([10, 20]) AS s ON s > t.id * 10 ORDER BY t.id, s", [(1, 20), (2, None), (3, None)]),
    # a later join reads the elements: the UNNEST stays in its place among the joins
    (f"SELECT t.id, s.a, u.k FROM {_ROWS} AS t LEFT JOIN UNNEST(t.arr) AS s LEFT JOIN (SELECT 2 AS k) AS u ON u.k = s.a ORDER BY t.id, s.a",
     [(1, 1, None), (1, 2, 2), (2, None, None), (3, None, None)]),
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_unnest_of_structs_and_joins_on_duckdb(con, sql, expected):
    assert con.query(sql).fetchall() == expected


@pytest.mark.slow  # 10 Spark queries
def test_unnest_of_structs_and_joins_on_spark(spark_con):
    assert [spark_con.query(sql).fetchall() for sql, _ in CASES] == [expected for _, expected in CASES]
    # a column's element type is not known before Spark reads it: an unaliased UNNEST of scalars says what to write
    with pytest.raises(sqlml.Error) as caught:
        spark_con.query("SELECT t.id FROM (SELECT 1 AS id, [1, 2] AS arr) AS t, UNNEST(t.arr)").fetchall()
    assert caught.value.message == (
        "UNNEST(t.arr) without an alias makes the fields of its STRUCT elements columns, and on the Spark engine t.arr "
        "must hold STRUCTs: it holds BIGINT. Give it an alias to read each element as one column: UNNEST(t.arr) AS x."
    )


@pytest.mark.parametrize(
    ("duckdb", "spark"),
    [
        # STRUCT elements: INLINE; scalars: EXPLODE named as BigQuery names them
        ("SELECT a FROM (SELECT UNNEST([{'a': 1}], max_depth => 2) AS f0_)", "SELECT a FROM (SELECT INLINE(ARRAY(STRUCT(1 AS a))))"),
        ("SELECT * FROM (SELECT UNNEST([1, 2], max_depth => 2) AS f0_)", "SELECT * FROM (SELECT EXPLODE(ARRAY(1, 2)) AS f0_)"),
        # the joined row's array: LATERAL subquery with its ON; a LEFT JOIN without one, LATERAL VIEW OUTER
        ("SELECT a FROM t JOIN (SELECT UNNEST(t.arr, max_depth => 2) AS f0_) ON a > 1", "SELECT a FROM t JOIN LATERAL (SELECT INLINE(t.arr)) ON a > 1"),
        ("SELECT s FROM t LEFT JOIN UNNEST(t.arr) AS u(s) ON TRUE", "SELECT s FROM t LATERAL VIEW OUTER EXPLODE(t.arr) u AS s"),
        ("SELECT s FROM t LEFT JOIN UNNEST(t.arr) AS u(s) ON s > 1", "SELECT s FROM t LEFT JOIN LATERAL (SELECT EXPLODE(t.arr) AS s) AS u ON s > 1"),
        (
            "SELECT o FROM t LEFT JOIN (SELECT UNNEST(t.arr) AS x, UNNEST(RANGE(0, LENGTH(t.arr))) AS o) AS u ON TRUE",
            "SELECT o FROM t LATERAL VIEW OUTER POSEXPLODE(t.arr) u AS o, x",
        ),
        # constants: a plain subquery, which Spark joins on any side
        ("SELECT s FROM t RIGHT JOIN UNNEST([1]) AS u(s) ON s = t.x", "SELECT s FROM t RIGHT JOIN (SELECT EXPLODE(ARRAY(1)) AS s) AS u ON s = t.x"),
    ],
)
def test_unnest_forms_are_written_as_spark_generators(duckdb, spark):
    assert to_spark(parse_one(duckdb, read="duckdb")) == spark
