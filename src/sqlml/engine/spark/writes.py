"""Table writes on Spark that leave the warehouse as it was when they fail.

Spark's own ``CREATE TABLE … AS`` leaves the table's folder behind when its query fails mid-way
(the tasks that finished wrote theirs), and it refuses ``CREATE OR REPLACE`` on Parquet tables. So
every ``CREATE [OR REPLACE] TABLE … AS`` and every rewrite of a table (:mod:`.layout`) writes a
*staging* table first, under a name of its own (``__sqlml_staging_<id>_<table>``) in the same
database; only once it is written does it take the target's place, by renames in the catalog
(the old table is renamed aside, the new one into its name, then the old one dropped; a failed
rename puts the old one back). A failed write drops the staging table and deletes its folder.

``INSERT`` needs no staging table: Spark's file committer writes a job's files to a temporary folder
(``_temporary``, or ``.spark-staging-<job>`` for dynamic partitions) and moves them into the table
only when every task has succeeded. But a failed job deletes that folder while its other tasks are
still being killed, and a task killed mid-write can recreate it; so a failed ``INSERT`` waits for
its own tasks to end and then deletes what they left (:func:`insert_into`).
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from sqlglot import exp

from sqlml.engine.base import Parameters
from sqlml.engine.spark.translate import to_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["create_table_as", "insert_into", "replace_table_with"]


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


def insert_into(spark: SparkSession, tree: exp.Insert, parameters: Parameters) -> None:
    """Run ``INSERT INTO table …`` as a job group of its own; if it fails, wait until the group's
    tasks have ended, then delete the committer's folders they may have left in the table's."""
    context = spark.sparkContext
    group, before = f"sqlml-insert-{uuid.uuid4().hex}", context.getLocalProperty("spark.jobGroup.id")
    context.setJobGroup(group, "sqlml INSERT", interruptOnCancel=True)
    try:
        spark.sql(to_spark(tree, parameters))
    except BaseException:
        context.cancelJobGroup(group)
        _wait_for_tasks(context, group)
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        _delete_committer_folders(spark, target)
        raise
    finally:
        context.setLocalProperty("spark.jobGroup.id", before)


#: How long a failed INSERT waits for its killed tasks to end before cleaning up after them.
_TASKS_END_WITHIN_SECONDS = 30.0


def _wait_for_tasks(context, group: str) -> None:  # noqa: ANN001 - pyspark's SparkContext
    tracker, deadline = context.statusTracker(), time.monotonic() + _TASKS_END_WITHIN_SECONDS
    while time.monotonic() < deadline:
        jobs = [tracker.getJobInfo(job) for job in tracker.getJobIdsForGroup(group)]
        stages = [tracker.getStageInfo(stage) for job in jobs if job is not None for stage in job.stageIds]
        if not any(stage is not None and stage.numActiveTasks > 0 for stage in stages):
            return
        time.sleep(0.05)


def _delete_committer_folders(spark: SparkSession, table: exp.Table) -> None:
    """Delete the ``_temporary`` and ``.spark-staging-*`` folders in ``table``'s location."""
    rows = spark.sql(f"DESCRIBE TABLE EXTENDED {to_spark(table)}").collect()
    location = next((row.data_type for row in rows if row.col_name == "Location"), None)
    if location is None:
        return
    folder, files = _hadoop_path(spark, location)
    for pattern in ("_temporary", ".spark-staging-*"):
        for status in files.globStatus(spark._jvm.org.apache.hadoop.fs.Path(folder, pattern)) or []:
            files.delete(status.getPath(), True)


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
    path, files = _hadoop_path(spark, location)
    files.delete(path, True)


def _hadoop_path(spark: SparkSession, location: str):  # noqa: ANN202 - py4j's Path and FileSystem
    """Hadoop's Path of ``location`` and its file system: a location may be any Hadoop-compatible URI."""
    path = spark._jvm.org.apache.hadoop.fs.Path(location)
    return path, path.getFileSystem(spark._jsc.hadoopConfiguration())
