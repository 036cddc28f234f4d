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
    "random": {"data_split_method": "RANDOM", "data_split_eval_fraction": 0.2},
    "auto": {"data_split_method": "AUTO_SPLIT"},
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
