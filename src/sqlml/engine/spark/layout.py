"""Partitioned and clustered tables on Spark: the Parquet files laid out by the partition column.

sqlml records a table's ``PARTITION BY`` / ``CLUSTER BY`` in ``sqlml_meta.table_options`` right after
creating it (:mod:`sqlml.warehouse.partitions`). When that record is written, this module rewrites
the Spark table so that each Parquet file holds one range of the partition column
(``repartitionByRange``) with its rows sorted by the partition column, then the cluster columns:
Parquet keeps every column's min and max per row group, so Spark skips the files and row groups a
filter on the partition or cluster columns excludes — partition pruning and clustering.

Not Hive-style ``col=value`` folders: Spark moves a folder-partitioned table's partition columns
to the end of its schema, which would change ``SELECT *`` and the meaning of a positional
``INSERT … VALUES`` on Spark but not on DuckDB.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlml.engine.spark.statements import replace_table_with
from sqlml.sql.duckdb_names import META_SCHEMA

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["is_options_write", "lay_out"]

#: The statement sqlml writes a table's partitioning with (see sqlml.warehouse.partitions.record).
_OPTIONS_WRITE = re.compile(rf"^\s*INSERT OR REPLACE INTO \S*\b{META_SCHEMA}\.table_options\b", re.I)
#: Files per partitioned table written by local[2]-sized sessions; a cluster's default parallelism
#: raises it (one range of the partition column per file).
_MIN_FILES = 4


def is_options_write(sql: str) -> bool:
    """Whether ``sql`` records a table's partitioning."""
    return _OPTIONS_WRITE.match(sql) is not None


def lay_out(spark: SparkSession, parameters: Sequence[Any]) -> None:
    """Rewrite the table whose partitioning ``parameters`` (the recorded row: dataset, table,
    expression, column, unit, cluster columns, …) describe, laid out by it."""
    dataset, table, _, column, _, cluster = parameters[:6]
    keys = [name for name in [column, *(cluster or [])] if name]
    if not keys:
        return
    files = max(_MIN_FILES, spark.sparkContext.defaultParallelism)
    qualified = f"`{dataset}`.`{table}`"
    rows = spark.table(qualified).repartitionByRange(files, keys[0]).sortWithinPartitions(*keys)
    replace_table_with(spark, qualified, rows)
