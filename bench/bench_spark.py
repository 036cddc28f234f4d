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

``--cluster``: ML.PREDICT (step 4) on a standalone cluster on loopback — a master and two workers
of one core each (:mod:`sqlml.engine.spark.standalone`) — by an application allowed one core (one
worker's executor) or two (both workers), rounds alternating; the ratio 1-worker / 2-workers is
the scaling (2.0 = linear). Each measurement runs in its own driver process (one SparkContext per
process), which builds the table and the model the first time (not timed).

Usage: python bench/bench_spark.py [--rows 10000000] [--rounds 3]
       python bench/bench_spark.py --cluster [--rows 2000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlml
from harness import Row, engine_rows, print_table, time_on_engines

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


def predict_on_cluster(master: str, folder: Path, rows: int, repeats: int) -> None:
    """In a driver process of its own: ML.PREDICT CTAS ``repeats`` times on the cluster (the
    table and model made first if the warehouse has none); prints the seconds as JSON."""
    con = sqlml.connect(folder / "warehouse", folder / "models", engine="spark", spark=master)
    values = {"blocks": max(1, rows // 1000), "train": ", spark_train='driver'", "stride": max(1, rows // 20_000)}
    con.query("CREATE SCHEMA IF NOT EXISTS ds")
    if not con.query("SELECT COUNT(*) FROM ds.INFORMATION_SCHEMA.MODELS").fetchall()[0][0]:
        for step in ("partitioned table (CTAS)", "CREATE MODEL (20k sample)"):
            con.query(STEPS[step].format(**values))
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        con.query(STEPS["ML.PREDICT CTAS (all rows)"].format(**values))
        seconds.append(time.perf_counter() - started)
    con.close()
    print(json.dumps(seconds))


def cluster_scaling(rows: int, rounds: int) -> None:
    """ML.PREDICT by an application of one core (one worker) vs two (two workers), alternating."""
    from sqlml.engine.spark.standalone import spark_environment, standalone_cluster

    folder = Path(tempfile.mkdtemp(prefix="bench-spark-cluster-"))
    timings: dict[int, list[float]] = {1: [], 2: []}
    with standalone_cluster(folder, workers=2, cores=1, memory="2g") as master:
        for round_index in range(rounds):
            for cores in (1, 2):
                env = {**spark_environment(), "PYSPARK_SUBMIT_ARGS": f"--conf spark.cores.max={cores} --conf spark.executor.memory=1g pyspark-shell"}
                child = [sys.executable, __file__, "--predict-on", master, "--folder", str(folder), "--rows", str(rows)]
                done = subprocess.run(child, env=env, capture_output=True, text=True, check=True, cwd=os.path.dirname(__file__))
                seconds = json.loads(done.stdout.strip().splitlines()[-1])
                timings[cores].append(min(seconds))
                print(f"round {round_index + 1}: {cores} worker(s) {min(seconds):.2f} s", flush=True)
    one, two = statistics.median(timings[1]), statistics.median(timings[2])
    print_table(
        f"ML.PREDICT CTAS on a standalone cluster (loopback, 1-core workers), {rows:,} rows, {rounds} rounds alternating",
        [Row("ML.PREDICT CTAS, 2 workers (sqlml) vs 1 worker (baseline)", two, one, f"scaling {one / two:.2f}x (2.0 = linear)")],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cluster", action="store_true", help="ML.PREDICT with 1 vs 2 standalone workers")
    parser.add_argument("--predict-on", help=argparse.SUPPRESS)  # a --cluster measurement's own driver process
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.predict_on:
        predict_on_cluster(args.predict_on, Path(args.folder), args.rows, repeats=2)
        return
    if args.cluster:
        cluster_scaling(args.rows or 2_000_000, args.rounds)
        return
    args.rows = args.rows or 1_000_000
    timings, start_seconds = time_on_engines("bench-spark-", args.rounds, lambda con, on_spark: run_project(con, args.rows, on_spark))
    # harness rows: "sqlml" is the project on Spark local[2], the baseline the same project on DuckDB
    print_table(
        f"Spark local[2] (sqlml column) vs DuckDB (baseline), {args.rows:,} rows, {args.rounds} rounds alternating; "
        f"Spark session start {start_seconds:.1f} s",
        engine_rows(timings, "DuckDB wins on one machine"),
    )


if __name__ == "__main__":
    main()
