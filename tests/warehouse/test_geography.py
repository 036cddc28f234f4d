"""GEOGRAPHY basics: BigQuery's values (WKT text, S2's spherical distances), NULLs and errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sqlml
from sqlml.warehouse.geography import EARTH_RADIUS_METERS, central_angles, normalize


def haversine(lon1, lat1, lon2, lat2, radius=6371010.0):
    """Great-circle distance by the haversine formula (an independent computation)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        yield connection


def test_distance_is_bigquerys_published_value(con):
    # BigQuery's result for these two Tokyo points (S2's sphere, radius 6371010 m), as published in
    # https://dev.classmethod.jp/articles/bigquery-geography-functions-try/ (ST_DISTANCE example).
    value = con.query(
        "SELECT ST_DISTANCE(ST_GEOGPOINT(139.7454316, 35.658584), ST_GEOGPOINT(139.8108103, 35.7100069))"
    ).fetchall()[0][0]
    assert value == pytest.approx(8219.632821167155, abs=1e-6)
    assert EARTH_RADIUS_METERS == 6371010.0


def test_distances_match_haversine_for_random_points(con):
    rng = np.random.default_rng(3)
    lon = rng.uniform(-180, 180, size=(200, 2))
    lat = rng.uniform(-90, 90, size=(200, 2))
    con.register("pairs", pd.DataFrame({"lon1": lon[:, 0], "lat1": lat[:, 0], "lon2": lon[:, 1], "lat2": lat[:, 1]}))
    rows = con.query(
        "SELECT lon1, lat1, lon2, lat2, ST_DISTANCE(ST_GEOGPOINT(lon1, lat1), ST_GEOGPOINT(lon2, lat2)) AS d, "
        "ST_DWITHIN(ST_GEOGPOINT(lon1, lat1), ST_GEOGPOINT(lon2, lat2), 5000000) AS near FROM pairs"
    ).fetchall()
    expected = [haversine(*row[:4]) for row in rows]
    assert [row[4] for row in rows] == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert [row[5] for row in rows] == [d <= 5_000_000 for d in expected]


def test_antipodal_and_identical_points():
    assert central_angles([0.0], [0.0], [180.0], [0.0])[0] == pytest.approx(math.pi)
    assert central_angles([12.5], [-7.0], [12.5], [-7.0])[0] == 0.0


def test_points_print_as_bigquery_writes_them(con):
    assert con.query("SELECT ST_GEOGPOINT(-122.35, 47.62), ST_GEOGPOINT(1, 2), ST_GEOGPOINT(190, 0), ST_GEOGPOINT(-190.5, 10)").fetchall() == [
        ("POINT(-122.35 47.62)", "POINT(1 2)", "POINT(-170 0)", "POINT(169.5 10)")
    ]  # longitudes outside [-180, 180] are taken modulo 360
    assert con.query("SELECT ST_X(ST_GEOGPOINT(-122.35, 47.62)), ST_Y(ST_GEOGPOINT(-122.35, 47.62))").fetchall() == [(-122.35, 47.62)]


def test_wkt_round_trips():
    assert normalize(" point( 1.50  -2 ) ") == "POINT(1.5 -2)"
    assert normalize("linestring(1 2,3 4)") == "LINESTRING(1 2, 3 4)"
    assert normalize("POLYGON((0 0, 1 0, 1 1, 0 0))") == "POLYGON((0 0, 1 0, 1 1, 0 0))"
    assert normalize("MULTIPOINT((1 2), (3 4))") == normalize("MULTIPOINT(1 2, 3 4)") == "MULTIPOINT(1 2, 3 4)"
    assert normalize("GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1))") == "GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1))"
    assert normalize("POINT EMPTY") == normalize("POLYGON EMPTY") == "GEOMETRYCOLLECTION EMPTY"


