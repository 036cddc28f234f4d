"""What BigQuery's CAST(x AS INT64) costs on DuckDB: the SQL sqlml writes vs DuckDB's plain cast.

sqlml rounds a FLOAT64 half away from zero and checks a STRING's digits before casting, choosing
by the operand's ``TYPEOF`` (which DuckDB folds when it binds). Each column of a table of
``--rows`` rows is summed through the cast sqlml generates and through ``CAST(x AS BIGINT)``, both
on one raw DuckDB connection, in alternating pairs; the ratio (median of per-pair ratios, wall and
process CPU) is the cast's whole cost.

    python bench_int64_casts.py [--rows 10000000] [--pairs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import duckdb
import sqlglot

from sqlml.sql.transpile import to_duckdb

COLUMNS = {"d": "FLOAT64 (half away from zero)", "s": "STRING of digits (checked)", "b": "INT64 (unchanged)", "n": "NUMERIC (unchanged)"}


def _timed(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    con.sql(sql).fetchall()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--pairs", type=int, default=7)
    args = parser.parse_args()
    con = duckdb.connect()
    con.sql(
        f"CREATE TABLE t AS SELECT (i / 4.0 - 1e6)::DOUBLE AS d, CAST(i AS VARCHAR) AS s, i::BIGINT AS b, "
        f"(i / 4.0)::DECIMAL(38, 9) AS n FROM range({args.rows}) AS r(i)"
    )
    print(f"rows {args.rows:,}, load average {os.getloadavg()[0]:.1f}")
    print("| column | sqlml's cast | wall ÷ plain CAST | CPU ÷ plain CAST |")
    print("|---|---|---:|---:|")
    for column, label in COLUMNS.items():
        ours = "SELECT " + to_duckdb(sqlglot.parse_one(f"SELECT SUM(CAST({column} AS INT64)) AS x FROM t", read="sqlml")).split("SELECT ", 1)[1]
        plain = f"SELECT SUM(CAST({column} AS BIGINT)) AS x FROM t"
        assert con.sql(ours).fetchall() == con.sql(plain).fetchall() or column in ("d", "n")
        pairs = [(_timed(con, ours), _timed(con, plain)) for _ in range(args.pairs)]
        wall = statistics.median(a[0] / b[0] for a, b in pairs)
        cpu = statistics.median(a[1] / max(b[1], 1e-9) for a, b in pairs)
        print(f"| {column} | {label} | {wall:.2f}× | {cpu:.2f}× |")


if __name__ == "__main__":
    main()
