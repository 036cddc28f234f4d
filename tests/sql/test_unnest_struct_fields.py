"""The fields of an aliased UNNEST of STRUCTs are columns of its rows, named with or without the
alias (sqlml.sql.unnest_columns), as the GA360 notebooks' ``hitNumber`` over ``UNNEST(hits) AS h``.
https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#unnest_operator
"""

from __future__ import annotations

import pytest

import sqlml

INLINE = "(SELECT 1 AS id, [STRUCT(1 AS x, 2 AS y)] AS arr) t"


@pytest.fixture
def wh(con):
    con.query("CREATE SCHEMA ds").fetchall()
    con.query("CREATE TABLE ds.tbl AS SELECT 1 AS id, [STRUCT(1 AS x, 2 AS y), STRUCT(3 AS x, 4 AS y)] AS arr").fetchall()
    return con


def test_field_of_an_inline_array_unqualified(con):
    result = con.query(f"SELECT id, x FROM {INLINE}, UNNEST(arr) AS a")
    assert [column.name for column in result.schema] == ["id", "x"]
    assert result.fetchall() == [(1, 1)]


def test_field_of_a_table_column_unqualified_and_qualified(wh):
    rows = wh.query("SELECT id, x, a.y FROM ds.tbl, UNNEST(tbl.arr) AS a ORDER BY x").fetchall()
    assert rows == [(1, 1, 2), (1, 3, 4)]


def test_field_in_where_of_a_cross_join(wh):
    assert wh.query("SELECT x FROM ds.tbl CROSS JOIN UNNEST(arr) AS a WHERE y > 2").fetchall() == [(3,)]


def test_field_in_join_condition_group_by_and_order_by(wh):
    sql = "SELECT x, COUNT(*) AS n FROM ds.tbl LEFT JOIN UNNEST(arr) AS a ON y > 2 GROUP BY x ORDER BY x DESC"
    assert wh.query(sql).fetchall() == [(3, 1)]


def test_alias_is_the_whole_struct(wh):
    rows = wh.query("SELECT a, x FROM ds.tbl, UNNEST(arr) AS a ORDER BY x").fetchall()
    assert rows == [({"x": 1, "y": 2}, 1), ({"x": 3, "y": 4}, 3)]


def test_select_star_keeps_its_columns(wh):
    result = wh.query("SELECT * FROM ds.tbl, UNNEST(arr) AS a WHERE x = 3")
    assert [column.name for column in result.schema] == ["id", "arr", "a"]
    assert result.fetchall() == [(1, [{"x": 1, "y": 2}, {"x": 3, "y": 4}], {"x": 3, "y": 4})]


def test_scalar_array_alias_is_the_column(con):
    result = con.query("SELECT * FROM UNNEST([1, 2]) AS v ORDER BY v")
    assert [column.name for column in result.schema] == ["v"]
    assert result.fetchall() == [(1,), (2,)]


def test_with_offset(wh):
    assert wh.query("SELECT x, o FROM ds.tbl, UNNEST(arr) AS a WITH OFFSET o ORDER BY o").fetchall() == [(1, 0), (3, 1)]


def test_no_alias_form(wh):
    assert wh.query("SELECT x FROM ds.tbl, UNNEST(arr) ORDER BY x").fetchall() == [(1,), (3,)]


def test_in_a_cte_and_over_a_cte(wh):
    sql = "WITH c AS (SELECT id, arr FROM ds.tbl), d AS (SELECT id, x FROM c, UNNEST(c.arr) AS h) SELECT x FROM d ORDER BY x"
    assert wh.query(sql).fetchall() == [(1,), (3,)]


def test_projection_alias_named_later_is_not_a_field(wh):
    sql = "SELECT a.y AS x FROM ds.tbl, UNNEST(arr) AS a ORDER BY x DESC"
    assert wh.query(sql).fetchall() == [(4,), (2,)]


def test_field_of_two_unnests_stays_an_error(wh):
    with pytest.raises(sqlml.NotFoundError, match=r"^Unknown column x\."):
        wh.query("SELECT x FROM ds.tbl, UNNEST(arr) AS a, UNNEST(arr) AS b").fetchall()


def test_name_that_is_no_field_stays_an_error(wh):
    with pytest.raises(sqlml.NotFoundError, match=r"^Unknown column z\."):
        wh.query("SELECT z FROM ds.tbl, UNNEST(arr) AS a").fetchall()


@pytest.fixture
def ga(con):
    con.query("CREATE SCHEMA ds").fetchall()
    con.query(
        "CREATE TABLE ds.ga AS SELECT 7 AS visitId, [STRUCT(1 AS hitNumber, STRUCT('/a' AS pagePath) AS page, 70 AS visitId), "
        "STRUCT(2 AS hitNumber, STRUCT('/b' AS pagePath) AS page, 71 AS visitId)] AS hits"
    ).fetchall()
    return con


def test_path_through_a_field_unqualified(ga):
    result = ga.query("SELECT hitNumber, page.pagePath, h.page.pagePath AS p FROM ds.ga, UNNEST(hits) AS h ORDER BY hitNumber")
    assert [column.name for column in result.schema] == ["hitNumber", "pagePath", "p"]
    assert result.fetchall() == [(1, "/a", "/a"), (2, "/b", "/b")]


def test_alias_named_as_the_array(ga):
    assert ga.query("SELECT hitNumber FROM ds.ga, UNNEST(hits) AS hits ORDER BY 1").fetchall() == [(1,), (2,)]


def test_later_unnest_of_a_field_unqualified(con):
    sql = (
        "SELECT hitNumber, v2ProductName, p FROM (SELECT [STRUCT(1 AS hitNumber, [STRUCT('p' AS v2ProductName)] AS product)] AS hits) t, "
        "UNNEST(hits) AS h, UNNEST(product) AS p"
    )
    assert con.query(sql).fetchall() == [(1, "p", {"v2ProductName": "p"})]


def test_correlated_subquery_reads_the_fields(ga):
    sql = (
        "SELECT visitId, (SELECT MAX(hitNumber) FROM UNNEST(hits) AS h), "
        "(SELECT COUNT(*) FROM UNNEST(g.hits) AS h WHERE page.pagePath = '/b') FROM ds.ga AS g"
    )
    assert ga.query(sql).fetchall() == [(7, 2, 1)]


def test_inner_field_wins_over_an_outer_column(ga):
    # name resolution starts in the innermost scope: the element's visitId, not ga's
    assert ga.query("SELECT (SELECT SUM(visitId) FROM UNNEST(hits) AS h) FROM ds.ga").fetchall() == [(141,)]


def test_unnest_of_a_query_parameter(con):
    sql = "SELECT x FROM UNNEST(@rows) AS r WHERE y = 2"
    assert con.query(sql, params={"rows": [{"x": 1, "y": 2}, {"x": 3, "y": 4}]}).fetchall() == [(1,)]


def test_inside_a_transaction_sees_its_own_rows(wh):
    result = wh.query(
        "BEGIN TRANSACTION; INSERT ds.tbl (id, arr) VALUES (2, [STRUCT(5 AS x, 6 AS y)]); "
        "CREATE TEMP TABLE r AS SELECT id, x FROM ds.tbl, UNNEST(arr) AS a WHERE y > 2; COMMIT TRANSACTION; "
        "SELECT * FROM r ORDER BY x"
    )
    assert result.fetchall() == [(1, 3), (2, 5)]
