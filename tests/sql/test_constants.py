"""sqlml.sql.constants: the one reader of constants written in SQL that the option readers share."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from sqlml.sql.constants import NotConstant, constant_value
from sqlml.sql.dialect import Sqlml


def _value(sql: str, **kwargs):
    return constant_value(sqlglot.parse_one(sql, read=Sqlml), **kwargs)


@pytest.mark.parametrize(
    ("sql", "value"),
    [
        ("'a'", "a"),
        ("3", 3),
        ("2.5", 2.5),
        ("1e3", 1000.0),
        ("-4", -4),
        ("-(0.5)", -0.5),
        ("TRUE", True),
        ("NULL", None),
        ("['x', 'y']", ["x", "y"]),
        ("STRUCT(1 AS a, 'b' AS b)", (1, "b")),
        ("[STRUCT('a', 0.25)]", [("a", 0.25)]),
        ("TIMESTAMP '2030-01-01 00:00:00 UTC'", "2030-01-01 00:00:00 UTC"),
    ],
)
def test_constant_value_reads_each_constant_form(sql, value):
    read = _value(sql)
    assert read == value and type(read) is type(value)


def test_constant_value_binds_parameters_only_when_given():
    assert _value("@n", params={"n": 7}) == 7
    with pytest.raises(NotConstant) as caught:
        _value("@n")
    assert str(caught.value) == "@n"


@pytest.mark.parametrize(("sql", "part"), [("x", "x"), ("[1, x + 1]", "x + 1"), ("-'a'", "-'a'"), ("STRUCT(1, CURRENT_DATE())", "CURRENT_DATE")])
def test_not_constant_names_the_part_that_is_not(sql, part):
    with pytest.raises(NotConstant) as caught:
        _value(sql)
    assert caught.value.node.sql(dialect="bigquery") == part


def test_other_reads_the_callers_own_forms_inside_arrays_too():
    unquoted = lambda node: node.name if isinstance(node, exp.Var) else (_ for _ in ()).throw(NotConstant(node))  # noqa: E731
    assert constant_value(exp.Array(expressions=[exp.Var(this="CSV"), exp.Literal.string("x")]), other=unquoted) == ["CSV", "x"]
    with pytest.raises(NotConstant):
        constant_value(exp.column("c"), other=unquoted)
