"""DATE ± INT64 and DATE − DATE give BigQuery's values and types wherever the DATE comes from:
literals, a table's columns, a CTE, a subquery, a view, a TEMP table, UPDATE and WHERE.

https://cloud.google.com/bigquery/docs/reference/standard-sql/operators — "Date arithmetics
operators": ``date + int64``, ``int64 + date`` and ``date - int64`` add or take away days and return
a DATE (``DATE "2020-09-22" + 1`` is 2020-09-23, ``DATE "2020-09-22" - 7`` is 2020-09-15);
"Datetime subtraction": ``date - date`` is an INTERVAL (``DATE "2021-05-20" - DATE "2020-04-19"``
is ``0-0 396 0:0:0``). DuckDB binds none of ``+(DATE, BIGINT)``, so these failed on a column.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
import sqlglot

import sqlml

D = dt.date
def _days(days: int) -> pa.MonthDayNano:
    """An INTERVAL of whole days, as Arrow reads it."""
    return pa.MonthDayNano([0, days, 0])


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t (d DATE, n INT64, x FLOAT64)")
        con.query("INSERT INTO ds.t VALUES (DATE '2020-09-22', 3, 1.5), (DATE '2020-02-28', -1, 2.5)")
        yield con


def _rows(con, sql: str, params=None) -> tuple[list[tuple[str, pa.DataType]], list[tuple]]:
    result = con.query(sql, params=params)
    table = result.arrow()
    return [(field.name, field.type) for field in table.schema], [tuple(row.values()) for row in table.to_pylist()]


def test_literals_as_on_the_operators_page(con):
    schema, rows = _rows(con, "SELECT DATE '2020-09-22' + 1 AS day_later, DATE '2020-09-22' - 7 AS week_ago, 1 + DATE '2020-09-22' AS also")
    assert schema == [("day_later", pa.date32()), ("week_ago", pa.date32()), ("also", pa.date32())]
    assert rows == [(D(2020, 9, 23), D(2020, 9, 15), D(2020, 9, 23))]


def test_columns_of_a_table(con):
    schema, rows = _rows(con, "SELECT d + 1 AS a, 1 + d AS b, d - 7 AS c, d + n AS e, d - n AS f, n + d AS g, d + -n AS h FROM ds.t ORDER BY d")
    assert schema == [(name, pa.date32()) for name in "abcefgh"]
    assert rows == [
        (D(2020, 2, 29), D(2020, 2, 29), D(2020, 2, 21), D(2020, 2, 27), D(2020, 2, 29), D(2020, 2, 27), D(2020, 2, 29)),
        (D(2020, 9, 23), D(2020, 9, 23), D(2020, 9, 15), D(2020, 9, 25), D(2020, 9, 19), D(2020, 9, 25), D(2020, 9, 19)),
    ]


def test_names_in_any_case_and_nested_arithmetic(con):
    schema, rows = _rows(con, "SELECT (D + 1) + N AS a, DS.T.d - 1 - 1 AS b FROM DS.T WHERE d - 1 > DATE '2020-09-01'")
    assert schema == [("a", pa.date32()), ("b", pa.date32())]
    assert rows == [(D(2020, 9, 26), D(2020, 9, 20))]


def test_a_cte_and_a_subquery(con):
    sql = ("WITH c AS (SELECT d AS e, n FROM ds.t) "
           "SELECT e + n AS a, (SELECT MAX(d) FROM ds.t) + 1 AS b, s.e - 1 AS c FROM c JOIN (SELECT d AS e FROM ds.t) AS s USING (e) ORDER BY a")  # fmt: skip
    schema, rows = _rows(con, sql)
    assert schema == [("a", pa.date32()), ("b", pa.date32()), ("c", pa.date32())]
    assert rows == [(D(2020, 2, 27), D(2020, 9, 23), D(2020, 2, 27)), (D(2020, 9, 25), D(2020, 9, 23), D(2020, 9, 21))]


def test_a_view_over_date_arithmetic_and_arithmetic_over_a_view(con):
    con.query("CREATE OR REPLACE VIEW ds.v AS SELECT d + 1 AS tomorrow, n FROM ds.t")
    schema, rows = _rows(con, "SELECT tomorrow, tomorrow - n AS back, 2 + tomorrow AS later FROM ds.v ORDER BY tomorrow")
    assert schema == [("tomorrow", pa.date32()), ("back", pa.date32()), ("later", pa.date32())]
    assert rows == [(D(2020, 2, 29), D(2020, 3, 1), D(2020, 3, 2)), (D(2020, 9, 23), D(2020, 9, 20), D(2020, 9, 25))]


def test_a_temp_table_of_a_script(con):
    schema, rows = _rows(con, "CREATE TEMP TABLE tt AS SELECT DATE '2021-01-01' AS day; SELECT day - 1 AS eve FROM tt")
    assert (schema, rows) == ([("eve", pa.date32())], [(D(2020, 12, 31),)])


def test_a_parameter_as_the_days(con):
    schema, rows = _rows(con, "SELECT d + @days AS a FROM ds.t ORDER BY d", params={"days": 10})
    assert (schema, rows) == ([("a", pa.date32())], [(D(2020, 3, 9),), (D(2020, 10, 2),)])


def test_update_and_create_table_as_select():
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT DATE '2020-01-31' AS d, 2 AS n")
        con.query("UPDATE ds.t SET d = d + n WHERE d - 1 = DATE '2020-01-30'")
        con.query("CREATE TABLE ds.u AS SELECT d - 1 AS before FROM ds.t")
        assert _rows(con, "SELECT * FROM ds.u") == ([("before", pa.date32())], [(D(2020, 2, 1),)])


def test_date_minus_date_is_an_interval_of_days(con):
    schema, rows = _rows(con, "SELECT DATE '2021-05-20' - DATE '2020-04-19' AS date_diff")
    assert (schema, rows) == ([("date_diff", pa.month_day_nano_interval())], [(_days(396),)])
    schema, rows = _rows(con, "SELECT d - DATE '2020-01-01' AS since, DATE '2020-01-01' - d AS until FROM ds.t ORDER BY d")
    assert schema == [("since", pa.month_day_nano_interval()), ("until", pa.month_day_nano_interval())]
    assert rows == [(_days(58), _days(-58)), (_days(265), _days(-265))]


def test_other_arithmetic_keeps_its_types(con):
    """Numbers stay numbers; DATE/TIMESTAMP ± INTERVAL are DATETIME/TIMESTAMP, as BigQuery gives them."""
    schema, rows = _rows(con, "SELECT n + 1 AS a, x - 1 AS b, d + INTERVAL 1 DAY AS c, "
                              "TIMESTAMP '2020-01-01 00:00:00+00' - INTERVAL 1 HOUR AS e FROM ds.t ORDER BY d")  # fmt: skip
    assert schema == [("a", pa.int64()), ("b", pa.float64()), ("c", pa.timestamp("us")), ("e", pa.timestamp("us", tz="Etc/UTC"))]
    assert rows[0] == (0, 1.5, dt.datetime(2020, 2, 29), dt.datetime(2019, 12, 31, 23, tzinfo=dt.timezone.utc))


def test_the_same_text_follows_a_column_whose_type_changed():
    """The rewrite is part of the tree the generated text is cached by: no stale text after a
    table is replaced with another type."""
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT DATE '2020-01-01' AS c")
        assert _rows(con, "SELECT c + 1 AS a, c - c AS b FROM ds.t") == (
            [("a", pa.date32()), ("b", pa.month_day_nano_interval())], [(D(2020, 1, 2), _days(0))])
        con.query("CREATE OR REPLACE TABLE ds.t AS SELECT 41 AS c")
        assert _rows(con, "SELECT c + 1 AS a, c - c AS b FROM ds.t") == ([("a", pa.int64()), ("b", pa.int64())], [(42, 0)])


def test_date_plus_date_is_still_refused(con):
    """BigQuery has no DATE + DATE ("No matching signature for operator +"); neither has DuckDB."""
    with pytest.raises(sqlml.SqlTypeError, match=r"\+\(DATE, DATE\)"):
        con.query("SELECT d + d FROM ds.t")


def test_the_data_argument_of_an_ml_function(con):
    """An ML function's query argument is rendered with the same typing as a statement."""
    got = con.query("SELECT name, min, max FROM ML.DESCRIBE_DATA((SELECT d + n AS later FROM ds.t), STRUCT(3 AS top_k))").fetchall()
    assert got == [("later", "2020-02-27", "2020-09-25")]


