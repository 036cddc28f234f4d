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


def test_duckdbs_bare_query_interrupted_runtime_error_is_a_cancel(con, monkeypatch):
    """An interrupt landing while DuckDB hands a result to Python comes out as a bare
    ``RuntimeError('Query interrupted')``, not DuckDB's InterruptException; it is still the user's
    Ctrl-C, not an internal error (found by the Ctrl-C fuzz campaign)."""
    con.query("CREATE SCHEMA ds")
    renderer = type(con._executor.renderer(None))

    def interrupted(self, *args):
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(renderer, "render", interrupted)
    with pytest.raises(sqlml.Cancelled, match=r"^The statement was cancelled; nothing it started was kept\."):
        con.query("CREATE TABLE ds.t AS SELECT 1 AS x")
    monkeypatch.undo()
    assert con.query("SELECT 2 AS x").fetchall() == [(2,)]


def test_other_runtime_errors_stay_internal_errors(con, monkeypatch):
    """Only DuckDB's exact interrupt message is read as a cancel; any other RuntimeError is a bug."""
    con.query("CREATE SCHEMA ds")  # a statement that writes is rendered each time (a SELECT may be remembered)
    renderer = type(con._executor.renderer(None))

    def broken(self, *args):
        raise RuntimeError("Query interrupted by a bug")

    monkeypatch.setattr(renderer, "render", broken)
    with pytest.raises(sqlml.ExecutionError, match=r"Internal error: RuntimeError: Query interrupted by a bug"):
        con.query("CREATE TABLE ds.broken AS SELECT 2 AS y")
