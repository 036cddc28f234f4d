"""The Spark session a Spark engine runs on: one handed in, or one started for a master URL.

A started session (``local[2]`` unless a master URL says otherwise: ``spark://host:7077``,
``yarn``…) keeps its tables as Parquet under the warehouse folder (``<warehouse>/spark``) and its
catalog in an embedded Hive metastore beside them (Derby's database and log there too), so that the
datasets outlive the process the way DuckDB's file does; an in-memory warehouse gets Spark's
in-memory catalog and a temporary folder for its tables, removed when the process exits. Nothing
is written to the current directory (Spark's defaults: ``spark-warehouse/``, ``metastore_db/``,
``derby.log``). Results cross to Python as Arrow; the session's time zone is UTC, the time zone of
BigQuery's TIMESTAMP.

Spark keeps one session per process (``getOrCreate``): a later connection with another warehouse
reuses it, and its warehouse folder is the first one's.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlml.errors import WarehouseError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["DEFAULT_MASTER", "spark_session"]

DEFAULT_MASTER = "local[2]"
#: Settings of a session sqlml starts (a session handed in keeps its own, Arrow aside).
_SETTINGS = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
}


def spark_session(spark: SparkSession | str | None, folder: str | Path | None) -> SparkSession:
    """The session to run on: ``spark`` itself, or one started for the master URL ``spark``
    (default ``local[2]``) with its tables under ``folder`` (None: an in-memory catalog)."""
    try:
        from pyspark.logger import PySparkLogger
        from pyspark.sql import SparkSession
    except ImportError:
        raise WarehouseError(
            "The Spark engine needs pyspark, which is not installed.", hint='Install it with pip install "sqlml[spark]".'
        ) from None
    # Spark logs every failed statement's exception as JSON on stderr; sqlml reports it as an error.
    PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    if isinstance(spark, SparkSession):
        spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
        return spark
    if shutil.which("java") is None:
        raise WarehouseError(
            "The Spark engine needs Java 17, and no java program is on the PATH.",
            hint="Install it with your package manager (apt-get install openjdk-17-jre-headless) or set JAVA_HOME.",
        )
    builder = SparkSession.builder.master(spark or DEFAULT_MASTER).appName("sqlml")
    for key, value in _SETTINGS.items():
        builder = builder.config(key, value)
    where = _tables_folder(folder)
    builder = builder.config("spark.sql.warehouse.dir", str(where))
    if folder is not None:
        builder = (
            builder.config("spark.hadoop.javax.jdo.option.ConnectionURL", f"jdbc:derby:;databaseName={where / 'metastore_db'};create=true")
            .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={where} -Dderby.stream.error.file={where / 'derby.log'}")
            .enableHiveSupport()
        )
    try:
        session = builder.getOrCreate()
    except Exception as error:  # noqa: BLE001 - py4j's gateway errors share no base with Spark's
        raise WarehouseError(f"Spark did not start: {error}", hint="Check the master URL and that Java 17 runs.") from error
    session.sparkContext.setLogLevel("ERROR")
    return session


def _tables_folder(folder: str | Path | None) -> Path:
    """Where a started session keeps its tables: ``<warehouse>/spark``, or for an in-memory
    warehouse a temporary folder removed when the process exits."""
    if folder is not None:
        return (Path(folder) / "spark").resolve()
    temporary = Path(tempfile.mkdtemp(prefix="sqlml-spark-"))
    atexit.register(shutil.rmtree, temporary, ignore_errors=True)
    return temporary
