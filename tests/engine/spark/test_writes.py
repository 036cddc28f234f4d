"""Where the Spark engine writes: a session sqlml starts keeps everything under the warehouse folder
(nothing in the current directory), and a failed statement leaves the warehouse as it was — the
old table's rows, and no files of the failed write."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sqlml.errors import ExecutionError

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


@pytest.mark.slow  # starts a Spark session in a process of its own
@pytest.mark.parametrize("warehouse", ["warehouse", ":memory:"])
def test_a_started_session_writes_nothing_in_the_current_directory(tmp_path, warehouse):
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", _STARTED, warehouse], cwd=tmp_path, env=environment, check=True, timeout=300)
    # an in-memory warehouse's model store is a temporary folder too (sqlml.connect)
    expected = {"models", "warehouse"} if warehouse == "warehouse" else set()
    assert {path.name for path in tmp_path.iterdir()} == expected
    if warehouse == "warehouse":  # Spark's tables, Hive's metastore and Derby's log under <warehouse>/spark
        spark = tmp_path / "warehouse" / "spark"
        assert {"ds.db", "metastore_db", "derby.log"} <= {path.name for path in spark.iterdir()}
