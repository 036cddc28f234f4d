"""ARRAY(subquery) on Spark (engine/spark/array_subqueries.py): a scalar subquery collecting the
rows, in the subquery's ORDER BY, NULL elements kept, no rows an empty array (never NULL), as
BigQuery's ARRAY does; correlated or not, on both engines.
https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#array
"""

from __future__ import annotations


def test_array_subqueries_keep_order_nulls_and_give_empty_arrays(engine):
    # not a UNION ALL for t: Spark 4.0's optimizer fails on a correlated subquery over one
    rows = engine.query(
        "WITH t AS (SELECT * FROM UNNEST([STRUCT(1 AS id, [3, 1, 2] AS arr), (2, []), (3, NULL)])), "
        "u AS (SELECT * FROM UNNEST([STRUCT(1 AS id, 10 AS v, 'a' AS w), (1, 5, 'b'), (2, 7, 'c'), (1, NULL, 'd')])) "
        "SELECT id, ARRAY(SELECT x * 2 AS d FROM UNNEST(arr) AS x ORDER BY -d DESC), "
        "ARRAY(SELECT AS STRUCT w, v AS z FROM u WHERE u.id = t.id ORDER BY v LIMIT 2), "
        "ARRAY(SELECT 1 UNION ALL SELECT 2 ORDER BY 1 DESC) "
        "FROM t ORDER BY id"
    ).fetchall()
    assert rows == [
        (1, [2, 4, 6], [{"w": "d", "z": None}, {"w": "b", "z": 5}], [2, 1]),
        (2, [], [{"w": "c", "z": 7}], [2, 1]),
        (3, [], [], [2, 1]),
    ]
