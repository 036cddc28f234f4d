"""LINEAR_REG and LOGISTIC_REG ML.PREDICT against the same formula written by hand in DuckDB SQL.

Measures, in one run (default 1M rows: 8 FLOAT64 columns with 5% NULL, two STRING columns and a
BOOL), ML.PREDICT materialized with CREATE TABLE AS, which sqlml runs as one DuckDB query, against
a CREATE TABLE AS of the hand-written expression built from ML.WEIGHTS and ML.FEATURE_INFO (weights
on the raw columns, NULL imputed with the mean, CASE per category) in plain DuckDB on its own
database file holding the same rows. The hand-written query writes the same columns (the
prediction, the probabilities array of a classifier, every input column) and its predictions are
checked equal to ML.PREDICT's first. Runs alternate, pair by pair; rows/s are medians. The last
rows compare a one-row ML.PREDICT statement with the same statement on the Python path
(SQLML_LINEAR_SQL=off) — an input known to be that small (a literal LIMIT in its tree, or DuckDB's
estimate of ``TABLE ds.one``: its row count) takes the Python path itself — and with the
hand-written expression over a one-row table in plain DuckDB; CPU time (all threads) beside. A
LINEAR_REG on two numbers and a STRING of 200 categories (``wide_reg``, a MAP lookup in sqlml's
query, a CASE in the hand-written one) is measured too, and ML.EVALUATE of LOGISTIC_REG on the rows
(outputs computed by DuckDB) against the Python path.

Usage: python bench/bench_linear_sql.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

import sqlml
from harness import Row, alternate, print_table

NUMBERS = [f"x{i}" for i in range(8)]
STRINGS = {"c1": ["a", "b", "c", "d", "e"], "c2": [f"v{i:02d}" for i in range(20)], "wide": [f"w{i:03d}" for i in range(200)]}
PAIRS = 7


def rows(n: int, seed: int) -> pa.Table:
    """``n`` rows of features with both labels (y: a number, cls: 'no'/'yes')."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(NUMBERS))) * np.arange(1, len(NUMBERS) + 1) + 3
    columns = {name: pa.array(X[:, i], mask=rng.random(n) < 0.05) for i, name in enumerate(NUMBERS)}
    picks = {name: rng.integers(0, len(values), n) for name, values in STRINGS.items()}
    columns.update({name: pa.array(np.array(values)[picks[name]]) for name, values in STRINGS.items()})
    flag = rng.random(n) < 0.3
    y = X @ np.linspace(-1, 1, len(NUMBERS)) + picks["c1"] - 0.1 * picks["c2"] + 2 * flag + rng.normal(size=n)
    return pa.table({**columns, "flag": flag, "y": y, "cls": np.where(y > np.median(y), "yes", "no")})


def hand_written(con: sqlml.Connection, model: str) -> str:
    """The score ``b + Σ w·x`` of ML.WEIGHTS (raw-column weights), NULLs as ML.FEATURE_INFO's means."""
    means = dict(con.query(f"SELECT input, mean FROM ML.FEATURE_INFO(MODEL {model})").fetchall())
    terms = []
    for name, weight, categories in con.query(f"SELECT processed_input, weight, category_weights FROM ML.WEIGHTS(MODEL {model})").fetchall():
        if name == "__INTERCEPT__":
            terms.append(repr(weight))
        elif categories:
            column = f"CAST({name} AS VARCHAR)" if name == "flag" else name
            cases = " ".join(f"WHEN '{c['category']}' THEN {c['weight']!r}" for c in categories)
            terms.append(f"CASE {column} {cases} ELSE 0.0 END")
        else:
            terms.append(f"{weight!r} * COALESCE({name}, {means[name]!r})")
    return " + ".join(terms)


def baseline_sql(score: str, classifier: bool, source: str = "data", into: str = "CREATE OR REPLACE TABLE out AS ") -> str:
    """CREATE TABLE AS (or, with ``into=""``, the query) of the hand-written prediction with
    ML.PREDICT's columns over the table ``source``."""
    columns = ", ".join([*NUMBERS, *STRINGS, "flag", "y", "cls"])
    if not classifier:
        return f"{into}SELECT {score} AS predicted_y, {columns} FROM {source}"
    probs = "[{'label': 'yes', 'prob': p}, {'label': 'no', 'prob': 1.0 - p}]"
    scored = f"SELECT 1.0 / (1.0 + exp(-({score}))) AS p, {columns} FROM {source}"
    return f"{into}SELECT CASE WHEN p > 0.5 THEN 'yes' ELSE 'no' END AS predicted_cls, {probs} AS predicted_cls_probs, {columns} FROM ({scored})"


