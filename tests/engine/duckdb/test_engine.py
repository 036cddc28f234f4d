"""Several processes take turns on one warehouse: clear lock errors, waits, no corruption."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pandas as pd
import pytest

import sqlml

#: Holds the file in an open transaction until the test writes a line, or for argv[2] seconds.
HOLDER = textwrap.dedent("""
    import select, sys, sqlml
    con = sqlml.connect(sys.argv[1] + "/warehouse", sys.argv[1] + "/models", idle_release=0)
    con.query("BEGIN TRANSACTION")
    con.query("INSERT INTO ds.log VALUES ('holder')")
    print("holding", flush=True)
    select.select([sys.stdin], [], [], float(sys.argv[2]))
    con.query("COMMIT")
    con.close()
""")


@pytest.fixture
def folder(tmp_path):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.log (who STRING)")
    return tmp_path


def _start_holder(folder, seconds):
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder), str(seconds)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "holding"
    return process


def test_a_busy_warehouse_is_a_clear_error_naming_the_process(folder):
    holder = _start_holder(folder, 5)
    try:
        with sqlml.connect(folder / "warehouse", folder / "models", lock_timeout=0) as other:
            with pytest.raises(sqlml.WarehouseLockedError, match=rf"(?s)is in use by another process \(PID {holder.pid}\).*lock_timeout") as info:
                other.query("SELECT COUNT(*) FROM ds.log")
            assert info.value.pid == holder.pid and isinstance(info.value, OSError)
    finally:
        holder.communicate("done\n", timeout=60)


def test_a_second_process_waits_for_the_lock_and_both_writes_land(folder):
    holder = _start_holder(folder, 1.5)
    with sqlml.connect(folder / "warehouse", folder / "models", lock_timeout=30, idle_release=0) as other:
        other.query("INSERT INTO ds.log VALUES ('waiter')")
        rows = sorted(r[0] for r in other.query("SELECT who FROM ds.log").fetchall())
    holder.wait()
    assert rows == ["holder", "waiter"]


def test_an_idle_connection_does_not_lock_out_other_processes(folder):
    with sqlml.connect(folder / "warehouse", folder / "models", idle_release=0.05) as idle:
        idle.query("INSERT INTO ds.log VALUES ('idle')")
        time.sleep(0.3)
        script = f"import sqlml; c = sqlml.connect({str(folder / 'warehouse')!r}, {str(folder / 'models')!r}, lock_timeout=0); c.query(\"INSERT INTO ds.log VALUES ('other')\"); c.close()"
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
        assert sorted(r[0] for r in idle.query("SELECT who FROM ds.log").fetchall()) == ["idle", "other"]


def test_session_state_survives_release_and_reattach(folder):
    with sqlml.connect(folder / "warehouse", folder / "models", idle_release=0) as con:
        con.query("CREATE TEMP TABLE scratch AS SELECT 7 AS v")
        con.query("CREATE TEMP FUNCTION twice(x INT64) AS (2 * x)")
        con.register("frame", pd.DataFrame({"v": [1]}))
        assert not con._warehouse.is_attached
        # another process writes in between
        script = f"import sqlml; c = sqlml.connect({str(folder / 'warehouse')!r}, {str(folder / 'models')!r}, lock_timeout=10); c.query(\"INSERT INTO ds.log VALUES ('between')\"); c.close()"
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
        assert con.query("SELECT twice(v) FROM scratch").fetchall() == [(14,)]
        assert con.query("SELECT v FROM frame").fetchall() == [(1,)]
        assert con.query("SELECT who FROM ds.log").fetchall() == [("between",)]


def test_interrupt_stops_a_wait_for_the_file(folder):
    holder = _start_holder(folder, 10)
    try:
        with sqlml.connect(folder / "warehouse", folder / "models", lock_timeout=60) as waiting:
            threading.Timer(0.5, waiting.interrupt).start()
            with pytest.raises(sqlml.Cancelled, match=r"Cancelled while waiting for the warehouse; nothing was changed\."):
                waiting.query("INSERT INTO ds.log VALUES ('never')")
            assert not (folder / "warehouse" / ".waiters").exists() or not os.listdir(folder / "warehouse" / ".waiters")
    finally:
        holder.kill()
        holder.wait()
    with sqlml.connect(folder / "warehouse", folder / "models") as con:
        assert con.query("SELECT who FROM ds.log").fetchall() == []  # the holder was killed before COMMIT
