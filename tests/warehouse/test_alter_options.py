"""ALTER {TABLE | VIEW | MATERIALIZED VIEW | SCHEMA} … SET OPTIONS(…), which dbt-bigquery's persist_docs and
labels write (it failed with DuckDB's 'syntax error at or near "SET"'), and INFORMATION_SCHEMA.TABLE_OPTIONS.
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#alter_table_set_options_statement
"""

from __future__ import annotations

import pytest

import sqlml
from sqlml.errors import InvalidOptionError, NotFoundError
from sqlml.warehouse.partitions import PartitionFilterError


@pytest.fixture
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE SCHEMA ds")
        connection.query("CREATE TABLE ds.t (x INT64) OPTIONS(description='orders')")
        connection.query("CREATE TABLE ds.p (d DATE, x INT64) PARTITION BY d")
        connection.query("CREATE VIEW ds.v AS SELECT 1 AS a")
        yield connection


def kept(con) -> list[tuple]:
    """(table, require_partition_filter, partition_expiration_days, description) of every table with options."""
    return con.query(
        "SELECT table_name, require_partition_filter, partition_expiration_days, description "
        "FROM sqlml_meta.table_options ORDER BY table_name"
    ).fetchall()


def test_alter_table_set_options_changes_the_kept_options_and_keeps_the_others(con):
    con.query("ALTER TABLE ds.t SET OPTIONS(description='orders by day', labels=[('team', 'ml')], expiration_timestamp=NULL)")
    con.query("ALTER TABLE ds.p SET OPTIONS(partition_expiration_days=30)")
    con.query("ALTER TABLE ds.p SET OPTIONS(description='days')")
    assert kept(con) == [("p", False, 30.0, "days"), ("t", False, None, "orders by day")]


def test_alter_table_set_options_null_clears_and_a_table_left_without_options_loses_its_row(con):
    con.query("ALTER TABLE ds.p SET OPTIONS(partition_expiration_days=30, description='days')")
    con.query("ALTER TABLE ds.p SET OPTIONS(partition_expiration_days=NULL, description=NULL)")
    con.query("ALTER TABLE ds.t SET OPTIONS(description=NULL)")
    assert kept(con) == [("p", False, None, None)]  # p keeps its partitioning
    assert con.query("SELECT partition_column FROM sqlml_meta.table_options").fetchall() == [("d",)]


def test_alter_table_set_options_require_partition_filter_takes_effect(con):
    con.query("ALTER TABLE ds.p SET OPTIONS(require_partition_filter=TRUE)")
    with pytest.raises(PartitionFilterError) as error:
        con.query("SELECT * FROM ds.p")
    assert error.value.message == (
        "Cannot query over table 'ds.p' without a filter over column(s) 'd' that can be used for partition elimination."
    )
    assert con.query("SELECT count(*) FROM ds.p WHERE d > DATE '2025-01-01'").fetchall() == [(0,)]
    con.query("ALTER TABLE ds.p SET OPTIONS(require_partition_filter=NULL)")
    assert con.query("SELECT count(*) FROM ds.p").fetchall() == [(0,)]


def test_alter_table_set_options_errors_change_nothing(con):
    before = kept(con)
    with pytest.raises(InvalidOptionError) as error:
        con.query("ALTER TABLE ds.t SET OPTIONS(description='x', require_partition_filter=TRUE)")
    assert error.value.message == "require_partition_filter needs a partitioned table; ds.t has no PARTITION BY."
    assert error.value.hint == "Recreate the table with CREATE OR REPLACE TABLE … PARTITION BY …."
    with pytest.raises(InvalidOptionError) as error:
        con.query("ALTER TABLE ds.t SET OPTIONS(description='x', colour='red')")
    assert error.value.message == "Unknown table option colour."
    assert error.value.hint == (
        "Table options: partition_expiration_days, require_partition_filter, description, default_collate, "
        "default_rounding_mode, enable_change_history, enable_fine_grained_mutations, expiration_timestamp, "
        "friendly_name, kms_key_name, labels, max_staleness, tags."
    )
    with pytest.raises(InvalidOptionError) as error:
        con.query("ALTER TABLE ds.t SET OPTIONS(description=3)")
    assert error.value.message == "The table option description takes a STRING literal."
    assert kept(con) == before


