"""Which side runs a statement on the Spark engine, decided on sqlglot's parsed tree
(:func:`sqlml.engine.spark.translate.side`): DuckDB's bookkeeping file or Spark. Names count only
where they are relations (a column, alias or string that spells one does not), views compare
case-insensitively, and text sqlglot cannot read (the bookkeeping's own DuckDB SQL) goes to DuckDB.
"""

from __future__ import annotations

import pytest

from sqlml.engine.base import EngineError
from sqlml.engine.spark.layout import is_options_write
from sqlml.engine.spark.translate import META, SPARK, reads_meta_catalog, side, with_catalog_views

VIEWS = frozenset({"scores", "sqlml_information_schema_tables"})


@pytest.mark.parametrize(
    "sql",
    [
        "SET threads = 2",
        "RESET threads",
        "USE ds",
        "BEGIN TRANSACTION",
        "COMMIT",
        "ROLLBACK",
        "ABORT",
        "PRAGMA enable_progress_bar",
        "CHECKPOINT",
        "INSTALL spatial",
        "LOAD spatial",
        "ATTACH 'other.db' AS other",
        "DETACH other",
    ],
)
def test_session_statements_run_on_duckdb(sql):
    assert side(sql, frozenset()) == META


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE SCHEMA IF NOT EXISTS warehouse.sqlml_meta",
        "DROP SCHEMA sqlml_meta CASCADE",
        "SELECT COUNT(*) FROM sqlml_meta.node_runs",
        "ALTER TABLE SQLML_META.runs ADD COLUMN IF NOT EXISTS host TEXT",
        "UPDATE sqlml_meta.runs SET status = $s WHERE run_id = $id",
        "SELECT * FROM temp.main.sqlml_information_schema_tables",
        "SELECT * FROM temp.x",
        "SELECT t.* FROM ds.t JOIN warehouse.sqlml_meta.table_options AS o ON o.table_name = t.name",
    ],
)
def test_statements_naming_sqlml_meta_or_the_temp_catalog_run_on_duckdb(sql):
    assert side(sql, frozenset()) == META


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM duckdb_tables() AS t",
        "SELECT (SELECT COUNT(*) FROM DuckDB_Views())",
        "SELECT * FROM duckdb_columns() AS c JOIN duckdb_schemas() USING (schema_name)",
    ],
)
def test_catalog_function_calls_run_on_duckdb(sql):
    assert side(sql, frozenset()) == META


@pytest.mark.parametrize(
    ("sql", "where"),
    [
        ("SELECT * FROM scores", META),
        ("SELECT * FROM SCORES AS s WHERE s.x > 1", META),
        ("SELECT * FROM Sqlml_Information_Schema_Tables", META),
        # a Spark table of the same name in a dataset: the regex (\bscores\b) sent it to DuckDB
        ("SELECT * FROM ds.scores", SPARK),
        # a column, an alias and a longer name that contain or spell the view's name
        ("SELECT scores, scores_total FROM ds.t AS scores", SPARK),
        ("SELECT * FROM ds.high_scores", SPARK),
        # a CTE of the same name shadows the view
        ("WITH scores AS (SELECT 1 AS x) SELECT x FROM scores", SPARK),
    ],
)
def test_views_held_by_duckdb_are_matched_by_relation_name(sql, where):
    assert side(sql, VIEWS) == where


@pytest.mark.parametrize(
    "sql",
    [
        # the regex matched sqlml_meta and "temp." anywhere in the text
        "SELECT 'sqlml_meta' AS s",
        "SELECT x AS sqlml_meta FROM ds.t",
        "SELECT temp.x FROM ds.t AS temp",
        "SELECT * FROM ds.t WHERE note = 'see temp.main.x'",
        # a column that spells a catalog function's name, not a call
        "SELECT duckdb_tables FROM ds.t",
        "CREATE TABLE ds.t AS SELECT 1 AS x",
        "INSERT INTO ds.t SELECT * FROM ds.u",
    ],
)
def test_every_other_statement_runs_on_spark(sql):
    assert side(sql, VIEWS) == SPARK


def test_text_sqlglot_cannot_read_is_the_bookkeepings_and_runs_on_duckdb():
    # sqlml.warehouse.modification_log writes this; sqlglot's tokenizer reads "?::" as one token
    sql = "INSERT INTO warehouse.ds_log SELECT ?, ?, unnest(?::VARCHAR[]), ?"
    assert side(sql, frozenset()) == META
    assert with_catalog_views(sql) == sql


def test_unreadable_text_calling_a_catalog_function_is_refused():
    sql = "SELECT unnest(?::VARCHAR[]) FROM duckdb_tables()"
    with pytest.raises(EngineError, match=r"^The Spark engine cannot answer duckdb_tables\(\) in a statement sqlglot cannot read"):
        with_catalog_views(sql)


def test_catalog_calls_are_replaced_by_their_stand_ins_on_the_tree():
    sql = "SELECT t.table_name FROM duckdb_tables() AS t WHERE t.schema_name <> 'duckdb_tables()' UNION ALL SELECT view_name FROM DUCKDB_VIEWS()"
    assert with_catalog_views(sql) == (
        "SELECT t.table_name FROM __sqlml_spark_duckdb_tables AS t WHERE t.schema_name <> 'duckdb_tables()' "
        "UNION ALL SELECT view_name FROM __sqlml_spark_duckdb_views"
    )
    untouched = "SELECT 'duckdb_tables()' AS s FROM sqlml_meta.runs"
    assert with_catalog_views(untouched) == untouched


def test_the_catalog_stand_ins_are_refreshed_for_catalog_calls_and_duckdbs_temp_relations():
    assert reads_meta_catalog("SELECT * FROM duckdb_views()", frozenset())
    assert reads_meta_catalog("SELECT * FROM temp.main.sqlml_information_schema_tables", frozenset())
    assert reads_meta_catalog("SELECT * FROM Scores", VIEWS)
    assert not reads_meta_catalog("SELECT * FROM sqlml_meta.runs", VIEWS)
    assert not reads_meta_catalog("SELECT * FROM ds.scores", VIEWS)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("INSERT OR REPLACE INTO warehouse.sqlml_meta.table_options VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", True),
        ("insert or replace into sqlml_meta.TABLE_OPTIONS (table_schema, table_name) VALUES (?, ?)", True),
        ("INSERT INTO sqlml_meta.table_options VALUES (?, ?)", False),
        ("INSERT OR REPLACE INTO sqlml_meta.table_options_old VALUES (?, ?)", False),
        ("INSERT OR REPLACE INTO ds.table_options VALUES (?, ?)", False),
        ("DELETE FROM sqlml_meta.table_options WHERE table_name = ?", False),
    ],
)
def test_the_write_of_a_tables_partitioning_is_recognised_on_the_tree(sql, expected):
    assert is_options_write(sql) is expected


def test_a_spark_table_named_like_a_duckdb_view_is_read_from_spark(spark_con):
    engine = spark_con._warehouse
    with engine.lease() as cursor:  # a view held by DuckDB's side: it reads a catalog function
        engine.define_view(cursor, "Scores", "SELECT COUNT(*) AS datasets FROM duckdb_schemas() WHERE schema_name = 'ds'")
    spark_con.query("CREATE SCHEMA ds; CREATE TABLE ds.scores AS SELECT 'spark' AS source")
    assert spark_con.query("SELECT source FROM ds.scores").fetchall() == [("spark",)]
    with engine.lease() as cursor:  # the view, read by its bare name, sees Spark's new dataset
        assert cursor.execute("SELECT datasets FROM scores").fetchall() == [(1,)]
