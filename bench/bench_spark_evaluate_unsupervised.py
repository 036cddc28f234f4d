"""ML.EVALUATE of KMEANS and explicit MATRIX_FACTORIZATION on Spark local[2] (issue 22.3), summed
on the executors (:mod:`sqlml.ml.functions.distributed_unsupervised`) against the input collected
to the driver, in alternating pairs; ratio = summed / collected (below 1: summing is faster).

Usage: python bench/bench_spark_evaluate_unsupervised.py [--rows 1000000] [--rounds 3]
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
    "SELECT MOD(a * 13 + b * 3, 100) / 10.0 AS amount, MOD(a * 7 + b, 50) / 5.0 AS spend, MOD(a * 31 + b, 500) AS customer, "
    "MOD(a + b * 7, 200) AS product, CAST(1 + MOD(a * b, 5) AS FLOAT64) AS rating "
    "FROM UNNEST(GENERATE_ARRAY(1, 1000)) AS a, UNNEST(GENERATE_ARRAY(1, {blocks})) AS b"
)
MODELS = (
    "CREATE OR REPLACE MODEL ds.segments OPTIONS(model_type='kmeans', num_clusters=4, spark_train='driver') "
    "AS SELECT amount, spend FROM ds.events WHERE MOD(customer, 50) = 0",
    "CREATE OR REPLACE MODEL ds.taste OPTIONS(model_type='matrix_factorization', user_col='customer', item_col='product', "
    "num_factors=4, max_iterations=3, spark_train='driver') AS SELECT customer, product, rating FROM ds.events WHERE MOD(customer, 5) = 0",
)
QUERIES = {
    "KMEANS": "SELECT * FROM ML.EVALUATE(MODEL ds.segments, (SELECT amount, spend FROM ds.events))",
    "MF explicit": "SELECT * FROM ML.EVALUATE(MODEL ds.taste, (SELECT customer, product, rating FROM ds.events))",
}
#: the functions that aggregate on Spark; None from them takes the path before (input to the driver)
AGGREGATORS = ("output_metrics", "factorization_metrics")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    spark = local_spark(folder)
    rows = []
    with sqlml.connect(folder / "warehouse", folder / "models", engine="spark", spark=spark) as con:
        con.query(DATA.format(blocks=args.rows // 1000))
        for statement in MODELS:
            con.query(statement)
        aggregators = {name: getattr(evaluate_module, name) for name in AGGREGATORS}
        for name, query in QUERIES.items():

            def collected(query: str = query) -> object:
                for function in AGGREGATORS:
                    setattr(evaluate_module, function, lambda *arguments: None)
                try:
                    return con.query(query).fetchall()
                finally:
                    for function, aggregator in aggregators.items():
                        setattr(evaluate_module, function, aggregator)

            print(f"{name}, aggregated then collected:", con.query(query).fetchall(), collected(), sep="\n  ")
            timings = alternate(lambda query=query: con.query(query).fetchall(), collected, args.rounds)
            ours, theirs = (statistics.median(t[i] for t in timings) for i in (0, 1))
            rows.append(Row(f"ML.EVALUATE {name}, {args.rows:,} rows (median of {args.rounds})", ours, theirs))
    spark.stop()
    print_table("ML.EVALUATE on Spark local[2]: summed on the executors (sqlml) vs input collected to the driver (baseline)", rows)


if __name__ == "__main__":
    main()
