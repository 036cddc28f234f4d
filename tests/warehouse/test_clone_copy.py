"""CREATE TABLE … CLONE / COPY (dbt's clone materialization, notebooks), which DuckDB refused with
'syntax error at or near "CLONE"': a full copy with the source's rows, types, partitioning and kept options.
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_table_clone_statement
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

import sqlml
from sqlml.errors import NotFoundError, UnsupportedStatementError
from sqlml.warehouse.partitions import PartitionFilterError

ROWS = [(datetime.date(2025, 1, 2), "POINT(1 2)", Decimal("1.5")), (datetime.date(2025, 1, 1), "POINT(3 4)", Decimal("2"))]


@pytest.fixture
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE SCHEMA ds")
        connection.query(
            "CREATE TABLE ds.src (d DATE, g GEOGRAPHY OPTIONS(description='where'), n NUMERIC) "
            "PARTITION BY d CLUSTER BY n OPTIONS(require_partition_filter=TRUE, description='orders')"
        )
        connection.query("INSERT INTO ds.src VALUES (DATE '2025-01-02', ST_GEOGPOINT(1, 2), 1.5), (DATE '2025-01-01', ST_GEOGPOINT(3, 4), 2)")
        connection.query("CREATE VIEW ds.v AS SELECT 1 AS a")
        yield connection


def rows(con, table: str) -> list[tuple]:
    return sorted(con.query(f"SELECT d, g, n FROM ds.{table} WHERE d >= DATE '2025-01-01'").fetchall())


@pytest.mark.parametrize("verb", ["CLONE", "COPY"])
def test_clone_and_copy_have_the_sources_rows_types_partitioning_and_options(con, verb):
    con.query(f"CREATE TABLE ds.t {verb} ds.src")  # the source's require_partition_filter asks no filter of the copy
    assert rows(con, "t") == sorted(ROWS)
    assert con.query(
        "SELECT column_name, data_type, is_partitioning_column, clustering_ordinal_position "
        "FROM ds.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 't' ORDER BY ordinal_position"
    ).fetchall() == [("d", "DATE", "YES", None), ("g", "GEOGRAPHY", "NO", None), ("n", "NUMERIC", "NO", 1)]
    assert con.query(
        "SELECT table_name, partition_column, cluster_columns, require_partition_filter, description "
        "FROM sqlml_meta.table_options ORDER BY table_name"
    ).fetchall() == [("src", "d", ["n"], True, "orders"), ("t", "d", ["n"], True, "orders")]
    assert con.query("SELECT table_name, column_name, description FROM sqlml_meta.column_options ORDER BY 1").fetchall() == [
        ("src", "g", "where"), ("t", "g", "where"),
    ]  # fmt: skip
    with pytest.raises(PartitionFilterError) as error:
        con.query("SELECT * FROM ds.t")
    assert error.value.message == (
        "Cannot query over table 'ds.t' without a filter over column(s) 'd' that can be used for partition elimination."
    )


def test_the_copy_is_independent_of_its_source(con):
    con.query("CREATE TABLE ds.t CLONE ds.src")
    con.query("DELETE FROM ds.src WHERE d = DATE '2025-01-01'")
    con.query("ALTER TABLE ds.src SET OPTIONS(description='changed')")
    assert rows(con, "t") == sorted(ROWS)
    assert con.query("SELECT description FROM sqlml_meta.table_options WHERE table_name = 't'").fetchall() == [("orders",)]


def test_or_replace_replaces_and_if_not_exists_keeps_the_table(con):
    con.query("CREATE TABLE ds.t AS SELECT 7 AS x")
    con.query("CREATE TABLE IF NOT EXISTS ds.t COPY ds.src")
    assert con.query("SELECT * FROM ds.t").fetchall() == [(7,)]
    assert con.query("SELECT count(*) FROM sqlml_meta.table_options WHERE table_name = 't'").fetchall() == [(0,)]
    con.query("CREATE OR REPLACE TABLE ds.t CLONE ds.src")
    assert rows(con, "t") == sorted(ROWS)
    con.query("CREATE TABLE ds.plain AS SELECT 1 AS a")
    con.query("CREATE OR REPLACE TABLE ds.t CLONE ds.plain")  # the replaced table's partitioning and types are forgotten
    assert con.query("SELECT * FROM ds.t").fetchall() == [(1,)]
    assert con.query("SELECT count(*) FROM sqlml_meta.table_options WHERE table_name = 't'").fetchall() == [(0,)]
    assert con.query("SELECT count(*) FROM sqlml_meta.column_types WHERE table_name = 't'").fetchall() == [(0,)]


@pytest.mark.parametrize("source", ["v", "missing"])
def test_a_view_or_a_missing_table_cannot_be_cloned(con, source):
    with pytest.raises(NotFoundError) as error:
        con.query(f"CREATE TABLE ds.t CLONE ds.{source}")
    assert error.value.message == f"Unknown table ds.{source}."
    assert con.query("SELECT count(*) FROM ds.INFORMATION_SCHEMA.TABLES WHERE table_name = 't'").fetchall() == [(0,)]


def test_for_system_time_as_of_is_refused(con):
    with pytest.raises(UnsupportedStatementError) as error:
        con.query("CREATE TABLE ds.t CLONE ds.src FOR SYSTEM_TIME AS OF CURRENT_TIMESTAMP()")
    assert error.value.message == "sqlml does not support the statement CREATE …"
