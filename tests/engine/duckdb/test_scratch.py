"""The process's scratch DuckDB: one instance with the warehouse's built-in functions, a cursor per thread."""

from __future__ import annotations

import threading

import sqlml
from sqlml.engine.duckdb import scratch


def test_each_thread_gets_its_own_cursor_of_one_instance_with_the_builtins():
    cursors = []
    worker = threading.Thread(target=lambda: cursors.append(scratch.cursor()))
    worker.start()
    worker.join()
    mine = scratch.cursor()
    assert mine is scratch.cursor() and cursors[0] is not mine
    mine.execute("CREATE OR REPLACE TABLE scratch_probe AS SELECT 42 AS v")
    assert cursors[0].execute("SELECT v FROM scratch_probe").fetchall() == [(42,)]  # one database
    mine.execute("DROP TABLE scratch_probe")
    with sqlml.connect(":memory:") as con:
        expected = con.query("SELECT FARM_FINGERPRINT('a')").fetchall()
    assert mine.execute("SELECT memory.main.farm_fingerprint('a')").fetchall() == expected


def test_constant_arguments_may_call_sqlml_builtins():
    # a constant argument is evaluated on the scratch instance, which has FARM_FINGERPRINT
    with sqlml.connect(":memory:") as con:
        size = con.query("SELECT ABS(MOD(FARM_FINGERPRINT('k'), 7)) + 1").fetchall()[0][0]
        row = con.query(
            f"SELECT ML.HASH_BUCKETIZE('a', ABS(MOD(FARM_FINGERPRINT('k'), 7)) + 1), ML.HASH_BUCKETIZE('a', {size})"
        ).fetchall()[0]
    assert row[0] == row[1]
