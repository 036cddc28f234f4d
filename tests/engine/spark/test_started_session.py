"""Where a Spark session sqlml starts writes: everything under the warehouse folder (tables,
Hive's metastore, Derby's log), nothing in the current directory; an in-memory warehouse writes
nothing there either. Each session runs in a child process of its own (Spark keeps one session per
process, and the tests' shared one is another), so this module is a scheduling unit of its own
(tests/conftest.py), free to run beside the shared session's tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

#: Starts a session of its own (Spark keeps one per process), with the warehouse given or in memory.
_STARTED = textwrap.dedent(
    """
    import sys, sqlml
    warehouse = sys.argv[1]
    with sqlml.connect(warehouse, "models", engine="spark") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x; CREATE VIEW ds.v AS SELECT x FROM ds.t")
        assert con.query("SELECT x FROM ds.v").fetchall() == [(1,)]
    """
)


@pytest.mark.slow  # starts two Spark sessions, each in a process of its own
def test_a_started_session_writes_nothing_in_the_current_directory(tmp_path):
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    folders = {warehouse: tmp_path / warehouse.strip(":") for warehouse in ("warehouse", ":memory:")}
    runs = []
    for warehouse, folder in folders.items():  # both at once: most of each run is a JVM starting
        folder.mkdir()
        runs.append(subprocess.Popen([sys.executable, "-c", _STARTED, warehouse], cwd=folder, env=environment))
    assert [run.wait(timeout=300) for run in runs] == [0, 0]
    assert {path.name for path in folders["warehouse"].iterdir()} == {"models", "warehouse"}
    # an in-memory warehouse's model store is a temporary folder too (sqlml.connect)
    assert not list(folders[":memory:"].iterdir())
    # Spark's tables, Hive's metastore and Derby's log under <warehouse>/spark
    spark = folders["warehouse"] / "warehouse" / "spark"
    assert {"ds.db", "metastore_db", "derby.log"} <= {path.name for path in spark.iterdir()}
