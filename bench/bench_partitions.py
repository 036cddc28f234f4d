"""Partitioned and clustered tables: the speed-up of partition and cluster pruning, and the storage choice.

One table of N events (default 10M) over three years, written three ways in one warehouse:
  * ``ds.flat``: no PARTITION BY, rows in arrival (random) order — the baseline;
  * ``ds.events``: ``PARTITION BY DATE_TRUNC(day, MONTH) CLUSTER BY customer`` (sqlml's storage:
    one DuckDB table whose rows are ordered by partition, then cluster keys);
  * a folder of Parquet files per month (``COPY … PARTITION_BY``, hive layout) read with
    ``read_parquet(hive_partitioning)`` — the storage sqlml did not choose, for comparison.

Each query runs on every layout, alternating run by run; the table prints each layout's median
time and its ratio to the unpartitioned table (below 1 = faster).

Usage: python bench/bench_partitions.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import sqlml
from harness import Row, print_table

RUNS = 7
QUERIES = {
    "one month (partition filter)": "SELECT SUM(amount), COUNT(*) FROM {table} WHERE day BETWEEN '2025-03-01' AND '2025-03-31'",
    "one month, one customer (partition + cluster filter)": "SELECT SUM(amount) FROM {table} WHERE day BETWEEN '2025-03-01' AND '2025-03-31' AND customer = 4242",
    "one customer, all months (cluster filter only)": "SELECT SUM(amount) FROM {table} WHERE customer = 4242 AND day >= '2024-01-01'",
    "whole table (no filter benefit)": "SELECT COUNT(DISTINCT customer) FROM {table} WHERE day >= '2024-01-01'",
}


def build(con: sqlml.Connection, rows: int, parquet: Path) -> None:
    """The three layouts of the same rows."""
    con.query("CREATE SCHEMA IF NOT EXISTS ds")
    con.query(
        f"""CREATE OR REPLACE TABLE ds.flat AS
            SELECT DATE_ADD(DATE '2024-01-01', INTERVAL MOD(ABS(FARM_FINGERPRINT(CAST(i AS STRING))), 1096) DAY) AS day,
                   MOD(ABS(FARM_FINGERPRINT(CAST(i * 7 AS STRING))), 10000) AS customer,
                   MOD(i, 997) / 10 AS amount
            FROM UNNEST(GENERATE_ARRAY(1, {rows})) AS i"""
    )  # fmt: skip
    con.query(
        "CREATE OR REPLACE TABLE ds.events PARTITION BY DATE_TRUNC(day, MONTH) CLUSTER BY customer AS SELECT * FROM ds.flat"
    )
    con.dialect = "duckdb"
    con.query(
        f"COPY (SELECT *, strftime(day, '%Y%m') AS month FROM ds.flat ORDER BY day, customer) TO '{parquet}' "
        "(FORMAT parquet, PARTITION_BY (month), OVERWRITE_OR_IGNORE)"
    )
    con.dialect = "bigquery"


def timed_query(con: sqlml.Connection, sql: str) -> float:
    started = time.perf_counter()
    con.query(sql).fetchall()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        parquet = Path(folder) / "events_parquet"
        with sqlml.connect(Path(folder) / "wh", Path(folder) / "models") as con:
            build(con, args.rows, parquet)
            layouts = {
                "partitioned + clustered table": "ds.events",
                "Parquet folder per month": f"read_parquet('{parquet}/*/*.parquet', hive_partitioning = true)",
                "unpartitioned": "ds.flat",
            }
            results = []
            for label, template in QUERIES.items():
                times = {layout: [] for layout in layouts}
                for _ in range(RUNS):  # alternate layouts run by run: the same machine load for each
                    for layout, table in layouts.items():
                        con.dialect = "duckdb" if "read_parquet" in table else "bigquery"
                        times[layout].append(timed_query(con, template.format(table=table)))
                con.dialect = "bigquery"
                baseline = statistics.median(times["unpartitioned"])
                for layout in ("partitioned + clustered table", "Parquet folder per month"):
                    results.append(Row(f"{label}: {layout} vs unpartitioned", statistics.median(times[layout]), baseline, "report"))
            print_table(f"Partition and cluster pruning, {args.rows:,} rows (bench_partitions.py)", results)


if __name__ == "__main__":
    main()
