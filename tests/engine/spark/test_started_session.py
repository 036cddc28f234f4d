"""Where a Spark session sqlml starts for an in-memory warehouse writes: nothing in the current
directory (its tables go to a temporary folder, its catalog is Spark's in-memory one). A session
for a warehouse folder writing everything under it (tables, Hive's metastore, Derby's log) is
checked on the driver of test_standalone_cluster.py, which is one: a third session, JVM and Derby
metastore for it alone cost about 25 s of CPU. The session runs in a child process of its own
(Spark keeps one session per process, and the tests' shared one is another), so this module is a
scheduling unit of its own (tests/conftest.py), free to run beside the shared session's tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

#: Starts a session of its own (Spark keeps one per process) for the warehouse given.
_STARTED = textwrap.dedent(
    """
    import sys, sqlml
    warehouse = sys.argv[1]
    with sqlml.connect(warehouse, "models", engine="spark") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x; CREATE VIEW ds.v AS SELECT x FROM ds.t")
        assert con.query("SELECT x FROM ds.v").fetchall() == [(1,)]
    """
)


@pytest.mark.slow  # starts a Spark session in a process of its own
def test_a_started_session_on_an_in_memory_warehouse_writes_nothing_in_the_current_directory(tmp_path):
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run([sys.executable, "-c", _STARTED, ":memory:"], cwd=tmp_path, env=environment, timeout=300)
    assert run.returncode == 0
    # an in-memory warehouse's model store is a temporary folder too (sqlml.connect)
    assert not list(tmp_path.iterdir())
