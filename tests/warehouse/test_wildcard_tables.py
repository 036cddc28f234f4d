"""Wildcard tables (``FROM `proj.ds.events_*```) read like BigQuery's: a union of the matching
tables with ``_TABLE_SUFFIX``, BigQuery's schema rule and errors, pruned by the suffix filter."""

from __future__ import annotations

import pytest

import sqlml


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query("""
            CREATE SCHEMA ds;
            CREATE TABLE ds.events_20210101 AS SELECT 1 AS id, 'view' AS event, 'old' AS dropped;
            CREATE TABLE ds.events_20210102 AS SELECT 2 AS id, 'click' AS event;
            CREATE TABLE ds.events_20210201 AS SELECT 3 AS id, 'view' AS event, 1.5 AS revenue;
            CREATE TABLE ds.other AS SELECT 9 AS id;
        """)
        yield connection


def test_union_of_matching_tables_in_the_newest_tables_schema(con):
    result = con.query("SELECT * FROM ds.events_* ORDER BY id")
    # the schema of the last shard; a column it lacks (dropped) is not there, one others lack is NULL
    assert result.columns == ["id", "event", "revenue"]
    assert result.fetchall() == [(1, "view", None), (2, "click", None), (3, "view", 1.5)]


def test_table_suffix_is_selectable_and_filters(con):
    rows = con.query(
        "SELECT _TABLE_SUFFIX AS day, COUNT(*) AS n FROM `my-project.ds.events_*` "
        "WHERE _TABLE_SUFFIX BETWEEN '20210101' AND '20210131' GROUP BY day ORDER BY day"
    ).fetchall()
    assert rows == [("20210101", 1), ("20210102", 1)]
    assert con.query("SELECT e.id, e._TABLE_SUFFIX FROM ds.events_2021* AS e WHERE e._TABLE_SUFFIX LIKE '02%'").fetchall() == [(3, "0201")]


def test_suffix_filter_with_a_parameter_still_filters(con):
    rows = con.query("SELECT id FROM ds.events_* WHERE _TABLE_SUFFIX = @day", {"day": "20210102"}).fetchall()
    assert rows == [(2,)]


def test_filter_prunes_tables_before_they_are_read(con):
    # a shard whose `id` is a STRING cannot be read as INT64 (BigQuery's error, below); a filter
    # that leaves it out never reads it
    con.query("CREATE TABLE ds.mixed_1 AS SELECT 1 AS id; CREATE TABLE ds.mixed_2 AS SELECT 'x' AS id; CREATE TABLE ds.mixed_3 AS SELECT 3 AS id")
    assert con.query("SELECT id FROM ds.mixed_* WHERE _TABLE_SUFFIX IN ('1', '3') ORDER BY id").fetchall() == [(1,), (3,)]
    assert con.query("SELECT COUNT(*) FROM ds.mixed_* WHERE _TABLE_SUFFIX > '5'").fetchall() == [(0,)]
    with pytest.raises(sqlml.SqlTypeError, match=r"Cannot read field of type STRING as INT64 Field: id"):
        con.query("SELECT id FROM ds.mixed_*").fetchall()


def test_no_matching_table_is_bigquerys_not_found(con):
    with pytest.raises(sqlml.NotFoundError, match=r"Not found: Table my-project:ds\.nothing_\* was not found"):
        con.query("SELECT * FROM `my-project.ds.nothing_*`").fetchall()


def test_a_matching_view_is_an_error(con):
    con.query("CREATE VIEW ds.report_view AS SELECT 1 AS id; CREATE TABLE ds.report_2021 AS SELECT 2 AS id")
    with pytest.raises(sqlml.UnsupportedStatementError, match=r"Views cannot be queried through prefix\. First view sqlml:ds\.report_view\."):
        con.query("SELECT * FROM ds.report_*").fetchall()


def test_wildcard_needs_a_dataset(con):
    with pytest.raises(sqlml.NotFoundError, match=r'Table name "events_\*" missing dataset while no default dataset is set'):
        con.query("SELECT * FROM events_*").fetchall()


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ("`my-project.ds.nothing_*`", sqlml.NotFoundError),
        ("ds.clash_*", sqlml.SqlTypeError),
        ("ds.shown_*", sqlml.UnsupportedStatementError),
        ("events_*", sqlml.NotFoundError),
    ],
)
def test_wildcard_errors_point_at_the_wildcard_table(con, table, error):
    # they pointed at the start of the statement
    con.query("CREATE OR REPLACE TABLE ds.clash_1 AS SELECT 1 AS id; CREATE OR REPLACE TABLE ds.clash_2 AS SELECT 'x' AS id; "
              "CREATE OR REPLACE VIEW ds.shown_1 AS SELECT 1 AS id")  # fmt: skip
    with pytest.raises(error) as caught:
        con.query(f"SELECT 1;\nSELECT id,\n  1 AS one FROM {table} AS t").fetchall()
    location = caught.value.location
    assert (location.statement, location.line, location.col, location.length) == (2, 3, 17, len(table))
    assert location.source_line == f"  1 AS one FROM {table} AS t"


def test_wildcard_in_joins_ctes_and_create_table(con):
    rows = con.query(
        "WITH daily AS (SELECT _TABLE_SUFFIX AS day, event FROM ds.events_*) "
        "SELECT d.day, o.id FROM daily d CROSS JOIN ds.other o WHERE d.event = 'click'"
    ).fetchall()
    assert rows == [("20210102", 9)]
    con.query("CREATE TABLE ds.all_events AS SELECT *, _TABLE_SUFFIX AS day FROM ds.events_*")
    assert con.query("SELECT day FROM ds.all_events ORDER BY day").fetchall() == [("20210101",), ("20210102",), ("20210201",)]


def test_tablesample_on_a_wildcard_table(con):
    assert con.query("SELECT COUNT(*) FROM ds.events_* TABLESAMPLE SYSTEM (100 PERCENT)").fetchall() == [(3,)]
    assert con.query("SELECT COUNT(*) FROM ds.events_* TABLESAMPLE SYSTEM (0 PERCENT)").fetchall() == [(0,)]


def test_a_view_over_a_wildcard_reads_the_tables_that_match_when_queried(con):
    con.query("CREATE TABLE ds.shard_1 AS SELECT 1 AS n; CREATE VIEW ds.all_shards AS SELECT n, _TABLE_SUFFIX AS s FROM ds.shard_*")
    assert con.query("SELECT * FROM ds.all_shards ORDER BY n").fetchall() == [(1, "1")]
    con.query("CREATE TABLE ds.shard_2 AS SELECT 2 AS n")  # a new shard, as BigQuery's views see it
    assert con.query("SELECT * FROM ds.all_shards ORDER BY n").fetchall() == [(1, "1"), (2, "2")]
