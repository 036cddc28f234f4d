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
