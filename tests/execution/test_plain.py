"""Plain SQL statements on the engine: an interrupt stops the statement whenever it arrives."""

from __future__ import annotations

import pytest

import sqlml


def test_an_interrupt_that_arrives_before_the_statements_query_starts_still_cancels_it(con, monkeypatch):
    """DuckDB forgets an interrupt that arrives while none of its queries runs (the next query
    clears it), so a Ctrl-C that came while a statement was being prepared was lost and its query
    then ran to its end: the shell's Ctrl-C during a long CREATE TABLE … AS (issue 16)."""
    con.query("CREATE SCHEMA ds")
    renderer = type(con._executor.renderer(None))
    render = renderer.render

    def render_then_interrupt(self, *args):
        rendered = render(self, *args)
        con.interrupt()  # the statement is prepared; its own query has not started
        return rendered

    monkeypatch.setattr(renderer, "render", render_then_interrupt)
    with pytest.raises(sqlml.Cancelled, match=r"The statement was cancelled; nothing it started was kept\."):
        con.query("CREATE TABLE ds.t AS SELECT 1 AS x")
    # a query that reads a table (one that does not, run before, is not prepared again: sqlml.sql.known_statements)
    with pytest.raises(sqlml.Cancelled, match=r"The statement was cancelled; nothing it started was kept\."):
        con.query("SELECT COUNT(*) AS x FROM ds.INFORMATION_SCHEMA.TABLES").fetchall()
    monkeypatch.undo()
    assert con.query("SELECT COUNT(*) FROM ds.INFORMATION_SCHEMA.TABLES").fetchall() == [(0,)]
    assert con.query("SELECT 2 AS x").fetchall() == [(2,)]  # the next statement runs


@pytest.mark.parametrize(
    ("message", "error", "expected"),
    [
        ("Query interrupted", sqlml.Cancelled, r"^The statement was cancelled; nothing it started was kept\."),
        ("Query interrupted by a bug", sqlml.ExecutionError, r"Internal error: RuntimeError: Query interrupted by a bug"),
    ],
)
def test_duckdbs_bare_query_interrupted_runtime_error_and_only_it_is_a_cancel(con, monkeypatch, message, error, expected):
    """An interrupt landing while DuckDB hands a result to Python comes out as a bare
    ``RuntimeError('Query interrupted')``, not DuckDB's InterruptException; it is still the user's
    Ctrl-C (found by the Ctrl-C fuzz campaign). Any other RuntimeError stays an internal error."""
    con.query("CREATE SCHEMA ds")  # a statement that writes is rendered each time (a SELECT may be remembered)
    renderer = type(con._executor.renderer(None))

    def raising(self, *args):
        raise RuntimeError(message)

    monkeypatch.setattr(renderer, "render", raising)
    with pytest.raises(error, match=expected):
        con.query("CREATE TABLE ds.t AS SELECT 1 AS x")
    monkeypatch.undo()
    assert con.query("SELECT 2 AS x").fetchall() == [(2,)]


@pytest.mark.parametrize(
    "statement", ["ALTER TABLE ds.t ADD COLUMN y INT64", "CREATE SCHEMA other", "CREATE FUNCTION ds.twice(x INT64) AS (2 * x)"]
)
def test_ddl_interrupted_after_duckdb_ran_it_is_undone(con, monkeypatch, statement):
    """DuckDB's autocommit ran these before an interrupt landing as it handed the result over:
    the statement reported a cancel with its change kept. Each runs in a transaction of its own."""
    from sqlml.engine.duckdb.cursor import DuckDBCursor

    con.query("CREATE SCHEMA ds; CREATE TABLE ds.t (x INT64)")
    execute = DuckDBCursor.execute

    def run_then_interrupt(self, sql, parameters=None):
        execute(self, sql, parameters)
        if sql.startswith(statement.split()[0]):
            raise RuntimeError("Query interrupted")
        return self

    monkeypatch.setattr(DuckDBCursor, "execute", run_then_interrupt)
    with pytest.raises(sqlml.Cancelled, match=r"^The statement was cancelled; nothing it started was kept\."):
        con.query(statement)
    monkeypatch.undo()
    assert con.query(statement).statement  # runs again: the interrupted one left no column, schema or function
