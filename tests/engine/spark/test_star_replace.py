"""SELECT * REPLACE on Spark (engine/spark/stars.py): the star as its column list, in order."""

from __future__ import annotations

import pytest
from sqlglot import parse_one

import sqlml
from sqlml.engine.base import EngineError
from sqlml.engine.spark.stars import expand_star_replace

_CATALOG = {("d", "t"): ["a", "b", "c"]}


def _expanded(sql: str) -> str:
    return expand_star_replace(parse_one(sql, read="duckdb"), lambda dataset, name: _CATALOG.get((dataset, name), [])).sql("duckdb")


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * REPLACE (a * 10 AS a) FROM d.t", 'SELECT a * 10 AS a, "b", "c" FROM d.t'),
        ("SELECT * EXCLUDE (b) REPLACE (c + 1 AS c) FROM (SELECT 1 AS a, 2 AS b, 3 AS c)", 'SELECT "a", c + 1 AS c FROM (SELECT 1 AS a, 2 AS b, 3 AS c)'),
        ("WITH w AS (SELECT * FROM d.t) SELECT * REPLACE ('z' AS b) FROM w", 'WITH w AS (SELECT * FROM d.t) SELECT "a", \'z\' AS b, "c" FROM w'),
        ("SELECT t.* REPLACE (t.a + u.k AS a), u.k FROM d.t JOIN (SELECT 1 AS k) AS u ON TRUE", 'SELECT t.a + u.k AS a, t."b", t."c", u.k FROM d.t JOIN (SELECT 1 AS k) AS u ON TRUE'),
        ("SELECT * EXCLUDE (b) FROM d.t", "SELECT * EXCLUDE (b) FROM d.t"),  # Spark has * EXCEPT
        # FROM UNNEST(structs): the STRUCT's fields
        (
            "SELECT * REPLACE (a + 1 AS a) FROM (SELECT UNNEST([{'a': 1, 'b': 'x'}], max_depth => 2) AS f0_)",
            "SELECT a + 1 AS a, \"b\" FROM (SELECT UNNEST([{'a': 1, 'b': 'x'}], max_depth => 2) AS f0_)",
        ),
    ],
)
def test_star_replace_is_its_column_list(sql, expected):
    assert _expanded(sql) == expected


def test_star_replace_over_unknown_columns_is_a_clear_error():
    with pytest.raises(EngineError) as error:
        _expanded("SELECT * REPLACE (1 AS a) FROM t JOIN u USING (k)")
    assert str(error.value) == (
        "SELECT * REPLACE on the Spark engine needs the columns of its FROM clause, which are not known before the "
        "statement runs (Spark SQL has no * REPLACE). List the columns instead: SELECT expr AS a, b, …"
    )


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * REPLACE (1 AS q) FROM d.t", r"^Column q in SELECT \* REPLACE list does not exist\. The star's columns: a, b, c\.$"),
        ("SELECT * EXCLUDE (q) REPLACE (1 AS a) FROM d.t", r"^Column q in SELECT \* EXCEPT list does not exist\."),
        # both relations have a: Spark would replace both, BigQuery refuses
        ("SELECT * REPLACE (1 AS a) FROM d.t JOIN (SELECT 2 AS a) AS u ON TRUE", r"^Column a in SELECT \* REPLACE list is ambiguous: .* Qualify the star"),
    ],
)
def test_star_replace_names_must_be_the_stars_once(sql, message):
    with pytest.raises(EngineError, match=message):
        _expanded(sql)


@pytest.mark.slow  # 4 Spark queries
def test_star_replace_on_spark_keeps_bigquerys_columns(spark_con):
    spark_con.query("CREATE SCHEMA d; CREATE TABLE d.t AS SELECT 1 AS a, 'x' AS b, 2.5 AS c")
    result = spark_con.query("SELECT * REPLACE (UPPER(b) AS b) FROM d.t")
    assert (result.columns, result.fetchall()) == (["a", "b", "c"], [(1, "X", 2.5)])
    with pytest.raises(sqlml.NotFoundError, match=r"^Unknown table d\.missing\."):
        spark_con.query("SELECT * REPLACE (1 AS a) FROM d.missing")