def test_alter_missing_objects_is_an_error_unless_if_exists(con):
    with pytest.raises(NotFoundError) as error:
        con.query("ALTER TABLE ds.nope SET OPTIONS(description='x')")
    assert error.value.message == "Unknown table ds.nope."
    assert error.value.hint == "List tables with SELECT * FROM ds.INFORMATION_SCHEMA.TABLES, or write ALTER TABLE IF EXISTS."
    with pytest.raises(NotFoundError) as error:
        con.query("ALTER VIEW ds.t SET OPTIONS(description='x')")  # a table, not a view
    assert error.value.message == "Unknown view ds.t."
    with pytest.raises(NotFoundError) as error:
        con.query("ALTER SCHEMA nope SET OPTIONS(description='x')")
    assert error.value.message == "Unknown dataset nope."
    assert error.value.hint == "Create it first with CREATE SCHEMA nope, or write ALTER SCHEMA IF EXISTS."
    for statement in ("ALTER TABLE IF EXISTS ds.nope SET OPTIONS(description='x')",
                      "ALTER VIEW IF EXISTS ds.nope SET OPTIONS(description='x')",
                      "ALTER SCHEMA IF EXISTS nope SET OPTIONS(description='x')"):  # fmt: skip
        assert con.query(statement).fetchall() == []
    assert kept(con) == [("p", False, None, None), ("t", False, None, "orders")]


def test_alter_view_and_schema_set_options_are_accepted(con):
    assert con.query("ALTER VIEW ds.v SET OPTIONS(description='one', friendly_name='One', labels=[('a', 'b')])").statement == "ALTER VIEW"
    assert con.query("ALTER SCHEMA ds SET OPTIONS(description='s', default_table_expiration_days=3.75)").statement == "ALTER SCHEMA"
    with pytest.raises(InvalidOptionError) as error:
        con.query("ALTER VIEW ds.v SET OPTIONS(require_partition_filter=TRUE)")
    assert error.value.message == "Unknown view option require_partition_filter."
    assert error.value.hint == "View options: description, expiration_timestamp, friendly_name, labels, privacy_policy."
    assert con.query("SELECT * FROM ds.v").fetchall() == [(1,)]


def test_other_alter_table_actions_still_run(con):
    con.query("ALTER TABLE ds.t ADD COLUMN y STRING")
    assert con.query("SELECT column_name FROM ds.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 't' ORDER BY 1").fetchall() == [("x",), ("y",)]


def test_alter_materialized_view_set_options(con):
    con.query("CREATE MATERIALIZED VIEW ds.mv PARTITION BY d OPTIONS(description='e') AS SELECT d, sum(x) AS s FROM ds.p GROUP BY d")
    con.query(
        "ALTER MATERIALIZED VIEW ds.mv SET OPTIONS(description='daily', enable_refresh=FALSE, refresh_interval_minutes=60,"
        " require_partition_filter=TRUE, labels=[('a', 'b')])"
    )
    view = "SELECT enable_refresh, refresh_interval_minutes, max_staleness_seconds, description FROM ds.INFORMATION_SCHEMA.MATERIALIZED_VIEWS"
    assert con.query(view).fetchall() == [(False, 60.0, None, "daily")]
    assert ("mv", True, None, None) in kept(con)
    con.query("ALTER MATERIALIZED VIEW ds.mv SET OPTIONS(enable_refresh=NULL, refresh_interval_minutes=NULL, description=NULL)")
    assert con.query(view).fetchall() == [(True, 30.0, None, None)]
    with pytest.raises(InvalidOptionError) as error:
        con.query("ALTER MATERIALIZED VIEW ds.mv SET OPTIONS(description='x', colour='red')")
    assert error.value.message == "Unknown materialized view option colour."
    with pytest.raises(NotFoundError) as error:
        con.query("ALTER MATERIALIZED VIEW ds.t SET OPTIONS(description='x')")
    assert error.value.message == "Unknown materialized view ds.t."
    assert con.query(view).fetchall() == [(True, 30.0, None, None)]


