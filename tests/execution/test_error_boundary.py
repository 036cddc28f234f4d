"""At the executor's boundary every exception becomes a sqlml.Error that names the statement."""

from __future__ import annotations

import dataclasses

import pytest
from sqlglot.errors import ParseError, UnsupportedError

import sqlml
from sqlml.script.interpreter import Interpreter


def _put_first(monkeypatch, con, applies, handler):
    """Make ``handler`` run the statements of every kind for which ``applies(context)`` is true."""
    table = con._executor.table

    def first(original):
        return lambda context: handler(context) if applies(context) else original(context)

    handlers = {kind: first(original) for kind, original in table.handlers.items()}
    monkeypatch.setattr(con._executor, "table", dataclasses.replace(table, handlers=handlers))


@pytest.fixture
def broken_handler(monkeypatch, con):
    """A statement handler with a bug: it raises KeyError for statements that mention 'boom'."""

    def handler(context):
        raise KeyError("boom")

    applies = lambda context: "boom" in context.plan.tree.sql()  # noqa: E731
    _put_first(monkeypatch, con, applies, handler)


def test_a_bug_in_a_handler_is_an_internal_error_naming_the_statement(con, broken_handler):
    with pytest.raises(sqlml.ExecutionError) as caught:
        con.query("SELECT 1;\nSELECT 'boom'")
    error = caught.value
    assert error.message == "Internal error: KeyError: 'boom'"
    assert error.hint == "This is a bug in sqlml, not in your SQL; please report it with the statement."
    assert (error.location.statement, error.location.line, error.location.col) == (2, 2, 1)
    assert isinstance(error.__cause__, KeyError)  # the original, for --debug and bug reports
    assert con.query("SELECT 2").fetchall() == [(2,)]


def test_an_internal_error_is_caught_by_an_exception_handler(con, broken_handler):
    rows = con.query("BEGIN SELECT 'boom'; EXCEPTION WHEN ERROR THEN SELECT @@error.message AS m; END").fetchall()
    assert rows == [("Internal error: KeyError: 'boom'",)]


def test_a_bug_outside_any_statement_is_an_internal_error_at_the_top_level_node(con, monkeypatch):
    def broken(self, node, scope):
        raise AttributeError("'NoneType' object has no attribute 'kind'")

    monkeypatch.setattr(Interpreter, "_loop", broken)
    with pytest.raises(sqlml.ExecutionError) as caught:
        con.query("SELECT 1;\n  LOOP BREAK; END LOOP")
    error = caught.value
    assert error.message == "Internal error: AttributeError: 'NoneType' object has no attribute 'kind'"
    assert (error.location.statement, error.location.line, error.location.col) == (2, 2, 3)
    assert isinstance(error.__cause__, AttributeError)


def test_a_failed_transaction_is_rolled_back_after_an_internal_error(con, broken_handler):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.t (x INT64)")
    with pytest.raises(sqlml.ExecutionError, match="Internal error"):
        con.query("BEGIN TRANSACTION; INSERT INTO ds.t VALUES (1); SELECT 'boom'; COMMIT")
    assert con.query("SELECT COUNT(*) FROM ds.t").fetchall() == [(0,)]


@pytest.mark.parametrize(
    ("sql", "detail"),
    [
        ("SELECT DATE_SUB(DATE '0001-01-01', INTERVAL 1 DAY)", "date value out of range"),
        ("SELECT 1;\nSELECT CAST('infinity' AS DATE)", "days=2147483647; must have magnitude <= 999999999"),
    ],
)
def test_a_date_python_cannot_hold_is_a_type_error_at_its_statement(con, sql, detail):
    # DuckDB's dates go past BigQuery's (and Python's) 0001-01-01 to 9999-12-31
    result = con.query(sql)
    assert result.arrow().num_rows == 1  # Arrow holds it
    with pytest.raises(sqlml.SqlTypeError) as caught:
        result.fetchall()
    assert caught.value.message == f"A value of the result cannot be read into Python: {detail}."
    assert caught.value.hint.startswith("BigQuery's DATE, DATETIME and TIMESTAMP values run from 0001-01-01 to 9999-12-31")
    assert caught.value.location.statement == sql.count(";") + 1


@pytest.mark.parametrize(
    ("raised", "kind", "message"),
    [
        (RecursionError("maximum recursion depth exceeded"), sqlml.SqlSyntaxError, "The statement is nested too deeply (more than 100 levels"),
        (ParseError("Expected table name"), sqlml.SqlSyntaxError, "Syntax error: Expected table name"),
        (UnsupportedError("PIVOT with subqueries"), sqlml.UnsupportedStatementError, "DuckDB has no translation for this statement: PIVOT with subqueries"),
        (MemoryError(), sqlml.ExecutionError, "The statement ran out of memory."),
    ],
)
def test_the_limits_of_the_libraries_underneath_have_their_own_errors(con, monkeypatch, raised, kind, message):
    def handler(context):
        raise raised

    _put_first(monkeypatch, con, lambda context: True, handler)
    with pytest.raises(kind) as caught:
        con.query("SELECT 1")
    assert caught.value.message.startswith(message)
    assert caught.value.location.statement == 1


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("SELECT SUM(x) FROM UNNEST([9223372036854775807, 1]) AS x", None),
        ("BEGIN SELECT SUM(x) FROM UNNEST([9223372036854775807, 1]) AS x; END", None),
        ("SELECT @p AS v", {"p": 10**30}),
    ],
)
def test_an_integer_past_int64_is_an_overflow_error(con, sql, params):
    # BigQuery: "int64 overflow"; DuckDB adds integers up as HUGEINT, which reads back as INT64
    with pytest.raises(sqlml.SqlTypeError) as caught:
        con.query(sql, params).fetchall()
    assert caught.value.message == "INT64 overflow: a value of the result is outside INT64's range."
    assert caught.value.location.statement == 1
    assert con.query("SELECT SUM(x) FROM UNNEST([9223372036854775806, 1]) AS x").fetchall() == [(9223372036854775807,)]


@pytest.mark.parametrize(("sql", "kind"), [(None, "NoneType"), (b"SELECT 1", "bytes"), (1, "int")])
def test_sql_that_is_not_text_is_a_parameter_error(con, sql, kind):
    with pytest.raises(sqlml.ParameterError) as caught:
        con.query(sql)
    assert caught.value.message == f"The SQL must be text (a str), not {kind}."
    assert (caught.value.hint is not None) == (kind == "bytes")
