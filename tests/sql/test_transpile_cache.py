"""to_duckdb remembers the text of trees it generated: an identical tree gets the same text,
a tree that differs in anything (case of a string or a name, a comment) gets its own."""

from __future__ import annotations

import sqlglot

import sqlml
from sqlml.sql.dialect import Sqlml
from sqlml.sql.transpile import to_duckdb


def tree(sql: str):
    return sqlglot.parse_one(sql, dialect=Sqlml)


def test_trees_differing_only_in_the_case_of_a_string_or_a_quoted_name_get_their_own_text():
    # sqlglot's own hash/equality of trees ignores case: the cache must not
    assert to_duckdb(tree("SELECT 'A' AS x")) == "SELECT 'A' AS x"
    assert to_duckdb(tree("SELECT 'a' AS x")) == "SELECT 'a' AS x"
    assert to_duckdb(tree("SELECT 1 AS `Ab`")) == 'SELECT CAST(1 AS BIGINT) AS "Ab"'
    assert to_duckdb(tree("SELECT 1 AS `ab`")) == 'SELECT CAST(1 AS BIGINT) AS "ab"'


def test_a_tree_changed_after_generation_is_generated_again():
    statement = tree("SELECT 'v' AS x")
    assert to_duckdb(statement) == "SELECT 'v' AS x"
    statement.selects[0].set("alias", sqlglot.exp.to_identifier("y"))
    assert to_duckdb(statement) == "SELECT 'v' AS y"


def test_the_same_tree_from_each_dialect_gets_that_dialects_text():
    # a DuckDB-dialect statement keeps DuckDB's column names and types; a BigQuery one gets
    # f0_ and INT64 literals
    assert to_duckdb(tree("SELECT 1"), from_bigquery=True) == "SELECT CAST(1 AS BIGINT) AS f0_"
    assert to_duckdb(tree("SELECT 1"), from_bigquery=False) == "SELECT 1"


def test_a_statement_run_again_returns_what_it_returned_the_first_time():
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 'A' AS s UNION ALL SELECT 'a'")
        for _ in range(3):
            assert connection.query("SELECT s FROM ds.t WHERE s = 'A'").fetchall() == [("A",)]
            assert connection.query("SELECT s FROM ds.t WHERE s = 'a'").fetchall() == [("a",)]
        connection.query("SET @@dataset_id = 'ds'")
        assert connection.query("SELECT COUNT(*) FROM t").fetchall() == [(2,)]


def test_rand_in_a_window_key_gets_a_new_seed_each_time_it_is_generated():
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#rand
    statement = tree("SELECT x, ROW_NUMBER() OVER (ORDER BY RAND()) AS n FROM UNNEST([1, 2, 3]) AS x")
    first, second = to_duckdb(statement), to_duckdb(statement)
    assert "HASH(x, " in first and "HASH(x, " in second
    assert first != second
