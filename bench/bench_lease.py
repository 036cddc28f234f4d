"""Cost of taking turns on the warehouse file: the waiter-queue check on every statement's path.

Measures, in one run:
  * a one-row SELECT on an on-disk warehouse held between statements, per call, against DuckDB
    running the same SQL on the same file (sqlml's whole per-statement overhead);
  * the queue check alone (``LeaseQueue.has_waiters``: one ``listdir`` of the usually empty
    ``.waiters`` folder), made as a statement's last lease ends (and as the next begins, unless
    the last look is under 20 ms old);
  * a writer's wait for the file while another process reads in a tight loop (what the queue is for).

Usage: python bench/bench_lease.py [--calls 2000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import duckdb

import sqlml
from sqlml.engine.duckdb.lease_queue import LeaseQueue
from harness import Row, per_call, print_table

SQL = "SELECT x FROM ds.one"
READER = textwrap.dedent("""
    import sys, time, sqlml
    con = sqlml.connect(sys.argv[1] + "/warehouse", sys.argv[1] + "/models", read_only=True)
    print("reading", flush=True)
    longest, end = 0.0, time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:
        began, waited = time.perf_counter(), con._warehouse.waited
        con.query("SELECT COUNT(*) FROM ds.one").fetchall()
        longest = max(longest, time.perf_counter() - began - (con._warehouse.waited - waited))
    print(longest, flush=True)
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
    raw = duckdb.connect(str(folder / "warehouse" / "warehouse.duckdb"))
    theirs = per_call(lambda: raw.execute(SQL).fetchall(), args.calls)
    raw.close()
    queue = LeaseQueue(folder / "warehouse")
    queue.folder.mkdir(exist_ok=True)
    check = per_call(lambda: queue.has_waiters(writers_only=False), args.calls * 10)
    longest_wait, longest_statement = _writer_waits(folder)

    print_table("Taking turns on the warehouse file (bench_lease.py)", [
        Row("one-row SELECT per statement, file held, vs DuckDB on the same file", ours, theirs, "report"),
        Row("writer's longest wait for the file beside a reader in a tight loop, vs the reader's longest statement",
            longest_wait, longest_statement, "about 1 (before the queue: lock_timeout, then WarehouseLockedError)"),
    ])  # fmt: skip
    print(f"\nThe queue check (one listdir of the empty .waiters folder, made once per statement in a tight "
          f"loop): {check * 1e6:.1f} µs, {check / ours:.2%} of the statement (target ≤ 1%).")


def _writer_waits(folder: Path, inserts: int = 20) -> tuple[float, float]:
    """The longest wait for the file of ``inserts`` INSERTs while another process reads non-stop,
    and the reader's longest statement (its time on the file, its own waits left out)."""
    reader = subprocess.Popen([sys.executable, "-c", READER, str(folder), "8"], stdout=subprocess.PIPE, text=True)
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
        return max(waits), float(reader.communicate(timeout=60)[0])
    finally:
        if reader.poll() is None:
            reader.kill()


if __name__ == "__main__":
    main()
