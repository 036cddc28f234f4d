"""One local[2] Spark session for every Spark engine test (Spark starts in 5-10 s), and a
connection per test on it whose datasets are dropped afterwards — or, for the modules that train
models, one Spark and one DuckDB connection per module holding its tables (``shared_both``).

The tests are skipped, saying why, only where Java or pyspark is missing (``.ci/run`` installs
both: Java 17 from the system's package manager, pyspark from the ``spark`` extra).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import sqlml

pytest.importorskip("pyspark", reason='the Spark engine needs pyspark: pip install "sqlml[spark]"')
if shutil.which("java") is None:
    pytest.skip("the Spark engine needs Java 17 (apt-get install openjdk-17-jre-headless)", allow_module_level=True)

# Every Spark JVM the tests start reads spark_conf/spark-defaults.conf (its comments say why each
# setting): spark-submit reads SPARK_CONF_DIR, and the processes the tests start inherit it.
os.environ["SPARK_CONF_DIR"] = str(Path(__file__).parent / "spark_conf")


@pytest.fixture(scope="session")
def started_in(tmp_path_factory):
    """The empty folder the tests' session is started from (test_started_session.py checks it stays empty)."""
    return tmp_path_factory.mktemp("started-in")


@pytest.fixture(scope="session")
def spark(started_in):
    """The session sqlml starts for an in-memory warehouse (:func:`~sqlml.engine.spark.session.spark_session`:
    local[2], its tables in a temporary folder, Spark's in-memory catalog), started from
    ``started_in``, for the whole run — so that test_started_session.py checks a started session
    without starting a JVM of its own (~20 s of CPU). The tests' own settings: spark_conf's (no web
    UI, no whole-stage code generation, no adaptive execution) and two shuffle partitions."""
    from sqlml.engine.spark.session import spark_session

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(started_in)
        session = spark_session(None, None)
    session.conf.set("spark.sql.shuffle.partitions", "2")
    yield session
    session.stop()


@pytest.fixture
def spark_con(spark, tmp_path):
    """A connection on the Spark engine (bookkeeping in ``tmp_path``); its datasets and TEMP
    views are dropped when the test ends, so that tests share the session, not its tables."""
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", engine="spark", spark=spark, idle_release=0) as connection:
        yield connection
    _drop_datasets(spark)


def _drop_datasets(spark) -> None:  # noqa: ANN001 - a SparkSession
    """Drop the session's datasets (but ``default``) and TEMP views. Listed by SHOW DATABASES and
    SHOW VIEWS: ``spark.catalog.listDatabases()`` and ``listTables()`` cost ~0.2 s of CPU each
    (~0.04 s these), after each of the hundred-odd tests on a Spark connection."""
    for (name,) in spark.sql("SHOW DATABASES").collect():
        if name != "default":
            spark.sql(f"DROP DATABASE `{name}` CASCADE")
    for view in spark.sql("SHOW VIEWS").collect():
        if view.isTemporary:
            spark.catalog.dropTempView(view.viewName)


def _tables(spark, database: str) -> set[str]:  # noqa: ANN001 - a SparkSession
    """The tables of ``database`` (not TEMP views)."""
    return {table.tableName for table in spark.sql(f"SHOW TABLES IN `{database}`").collect() if not table.isTemporary}


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


@pytest.fixture(scope="module")
def shared_both(spark, tmp_path_factory, request):
    """:func:`both` for a whole test module: one Spark connection and one DuckDB connection on one
    model store, holding the module's ``DATA``, made once instead of for every test (a Spark CTAS
    and two connections each time). The module's tests name their models and tables apart, and
    use no function-scoped Spark connection (whose end drops every dataset of the session)."""
    folder = tmp_path_factory.mktemp("shared")
    with sqlml.connect(folder / "warehouse", folder / "models", engine="spark", spark=spark, idle_release=0) as spark_con:
        with sqlml.connect(folder / "duckdb-warehouse", folder / "models") as duck:
            spark_con.query(request.module.DATA)
            duck.query(request.module.DATA)
            yield spark_con, duck
    _drop_datasets(spark)


@pytest.fixture
def shared(shared_both, spark):
    """:func:`shared_both` for one test: the models and Spark tables it makes in dataset ``ds`` are
    dropped when it ends; the module's tables stay for its next test."""
    tables = _tables(spark, "ds")
    yield shared_both
    spark_con = shared_both[0]
    for (name,) in spark_con.query("SELECT model_name FROM ds.INFORMATION_SCHEMA.MODELS").fetchall():
        spark_con.query(f"DROP MODEL ds.{name}")
    for name in _tables(spark, "ds") - tables:
        spark.sql(f"DROP TABLE ds.`{name}`")


@pytest.fixture(params=["con", pytest.param("spark_con", marks=pytest.mark.slow)])
def engine(request):
    """The same statement on both engines: DuckDB's ``con``, then Spark's ``spark_con`` (slow)."""
    return request.getfixturevalue(request.param)
