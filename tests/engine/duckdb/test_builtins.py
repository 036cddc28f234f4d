"""The built-in functions (FARM_FINGERPRINT, GEOGRAPHY, ML.TFDV_VALIDATE) are installed on a
connection's DuckDB instance when a statement first needs them, never missing when one calls them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from farmhash import Fingerprint64

import sqlml
from sqlml.engine.base import EngineError
from sqlml.engine.duckdb.engine import DuckDBEngine
from sqlml.udfs import duckdb_installers

#: FARM_FINGERPRINT('alphabet') as FarmHash computes it, as a signed INT64.
ALPHABET = Fingerprint64("alphabet") - (1 << 64) if Fingerprint64("alphabet") >= 1 << 63 else Fingerprint64("alphabet")


@pytest.fixture
def engine(tmp_path):
    engine = DuckDBEngine(tmp_path / "wh", functions=duckdb_installers(), idle_release=0)
    yield engine
    engine.close()


def rows(engine: DuckDBEngine, sql: str) -> list[tuple]:
    with engine.lease() as cursor:
        return cursor.sql(sql).fetchall()


def test_a_plain_statement_installs_none_of_them(engine):
    assert rows(engine, "SELECT 1") == [(1,)]
    assert engine.instance.builtins.pending


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT FARM_FINGERPRINT('alphabet')", ALPHABET),
        ("SELECT ST_ASTEXT(ST_GEOGPOINT(181, 2))", "POINT(-179 2)"),
        ("SELECT ST_X(ST_GEOGFROMTEXT('POINT(3 4)'))", 3.0),
    ],
)
def test_a_fresh_connections_first_statement_may_call_one(tmp_path, sql, expected):
    with sqlml.connect(tmp_path / "wh") as connection:
        assert connection.query(sql).fetchall() == [(expected,)]


def test_tfdv_validate_as_a_fresh_connections_first_statement_runs_its_check(tmp_path):
    with sqlml.connect(tmp_path / "wh") as connection, pytest.raises(sqlml.Error, match=r"base_statistics must be a DatasetFeatureStatisticsList in JSON"):
        connection.query("SELECT ML.TFDV_VALIDATE('{}', '{}')").fetchall()


def test_a_view_stored_in_the_warehouse_may_call_one(tmp_path):
    """The statement's text names none of them: DuckDB's missing function installs them, and it runs again."""
    first = DuckDBEngine(tmp_path / "wh", functions=duckdb_installers(), idle_release=0)
    with first.lease() as cursor:
        cursor.execute("CREATE SCHEMA d")
        cursor.execute("CREATE VIEW d.v AS SELECT memory.main.farm_fingerprint('alphabet') AS f")
    first.close()
    again = DuckDBEngine(tmp_path / "wh", functions=duckdb_installers(), idle_release=0)
    try:
        assert rows(again, "SELECT f FROM d.v") == [(ALPHABET,)]
        assert not again.instance.builtins.pending
    finally:
        again.close()


def test_a_transaction_may_call_one_after_touching_the_memory_catalog(engine):
    """A macro created while a transaction runs would be invisible to it: BEGIN installs them."""
    engine.instance.db.execute("CREATE TABLE memory.z AS SELECT 1 AS one")
    engine.acquire()
    try:
        engine.begin()
        assert not engine.instance.builtins.pending
        cursor = engine.cursor()
        cursor.execute("CREATE TABLE t AS SELECT 'alphabet' AS s")
        assert cursor.sql("SELECT one FROM memory.z").fetchall() == [(1,)]
        assert cursor.sql("SELECT memory.main.farm_fingerprint(s) FROM t").fetchall() == [(ALPHABET,)]
        engine.end(commit=True)
    finally:
        engine.release()


def test_a_function_that_does_not_exist_is_still_duckdbs_error(engine):
    with pytest.raises(EngineError, match=r"Scalar Function with name no_such_function does not exist"):
        rows(engine, "SELECT no_such_function(1)")


@pytest.mark.parametrize("sql", ["SELECT FARM_FINGERPRINT('alphabet') AS f", "SELECT 1 AS f"])
def test_a_remembered_statement_runs_in_a_new_process(tmp_path, sql):
    code = (
        "import sys, sqlml\n"
        f"connection = sqlml.connect({str(tmp_path / 'wh')!r})\n"
        f"print(connection.query({sql!r}).fetchall()[0][0])\n"
        "print(' '.join(m for m in ('sqlglot', 'numpy', 'pyarrow') if m in sys.modules))\n"
    )
    env = {**os.environ, "SQLML_CACHE_DIR": str(tmp_path / "cache")}
    outputs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout.split("\n") for _ in range(2)]
    expected = str(ALPHABET) if "FARM" in sql else "1"
    assert [output[0] for output in outputs] == [expected, expected]
    # the second process takes the DuckDB text from the cache; a fingerprint needs NumPy and Arrow, SELECT 1 neither
    assert outputs[1][1] == ("numpy pyarrow" if "FARM" in sql else "")
