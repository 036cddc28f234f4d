"""Procedures named as BigQuery names them (``dataset.name``, ``project.dataset.name`` and the
backticked ``` `project.dataset.name` ``` in CREATE PROCEDURE and CALL), and BigQuery's limits on calls."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.script.procedures import routine_name


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE SCHEMA ds")
        yield connection


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (["ds", "p"], ("ds", "p")),
        (["my-project.ds.p"], ("ds", "p")),
        (["ds.p"], ("ds", "p")),
        (["p"], ("fallback", "p")),
    ],
)
def test_routine_names(parts, expected):
    assert routine_name(parts, "fallback") == expected


@pytest.mark.parametrize(
    "name",
    ["ds.double_it", "my_project.ds.double_it", "`my-project.ds.double_it`", "`my-project`.ds.double_it", "`ds.double_it`"],
)
def test_create_and_call_with_three_part_names(con, name):
    con.query(f"CREATE OR REPLACE PROCEDURE {name}(x INT64, OUT y INT64) BEGIN SET y = x * 2; END")
    for call in ("ds.double_it", "`my-project.ds.double_it`", "other_project.ds.double_it"):
        assert con.query(f"DECLARE y INT64; CALL {call}(21, y); SELECT y").fetchall() == [(42,)]


def test_an_unqualified_procedure_needs_a_dataset(con):
    with pytest.raises(sqlml.SqlSyntaxError, match=r"Expected CREATE PROCEDURE dataset\.name\(parameters\)"):
        con.query("CREATE PROCEDURE lonely() BEGIN SELECT 1; END")


def test_procedure_calls_nest_at_most_fifty_deep(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/procedural-language#call
    con.query(
        """CREATE OR REPLACE PROCEDURE ds.down(IN n INT64, INOUT deepest INT64) BEGIN
  SET deepest = n;
  IF n > 0 THEN CALL ds.down(n - 1, deepest); END IF;
END"""
    )
    assert con.query("DECLARE d INT64 DEFAULT -1; CALL ds.down(49, d); SELECT d").fetchall() == [(0,)]  # 50 calls
    with pytest.raises(sqlml.ScriptError) as caught:
        con.query("DECLARE d INT64; CALL ds.down(50, d)")
    assert caught.value.message == (
        "Procedure calls nest at most 50 deep; calling procedure ds.down here would go deeper. (in procedure ds.down, called from line 3)"
    )
    assert (caught.value.location.path, caught.value.location.line, caught.value.location.col) == ("procedure ds.down", 3, 17)


def test_endless_recursion_ends_at_the_call_depth_limit(con):
    # it ended as "The statement is nested too deeply (more than 100 levels of parentheses …)"
    with pytest.raises(sqlml.ScriptError) as caught:
        con.query("CREATE OR REPLACE PROCEDURE ds.r() BEGIN CALL ds.r(); END; CALL ds.r()")
    assert caught.value.message == "Procedure calls nest at most 50 deep; calling procedure ds.r here would go deeper. (in procedure ds.r, called from line 1)"


@pytest.mark.parametrize(("sql", "verb"), [("CALL ds.r()", "CALL"), ("EXECUTE IMMEDIATE 'SELECT 1'", "EXECUTE IMMEDIATE")])
def test_execute_immediate_does_not_run_call_or_itself(con, sql, verb):
    # https://cloud.google.com/bigquery/docs/multi-statement-queries#security_constraints
    with pytest.raises(sqlml.ScriptError) as caught:
        con.query(f'EXECUTE IMMEDIATE "{sql}"')
    assert caught.value.message == f"EXECUTE IMMEDIATE cannot run {verb}."
