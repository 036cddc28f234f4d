"""One local[2] Spark session for every Spark engine test (Spark starts in 5-10 s), and a
connection per test on it whose datasets are dropped afterwards.

The tests are skipped, saying why, only where Java or pyspark is missing (``.ci/run`` installs
both: Java 17 from the system's package manager, pyspark from the ``spark`` extra).
"""

from __future__ import annotations

import shutil

import pytest

import sqlml

pytest.importorskip("pyspark", reason='the Spark engine needs pyspark: pip install "sqlml[spark]"')
if shutil.which("java") is None:
    pytest.skip("the Spark engine needs Java 17 (apt-get install openjdk-17-jre-headless)", allow_module_level=True)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """A local[2] Spark session with its tables in a temporary folder, for the whole run."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("sqlml-tests")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def spark_con(spark, tmp_path):
    """A connection on the Spark engine (bookkeeping in ``tmp_path``); its datasets and TEMP
    views are dropped when the test ends, so that tests share the session, not its tables."""
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", engine="spark", spark=spark, idle_release=0) as connection:
        yield connection
    for database in spark.catalog.listDatabases():
        if database.name != "default":
            spark.sql(f"DROP DATABASE `{database.name}` CASCADE")
    for table in spark.catalog.listTables():
        if table.isTemporary:
            spark.catalog.dropTempView(table.name)


@pytest.fixture
def duck(spark_con, tmp_path):
    """A DuckDB connection (its own warehouse) on the Spark connection's model store: a model
    trained on one engine predicts on the other."""
    with sqlml.connect(tmp_path / "duckdb-warehouse", spark_con.models_path) as connection:
        yield connection


@pytest.fixture
def both(spark_con, duck, request):
    """The Spark connection and a DuckDB one on the same model store, both holding the test
    module's ``DATA`` (its setup statements)."""
    spark_con.query(request.module.DATA)
    duck.query(request.module.DATA)
    return spark_con, duck


@pytest.fixture(params=["con", pytest.param("spark_con", marks=pytest.mark.slow)])
def engine(request):
    """The same statement on both engines: DuckDB's ``con``, then Spark's ``spark_con`` (slow)."""
    return request.getfixturevalue(request.param)
