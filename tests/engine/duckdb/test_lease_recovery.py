"""A connection's hold on the warehouse file survives statements that fail, are cancelled or are
interrupted at any point: the next statement gets the file, and so does another process.

Each test replays one class the outside fault campaign found on a disk
warehouse, at the exact point its interrupt landed.
"""

from __future__ import annotations

import pytest

import sqlml
from sqlml.engine.duckdb.cursor import DuckDBCursor
from sqlml.engine.duckdb.instance import Instance


class _InterruptedAfter:
    """A DuckDB connection on which Ctrl-C lands just after DuckDB ran the first statement
    starting with ``verb`` (KeyboardInterrupt is raised between two Python instructions, so it
    can come after DuckDB's work is done and before Python noted it)."""

    def __init__(self, db, verb: str) -> None:
        self._db, self._verb, self.fired = db, verb, False

    def execute(self, sql, *args):
        result = self._db.execute(sql, *args)
        if not self.fired and sql.startswith(self._verb):
            self.fired = True
            raise KeyboardInterrupt
        return result

    def __getattr__(self, name):
        return getattr(self._db, name)


@pytest.fixture
def instance(tmp_path):
    held = Instance(tmp_path, read_only=False, lock_timeout=0.3, idle_release=0, config=None)
    yield held
    held.close()


def _other_connection_attaches(folder) -> bool:
    other = Instance(folder, read_only=False, lock_timeout=0.3, idle_release=0, config=None)
    try:
        other.acquire()
        other.release()
        return True
    finally:
        other.close()


def test_an_interrupt_just_after_the_attach_leaves_the_file_usable(instance, tmp_path):
    # Ctrl-C right after DuckDB attached the file, before the instance noted it: the next attach
    # was refused ("already attached") and taken for another holder, so every later statement
    # waited lock_timeout and failed with "... is in use by another process; waited 0.3 s."
    instance.db = _InterruptedAfter(instance.db, "ATTACH")
    with pytest.raises(KeyboardInterrupt):
        instance.acquire()
    assert instance.db.fired and not instance.is_attached
    instance.acquire()  # adopts the attached file
    assert instance.is_attached
    assert instance.db.cursor().execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'warehouse'").fetchall() == [(0,)]
    instance.release()
    assert not instance.is_attached
    assert _other_connection_attaches(tmp_path)  # it was really detached


def test_an_interrupt_just_after_the_detach_leaves_the_file_usable(instance, tmp_path):
    # Ctrl-C right after DuckDB detached the file at the end of a statement, before the instance
    # noted it: the file stayed noted attached, and every later statement failed with
    # 'Binder Error: Failed to detach database with name "warehouse": database not found'.
    instance.acquire()
    instance.db = _InterruptedAfter(instance.db, "DETACH")
    with pytest.raises(KeyboardInterrupt):
        instance.release()
    assert not instance.is_attached
    assert _other_connection_attaches(tmp_path)
    instance.acquire()
    assert instance.is_attached
    instance.release()
    assert not instance.is_attached



@pytest.fixture
def scored(tmp_path):
    """A disk warehouse (idle_release=0: detached between statements) with ds.t and a model ds.m
    (TRANSFORM only: its ML.TRANSFORM reads ds.t as a registered input, as ML.PREDICT does)."""
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0, lock_timeout=0.3) as con:
        con.query(
            "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT x, 2.0 * x AS label FROM UNNEST([1, 2, 3, 4]) AS x; "
            "CREATE MODEL ds.m TRANSFORM(x * 2 AS x2, label) OPTIONS(model_type='transform_only') AS SELECT x, label FROM ds.t"
        )
        yield con


def _other_process_reads(folder) -> list[tuple]:
    with sqlml.connect(folder / "warehouse", folder / "models", idle_release=0, lock_timeout=0.3) as other:
        return other.query("SELECT COUNT(*) FROM ds.t").fetchall()


def test_an_interrupt_while_an_ml_statement_closes_its_inputs_gives_the_file_back(scored, tmp_path, monkeypatch):
    # Ctrl-C while ML.TRANSFORM's (ML.PREDICT's…) input was being unregistered (DuckDB checks for it in that call):
    # the lease was given back only after every input was closed, so it was never given back;
    # the file stayed attached and every other connection waited lock_timeout for it and failed
    # with "The warehouse ... is in use by another process; waited 0.3 s."
    unregister = DuckDBCursor.unregister

    def interrupted(cursor, name):
        if not name.startswith("__sqlml_source"):  # the statement's inputs, closed as it ends
            return unregister(cursor, name)
        monkeypatch.setattr(DuckDBCursor, "unregister", unregister)
        raise KeyboardInterrupt

    monkeypatch.setattr(DuckDBCursor, "unregister", interrupted)
    with pytest.raises(KeyboardInterrupt):
        scored.query("SELECT * FROM ML.TRANSFORM(MODEL ds.m, TABLE ds.t)").fetchall()
    assert _other_process_reads(tmp_path) == [(4,)]
    assert scored.query("SELECT COUNT(*) FROM ML.TRANSFORM(MODEL ds.m, TABLE ds.t)").fetchall() == [(4,)]


