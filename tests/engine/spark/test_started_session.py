"""Where a Spark session sqlml starts for an in-memory warehouse writes: nothing in the current
directory (its tables go to a temporary folder, its catalog is Spark's in-memory one, the
connection's model store is a temporary folder too). The tests' shared session is one: sqlml
started it from the empty folder ``started_in`` (tests/engine/spark/conftest.py), which was the
JVM's current directory, and statements run from there again here — Spark's defaults would put
``spark-warehouse/``, ``metastore_db/`` and ``derby.log`` in it. A session for a warehouse folder
writing everything under it (tables, Hive's metastore, Derby's log) is checked on the driver of
test_standalone_cluster.py, which is one.
"""

from __future__ import annotations

import sqlml


def test_a_started_session_on_an_in_memory_warehouse_writes_nothing_in_the_current_directory(spark, started_in, monkeypatch):
    monkeypatch.chdir(started_in)
    partitions = spark.conf.get("spark.sql.shuffle.partitions")  # a new connection's getOrCreate sets sqlml's
    try:
        with sqlml.connect(":memory:", "models", engine="spark") as con:
            con.query("CREATE SCHEMA started; CREATE TABLE started.t AS SELECT 1 AS x; CREATE VIEW started.v AS SELECT x FROM started.t")
            assert con.query("SELECT x FROM started.v").fetchall() == [(1,)]
        assert not list(started_in.iterdir())
    finally:
        spark.sql("DROP DATABASE IF EXISTS started CASCADE")
        spark.conf.set("spark.sql.shuffle.partitions", partitions)
