"""Shared fixtures: an in-memory connection per test, and a warehouse folder on disk."""

from __future__ import annotations

import os

import pytest

# LightGBM trains on every core, and by default its idle OpenMP threads spin between parallel
# regions: on a machine busy with other work they take turns spinning, and the small models of
# these tests train up to ten times slower; on an idle machine spinning is 2-4x faster (a random
# forest of tests/ml/test_common.py: 1.1 s spinning, 4.5 s passive). So the threads wait
# passively where the machine is already busier than its cores when the tests start, and always
# under pytest-xdist, whose workers (one per core) share the cores.
# Either way only the schedule changes, not the results (same thread count, LightGBM's
# deterministic mode). Set before LightGBM loads, and inherited by the processes tests start.
if "PYTEST_XDIST_WORKER" in os.environ or os.getloadavg()[0] > (os.cpu_count() or 1):
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Tables print as on a 120-column terminal, whatever runs the tests: a terminal of any width, a pipe,
# or a pytest-xdist worker (whose standard output is not the terminal).
os.environ["COLUMNS"] = "120"

# Spark's JVMs here (the local[2] session, a standalone cluster's master, workers and executors,
# a `sqlml run --engine spark` child) run small jobs, where the JVM's start-up and its optimizing
# compiler dominate: the client compiler alone (C1) and the serial collector make the Spark tests
# about twice as fast (a local[2] session doing three small CTAS and queries: 62 s vs 119 s on a
# busy 2-core machine). Only the tests' JVMs: a user's Spark keeps its own settings. The `java`
# launcher reads JDK_JAVA_OPTIONS, and every process the tests start inherits it. Nor do they verify
# the bytecode of pyspark's own jars: a session's start and first query take ~19% less CPU (18.9 ->
# 15.3 and 20.8 -> 16.7 s, alternating, load 23-27), for each of the ~7 JVMs the Spark tests start.
# C1 compiles a method after 3x the default calls (CompileThresholdScaling), which a short job's
# once-run code never reaches, and the code cache is not flushed (its sweeper thread took ~6 % of a
# session's CPU): the JVM-heavy CPU of two Spark test modules 91 -> 80 s (the scaling alone) and
# 84 -> 74 s (both), load 7-8.
os.environ.setdefault(
    "JDK_JAVA_OPTIONS",
    "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:+UnlockDiagnosticVMOptions -XX:-BytecodeVerificationRemote "
    "-XX:CompileThresholdScaling=3 -XX:-UseCodeCacheFlushing",
)

import sqlml  # noqa: E402

#: The Spark engine's tests: one local[2] session (a JVM) per pytest process serves them all.
SPARK_TESTS = "tests/engine/spark/"
#: Spark tests that start JVMs of their own instead of using that session (a standalone cluster and
#: the `sqlml run` driver on it): units of their own, free to run on the other worker.
OWN_JVMS = ("tests/engine/spark/test_standalone_cluster.py",)
#: The longest units, about their seconds on a quiet 2-core machine (``--durations``; the units' CPU
#: seconds measured on a busy one), handed out first, longest first: pytest-xdist orders units by
#: their number of tests, which left these few-test units to the end, one worker running them while
#: the other idled. Units not named here follow in pytest-xdist's order; a stale name loses its place.
LONGEST = {
    SPARK_TESTS: 240,
    "tests/engine/duckdb/test_concurrency.py": 12,
    "tests/engine/spark/test_standalone_cluster.py": 50,
    "tests/test_fuzz.py": 30,
    "tests/dbt/test_incremental.py::TestIncrementalUniqueKey": 30,
    "tests/ml/deep/test_dnn_export.py": 28,
    "tests/ml/automl/test_automl_against_defaults.py": 37,
    "tests/ml/automl/test_automl_small_data.py": 30,
    "tests/ml/forecasting/test_parallel.py": 15,
    "tests/dbt/test_named_suites.py::TestSimpleSnapshot": 13,
    "tests/dbt/test_incremental.py::TestIncrementalOnSchemaChange": 13,
    "tests/dbt/test_jaffle_vs_duckdb.py": 10,
    "tests/serve/test_prediction_log.py": 12,
    "tests/serve/test_openapi_fuzz.py": 12,
    "tests/dbt/test_sqlml_adapter.py::TestDuckDBDialectSnapshot": 10,
    "tests/dbt/test_snapshot_configs.py::TestSnapshotNewRecordCheckMode": 10,
    "tests/ml/automl/test_automl_classifier.py": 10,
    "tests/dbt/test_basic.py::TestSnapshotCheckCols": 9,
    "tests/dbt/test_sqlml_adapter.py::TestBigQueryProject": 9,
    "tests/serve/test_server_process.py": 10,
    "tests/cli/test_shell_terminal.py": 10,
}


def pytest_xdist_make_scheduler(config, log):
    """Under ``--dist loadscope`` (pyproject's addopts), every Spark engine test module that uses
    the shared session goes to one worker as one unit, so one JVM starts for them instead of one
    per worker: a second JVM costs its start-up and, on two cores, CPU the other worker's tests
    need. The units in :data:`LONGEST` go out first. Other ``--dist`` modes keep pytest-xdist's
    own scheduling."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SparkTogetherLongestFirst(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(SPARK_TESTS) and not nodeid.startswith(OWN_JVMS):
                return SPARK_TESTS
            return super()._split_scope(nodeid)

        def _assign_work_unit(self, node) -> None:
            if not getattr(self, "longest_first", False):  # once, before the first unit goes out
                ranked = sorted(self.workqueue.items(), key=lambda unit: -LONGEST.get(unit[0], 0))  # stable
                self.workqueue.clear()
                self.workqueue.update(ranked)
                self.longest_first = True
            super()._assign_work_unit(node)

    return SparkTogetherLongestFirst(config, log)


@pytest.fixture
def con():
    """An in-memory warehouse with a temporary model store."""
    with sqlml.connect(":memory:") as connection:
        yield connection


@pytest.fixture
def disk_con(tmp_path):
    """A warehouse and model store in a temporary folder; released as soon as work ends."""
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as connection:
        yield connection
