"""A statement run again whose DuckDB text is remembered (sqlml.sql.known_statements): the same
rows, types and errors as its first run, without parsing it; never where the session could change it."""

from __future__ import annotations

import datetime

import duckdb
import pytest

import sqlml
from sqlml import connection as connection_module
from sqlml.sql import known_statements


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """An empty disk cache; nothing remembered in memory."""
    monkeypatch.setenv("SQLML_CACHE_DIR", str(tmp_path / "cache"))
    known_statements.forget_all()
    yield
    known_statements.forget_all()


@pytest.fixture
def lookups(monkeypatch):
    """The texts the connection looked up, in order."""
    seen = []
    lookup = known_statements.lookup

    def spy(sql, dialect):
        seen.append(sql)
        return lookup(sql, dialect)

    monkeypatch.setattr(connection_module.known_statements, "lookup", spy)
    return seen


SQL = "SELECT 1 AS i, 2.5 AS f, 'a' AS s, TRUE AS b, NULL AS n, DATE '2024-01-02' AS d, [1, 2] AS a, STRUCT(1 AS x) AS st, SUM(x) AS total FROM UNNEST([1, 2]) AS x"


def test_a_remembered_statement_gives_the_rows_and_types_of_its_first_run(con):
    first = con.query(SQL)
    first_rows, first_table = first.fetchall(), first.arrow()
    assert known_statements.lookup(SQL, "bigquery") is not None
    again = con.query(SQL)  # from memory
    assert (again.statement, again.columns, again.fetchall(), again.arrow()) == ("SELECT", first.columns, first_rows, first_table)
    known_statements.forget_all()  # as a new process finds it: on disk
    from_disk = con.query(SQL)
    assert (from_disk.arrow(), from_disk.fetchall()) == (first_table, first_rows)
    assert first_rows == [(1, 2.5, "a", True, None, datetime.date(2024, 1, 2), [1, 2], {"x": 1}, 3)]
    assert str(first_table.schema.field("total").type) == "int64"  # BigQuery's INT64, not DuckDB's HUGEINT


def test_a_remembered_statement_runs_without_the_executor(tmp_path):
    with sqlml.connect(":memory:") as con:
        con.query("SELECT 41 + 1 AS answer").fetchall()
    with sqlml.connect(":memory:", tmp_path / "models") as con:
        assert con.query("SELECT 41 + 1 AS answer").fetchall() == [(42,)]
        assert con._made_executor is None and con._models is None
        assert not (tmp_path / "models" / "catalog.sqlite").exists()


def test_a_failure_while_reading_a_remembered_statement_is_the_first_runs_error(con):
    sql = "SELECT 1 AS ok,\n  CAST(s AS INT64) AS bad FROM UNNEST(['x']) AS s"  # fails when run, not when bound
    with pytest.raises(sqlml.Error) as first:
        con.query(sql).fetchall()
    assert known_statements.lookup(sql, "bigquery") is not None
    with pytest.raises(sqlml.Error) as again:
        con.query(sql).fetchall()
    assert type(again.value) is type(first.value)
    assert (str(again.value), again.value.location) == (str(first.value), first.value.location)
    assert str(again.value).startswith("Bad int64 value: x")


def test_it_is_not_used_with_parameters_variables_or_an_open_transaction(con, lookups):
    con.query("SELECT 1 AS x").fetchall()
    con.query("SELECT 1 AS x").fetchall()
    assert lookups == ["SELECT 1 AS x", "SELECT 1 AS x"]
    con.query("SELECT 1 AS x", {"unused": 1}).fetchall()
    con.query("BEGIN TRANSACTION")
    assert con.query("SELECT 1 AS x").fetchall() == [(1,)]
    con.query("COMMIT")
    con.query("DECLARE y INT64 DEFAULT 2")
    assert con.query("SELECT 1 AS x").fetchall() == [(1,)]
    assert lookups.count("SELECT 1 AS x") == 2


def test_statements_that_read_the_warehouse_are_not_remembered(con):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x")
    for sql in ("SELECT x FROM ds.t", "SELECT @p AS x", "SELECT 1 AS x; SELECT 2 AS y"):
        con.query(sql, {"p": 1} if "@p" in sql else None).fetchall()
        assert known_statements.lookup(sql, "bigquery") is None, sql


def test_the_dialect_is_part_of_the_key():
    for _ in range(2):
        with sqlml.connect(":memory:", dialect="duckdb") as con:
            assert con.query("SELECT 1").columns == ["1"]
        with sqlml.connect(":memory:") as con:
            assert con.query("SELECT 1").columns == ["f0_"]  # BigQuery's name for an unnamed column


PLAIN = ("SELECT CAST(b AS BOOLEAN) AS b, CAST(i AS TINYINT) AS t, CAST(i AS SMALLINT) AS s, CAST(i AS INTEGER) AS n, "
         "CAST(i AS BIGINT) AS l, CAST(i AS UTINYINT) AS ut, CAST(i AS UBIGINT) AS ul, CAST(f AS FLOAT) AS r, f AS d, v "
         "FROM (VALUES (true, 1, 1.1::DOUBLE, 'x'), (NULL, NULL, 'nan'::DOUBLE, NULL), (false, 127, -0.0::DOUBLE, 'é')) AS _(b, i, f, v)")  # fmt: skip


def test_rows_of_plain_types_read_without_arrow_equal_arrows_values():
    expected = duckdb.connect().sql(PLAIN).to_arrow_table()
    with sqlml.connect(":memory:", dialect="duckdb") as con:
        rows = con.query(PLAIN).fetchall()
        table = con.query(PLAIN).arrow()
        late = con.query(PLAIN)
        late.fetchall()
        late_table = late.arrow()  # built from the rows read without Arrow
    expected_rows = list(zip(*(c.to_pylist() for c in expected.columns)))
    assert repr(rows) == repr(expected_rows)  # repr: nan == nan, and -0.0 keeps its sign
    assert table.schema == expected.schema == late_table.schema
    assert repr(late_table.to_pylist()) == repr(table.to_pylist())
