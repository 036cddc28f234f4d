"""CREATE MODEL's data split on Spark (issue 22, point 3) evaluates the rows one process's split
evaluates: each row's hash is one process's (DuckDB's hash of the row as Arrow, computed on the
executors), RANDOM and AUTO_SPLIT take the rows with the lowest hashes, SEQ orders the rows that
tie on its column by their hash — so identical rows are taken as many times as one process
takes them, and neither engine's choice depends on the order the rows are read in.

The reference split is one process's :func:`~sqlml.ml.training.split.split_rows` over the table
read by DuckDB; the Spark side is :func:`~sqlml.ml.spark_training.rows.split` over the same
table in Spark (a direct check), then whole CREATE MODEL statements whose stored evaluation
metrics must be those of the reference's evaluation rows.
"""

from __future__ import annotations

from collections import Counter

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from sqlml.ml.training.row_hash import row_hashes
from sqlml.ml.training.split import split_rows

# 602 rows, 86 distinct rows 7 times each (a 20% cut, 120 rows, falls inside a run of identical
# rows); ``t`` has 10 values (SEQ's cut falls among rows that tie on it)
DUPLICATED = (
    "SELECT MOD(i, 86) AS x, MOD(i, 86) * 0.25 - 3 AS z, 'c' || CAST(MOD(i, 5) AS VARCHAR) AS s, MOD(i, 10) AS t "
    "FROM range(602) AS r(i)"
)
SPLITS = {
    "random": {"data_split_method": "RANDOM", "data_split_eval_fraction": 0.2},  # AUTO_SPLIT: the same cut (linear_reg below)
    "seq": {"data_split_method": "SEQ", "data_split_col": "t", "data_split_eval_fraction": 0.33},
}


def _in_process(table: pa.Table, options: dict) -> Counter:
    rows = table.to_pylist()
    return Counter(tuple(rows[i].values()) for i in split_rows(table, row_hashes(table), options).evaluation)


@pytest.mark.parametrize("options", SPLITS.values(), ids=SPLITS.keys())
def test_spark_evaluates_the_rows_one_process_evaluates_duplicates_and_ties_included(spark, options):
    from pyspark.sql import functions as F

    from sqlml.ml.spark_training.rows import EVALUATION, hashed, split

    table = duckdb.sql(DUPLICATED).to_arrow_table()
    frame = hashed(spark.createDataFrame(table).repartition(3), table.schema).persist()
    method, evaluation = split(frame, table.schema, "linear_reg", options, table.num_rows)
    chosen = frame.withColumn(EVALUATION, evaluation).where(F.col(EVALUATION)).select(*table.column_names).collect()
    frame.unpersist()
    assert method == options["data_split_method"]
    assert Counter(tuple(row) for row in chosen) == _in_process(table, options)
    assert len(chosen) == (199 if method == "SEQ" else 120)


def test_the_row_hash_does_not_depend_on_how_arrow_carries_the_values():
    table = duckdb.sql(DUPLICATED).to_arrow_table()
    wider = pa.table({"x": table["x"].cast(pa.int32()), "z": table["z"], "s": table["s"].cast(pa.large_string()), "t": table["t"]})
    assert np.array_equal(row_hashes(table), row_hashes(wider))
    assert np.array_equal(row_hashes(table)[:300], row_hashes(table.slice(0, 300)))
    # the column names are part of it: the same values under other names hash otherwise
    assert not np.array_equal(row_hashes(table), row_hashes(table.rename_columns(["a", "b", "c", "d"])))


# 600 rows (AUTO_SPLIT evaluates 20% from 500 rows on): two numbers (one with NULLs), a STRING, a
# numeric and a binary label; and 120 (user, item, rating) rows, 12 STRING users × 9 INT64 items
DATA = (
    "CREATE SCHEMA IF NOT EXISTS ds; CREATE OR REPLACE TABLE ds.t AS "
    "SELECT x, IF(MOD(x, 17) = 0, NULL, MOD(x * 37, 101) / 10.0) AS z, CAST(MOD(x * 7, 4) AS STRING) AS s, "
    "x * 0.01 + MOD(x * 37, 101) / 7.0 + MOD(x * 7, 4) * 3 + MOD(x * 13, 11) / 3.0 AS y, "
    "MOD(x * 37, 101) / 10.0 + MOD(x * 13, 11) > 10 AS big "
    "FROM UNNEST(GENERATE_ARRAY(1, 600)) AS x; "
    "CREATE OR REPLACE TABLE ds.r AS SELECT CONCAT('u', CAST(MOD(x, 12) AS STRING)) AS user, MOD(x * 7, 9) AS item, "
    "CAST(MOD(x * 13 + DIV(x, 5), 5) AS FLOAT64) AS rating FROM UNNEST(GENERATE_ARRAY(1, 120)) AS x"
)


