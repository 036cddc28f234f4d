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

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from sqlml.engine.spark.translate import statements
from sqlml.engine.spark.writes import replace_table_with
from sqlml.sql.duckdb_names import META_SCHEMA

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["is_options_write", "lay_out"]

#: The table sqlml records a table's partitioning in (see sqlml.warehouse.partitions.record).
_OPTIONS_TABLE = "table_options"
#: Files per partitioned table written by local[2]-sized sessions; a cluster's default parallelism
#: raises it (one range of the partition column per file).
_MIN_FILES = 4


def is_options_write(sql: str) -> bool:
    """Whether ``sql`` records a table's partitioning: ``INSERT OR REPLACE INTO
    [catalog.]sqlml_meta.table_options …``, read on its parsed tree."""
    trees = statements(sql)
    if not trees or len(trees) != 1 or not isinstance(trees[0], exp.Insert) or (trees[0].args.get("alternative") or "").upper() != "REPLACE":
        return False
    target = trees[0].this
    table = target.this if isinstance(target, exp.Schema) else target
    return isinstance(table, exp.Table) and table.db.lower() == META_SCHEMA and table.name.lower() == _OPTIONS_TABLE


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
