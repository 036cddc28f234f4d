"""Where the Spark engine writes: a failed statement leaves the warehouse as it was — the old
table's rows, and no files of the failed write. (Where a session sqlml starts writes:
test_started_session.py for an in-memory warehouse, test_standalone_cluster.py for a warehouse folder.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlml.errors import AlreadyExistsError, SqlTypeError

#: A query that fails mid-way on Spark: ANSI mode's CAST raises on the row with x = 900 while the
#: tasks reading the source's other files write theirs.
_FAILING = "SELECT x, CAST(IF(x = 900, 'nine hundred', CAST(x AS STRING)) AS INT64) AS y FROM ds.src"


@pytest.fixture
def source(spark_con, spark):
    """``ds.src``: x = 0 … 999 in four Parquet files (four tasks read it), and ``ds.t``: one row."""
    spark_con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x, 1 AS y")
    spark.range(0, 1000, 1, 4).withColumnRenamed("id", "x").write.format("parquet").saveAsTable("ds.src")
    return spark_con


def _files(spark) -> set[str]:
    """Every file and folder under the session's warehouse folder's ``ds.db``."""
    folder = Path(spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:")) / "ds.db"
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


@pytest.mark.parametrize(
    "statement",
    [
        f"CREATE TABLE ds.new AS {_FAILING}",
        f"CREATE OR REPLACE TABLE ds.t AS {_FAILING}",
        f"INSERT INTO ds.t (x, y) {_FAILING}",
    ],
    ids=["CREATE TABLE AS", "CREATE OR REPLACE TABLE AS", "INSERT"],
)
def test_a_statement_failing_mid_way_leaves_the_warehouse_as_it_was(source, spark, statement):
    tables, files = [t.name for t in spark.catalog.listTables("ds")], _files(spark)
    with pytest.raises(SqlTypeError, match=r"^Bad int64 value: nine hundred\n"):
        source.query(statement)
    assert [t.name for t in spark.catalog.listTables("ds")] == tables
    assert _files(spark) == files
    assert source.query("SELECT x, y FROM ds.t").fetchall() == [(1, 1)]


def test_a_replaced_table_leaves_neither_staging_tables_nor_their_files(source, spark):
    source.query("CREATE OR REPLACE TABLE ds.t AS SELECT x, x * 2 AS y FROM ds.src WHERE x < 3")
    assert source.query("SELECT x, y FROM ds.t ORDER BY x").fetchall() == [(0, 0), (1, 2), (2, 4)]
    assert sorted(t.name for t in spark.catalog.listTables("ds")) == ["src", "t"]
    assert {path.split("/")[0] for path in _files(spark)} == {"src", "t"}


def test_create_table_as_over_an_existing_table_writes_nothing(source, spark):
    files = _files(spark)
    source.query("CREATE TABLE IF NOT EXISTS ds.t AS SELECT x, x AS y FROM ds.src")
    with pytest.raises(AlreadyExistsError, match="ds.t"):
        source.query("CREATE TABLE ds.t AS SELECT x, x AS y FROM ds.src")
    assert source.query("SELECT x, y FROM ds.t").fetchall() == [(1, 1)]
    assert _files(spark) == files and sorted(t.name for t in spark.catalog.listTables("ds")) == ["src", "t"]


def test_a_failed_insert_deletes_what_its_killed_tasks_left_in_the_table(source, spark):
    """A task killed mid-write after the job's abort can leave the committer's folders behind
    (flaky before); a failed INSERT waits for its tasks, then deletes them — here one planted as
    such a task would leave it."""
    left = Path(spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:")) / "ds.db" / "t" / ".spark-staging-killed"
    (left / "part").mkdir(parents=True)
    (left / "part" / "file.parquet").write_bytes(b"half")
    with pytest.raises(SqlTypeError, match=r"^Bad int64 value: nine hundred\n"):
        source.query(f"INSERT INTO ds.t {_FAILING}")
    assert not left.exists()
    assert source.query("SELECT x, y FROM ds.t").fetchall() == [(1, 1)]
    source.query("INSERT INTO ds.t (x, y) SELECT 2, 4")  # the group is the statement's, not the session's
    assert spark.sparkContext.getLocalProperty("spark.jobGroup.id") is None