def test_a_failed_ml_statements_error_kept_by_the_caller_does_not_keep_the_file(scored, tmp_path):
    # ML.TRANSFORM opened a reader on its input, then refused it; the reader, a local of a frame
    # of the error's traceback, kept the detached file open in DuckDB while the caller kept the
    # error (an `except ... as error` stored, a REPL's sys.last_value): every later attach was
    # refused "already attached", and the next statement failed with "The warehouse ... is in
    # use by another process; waited 0.3 s."
    with pytest.raises(sqlml.InvalidModelInputError, match="The input has no column x, which the model was trained on") as kept:
        scored.query("SELECT * FROM ML.TRANSFORM(MODEL ds.m, (SELECT label FROM ds.t))").fetchall()
    assert scored.query("SELECT COUNT(*) FROM ds.t").fetchall() == [(4,)]
    assert _other_process_reads(tmp_path) == [(4,)]
    assert kept.value.__traceback__ is not None  # still kept


def test_an_interrupt_just_after_begin_leaves_no_transaction_open(scored, tmp_path, monkeypatch):
    # Ctrl-C inside DuckDB's BEGIN, after it ran: the session did not note the transaction, which
    # stayed open on its cursor for good and kept the file open in DuckDB once detached, so the
    # next statement failed with "The warehouse ... is in use by another process; waited 0.3 s."
    begin = DuckDBCursor.begin

    def interrupted(cursor):
        begin(cursor)
        raise KeyboardInterrupt

    monkeypatch.setattr(DuckDBCursor, "begin", interrupted)
    with pytest.raises(KeyboardInterrupt):
        scored.query("BEGIN TRANSACTION")
    monkeypatch.setattr(DuckDBCursor, "begin", begin)
    assert not scored.in_transaction
    scored.query("INSERT INTO ds.t VALUES (5, 10.0)")  # not inside a forgotten transaction: kept
    assert _other_process_reads(tmp_path) == [(5,)]


def test_an_interrupt_inside_commit_leaves_no_transaction_open(scored, tmp_path, monkeypatch):
    # Ctrl-C inside DuckDB's COMMIT, before it ran: the session forgot the transaction, still open
    # on its cursor; the file stayed open in DuckDB once detached, as above.
    scored.query("BEGIN TRANSACTION; INSERT INTO ds.t VALUES (5, 10.0)")
    execute = DuckDBCursor.execute

    def interrupted(cursor, sql, parameters=None):
        if sql == "COMMIT":
            raise KeyboardInterrupt
        return execute(cursor, sql, parameters)

    monkeypatch.setattr(DuckDBCursor, "execute", interrupted)
    with pytest.raises(KeyboardInterrupt):
        scored.query("COMMIT TRANSACTION")
    monkeypatch.setattr(DuckDBCursor, "execute", execute)
    assert not scored.in_transaction
    assert _other_process_reads(tmp_path) == [(4,)]  # not committed: rolled back
    assert scored.query("SELECT COUNT(*) FROM ds.t").fetchall() == [(4,)]


def test_a_result_an_interrupted_statement_left_pending_does_not_keep_the_file(instance, tmp_path):
    # Ctrl-C between a query and the read of its rows left the result pending on the session's
    # cursor, which keeps the detached file open in DuckDB until the cursor runs another query;
    # but the cursor's next query needs the file first: the attach was refused "already attached"
    # and failed with "The warehouse ... is in use by another process; waited 0.3 s."
    cursor = instance.cursor()
    instance.acquire()
    cursor.execute("CREATE TABLE warehouse.t AS SELECT * FROM range(10000) AS r(a)")
    cursor.execute("SELECT * FROM warehouse.t")  # the rows are never read
    instance.release()
    assert not instance.is_attached
    instance.acquire()
    assert cursor.execute("SELECT count(*) FROM warehouse.t").fetchall() == [(10000,)]
    instance.release()
    assert _other_connection_attaches(tmp_path)
