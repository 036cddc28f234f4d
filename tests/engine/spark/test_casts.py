"""CAST and SAFE_CAST to INT64 round a FLOAT64 or NUMERIC half away from zero, as BigQuery does
(engine/spark/numbers.py): Spark's own cast truncates, a silent wrong answer. Literals, whose type
the translation sees, and table columns, whose type Spark's TYPEOF tells, on both engines.
https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_functions#cast_as_int64
"""

from __future__ import annotations

import pytest

import sqlml


DATA = """
CREATE SCHEMA c;
CREATE TABLE c.t (f FLOAT64, n NUMERIC, s STRING, i INT64, b BOOL);
INSERT INTO c.t VALUES (3.7, 2.5, '12', 7, TRUE), (-3.5, -2.5, 'x', -7, FALSE), (1.5, 3.49, '-3', NULL, NULL)
"""


def test_cast_of_a_literal_to_int64_rounds_half_away_from_zero(engine):
    (row,) = engine.query(
        "SELECT CAST(3.7 AS INT64), CAST(-3.5 AS INT64), CAST(2.5 AS INT64), CAST(-3.7 AS INT64), CAST(0.4 AS INT64), "
        "CAST(CAST(1.5 AS FLOAT64) AS INT64), SAFE_CAST(-1.5 AS INT64), SAFE_CAST(1e30 AS INT64), SAFE_CAST('12' AS INT64), "
        "CAST(TRUE AS INT64)"
    ).fetchall()
    assert row == (4, -4, 3, -4, 0, 2, -2, None, 12, 1)


def test_cast_of_a_column_to_int64_rounds_by_the_columns_type(engine):
    engine.query(DATA)
    rows = engine.query(
        "SELECT CAST(f AS INT64), CAST(n AS INT64), SAFE_CAST(s AS INT64), CAST(i AS INT64), CAST(b AS INT64), "
        "SAFE_CAST(f * 1e30 AS INT64), SAFE_CAST(n AS INT64) FROM c.t ORDER BY f"
    ).fetchall()
    assert rows == [(-4, -3, None, -7, 0, None, -3), (2, 3, -3, None, None, None, 3), (4, 3, 12, 7, 1, None, 3)]


def test_cast_of_a_double_half_to_int64_rounds_away_from_zero(engine):
    # DuckDB's own cast gives the even integer (-2.5 -> -2); sqlml.sql.numbers rounds first
    (row,) = engine.query(
        "SELECT CAST(-2.5 AS INT64), CAST(-0.5 AS INT64), SAFE_CAST(-2.5 AS INT64), CAST(CAST(2.5 AS FLOAT64) AS INT64)"
    ).fetchall()
    assert row == (-3, -1, -3, 3)


def test_cast_to_int64_of_strings_numerics_nulls_and_non_finite_floats(engine):
    (row,) = engine.query(
        "SELECT CAST('12' AS INT64), SAFE_CAST(' 12' AS INT64), SAFE_CAST('+5' AS INT64), SAFE_CAST('3.7' AS INT64), "
        "CAST(NUMERIC '-2.5' AS INT64), CAST(BIGNUMERIC '-0.5' AS INT64), CAST(NULL AS INT64), CAST(CAST(NULL AS FLOAT64) AS INT64), "
        "SAFE_CAST(CAST('NaN' AS FLOAT64) AS INT64), SAFE_CAST(CAST('-inf' AS FLOAT64) AS INT64), SAFE_CAST(x AS INT64) "
        "FROM UNNEST([CAST('inf' AS FLOAT64)]) AS x"
    ).fetchall()
    assert row == (12, 12, 5, None, -3, -1, None, None, None, None, None)
    for value in ("CAST('NaN' AS FLOAT64)", "CAST('-inf' AS FLOAT64)", "'3.7'"):  # BigQuery: an error, not a number
        with pytest.raises(sqlml.Error, match=r"(can't be cast because the value is out of range for the destination type INT64|^Bad int64 value: 3\.7)"):
            engine.query(f"SELECT CAST(x AS INT64) FROM UNNEST([{value}]) AS x").fetchall()
