"""``SET @@dataset_id`` makes unqualified table and model names mean that dataset's, for the rest
of the session (https://cloud.google.com/bigquery/docs/reference/system-variables)."""

from __future__ import annotations

import pytest

import sqlml


@pytest.fixture
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE SCHEMA shop; CREATE SCHEMA other; CREATE TABLE shop.orders AS SELECT x AS id, x * 10.0 AS amount FROM UNNEST(GENERATE_ARRAY(1, 8)) AS x")
        yield connection


def test_unqualified_names_resolve_in_the_default_dataset(con):
    con.query("SET @@dataset_id = 'shop'")
    assert con.query("SELECT COUNT(*), SUM(amount) FROM orders").fetchall() == [(8, 360.0)]
    assert con.query("SELECT @@dataset_id").fetchall() == [("shop",)]
    # writes and DDL land there too, and the setting lasts for later query() calls
    con.query("CREATE TABLE big AS SELECT * FROM orders WHERE amount > 50; INSERT INTO big VALUES (99, 1.0)")
    assert con.query("SELECT COUNT(*) FROM shop.big").fetchall() == [(4,)]
    con.query("DROP TABLE big")
    assert con.query("SELECT COUNT(*) FROM shop.INFORMATION_SCHEMA.TABLES WHERE table_name = 'big'").fetchall() == [(0,)]


def test_models_resolve_in_the_default_dataset(con):
    con.query("""
        SET @@dataset_project_id = 'my-project';
        SET @@dataset_id = 'shop';
        CREATE MODEL spend OPTIONS(model_type='linear_reg', input_label_cols=['amount']) AS SELECT id, amount FROM orders;
    """)
    assert con.query("SELECT COUNT(*) FROM ML.PREDICT(MODEL spend, TABLE orders)").fetchall() == [(8,)]
    assert con.query("SELECT COUNT(*) FROM ML.PREDICT(MODEL shop.spend, TABLE shop.orders)").fetchall() == [(8,)]


def test_ctes_temp_tables_and_qualified_names_keep_their_meaning(con):
    con.query("SET @@dataset_id = 'other'; CREATE TABLE orders AS SELECT 1 AS id")
    assert con.query("SELECT COUNT(*) FROM orders").fetchall() == [(1,)]  # other.orders
    assert con.query("SELECT COUNT(*) FROM shop.orders").fetchall() == [(8,)]
    assert con.query("WITH orders AS (SELECT 5 AS id UNION ALL SELECT 6) SELECT COUNT(*) FROM orders").fetchall() == [(2,)]
    con.query("CREATE TEMP TABLE scratch AS SELECT 42 AS v")
    assert con.query("SELECT v FROM scratch").fetchall() == [(42,)]


def test_wildcards_and_procedures_use_the_default_dataset(con):
    con.query("CREATE TABLE shop.log_1 AS SELECT 1 AS n; CREATE TABLE shop.log_2 AS SELECT 2 AS n")
    con.query("SET @@dataset_id = 'shop'; CREATE PROCEDURE total(OUT s INT64) BEGIN SET s = (SELECT SUM(n) FROM log_*); END")
    assert con.query("DECLARE s INT64; CALL total(s); SELECT s").fetchall() == [(3,)]
    assert con.query("DECLARE t INT64; CALL shop.total(t); SELECT t").fetchall() == [(3,)]


def test_null_turns_it_off(con):
    con.query("SET @@dataset_id = 'shop'; SET @@dataset_id = NULL")
    with pytest.raises(sqlml.NotFoundError, match=r"Unknown table orders\."):
        con.query("SELECT * FROM orders").fetchall()


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SET @@project_id = 'p'", r"The system variable @@project_id is read-only\."),
        ("SET @@row_count = 1", r"The system variable @@row_count is read-only\."),
        ("SET @@dataset_id = 5", r"@@dataset_id is a STRING; got 5\."),
        ("SET @@no_such_thing = 'x'", r"Unrecognized system variable @@no_such_thing\."),
    ],
)
def test_bad_assignments_are_errors(con, sql, message):
    with pytest.raises(sqlml.ScriptError, match=message):
        con.query(sql)
