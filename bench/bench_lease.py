"""Cost of taking turns on the warehouse file: the waiter-queue check on every statement's path.

Measures, in one run:
  * a one-row SELECT on an on-disk warehouse held between statements, per call, against DuckDB
    running the same SQL on the same file (sqlml's whole per-statement overhead);
  * the queue check (``LeaseQueue.has_waiters``: one ``listdir`` of the usually empty
    ``.waiters`` folder, made when a statement's lease is taken and when it ends): the same loop
    with the check stubbed out, batches alternating, and the check alone;
  * a writer's wait for the file while another process reads in a tight loop (what the queue is for).

Usage: python bench/bench_lease.py [--calls 2000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import duckdb

import sqlml
from sqlml.engine.lease_queue import LeaseQueue
from harness import Row, alternate, per_call, print_table

SQL = "SELECT x FROM ds.one"
READER = textwrap.dedent("""
    import sys, time, sqlml
    con = sqlml.connect(sys.argv[1] + "/warehouse", sys.argv[1] + "/models", read_only=True)
    print("reading", flush=True)
    end = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:
        con.query("SELECT COUNT(*) FROM ds.one").fetchall()
""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-lease-"))
    with sqlml.connect(folder / "warehouse", folder / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.one AS SELECT 1 AS x")

    with sqlml.connect(folder / "warehouse", folder / "models") as con:
        ours = per_call(lambda: con.query(SQL).fetchall(), args.calls)
        with_check, without_check = _with_and_without_the_check(lambda: con.query(SQL).fetchall(), args.calls // 10)
    raw = duckdb.connect(str(folder / "warehouse" / "warehouse.duckdb"))
    theirs = per_call(lambda: raw.execute(SQL).fetchall(), args.calls)
    raw.close()
    queue = LeaseQueue(folder / "warehouse")
    queue.folder.mkdir(exist_ok=True)
    check = per_call(lambda: queue.has_waiters(writers_only=False), args.calls * 10)
    waits = _writer_waits(folder)

    print_table("Taking turns on the warehouse file (bench_lease.py)", [
        Row("one-row SELECT per statement, file held, vs DuckDB on the same file", ours, theirs, "report"),
        Row("the same with the queue checks vs with them stubbed out (medians of alternating batches)",
            with_check, without_check, "≤ 1.01"),
        Row("one queue check, empty .waiters folder (2 per statement), vs the statement", check, ours, "≤ 0.005"),
        Row("writer's longest wait for the file beside a reader in a tight loop, vs its median", max(waits),
            statistics.median(waits), "bounded by a statement, not the reader's pace"),
    ])  # fmt: skip


def _with_and_without_the_check(statement, calls: int, pairs: int = 30) -> tuple[float, float]:
    """Median seconds per statement with the queue checks and with ``has_waiters`` stubbed out,
    batches alternating so that both see the same machine load."""
    real = LeaseQueue.has_waiters

    def batch(stubbed: bool):
        LeaseQueue.has_waiters = (lambda self, *, writers_only: False) if stubbed else real
        try:
            for _ in range(calls):
                statement()
        finally:
            LeaseQueue.has_waiters = real

    timings = alternate(lambda: batch(False), lambda: batch(True), pairs)
    return statistics.median(t[0] for t in timings) / calls, statistics.median(t[1] for t in timings) / calls


def _writer_waits(folder: Path, inserts: int = 20) -> list[float]:
    """Seconds each of ``inserts`` INSERTs waited for the file while another process reads non-stop."""
    reader = subprocess.Popen([sys.executable, "-c", READER, str(folder), "60"], stdout=subprocess.PIPE, text=True)
    try:
        reader.stdout.readline()
        time.sleep(0.5)
        waits = []
        with sqlml.connect(folder / "warehouse", folder / "models") as con:
            for n in range(inserts):
                before = con._warehouse.waited
                con.query(f"INSERT INTO ds.one VALUES ({n})")
                waits.append(con._warehouse.waited - before)
                time.sleep(0.05)
        return waits
    finally:
        reader.kill()
        reader.wait()


if __name__ == "__main__":
    main()
