"""Statements nest up to MAX_NESTING levels; past that, and past DuckDB's and Arrow's limits, one clear error."""

from __future__ import annotations

import sys

import pytest

import sqlml
from sqlml.sql import depth
from sqlml.sql.depth import MAX_NESTING

#: (opening, closing, expected value) of one level of each way to nest an expression.
NESTINGS = {
    "parentheses": ("(", ")", 1),
    "function calls": ("ABS(", ")", 1),
    "scalar subqueries": ("(SELECT ", ")", 1),
    "CASE": ("CASE WHEN TRUE THEN ", " END", 1),
    "COALESCE": ("COALESCE(", ", 2)", 1),
    "STRUCT fields": ("STRUCT(", " AS a).a", 1),
    "divisions": ("(2 / ", ")", None),
}


def nested(opening: str, closing: str, levels: int, inner: str = "1") -> str:
    return opening * levels + inner + closing * levels


@pytest.mark.parametrize("kind", NESTINGS)
def test_statements_nest_up_to_the_limit(con, kind):
    opening, closing, value = NESTINGS[kind]
    rows = con.query(f"SELECT {nested(opening, closing, MAX_NESTING)} AS v").fetchall()
    expected = value if value is not None else (2.0 if MAX_NESTING % 2 else 1.0)  # 2/(2/(…/1)): 2, 1, 2, 1 …
    assert rows == [(expected,)]


@pytest.mark.parametrize("kind", NESTINGS)
def test_one_level_more_is_a_clear_syntax_error(con, kind):
    opening, closing, _ = NESTINGS[kind]
    with pytest.raises(sqlml.SqlSyntaxError) as caught:
        con.query(f"SELECT 1;\nSELECT {nested(opening, closing, MAX_NESTING + 1)}")
    error = caught.value
    assert error.message == (
        "The statement is nested too deeply (more than 100 levels of parentheses, brackets, CASE, subqueries or blocks)."
    )
    assert error.hint == "Simplify it: move inner parts into WITH clauses, views or script variables."
    # the caret is under the parenthesis (or CASE) that goes one level too deep
    assert (error.location.statement, error.location.line) == (2, 2)
    assert error.location.col == 8 + MAX_NESTING * len(opening) + (0 if opening.startswith("CASE") else opening.index("("))


def test_nesting_is_counted_in_procedural_conditions_too(con):
    assert con.query(f"IF {nested('(', ')', MAX_NESTING, 'TRUE')} THEN SELECT 'yes'; END IF").fetchall() == [("yes",)]
    with pytest.raises(sqlml.SqlSyntaxError, match=r"^The statement is nested too deeply \(more than 100 levels"):
        con.query(f"IF {nested('(', ')', MAX_NESTING + 1, 'TRUE')} THEN SELECT 'yes'; END IF")


@pytest.mark.parametrize(("opening", "closing"), [("BEGIN ", " END;"), ("IF TRUE THEN ", " END IF;"), ("LOOP ", " BREAK; END LOOP;")])
def test_procedural_blocks_nest_up_to_the_limit(con, opening, closing):
    assert con.query(nested(opening, closing, MAX_NESTING, "SELECT 'in';")).fetchall() == [("in",)]
    with pytest.raises(sqlml.SqlSyntaxError) as caught:
        con.query(nested(opening, closing, MAX_NESTING + 1, "SELECT 'in';"))
    assert caught.value.message.startswith("The statement is nested too deeply (more than 100 levels")
    assert (caught.value.location.statement, caught.value.location.col) == (1, 1 + MAX_NESTING * len(opening))


def test_deep_statements_create_tables_views_and_models(con):
    deep = nested("(", ")", MAX_NESTING, "x")
    con.query(f"""
        CREATE SCHEMA ds;
        CREATE TABLE ds.t AS SELECT x, {deep} * 2.0 + 1 AS label FROM UNNEST(GENERATE_ARRAY(1, 20)) AS x;
        CREATE VIEW ds.v AS SELECT {deep} AS x FROM ds.t;
        CREATE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['label']) AS SELECT {deep} AS x, label FROM ds.t;
    """)
    assert con.query("SELECT SUM(x) FROM ds.v").fetchall() == [(210,)]
    inner = nested("(", ")", MAX_NESTING - 2, "x")  # ML.PREDICT( and (SELECT are two levels
    rows = con.query(f"SELECT ROUND(predicted_label, 6) FROM ML.PREDICT(MODEL ds.m, (SELECT {inner} AS x FROM ds.t)) ORDER BY x LIMIT 2")
    assert rows.fetchall() == [(3.0,), (5.0,)]


def test_duckdb_expression_depth_is_a_clear_syntax_error(con):
    # A scalar subquery around a division is ten levels of DuckDB expression once translated:
    # 99 of them fit in DuckDB's 1,000, the 100th (still within sqlml's own limit) does not.
    division = lambda levels: f"SELECT {nested('(SELECT 1 / ', ')', levels, 'x')} FROM UNNEST([1]) AS x"  # noqa: E731
    assert con.query(division(99)).fetchall() == [(1.0,)]
    with pytest.raises(sqlml.SqlSyntaxError) as caught:
        con.query(division(100))
    assert caught.value.message == (
        "The statement is nested too deeply for DuckDB: once translated, its expressions go more than 1000 levels deep."
    )
    assert caught.value.hint.startswith("Simplify it: split long chains of operators")


def test_values_nested_past_arrow_s_limit_are_a_clear_error(con):
    assert con.query(f"SELECT {nested('[', ']', 62)} AS v").arrow().num_rows == 1
    with pytest.raises(sqlml.ExecutionError) as caught:
        con.query(f"SELECT {nested('[', ']', 63)} AS v").fetchall()
    assert caught.value.message == (
        "The result holds values nested too deeply to return: Arrow allows 62 levels of ARRAY and STRUCT."
    )
    # inside a script the value is read at once, and the error is the same
    with pytest.raises(sqlml.ExecutionError, match="Arrow allows 62 levels"):
        con.query(f"BEGIN SELECT {nested('STRUCT(', ' AS a)', 63)}; END")


def _recurse(levels: int) -> int:
    return 0 if levels == 0 else 1 + _recurse(levels - 1)


def test_call_retries_on_a_deep_stack_and_restores_the_frame_limit():
    limit = sys.getrecursionlimit()
    assert depth.call(_recurse, limit + 500) == limit + 500  # more frames than the caller's thread allows
    assert sys.getrecursionlimit() == limit
    with pytest.raises(RecursionError):
        depth.call(_recurse, 10**6)
    assert sys.getrecursionlimit() == limit
