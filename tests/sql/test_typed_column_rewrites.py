"""BigQuery behaviours that depend on a column's type (sqlml.sql.typed_columns): the column's type
comes from the warehouse catalog, through CTEs and subqueries.

- INTERVAL's canonical text ``[-]Y-M [-]D [-]H:M:S[.F]``:
  https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#interval_type
- FORMAT's ``%T``, a value as a literal (``[1, 2]``, ``(1, "x")``, ``INTERVAL "…" YEAR TO SECOND``):
  https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#format_string
- The STRUCT subscript operator ``s[i]`` / ``s[OFFSET(i)]`` / ``s[ORDINAL(i)]``:
  https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#struct_subscript_operator
"""

from __future__ import annotations

import pytest

import sqlml
from sqlml.execution import sources
from sqlml.sql import date_arithmetic


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as con:
        con.query(
            "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS k, INTERVAL '1 2:3:4.5' DAY TO SECOND AS i, STRUCT(1 AS a, 'x\"y' AS b) AS s, "
            "[1, 2] AS l, [STRUCT(1 AS c)] AS ls UNION ALL SELECT 2, INTERVAL -14 MONTH, NULL, NULL, []"
        )
        yield con


def _rows(con, sql: str) -> list[tuple]:
    return con.query(sql).fetchall()


def test_an_interval_column_cast_to_string_is_canonical(con):
    rows = _rows(con, "SELECT CAST(i AS STRING), CAST(t.i AS STRING), SAFE_CAST(i AS STRING) FROM ds.t AS t ORDER BY k")
    assert rows == [("0-0 1 2:3:4.5", "0-0 1 2:3:4.5", "0-0 1 2:3:4.5"), ("-1-2 0 0:0:0", "-1-2 0 0:0:0", "-1-2 0 0:0:0")]


def test_an_interval_column_through_a_cte_and_a_subquery(con):
    rows = _rows(con, "WITH c AS (SELECT k, i AS j FROM ds.t) SELECT CAST(j AS STRING) FROM (SELECT * FROM c WHERE k = 1)")
    assert rows == [("0-0 1 2:3:4.5",)]


def test_format_t_of_interval_array_and_struct_columns(con):
    rows = _rows(con, "SELECT FORMAT('%T | %T | %T | %T', i, l, s, ls) FROM ds.t ORDER BY k")
    assert rows == [
        ('INTERVAL "0-0 1 2:3:4.5" YEAR TO SECOND | [1, 2] | (1, "x\\"y") | [{\'c\': 1}]',),
        ('INTERVAL "-1-2 0 0:0:0" YEAR TO SECOND | NULL | NULL | []',),
    ]


def test_positional_subscripts_of_a_struct_column(con):
    rows = _rows(con, "SELECT s[0], s[OFFSET(1)], t.s[ORDINAL(1)], (SELECT u[1] FROM (SELECT s AS u)) FROM ds.t AS t ORDER BY k")
    assert rows == [(1, 'x"y', 1, 'x"y'), (None, None, None, None)]


@pytest.mark.parametrize(
    ("subscript", "message", "hint"),
    [
        ("[2]", "Field ordinal 2 is out of bounds in STRUCT", "The STRUCT has 2 fields: use OFFSET(0) to OFFSET(1), or ORDINAL(1) to ORDINAL(2)."),
        ("[SAFE_OFFSET(0)]", "The STRUCT subscript operator does not support SAFE_OFFSET.",
         "Use OFFSET(i): a STRUCT's fields are known when the query is compiled, so an index out of range is an error, not NULL."),
        ("[k]", "The index of a STRUCT subscript must be an integer literal; got k.",
         "Write the field's position as a number (s[0], s[OFFSET(0)], s[ORDINAL(1)]) or name the field."),
    ],
)  # fmt: skip
def test_a_struct_column_subscript_out_of_range_or_not_literal_is_bigquerys_error(con, subscript, message, hint):
    with pytest.raises(sqlml.Error) as caught:
        con.query(f"SELECT s{subscript} FROM ds.t").fetchall()
    assert (caught.value.message, caught.value.hint) == (message, hint)


def test_array_subscripts_and_other_casts_are_unchanged(con):
    rows = _rows(con, "SELECT l[OFFSET(1)], CAST(k AS STRING), FORMAT('%T', k), CAST(s.a AS STRING) FROM ds.t WHERE k = 1")
    assert rows == [(2, "1", "1", "1")]


def test_only_a_statement_with_such_a_construct_looks_its_tables_up(monkeypatch, con):
    looked_up, remembered = [], sources._remembered_columns
    monkeypatch.setattr(sources, "_remembered_columns", lambda *args: looked_up.append(args[2:]) or remembered(*args))
    assert _rows(con, "SELECT k * 2, s.a, CAST(k AS FLOAT64), DATE '2020-01-01' FROM ds.t WHERE k = 1")[0][:3] == (2, 1, 1.0)
    assert _rows(con, "SELECT l[OFFSET(0)] FROM ds.t WHERE k = 1") == [(1,)]  # a subscript: its table is looked up
    assert looked_up == [("ds", "t")]


def test_an_unqualified_table_is_bound_only_for_a_column_such_a_construct_reads(monkeypatch):
    with sqlml.connect(":memory:") as con:
        con.query("CREATE TEMP TABLE u AS SELECT 1 AS k, INTERVAL 3 HOUR AS i")
        bound, binding = [], sources._bound_columns
        monkeypatch.setattr(sources, "_bound_columns", lambda *args: bound.append(args[1:]) or binding(*args))
        assert con.query("SELECT CAST(k AS FLOAT64) FROM u").fetchall() == [(1.0,)]
        assert bound == []
        assert con.query("SELECT CAST(i AS STRING) FROM u").fetchall() == [("0-0 0 3:0:0",)]
        assert bound == [(None, "u")]


def test_typed_once_for_date_arithmetic_and_columns_together():
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.u AS SELECT DATE '2020-09-22' AS d, INTERVAL 2 DAY AS i")
        date_arithmetic._TYPED.clear()
        assert con.query("SELECT d + 1, CAST(i AS STRING) FROM ds.u").fetchall()[0][1] == "0-0 2 0:0:0"
        assert len(date_arithmetic._TYPED) == 1
