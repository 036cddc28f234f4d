"""BigQuery's table options of its service (labels, friendly_name, expiration_timestamp, kms_key_name,
max_staleness …: https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#table_option_list)
are taken and not kept — dbt-bigquery writes ``OPTIONS(labels=…)``, tutorials ``expiration_timestamp`` — and
options alone on a CREATE TABLE … AS query no longer break it (the rows were ordered by no key: DuckDB's
'syntax error at or near "BY"')."""

from __future__ import annotations

import pytest

import sqlml

SERVICE = [
    "labels=[('team', 'ml'), ('env', 'dev')]",
    "friendly_name='Orders'",
    "expiration_timestamp=TIMESTAMP '2030-01-01 00:00:00 UTC'",
    "kms_key_name='projects/p/locations/us/keyRings/r/cryptoKeys/k'",
    "max_staleness=INTERVAL 4 HOUR",
    "description='orders', labels=[('a', 'b')]",
]


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE SCHEMA ds")
        yield connection


@pytest.mark.parametrize("options", SERVICE)
@pytest.mark.parametrize(
    "ddl",
    [
        "CREATE OR REPLACE TABLE ds.t OPTIONS({options}) AS SELECT 1 AS x UNION ALL SELECT 2",
        "CREATE OR REPLACE TABLE ds.t (x INT64) OPTIONS({options}) AS SELECT 1 UNION ALL SELECT 2",
        "CREATE OR REPLACE TABLE ds.t PARTITION BY d CLUSTER BY x OPTIONS({options}) AS "
        "SELECT DATE '2026-01-02' AS d, 1 AS x UNION ALL SELECT DATE '2026-01-01', 2",
    ],
)
def test_service_options_are_taken_with_every_create_table_form(con, ddl, options):
    con.query(ddl.format(options=options))
    assert con.query("SELECT x FROM ds.t ORDER BY x").fetchall() == [(1,), (2,)]


def test_description_alone_on_a_create_table_as_query(con):
    con.query("CREATE OR REPLACE TABLE ds.d OPTIONS(description='just a description') AS SELECT 'a' AS s")
    assert con.query("SELECT s FROM ds.d").fetchall() == [("a",)]


def test_an_unknown_option_is_still_refused_and_the_valid_ones_listed(con):
    with pytest.raises(sqlml.InvalidOptionError) as refused:
        con.query("CREATE OR REPLACE TABLE ds.u OPTIONS(labelz=[('a', 'b')]) AS SELECT 1 AS x")
    assert str(refused.value).splitlines()[0] == "Unknown table option labelz."
    assert refused.value.hint == (
        "Table options: partition_expiration_days, require_partition_filter, description, default_collate, default_rounding_mode, "
        "enable_change_history, enable_fine_grained_mutations, expiration_timestamp, friendly_name, kms_key_name, labels, "
        "max_staleness, tags."
    )
    assert con.query("SELECT COUNT(*) FROM ds.INFORMATION_SCHEMA.TABLES WHERE table_name = 'u'").scalar() == 0


def test_view_options_and_column_options_run_without_warnings(con, capfd):
    # a view's options and its columns' descriptions are kept nowhere; sqlglot's DuckDB generator warned
    # "Unsupported property property" on standard error for each (dbt-bigquery writes a view's description)
    con.query(
        "CREATE OR REPLACE VIEW ds.v (a OPTIONS(description='the a'), b) OPTIONS(description='d', labels=[('a', 'b')], "
        "friendly_name='f', expiration_timestamp=TIMESTAMP '2030-01-01 00:00:00 UTC') AS SELECT 1 AS a, 'x' AS b"
    )
    assert con.query("SELECT a, b FROM ds.v").fetchall() == [(1, "x")]
    assert con.query("SELECT column_name FROM ds.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 'v' ORDER BY 1").fetchall() == [("a",), ("b",)]
    con.query("CREATE OR REPLACE MATERIALIZED VIEW ds.mv OPTIONS(enable_refresh=false, description='m') AS SELECT 1 AS a")
    options = con.query("SELECT option_name, option_value FROM ds.INFORMATION_SCHEMA.TABLE_OPTIONS WHERE table_name = 'mv' ORDER BY 1")
    assert options.fetchall()[:2] == [("description", '"m"'), ("enable_refresh", "false")]  # a materialized view's own options stay
    assert capfd.readouterr().err == ""
