"""Distributed boosted trees on Spark local[2] (issue 22: "measure and choose"): sqlml's trainer —
LightGBM's own distributed mode in a Spark barrier stage (:mod:`sqlml.ml.spark_training.trees`) —
against XGBoost's PySpark estimator (``xgboost.spark.SparkXGBRegressor``, two workers, no jar) and
against sqlml's one-process training on DuckDB (LightGBM), on the same rows with the same options:
training time, and the test rows' mean squared error.

Each trainer: ``--rounds`` boosting rounds of depth-6 trees, learning rate 0.3, L2 1, all the rows
(no split, no early stop). XGBoost's time is its ``fit`` on a vector column (assembled beforehand,
not timed); sqlml's is the whole CREATE MODEL statement (reading the rows, BigQuery's preprocessing
statistics by Spark, training, storing the model). Trials alternate the trainers; medians.

Usage: python bench/bench_spark_trees.py [--rows 200000] [--rounds 50] [--trials 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlml
from harness import Row, print_table

# integer arithmetic first, within INT32 (Spark types GENERATE_ARRAY's elements INT): the same values on both engines
TABLE = (
    "CREATE OR REPLACE TABLE ds.{name} AS SELECT ka / 1000.0 AS a, kb / 1009.0 AS b, kc / 9.7 AS c, "
    "SIN(ka / 1000.0) * 3 + IF(kb > 504, kc / 4.85, -kc / 9.7) + MOD(ka, 7) / 10.0 AS y FROM ("
    "SELECT MOD(i * 7919, 10007) AS ka, MOD(i * 997, 1009) AS kb, MOD(i * 31, 97) AS kc "
    "FROM UNNEST(GENERATE_ARRAY({first}, {last})) AS i)"
)
OPTIONS = "max_iterations={rounds}, max_tree_depth=6, learn_rate=0.3, l2_reg=1.0, early_stop=FALSE, data_split_method='NO_SPLIT'"
MODEL = "CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='boosted_tree_regressor', input_label_cols=['y'], {options}) AS SELECT a, b, c, y FROM ds.train"
EVALUATE = "SELECT mean_squared_error FROM ML.EVALUATE(MODEL ds.m, TABLE ds.test)"


def sqlml_trial(con: sqlml.Connection, rounds: int) -> tuple[float, float]:
    """CREATE MODEL's seconds and the test rows' mean squared error; prints the rounds' share
    (ML.TRAINING_INFO's durations: LightGBM's dataset, network and rounds)."""
    started = time.perf_counter()
    con.query(MODEL.format(options=OPTIONS.format(rounds=rounds)))
    seconds = time.perf_counter() - started
    training = con.query("SELECT SUM(duration_ms) / 1000 FROM ML.TRAINING_INFO(MODEL ds.m)").fetchall()[0][0]
    print(f"  CREATE MODEL {seconds:.2f} s, of which LightGBM {training:.2f} s", flush=True)
    return seconds, con.query(EVALUATE).fetchall()[0][0]


def xgboost_trial(spark, rounds: int) -> tuple[float, float]:  # noqa: ANN001 - a SparkSession
    """XGBoost's PySpark estimator: fit's seconds and the test rows' mean squared error."""
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F
    from xgboost.spark import SparkXGBRegressor

    assemble = VectorAssembler(inputCols=["a", "b", "c"], outputCol="features")
    train, test = (assemble.transform(spark.table(f"ds.{name}")).cache() for name in ("train", "test"))
    train.count()
    started = time.perf_counter()
    fitted = SparkXGBRegressor(features_col="features", label_col="y", num_workers=2, n_estimators=rounds, max_depth=6,
                               learning_rate=0.3, reg_lambda=1.0, tree_method="hist").fit(train)  # fmt: skip
    seconds = time.perf_counter() - started
    error = fitted.transform(test).agg(F.avg((F.col("prediction") - F.col("y")) ** 2)).first()[0]
    train.unpersist()
    test.unpersist()
    return seconds, error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--trials", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the executors' Python: this one, which has sqlml
    folder = Path(tempfile.mkdtemp(prefix="bench-spark-trees-"))
    on_spark = sqlml.connect(folder / "spark", folder / "models-spark", engine="spark")
    on_duckdb = sqlml.connect(folder / "duckdb", folder / "models-duckdb")
    for con in (on_spark, on_duckdb):
        con.query("CREATE SCHEMA IF NOT EXISTS ds")
        con.query(TABLE.format(name="train", first=1, last=args.rows))
        con.query(TABLE.format(name="test", first=args.rows + 1, last=args.rows + max(10_000, args.rows // 4)))
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    results: dict[str, list[tuple[float, float]]] = {"lightgbm": [], "xgboost": [], "duckdb": []}
    for trial in range(args.trials):
        results["lightgbm"].append(sqlml_trial(on_spark, args.rounds))
        results["xgboost"].append(xgboost_trial(spark, args.rounds))
        results["duckdb"].append(sqlml_trial(on_duckdb, args.rounds))
        print(f"trial {trial + 1}: " + ", ".join(f"{name} {s:.2f} s (test MSE {e:.5f})" for name, (s, e) in ((n, r[-1]) for n, r in results.items())), flush=True)
    seconds = {name: statistics.median(s for s, _ in trials) for name, trials in results.items()}
    errors = {name: statistics.median(e for _, e in trials) for name, trials in results.items()}
    print_table(
        f"Boosted trees, {args.rows:,} rows, {args.rounds} rounds, Spark local[2], {args.trials} trials alternating (median seconds)",
        [
            Row("LightGBM distributed (sqlml CREATE MODEL on Spark) vs XGBoost PySpark fit", seconds["lightgbm"], seconds["xgboost"],
                f"test MSE {errors['lightgbm']:.5f} vs {errors['xgboost']:.5f}"),
            Row("LightGBM distributed (sqlml CREATE MODEL on Spark) vs one process (sqlml on DuckDB)", seconds["lightgbm"], seconds["duckdb"],
                f"test MSE {errors['lightgbm']:.5f} vs {errors['duckdb']:.5f}"),
        ],
    )  # fmt: skip
    on_spark.close()
    on_duckdb.close()


if __name__ == "__main__":
    main()