def test_a_repeated_statement_binds_its_tables_once_until_the_catalog_changes(monkeypatch):
    """The columns DATE arithmetic is typed from are remembered per table (issue 19, cheap
    starts): a statement run again does not bind ``SELECT *`` on its tables again, until a
    statement that may change the catalog (here an ALTER TABLE) runs."""
    from sqlml.execution import sources

    bound, real = [], sources._bound_columns
    monkeypatch.setattr(sources, "_bound_columns", lambda cursor, dataset, name: bound.append((dataset, name)) or real(cursor, dataset, name))
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT DATE '2020-01-01' AS d, 2 AS n")
        for _ in range(3):
            assert _rows(con, "SELECT d + n AS a FROM ds.t") == ([("a", pa.date32())], [(D(2020, 1, 3),)])
        con.query("INSERT INTO ds.t VALUES (DATE '2020-01-02', 1)")  # rows, not columns: still remembered
        assert _rows(con, "SELECT d + n AS a FROM ds.t ORDER BY a") == ([("a", pa.date32())], [(D(2020, 1, 3),), (D(2020, 1, 3),)])
        assert bound == [("ds", "t")]
        con.query("ALTER TABLE ds.t ADD COLUMN e DATE")
        assert _rows(con, "SELECT d + n AS a FROM ds.t LIMIT 1")[0] == [("a", pa.date32())]
        assert bound == [("ds", "t"), ("ds", "t")]


