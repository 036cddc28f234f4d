"""Warehouse objects beyond tables: SQL functions, table functions, views and INFORMATION_SCHEMA."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest

import sqlml


@pytest.fixture
def catalog(con):
    con.query(
        """
        CREATE SCHEMA ds;
        CREATE TABLE ds.orders AS SELECT 1 AS id, 'hat' AS item, 9.5 AS price, DATE '2026-01-03' AS day
          UNION ALL SELECT 2, 'scarf', 20.0, DATE '2026-02-10';
        CREATE VIEW ds.expensive AS SELECT id, item FROM ds.orders WHERE price > 10;
        CREATE FUNCTION ds.with_tax(amount FLOAT64) RETURNS FLOAT64 AS (amount * 1.2);
        CREATE TABLE FUNCTION ds.orders_after(since DATE) RETURNS TABLE<id INT64, item STRING>
          AS (SELECT id, item FROM ds.orders WHERE day > since);
        """
    )
    return con


def test_scalar_functions_typed_and_any_type(catalog):
    assert catalog.query("SELECT ds.with_tax(price) FROM ds.orders ORDER BY id").fetchall() == [(pytest.approx(11.4),), (pytest.approx(24.0),)]
    rows = catalog.query(
        "CREATE TEMP FUNCTION first_word(x ANY TYPE) AS (SPLIT(CAST(x AS STRING), ' ')[OFFSET(0)]); "
        "SELECT first_word('big hat'), first_word(42)"
    ).fetchall()
    assert rows == [("big", "42")]


def test_table_function_is_callable_from_any_query(catalog):
    rows = catalog.query("SELECT f.item, o.price FROM ds.orders_after(DATE '2026-02-01') AS f JOIN ds.orders o USING (id)").fetchall()
    assert rows == [("scarf", 20.0)]


def test_functions_persist_and_temp_functions_do_not(tmp_path):
    with sqlml.connect(tmp_path / "wh", tmp_path / "m", idle_release=0) as first:
        first.query("CREATE SCHEMA ds; CREATE FUNCTION ds.double_it(x INT64) AS (x * 2); CREATE TEMP FUNCTION gone(x INT64) AS (x)")
    with sqlml.connect(tmp_path / "wh", tmp_path / "m", idle_release=0) as second:
        assert second.query("SELECT ds.double_it(21)").scalar() == 42
        with pytest.raises(sqlml.Error, match="gone"):
            second.query("SELECT gone(1)")


def test_information_schema_tables_columns_views(catalog):
    tables = catalog.query("SELECT table_name, table_type FROM ds.INFORMATION_SCHEMA.TABLES ORDER BY table_name").fetchall()
    assert tables == [("expensive", "VIEW"), ("orders", "BASE TABLE")]
    columns = catalog.query(
        "SELECT column_name, data_type, ordinal_position, is_nullable FROM ds.INFORMATION_SCHEMA.COLUMNS "
        "WHERE table_name = 'orders' ORDER BY ordinal_position"
    ).fetchall()
    assert columns == [("id", "INT64", 1, "YES"), ("item", "STRING", 2, "YES"), ("price", "FLOAT64", 3, "YES"), ("day", "DATE", 4, "YES")]
    views = catalog.query("SELECT table_name, use_standard_sql FROM ds.INFORMATION_SCHEMA.VIEWS").fetchall()
    assert views == [("expensive", "YES")]
    other = catalog.query("CREATE SCHEMA other; CREATE TABLE other.x (a INT64); SELECT COUNT(*) FROM ds.INFORMATION_SCHEMA.TABLES").scalar()
    assert other == 2  # filtered to the dataset named in the reference
    everywhere = catalog.query("SELECT table_schema, table_name FROM `region-us`.INFORMATION_SCHEMA.TABLES t ORDER BY 1, 2").fetchall()
    assert everywhere == [("ds", "expensive"), ("ds", "orders"), ("other", "x")]


def test_information_schema_routines_lists_functions_and_procedures(catalog):
    catalog.query("CREATE PROCEDURE ds.refresh() BEGIN SELECT 1; END")
    routines = catalog.query("SELECT routine_name, routine_type FROM ds.INFORMATION_SCHEMA.ROUTINES ORDER BY routine_name").fetchall()
    assert routines == [("orders_after", "TABLE FUNCTION"), ("refresh", "PROCEDURE"), ("with_tax", "FUNCTION")]


def test_information_schema_models(catalog):
    catalog.query("CREATE MODEL ds.price_model OPTIONS(model_type='linear_reg', input_label_cols=['price']) AS SELECT id, price FROM ds.orders")
    catalog.query("CREATE OR REPLACE MODEL ds.price_model OPTIONS(model_type='linear_reg', input_label_cols=['price']) AS SELECT id, price FROM ds.orders")
    row = catalog.query("SELECT model_schema, model_name, version_count, default_version, creation_time FROM ds.INFORMATION_SCHEMA.MODELS").fetchall()
    assert [r[:4] for r in row] == [("ds", "price_model", 2, 2)]
    assert isinstance(row[0][4], datetime.datetime)


def test_unknown_information_schema_view_is_a_clear_error(catalog):
    with pytest.raises(sqlml.NotFoundError, match="INFORMATION_SCHEMA.JOBS is not available"):
        catalog.query("SELECT * FROM ds.INFORMATION_SCHEMA.JOBS")


def test_querying_a_view_whose_table_was_dropped_names_the_view(catalog):
    catalog.query("DROP TABLE ds.orders")
    with pytest.raises(sqlml.Error, match="orders"):
        catalog.query("SELECT * FROM ds.expensive")


def test_information_schema_names_decimals_as_bigquery_would_type_them(con):
    """A decimal NUMERIC(P, S) can hold (S ≤ 9, P − S ≤ 29) is NUMERIC, a wider one BIGNUMERIC
    (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#parameterized_decimal_type)."""
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.amounts (a NUMERIC, b NUMERIC(28, 6), c BIGNUMERIC(38, 20), d DECIMAL(38, 0))")
    rows = con.query("SELECT column_name, data_type FROM ds.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 'amounts' ORDER BY ordinal_position").fetchall()
    assert rows == [("a", "NUMERIC"), ("b", "NUMERIC"), ("c", "BIGNUMERIC"), ("d", "BIGNUMERIC")]


def test_a_sum_of_integers_stored_by_create_table_as_is_an_int64_column(con):
    """DuckDB's SUM of integers is a HUGEINT; BigQuery's is INT64, as INFORMATION_SCHEMA and the
    values read back say (a dbt model's ``sum(case when … then 1 else 0 end)``)."""
    con.query(
        "CREATE SCHEMA ds; CREATE TABLE ds.counts AS "
        "SELECT k, SUM(CASE WHEN v > 1 THEN 1 ELSE 0 END) AS n FROM UNNEST([STRUCT(1 AS k, 2 AS v), (1, 3), (2, 0)]) GROUP BY k"
    )
    rows = con.query("SELECT column_name, data_type FROM ds.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 'counts' ORDER BY ordinal_position").fetchall()
    assert rows == [("k", "INT64"), ("n", "INT64")]
    table = con.query("SELECT k, n FROM ds.counts ORDER BY k").arrow()
    assert table.schema.field("n").type == pa.int64() and table.column("n").to_pylist() == [2, 0]
