"""Per-statement overhead of sqlml over DuckDB's own, and of this checkout against an earlier one
(issue 19, cheap starts: a trivial statement within 0.5 ms of DuckDB's).

Each child process opens an in-memory connection and a raw DuckDB one holding the same tables,
and times batches of ``query(sql).fetchall()`` against DuckDB's ``sql(text).fetchall()`` of the
DuckDB text sqlml runs for the statement, alternately (CPU time of the process; the median
batch); it prints each statement's overhead per call, and the Python function calls one
``query(sql).fetchall()`` makes (cProfile's count: the same under any load, where times on a
shared machine move by ±50%). With ``--before SRC`` (the ``src`` folder
of another checkout, e.g. ``git archive <commit> src | tar -x -C /tmp/before``), children of this
checkout and of that one alternate round by round, so both are measured under the same load.

Usage: python bench/bench_statement_overhead.py [--before /tmp/before/src] [--rounds 7] [--calls 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SETUP = [
    "CREATE SCHEMA ds",
    "CREATE TABLE ds.t AS SELECT 1::BIGINT AS x",
    "CREATE TABLE ds.d AS SELECT DATE '2020-01-01' + CAST(i AS INTEGER) AS d, i::BIGINT AS n FROM range(10) AS r(i)",
]
#: label → BigQuery statement (DuckDB runs the text sqlml generates for it)
STATEMENTS = {
    "`SELECT 1` (remembered)": "SELECT 1",
    "`SELECT x FROM ds.t WHERE x = 1`": "SELECT x FROM ds.t WHERE x = 1",
    "`SELECT x + 1 AS y FROM ds.t WHERE x = 1` (+: columns looked up)": "SELECT x + 1 AS y FROM ds.t WHERE x = 1",
    "`SELECT d + n AS e FROM ds.d WHERE n = 1` (DATE + INT64 typed)": "SELECT d + n AS e FROM ds.d WHERE n = 1",
    "`SELECT CAST(x AS STRING) AS s FROM ds.t WHERE x = 1` (a column cast to STRING: columns looked up)": "SELECT CAST(x AS STRING) AS s FROM ds.t WHERE x = 1",
}


def child(calls: int, batches: int) -> dict[str, list[float]]:
    """Per statement: [seconds of CPU per call over DuckDB's, Python calls per statement], in this process."""
    import cProfile
    import pstats

    import duckdb

    import sqlml
    from sqlml.execution import sources
    from sqlml.sql import known_statements

    connection, raw = sqlml.connect(":memory:"), duckdb.connect()
    for statement in SETUP:
        connection.query(statement)
        raw.execute(statement)
    texts = []
    generate = sources.to_duckdb
    sources.to_duckdb = lambda tree, **kwargs: texts.append(generate(tree, **kwargs)) or texts[-1]
    overheads = {}
    for label, sql in STATEMENTS.items():
        texts.clear()
        connection.query(sql).fetchall()
        # a remembered statement (known_statements, kept on disk by an earlier run) is not generated again
        duckdb_sql = texts[-1] if texts else known_statements.lookup(sql, "bigquery").duckdb_sql
        ours, theirs = [], []
        for _ in range(batches):
            for run, times in ((lambda: connection.query(sql).fetchall(), ours), (lambda: raw.sql(duckdb_sql).fetchall(), theirs)):
                started = time.process_time()
                for _ in range(calls):
                    run()
                times.append((time.process_time() - started) / calls)
        profile = cProfile.Profile()
        profile.runcall(lambda: [connection.query(sql).fetchall() for _ in range(100)])
        overheads[label] = [statistics.median(ours) - statistics.median(theirs), pstats.Stats(profile).total_calls / 100]
    return overheads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="the src folder of the checkout to compare with")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.calls, args.batches)))
        return
    here = str(Path(__file__).resolve().parent.parent / "src")
    sides = {"after": here, **({"before": args.before} if args.before else {})}
    found: dict[str, list[dict[str, list[float]]]] = {side: [] for side in sides}
    started = time.perf_counter()
    for _ in range(args.rounds):
        for side, src in sides.items():
            env = {**os.environ, "PYTHONPATH": src, "SQLML_CACHE_DIR": os.environ.get("SQLML_CACHE_DIR", "/tmp/sqlml-bench-cache")}
            command = [sys.executable, __file__, "--child", "--calls", str(args.calls), "--batches", str(args.batches)]
            found[side].append(json.loads(subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout))
    load = os.getloadavg()[0]
    print(f"Per statement, median of {args.rounds} rounds ({time.perf_counter() - started:.0f} s, load {load:.1f})\n")
    for title, index, unit in (("CPU overhead over DuckDB's", 0, "ms"), ("Python calls", 1, "")):
        print(f"| {title} | " + " | ".join(sides) + (" | after ÷ before |" if args.before else " |"))
        print("|---|" + "---:|" * (len(sides) + bool(args.before)))
        for label in STATEMENTS:
            medians = {side: statistics.median(r[label][index] for r in found[side]) for side in sides}
            cells = " | ".join(f"{medians[side] * 1000:.3f} ms" if unit else f"{medians[side]:.0f}" for side in sides)
            ratio = f" | {medians['after'] / medians['before']:.2f}×" if args.before and medians["before"] > 0 else (" | n/a" if args.before else "")
            print(f"| {label} | {cells}{ratio} |")
        print()


if __name__ == "__main__":
    main()