def _evaluation_rows(duck, spark, query: str, options: dict, view: str) -> pa.Table:
    """One process's evaluation rows of ``query`` split by ``options``, as Spark's TEMP view ``view``."""
    table = duck.query(query).arrow()
    table = table.take(split_rows(table, row_hashes(table), options).evaluation)
    spark.createDataFrame(table).createOrReplaceTempView(view)
    return table


def _assert_stored_metrics_are_the_rows(spark_con, model: str, view: str) -> dict:
    stored = spark_con.query(f"SELECT * FROM ML.EVALUATE(MODEL {model})").arrow().to_pylist()[0]
    on_rows = spark_con.query(f"SELECT * FROM ML.EVALUATE(MODEL {model}, TABLE {view})").arrow().to_pylist()[0]
    assert stored.keys() == on_rows.keys()
    for name, value in on_rows.items():
        assert stored[name] == (None if value is None else pytest.approx(value, rel=1e-9)), name
    return stored


def _options(split: dict) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in split.items())


@pytest.mark.parametrize(
    ("model_type", "label", "split", "evaluated"),
    [
        ("linear_reg", "y", {"data_split_method": "AUTO_SPLIT"}, 120),
        pytest.param("logistic_reg", "big", {"data_split_method": "RANDOM", "data_split_eval_fraction": 0.3}, 180, marks=pytest.mark.slow),
    ],
)
def test_a_model_trained_by_mllib_scores_the_rows_one_process_evaluates(shared, spark, model_type, label, split, evaluated):
    spark_con, duck = shared
    query = f"SELECT x, z, s, {label} FROM ds.t"
    statement = f"CREATE MODEL ds.{{name}} OPTIONS(model_type='{model_type}', input_label_cols=['{label}'], {_options(split)}) AS {query}"
    assert _evaluation_rows(duck, spark, query, split, "eval_rows").num_rows == evaluated
    spark_con.query(statement.format(name="on_spark"))
    duck.query(statement.format(name="in_process"))
    stored = _assert_stored_metrics_are_the_rows(spark_con, "ds.on_spark", "eval_rows")
    info = "SELECT eval_loss FROM ML.TRAINING_INFO(MODEL ds.{name}) ORDER BY iteration DESC LIMIT 1"
    [(on_spark,)], [(in_process,)] = duck.query(info.format(name="on_spark")).fetchall(), duck.query(info.format(name="in_process")).fetchall()
    if model_type == "linear_reg":  # solved exactly on both engines: the same rows give the same eval loss
        assert on_spark == pytest.approx(in_process, rel=1e-7)
    else:  # fitted iteratively, each by its own stopping rule: the eval loss is the evaluation rows' log loss
        assert on_spark == pytest.approx(stored["log_loss"], rel=1e-12)


@pytest.mark.slow  # LightGBM's distributed mode in a barrier stage on local[2], and one process's model
def test_a_boosted_tree_trained_on_spark_has_one_process_eval_losses(shared, spark):
    spark_con, duck = shared
    query, split = "SELECT x, z, s, y FROM ds.t", {"data_split_method": "RANDOM", "data_split_eval_fraction": 0.25}
    statement = (
        "CREATE MODEL ds.{name} OPTIONS(model_type='boosted_tree_regressor', input_label_cols=['y'], max_iterations=6, "
        f"learn_rate=0.3, max_tree_depth=3, subsample=1.0, early_stop=FALSE, {_options(split)}) AS {query}"
    )
    assert _evaluation_rows(duck, spark, query, split, "eval_rows").num_rows == 150
    spark_con.query(statement.format(name="on_spark"))
    duck.query(statement.format(name="in_process"))
    stored = _assert_stored_metrics_are_the_rows(spark_con, "ds.on_spark", "eval_rows")
    _assert_stored_metrics_are_the_rows(spark_con, "ds.in_process", "eval_rows")
    # the same evaluation rows round by round; the two machines' trees are near one process's, not equal
    # (measured: eval losses within 7e-4 relative, the last one 3e-5)
    info = "SELECT iteration, eval_loss FROM ML.TRAINING_INFO(MODEL ds.{name}) ORDER BY iteration"
    on_spark, in_process = duck.query(info.format(name="on_spark")).fetchall(), duck.query(info.format(name="in_process")).fetchall()
    assert [row[0] for row in on_spark] == [row[0] for row in in_process] == list(range(6))
    np.testing.assert_allclose([row[1] for row in on_spark], [row[1] for row in in_process], rtol=2e-3)
    assert on_spark[-1][1] == pytest.approx(stored["mean_squared_error"], rel=1e-6)  # (LightGBM's float32 scores)
