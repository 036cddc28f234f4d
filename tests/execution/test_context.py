"""A handler's ``atomic`` block reports what happened to its transaction at the COMMIT: kept when
the COMMIT took effect (an interrupt landing after it is too late), undone otherwise, and a COMMIT
DuckDB refused raises its own reason."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.engine.base import EngineTransactionError
from sqlml.engine.duckdb.cursor import DuckDBCursor

_TABLES = "SELECT table_name FROM ds.INFORMATION_SCHEMA.TABLES"


def test_create_table_whose_commit_is_interrupted_after_it_took_effect_completes(con, monkeypatch):
    con.query("CREATE SCHEMA ds")
    commit = DuckDBCursor.commit

    def commit_then_interrupt(self):
        commit(self)
        raise RuntimeError("Query interrupted")  # DuckDB's, while it hands COMMIT's result over

    monkeypatch.setattr(DuckDBCursor, "commit", commit_then_interrupt)
    assert con.query("CREATE TABLE ds.t AS SELECT 1 AS x").statement == "CREATE TABLE"
    monkeypatch.undo()
    assert con.query("SELECT x FROM ds.t").fetchall() == [(1,)]


def test_a_commit_duckdb_refused_raises_its_reason_not_the_rollbacks(con, monkeypatch):
    """DuckDB ends a transaction whose COMMIT it refused (a write conflict, a failed write of its
    log): the ROLLBACK that follows finds none, and its "no transaction is active" used to hide
    the reason (and kept a conflict at COMMIT from being run again by modification_log)."""
    con.query("CREATE SCHEMA ds")

    def refused(self):
        self.execute("ROLLBACK")  # as DuckDB does when a commit fails
        raise EngineTransactionError("TransactionContext Error: Failed to commit: could not write to the WAL")

    monkeypatch.setattr(DuckDBCursor, "commit", refused)
    with pytest.raises(sqlml.TransactionError, match=r"Failed to commit: could not write to the WAL"):
        con.query("CREATE TABLE ds.t AS SELECT 1 AS x")
    monkeypatch.undo()
    assert con.query(_TABLES).fetchall() == []
