"""Sessions of one process writing the same table take turns, as BigQuery queues DML on a table.

Before, DuckDB's optimistic transactions made the later of two writes of one table fail with
"Conflict on tuple deletion!" (the table's row in the write log) or "Conflict on update!".
"""

from __future__ import annotations

import threading
import time

import pytest

import sqlml
from sqlml.engine.duckdb.table_writes import TableWrites


def _together(*works):
    """Run each work on a thread of its own, started at once; the errors they raised."""
    barrier, errors = threading.Barrier(len(works)), []

    def run(work):
        barrier.wait()
        try:
            work()
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.fixture
def warehouse(tmp_path):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", lock_timeout=10) as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t (id INT64, n INT64); INSERT INTO ds.t VALUES (0, 0)")
        yield con


def test_sessions_and_threads_writing_one_table_at_once_all_succeed(warehouse):
    sessions = [warehouse.cursor(), warehouse.cursor(), warehouse, warehouse]  # two sessions, two threads of one

    def updates(con):
        return lambda: [con.query("UPDATE ds.t SET n = n + 1 WHERE id = 0") for _ in range(15)]

    def inserts(con, first):
        return lambda: [con.query("INSERT INTO ds.t VALUES (@id, 1)", {"id": first + k}) for k in range(15)]

    errors = _together(updates(sessions[0]), updates(sessions[2]), inserts(sessions[1], 100), inserts(sessions[3], 200))
    assert errors == []
    assert warehouse.query("SELECT n FROM ds.t WHERE id = 0").scalar() == 30
    assert warehouse.query("SELECT COUNT(*) FROM ds.t WHERE id >= 100").scalar() == 30


def test_first_writes_of_two_tables_at_once_both_succeed(tmp_path):
    # Each first write of a warehouse creates sqlml's write log; two at once raced on creating it
    # ("Catalog write-write conflict on create with sqlml_meta"); the loser is now run again.
    for trial in range(4):
        with sqlml.connect(tmp_path / f"w{trial}", tmp_path / "models") as con:
            con.query("CREATE SCHEMA ds")
            first, second = con.cursor(), con.cursor()
            errors = _together(lambda: first.query("CREATE TABLE ds.a (x INT64)"), lambda: second.query("CREATE TABLE ds.b (x INT64)"))
            assert errors == []
            assert con.query("INSERT INTO ds.a VALUES (1); INSERT INTO ds.b VALUES (2); SELECT (SELECT x FROM ds.a) + (SELECT x FROM ds.b)").scalar() == 3


def test_a_statement_waits_for_the_open_transaction_that_writes_its_table(warehouse):
    holder, writer = warehouse.cursor(), warehouse.cursor()
    holder.query("BEGIN TRANSACTION; UPDATE ds.t SET n = 5 WHERE id = 0")
    finished = []
    thread = threading.Thread(target=lambda: finished.append(writer.query("UPDATE ds.t SET n = n * 2 WHERE id = 0").rowcount))
    thread.start()
    time.sleep(0.5)
    assert finished == []  # queued behind the transaction, as BigQuery queues it
    holder.query("COMMIT")
    thread.join(10)
    assert finished == [1]
    assert warehouse.query("SELECT n FROM ds.t WHERE id = 0").scalar() == 10


def test_a_transaction_writing_a_table_another_transaction_writes_fails_at_once(warehouse):
    first, second = warehouse.cursor(), warehouse.cursor()
    first.query("BEGIN TRANSACTION; INSERT INTO ds.t VALUES (1, 1)")
    began = time.monotonic()
    with pytest.raises(
        sqlml.TransactionError,
        match=r"This transaction cannot write ds\.t: an open transaction of another session is writing it, "
        r"and BigQuery cancels a transaction that conflicts with another write to the same table\.",
    ):
        second.query("BEGIN TRANSACTION; INSERT INTO ds.t VALUES (2, 2)")
    assert time.monotonic() - began < 5
    assert not second.in_transaction  # rolled back
    first.query("COMMIT")
    assert warehouse.query("SELECT id FROM ds.t ORDER BY id").fetchall() == [(0,), (1,)]
    second.query("BEGIN TRANSACTION; INSERT INTO ds.t VALUES (2, 2); COMMIT")  # its turn now
    assert warehouse.query("SELECT COUNT(*) FROM ds.t").scalar() == 3


def test_waiting_for_a_transaction_on_the_same_thread_ends_with_a_clear_error(tmp_path):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", lock_timeout=0.5) as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t (n INT64)")
        holder = con.cursor()
        holder.query("BEGIN TRANSACTION; INSERT INTO ds.t VALUES (1)")
        with pytest.raises(sqlml.TransactionError, match=r"Waited 0\.5 s to write ds\.t: an open transaction of another session writes it\."):
            con.query("INSERT INTO ds.t VALUES (2)")
        holder.query("COMMIT")
        assert con.query("INSERT INTO ds.t VALUES (2); SELECT COUNT(*) FROM ds.t").scalar() == 2


def test_a_transaction_overtaken_by_another_write_fails_clearly(warehouse):
    first, second = warehouse.cursor(), warehouse.cursor()
    first.query("BEGIN TRANSACTION; SELECT * FROM ds.t").fetchall()
    second.query("UPDATE ds.t SET n = 1 WHERE id = 0")  # committed after the transaction began
    with pytest.raises(sqlml.TransactionError, match=r"^Another session wrote ds\.t while this transaction was open, and BigQuery cancels"):
        first.query("UPDATE ds.t SET n = 100 WHERE id = 0")
    assert not first.in_transaction
    assert warehouse.query("SELECT n FROM ds.t WHERE id = 0").scalar() == 1


def test_a_waiting_writer_stops_when_cancelled():
    writes, cancel = TableWrites(), threading.Event()
    writes.take("ds.t", "holder", transaction=False, timeout=5, cancel=cancel)
    threading.Timer(0.1, cancel.set).start()
    with pytest.raises(sqlml.Cancelled, match=r"Cancelled while waiting to write DS\.T; nothing was changed\."):
        writes.take("DS.T", "waiter", transaction=False, timeout=5, cancel=cancel)
    writes.give_back("holder")
    writes.take("ds.t", "waiter", transaction=False, timeout=0, cancel=threading.Event())  # free now


def test_loads_from_several_sessions_at_once_all_succeed(tmp_path):
    (tmp_path / "rows.csv").write_text("x\n" + "\n".join(map(str, range(100))) + "\n")
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models") as con:
        sessions = [con.cursor() for _ in range(3)]

        def loads(session):  # into new datasets too: both sessions create them
            return lambda: [session.load(f"ds{k % 2}.t", tmp_path / "rows.csv") for k in range(4)]

        assert _together(*(loads(session) for session in sessions)) == []
        assert con.query("SELECT (SELECT SUM(x) FROM ds0.t) + (SELECT SUM(x) FROM ds1.t)").scalar() == 2 * 4950
