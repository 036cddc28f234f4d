"""A script run again is not parsed again, and each run still sees the warehouse as it is then."""

from __future__ import annotations

import pytest
import sqlglot

import sqlml
from sqlml.sql.dialect import Sqlml
from sqlml.sql.parsed_scripts import MAX_LENGTH, parse_script


def test_the_same_text_gets_its_own_copy_of_the_same_trees():
    first, nodes = parse_script("SELECT 1 AS x; SELECT 'A' AS y", Sqlml)
    second, again = parse_script("SELECT 1 AS x; SELECT 'A' AS y", Sqlml)
    assert again is nodes  # not split again
    for node in nodes:
        assert first.parse_statement(node) == second.parse_statement(node)
        assert first.parse_statement(node) is not second.parse_statement(node)
    first.parse_statement(nodes[1]).selects[0].set("alias", sqlglot.exp.to_identifier("changed"))
    assert second.parse_statement(nodes[1]).sql(dialect=Sqlml) == "SELECT 'A' AS y"
    assert parse_script("SELECT 1 AS x; SELECT 'A' AS y", Sqlml)[0].parse_statement(nodes[1]).sql(dialect=Sqlml) == "SELECT 'A' AS y"


def test_scripts_with_procedural_blocks_or_long_text_are_parsed_each_time():
    script = "DECLARE x INT64 DEFAULT 1; IF x > 0 THEN SELECT x; END IF"
    assert parse_script(script, Sqlml)[1] is not parse_script(script, Sqlml)[1]
    long = "SELECT 1 AS x" + " " * MAX_LENGTH
    assert parse_script(long, Sqlml)[1] is not parse_script(long, Sqlml)[1]


def test_a_statement_run_again_reads_the_default_dataset_of_the_moment():
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE SCHEMA a; CREATE SCHEMA b; CREATE TABLE a.t AS SELECT 1 AS v; CREATE TABLE b.t AS SELECT 2 AS v")
        connection.query("SET @@dataset_id = 'a'")
        assert connection.query("SELECT v FROM t").fetchall() == [(1,)]
        assert connection.query("SELECT v FROM t").fetchall() == [(1,)]
        connection.query("SET @@dataset_id = 'b'")
        assert connection.query("SELECT v FROM t").fetchall() == [(2,)]


def test_a_syntax_error_is_reported_at_its_place_every_time():
    with sqlml.connect(":memory:") as connection:
        for _ in range(2):
            with pytest.raises(sqlml.SqlSyntaxError, match=r"line 2"):
                connection.query("SELECT 1;\nSELECT FROM WHERE")
