"""Partitioned and clustered tables: pruning, require_partition_filter, expiration, option errors."""

from __future__ import annotations

import datetime

import pytest

import sqlml

EVENTS = """
CREATE TABLE ds.events
  PARTITION BY DATE_TRUNC(day, MONTH)
  CLUSTER BY customer
  OPTIONS(require_partition_filter=TRUE, description='orders by day')
AS SELECT DATE_ADD(DATE '2025-01-01', INTERVAL MOD(i * 7, 365) DAY) AS day, MOD(i * 13, 1000) AS customer, i AS amount
FROM UNNEST(GENERATE_ARRAY(1, 600000)) AS i
"""
#: The same table in one row group, for what row groups do not show (errors, metadata, a new spec):
#: 600,000 rows take ~1 s to write sorted, for each test.
FEW_EVENTS = EVENTS.replace("600000", "3000")


def row_groups_scanned(con, duckdb_sql: str) -> tuple[int, int]:
    """(scanned, total) row groups DuckDB's EXPLAIN ANALYZE reports for a query on the warehouse."""
    with con._warehouse.lease() as cursor:
        plan = cursor.sql("EXPLAIN ANALYZE " + duckdb_sql).fetchall()[0][1]
    line = next((line for line in plan.splitlines() if "Row Groups Scanned" in line), None)
    if line is None:
        return -1, -1
    scanned, total = line.split(":")[1].strip(" │").split("/")
    return int(scanned), int(total)


@pytest.fixture
def events(con):
    """ds.events, 600,000 rows in five row groups (pruning shows in the row groups scanned)."""
    con.query("CREATE SCHEMA ds")
    con.query(EVENTS)
    return con


@pytest.fixture
def few_events(con):
    """ds.events with 3,000 rows: the same partitioning, clustering and options."""
    con.query("CREATE SCHEMA ds")
    con.query(FEW_EVENTS)
    return con


def test_filter_on_partition_column_reads_only_matching_row_groups(events):
    count = events.query("SELECT COUNT(*) FROM ds.events WHERE day BETWEEN '2025-03-01' AND '2025-03-31'").scalar()
    assert count == sum(1 for i in range(1, 600001) if (datetime.date(2025, 1, 1) + datetime.timedelta(days=i * 7 % 365)).month == 3)
    scanned, total = row_groups_scanned(events, "SELECT COUNT(*) FROM ds.events WHERE day BETWEEN DATE '2025-03-01' AND DATE '2025-03-31'")
    assert total >= 4 and scanned <= 2


def test_filter_on_cluster_column_skips_row_groups(con):
    con.query("CREATE SCHEMA ds")
    con.query(
        "CREATE TABLE ds.clicks PARTITION BY DATE_TRUNC(day, YEAR) CLUSTER BY customer "
        "AS SELECT DATE '2025-06-01' AS day, MOD(i * 7919, 5000) AS customer, i AS n FROM UNNEST(GENERATE_ARRAY(1, 600000)) AS i"
    )
    scanned, total = row_groups_scanned(con, "SELECT SUM(n) FROM ds.clicks WHERE day = DATE '2025-06-01' AND customer = 42")
    assert total >= 4 and scanned == 1
    assert con.query("SELECT COUNT(*) FROM ds.clicks WHERE customer = 42").scalar() == 120


def test_require_partition_filter_rejects_unfiltered_queries(few_events):
    with pytest.raises(sqlml.Error, match="without a filter over column\\(s\\) 'day'"):
        few_events.query("SELECT SUM(amount) FROM ds.events")
    with pytest.raises(sqlml.Error, match="partition elimination"):
        few_events.query("SELECT SUM(amount) FROM ds.events WHERE customer = 3")
    assert few_events.query("SELECT COUNT(*) FROM ds.events e WHERE e.day >= '2025-12-01'").scalar() > 0


def test_writes_on_partitioned_tables_are_atomic(events):
    before = events.query("SELECT COUNT(*), SUM(amount) FROM ds.events WHERE day >= '2025-01-01'").fetchall()
    events.query("DELETE FROM ds.events WHERE day < '2025-02-01'")
    events.query("INSERT INTO ds.events VALUES (DATE '2025-01-15', 1, 5)")
    events.query("UPDATE ds.events SET amount = amount + 1 WHERE day = '2025-01-15'")
    assert events.query("SELECT amount FROM ds.events WHERE day = '2025-01-15'").fetchall() == [(6,)]
    changed = events.query("SELECT COUNT(*), SUM(amount) FROM ds.events WHERE day >= '2025-01-01'").fetchall()
    with pytest.raises(sqlml.Error):
        # fails on the rows of one partition after others were updated: nothing may change
        events.query("UPDATE ds.events SET amount = CAST(IF(day > '2025-11-30', 'x', '1') AS INT64) WHERE day >= '2025-01-01'")
    assert events.query("SELECT COUNT(*), SUM(amount) FROM ds.events WHERE day >= '2025-01-01'").fetchall() == changed
    assert changed != before


def test_expired_partitions_are_dropped(con):
    today = datetime.date.today()
    con.query("CREATE SCHEMA ds")
    con.query(
        "CREATE TABLE ds.logs (day DATE, msg STRING) PARTITION BY day OPTIONS(partition_expiration_days=30)"
    )
    con.query("INSERT INTO ds.logs VALUES (@recent, 'keep'), (@old, 'drop')", params={"recent": today, "old": today - datetime.timedelta(days=100)})
    assert con.query("SELECT msg FROM ds.logs").fetchall() == [("keep",)]


