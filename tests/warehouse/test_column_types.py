"""GEOGRAPHY columns are reported as GEOGRAPHY, not as the STRING DuckDB stores them as."""

from __future__ import annotations

import pyarrow as pa
import pytest


@pytest.fixture
def geo(con):
    con.query(
        "CREATE SCHEMA geo; "
        "CREATE TABLE geo.stations (name STRING, location GEOGRAPHY, route ARRAY<GEOGRAPHY>); "
        "INSERT INTO geo.stations VALUES ('a', ST_GEOGPOINT(1, 2), [ST_GEOGPOINT(1, 2), ST_GEOGPOINT(3, 4)])"
    )
    return con


def _types(con, table):
    sql = "SELECT column_name, data_type FROM geo.INFORMATION_SCHEMA.COLUMNS WHERE table_name = @t ORDER BY ordinal_position"
    return con.query(sql, {"t": table}).fetchall()


def test_declared_geography_columns(geo):
    assert _types(geo, "stations") == [("name", "STRING"), ("location", "GEOGRAPHY"), ("route", "ARRAY<GEOGRAPHY>")]


def test_geography_columns_of_create_table_as_select(geo):
    geo.query(
        "CREATE TABLE geo.trips AS SELECT name, ST_GEOGPOINT(3, 4) AS start, IF(name = 'a', location, NULL) AS stop, "
        "ST_GEOGFROMTEXT('POINT(5 6)') AS finish, CAST('POINT(1 1)' AS GEOGRAPHY) AS cast_point, ST_X(location) AS lon, "
        "ST_ASTEXT(location) AS wkt FROM geo.stations; "
        "CREATE TABLE geo.copied AS WITH t AS (SELECT * FROM geo.trips) SELECT t.* EXCEPT (name) FROM t; "
        "CREATE TABLE geo.routes AS SELECT ARRAY_AGG(location) AS locations FROM geo.stations"
    )
    assert _types(geo, "trips") == [
        ("name", "STRING"), ("start", "GEOGRAPHY"), ("stop", "GEOGRAPHY"), ("finish", "GEOGRAPHY"),
        ("cast_point", "GEOGRAPHY"), ("lon", "FLOAT64"), ("wkt", "STRING"),
    ]  # fmt: skip
    assert _types(geo, "copied")[:4] == [("start", "GEOGRAPHY"), ("stop", "GEOGRAPHY"), ("finish", "GEOGRAPHY"), ("cast_point", "GEOGRAPHY")]
    assert _types(geo, "routes") == [("locations", "ARRAY<GEOGRAPHY>")]


def test_a_partitioned_table_keeps_both_its_partition_column_and_geography(geo):
    geo.query("CREATE TABLE geo.visits (day DATE, place GEOGRAPHY) PARTITION BY day")
    rows = geo.query(
        "SELECT column_name, data_type, is_partitioning_column FROM geo.INFORMATION_SCHEMA.COLUMNS "
        "WHERE table_name = 'visits' ORDER BY ordinal_position"
    ).fetchall()
    assert rows == [("day", "DATE", "YES"), ("place", "GEOGRAPHY", "NO")]


def test_replaced_and_dropped_tables_forget_their_types(geo):
    geo.query("CREATE TABLE geo.tmp AS SELECT location FROM geo.stations")
    assert _types(geo, "tmp") == [("location", "GEOGRAPHY")]
    geo.query("CREATE OR REPLACE TABLE geo.tmp AS SELECT ST_ASTEXT(location) AS location FROM geo.stations")
    assert _types(geo, "tmp") == [("location", "STRING")]
    geo.query("CREATE TABLE geo.gone (g GEOGRAPHY); DROP TABLE geo.gone; CREATE TABLE geo.gone (g STRING)")
    assert _types(geo, "gone") == [("g", "STRING")]


def test_geography_results_are_wkt_strings_as_the_bigquery_client_returns_them(geo):
    # google-cloud-bigquery's to_arrow() maps GEOGRAPHY to pa.string() (WKT), to_dataframe() to object
    result = geo.query("SELECT location FROM geo.stations")
    assert result.schema.field("location").type == pa.string()
    assert result.df()["location"].tolist() == ["POINT(1 2)"]


def test_a_query_reading_what_the_catalog_does_not_know_still_creates_the_table(geo):
    geo.register("extra", pa.table({"n": [1, 2]}))
    geo.query("CREATE TABLE geo.odd AS SELECT location, n FROM geo.stations, extra")
    assert geo.query("SELECT COUNT(*) FROM geo.odd").scalar() == 2
    assert _types(geo, "odd") == [("location", "GEOGRAPHY"), ("n", "INT64")]


def test_a_temporary_table_records_nothing(geo):
    geo.query("CREATE TEMP TABLE scratch AS SELECT location FROM geo.stations")
    assert geo.query("SELECT table_name, column_name FROM warehouse.sqlml_meta.column_types ORDER BY 2").fetchall() == [
        ("stations", "location"), ("stations", "route"),
    ]  # fmt: skip
