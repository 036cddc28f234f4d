"""The same partitioned project on DuckDB and on Spark local[2] (issue 22): each step's time on both
engines, and Spark's ratio to DuckDB (above 1 = Spark slower; on one machine DuckDB is expected to
win — the point is the ratio, and that nothing but the engine changes).

The project, identical SQL on both engines:
  1. a partitioned, clustered table of N events (``PARTITION BY day CLUSTER BY customer``);
  2. an aggregate with a partition filter;
  3. CREATE MODEL boosted_tree_classifier on a 20,000-row sample (``spark_train='driver'`` on Spark);
  4. ML.PREDICT over every row into a table (CTAS);
  5. ML.EVALUATE over the table.

Rounds alternate the engines (DuckDB then Spark), so both run under the same machine load; the
table prints each step's median. Spark's start (once per process) is reported apart.

Usage: python bench/bench_spark.py [--rows 10000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import sqlml
from harness import Row, print_table

STEPS = {
    "partitioned table (CTAS)": (
        "CREATE OR REPLACE TABLE ds.events PARTITION BY day CLUSTER BY customer AS "
        "SELECT DATE_ADD(DATE '2024-01-01', INTERVAL MOD(a * 7 + b, 365) DAY) AS day, MOD(a * 31 + b, 5000) AS customer, "
        "MOD(a * 13 + b * 3, 100) / 10.0 AS amount, MOD(a + b, 7) AS channel, MOD(a * b, 11) > 6 AS churned "
        "FROM UNNEST(GENERATE_ARRAY(1, 1000)) AS a, UNNEST(GENERATE_ARRAY(1, {blocks})) AS b"
    ),
    "aggregate, one month": "SELECT channel, SUM(amount), COUNT(*) FROM ds.events WHERE day BETWEEN '2024-03-01' AND '2024-03-31' GROUP BY channel",
    "CREATE MODEL (20k sample)": (
        "CREATE OR REPLACE MODEL ds.churn OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['churned'], "
        "max_iterations=20{train}) AS SELECT amount, channel, customer, churned FROM ds.events WHERE MOD(customer, {stride}) = 0"
    ),
    "ML.PREDICT CTAS (all rows)": (
        "CREATE OR REPLACE TABLE ds.scored AS SELECT day, customer, predicted_churned "
        "FROM ML.PREDICT(MODEL ds.churn, (SELECT amount, channel, customer, day FROM ds.events))"
    ),
    "ML.EVALUATE (all rows)": "SELECT * FROM ML.EVALUATE(MODEL ds.churn, (SELECT amount, channel, customer, churned FROM ds.events))",
}


def run_project(con: sqlml.Connection, rows: int, on_spark: bool) -> dict[str, float]:
    """Each step's seconds on ``con``."""
    # 5,000 customers share the rows evenly: every (rows / 20,000)-th customer's rows are ~20,000 rows
    values = {"blocks": max(1, rows // 1000), "train": ", spark_train='driver'" if on_spark else "", "stride": max(1, rows // 20_000)}
    con.query("CREATE SCHEMA IF NOT EXISTS ds")
    times = {}
    for step, sql in STEPS.items():
        started = time.perf_counter()
        result = con.query(sql.format(**values))
        if result.columns:
            result.arrow()
        times[step] = time.perf_counter() - started
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-spark-"))
    started = time.perf_counter()
    spark = sqlml.connect(folder / "spark", folder / "models-spark", engine="spark")
    spark.query("SELECT 1").arrow()
    start_seconds = time.perf_counter() - started
    duck = sqlml.connect(folder / "duckdb", folder / "models-duckdb")
    timings: dict[str, list[tuple[float, float]]] = {step: [] for step in STEPS}
    for _ in range(args.rounds):
        on_duckdb, on_spark = run_project(duck, args.rows, False), run_project(spark, args.rows, True)
        for step in STEPS:
            timings[step].append((on_duckdb[step], on_spark[step]))
    # harness rows: "sqlml" is the project on Spark local[2], the baseline the same project on DuckDB
    rows = [
        Row(step, statistics.median(s for _, s in pairs), statistics.median(d for d, _ in pairs), "DuckDB wins on one machine")
        for step, pairs in timings.items()
    ]
    rows.append(Row("whole project", sum(r.sqlml for r in rows), sum(r.baseline for r in rows), "ratio reported"))
    print_table(
        f"Spark local[2] (sqlml column) vs DuckDB (baseline), {args.rows:,} rows, {args.rounds} rounds alternating; "
        f"Spark session start {start_seconds:.1f} s",
        rows,
    )
    duck.close()
    spark.close()


if __name__ == "__main__":
    main()
