"""DuckDB's bad-value errors in BigQuery's words (sqlml.engine.duckdb.values), the same message and
hint as the Spark engine's (tests/engine/spark/test_executor_errors.py)."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.engine.duckdb.values import Worded, bad_value
from sqlml.sql.messages import SAFE_CAST_HINT

CASES = [
    ("SELECT DIV(x, y) FROM (SELECT 1 AS x, 0 AS y)", "Use SAFE_DIVIDE to get NULL where the divisor is 0."),
    ("SELECT MOD(x, x - 1) FROM UNNEST([1]) AS x", "Use SAFE.MOD to get NULL where the divisor is 0."),
    ("SELECT MOD(DIV(x, 1), x - 1) FROM UNNEST([1]) AS x", "Use SAFE.MOD to get NULL where the divisor is 0."),  # the failing one
]


@pytest.mark.parametrize(("sql", "hint"), CASES, ids=["div", "mod", "mod_of_div"])
def test_division_by_zero_names_the_safe_form(con, sql, hint):
    with pytest.raises(sqlml.ExecutionError) as caught:
        con.query(sql).fetchall()
    assert (caught.value.message, caught.value.hint) == ("division by zero", hint)


def test_an_unreadable_expression_names_both_safe_forms():
    message = "Invalid Input Error: Division by zero in expression ((x. Use TRY(...) to return NULL for this expression"
    assert bad_value(message) == Worded("division by zero", "Use SAFE_DIVIDE or SAFE.MOD to get NULL where the divisor is 0.")


def test_a_string_that_holds_no_int64_is_a_conversion_with_the_safe_cast_fix():
    # the front end's error() for CAST(s AS INT64) of a STRING that is not digits (sqlml.sql.numbers)
    worded = bad_value("Invalid Input Error: Bad int64 value: 2.5")
    assert worded == Worded("Bad int64 value: 2.5", SAFE_CAST_HINT, conversion=True)


def test_other_errors_are_not_bad_values():
    assert bad_value("Catalog Error: Table with name t does not exist!") is None
