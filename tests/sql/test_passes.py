"""Tree rewrites run only where the tree has something for them, with the same result as running all."""

from __future__ import annotations

import itertools

import pytest
import sqlglot
from sqlglot import exp

from sqlml.sql import compat, query_fixes
from sqlml.sql.dialect import BigQueryOnDuckdb, Sqlml
from sqlml.sql.passes import Pass, Passes
from sqlml.sql.transpile import BIGQUERY_PASSES

from test_bigquery_compat import CASES  # tests/sql is on sys.path (pytest prepend import mode)


def parse(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read=Sqlml)


def recording(name: str, calls: list, result=None):
    def rewrite(tree):
        calls.append(name)
        return tree if result is None else result(tree)

    return rewrite


def test_passes_run_only_the_rewrites_whose_node_types_the_tree_has():
    calls: list[str] = []
    passes = Passes(
        Pass(recording("unnest", calls), (exp.Unnest,), adds=()),
        Pass(recording("literal", calls), (exp.Literal,), adds=()),
        Pass(recording("set operation", calls), (exp.SetOperation,), adds=()),  # a base class: UNION is one
    )
    passes.apply(parse("SELECT 1 AS x"))
    assert calls == ["literal"]
    calls.clear()
    passes.apply(parse("SELECT x FROM UNNEST([1]) AS x UNION ALL SELECT 2"))
    assert calls == ["unnest", "literal", "set operation"]


def test_passes_see_the_node_types_an_earlier_pass_added():
    calls: list[str] = []

    def add_unnest(tree):  # adds=None: it may add any node type, so the tree is walked again
        tree.set("from_", exp.From(this=exp.Unnest(expressions=[exp.Array(expressions=[])])))
        return tree

    def add_extract(tree):  # a declared addition needs no walk
        tree.set("where", exp.Where(this=exp.Extract(this=exp.var("YEAR"), expression=exp.column("d"))))
        return tree

    passes = Passes(
        Pass(recording("add unnest", calls, add_unnest), (exp.Select,)),
        Pass(recording("unnest", calls), (exp.Unnest,), adds=()),
        Pass(recording("add extract", calls, add_extract), (exp.Select,), adds=(exp.Extract,)),
        Pass(recording("extract", calls), (exp.Extract,), adds=()),
    )
    passes.apply(parse("SELECT 1 AS x"))
    assert calls == ["add unnest", "unnest", "add extract", "extract"]


def duckdb_sql(sql: str, run_every_pass: bool, monkeypatch) -> str:
    # the same generated names and seeds on both runs
    monkeypatch.setattr(compat, "_names", itertools.count(1))
    monkeypatch.setattr(query_fixes.secrets, "randbits", lambda bits: 42)
    monkeypatch.setattr(query_fixes.secrets, "token_hex", lambda n: "ab" * n)
    tree = parse(sql)
    if run_every_pass:
        for step in BIGQUERY_PASSES.passes:
            tree = step.rewrite(tree)
    else:
        tree = BIGQUERY_PASSES.apply(tree)
    return tree.sql(dialect=BigQueryOnDuckdb)


@pytest.mark.parametrize(
    "sql",
    [sql for sql, _ in CASES]
    + [
        "SELECT grp, ROW_NUMBER() OVER (ORDER BY RAND()) AS r FROM UNNEST([1, 2]) AS grp",
        "CREATE TEMP FUNCTION f(x ANY TYPE) AS (x + 1)",
        "MERGE ds.t USING ds.s ON FALSE WHEN NOT MATCHED THEN INSERT ROW",
        "SELECT ST_DISTANCE(ST_GEOGPOINT(1, 2), ST_GEOGPOINT(3, 4)), CAST(NULL AS GEOGRAPHY)",
        "SELECT ML.TFDV_VALIDATE(a, b) FROM ds.t",
        "SELECT * FROM ds.t, UNNEST(hits) AS hits WHERE hits.page = 'x'",
    ],
)
def test_bigquery_passes_give_what_running_every_pass_gives(sql, monkeypatch):
    # Each pass declares the node types it acts on and adds; a declaration that misses one
    # skips a fix that had something to do, and the SQL differs.
    assert duckdb_sql(sql, False, monkeypatch) == duckdb_sql(sql, True, monkeypatch)
