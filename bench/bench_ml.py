"""Models: sqlml's CREATE MODEL and ML.PREDICT against the raw libraries doing the same work.

Measures, in one run (default 1M rows × 20 numeric + 2 STRING columns):
  * BOOSTED_TREE_CLASSIFIER training vs ``lightgbm.train`` on the same NumPy data and parameters
    (target: at most 15% overhead);
  * ML.PREDICT materialized with CREATE TABLE AS vs ``Booster.predict`` on the same matrix
    (target: at least 0.8× its rows per second), at --rows and at 10× --rows;
  * the pandas way (``.df()`` → one-hot → scikit-learn fit and predict), reported;
  * LOGISTIC_REG and KMEANS vs scikit-learn, reported;
  * peak memory of the ML.PREDICT CTAS in a child process at growing sizes (target: flat).

Usage: python bench/bench_ml.py [--rows 1000000] [--memory-rows 1000000,5000000,20000000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

import sqlml
from sqlml.ml.models.estimator import Task
from sqlml.ml.models.statement_options import parse_model_type, resolve_options
from sqlml.ml.models.tree_estimators import lightgbm_params
from harness import Row, alternate, measure_peak, peak_rss_of, print_table

NUMERIC = [f"f{i}" for i in range(20)]
ROUNDS = 50
#: Alternating sqlml / baseline runs of each boosted-tree measurement.
PAIRS = 3


def generate_sql(rows: int) -> str:
    """DuckDB SQL for a reproducible training table: 20 numeric, 2 STRING features and a BOOL label."""
    numeric = ", ".join(f"((hash(i * 31 + {k}) % 2000000) / 1000000.0 - 1.0) AS f{k}" for k in range(20))
    return f"""
        CREATE OR REPLACE TABLE ds.train AS
        SELECT *, (f0 + 0.5 * f1 - f2 * f3 + CASE s0 WHEN 'c1' THEN 0.8 WHEN 'c2' THEN -0.8 ELSE 0 END
                   + ((hash(i * 7) % 1000) / 1000.0 - 0.5)) > 0 AS label
        FROM (SELECT i, {numeric}, 'c' || CAST(hash(i * 13) % 8 AS VARCHAR) AS s0,
                     'k' || CAST(hash(i * 17) % 40 AS VARCHAR) AS s1
              FROM range({rows}) t(i))"""


def create_data(con: sqlml.Connection, rows: int) -> None:
    con.dialect = "duckdb"
    con.query("CREATE SCHEMA IF NOT EXISTS ds")
    con.query(generate_sql(rows))
    con.query("ALTER TABLE ds.train DROP COLUMN i")
    con.dialect = "bigquery"


def numpy_data(con: sqlml.Connection):
    """The same data as a float matrix with the STRING columns as category codes, the way LightGBM takes it."""
    frame = con.query("SELECT * FROM ds.train").df()
    return frame, matrix_of(frame), frame["label"].to_numpy().astype(np.float64)


def matrix_of(frame: pd.DataFrame) -> np.ndarray:
    """The feature matrix LightGBM takes: the numeric columns, then the STRING ones as category codes."""
    codes = [pd.Categorical(frame[c]).codes.astype(np.float64) for c in ("s0", "s1")]
    return np.column_stack([frame[NUMERIC].to_numpy(np.float64), *codes])


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def bench_boosted_tree(con, X, y, rows: int) -> tuple[list[Row], lgb.Booster]:
    """CREATE MODEL and ML.PREDICT against LightGBM on the same NumPy data, alternating run by run.

    A 5-second training run on this shared 2-core machine varies by ±10% between runs of the very
    same code, so each side runs PAIRS times, one after the other, and the medians are compared.
    """
    options = resolve_options(
        parse_model_type({"model_type": "boosted_tree_classifier"}), {"max_iterations": ROUNDS}
    )
    params, rounds = lightgbm_params(options, Task("binary", 2), random_forest=False, rows=len(X))
    boosters = {}

    def ours():
        con.query(
            f"""CREATE OR REPLACE MODEL ds.bt OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['label'],
                data_split_method='NO_SPLIT', max_iterations={ROUNDS}, early_stop=FALSE) AS SELECT * FROM ds.train"""
        )  # fmt: skip

    def theirs():
        data = lgb.Dataset(X, y, categorical_feature=[20, 21], free_raw_data=False)
        boosters["raw"] = lgb.train(params, data, num_boost_round=rounds, valid_sets=[data], valid_names=["train"])

    pairs = alternate(ours, theirs, PAIRS)
    result = [Row(f"CREATE MODEL boosted_tree_classifier, {rows:,} rows", *medians(pairs), "ratio ≤ 1.15")]

    result += bench_predict(con, boosters["raw"], X, "ds.train")
    return result, boosters["raw"]


def bench_predict(con, booster, X: np.ndarray, table: str) -> list[Row]:
    """ML.PREDICT materialized with CREATE TABLE AS over ``table`` vs ``booster`` scoring ``X``, its rows."""
    pairs = alternate(
        lambda: con.query(f"CREATE OR REPLACE TABLE ds.scored AS SELECT * FROM ML.PREDICT(MODEL ds.bt, TABLE {table})"),
        lambda: booster.predict(X),
        PAIRS,
    )
    count = con.query("SELECT COUNT(*) FROM ds.scored").scalar()
    assert count == len(X), count
    ours, theirs = medians(pairs)
    return [
        Row(f"ML.PREDICT CTAS, {len(X):,} rows (time; rows/s ratio = 1/ratio)", ours, theirs, "ratio ≤ 1.25"),
        Row(f"  of which DuckDB alone: {table} read to Arrow + the scored table written again", duckdb_io(con, table), theirs, "report"),
    ]


def duckdb_io(con, table: str) -> float:
    """DuckDB's own share of an ML.PREDICT CTAS, without the model: reading the input rows out as
    Arrow and writing the 25 scored columns into a new table. No scoring path can go below
    ``Booster.predict`` plus this, so it shows how much of the ratio is left to sqlml."""

    def read_and_write():
        con.query(f"SELECT * FROM {table}").arrow()
        con.query("CREATE OR REPLACE TABLE ds.rewritten AS SELECT * FROM ds.scored")

    seconds = statistics.median(timed(read_and_write) for _ in range(PAIRS))
    con.query("DROP TABLE ds.rewritten")
    return seconds


def bench_predict_at_scale(con, booster: lgb.Booster, rows: int) -> list[Row]:
    """ML.PREDICT over a new table ``rows`` long with the model ds.bt, vs ``booster`` (LightGBM's
    model of the same data and parameters) scoring the table's matrix."""
    con.dialect = "duckdb"
    con.query(generate_sql(rows).replace("ds.train", "ds.big"))
    con.query("ALTER TABLE ds.big DROP COLUMN i")
    con.dialect = "bigquery"
    frame = con.query("SELECT * FROM ds.big").df()
    X = matrix_of(frame)
    del frame
    result = bench_predict(con, booster, X, "ds.big")
    con.query("DROP TABLE ds.big; DROP TABLE ds.scored")
    return result