def test_remembered_columns_follow_a_table_replaced_by_ddl_or_load(tmp_path):
    """A column that was INT64 and is a DATE after CREATE OR REPLACE or ``Connection.load``
    is typed as a DATE at once (a stale INT64 would leave ``+(DATE, BIGINT)``, which DuckDB cannot bind)."""
    csv = tmp_path / "days.csv"
    csv.write_text("c\n2021-03-01\n")
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 41 AS c")
        assert _rows(con, "SELECT c + 1 AS a FROM ds.t") == ([("a", pa.int64())], [(42,)])
        con.query("CREATE OR REPLACE TABLE ds.t AS SELECT DATE '2020-01-01' AS c")
        assert _rows(con, "SELECT c + 1 AS a FROM ds.t") == ([("a", pa.date32())], [(D(2020, 1, 2),)])
        con.query("CREATE OR REPLACE TABLE ds.t AS SELECT 41 AS c")
        assert _rows(con, "SELECT c + 1 AS a FROM ds.t") == ([("a", pa.int64())], [(42,)])
        con.load("ds.t", csv)
        assert _rows(con, "SELECT c + 1 AS a FROM ds.t") == ([("a", pa.date32())], [(D(2021, 3, 2),)])


def test_a_transaction_s_uncommitted_table_is_not_remembered_for_other_sessions():
    """Inside a transaction the columns are bound for each statement: the replaced table is
    its own until COMMIT, while another session of the warehouse still reads the committed one."""
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 41 AS c")
        other = con.cursor()
        con.query("BEGIN TRANSACTION; CREATE OR REPLACE TABLE ds.t AS SELECT DATE '2020-01-01' AS c")
        sql = "SELECT c + 1 AS a, c - c AS b FROM ds.t"
        assert _rows(con, sql) == ([("a", pa.date32()), ("b", pa.month_day_nano_interval())], [(D(2020, 1, 2), _days(0))])
        assert _rows(other, sql) == ([("a", pa.int64()), ("b", pa.int64())], [(42, 0)])
        con.query("ROLLBACK")
        assert _rows(con, sql) == ([("a", pa.int64()), ("b", pa.int64())], [(42, 0)])
        other.close()


def test_a_date_cast_over_a_table_without_date_columns(con):
    # no DATE column: the typing finds the DATE among the statement's types (the CAST), not the table's
    con.query("CREATE TABLE ds.counts (n INT64)")
    con.query("INSERT INTO ds.counts VALUES (3)")
    assert _rows(con, "SELECT CAST('2020-09-22' AS DATE) + n AS later, n + 1 AS m FROM ds.counts") == (
        [("later", pa.date32()), ("m", pa.int64())],
        [(D(2020, 9, 25), 4)],
    )


@pytest.mark.parametrize(
    ("sql", "typed"),
    [
        ("SELECT d + n AS a, d - d AS b FROM ds.t", True),
        ("SELECT CAST(s AS DATE) - n AS a FROM ds.u", True),
        ("SELECT CURRENT_DATE() + n AS a FROM ds.u", True),
        ("SELECT n + 1 AS a FROM ds.u", False),
        ("WITH t AS (SELECT DATE '2020-01-01' AS e) SELECT e + n AS a FROM t, ds.u", True),  # t: the CTE, not ds.t
        ("WITH t AS (SELECT 1 AS e) SELECT e + n AS a FROM t, ds.u", False),
        ("SELECT n FROM ds.t", False),
    ],
)
def test_a_survey_of_the_tree_types_it_as_the_tree_s_own_walk_does(sql, typed):
    # the renderer hands its survey to with_table_columns instead of having it walk the tree again
    from sqlml.execution.survey import Survey
    from sqlml.sql.date_arithmetic import with_table_columns

    tables = {"t": [("d", "DATE"), ("n", "BIGINT")], "u": [("s", "VARCHAR"), ("n", "BIGINT")]}

    def columns(dataset, table):
        return tables.get(table, []) if dataset == "ds" else []

    tree = sqlglot.parse_one(sql, read="bigquery")
    walked = with_table_columns(tree, columns).sql("duckdb")
    assert with_table_columns(tree, columns, Survey(tree)).sql("duckdb") == walked
    assert (walked != tree.sql("duckdb")) is typed