def test_information_schema_table_options_lists_the_kept_options_as_bigquery_writes_them(con):
    # https://cloud.google.com/bigquery/docs/information-schema-table-options
    view = "SELECT * FROM ds.INFORMATION_SCHEMA.TABLE_OPTIONS ORDER BY table_name, option_name"
    assert con.query(view).fetchall() == [("warehouse", "ds", "t", "description", "STRING", '"orders"')]
    con.query("""ALTER TABLE ds.p SET OPTIONS(description='say "hi"\\\\now', require_partition_filter=TRUE, partition_expiration_days=30,
                 labels=[('a', 'b')])""")
    con.query("ALTER TABLE ds.t SET OPTIONS(description=NULL)")
    con.query("CREATE MATERIALIZED VIEW ds.mv OPTIONS(description='e') AS SELECT d FROM ds.p WHERE d > DATE '2025-01-01'")
    assert con.query(view).fetchall() == [
        ("warehouse", "ds", "mv", "description", "STRING", '"e"'),
        ("warehouse", "ds", "mv", "enable_refresh", "BOOL", "true"),
        ("warehouse", "ds", "mv", "refresh_interval_minutes", "FLOAT64", "30.0"),
        ("warehouse", "ds", "p", "description", "STRING", '"say \\"hi\\"\\\\now"'),
        ("warehouse", "ds", "p", "partition_expiration_days", "FLOAT64", "30.0"),
        ("warehouse", "ds", "p", "require_partition_filter", "BOOL", "true"),
    ]
    assert con.query("SELECT * FROM other.INFORMATION_SCHEMA.TABLE_OPTIONS").fetchall() == []


def test_information_schema_table_options_of_a_warehouse_without_options():
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds")
        result = con.query("SELECT * FROM ds.INFORMATION_SCHEMA.TABLE_OPTIONS")
        assert result.fetchall() == []
        assert result.schema.names == ["table_catalog", "table_schema", "table_name", "option_name", "option_type", "option_value"]


def descriptions(con) -> list[tuple]:
    return con.query("SELECT table_name, column_name, description FROM sqlml_meta.column_options ORDER BY 1, 2").fetchall()


def test_column_descriptions_of_create_table_and_alter_column_are_kept_without_warnings(con, capfd):
    con.query("CREATE TABLE ds.c (x INT64 OPTIONS(description='the x'), Y STRING NOT NULL OPTIONS(description=NULL), z INT64)")
    con.query("ALTER TABLE ds.c ALTER COLUMN y SET OPTIONS(description='the y')")
    con.query("ALTER TABLE ds.c ALTER COLUMN x SET OPTIONS(description=NULL)")
    con.query("ALTER TABLE ds.c ALTER COLUMN IF EXISTS nope SET OPTIONS(description='n')")
    assert descriptions(con) == [("c", "y", "the y")]
    assert con.query("SELECT column_name, is_nullable FROM ds.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 'c'").fetchall() == [
        ("x", "YES"), ("Y", "NO"), ("z", "YES"),
    ]  # fmt: skip
    assert capfd.readouterr().err == ""  # sqlglot's "Unsupported property property"
    con.query("CREATE OR REPLACE TABLE ds.c (x INT64 OPTIONS(description='new x'))")
    assert descriptions(con) == [("c", "x", "new x")]
    con.query("DROP TABLE ds.c")
    assert descriptions(con) == []


def test_column_option_errors_change_nothing(con):
    con.query("CREATE TABLE ds.c (x INT64 OPTIONS(description='the x'))")
    with pytest.raises(NotFoundError) as error:
        con.query("ALTER TABLE ds.c ALTER COLUMN nope SET OPTIONS(description='n')")
    assert error.value.message == "Unknown column nope in table ds.c."
    assert error.value.hint == "Its columns: x."
    with pytest.raises(InvalidOptionError) as error:
        con.query("ALTER TABLE ds.c ALTER COLUMN x SET OPTIONS(description='y', rounding_mode='ROUND_HALF_EVEN')")
    assert error.value.message == "Unknown column option rounding_mode."
    with pytest.raises(InvalidOptionError) as error:
        con.query("CREATE OR REPLACE TABLE ds.c (x INT64 OPTIONS(description=1))")
    assert error.value.message == "The column option description takes a STRING literal."
    assert descriptions(con) == [("c", "x", "the x")]


def test_alter_set_options_in_a_rolled_back_transaction_and_with_a_default_dataset(con):
    con.query("SET @@dataset_id = 'ds'")
    con.query("ALTER TABLE t ALTER COLUMN x SET OPTIONS(description='the x')")
    con.query("""BEGIN TRANSACTION; ALTER TABLE t SET OPTIONS(description='gone'); ALTER TABLE t ALTER COLUMN x SET OPTIONS(description=NULL);
                 ROLLBACK TRANSACTION""")
    assert kept(con) == [("p", False, None, None), ("t", False, None, "orders")]
    assert descriptions(con) == [("t", "x", "the x")]
