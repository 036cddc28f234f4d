"""A first run decided by DuckDB's parser (:mod:`sqlml.engine.duckdb.bigquery_alike`) writes the transpiler's
text exactly, gives the full path's names, types, values and errors, and refuses everything else."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb
import pytest

import sqlml
from sqlml.errors import Error
from sqlml.sql import known_statements
from sqlml.engine.duckdb.bigquery_alike import translate

ACCEPTED = [
    "SELECT 1",
    "select 1 x",
    "SELECT 1 AS X;",
    "SELECT 'a', 'é' AS e, ''",
    "SELECT 1.5, 0.1, 1.50, -2.25 AS n",
    "SELECT -1, 2 - -1, 1 * -2, -9223372036854775807",
    "SELECT 9223372036854775807, 2147483648",
    "SELECT 1 + 2 AS s, 3*4, 3 - 2 - 1, 1 + 2 * 3 - 4",
    "SELECT 1.5 + 1, 2 * 0.5 AS h",
    "SELECT 1 < 2, 1 <> 2, 1 != 2, 1 <= 2, 1>=2, 1 > 2, 1 = 1.0",
    "SELECT 'a' = 'b', 'a' < 'b', TRUE = FALSE",
    "SELECT NULL, NULL AS n, NULL = 1, NULL + 1, NOT NULL, NULL AND TRUE",
    "SELECT TRUE, FALSE AS f, NOT TRUE OR FALSE, TRUE AND FALSE AND TRUE",
    "SELECT 1.5 * 2 < 3 OR NOT 'a' = 'b' AND 1 + 1 = 2",
    "SELECT NOT NOT TRUE, NOT 1 = 2",
    "SELECT 1 AS x, 2 AS x, 3 AS f0_, 4",
    "SELECT\n  1 AS _x,\n  2 AS x1\n",
    " SELECT\t1\tAS\tx ;",
    "SELECT 1, 2,",
    "SELECT 007, 01.5",
    "SELECT 9223372036854775807 + 1",  # INT64 overflow: the full path's error (tested below)
]

REFUSED = [
    "SELECT",  # DuckDB's parse error
    'SELECT "x"',  # a string in BigQuery, a column in DuckDB
    'SELECT 1 AS "x"',
    "SELECT `x`",
    "SELECT 'it''s'",  # not BigQuery's escape
    "SELECT 'a\\nb'",  # BigQuery's escape, not DuckDB's
    "SELECT '''a'''",
    "SELECT r'a'",
    "SELECT b'a'",
    "SELECT E'a'",
    "SELECT 'a\nb'",
    "SELECT 1e3",
    "SELECT 0x1F",  # DuckDB: 0 AS x1F
    "SELECT 1x",
    "SELECT 1AS x",
    "SELECT 'a'x",
    "SELECT 1_000",
    "SELECT 'a' 'b'",
    "SELECT .5",
    "SELECT 5.",
    "SELECT - 1",
    "SELECT 9223372036854775808",
    "SELECT -9223372036854775808",
    "SELECT 1 / 2",  # BigQuery's division is not DuckDB's
    "SELECT (1 + 2) * 3",
    "SELECT 1 == 2",
    "SELECT 1::INT64",
    "SELECT x: 1",
    "SELECT 1 = 2 = 3",
    "SELECT 1 = TRUE",  # ill typed in BigQuery
    "SELECT 'a' + 1",
    "SELECT NOT 1",
    "SELECT 1 AND TRUE",
    "SELECT TRUE + 1",
    "SELECT 1 <=> 2",
    "SELECT 1 IS NULL",
    "SELECT 1 # a comment",
    "SELECT 1 -- a comment",
    "SELECT 1 /* a comment */",
    "SELECT 1; SELECT 2",
    "SELECT 1;;",
    "SELECT DISTINCT 1",
    "SELECT ALL 1",
    "SELECT 1 AS select",
    "SELECT 1 FROM ds.t",
    "FROM ds.t",
    "SELECT x FROM UNNEST([1]) AS x",
    "SELECT 1 WHERE TRUE",
    "SELECT 1 LIMIT 1",
    "SELECT 1 UNION ALL SELECT 2",
    "WITH a AS (SELECT 1) SELECT 1",
    "SELECT abs(1)",
    "SELECT CURRENT_DATE()",
    "SELECT @p",
    "SELECT ?",
    "SELECT $1",
    "SELECT [1]",
    "SELECT 1 AS x, * ",
    "VALUES (1)",
    "CREATE SCHEMA ds",
    "SELECT " + " + ".join(["1"] * 500),  # deeper than a first run's fast path goes (and than Python's recursion limit)
]


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """Nothing remembered: in memory only, and forgotten before and after."""
    monkeypatch.setenv("SQLML_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SQLML_STATEMENT_CACHE", "off")
    known_statements.forget_all()
    yield
    known_statements.forget_all()


@pytest.fixture(scope="module")
def raw():
    with duckdb.connect() as connection:
        yield connection


def outcome(result_or_error):
    """Column names, DuckDB types and rows of a result, or the kind and text of an error."""
    if isinstance(result_or_error, Exception):
        return type(result_or_error).__name__, str(result_or_error)
    return [(c.name, c.type) for c in result_or_error.schema], result_or_error.fetchall()


def run(call):
    try:
        result = call()
        return outcome(result) if isinstance(result, sqlml.Result) else result
    except Error as error:
        return outcome(error)


def test_accepted_statements_are_written_as_the_transpiler_writes_them_and_run_the_same(fresh, raw):
    with sqlml.connect(":memory:") as full, sqlml.connect(":memory:") as cheap:
        for sql in ACCEPTED:
            alike = translate(sql, raw)
            assert alike is not None, sql
            expected = run(lambda: full._executor.execute(sql, None, None))  # the full path, never the cheap one
            transpiled = known_statements.lookup(sql, "bigquery")
            known_statements.forget_all()
            if transpiled is not None:  # the full path ran it and remembered its text
                assert alike == transpiled, sql
            assert run(lambda: cheap.query(sql)) == expected, sql
            assert known_statements.lookup(sql, "bigquery") == (alike if transpiled is not None else None), sql
            known_statements.forget_all()


def test_an_int64_overflow_is_the_full_paths_error(fresh):
    with sqlml.connect(":memory:") as connection, pytest.raises(Error, match=r"^Overflow in addition of INT64 \(9223372036854775807 \+ 1\)!\n  at statement 1, line 1, column 1"):
        connection.query("SELECT 9223372036854775807 + 1").fetchall()


@pytest.mark.parametrize("sql", REFUSED, ids=lambda sql: sql[:40])
def test_anything_else_is_left_to_the_full_path(sql, raw):
    assert translate(sql, raw) is None


def test_aliases_that_are_keywords_are_refused_or_written_as_the_transpiler_writes_them(fresh, raw):
    """BigQuery's reserved keywords, and the words sqlglot's DuckDB generator quotes."""
    from sqlglot.dialects.duckdb import DuckDB

    # https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical#reserved_keywords
    reserved = """ALL AND ANY ARRAY AS ASC ASSERT_ROWS_MODIFIED AT BETWEEN BY CASE CAST COLLATE CONTAINS CREATE CROSS
        CUBE CURRENT DEFAULT DEFINE DESC DISTINCT ELSE END ENUM ESCAPE EXCEPT EXCLUDE EXISTS EXTRACT FALSE FETCH
        FOLLOWING FOR FROM FULL GROUP GROUPING GROUPS HASH HAVING IF IGNORE IN INNER INTERSECT INTERVAL INTO IS JOIN
        LATERAL LEFT LIKE LIMIT LOOKUP MERGE NATURAL NEW NO NOT NULL NULLS OF ON OR ORDER OUTER OVER PARTITION
        PRECEDING PROTO QUALIFY RANGE RECURSIVE RESPECT RIGHT ROLLUP ROWS SELECT SET SOME STRUCT TABLESAMPLE THEN TO
        TREAT TRUE UNBOUNDED UNION UNNEST USING WHEN WHERE WINDOW WITH WITHIN""".split()
    with sqlml.connect(":memory:") as full:
        for word in sorted({*reserved, *DuckDB.Generator.RESERVED_KEYWORDS, "date", "value", "type", "name"}):
            sql = f"SELECT 1 AS {word.lower()}"
            alike = translate(sql, raw)
            if alike is None:
                continue
            run(lambda: full._executor.execute(sql, None, None))
            assert known_statements.lookup(sql, "bigquery") == alike, sql
            known_statements.forget_all()


def test_a_first_sqlml_query_of_an_accepted_statement_imports_no_sqlglot_and_remembers_it(tmp_path):
    code = (
        "import json, sys\nfrom sqlml.cli.main import main\n"
        f"sys.argv = ['sqlml', 'query', 'SELECT 1 + 2 AS s, 1 < 2', '--warehouse', ':memory:', '--models', {str(tmp_path / 'm')!r}, '--format', 'csv']\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert exit.code in (0, None), exit.code\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    env = {**os.environ, "SQLML_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("SQLML_STATEMENT_CACHE", None)
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    *rows, modules = completed.stdout.splitlines()
    assert rows == ["s,f0_", "3,true"]
    assert {"sqlglot", "sqlml.sql.dialect", "sqlml.execution.executor", "sqlml.statement_table"} & set(json.loads(modules)) == set()
    entries = list((tmp_path / "cache").rglob("*.json"))
    assert [json.loads(entry.read_text())["duckdb"] for entry in entries] == ["SELECT CAST(1 AS BIGINT) + CAST(2 AS BIGINT) AS s, CAST(1 AS BIGINT) < CAST(2 AS BIGINT) AS f0_"]
