"""ML.EVALUATE and ML.DETECT_ANOMALIES of ARIMA_PLUS / ARIMA_PLUS_XREG models over new data on Spark run
per time series on the executors (``groupBy(ids).applyInArrow``, :mod:`sqlml.ml.functions.distributed_forecasting`):
the same columns, types and values (within 1e-9) as the DuckDB engine from the same stored models, every
frame the driver fetches computed by the grouped map (no input row is collected), composable in Spark SQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pyarrow as pa
import pytest

import sqlml
from sqlml.engine.duckdb.cursor import DuckDBCursor
from sqlml.engine.spark.cursor import SparkRelation
from sqlml.errors import InvalidModelInputError

# three daily series of 40 days (a trend, a weekly wave, a regressor x) to train on, on DuckDB
TRAINING = """
CREATE SCHEMA IF NOT EXISTS ds;
CREATE OR REPLACE TABLE ds.h AS
SELECT CASE k WHEN 0 THEN 'a' WHEN 1 THEN 'b' ELSE 'c' END AS s, DATE_ADD(DATE '2024-01-01', INTERVAL i DAY) AS d,
       MOD(i * 7, 5) AS x, 10 * k + 0.5 * i + 3 * MOD(i, 7) + 2 * MOD(i * 7, 5) + MOD(i * 13, 4) * 0.3 AS y
FROM UNNEST(GENERATE_ARRAY(0, 2)) AS k, UNNEST(GENERATE_ARRAY(0, 39)) AS i
"""
# new data, on both engines: the last training week, the 5 days after it (one with a spike), a series
# the models never saw and a NULL value
NEW = """
CREATE SCHEMA IF NOT EXISTS ds;
CREATE OR REPLACE TABLE ds.e AS
SELECT s, d, x, IF(s = 'b' AND d = DATE '2024-02-12', y + 40, y) AS y FROM (
  SELECT CASE k WHEN 0 THEN 'a' WHEN 1 THEN 'b' WHEN 2 THEN 'c' ELSE 'z' END AS s, DATE_ADD(DATE '2024-01-01', INTERVAL i DAY) AS d,
         MOD(i * 7, 5) AS x, 10 * k + 0.5 * i + 3 * MOD(i, 7) + 2 * MOD(i * 7, 5) + MOD(i * 13, 4) * 0.3 AS y
  FROM UNNEST(GENERATE_ARRAY(0, 3)) AS k, UNNEST(GENERATE_ARRAY(33, 44)) AS i)
