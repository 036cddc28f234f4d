"""Table writes on Spark that leave the warehouse as it was when they fail.

Spark's own ``CREATE TABLE … AS`` leaves the table's folder behind when its query fails mid-way
(the tasks that finished wrote theirs), and it refuses ``CREATE OR REPLACE`` on Parquet tables. So
every ``CREATE [OR REPLACE] TABLE … AS`` and every rewrite of a table (:mod:`.layout`) writes a
*staging* table first, under a name of its own (``__sqlml_staging_<id>_<table>``) in the same
database; only once it is written does it take the target's place, by renames in the catalog
(the old table is renamed aside, the new one into its name, then the old one dropped; a failed
rename puts the old one back). A failed write drops the staging table and deletes its folder.

``INSERT`` needs none of this: Spark's file committer writes a job's files to a temporary folder
and moves them into the table only when every task has succeeded (tested).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlglot import exp

from sqlml.engine.base import Parameters
from sqlml.engine.spark.translate import to_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["create_table_as", "replace_table_with"]


def create_table_as(spark: SparkSession, tree: exp.Create, parameters: Parameters) -> None:
    """Run ``CREATE [OR REPLACE] TABLE name AS query`` (parsed DuckDB, with its format set) as a
    staging table swapped in once written."""
    target = tree.find(exp.Table)
    if not tree.args.get("replace") and spark.catalog.tableExists(to_spark(target)):
        spark.sql(to_spark(tree, parameters))  # Spark's own answer: nothing (IF NOT EXISTS), or that it exists
        return
    staging = _staging(target, "staging")
    staged = tree.copy()
    staged.set("replace", False)
    staged.find(exp.Table).replace(staging)
    _write_and_swap(spark, staging, target, lambda: spark.sql(to_spark(staged, parameters)))


def replace_table_with(spark: SparkSession, qualified: str, rows: DataFrame) -> None:
    """Replace the table ``qualified`` (Spark SQL name) by a Parquet table of ``rows``, which may
    read it: written as a staging table first, then swapped in."""
    target = exp.to_table(qualified, dialect="spark")
    staging = _staging(target, "staging")
    _write_and_swap(spark, staging, target, lambda: rows.write.format("parquet").saveAsTable(to_spark(staging)))


def _write_and_swap(spark: SparkSession, staging: exp.Table, target: exp.Table, write) -> None:  # noqa: ANN001 - a callable writing staging
    try:
        write()
        _swap(spark, staging, target)
    except BaseException:
        _discard(spark, staging)
        raise


def _staging(target: exp.Table, purpose: str) -> exp.Table:
    """A name of its own beside ``target`` (same database), for a staging or set-aside table."""
    staging = target.copy()
    staging.set("this", exp.to_identifier(f"__sqlml_{purpose}_{uuid.uuid4().hex[:12]}_{target.name}"))
    return staging


def _swap(spark: SparkSession, staging: exp.Table, target: exp.Table) -> None:
    """Put the table ``staging`` in the place of ``target``: the old table renamed aside, the new
    one into its name (the old one back if that fails), then the old one dropped."""
    if not spark.catalog.tableExists(to_spark(target)):
        _rename(spark, staging, target)
        return
    aside = _staging(target, "replaced")
    _rename(spark, target, aside)
    try:
        _rename(spark, staging, target)
    except BaseException:
        _rename(spark, aside, target)
        raise
    spark.sql(f"DROP TABLE {to_spark(aside)}")


def _rename(spark: SparkSession, table: exp.Table, to: exp.Table) -> None:
    spark.sql(f"ALTER TABLE {to_spark(table)} RENAME TO {to_spark(to)}")


def _discard(spark: SparkSession, staging: exp.Table) -> None:
    """Drop the staging table, and delete the folder a failed write left at its location."""
    spark.sql(f"DROP TABLE IF EXISTS {to_spark(staging)}")
    database = staging.db or spark.catalog.currentDatabase()
    location = f"{spark.catalog.getDatabase(database).locationUri.rstrip('/')}/{staging.name.lower()}"
    jvm = spark._jvm  # Hadoop's file system API: the location may be any Hadoop-compatible URI
    path = jvm.org.apache.hadoop.fs.Path(location)
    path.getFileSystem(spark._jsc.hadoopConfiguration()).delete(path, True)
