"""Procedures named as BigQuery names them: ``dataset.name``, ``project.dataset.name`` and the
backticked ``` `project.dataset.name` ``` in CREATE PROCEDURE and CALL."""

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