def test_text_functions_in_sql(con):
    assert con.query(
        "SELECT ST_ASTEXT(ST_GEOGFROMTEXT('linestring(1 2,3 4)')), ST_X(ST_GEOGFROMTEXT('POINT(3.25 -1)')), "
        "ST_GEOGFROMTEXT('POLYGON((0 0, 1 0, 1 1, 0 0))', make_valid => TRUE)"
    ).fetchall() == [("LINESTRING(1 2, 3 4)", 3.25, "POLYGON((0 0, 1 0, 1 1, 0 0))")]


def test_null_in_null_out(con):
    row = con.query(
        "SELECT ST_GEOGPOINT(NULL, 1), ST_GEOGPOINT(1, NULL), ST_X(NULL), ST_ASTEXT(NULL), ST_GEOGFROMTEXT(NULL), "
        "ST_DISTANCE(NULL, ST_GEOGPOINT(0, 1)), ST_DWITHIN(ST_GEOGPOINT(0, 1), NULL, 10), "
        "ST_DISTANCE(ST_GEOGFROMTEXT('POINT EMPTY'), ST_GEOGPOINT(0, 1))"
    ).fetchall()[0]
    assert row == (None,) * 8


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT ST_GEOGPOINT(0, 91)", r"ST_GeogPoint failed: Latitude must be between -90 and 90 degrees; got 91"),
        ("SELECT ST_GEOGFROMTEXT('POINT(1)')", r"ST_GeogFromText failed: expected two numbers for a point in 'POINT\(1\)'"),
        ("SELECT ST_GEOGFROMTEXT('CIRCLE(1 2)')", r"ST_GeogFromText failed: unknown geography type 'CIRCLE'"),
        ("SELECT ST_GEOGFROMTEXT('POLYGON((0 0, 1 0, 1 1))')", r"a polygon ring needs at least four points and must end where it starts"),
        ("SELECT ST_X(ST_GEOGFROMTEXT('LINESTRING(0 0, 1 1)'))", r"ST_X failed: the argument must be a point; got 'LINESTRING\(0 0, 1 1\)'"),
        ("SELECT ST_DISTANCE(ST_GEOGPOINT(0, 0), ST_GEOGPOINT(0, 1), TRUE)", r"use_spheroid currently only supports the value FALSE"),
        ("SELECT ST_DISTANCE(ST_GEOGFROMTEXT('LINESTRING(0 0, 1 1)'), ST_GEOGPOINT(0, 1))", r"ST_DISTANCE in sqlml measures between points only"),
        ("SELECT ST_GEOGPOINT(1)", r"No matching signature for function ST_GEOGPOINT: it takes 2 arguments; got 1\."),
        ("SELECT ST_AREA(ST_GEOGFROMTEXT('POLYGON((0 0, 1 0, 1 1, 0 0))'))", r"^ST_AREA is not supported yet"),
    ],
)
def test_invalid_input_is_an_error(con, sql, message):
    with pytest.raises(sqlml.Error, match=message):
        con.query(sql).fetchall()


def test_geography_column_in_create_table_and_results(con):
    con.query(
        "CREATE SCHEMA IF NOT EXISTS geo; CREATE OR REPLACE TABLE geo.stations (name STRING, location GEOGRAPHY); "
        "INSERT INTO geo.stations VALUES ('a', ST_GEOGPOINT(-0.1276, 51.5072)), ('b', ST_GEOGPOINT(2.3522, 48.8566))"
    )
    rows = con.query(
        "SELECT a.name, b.name, ROUND(ST_DISTANCE(a.location, b.location) / 1000, 1) AS km "
        "FROM geo.stations a JOIN geo.stations b ON a.name < b.name"
    ).fetchall()
    assert rows == [("a", "b", round(haversine(-0.1276, 51.5072, 2.3522, 48.8566) / 1000, 1))]
    assert con.query("SELECT location FROM geo.stations ORDER BY name").fetchall() == [("POINT(-0.1276 51.5072)",), ("POINT(2.3522 48.8566)",)]
    con.query("CREATE OR REPLACE TABLE geo.copy AS SELECT name, ST_GEOGPOINT(1, 2) AS p FROM geo.stations")
    assert con.query("SELECT ST_Y(p) FROM geo.copy LIMIT 1").fetchall() == [(2.0,)]
