"""The same partitioned linear-regression project on DuckDB and on Spark local[2] (issue 22, first
benchmark): each step's time on both engines and Spark's ratio to DuckDB (above 1 = Spark slower;
on one machine DuckDB is expected to win — the point is the ratio, and that nothing but the engine
changes).

The project, identical SQL on both engines:
  1. CTAS of a table of N rows partitioned by day;
  2. CREATE MODEL linear_reg on every row — on Spark trained on the executors by Spark MLlib
     (:mod:`sqlml.ml.spark_training`, no ``spark_train`` option), on DuckDB in one process;
  3. ML.PREDICT over every row into a table (CTAS);
  4. ML.EVALUATE of the model over the table.

Rounds alternate the engines (DuckDB then Spark) so both run under the same machine load; the
table prints each step's median. Spark's start (once per process) is reported apart.

Spark runs in the driver's JVM on local[2], its heap ``--driver-memory`` (default 8g: at 10M rows
the partitioned CTAS runs out of Spark's default 1g).

Usage: python bench/bench_spark_project.py [--rows 10000000] [--rounds 1] [--driver-memory 8g]
"""

from __future__ import annotations

import argparse
import os
import time

import sqlml
from harness import engine_rows, print_table, time_on_engines

STEPS = {
    "partitioned table (CTAS)": (
        "CREATE OR REPLACE TABLE ds.sales PARTITION BY day AS "
        "SELECT DATE_ADD(DATE '2024-01-01', INTERVAL MOD(a * 7 + b, 365) DAY) AS day, MOD(a * 13 + b * 3, 100) / 10.0 AS price, "
        "MOD(a * 31 + b, 50) AS stock, CAST(MOD(a + b, 5) AS STRING) AS region, "
        "MOD(a * 13 + b * 3, 100) / 5.0 - MOD(a * 31 + b, 50) / 7.0 + MOD(a + b, 5) * 2 + MOD(a * b, 11) / 3.0 AS units "
        "FROM UNNEST(GENERATE_ARRAY(1, 1000)) AS a, UNNEST(GENERATE_ARRAY(1, {blocks})) AS b"
    ),
    "CREATE MODEL linear_reg (all rows)": (
        "CREATE OR REPLACE MODEL ds.units OPTIONS(model_type='linear_reg', input_label_cols=['units']) "
        "AS SELECT price, stock, region, units FROM ds.sales"
    ),
    "ML.PREDICT CTAS (all rows)": (
        "CREATE OR REPLACE TABLE ds.scored PARTITION BY day AS SELECT day, price, stock, region, units, predicted_units "
        "FROM ML.PREDICT(MODEL ds.units, TABLE ds.sales)"
    ),
    "ML.EVALUATE (all rows)": "SELECT * FROM ML.EVALUATE(MODEL ds.units, (SELECT price, stock, region, units FROM ds.scored))",
}


def run_project(con: sqlml.Connection, rows: int) -> dict[str, float]:
    """Each step's seconds on ``con``."""
    con.query("CREATE SCHEMA IF NOT EXISTS ds")
    times = {}
    for step, sql in STEPS.items():
        started = time.perf_counter()
        result = con.query(sql.format(blocks=max(1, rows // 1000)))
        if result.columns:
            print(f"  {step}: {result.arrow().to_pylist()}", flush=True)
        times[step] = time.perf_counter() - started
        print(f"  {step}: {times[step]:.2f} s", flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--driver-memory", default="8g")
    args = parser.parse_args()
    os.environ["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {args.driver_memory} pyspark-shell"
    timings, start_seconds = time_on_engines("bench-spark-project-", args.rounds, lambda con, _: run_project(con, args.rows))
    # harness rows: "sqlml" is the project on Spark local[2], the baseline the same project on DuckDB
    print_table(
        f"Spark local[2] (sqlml column) vs DuckDB (baseline), {args.rows:,} rows, {args.rounds} round(s) alternating; "
        f"Spark session start {start_seconds:.1f} s",
        engine_rows(timings, "ratio reported"),
    )


if __name__ == "__main__":
    main()
