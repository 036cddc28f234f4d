"""ML.FEATURES_AT_TIME and ML.ENTITY_FEATURES_AT_TIME on a small feature table.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-feature-time and
bigqueryml-syntax-entity-feature-time: rows at or before the cutoff, the ``num_rows`` latest per
entity, ``feature_timestamp`` showing the cutoff, NULL features filled from the entity's preceding
row when ``ignore_feature_nulls => TRUE``.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import sqlml


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query(
            "CREATE SCHEMA mydataset; CREATE TABLE mydataset.feature_table AS "
            "SELECT 'id1' AS Entity_ID, 1.0 AS f_1, 10.0 AS f_2, TIMESTAMP '2022-06-10 12:00:00+00' AS feature_timestamp UNION ALL "
            "SELECT 'id1', NULL, 11.0, TIMESTAMP '2022-06-11 09:00:00+00' UNION ALL "
            "SELECT 'id1', 5.0, 12.0, TIMESTAMP '2022-06-12 09:00:00+00' UNION ALL "
            "SELECT 'id2', 3.0, 30.0, TIMESTAMP '2022-06-10 08:00:00+00'; "
            "CREATE TABLE mydataset.entity_time_table AS "
            "SELECT 'id1' AS entity_id, TIMESTAMP '2022-06-11 10:00:00+00' AS time UNION ALL "
            "SELECT 'id2', TIMESTAMP '2022-06-12 10:00:00+00' UNION ALL SELECT 'id2', TIMESTAMP '2022-06-01 10:00:00+00'"
        )
        yield connection


def rows(con, sql):
    result = con.query(sql)
    return result.columns, [tuple(r) for r in result.fetchall()]


def test_features_at_time_published_example_fills_nulls_from_the_preceding_row(con):
    columns, found = rows(
        con,
        "SELECT * FROM ML.FEATURES_AT_TIME(TABLE mydataset.feature_table, time => '2022-06-11 10:00:00+00', num_rows => 1, ignore_feature_nulls => TRUE)",
    )
    assert columns == ["Entity_ID", "f_1", "f_2", "feature_timestamp"]
    cutoff = utc(2022, 6, 11, 10)
    assert found == [("id1", 1.0, 11.0, cutoff), ("id2", 3.0, 30.0, cutoff)]


def test_features_at_time_keeps_nulls_and_returns_num_rows_latest(con):
    _, found = rows(
        con,
        "SELECT * FROM ML.FEATURES_AT_TIME((SELECT * FROM mydataset.feature_table), time => TIMESTAMP '2022-06-11 10:00:00+00', num_rows => 2)",
    )
    cutoff = utc(2022, 6, 11, 10)
    assert found == [("id1", None, 11.0, cutoff), ("id1", 1.0, 10.0, cutoff), ("id2", 3.0, 30.0, cutoff)]


def test_features_at_time_defaults_to_now_and_one_row(con):
    _, found = rows(con, "SELECT Entity_ID, f_1 FROM ML.FEATURES_AT_TIME(TABLE mydataset.feature_table)")
    assert found == [("id1", 5.0), ("id2", 3.0)]


def test_entity_features_at_time_one_cutoff_per_entity_time_row(con):
    columns, found = rows(
        con,
        "SELECT * FROM ML.ENTITY_FEATURES_AT_TIME(TABLE mydataset.feature_table, TABLE mydataset.entity_time_table, num_rows => 1, ignore_feature_nulls => TRUE)",
    )
    assert columns == ["Entity_ID", "f_1", "f_2", "feature_timestamp"]
    # the id2 row at 2022-06-01 precedes every id2 feature: it returns nothing
    assert found == [("id1", 1.0, 11.0, utc(2022, 6, 11, 10)), ("id2", 3.0, 30.0, utc(2022, 6, 12, 10))]


def test_unknown_argument_and_missing_columns_say_so(con):
    with pytest.raises(sqlml.InvalidOptionError, match=r"^ML.FEATURES_AT_TIME has no argument 'rows'\."):
        con.query("SELECT * FROM ML.FEATURES_AT_TIME(TABLE mydataset.feature_table, rows => 1)").fetchall()
    with pytest.raises(sqlml.InvalidModelInputError, match=r"^The feature table of ML.FEATURES_AT_TIME needs the columns entity_id and feature_timestamp; it has entity_id, time\."):
        con.query("SELECT * FROM ML.FEATURES_AT_TIME(TABLE mydataset.entity_time_table)").fetchall()
    with pytest.raises(sqlml.InvalidOptionError, match=r"^The ML.FEATURES_AT_TIME argument 'num_rows' must be at least 1; got 0\."):
        con.query("SELECT * FROM ML.FEATURES_AT_TIME(TABLE mydataset.feature_table, num_rows => 0)").fetchall()
