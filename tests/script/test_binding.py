"""A bare variable or parameter name is read as its value wherever a value is expected — in
particular on the right of SET, which sqlglot read as a keyword (``SET x = y`` failed with
"Referenced column y not found")."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

import sqlml
from sqlml.sql.dialect import Sqlml


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT x, x > 5 AS y FROM UNNEST(GENERATE_ARRAY(1, 10)) AS x")
        yield connection


def test_set_reads_the_right_side_as_an_expression():
    for source, expected in [("SET a = b", exp.Column), ("SET a = t.b", exp.Column), ("SET a = b + 1", exp.Add)]:
        value = sqlglot.parse_one(source, read=Sqlml).expressions[0].this.expression
        assert isinstance(value, expected), source
    assert sqlglot.parse_one("SET a = t.b", read=Sqlml).sql(dialect=Sqlml) == "SET a = t.b"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("DECLARE a INT64 DEFAULT 5; DECLARE b INT64; SET b = a; SELECT b", 5),
        ("DECLARE a INT64 DEFAULT 5; DECLARE b INT64; SET (b) = (a); SELECT b", 5),
        ("DECLARE a INT64 DEFAULT 5; DECLARE b INT64; DECLARE c INT64; SET (b, c) = (a, a); SELECT b + c", 10),
        ("DECLARE r STRUCT<v INT64> DEFAULT STRUCT(4 AS v); DECLARE b INT64; SET b = r.v; SELECT b", 4),
        ("DECLARE a INT64 DEFAULT 3; DECLARE b INT64 DEFAULT a; SELECT b", 3),
        ("DECLARE a INT64 DEFAULT 2; SELECT COUNT(*) FROM ds.t WHERE x <= a", 2),
        ("DECLARE a ARRAY<INT64> DEFAULT [4, 5]; SELECT SUM(v) FROM UNNEST(a) AS v", 9),
        ("DECLARE s INT64 DEFAULT 0; WHILE s < 3 DO SET s = s + 1; END WHILE; SELECT s", 3),
        ("DECLARE sql STRING DEFAULT 'SELECT @v * 2'; DECLARE a INT64 DEFAULT 21; EXECUTE IMMEDIATE sql USING a AS v", 42),
    ],
)
def test_bare_variables_are_values(con, script, expected):
    assert con.query(script).fetchall() == [(expected,)]


def test_procedure_parameters_and_locals_as_bare_values(con):
    con.query("""
        CREATE OR REPLACE PROCEDURE ds.copy(IN source INT64, OUT target INT64)
        BEGIN
          DECLARE local_var INT64;
          SET local_var = source;
          SET target = local_var;
        END
    """)
    assert con.query("DECLARE out_value INT64; CALL ds.copy(6, out_value); SELECT out_value").fetchall() == [(6,)]


def test_a_variable_in_an_ml_settings_struct(con):
    con.query("CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='logistic_reg', input_label_cols=['y']) AS SELECT x, y FROM ds.t")
    rows = con.query(
        "DECLARE cut FLOAT64 DEFAULT 0.999999; "
        "SELECT COUNTIF(predicted_y) FROM ML.PREDICT(MODEL ds.m, TABLE ds.t, STRUCT(cut AS threshold))"
    ).fetchall()
    default = con.query("SELECT COUNTIF(predicted_y) FROM ML.PREDICT(MODEL ds.m, TABLE ds.t, STRUCT(0.999999 AS threshold))").fetchall()
    assert rows == default
