"""The shell tells the truth after Ctrl-C: a statement that completed all the same shows its
result; a script stopped after its first statement names the statement that kept nothing."""

from __future__ import annotations

import io

import pytest

from sqlml.engine.duckdb.cursor import DuckDBCursor
from sqlml.shell.session import Session


class _LateCtrlC:
    """The worker's future, with a Ctrl-C pressed while the shell waits for it, arriving once the
    work has finished (so the interrupt it sends stops nothing)."""

    def __init__(self, future):
        self.future, self.pressed = future, False

    def result(self, timeout=None):
        if not self.pressed:
            self.pressed = True
            self.future.exception()  # wait for the work, whatever its outcome
            raise KeyboardInterrupt
        return self.future.result()


@pytest.fixture
def shell(con, monkeypatch):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.t (x INT64)")
    session = Session(con, out=io.StringIO(), err=io.StringIO(), interactive=False)
    submit = session.worker.submit
    monkeypatch.setattr(session.worker, "submit", lambda work: _LateCtrlC(submit(work)))
    yield session
    session.close()


def test_a_statement_that_completed_before_ctrl_c_shows_its_result(shell):
    assert shell.run("INSERT INTO ds.t VALUES (7); SELECT x FROM ds.t") is True
    assert shell.out.getvalue() == "+---+\n| x |\n+---+\n| 7 |\n+---+\n"
    assert shell.err.getvalue() == "Ctrl-C came too late: the statement had already completed.\n(1 row)\n"


def test_a_script_cancelled_after_its_first_statement_names_the_statement(shell, monkeypatch):
    execute = DuckDBCursor.execute

    def interrupted_after_insert(self, sql, parameters=None):
        execute(self, sql, parameters)
        if sql.startswith("INSERT"):
            shell.connection.interrupt()  # lands as the first INSERT finishes: the second is stopped
        return self

    monkeypatch.setattr(DuckDBCursor, "execute", interrupted_after_insert)
    assert shell.run("INSERT INTO ds.t VALUES (1); INSERT INTO ds.t VALUES (2)") is False
    monkeypatch.undo()
    assert shell.err.getvalue() == "Error: Cancelled at statement 2; nothing it started was kept.\n"
    assert shell.connection.query("SELECT x FROM ds.t").fetchall() == [(1,)]
