"""Built-in BigQuery functions DuckDB lacks: FARM_FINGERPRINT against DuckDB's own ``hash``.

FARM_FINGERPRINT runs as a vectorized (Arrow) Python UDF calling FarmHash once per value; DuckDB's
``hash`` is native C++. Both read the same N strings (default 5M) from a DuckDB table and are
summed, so only the hashing differs. Also timed: the ``MOD(ABS(FARM_FINGERPRINT(…)), 10)`` split
that BigQuery tutorials write, through sqlml.

Usage: python bench/bench_functions.py [--rows 5000000]
"""

from __future__ import annotations

import argparse

import duckdb

import sqlml
from sqlml.engine.duckdb import builtins
from sqlml.udfs import duckdb_installers
from harness import Row, best_of, print_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    rows = parser.parse_args().rows
    db = duckdb.connect()
    builtins.install(db, duckdb_installers())
    db.execute(f"CREATE TABLE t AS SELECT 'customer-' || i || '-' || (i * 7919 % 1000) AS s FROM range({rows}) r(i)")
    ours = best_of(lambda: db.sql("SELECT SUM(memory.main.farm_fingerprint(s) % 7) FROM t").fetchall(), repeat=3)
    theirs = best_of(lambda: db.sql("SELECT SUM(hash(s) % 7) FROM t").fetchall(), repeat=3)
    with sqlml.connect(":memory:") as con:
        con.query(f"CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT CONCAT('customer-', CAST(i AS STRING)) AS s FROM UNNEST(GENERATE_ARRAY(1, {rows})) AS i")
        split = best_of(lambda: con.query("SELECT COUNT(*) FROM ds.t WHERE MOD(ABS(FARM_FINGERPRINT(s)), 10) < 8").fetchall(), repeat=3)
    print_table(
        f"FARM_FINGERPRINT ({rows:,} strings)",
        [
            Row("FARM_FINGERPRINT (Arrow UDF) vs DuckDB hash", ours, theirs, f"{rows / ours / 1e6:.1f} M rows/s vs {rows / theirs / 1e6:.1f} M rows/s"),
            Row("sqlml: WHERE MOD(ABS(FARM_FINGERPRINT(s)), 10) < 8 vs the UDF alone", split, ours, f"{rows / split / 1e6:.1f} M rows/s"),
        ],
    )


if __name__ == "__main__":
    main()
