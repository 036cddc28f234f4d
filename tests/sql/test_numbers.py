"""BigQuery's number semantics on DuckDB (sqlml.sql.numbers): CAST to INT64 rounds a FLOAT64 half away
from zero and takes only a STRING of digits, INT and its aliases are INT64, SIGN keeps its argument's
type and NaN, MOD refuses FLOAT64. Each expected value is the one BigQuery's reference documents.
https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_functions#cast_as_int64
https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#sign
https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#mod
"""

from __future__ import annotations

import math
from decimal import Decimal

import pyarrow as pa
import pytest

import sqlml

TABLE = """
CREATE SCHEMA n;
CREATE TABLE n.t AS SELECT * FROM UNNEST([
  STRUCT(2.5 AS f, CAST(2.5 AS NUMERIC) AS d, '12' AS s),
  (-2.5, CAST(-2.5 AS NUMERIC), ' -0x1F '),
  (0.5, CAST(0.5 AS NUMERIC), '+7'),
  (-0.5, CAST(-0.5 AS NUMERIC), '2.5'),
  (1.4999999999999998, CAST(1.49 AS NUMERIC), NULL)
])
"""


def test_cast_of_float64_literals_rounds_half_away_from_zero(con):
    # "Halfway cases such as 1.5 or -0.5 round away from zero." DuckDB's own cast gave 2, -2, 0, 0
    row = con.query(
        "SELECT CAST(2.5 AS INT64), CAST(-2.5 AS INT64), CAST(0.5 AS INT64), CAST(-0.5 AS INT64), "
        "CAST(CAST(2.5 AS FLOAT64) AS INT64), SAFE_CAST(-2.5 AS INT64), CAST(2.5e0 AS INT64), SAFE_CAST(1e30 AS INT64)"
    ).fetchall()
    assert row == [(3, -3, 1, -1, 3, -3, 3, None)]


def test_cast_of_columns_rounds_by_their_type(con):
    con.query(TABLE)
    rows = con.query("SELECT CAST(f AS INT64), SAFE_CAST(f AS INT64), CAST(d AS INT64), CAST(f * 2 AS INT64) FROM n.t").fetchall()
    assert rows == [(3, 3, 3, 5), (-3, -3, -3, -5), (1, 1, 1, 1), (-1, -1, -1, -1), (1, 1, 1, 3)]


def test_int64_aliases_are_int64(con):
    # INT, SMALLINT, INTEGER, BIGINT, TINYINT, BYTEINT are aliases of INT64: no INT32 overflow
    result = con.query(
        "SELECT CAST(3000000000 AS INT) AS a, CAST(-2.5 AS INTEGER) AS b, SAFE_CAST(2.5 AS SMALLINT) AS c, "
        "CAST(4000000000 AS TINYINT) AS d, CAST(0.5 AS BYTEINT) AS e, CAST(-0.5 AS BIGINT) AS f"
    )
    table = result.arrow()
    assert table.schema.types == [pa.int64()] * 6
    assert table.to_pylist() == [{"a": 3000000000, "b": -3, "c": 3, "d": 4000000000, "e": 1, "f": -1}]


def test_cast_of_strings_takes_decimal_and_hex_digits_only(con):
    con.query(TABLE)
    rows = con.query("SELECT SAFE_CAST(s AS INT64), CAST('-0x123' AS INT64), CAST('0x123' AS INT64) FROM n.t").fetchall()
    assert rows == [(12, -291, 291), (-31, -291, 291), (7, -291, 291), (None, -291, 291), (None, -291, 291)]
    assert con.query("SELECT SAFE_CAST('2.5' AS INT64), SAFE_CAST('1e3' AS INT64), SAFE_CAST('1_000' AS INT64)").fetchall() == [(None, None, None)]


def test_a_string_literal_is_checked_when_translated():
    # a literal's digits are known: the SQL DuckDB (and a view's stored definition) gets is a plain cast
    import sqlglot

    from sqlml.sql.dialect import Sqlml
    from sqlml.sql.transpile import to_duckdb

    sql = "SELECT SAFE_CAST(' 12 ' AS INT64), CAST('-0x1A' AS INT64), SAFE_CAST('2.5' AS INT64), SAFE_CAST('0x8000000000000000' AS INT64)"
    written = to_duckdb(sqlglot.parse_one(sql, read=Sqlml))
    assert written == (
        "SELECT TRY_CAST(' 12 ' AS BIGINT) AS f0_, CAST(-26 AS BIGINT) AS f1_, TRY_CAST(NULL AS BIGINT) AS f2_, "
        "TRY_CAST(NULL AS BIGINT) AS f3_"
    )