def measure(con: sqlml.Connection, raw: duckdb.DuckDBPyConnection, model: str, n: int, classifier: bool) -> Row:
    sql = baseline_sql(hand_written(con, f"ds.{model}"), classifier)
    con.query(f"CREATE OR REPLACE TABLE ds.out AS SELECT * FROM ML.PREDICT(MODEL ds.{model}, TABLE ds.data)")
    raw.execute(sql)
    ours = con.query(f"SELECT {'predicted_cls_probs[OFFSET(0)].prob' if classifier else 'predicted_y'} FROM ds.out").arrow().column(0)
    theirs = raw.sql(f"SELECT {'predicted_cls_probs[1].prob' if classifier else 'predicted_y'} FROM out").to_arrow_table().column(0)
    assert np.allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-9, atol=1e-9), "the hand-written expression differs from ML.PREDICT"
    pairs = alternate(
        lambda: con.query(f"CREATE OR REPLACE TABLE ds.out AS SELECT * FROM ML.PREDICT(MODEL ds.{model}, TABLE ds.data)"),
        lambda: raw.execute(sql),
        PAIRS,
    )
    ratio = statistics.median(theirs_s / ours_s for ours_s, theirs_s in pairs)  # rows/s of sqlml ÷ the baseline's
    name = f"{model.upper()} ML.PREDICT CTAS, {n:,} rows (rows/s: sqlml {n / statistics.median(p[0] for p in pairs) / 1e6:.2f}M, hand-written {n / statistics.median(p[1] for p in pairs) / 1e6:.2f}M; paired rows/s ratio {ratio:.2f})"
    return Row(name, statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs), "≥ 0.9× rows/s (time ≤ 1.11×)")


def one_row(con: sqlml.Connection, raw: duckdb.DuckDBPyConnection, data: str = "(SELECT * FROM ds.data LIMIT 1)") -> list[Row]:
    """A one-row LOGISTIC_REG ML.PREDICT against the same statement on the Python path, and
    against the hand-written expression over a one-row table in plain DuckDB (``TABLE ds.one``, a
    table of one row whose size DuckDB's estimate tells)."""
    sql = f"SELECT * FROM ML.PREDICT(MODEL ds.logistic_reg, {data})"

    def python_path() -> None:
        os.environ["SQLML_LINEAR_SQL"] = "off"
        try:
            con.query(sql).arrow()
        finally:
            del os.environ["SQLML_LINEAR_SQL"]

    hand = baseline_sql(hand_written(con, "ds.logistic_reg"), True, source="one", into="")
    rows = []
    for name, baseline in (("the Python path (SQLML_LINEAR_SQL=off)", python_path), ("the hand-written expression in DuckDB", lambda: raw.sql(hand).to_arrow_table())):
        pairs = [(timed(lambda: con.query(sql).arrow()), timed(baseline)) for _ in range(21)][1:]
        wall, cpu = (statistics.median(ours[i] / theirs[i] for ours, theirs in pairs) for i in (0, 1))
        rows.append(Row(f"LOGISTIC_REG ML.PREDICT of 1 row, {data}, vs {name} (paired ratios: wall {wall:.2f}, CPU {cpu:.2f})",
                        statistics.median(p[0][0] for p in pairs), statistics.median(p[1][0] for p in pairs), "report"))  # fmt: skip
    return rows


def timed(work) -> tuple[float, float]:
    """Wall and CPU seconds (all threads of this process) of ``work()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def evaluation(con: sqlml.Connection, n: int) -> Row:
    """ML.EVALUATE of LOGISTIC_REG on the rows: outputs by DuckDB against the Python path."""
    sql = "SELECT * FROM ML.EVALUATE(MODEL ds.logistic_reg, TABLE ds.data)"

    def python_path() -> object:
        os.environ["SQLML_LINEAR_SQL"] = "off"
        try:
            return con.query(sql).arrow()
        finally:
            del os.environ["SQLML_LINEAR_SQL"]

    ours, theirs = con.query(sql).arrow(), python_path()
    assert all(np.isclose(ours[c][0].as_py(), theirs[c][0].as_py(), rtol=1e-12, atol=1e-12) for c in ours.column_names), "metrics differ"
    pairs = alternate(lambda: con.query(sql).arrow(), python_path, 3)
    return Row(f"LOGISTIC_REG ML.EVALUATE, {n:,} rows, outputs by DuckDB vs the Python path (metrics equal within 1e-12)",
               statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs), "report")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    n = parser.parse_args().rows
    data = rows(n, 1)
    with tempfile.TemporaryDirectory() as folder, sqlml.connect(Path(folder) / "wh", Path(folder) / "models") as con:
        raw = duckdb.connect(str(Path(folder) / "raw.duckdb"))
        con.query("CREATE SCHEMA ds")
        con.register("train_rows", rows(20_000, 0))
        con.register("data_rows", data)
        con.query("CREATE TABLE ds.train AS SELECT * FROM train_rows")
        con.query("CREATE TABLE ds.data AS SELECT * FROM data_rows")
        con.query("CREATE TABLE ds.one AS SELECT * FROM ds.data LIMIT 1")
        raw.register("data_rows", data)
        raw.execute("CREATE TABLE data AS SELECT * FROM data_rows")
        raw.execute("CREATE TABLE one AS SELECT * FROM data LIMIT 1")
        features = ", ".join([*NUMBERS, "c1", "c2", "flag"])
        con.query(f"CREATE MODEL ds.linear_reg OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT {features}, y FROM ds.train")
        con.query(f"CREATE MODEL ds.logistic_reg OPTIONS(model_type='logistic_reg', input_label_cols=['cls']) AS SELECT {features}, cls FROM ds.train")
        con.query("CREATE MODEL ds.wide_reg OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x0, x1, wide, y FROM ds.train")
        results = [measure(con, raw, "logistic_reg", n, True), measure(con, raw, "linear_reg", n, False), measure(con, raw, "wide_reg", n, False), *one_row(con, raw), *one_row(con, raw, "TABLE ds.one"), evaluation(con, n)]
        raw.close()
    print_table("LINEAR_REG / LOGISTIC_REG ML.PREDICT vs the hand-written DuckDB expression", results)


if __name__ == "__main__":
    main()
