"""Cheap starts (issue 19): the ``sqlml`` command's start, ``import sqlml``, and per-statement overhead.

Measures, in one run:
  * ``sqlml query "SELECT 1"`` as a process (the console script, default on-disk warehouse in a
    fresh folder, and ``--warehouse :memory:``) against
    ``python -c "import duckdb; duckdb.sql('select 1')"``: alternating run by run, the median of
    each side over ``--pairs`` runs;
  * ``python -c "import sqlml"`` against ``python -c "pass"`` (same alternation);
  * a trivial statement through ``Connection.query("SELECT 1").fetchall()`` on an in-memory
    connection against DuckDB's ``sql("SELECT 1").fetchall()``, per call (alternating batches).

Child processes get bytecode caches (in a temporary ``PYTHONPYCACHEPREFIX``, warmed by one
untimed run), as an installed package has: without them every start recompiles sqlml's sources.

Usage: python bench/bench_startup.py [--pairs 11] [--calls 2000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

import sqlml
from harness import Row, alternate, print_table

DUCKDB = [sys.executable, "-c", "import duckdb; duckdb.sql('select 1')"]


def sqlml_command() -> list[str]:
    """The installed ``sqlml`` console script, or ``python -m sqlml`` without one."""
    script = Path(sys.executable).with_name("sqlml")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sqlml"]


def runner(command: list[str], env: dict, cwd: str):
    """A function running ``command`` to completion (output discarded; a failure stops the benchmark)."""
    return lambda: subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def process_row(name: str, ours, theirs, pairs: int, target: str) -> Row:
    """Median wall time of each side over ``pairs`` alternating runs."""
    timings = alternate(ours, theirs, pairs)
    return Row(name, statistics.median(t[0] for t in timings), statistics.median(t[1] for t in timings), target)


def per_statement(calls: int, pairs: int) -> Row:
    """Seconds per trivial statement: sqlml vs DuckDB, medians of alternating batches of ``calls``."""
    connection, raw = sqlml.connect(":memory:"), duckdb.connect()

    def batch(run):
        def timed():
            for _ in range(calls):
                run("SELECT 1").fetchall()

        return timed

    timings = alternate(batch(connection.query), batch(raw.sql), pairs)
    connection.close()
    ours, theirs = (statistics.median(t[i] for t in timings) / calls for i in (0, 1))
    return Row(f"`query(\"SELECT 1\").fetchall()`, per call (overhead {(ours - theirs) * 1000:.2f} ms)", ours, theirs, "overhead ≤ 0.5 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=11)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="sqlml-bench-startup-")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = os.path.join(work, "pycache")
    try:
        command = sqlml_command()
        query = runner([*command, "query", "SELECT 1"], env, work)
        memory = runner([*command, "query", "SELECT 1", "--warehouse", ":memory:"], env, work)
        baseline = runner(DUCKDB, env, work)
        started = time.perf_counter()
        rows = [
            process_row('`sqlml query "SELECT 1"` process (on-disk warehouse)', query, baseline, args.pairs, "≤ 1.5×"),
            process_row('`sqlml query "SELECT 1" --warehouse :memory:` process', memory, baseline, args.pairs, "≤ 1.5×"),
            process_row("`import sqlml` process vs `python -c pass`", runner([sys.executable, "-c", "import sqlml"], env, work),
                        runner([sys.executable, "-c", "pass"], env, work), args.pairs, "lazy"),  # fmt: skip
            per_statement(args.calls, max(3, args.pairs // 2)),
        ]
        print_table(f"Cheap starts ({time.perf_counter() - started:.0f} s, load average {os.getloadavg()[0]:.1f})", rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