@pytest.mark.parametrize("sql", ["SELECT CAST('2.5' AS INT64)", "SELECT CAST(s AS INT64) FROM UNNEST(['1e3']) AS s"])
def test_cast_of_a_string_with_a_fraction_fails(con, sql):
    with pytest.raises(sqlml.Error, match=r"^Bad int64 value: (2\.5|1e3)\n"):
        con.query(sql).fetchall()


def test_sign_keeps_the_type_and_nan(con):
    # SIGN(NaN) is NaN; the result is of the argument's type (FLOAT64 -1.0, NUMERIC 1)
    row = con.query(
        "SELECT SIGN(-2.5), SIGN(CAST('NaN' AS FLOAT64)), SIGN(-25), SIGN(0), SIGN(CAST(2.5 AS NUMERIC)), "
        "SIGN(CAST(NULL AS FLOAT64)), SIGN(0.0), SIGN(CAST('inf' AS FLOAT64))"
    ).fetchall()[0]
    assert row[0] == -1.0 and isinstance(row[0], float)
    assert math.isnan(row[1])
    assert row[2:4] == (-1, 0) and isinstance(row[2], int)
    assert row[4] == Decimal(1) and isinstance(row[4], Decimal)
    assert row[5:] == (None, 0.0, 1.0) and isinstance(row[6], float)


def test_mod_of_a_float64_literal_is_a_signature_error(con):
    with pytest.raises(sqlml.SqlTypeError, match=r"^No matching signature for function MOD for argument types: FLOAT64, INT64\. "):
        con.query("SELECT MOD(1.5, 0)").fetchall()


def test_mod_of_a_float64_column_fails_and_integers_keep_their_answers(con):
    con.query(TABLE)
    with pytest.raises(sqlml.Error, match=r"^No matching signature for function MOD for argument types: FLOAT64\. "):
        con.query("SELECT MOD(f, 2) FROM n.t").fetchall()
    # "Returned value has the same sign as X"; NUMERIC stays NUMERIC
    assert con.query("SELECT MOD(25, 12), MOD(-25, 12), MOD(d, 2) FROM n.t WHERE f = 2.5").fetchall() == [(1, -1, Decimal("0.5"))]


def test_safe_arithmetic_is_int64_and_null_on_overflow(con):
    # SAFE_ADD(5, 4) = 9, SAFE_SUBTRACT(5, 4) = 1, SAFE_MULTIPLY(20, 4) = 80, SAFE_NEGATE(+1) = -1; NULL on INT64 overflow
    row = con.query(
        "SELECT SAFE_ADD(5, 4), SAFE_SUBTRACT(5, 4), SAFE_MULTIPLY(20, 4), SAFE_NEGATE(1), SAFE_ADD(2000000000, 2000000000), "
        "SAFE_ADD(9223372036854775807, 1), SAFE_MULTIPLY(9223372036854775807, 2), SAFE_SUBTRACT(-9223372036854775807, 2)"
    ).fetchall()
    assert row == [(9, 1, 80, -1, 4000000000, None, None, None)]
    with pytest.raises(sqlml.ExecutionError, match=r"^division by zero: 1 / 0\n"):  # its arguments' errors still raise
        con.query("SELECT SAFE_ADD(1, 1 / 0)").fetchall()


def test_create_table_as_rounds_the_same_way(con):
    # CREATE TABLE AS goes through the same front end (so does a model's TRANSFORM, not trained here: too slow)
    con.query(
        "CREATE SCHEMA m; CREATE TABLE m.t AS SELECT x, CAST(x AS INT64) AS a "
        "FROM UNNEST([2.5, -2.5, 0.5, -0.5, 1.5]) AS x"
    )
    assert con.query("SELECT a FROM m.t").fetchall() == [(3,), (-3,), (1,), (-1,), (2,)]
