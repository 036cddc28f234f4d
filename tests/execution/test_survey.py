"""The rewrites applied before a statement is planned share one walk of its tree (issue 19, cheap
starts): the survey lists what ``find_all`` would, and a rewrite that changes the tree's shape
makes the next one look again."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlglot
from sqlglot import exp

import sqlml
from sqlml.execution import executor as executor_module
from sqlml.execution import sources as sources_module
from sqlml.execution.survey import Survey
from sqlml.sql.transpile import parameters, parameters_among

SQL = """
WITH c AS (SELECT a FROM ds.t WHERE a = @low)
SELECT ML.MIN_MAX_SCALER(a) OVER () AS s, (SELECT COUNT(*) FROM ds.u JOIN c USING (a)) AS n, ?
FROM c, ds.events_* AS e WHERE e.x IN (SELECT x FROM other.v)
"""


def test_a_survey_lists_what_find_all_finds_in_the_same_order():
    tree = sqlglot.parse_one(SQL, read="bigquery")
    survey = Survey(tree)
    assert survey.tables == list(tree.find_all(exp.Table)) and len(survey.tables) == 6
    assert survey.ctes == list(tree.find_all(exp.CTE)) and len(survey.ctes) == 1
    assert survey.dots == list(tree.find_all(exp.Dot)) and len(survey.dots) == 1
    assert parameters_among(survey.parameters) == parameters(tree) == (["low"], 1)
    assert survey.kinds == {type(node) for node in tree.walk()}
    assert not survey.stale


@pytest.fixture()
def surveys(monkeypatch):
    """The trees the executor and the renderer surveyed while the test ran."""
    made = []

    class Counting(Survey):
        __slots__ = ()

        def __init__(self, tree):
            made.append(tree.sql(dialect="bigquery"))
            super().__init__(tree)

    monkeypatch.setattr(executor_module, "Survey", Counting)
    monkeypatch.setattr(sources_module, "Survey", Counting)
    return made


def test_a_statement_is_walked_once_for_all_the_rewrites(surveys):
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x")
        surveys.clear()
        assert con.query("SELECT x FROM ds.t WHERE x = @one", params={"one": 1}).fetchall() == [(1,)]
    assert surveys == ["SELECT x FROM ds.t WHERE x = @one"]


def test_a_rewrite_that_changes_the_tree_makes_the_next_one_survey_it_again(surveys):
    """INFORMATION_SCHEMA.TABLES becomes a subquery of the catalog, and ML.STANDARD_SCALER an
    expression over window aggregates: later rewrites and the parameters see the new tree."""
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1.0 AS x UNION ALL SELECT 3.0")
        surveys.clear()
        got = con.query("SELECT table_name FROM ds.INFORMATION_SCHEMA.TABLES WHERE table_name = @name", params={"name": "t"}).fetchall()
        assert got == [("t",)] and len(surveys) == 2 and "INFORMATION_SCHEMA" not in surveys[1]
        surveys.clear()
        got = con.query("SELECT ML.STANDARD_SCALER(x) OVER () AS s FROM ds.t WHERE x > @low ORDER BY s", params={"low": 0}).fetchall()
        assert [round(s, 6) for (s,) in got] == [-0.707107, 0.707107]
        assert len(surveys) == 2 and "STANDARD_SCALER" not in surveys[1]


def test_the_renderer_and_date_typing_read_the_executor_s_survey_of_the_statement(surveys, monkeypatch):
    """A plain statement is walked once before it becomes DuckDB SQL: the renderer (which steps
    have work) and the DATE ± INT64 typing (which tables it reads) use the executor's survey."""
    typed_with = []
    typing = sources_module.with_table_columns
    monkeypatch.setattr(sources_module, "with_table_columns", lambda tree, columns, survey, **options: typed_with.append(survey) or typing(tree, columns, survey, **options))
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.d AS SELECT DATE '2020-09-22' AS d, 3 AS n")
        surveys.clear()
        typed_with.clear()  # the CREATE's CAST (DATE '…') was looked at for column-typed rewrites
        assert con.query("SELECT d + n AS e, n - 1 AS m FROM ds.d").fetchall() == [(dt.date(2020, 9, 25), 2)]
    assert surveys == ["SELECT d + n AS e, n - 1 AS m FROM ds.d"]
    assert len(typed_with) == 1 and typed_with[0].tree.sql(dialect="bigquery") == surveys[0]
