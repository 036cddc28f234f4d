"""A user's COMMIT reports what happened to the transaction when an interrupt lands in it: kept
when DuckDB's COMMIT took effect (the interrupt came too late; its cancel stops the script's next
statement), rolled back and Cancelled when it had not."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.engine.base import EngineInterrupted
from sqlml.engine.duckdb.cursor import DuckDBCursor

_CANCELLED = r"^The statement was cancelled; nothing it started was kept\."


def _interrupt_commit(con, monkeypatch, error: BaseException, *, after: bool) -> None:
    """The next COMMIT is interrupted as :meth:`sqlml.Connection.interrupt` does it, ``after``
    DuckDB committed (while it hands the result over) or before."""
    execute = DuckDBCursor.execute

    def interrupted(self, sql, parameters=None):
        if sql != "COMMIT":
            return execute(self, sql, parameters)
        monkeypatch.undo()
        if after:
            execute(self, sql, parameters)
        con.interrupt()  # sets the connection's cancel flag (DuckDB forgets it: nothing runs)
        raise error

    monkeypatch.setattr(DuckDBCursor, "execute", interrupted)


@pytest.fixture
def table(con):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.t (x INT64)")
    return con


@pytest.mark.parametrize(
    "error", [EngineInterrupted("INTERRUPT Error: Interrupted!"), RuntimeError("Query interrupted")], ids=["interrupt", "handover"]
)
def test_a_commit_interrupted_after_it_took_effect_completes(table, monkeypatch, error):
    _interrupt_commit(table, monkeypatch, error, after=True)
    assert table.query("BEGIN TRANSACTION; INSERT INTO ds.t VALUES (1); COMMIT").statement == "COMMIT"
    assert table.query("SELECT x FROM ds.t").fetchall() == [(1,)]


def test_the_interrupt_of_a_commit_that_took_effect_stops_the_next_statement(table, monkeypatch):
    _interrupt_commit(table, monkeypatch, EngineInterrupted("INTERRUPT Error: Interrupted!"), after=True)
    with pytest.raises(sqlml.Cancelled, match=_CANCELLED) as cancelled:
        table.query("BEGIN TRANSACTION; INSERT INTO ds.t VALUES (1); COMMIT; INSERT INTO ds.t VALUES (2)")
    assert cancelled.value.location.statement == 4
    assert table.query("SELECT x FROM ds.t").fetchall() == [(1,)]


def test_a_commit_interrupted_before_it_took_effect_is_rolled_back(table, monkeypatch):
    _interrupt_commit(table, monkeypatch, EngineInterrupted("INTERRUPT Error: Interrupted!"), after=False)
    with pytest.raises(sqlml.Cancelled, match=_CANCELLED) as cancelled:
        table.query("BEGIN TRANSACTION; INSERT INTO ds.t VALUES (1); COMMIT")
    assert cancelled.value.location.statement == 3
    assert table.query("SELECT x FROM ds.t").fetchall() == []
    table.query("BEGIN TRANSACTION; INSERT INTO ds.t VALUES (3); COMMIT")  # no transaction was left open
    assert table.query("SELECT x FROM ds.t").fetchall() == [(3,)]
