"""Scripts run statement by statement; errors name the statement, line and column; transactions."""

from __future__ import annotations

import pytest

import sqlml


def test_semicolons_in_strings_comments_and_blocks_are_not_boundaries(con):
    result = con.query("""
        SELECT 'a;b' AS s; -- a comment; with a semicolon
        /* block; comment */ SELECT "c;d" AS s2
    """)
    assert result.fetchall() == [("c;d",)]


def test_first_failing_statement_stops_the_script(con):
    with pytest.raises(sqlml.NotFoundError) as info:
        con.query("CREATE TABLE a AS SELECT 1 AS x;\nSELECT * FROM nowhere;\nCREATE TABLE b AS SELECT 2 AS y")
    assert info.value.location.statement == 2 and info.value.location.line == 2
    assert con.query("SELECT COUNT(*) FROM a").fetchall() == [(1,)]
    with pytest.raises(sqlml.NotFoundError, match=r"Unknown table b"):
        con.query("SELECT * FROM b")


def test_syntax_error_shows_the_line_and_a_caret(con):
    with pytest.raises(sqlml.SqlSyntaxError) as info:
        con.query("SELECT 1;\nSELECT x FROM t WHERE x = = 1")
    message = str(info.value)
    assert "at statement 2, line 2, column 27" in message
    assert "  SELECT x FROM t WHERE x = = 1\n                            ^" in message
    assert isinstance(info.value, ValueError)


def test_unknown_table_and_column_suggest_the_nearest(con):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.penguins AS SELECT 1 AS body_mass_g")
    with pytest.raises(sqlml.NotFoundError, match=r"(?s)Unknown table ds.pengiuns\..*column 15.*Did you mean ds.penguins\?"):
        con.query("SELECT * FROM ds.pengiuns")
    with pytest.raises(sqlml.NotFoundError, match=r"(?s)Unknown column body_mass\..*Did you mean body_mass_g\?"):
        con.query("SELECT body_mass FROM ds.penguins")
    with pytest.raises(sqlml.NotFoundError, match=r"(?s)Unknown dataset nope\..*CREATE SCHEMA nope"):
        con.query("CREATE TABLE nope.t AS SELECT 1 AS x")


def test_duckdb_errors_are_wrapped_with_the_statement_position(con):
    with pytest.raises(sqlml.SqlTypeError, match=r"(?s)Bad int64 value: abc.*at statement 2, line 1"):
        con.query("SELECT 1; SELECT CAST('abc' AS INT64)").fetchall()
    with pytest.raises(sqlml.AlreadyExistsError, match=r"(?s)already exists.*CREATE OR REPLACE"):
        con.query("CREATE TABLE dup AS SELECT 1 AS x; CREATE TABLE dup AS SELECT 1 AS x")


def test_unsupported_statement_is_refused_not_passed_through(con):
    with pytest.raises(sqlml.UnsupportedStatementError, match=r"sqlml does not support the statement GRANT"):
        con.query("GRANT SELECT ON TABLE t TO 'x'")


def test_transactions_commit_and_roll_back(con):
    con.query("CREATE TABLE acct AS SELECT 1 AS id, 100 AS balance")
    con.query("BEGIN TRANSACTION; UPDATE acct SET balance = 0; ROLLBACK")
    assert con.query("SELECT balance FROM acct").fetchall() == [(100,)]
    con.query("BEGIN TRANSACTION")  # spans several query() calls
    con.query("UPDATE acct SET balance = 50")
    con.query("COMMIT")
    assert con.query("SELECT balance FROM acct").fetchall() == [(50,)]
    with pytest.raises(sqlml.NotFoundError):
        con.query("BEGIN TRANSACTION; UPDATE acct SET balance = 1; SELECT * FROM missing_table")
    assert con.query("SELECT balance FROM acct").fetchall() == [(50,)]  # the failed script rolled back
    with pytest.raises(sqlml.TransactionError, match=r"COMMIT without an open transaction"):
        con.query("COMMIT")


def test_duckdb_dialect(tmp_path):
    with sqlml.connect(":memory:", dialect="duckdb") as con:
        assert con.query("SELECT [1, 2, 3][1] AS first, 42::VARCHAR AS s").fetchall() == [(1, "42")]
        assert con.query("SELECT 1 + 1").columns == ["(1 + 1)"]
    with pytest.raises(sqlml.ParameterError, match=r"Unknown dialect 'oracle'"):
        sqlml.connect(":memory:", dialect="oracle")