UNION ALL SELECT 'a', DATE '2024-02-13', 1, NULL
"""
MODELS = (
    "CREATE MODEL ds.ar OPTIONS(model_type='arima_plus', time_series_timestamp_col='d', time_series_data_col='y', "
    "time_series_id_col='s', horizon=6) AS SELECT s, d, y FROM ds.h",
    "CREATE MODEL ds.xr OPTIONS(model_type='arima_plus_xreg', time_series_timestamp_col='d', time_series_data_col='y', "
    "time_series_id_col='s', horizon=6) AS SELECT s, d, x, y FROM ds.h",
    "CREATE MODEL ds.one OPTIONS(model_type='arima_plus', time_series_timestamp_col='d', time_series_data_col='y', horizon=6) "
    "AS SELECT d, y FROM ds.h WHERE s = 'c'",
)
QUERIES = {
    "evaluate": "SELECT * FROM ML.EVALUATE(MODEL ds.ar, TABLE ds.e) ORDER BY s",
    "evaluate per point": "SELECT * FROM ML.EVALUATE(MODEL ds.ar, TABLE ds.e, STRUCT(FALSE AS perform_aggregation, "
    "4 AS horizon, 0.8 AS confidence_level)) ORDER BY s, d, y",
    "evaluate xreg": "SELECT * FROM ML.EVALUATE(MODEL ds.xr, TABLE ds.e) ORDER BY s",
    "detect anomalies": "SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.ar, STRUCT(0.99 AS anomaly_prob_threshold), TABLE ds.e) "
    "ORDER BY s, d, y",
    "evaluate one series": "SELECT * FROM ML.EVALUATE(MODEL ds.one, (SELECT d, y FROM ds.e WHERE s = 'c'))",
    "composed": "SELECT COUNT(*) AS n, SUM(mean_absolute_error) AS mae FROM ML.EVALUATE(MODEL ds.ar, (SELECT * FROM ds.e WHERE s <> 'a'))",
}


@contextlib.contextmanager
def fetched_plans() -> Iterator[list[str]]:
    """The physical plans of the Spark frames the driver fetches rows of while the context is open."""
    plans = []
    read = SparkRelation.to_arrow_table

    def spied(relation):
        plans.append(relation._frame._jdf.queryExecution().executedPlan().toString())
        return read(relation)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SparkRelation, "to_arrow_table", spied)
        yield plans


#: An input without the timestamp column: refused on the driver, before any work is sent out.
MISSING = "SELECT * FROM ML.EVALUATE(MODEL ds.ar, (SELECT s, y FROM ds.e))"


def _answers(con: sqlml.Connection) -> dict[str, pa.Table | InvalidModelInputError]:
    found = {name: con.query(sql).arrow() for name, sql in QUERIES.items()}
    with pytest.raises(InvalidModelInputError) as refused:
        con.query(MISSING)
    return found | {"missing": refused.value}


@pytest.fixture(scope="module")
def answers(spark, tmp_path_factory):
    """Each query's rows on Spark and on DuckDB from the same stored models (trained on DuckDB), and
    the plans of the frames the driver fetched while Spark answered them."""
    folder = tmp_path_factory.mktemp("arima")
    with sqlml.connect(folder / "duckdb-warehouse", folder / "models") as duck:
        duck.query(TRAINING)
        duck.query(NEW)
        for statement in MODELS:
            duck.query(statement)
        on_duckdb = _answers(duck)
    with sqlml.connect(folder / "warehouse", folder / "models", engine="spark", spark=spark, idle_release=0) as con:
        con.query(NEW)
        with fetched_plans() as plans:
            on_spark = _answers(con)
        con.query("DROP SCHEMA ds CASCADE")
    return on_spark, on_duckdb, plans


def _close(got: object, expected: object) -> bool:
    """Equal, floats within 1e-9 (NaN equal to NaN: a NULL data value is NaN on both engines)."""
    if isinstance(got, float):
        return got == pytest.approx(expected, rel=1e-9, abs=1e-9, nan_ok=True)
    if isinstance(got, list):
        return isinstance(expected, list) and len(got) == len(expected) and all(map(_close, got, expected))
    if isinstance(got, dict):
        return isinstance(expected, dict) and got.keys() == expected.keys() and all(_close(got[k], expected[k]) for k in got)
    return got == expected


@pytest.mark.parametrize("name", list(QUERIES))
def test_spark_gives_duckdbs_rows(answers, name):
    on_spark, on_duckdb, _ = answers
    assert on_spark[name].schema == on_duckdb[name].schema
    assert _close(on_spark[name].to_pylist(), on_duckdb[name].to_pylist())


def test_the_rows_are_what_the_functions_mean(answers):
    """Not only equal: a row per known series, the unknown series' points without forecast, the spike found."""
    on_spark, _, _ = answers
    evaluated = on_spark["evaluate"]
    assert evaluated.column_names == ["s", "mean_absolute_error", "mean_squared_error", "root_mean_squared_error",
                                      "mean_absolute_percentage_error", "symmetric_mean_absolute_percentage_error",
                                      "mean_absolute_scaled_error"]  # fmt: skip
    assert evaluated.column("s").to_pylist() == ["a", "b", "c"]
    assert all(value > 0 for value in evaluated.column("mean_absolute_error").to_pylist())
    single = on_spark["evaluate one series"]  # a model without id columns: one group of every row
    assert single.column_names == evaluated.column_names[1:] and single.num_rows == 1
    points = on_spark["evaluate per point"].to_pylist()
    assert len(points) == 4 * 12 + 1
    # the 4 steps of the 3 known series, and the NULL value of a on its 4th step
    assert sum(row["forecasted_y"] is not None for row in points) == 3 * 4 + 1
    anomalies = on_spark["detect anomalies"].to_pylist()
    assert [(row["s"], str(row["d"].date())) for row in anomalies if row["is_anomaly"]] == [("b", "2024-02-12")]
    assert on_spark["composed"].to_pylist()[0]["n"] == 2


def test_no_input_row_reaches_the_driver(answers):
    _, _, plans = answers
    assert len(plans) == len(QUERIES)
    assert all("FlatMapGroupsInArrow" in plan for plan in plans)


def test_input_errors_are_raised_on_the_driver_as_on_duckdb(answers):
    on_spark, on_duckdb, _ = answers
    assert str(on_spark["missing"]) == str(on_duckdb["missing"])
    assert on_spark["missing"].message == "The evaluation data has no column d, which time_series_timestamp_col names."


def test_map_groups_gives_the_same_groups_on_duckdb_and_spark(spark):
    """The seam's grouped map: NULL keys are one group, each group sees its own rows in DuckDB's types."""
    import duckdb

    query = "SELECT * FROM (VALUES (1, 1.5), (1, 2.5), (NULL, 4.0), (2, 8.0)) AS t(k, v)"
    schema = pa.schema([("k", pa.int32()), ("rows", pa.int64()), ("total", pa.float64())])

    def summed(table: pa.Table) -> pa.Table:
        total = float(pa.compute.sum(table.column("v")).as_py())
        return pa.table({"k": table.column("k").slice(0, 1), "rows": pa.array([table.num_rows], pa.int64()), "total": [total]})

    duckdb_cursor = DuckDBCursor(duckdb.connect())
    duckdb_cursor.sql(query).map_groups(summed, ["k"], schema, "grouped")
    on_duckdb = duckdb_cursor.sql("SELECT * FROM grouped ORDER BY k NULLS FIRST").fetchall()
    SparkRelation(spark.sql(query)).map_groups(summed, ["k"], schema, "__grouped")
    on_spark = [tuple(row) for row in spark.sql("SELECT * FROM __grouped ORDER BY k NULLS FIRST").collect()]
    spark.catalog.dropTempView("__grouped")
    assert on_duckdb == on_spark == [(None, 1, 4.0), (1, 2, 4.0), (2, 1, 8.0)]
