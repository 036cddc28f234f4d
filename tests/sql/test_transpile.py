"""DuckDB text for BigQuery statements: linear in the statement's size, divisions checked at every level."""

from __future__ import annotations

import datetime as dt

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
    ("opening", "closing"),
    [
        ("GREATEST(x, ", ")"),  # sqlglot: CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE GREATEST(a, b) END
        ("LEAST(", ", 1)"),
        ("LENGTH(NULLIF(", ", 'a'))"),  # of an operand of unknown type: CASE TYPEOF(a) WHEN 'BLOB' THEN … a … ELSE … a … END
        ("BYTE_LENGTH(NULLIF(", ", 'a'))"),
        ("INSTR('abc', 'b', ", ")"),  # the position three times
        ("REGEXP_INSTR('abc', 'b', ", ")"),
        ("INITCAP(", ")"),
        ("LAST_DAY(", ", WEEK)"),
        ("ARRAY_LENGTH(GENERATE_ARRAY(1, 10, ", "))"),  # the step twice
    ],
)
def test_nested_functions_generate_each_operand_once(opening, closing):
    # Each level of these functions wrote its operand into the text two to five times: 12 levels
    # of GREATEST made 266 KB of SQL, twice as much with each level more.
    length = lambda levels: generated_length(f"SELECT {opening * levels}x{closing * levels} FROM t")  # noqa: E731
    assert length(6) < 2.5 * length(3)  # doubling at each level: 8 times


def test_nested_functions_keep_their_values(con):
    row = con.query(
        "SELECT GREATEST(GREATEST(x, 1), 2), LEAST(LEAST(x, 5), GREATEST(x, 0)), GREATEST(GREATEST(x, NULL), 1), "
        "LENGTH(SUBSTR(CONCAT(s, 'x'), LENGTH(s))), BYTE_LENGTH(SUBSTR(s, BYTE_LENGTH(s) - 4)), INSTR(s, 'l', LENGTH(s) - 3), "
        "REGEXP_INSTR(INITCAP(CONCAT(s, ' ', s)), 'Héllo', LENGTH(s) - 3), INITCAP(INITCAP(s)), "
        "LAST_DAY(LAST_DAY(DATE '2024-01-10', WEEK), WEEK), GENERATE_ARRAY(GREATEST(1, 2), 5, LEAST(2, x)) "
        "FROM UNNEST([STRUCT(3 AS x, 'héllo' AS s)])"
    ).fetchall()[0]
    x, s = 3, "héllo"
    expected = (
        max(max(x, 1), 2), min(min(x, 5), max(x, 0)), None,  # BigQuery: NULL if any argument is NULL
        len((s + "x")[len(s) - 1 :]), len(s.encode()[len(s.encode()) - 5 :]), s.find("l", len(s) - 4) + 1,
        f"{s} {s}".title().find("Héllo", len(s) - 4) + 1, s.title(),
        dt.date(2024, 1, 13),  # the week's Saturday (weeks start on Sunday)
        list(range(max(1, 2), 6, min(2, x))),
    )  # fmt: skip
    assert row == expected


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
