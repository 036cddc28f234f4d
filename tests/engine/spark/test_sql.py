"""SQL on the Spark engine: datasets are Spark databases, tables are Parquet, views are Spark's,
INFORMATION_SCHEMA comes from Spark's catalog, and BigQuery's functions give BigQuery's results
(the same statements as on DuckDB)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import sqlml
from sqlml.engine.base import Cursor, Relation, SqlEngine
from sqlml.engine.spark.engine import SparkEngine
from sqlml.errors import ExecutionError, NotFoundError


def test_the_spark_engine_implements_the_seam(spark_con):
    engine = spark_con._warehouse
    assert isinstance(engine, SparkEngine) and isinstance(engine, SqlEngine)
    with engine.lease() as cursor:
        assert isinstance(cursor, Cursor)
        assert isinstance(cursor.sql("SELECT 1 AS x"), Relation)


def test_schema_table_insert_and_select_with_bigquery_functions(spark_con, spark):
    spark_con.query("CREATE SCHEMA ds")
    spark_con.query("CREATE TABLE ds.t AS SELECT x, x * 2.5 AS y, FORMAT('n%d', x) AS s FROM UNNEST(GENERATE_ARRAY(1, 4)) AS x")
    spark_con.query("INSERT INTO ds.t (x, y, s) VALUES (10, NULL, 'ten')")
    result = spark_con.query(
        "SELECT x, SAFE_DIVIDE(y, x - 1) AS q, UPPER(s) AS u, DATE_ADD(DATE '2020-01-31', INTERVAL x DAY) AS d, "
        "IF(x > 2, 'big', 'small') AS size FROM ds.t WHERE x IN (1, 3, 10) ORDER BY x"
    )
    assert result.arrow().schema == pa.schema(
        [("x", pa.int64()), ("q", pa.float64()), ("u", pa.string()), ("d", pa.date32()), ("size", pa.string())]
    )
    assert result.fetchall() == [
        (1, None, "N1", dt.date(2020, 2, 1), "small"),
        (3, 3.75, "N3", dt.date(2020, 2, 3), "big"),
        (10, None, "TEN", dt.date(2020, 2, 10), "big"),
    ]
    # the dataset is a Spark database and the table a Parquet table in it
    assert [d.name for d in spark.catalog.listDatabases() if d.name == "ds"] == ["ds"]
    assert spark.sql("DESCRIBE TABLE EXTENDED ds.t").where("col_name = 'Provider'").collect()[0].data_type.lower() == "parquet"


def test_aggregates_and_window_functions_match_duckdb(spark_con):
    sql = (
        "SELECT g, COUNTIF(v > 1) AS c, SUM(v) AS s, ROUND(AVG(v), 3) AS a, "
        "STRING_AGG(CAST(v AS STRING), ',' ORDER BY v) AS l FROM ds.t GROUP BY g ORDER BY g"
    )
    setup = "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT MOD(x, 3) AS g, x AS v FROM UNNEST(GENERATE_ARRAY(1, 10)) AS x"
    spark_con.query(setup)
    with sqlml.connect(":memory:") as duck:
        duck.query(setup)
        assert spark_con.query(sql).fetchall() == duck.query(sql).fetchall() == [
            (0, 3, 18, 6.0, "3,6,9"), (1, 3, 22, 5.5, "1,4,7,10"), (2, 3, 15, 5.0, "2,5,8"),
        ]  # fmt: skip


def test_views_are_spark_views(spark_con, spark):
    spark_con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT x FROM UNNEST([1, 2, 3]) AS x")
    spark_con.query("CREATE VIEW ds.v AS SELECT x * 10 AS y, SAFE_CAST('a' AS INT64) AS z FROM ds.t WHERE x > 1")
    assert spark_con.query("SELECT y FROM ds.v ORDER BY y").fetchall() == [(20,), (30,)]
    assert spark.catalog.getTable("ds.v").tableType == "VIEW"
    tables = spark_con.query("SELECT table_name, table_type FROM ds.INFORMATION_SCHEMA.TABLES ORDER BY table_name").fetchall()
    assert tables == [("t", "BASE TABLE"), ("v", "VIEW")]
    with spark_con._warehouse.lease() as cursor:  # the query Spark keeps for the view, in DuckDB's SQL
        # a CAST raises in Spark's ANSI mode as in DuckDB; SAFE_CAST is a TRY_CAST in both
        assert cursor.view_definition("ds", "v") == (
            "CREATE VIEW ds.v AS SELECT x * CAST(10 AS BIGINT) AS y, TRY_CAST(NULL AS BIGINT) AS z FROM ds.t WHERE x > CAST(1 AS BIGINT)"
        )


def test_information_schema_columns_come_from_sparks_catalog(spark_con):
    spark_con.query(
        "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS i, 2.5 AS f, 'a' AS s, TRUE AS b, DATE '2020-01-01' AS d, "
        "TIMESTAMP '2020-01-01 00:00:00+00' AS ts, [1, 2] AS arr"
    )
    rows = spark_con.query(
        "SELECT column_name, ordinal_position, data_type FROM ds.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 't' "
        "ORDER BY ordinal_position"
    ).fetchall()
    # https://cloud.google.com/bigquery/docs/information-schema-columns: BigQuery's type names
    assert rows == [
        ("i", 1, "INT64"), ("f", 2, "FLOAT64"), ("s", 3, "STRING"), ("b", 4, "BOOL"), ("d", 5, "DATE"),
        ("ts", 6, "TIMESTAMP"), ("arr", 7, "BIGINT[]"),
    ]  # fmt: skip


def test_create_or_replace_keeps_the_old_table_when_the_query_fails(spark_con):
    spark_con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x")
    with pytest.raises(NotFoundError, match="Unknown table ds.missing"):
        spark_con.query("CREATE OR REPLACE TABLE ds.t AS SELECT x FROM ds.missing")
    assert spark_con.query("SELECT x FROM ds.t").fetchall() == [(1,)]
    spark_con.query("CREATE OR REPLACE TABLE ds.t AS SELECT x + 1 AS x, 'b' AS s FROM ds.t")
    assert spark_con.query("SELECT x, s FROM ds.t").fetchall() == [(2, "b")]


def test_missing_names_are_reported_in_the_users_sql(spark_con):
    spark_con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x")
    with pytest.raises(NotFoundError) as missing_table:
        spark_con.query("SELECT * FROM ds.nope")
    assert missing_table.value.message == "Unknown table ds.nope."
    assert (missing_table.value.location.line, missing_table.value.location.col) == (1, 15)
    with pytest.raises(NotFoundError) as missing_column:
        spark_con.query("SELECT y FROM ds.t")
    assert missing_column.value.message == "Unknown column y."


def test_parameters_are_bound_as_literals(spark_con):
    assert spark_con.query("SELECT @a + @b AS s, @t AS t", {"a": 1, "b": 2, "t": "x'; DROP TABLE t; --"}).fetchall() == [
        (3, "x'; DROP TABLE t; --")
    ]


def test_registered_data_and_temp_tables(spark_con):
    spark_con.register("incoming", pa.table({"k": [1, 2], "v": ["a", "b"]}))
    spark_con.query("CREATE TEMP TABLE scratch AS SELECT k * 10 AS k, v FROM incoming")
    assert spark_con.query("SELECT k, v FROM scratch ORDER BY k").fetchall() == [(10, "a"), (20, "b")]


def test_a_partitioned_table_is_laid_out_by_its_partition_column(spark_con, spark):
    spark_con.query(
        "CREATE SCHEMA ds; CREATE TABLE ds.events PARTITION BY day CLUSTER BY user_id AS "
        "SELECT DATE_ADD(DATE '2024-01-01', INTERVAL MOD(x, 4) DAY) AS day, MOD(x * 7, 5) AS user_id, x AS n "
        "FROM UNNEST(GENERATE_ARRAY(1, 40)) AS x"
    )
    # the same columns in the same order as on DuckDB, and BigQuery's INFORMATION_SCHEMA flags
    # https://cloud.google.com/bigquery/docs/information-schema-columns
    assert spark_con.query(
        "SELECT column_name, is_partitioning_column, clustering_ordinal_position FROM ds.INFORMATION_SCHEMA.COLUMNS "
        "WHERE table_name = 'events' ORDER BY ordinal_position"
    ).fetchall() == [("day", "YES", None), ("user_id", "NO", 1), ("n", "NO", None)]
    assert spark_con.query("SELECT day, COUNT(*) FROM ds.events GROUP BY day ORDER BY day").fetchall() == [
        (dt.date(2024, 1, d), 10) for d in (1, 2, 3, 4)
    ]
    # each Parquet file holds its own range of days (none overlap), its rows sorted by day, then user_id
    files = spark.table("ds.events").selectExpr("input_file_name() AS f", "day", "user_id").toPandas()
    ranges = sorted((rows.day.min(), rows.day.max()) for _, rows in files.groupby("f"))
    assert len(ranges) >= 2 and all(previous[1] < following[0] for previous, following in zip(ranges, ranges[1:]))
    for _, rows in files.groupby("f", sort=False):
        assert list(zip(rows.day, rows.user_id)) == sorted(zip(rows.day, rows.user_id))


def test_row_level_writes_are_refused_with_what_to_do_instead(spark_con):
    spark_con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x")
    with pytest.raises(ExecutionError) as refused:
        spark_con.query("UPDATE ds.t SET x = 2 WHERE TRUE")
    assert refused.value.message == (
        "UPDATE is not available on the Spark engine: its tables are Parquet files, which have no row-level writes. "
        "Write the table anew with CREATE OR REPLACE TABLE … AS SELECT (the rows to keep, changed)."
    )
    assert spark_con.query("SELECT x FROM ds.t").fetchall() == [(1,)]


def test_files_load_through_sparks_own_readers(spark_con, tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x,label\n1,a\n2,NA\n")
    assert spark_con.load("ds.points", path, nullstr="NA") == 2
    assert spark_con.query("SELECT x, label FROM ds.points ORDER BY x").fetchall() == [(1, "a"), (2, None)]
    with pytest.raises(sqlml.Error, match="The file reader option"):
        spark_con.load("ds.other", path, all_varchar=True)


def test_sql_functions_are_sparks_sql_functions(spark_con, spark):
    spark_con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT x FROM UNNEST([1, 2, 3]) AS x")
    script = "CREATE TEMP FUNCTION add_tax(x INT64, rate FLOAT64) AS (x * (1 + rate)); SELECT x, add_tax(x, 0.5) AS y FROM ds.t ORDER BY x"
    assert spark_con.query(script).fetchall() == [(1, 1.5), (2, 3.0), (3, 4.5)]
    assert [f.name for f in spark.catalog.listFunctions() if f.name == "add_tax" and f.isTemporary] == ["add_tax"]
    spark_con.query("CREATE FUNCTION ds.label(x INT64) AS (CONCAT('n', CAST(x AS STRING)))")
    assert spark.catalog.functionExists("ds.label")
    assert spark_con.query("SELECT ds.label(x) AS l FROM ds.t ORDER BY x").fetchall() == [("n1",), ("n2",), ("n3",)]
    spark.sql("DROP TEMPORARY FUNCTION add_tax")


def test_a_function_spark_has_no_form_for_is_refused_naming_the_change(spark_con):
    with pytest.raises(sqlml.Error) as refused:
        spark_con.query("CREATE TEMP FUNCTION twice(x ANY TYPE) AS (x * 2)")
    assert refused.value.message == (
        "CREATE FUNCTION twice: Spark's SQL functions need a type for every parameter, and x is ANY TYPE. "
        "Declare the type (x INT64, …) to run it on the Spark engine."
    )
