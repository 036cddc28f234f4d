"""What sqlglot lets through but BigQuery refuses is a SqlSyntaxError at the right line and column."""

from __future__ import annotations

import pytest
import sqlglot

import sqlml
from sqlml.sql.dialect import DIALECTS

STATEMENT_HINT = "Start a statement with a keyword such as SELECT"


def syntax_error(con, sql: str) -> sqlml.SqlSyntaxError:
    with pytest.raises(sqlml.SqlSyntaxError) as caught:
        con.query(sql)
    return caught.value


def where(error: sqlml.Error) -> tuple:
    return error.location.statement, error.location.line, error.location.col


@pytest.mark.parametrize(
    ("sql", "message", "place"),
    [
        ("''", "Syntax error: '' is an expression, not a statement", (1, 1, 1)),
        ("SELECT 1;\n(1)", "Syntax error: (1) is an expression, not a statement", (2, 2, 1)),
        ("x + 1", "Syntax error: a statement cannot start with 'x'", (1, 1, 1)),
        ("SHOW TABLES", "Syntax error: a statement cannot start with 'SHOW'", (1, 1, 1)),
        ("ML.PREDICT(MODEL ds.m, TABLE ds.t)", "Syntax error: a statement cannot start with 'ML'", (1, 1, 1)),
        ("SELECT 1; +", "Syntax error: unexpected '+'", (2, 1, 11)),
    ],
)
def test_an_expression_is_not_a_statement(con, sql, message, place):
    error = syntax_error(con, sql)
    assert error.message == message
    assert where(error) == place
    assert error.hint.startswith(STATEMENT_HINT)


def test_an_expression_statement_in_an_exception_handler_is_a_syntax_error(con):
    error = syntax_error(con, "BEGIN SELECT 1/0; EXCEPTION WHEN ERROR THEN ''; END")
    assert error.message == "Syntax error: '' is an expression, not a statement"
    assert where(error) == (1, 1, 45)


@pytest.mark.parametrize(
    ("sql", "message", "col"),
    [
        ("ELSE", "Syntax error: ELSE without a matching IF or CASE", 1),
        ("SELECT 1; END IF", "Syntax error: END IF without a matching IF", 11),
        ("BEGIN SELECT 1; END LOOP; END", "Syntax error: END LOOP without a matching LOOP", 17),
        ("BEGIN ELSEIF; END", "Syntax error: ELSEIF without a matching IF", 7),
        ("WHEN 1 THEN SELECT 1", "Syntax error: WHEN without a matching CASE", 1),
        ("IF TRUE THEN SELECT 1; END IF; UNTIL TRUE", "Syntax error: UNTIL without a matching REPEAT", 32),
    ],
)
def test_a_block_keyword_outside_its_block_is_a_syntax_error(con, sql, message, col):
    error = syntax_error(con, sql)
    assert error.message == message
    assert error.location.col == col
    assert "IF … END IF" in error.hint


def test_create_view_without_its_query_is_a_syntax_error(con):
    con.query("CREATE SCHEMA ds")
    error = syntax_error(con, "CREATE VIEW ds.v")
    assert error.message == "Syntax error: CREATE VIEW needs AS <query>"
    assert error.hint == "Define the view by its query: CREATE VIEW ds.v AS SELECT …"
    assert where(error) == (1, 1, 16)
    assert con.relation_kind("ds.v") is None


@pytest.mark.parametrize(
    ("sql", "code", "place"),
    [
        ("\u200b", "U+200B (ZERO WIDTH SPACE)", (1, 1)),
        ("SELECT 1,\n  2\u200b", "U+200B (ZERO WIDTH SPACE)", (2, 4)),
        ("SELECT 1;\ufeffSELECT 2", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)", (1, 10)),
        ("SELECT\u2060 1", "U+2060 (WORD JOINER)", (1, 7)),
        ("SELECT \x00", "U+0000", (1, 8)),
    ],
)
def test_invisible_characters_outside_strings_are_illegal(con, sql, code, place):
    error = syntax_error(con, sql)
    assert error.message == f"Syntax error: illegal input character {code}"
    assert (error.location.line, error.location.col) == place
    assert error.hint.startswith("It is invisible in most editors; delete it.")


def test_invisible_characters_in_strings_names_and_comments_are_data(con):
    result = con.query("SELECT '\u200b' AS `a\u200bb` -- \u200b\n/* \ufeff */")
    assert result.columns == ["a\u200bb"]
    assert result.fetchall() == [("\u200b",)]


def test_a_leading_byte_order_mark_is_ignored(con):
    assert con.query("\ufeffSELECT 1 AS x").fetchall() == [(1,)]
    assert con.query("\ufeff").fetchall() == []
    con.query("CREATE SCHEMA ds")
    error = syntax_error(con, "\ufeffSELECT 1 +")  # columns count from after the mark
    assert (error.location.line, error.location.col) == (1, 10)


def test_a_lone_surrogate_is_not_valid_unicode_and_the_message_still_prints(con):
    error = syntax_error(con, "SELECT 1;\nSELECT 'a\ud800'")
    assert error.message == "The SQL text is not valid Unicode: it holds the lone surrogate U+D800."
    assert (error.location.line, error.location.col) == (2, 10)
    assert "SELECT 'a?'" in str(error)
    str(error).encode("utf-8")  # printable: the excerpt has no surrogate left


@pytest.mark.parametrize(
    ("sql", "name", "place"),
    [
        ("SELECT 1 WHERE (EXISTS(SELECT DATE_ADD()))", "DATE_ADD", (1, 1, 31)),  # sqlglot's builder returned None
        ("SELECT\n  REGEXP_EXTRACT('a')", "REGEXP_EXTRACT", (1, 2, 3)),  # … indexed past the argument list
        ("SELECT WEEK()", "WEEK", (1, 1, 8)),  # … converted an empty name
        ("SELECT TIMESTAMP_SUB(1)", "TIMESTAMP_SUB", (1, 1, 8)),
    ],
)
def test_a_function_given_arguments_it_cannot_take_is_a_syntax_error_at_the_call(con, sql, name, place):
    error = syntax_error(con, sql)
    assert error.message == f"Syntax error: wrong number or kind of arguments for {name}(...)"
    assert where(error) == place


def test_every_builtin_function_given_odd_arguments_parses_or_is_a_syntax_error():
    """No argument list makes a known function's parser fail with anything but a syntax error."""
    odd_arguments = ["", "1", "1, 2", "x, 2, 3", "*", "DISTINCT 1", "1 AS a", "(SELECT 1)"]
    for dialect in DIALECTS.values():
        for name in sorted({*dialect.Parser.FUNCTIONS, *dialect.Parser.FUNCTION_PARSERS}):
            for arguments in odd_arguments:
                try:
                    sqlglot.parse_one(f"SELECT {name}({arguments})", read=dialect)
                except sqlglot.errors.ParseError:
                    pass
