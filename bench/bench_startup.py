"""Cheap starts (issue 19): the ``sqlml`` command's start, ``import sqlml``, and per-statement overhead.

Measures, in one run:
  * ``sqlml query "SELECT 1"`` as a process (the console script, default on-disk warehouse in a
    fresh folder, and ``--warehouse :memory:``) against
    ``python -c "import duckdb; duckdb.sql('select 1')"``: alternating run by run, the median of
    each side over ``--pairs`` runs. Twice: *repeated* — the statement's DuckDB text is in the
    per-user statement cache (:mod:`sqlml.sql.known_statements`), as from the second run on —
    and *first run* — the cache turned off (``SQLML_STATEMENT_CACHE=off``): DuckDB's own parser
    decides ``SELECT 1``'s text (:mod:`sqlml.engine.duckdb.bigquery_alike`); and a first run of a statement
    off that whitelist (:data:`PARSED`), which sqlglot parses and transpiles;
  * the floor of a parsed first run — DuckDB and sqlglot alone, translating BigQuery's ``SELECT 1``
    to DuckDB's and running it, no sqlml — against the same baseline: what a first run that parses
    with sqlglot cannot go below;
  * ``python -c "import sqlml"`` against ``python -c "pass"`` (same alternation);
  * each also in CPU time (user + system, of the child processes or of this one), which a busy
    machine disturbs far less than wall time;
  * per call, on an in-memory connection against DuckDB's ``sql(q).fetchall()`` (alternating
    batches): ``Connection.query("SELECT 1").fetchall()`` (remembered after its first call), and
    a query reading a one-row table, which is never remembered (``SELECT x FROM ds.t WHERE x = 1``).

``--instructions`` instead counts the instructions (user space, valgrind's cachegrind without its
cache simulation) each process executes, the measure a shared machine does not disturb at all: two
runs of the same command agree within 0.3% (bench/README.md, cheap starts part 7). It needs
``valgrind`` and takes ~30 s a process.

Child processes get bytecode caches (in a temporary ``PYTHONPYCACHEPREFIX``, warmed by one
untimed run), as an installed package has: without them every start recompiles sqlml's sources;
their statement cache is a temporary ``SQLML_CACHE_DIR``.

Usage: python bench/bench_startup.py [--pairs 11] [--calls 2000] [--instructions]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

import sqlml
from sqlml.sql import known_statements
from harness import Row, alternate, print_table

DUCKDB = [sys.executable, "-c", "import duckdb; duckdb.sql('select 1')"]
#: What a first run that parses with sqlglot must do at least, with the libraries alone: import DuckDB
#: and sqlglot with its BigQuery and DuckDB dialects, translate BigQuery's ``SELECT 1`` and run it — no sqlml.
LIBRARIES_FLOOR = [sys.executable, "-c", "import duckdb, sqlglot; duckdb.sql(sqlglot.transpile('SELECT 1', read='bigquery', write='duckdb')[0])"]
#: The DuckDB text sqlml runs for BigQuery's ``SELECT 1`` (asserted in :func:`main`).
#: A table-free statement DuckDB's parser does not decide (a CAST): its first run parses it with sqlglot.
PARSED = "SELECT CAST(1 AS INT64)"
GENERATED = "SELECT CAST(1 AS BIGINT) AS f0_"


def sqlml_command() -> list[str]:
    """The installed ``sqlml`` console script, or ``python -m sqlml`` without one."""
    script = Path(sys.executable).with_name("sqlml")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sqlml"]


class Runner:
    """Runs ``command`` to completion (output discarded; a failure stops the benchmark) and notes the
    CPU seconds (user + system) each run took: on a machine shared with other work, CPU time holds
    still where wall time follows the load."""

    def __init__(self, command: list[str], env: dict, cwd: str):
        self.command, self.env, self.cwd, self.cpu = command, env, cwd, []

    def __call__(self) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(self.command, env=self.env, cwd=self.cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)


def runner(command: list[str], env: dict, cwd: str) -> Runner:
    """A :class:`Runner` of ``command``."""
    return Runner(command, env, cwd)


def process_rows(name: str, ours: Runner, theirs: Runner, pairs: int, target: str) -> list[Row]:
    """Median wall time and median CPU time of each side over ``pairs`` alternating runs."""
    ours.cpu, theirs.cpu = [], []
    timings = alternate(ours, theirs, pairs)
    wall = Row(name, statistics.median(t[0] for t in timings), statistics.median(t[1] for t in timings), target)
    cpu = Row("same, CPU time", statistics.median(ours.cpu[1:]), statistics.median(theirs.cpu[1:]), target)
    return [wall, cpu]


def per_statement(calls: int, pairs: int, ours_sql: str, theirs_sql: str, setup: str = "") -> list[Row]:
    """Seconds per statement, wall and CPU: sqlml vs DuckDB, medians of alternating batches of ``calls``."""
    connection, raw = sqlml.connect(":memory:"), duckdb.connect()
    if setup:
        connection.query(f"CREATE SCHEMA ds; {setup.format(table='ds.t')}")
        raw.execute(setup.format(table="t"))
    cpu: dict[str, list[float]] = {"ours": [], "theirs": []}

    def batch(run, sql, key):
        def timed():
            started = time.process_time()
            for _ in range(calls):
                run(sql).fetchall()
            cpu[key].append((time.process_time() - started) / calls)

        return timed

    timings = alternate(batch(connection.query, ours_sql, "ours"), batch(raw.sql, theirs_sql, "theirs"), pairs)
    connection.close()
    ours, theirs = (statistics.median(t[i] for t in timings) / calls for i in (0, 1))
    ours_cpu, theirs_cpu = (statistics.median(times[1:]) for times in cpu.values())
    versus = "" if ours_sql == theirs_sql else f" vs DuckDB's `sql({theirs_sql!r})`"
    name = f"`query({ours_sql!r}).fetchall()`{versus}, per call (overhead {(ours - theirs) * 1000:.2f} ms)"
    return [Row(name, ours, theirs, "overhead ≤ 0.5 ms"),
            Row(f"same, CPU time (overhead {(ours_cpu - theirs_cpu) * 1000:.2f} ms)", ours_cpu, theirs_cpu, "overhead ≤ 0.5 ms")]  # fmt: skip


def instructions(command: list[str], env: dict, cwd: str) -> int:
    """The instructions ``command`` executes in user space (valgrind's cachegrind, no cache simulation)."""
    valgrind = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    if command[0] != sys.executable:  # the console script: its interpreter runs under valgrind
        command = [sys.executable, *command]
    report = subprocess.run([*valgrind, *command], env=env, cwd=cwd, check=True, capture_output=True, text=True).stderr
    return int(re.search(r"I\s+refs:\s+([\d,]+)", report).group(1).replace(",", ""))


def instruction_rows(commands: dict[str, tuple[list[str], dict]], baseline: tuple[list[str], dict], cwd: str) -> None:
    """Print each command's instructions and their ratio to ``baseline``'s (each run once untimed
    first, so bytecode and statement caches are as the row says)."""
    subprocess.run(baseline[0], env=baseline[1], cwd=cwd, check=True, capture_output=True)
    base = instructions(*baseline, cwd)
    print(f"| process | instructions | ratio to `{' '.join(DUCKDB[1:])}` ({base / 1e6:,.0f} M) | target |\n|---|---:|---:|---|")
    for name, (command, env) in commands.items():
        subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
        count = instructions(command, env, cwd)
        print(f"| {name} | {count / 1e6:,.0f} M | **{count / base:.2f}×** | ≤ 1.5× |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=11)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--instructions", action="store_true", help="count instructions (valgrind) instead of timing")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="sqlml-bench-startup-")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "SQLML_STATEMENT_CACHE")}
    env.update(PYTHONPYCACHEPREFIX=os.path.join(work, "pycache"), SQLML_CACHE_DIR=os.path.join(work, "cache"))
    first_run = {**env, "SQLML_STATEMENT_CACHE": "off"}
    os.environ["SQLML_CACHE_DIR"] = env["SQLML_CACHE_DIR"]  # this process's own statements too
    with sqlml.connect(":memory:") as connection:
        connection.query("SELECT 1").fetchall()
    assert known_statements.lookup("SELECT 1", "bigquery").duckdb_sql == GENERATED
    try:
        command = sqlml_command()
        disk, memory = [*command, "query", "SELECT 1"], [*command, "query", "SELECT 1", "--warehouse", ":memory:"]
        parsed = [*command, "query", PARSED]
        if args.instructions:
            instruction_rows({
                '`sqlml query "SELECT 1"`, repeated (on-disk warehouse)': (disk, env),
                '`sqlml query "SELECT 1"`, first run (on-disk warehouse)': (disk, first_run),
                '`sqlml query "SELECT 1" --warehouse :memory:`, first run': (memory, first_run),
                f'`sqlml query "{PARSED}"`, first run (parsed with sqlglot, on-disk)': (parsed, first_run),
                "floor of a first run: DuckDB + sqlglot translating `SELECT 1`, no sqlml": (LIBRARIES_FLOOR, env),
            }, (DUCKDB, env), work)  # fmt: skip
            return
        baseline = runner(DUCKDB, env, work)
        started = time.perf_counter()
        rows = [
            *process_rows('`sqlml query "SELECT 1"` process, repeated (on-disk warehouse)', runner(disk, env, work), baseline, args.pairs, "≤ 1.5×"),
            *process_rows('`sqlml query "SELECT 1" --warehouse :memory:`, repeated', runner(memory, env, work), baseline, args.pairs, "≤ 1.5×"),
            *process_rows('`sqlml query "SELECT 1"` process, first run (on-disk warehouse)', runner(disk, first_run, work), baseline, args.pairs, "≤ 1.5×"),
            *process_rows('`sqlml query "SELECT 1" --warehouse :memory:`, first run', runner(memory, first_run, work), baseline, args.pairs, "≤ 1.5×"),
            *process_rows(f'`sqlml query "{PARSED}"` process, first run (parsed with sqlglot, on-disk)', runner(parsed, first_run, work), baseline, args.pairs, "≤ 1.5×"),
            *process_rows("floor of a first run: the libraries alone (DuckDB + sqlglot translating `SELECT 1`, no sqlml)",
                          runner(LIBRARIES_FLOOR, env, work), baseline, args.pairs, "≤ 1.5×"),  # fmt: skip
            *process_rows("`import sqlml` process vs `python -c pass`", runner([sys.executable, "-c", "import sqlml"], env, work),
                          runner([sys.executable, "-c", "pass"], env, work), args.pairs, "lazy"),  # fmt: skip
            *per_statement(args.calls, max(3, args.pairs // 2), "SELECT 1", "SELECT 1"),
            # DuckDB running the text sqlml runs for it (BigQuery's INT64 and f0_ name): DuckDB's own
            # cost of the longer text, apart from sqlml's
            *per_statement(args.calls, max(3, args.pairs // 2), "SELECT 1", GENERATED),
            *per_statement(args.calls, max(3, args.pairs // 2), "SELECT x FROM ds.t WHERE x = 1", "SELECT x FROM t WHERE x = 1",
                           "CREATE TABLE {table} AS SELECT 1::BIGINT AS x"),  # fmt: skip
        ]
        print_table(f"Cheap starts ({time.perf_counter() - started:.0f} s, load average {os.getloadavg()[0]:.1f})", rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
