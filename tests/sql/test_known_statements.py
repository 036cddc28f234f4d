"""Statements whose DuckDB text their own text decides: which they are, and the per-user disk cache."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest

from sqlml.sql import known_statements
import sqlglot

from sqlml.sql.dialect import Sqlml
from sqlml.sql.known_statements import Known, cache_folder, lookup, remember, text_alone_decides


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache in a temporary folder, nothing remembered in memory."""
    monkeypatch.setenv("SQLML_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SQLML_STATEMENT_CACHE", raising=False)
    known_statements.forget_all()
    yield cache_folder()
    known_statements.forget_all()


@pytest.mark.parametrize(
    "sql",
    ["SELECT 1", "SELECT 'a' AS s, 2.5 AS f", "SELECT CURRENT_DATE()", "SELECT x * 2 FROM UNNEST([1, 2]) AS x", "SELECT (SELECT 1) + 1"],
)
def test_queries_that_read_nothing_of_the_warehouse_are_decided_by_their_text(sql):
    assert text_alone_decides(sqlglot.parse_one(sql, dialect=Sqlml))


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM ds.t",  # a table: may be a view, a materialized view, partitioned …
        "WITH a AS (SELECT 1 AS x) SELECT x FROM a",  # a name that reads like a table
        "SELECT @p",  # a parameter
        "SELECT ?",
        "SELECT RAND()",  # seeded at each generation
        "SELECT my_udf(1)",  # may be a function of the warehouse
        "SELECT ds.my_udf(1)",
        "SELECT * FROM ML.PREDICT(MODEL ds.m, (SELECT 1 AS x))",
    ],
)
def test_queries_that_may_read_the_warehouse_or_the_session_are_not(sql):
    assert not text_alone_decides(sqlglot.parse_one(sql, dialect=Sqlml))


def test_a_remembered_statement_is_read_back_from_disk_by_its_text_and_dialect(cache):
    remember("SELECT 1", "bigquery", Known("SELECT CAST(1 AS BIGINT) AS f0_", "SELECT"))
    known_statements.forget_all()  # as a new process starts
    assert lookup("SELECT 1", "bigquery") == Known("SELECT CAST(1 AS BIGINT) AS f0_", "SELECT")
    assert lookup("SELECT 1", "duckdb") is None
    assert lookup("SELECT 1 ", "bigquery") is None  # the exact text


def test_the_cache_is_readable_and_writable_by_its_owner_only(cache):
    remember("SELECT 1", "bigquery", Known("SELECT 1", "SELECT"))
    [entry] = cache.iterdir()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert {stat.S_IMODE(folder.stat().st_mode) for folder in (cache, cache.parent)} == {0o700}
    assert json.loads(entry.read_text()) == {"sql": "SELECT 1", "dialect": "bigquery", "duckdb": "SELECT 1", "verb": "SELECT"}


def test_a_folder_others_may_write_is_neither_read_nor_written(cache):
    remember("SELECT 1", "bigquery", Known("SELECT 1", "SELECT"))
    os.chmod(cache, 0o777)
    known_statements.forget_all()
    assert lookup("SELECT 1", "bigquery") is None
    remember("SELECT 2", "bigquery", Known("SELECT 2", "SELECT"))
    assert len(list(cache.iterdir())) == 1


def test_an_entry_for_another_text_under_the_same_name_is_ignored(cache):
    remember("SELECT 1", "bigquery", Known("SELECT 1", "SELECT"))
    [entry] = cache.iterdir()
    entry.write_text(json.dumps({"sql": "SELECT 2", "dialect": "bigquery", "duckdb": "SELECT 2", "verb": "SELECT"}))
    known_statements.forget_all()
    assert lookup("SELECT 1", "bigquery") is None
    entry.write_text("{not json")
    assert lookup("SELECT 1", "bigquery") is None


def test_the_cache_is_bounded(cache, monkeypatch):
    monkeypatch.setattr(known_statements, "MAX_ENTRIES", 3)
    for n in range(4):
        remember(f"SELECT {n}", "bigquery", Known(f"SELECT {n}", "SELECT"))
    assert [json.loads(p.read_text())["sql"] for p in cache.iterdir()] == ["SELECT 3"]


def test_the_folders_of_other_versions_are_removed_when_this_one_is_made(cache):
    other = cache.parent / ("0" * len(cache.name))
    cache.parent.mkdir(mode=0o700, parents=True)
    other.mkdir(mode=0o700)
    (other / "old.json").write_text("{}")
    remember("SELECT 1", "bigquery", Known("SELECT 1", "SELECT"))
    assert sorted(p.name for p in cache.parent.iterdir()) == [cache.name]


def test_the_key_changes_with_sqlmls_sources_and_sqlglots_version():
    # the folder is named by a digest of every source file's size and time, and sqlglot's version file
    assert cache_folder().name == known_statements.fingerprint()
    assert len(known_statements.fingerprint()) == 32


def test_turned_off_nothing_is_written_and_memory_still_serves(cache, monkeypatch):
    monkeypatch.setenv("SQLML_STATEMENT_CACHE", "off")
    assert cache_folder() is None
    remember("SELECT 1", "bigquery", Known("SELECT 1", "SELECT"))
    assert lookup("SELECT 1", "bigquery") == Known("SELECT 1", "SELECT")
    assert not (cache.parent.parent).exists()


def test_a_text_is_looked_for_on_disk_once_per_process(cache):
    assert lookup("SELECT 1", "bigquery") is None  # a miss is remembered too: a table-reading statement never is there
    remember("SELECT 2", "bigquery", Known("SELECT 2", "SELECT"))  # makes the folder; another process then writes …
    name = hashlib.sha256(b"bigquery\0SELECT 1").hexdigest() + ".json"
    (cache / name).write_text(json.dumps({"sql": "SELECT 1", "dialect": "bigquery", "duckdb": "SELECT 1", "verb": "SELECT"}))
    (cache / name).chmod(0o600)  # as sqlml writes its entries
    assert lookup("SELECT 1", "bigquery") is None  # … this process does not look again
    known_statements.forget_all()
    assert lookup("SELECT 1", "bigquery") == Known("SELECT 1", "SELECT")  # a new process finds it


def test_long_texts_are_neither_kept_nor_looked_for(cache):
    sql = "SELECT " + "1 + " * known_statements.MAX_LENGTH + "1"
    remember(sql, "bigquery", Known("SELECT 1", "SELECT"))
    assert lookup(sql, "bigquery") is None and not cache.exists()
