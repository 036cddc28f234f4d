"""DuckDB text for BigQuery statements: linear in the statement's size, divisions checked at every level."""

from __future__ import annotations

import pytest
import sqlglot

import sqlml
from sqlml.sql import depth
from sqlml.sql.dialect import Sqlml
from sqlml.sql.transpile import to_duckdb


def generated_length(sql: str) -> int:
    return len(to_duckdb(depth.call(lambda: sqlglot.parse_one(sql, read=Sqlml))))


@pytest.mark.parametrize(
    "opening",
    ["(x / (", "(SELECT 1 / ", "SAFE_DIVIDE(1, ", "SAFE_DIVIDE(", "(1 / 2 / "],
)
def test_nested_divisions_generate_linear_text(opening):
    # Each operand was pasted into the zero check, the message and the division: 3^depth.
    closing = ", 2)" if opening == "SAFE_DIVIDE(" else ")" * opening.count("(")
    length = lambda levels: generated_length(f"SELECT {opening * levels}x{closing * levels}")  # noqa: E731
    assert length(24) < 2.5 * length(12)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1 / 0 / 2", "division by zero: 1 / 0"),
        ("SELECT 2 / (1 / 0)", "division by zero: 1 / 0"),
        ("SELECT 8 / (4 / (2 - 2))", "division by zero: 4 / 0"),
        ("SELECT x / (x / 2) / 0 FROM UNNEST([4]) AS x", "division by zero: 2.0 / 0"),
    ],
)
def test_every_division_of_a_chain_fails_on_zero_as_in_bigquery(con, sql, message):
    with pytest.raises(sqlml.ExecutionError) as caught:
        con.query(sql).fetchall()
    assert caught.value.message == message


def test_division_chains_and_safe_division_keep_their_values(con):
    rows = con.query(
        "SELECT 1 / 2 / 4, 8 / (4 / 2), 1 / NULL, SAFE_DIVIDE(1, 0), SAFE_DIVIDE(5, 2), SAFE_DIVIDE(1 + 1, 2 - 1), "
        "SAFE_DIVIDE(NULL, 1), SAFE_DIVIDE(1, SAFE_DIVIDE(1, 0)), IEEE_DIVIDE(1, 0)"
    ).fetchall()
    assert rows == [(0.125, 4.0, None, None, 2.5, 2.0, None, None, float("inf"))]
