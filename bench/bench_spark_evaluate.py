"""ML.EVALUATE on Spark local[2] (issue 22.3): aggregated where the data is (the rows scored on the
executors by ``mapInArrow``, the metrics from Spark aggregates; only aggregate rows reach the
driver) against the path before it, which collected the input to the driver and scored it there.

Runs alternate (aggregated, then collected) under the same machine load; the table prints each
side's median and the ratio aggregated / collected (below 1: the aggregation is faster).

Usage: python bench/bench_spark_evaluate.py [--rows 1000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import sqlml
import sqlml.ml.functions.evaluate as evaluate_module
from harness import Row, alternate, local_spark, print_table

DATA = (
    "CREATE SCHEMA IF NOT EXISTS ds; CREATE OR REPLACE TABLE ds.events AS "
    "SELECT MOD(a * 13 + b * 3, 100) / 10.0 AS amount, MOD(a + b, 7) AS channel, MOD(a * 31 + b, 5000) AS customer, "
    "MOD(a * b, 11) > 6 AS churned FROM UNNEST(GENERATE_ARRAY(1, 1000)) AS a, UNNEST(GENERATE_ARRAY(1, {blocks})) AS b"
)
MODEL = (
    "CREATE OR REPLACE MODEL ds.churn OPTIONS(model_type='logistic_reg', input_label_cols=['churned'], spark_train='driver') "
    "AS SELECT amount, channel, customer, churned FROM ds.events WHERE MOD(customer, 50) = 0"
)
QUERY = "SELECT * FROM ML.EVALUATE(MODEL ds.churn, TABLE ds.events)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    spark = local_spark(folder)
    with sqlml.connect(folder / "warehouse", folder / "models", engine="spark", spark=spark) as con:
        con.query(DATA.format(blocks=args.rows // 1000))
        con.query(MODEL)
        aggregated = evaluate_module.evaluation_rows

        def collected() -> object:
            evaluate_module.evaluation_rows = lambda *arguments: None  # the path before: input to the driver
            try:
                return con.query(QUERY).fetchall()
            finally:
                evaluate_module.evaluation_rows = aggregated

        same = con.query(QUERY).fetchall(), collected()
        print("metrics, aggregated then collected:", *same, sep="\n  ")
        timings = alternate(lambda: con.query(QUERY).fetchall(), collected, args.rounds)
    spark.stop()
    ours, theirs = (statistics.median(t[i] for t in timings) for i in (0, 1))
    print_table("ML.EVALUATE on Spark local[2]: aggregated (sqlml) vs input collected to the driver (baseline)",
                [Row(f"ML.EVALUATE, {args.rows:,} rows (median of {args.rounds})", ours, theirs)])


if __name__ == "__main__":
    main()