def test_table_options_are_validated(con):
    con.query("CREATE SCHEMA ds")
    with pytest.raises(sqlml.InvalidOptionError, match="Unknown table option partition_expiry_days") as unknown:
        con.query("CREATE TABLE ds.a (d DATE) PARTITION BY d OPTIONS(partition_expiry_days=3)")
    assert "partition_expiration_days" in str(unknown.value)
    with pytest.raises(sqlml.InvalidOptionError, match="require_partition_filter takes a BOOL"):
        con.query("CREATE TABLE ds.a (d DATE) PARTITION BY d OPTIONS(require_partition_filter='yes')")
    with pytest.raises(sqlml.Error, match="at most four columns"):
        con.query("CREATE TABLE ds.a (a INT64, b INT64, c INT64, d INT64, e INT64) CLUSTER BY a, b, c, d, e")
    with pytest.raises(sqlml.Error, match="Cannot partition by"):
        con.query("CREATE TABLE ds.a (s STRING) PARTITION BY UPPER(s)")
    assert con.query("SELECT COUNT(*) FROM ds.INFORMATION_SCHEMA.TABLES").scalar() == 0  # nothing half-made


def test_recreating_a_table_without_partitioning_forgets_the_old_spec(few_events):
    few_events.query("DROP TABLE ds.events")
    few_events.query("CREATE TABLE ds.events AS SELECT DATE '2025-01-01' AS day")
    assert few_events.query("SELECT COUNT(*) FROM ds.events").scalar() == 1
    few_events.query(FEW_EVENTS.replace("CREATE TABLE", "CREATE OR REPLACE TABLE"))
    few_events.query("CREATE OR REPLACE TABLE ds.events AS SELECT 1 AS x")
    assert few_events.query("SELECT COUNT(*) FROM ds.events").scalar() == 1


def test_information_schema_columns_report_partitioning_and_clustering(few_events):
    rows = few_events.query(
        "SELECT column_name, is_partitioning_column, clustering_ordinal_position "
        "FROM ds.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 'events' ORDER BY ordinal_position"
    ).fetchall()
    assert rows == [("day", "YES", None), ("customer", "NO", 1), ("amount", "NO", None)]


@pytest.mark.slow
def test_writer_killed_mid_statement_leaves_every_partition_as_it_was(tmp_path):
    """kill -9 during a DELETE + INSERT rewriting two partitions: the reopened table is unchanged."""
    import os
    import signal
    import subprocess
    import sys
    import time

    args = ["--warehouse", str(tmp_path / "wh"), "--models", str(tmp_path / "models")]
    with sqlml.connect(tmp_path / "wh", tmp_path / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        con.query(EVENTS.replace("OPTIONS(require_partition_filter=TRUE, description='orders by day')", ""))
        before = con.query("SELECT DATE_TRUNC(day, MONTH) AS m, COUNT(*), SUM(amount) FROM ds.events GROUP BY m ORDER BY m").fetchall()
    rewrite = (
        "BEGIN TRANSACTION; DELETE FROM ds.events WHERE day >= '2025-11-01'; "
        "INSERT INTO ds.events SELECT DATE '2025-11-15', a, b * c FROM UNNEST(GENERATE_ARRAY(1, 1000)) a, "
        "UNNEST(GENERATE_ARRAY(1, 1000)) b, UNNEST(GENERATE_ARRAY(1, 1000)) c; COMMIT TRANSACTION"
    )
    child = subprocess.Popen([sys.executable, "-m", "sqlml", "query", *args, rewrite], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(2.5)
    assert child.poll() is None, child.stdout.read().decode()  # still writing when killed
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with sqlml.connect(tmp_path / "wh", tmp_path / "models") as con:
        after = con.query("SELECT DATE_TRUNC(day, MONTH) AS m, COUNT(*), SUM(amount) FROM ds.events GROUP BY m ORDER BY m").fetchall()
    assert after == before


def test_views_over_partitioned_tables_prune_and_pass_on_require_partition_filter(events):
    events.query("CREATE VIEW ds.big_orders AS SELECT day, customer, amount FROM ds.events WHERE amount > 10")
    march = events.query("SELECT COUNT(*) FROM ds.big_orders WHERE day BETWEEN '2025-03-01' AND '2025-03-31'").scalar()
    direct = events.query("SELECT COUNT(*) FROM ds.events WHERE day BETWEEN '2025-03-01' AND '2025-03-31' AND amount > 10").scalar()
    assert march == direct > 0
    scanned, total = row_groups_scanned(events, "SELECT COUNT(*) FROM ds.big_orders WHERE day BETWEEN DATE '2025-03-01' AND DATE '2025-03-31'")
    assert total >= 4 and scanned <= 2
    # The table requires a partition filter, so a read of the view must bring one.
    with pytest.raises(sqlml.Error, match="Cannot query over table 'ds.events' without a filter over column\\(s\\) 'day'"):
        events.query("SELECT SUM(amount) FROM ds.big_orders")
    events.query("CREATE VIEW ds.march AS SELECT * FROM ds.events WHERE day >= '2025-03-01' AND day < '2025-04-01'")
    assert events.query("SELECT COUNT(*) FROM ds.march").scalar() == direct + events.query(
        "SELECT COUNT(*) FROM ds.events WHERE day BETWEEN '2025-03-01' AND '2025-03-31' AND amount <= 10"
    ).scalar()  # the view's own filter satisfies the requirement
    events.query("CREATE VIEW ds.on_top AS SELECT * FROM ds.big_orders")
    with pytest.raises(sqlml.Error, match="'ds.events'"):
        events.query("SELECT COUNT(*) FROM ds.on_top")
