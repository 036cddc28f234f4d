"""A script is parsed whole before any of it runs, and each of its statements once."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.sql.script import ScriptParser


@pytest.fixture
def con():
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x")
        yield con


def count(con) -> int:
    return con.query("SELECT COUNT(*) FROM ds.t").fetchall()[0][0]


@pytest.mark.parametrize(
    ("later", "message", "col"),
    [
        ("SELECT FROM WHERE;", "Syntax error: expected table name but got 'WHERE'", 13),
        ("IF TRUE THEN SELECT 1; ELSE SELECT * FROM WHERE; END IF;", "Syntax error: expected table name but got 'WHERE'", 43),
        ("WHILE FALSE DO SELECT (; END WHILE;", "Syntax error: incomplete PAREN expression near '('", 23),
        ("BEGIN SELECT 1; EXCEPTION WHEN ERROR THEN SELECT FROM WHERE; END;", "Syntax error: expected table name but got 'WHERE'", 55),
        ("IF 1 + THEN SELECT 1; END IF;", "Syntax error: incomplete ADD expression near '+'", 6),
        ("ASSERT AS 'no condition';", "Expected an expression after ASSERT", 1),
        ("CREATE PROCEDURE ds.p() BEGIN SELECT 1; SELECT FROM WHERE; END;", "Syntax error: expected table name but got 'WHERE'", 53),
    ],
)
def test_a_syntax_error_anywhere_in_a_script_means_nothing_ran(con, later, message, col):
    # BigQuery rejects the whole multi-statement query; sqlml ran the INSERT before the bad statement
    with pytest.raises(sqlml.SqlSyntaxError) as caught:
        con.query(f"INSERT INTO ds.t VALUES (2);\n{later}\nINSERT INTO ds.t VALUES (3)")
    assert caught.value.message == message
    assert (caught.value.location.statement, caught.value.location.line, caught.value.location.col) == (2, 2, col)
    assert count(con) == 1
    assert con.query("SELECT COUNT(*) FROM ds.INFORMATION_SCHEMA.ROUTINES").fetchall() == [(0,)]


def test_sql_built_at_run_time_is_parsed_when_it_runs(con):
    # EXECUTE IMMEDIATE's string is a value of the script, known only when the statement runs
    with pytest.raises(sqlml.SqlSyntaxError, match=r"^Syntax error: expected table name but got 'WHERE'"):
        con.query("INSERT INTO ds.t VALUES (2); EXECUTE IMMEDIATE CONCAT('SELECT ', 'FROM WHERE')")
    assert count(con) == 2


def test_a_called_procedure_with_a_syntax_error_runs_none_of_its_body(con):
    con.query("CREATE PROCEDURE ds.p() BEGIN INSERT INTO ds.t VALUES (2); SELECT 3; END")
    # a definition stored before bodies were checked (or edited in the catalog) is checked when CALLed
    con.query("UPDATE sqlml_meta.routines SET definition = replace(definition, 'SELECT 3', 'SELECT FROM WHERE')")
    with pytest.raises(sqlml.SqlSyntaxError, match=r"^Syntax error: expected table name but got 'WHERE'") as caught:
        con.query("CALL ds.p()")
    assert caught.value.location.path == "procedure ds.p"
    assert count(con) == 1


def test_each_statement_and_condition_is_parsed_once(con, monkeypatch):
    parsed = []
    original = ScriptParser._parse
    monkeypatch.setattr(ScriptParser, "_parse", lambda self, tokens, *rest: parsed.append(tokens[0].text) or original(self, tokens, *rest))
    result = con.query("DECLARE i INT64 DEFAULT 0;\nWHILE i < 3 DO\n  SET i = i + 1;\n  IF i > 1 THEN INSERT INTO ds.t VALUES (i); END IF;\nEND WHILE;\nSELECT i")
    assert result.fetchall() == [(3,)]
    # the loop ran three times; each statement and condition was parsed before it started
    assert parsed == ["DECLARE", "i", "SET", "i", "INSERT", "SELECT"]
    assert count(con) == 3
