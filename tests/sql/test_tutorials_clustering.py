"""BigQuery ML's k-means tutorial, its statements as published, on a small generated stand-in for
``bigquery-public-data.london_bicycles`` (same tables, column names and types):
https://cloud.google.com/bigquery/docs/kmeans-tutorial — geography features (ST_DISTANCE of
ST_GEOGPOINTs), a CTE-fed CREATE MODEL, ML.CENTROIDS reshaped with ARRAY_AGG(STRUCT …) and
UNNEST, and ML.PREDICT over a CTE."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sqlml

STATION_STATS = """
WITH
  hs AS (
    SELECT
      h.start_station_name AS station_name,
      IF(
        EXTRACT(DAYOFWEEK FROM h.start_date) = 1
          OR EXTRACT(DAYOFWEEK FROM h.start_date) = 7,
        'weekend',
        'weekday') AS isweekday,
      h.duration,
      ST_DISTANCE(ST_GEOGPOINT(s.longitude, s.latitude), ST_GEOGPOINT(-0.1, 51.5))
        / 1000 AS distance_from_city_center
    FROM
      `bigquery-public-data.london_bicycles.cycle_hire` AS h
    JOIN
      `bigquery-public-data.london_bicycles.cycle_stations` AS s
      ON
        h.start_station_id = s.id
    WHERE
      h.start_date
      BETWEEN CAST('2015-01-01 00:00:00' AS TIMESTAMP)
      AND CAST('2016-01-01 00:00:00' AS TIMESTAMP)
  ),
  stationstats AS (
    SELECT
      station_name,
      isweekday,
      AVG(duration) AS duration,
      COUNT(duration) AS num_trips,
      MAX(distance_from_city_center) AS distance_from_city_center
    FROM
      hs
    GROUP BY
      station_name, isweekday
  )
"""


@pytest.fixture(scope="module")
def con():
    rng = np.random.default_rng(7)
    stations = pd.DataFrame({
        "id": np.arange(1, 31), "name": [f"Station {i}" + (", Kennington" if i <= 2 else "") for i in range(1, 31)],
        "latitude": 51.5 + rng.normal(0, 0.03, 30), "longitude": -0.1 + rng.normal(0, 0.05, 30),
    })  # fmt: skip
    n = 600
    ids = rng.integers(1, 31, n)
    hire = pd.DataFrame({
        "rental_id": np.arange(n), "duration": rng.integers(60, 5000, n), "start_station_id": ids,
        "start_station_name": stations["name"].to_numpy()[ids - 1],
        "start_date": pd.Timestamp("2015-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 360 * 86400, n), unit="s"),
    })  # fmt: skip
    with sqlml.connect(":memory:") as connection:
        connection.register("stations_frame", stations)
        connection.register("hire_frame", hire)
        connection.query("""
            CREATE SCHEMA london_bicycles; CREATE SCHEMA bqml_tutorial;
            CREATE TABLE london_bicycles.cycle_stations AS SELECT * FROM stations_frame;
            CREATE TABLE london_bicycles.cycle_hire AS SELECT * FROM hire_frame
        """)
        connection.hire = hire
        yield connection


def test_station_stats_and_model(con):
    stats = con.query(STATION_STATS + "SELECT * FROM stationstats ORDER BY distance_from_city_center ASC;").df()
    hire = con.hire
    weekend = hire["start_date"].dt.dayofweek.isin([5, 6])  # BigQuery's DAYOFWEEK 1 (Sunday) and 7 (Saturday)
    expected = hire.groupby([hire["start_station_name"], np.where(weekend, "weekend", "weekday")])["duration"].agg(["mean", "count"])
    assert len(stats) == len(expected)
    got = stats.set_index(["station_name", "isweekday"]).sort_index()
    np.testing.assert_allclose(got["duration"], expected.sort_index()["mean"])
    assert got["num_trips"].tolist() == expected.sort_index()["count"].tolist()
    assert stats["distance_from_city_center"].is_monotonic_increasing and stats["distance_from_city_center"].max() < 20

    con.query(
        "CREATE OR REPLACE MODEL `bqml_tutorial.london_station_clusters`\n  OPTIONS (model_type = 'kmeans', num_clusters = 4)\nAS\n"
        + STATION_STATS + "SELECT\n  * EXCEPT (station_name, isweekday)\nFROM\n  stationstats;"
    )
    centroids = con.query("""
        WITH
          T AS (
            SELECT
              centroid_id,
              ARRAY_AGG(
                STRUCT(
                  feature AS name,
                  ROUND(numerical_value, 1) AS value)
                ORDER BY centroid_id)
                AS cluster
            FROM
              ML.CENTROIDS(MODEL `bqml_tutorial.london_station_clusters`)
            GROUP BY centroid_id
          ),
          Done AS (
            SELECT
              CONCAT('Cluster#', CAST(centroid_id AS STRING)) AS centroid,
              (SELECT value FROM UNNEST(cluster) WHERE name = 'duration') AS duration,
              (SELECT value FROM UNNEST(cluster) WHERE name = 'num_trips') AS num_trips,
              (SELECT value FROM UNNEST(cluster) WHERE name = 'distance_from_city_center') AS distance_from_city_center
            FROM T
          )
        SELECT * FROM Done ORDER BY centroid ASC
    """)
    assert centroids.columns == ["centroid", "duration", "num_trips", "distance_from_city_center"]
    rows = centroids.fetchall()
    assert [r[0] for r in rows] == ["Cluster#1", "Cluster#2", "Cluster#3", "Cluster#4"]
    # every centroid lies inside the range of its feature
    assert all(stats["duration"].min() - 0.1 <= r[1] <= stats["duration"].max() + 0.1 for r in rows)


def test_predict_kennington_stations(con):
    predicted = con.query(STATION_STATS + """
        SELECT
          * EXCEPT (nearest_centroids_distance)
        FROM
          ML.PREDICT(
            MODEL `bqml_tutorial.london_station_clusters`,
            (
              SELECT
                *
              FROM
                stationstats
              WHERE
                REGEXP_CONTAINS(station_name, 'Kennington')
            ));
    """)
    assert predicted.columns == ["CENTROID_ID", "station_name", "isweekday", "duration", "num_trips", "distance_from_city_center"]
    frame = predicted.df()
    assert set(frame["station_name"]) == {"Station 1, Kennington", "Station 2, Kennington"} and len(frame) == 4
    distances = con.query(STATION_STATS + """
        SELECT CENTROID_ID, nearest_centroids_distance FROM ML.PREDICT(MODEL `bqml_tutorial.london_station_clusters`,
          (SELECT * FROM stationstats WHERE REGEXP_CONTAINS(station_name, 'Kennington')))
    """).fetchall()
    for centroid, nearest in distances:
        assert centroid == min(nearest, key=lambda d: d["DISTANCE"])["CENTROID_ID"]