def medians(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """The median time of each side of :func:`harness.alternate`'s pairs."""
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def bench_pandas_way(con, frame: pd.DataFrame, rows: int) -> Row:
    """The whole job the pandas way vs in SQL: fit and predict, features one-hot encoded."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    def pandas_way():
        data = con.query("SELECT * FROM ds.train").df()
        X = pd.get_dummies(data.drop(columns=["label"]), columns=["s0", "s1"], dtype=np.float64)
        model = HistGradientBoostingClassifier(max_iter=ROUNDS, learning_rate=0.3, max_depth=6, early_stopping=False)
        model.fit(X, data["label"])
        data["predicted_label"] = model.predict(X)
        con.register("scored_df", data)
        con.query("CREATE OR REPLACE TABLE ds.scored_pandas AS SELECT * FROM scored_df")

    def sql_way():
        con.query(
            f"""CREATE OR REPLACE MODEL ds.bt2 OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['label'],
                data_split_method='NO_SPLIT', max_iterations={ROUNDS}, early_stop=FALSE) AS SELECT * FROM ds.train"""
        )
        con.query("CREATE OR REPLACE TABLE ds.scored2 AS SELECT * FROM ML.PREDICT(MODEL ds.bt2, TABLE ds.train)")

    return Row(f"fit + predict + write back, {rows:,} rows: SQL vs the pandas way", timed(sql_way), timed(pandas_way), "report")


def bench_sklearn(con, frame: pd.DataFrame, rows: int) -> list[Row]:
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X = pd.get_dummies(frame.drop(columns=["label"]), columns=["s0", "s1"], dtype=np.float64).to_numpy()
    y = frame["label"].to_numpy()
    ours = timed(lambda: con.query(
        """CREATE OR REPLACE MODEL ds.lr OPTIONS(model_type='logistic_reg', input_label_cols=['label'],
           data_split_method='NO_SPLIT') AS SELECT * FROM ds.train"""
    ))  # fmt: skip
    theirs = timed(lambda: LogisticRegression(max_iter=20).fit(StandardScaler().fit_transform(X), y))
    result = [Row(f"LOGISTIC_REG, {rows:,} rows vs LogisticRegression(lbfgs)", ours, theirs, "report")]
    numeric = X[:, :20]
    ours = timed(lambda: con.query(
        f"""CREATE OR REPLACE MODEL ds.km OPTIONS(model_type='kmeans', num_clusters=4, max_iterations=20,
            kmeans_init_method='kmeans++') AS SELECT {', '.join(NUMERIC)} FROM ds.train"""
    ))  # fmt: skip
    theirs = timed(lambda: KMeans(4, n_init=1, max_iter=20, init="k-means++").fit(StandardScaler().fit_transform(numeric)))
    result.append(Row(f"KMEANS k=4, {rows:,} rows × 20 vs sklearn KMeans", ours, theirs, "report"))
    return result


def memory_child(rows: int) -> None:
    """Child process: train on 100k rows, then score ``rows`` rows with a CTAS; print peak RSS."""
    with tempfile.TemporaryDirectory() as folder:
        con = sqlml.connect(f"{folder}/wh", f"{folder}/models", config={"memory_limit": "1GB"})
        create_data(con, rows)
        con.query(
            """CREATE MODEL ds.bt OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['label'],
               data_split_method='NO_SPLIT', max_iterations=20) AS SELECT * FROM ds.train LIMIT 100000"""
        )
        # the window covers the scoring only, not building the table or the model
        measured = measure_peak(lambda: con.query("CREATE TABLE ds.scored AS SELECT * FROM ML.PREDICT(MODEL ds.bt, TABLE ds.train)"))
        con.close()
    print(json.dumps({"rows": rows, **measured}))


def bench_memory(sizes: list[int]) -> None:
    print("\n### Peak memory of ML.PREDICT CTAS (child process, DuckDB memory_limit=1GB)\n")
    print("| rows | RSS before scoring | peak RSS while scoring | rows/s |")
    print("|---:|---:|---:|---:|")
    for rows in sizes:
        result = peak_rss_of(__file__, "--memory-child", str(rows))
        print(f"| {rows:,} | {result['before_mib']:,.0f} MiB | {result['peak_mib']:,.0f} MiB | {rows / result['seconds']:,.0f} |")
        sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory-rows", default="1000000,5000000,20000000")
    parser.add_argument("--memory-child", type=int)
    parser.add_argument("--skip", default="", help="comma-separated: train,predict10,pandas,sklearn,memory")
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    skip = set(args.skip.split(","))
    con = sqlml.connect(":memory:")
    create_data(con, args.rows)
    frame, X, y = numpy_data(con)
    rows = []
    if "train" not in skip:
        measured, booster = bench_boosted_tree(con, X, y, args.rows)
        rows += measured
        if "predict10" not in skip:
            rows += bench_predict_at_scale(con, booster, 10 * args.rows)
    if "pandas" not in skip:
        rows.append(bench_pandas_way(con, frame, args.rows))
    if "sklearn" not in skip:
        rows += bench_sklearn(con, frame, args.rows)
    print_table("Models (bench_ml.py)", rows)
    if "memory" not in skip:
        bench_memory([int(n) for n in args.memory_rows.split(",")])
    con.close()


if __name__ == "__main__":
    main()
