"""DROP TABLE is one transaction with what the warehouse keeps beside the table: an interrupt
that lands after DuckDB dropped the table but before the statement's COMMIT keeps the table (as
an interrupted CREATE TABLE, DML or DROP VIEW keeps the warehouse as it was); one that lands in the
COMMIT after it took effect is too late, and the drop reports success (the Ctrl-C fuzz campaign's
run_4c step 261: ``DROP TABLE IF EXISTS ds.p`` reported a failure with the table gone)."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.engine.base import EngineInterrupted
from sqlml.engine.duckdb.cursor import DuckDBCursor

_CANCELLED = r"The statement was cancelled; nothing it started was kept\."
_PARTITIONS = "SELECT table_name, partition_id, total_rows FROM ds.INFORMATION_SCHEMA.PARTITIONS"


@pytest.fixture
def partitioned(con):
    con.query("CREATE SCHEMA ds")
    con.query("CREATE TABLE ds.t (day DATE, x INT64) PARTITION BY day")
    con.query("INSERT INTO ds.t VALUES (DATE '2026-01-01', 1)")
    return con


def _interrupt_after(monkeypatch, method: str, statement: str | None = None) -> None:
    """DuckDBCursor.<method> runs, then DuckDB's interrupt lands while it hands the result over
    (its bare RuntimeError), as a Ctrl-C arriving just after DuckDB's work does."""
    original = getattr(DuckDBCursor, method)

    def run_then_interrupt(self, *args):
        original(self, *args)
        if statement is None or args[0].startswith(statement):
            raise RuntimeError("Query interrupted")
        return self

    monkeypatch.setattr(DuckDBCursor, method, run_then_interrupt)


def _interrupt_before_commit(monkeypatch) -> None:
    """DuckDBCursor.commit interrupted before DuckDB ran it."""

    def interrupted(self):
        raise EngineInterrupted("INTERRUPT Error: Interrupted!")

    monkeypatch.setattr(DuckDBCursor, "commit", interrupted)


@pytest.mark.parametrize(
    "interrupt",
    [lambda monkeypatch: _interrupt_after(monkeypatch, "execute", statement="DROP TABLE"), _interrupt_before_commit],
    ids=["after DuckDB's drop", "in the COMMIT before it took effect"],
)
def test_drop_table_interrupted_before_its_commit_took_effect_keeps_the_table(partitioned, monkeypatch, interrupt):
    interrupt(monkeypatch)
    with pytest.raises(sqlml.Cancelled, match=_CANCELLED):
        partitioned.query("DROP TABLE ds.t")
    monkeypatch.undo()
    assert partitioned.query("SELECT x FROM ds.t").fetchall() == [(1,)]
    assert partitioned.query(_PARTITIONS).fetchall() == [("t", "20260101", 1)]  # its partitioning kept too


def test_drop_table_interrupted_after_its_commit_took_effect_reports_success(partitioned, monkeypatch):
    partitioned.query("CREATE TABLE ds.u (x INT64)")
    _interrupt_after(monkeypatch, "commit")
    assert partitioned.query("DROP TABLE ds.u").statement == "DROP TABLE"
    with pytest.raises(sqlml.Cancelled, match=_CANCELLED) as cancelled:
        partitioned.query("DROP TABLE ds.t; SELECT 1 AS x")
    assert cancelled.value.location.statement == 2  # the drop completed; the cancel stopped the next statement
    monkeypatch.undo()
    assert partitioned.query("SELECT COUNT(*) FROM ds.INFORMATION_SCHEMA.TABLES").fetchall() == [(0,)]
    partitioned.query("CREATE TABLE ds.t (day DATE, x INT64)")  # a new table of that name has no old partitioning
    assert partitioned.query(_PARTITIONS).fetchall() == [("t", None, 0)]
