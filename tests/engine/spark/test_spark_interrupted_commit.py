"""A user's COMMIT on the Spark engine reports truthfully what an interrupt landing in it left:
Spark commits each statement on its own, so a COMMIT interrupted before the bookkeeping's COMMIT
took effect rolls the bookkeeping back but keeps the rows the transaction's Spark statements wrote
(not "nothing it started was kept"; engine/spark/engine.py). One interrupted after it took effect
completes: the bookkeeping engine's own (tests/engine/duckdb/test_interrupted_commit.py)."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.engine.base import EngineInterrupted
from sqlml.engine.duckdb.cursor import DuckDBCursor


def _interrupt_commit(con, monkeypatch) -> None:
    """The next COMMIT of the bookkeeping is interrupted as :meth:`sqlml.Connection.interrupt`
    does it, before DuckDB committed."""
    execute = DuckDBCursor.execute

    def interrupted(self, sql, parameters=None):
        if sql != "COMMIT":
            return execute(self, sql, parameters)
        monkeypatch.undo()
        con.interrupt()
        raise EngineInterrupted("INTERRUPT Error: Interrupted!")

    monkeypatch.setattr(DuckDBCursor, "execute", interrupted)


@pytest.mark.slow  # Spark writes
def test_an_interrupted_commit_on_spark_says_what_was_kept(spark_con, monkeypatch):
    spark_con.query("CREATE SCHEMA ds")
    _interrupt_commit(spark_con, monkeypatch)
    with pytest.raises(sqlml.Cancelled, match=r"^The COMMIT was cancelled before it took effect: .* the rows its Spark statements wrote are kept") as cancelled:
        spark_con.query("BEGIN TRANSACTION; CREATE TABLE ds.t AS SELECT 1 AS x; COMMIT")
    assert cancelled.value.location.statement == 3
    assert spark_con.query("SELECT x FROM ds.t").fetchall() == [(1,)]
    spark_con.query("BEGIN TRANSACTION; ROLLBACK")  # no transaction was left open (BEGIN would refuse to nest)
