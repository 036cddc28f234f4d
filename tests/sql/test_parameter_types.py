"""A STRING query parameter where a date function takes its date is coerced to the function's type,
as BigQuery coerces STRING parameters (sqlml/sql/parameter_types.py)."""

from __future__ import annotations

import datetime

import pytest

import sqlml

UTC = datetime.timezone.utc


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        yield connection


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT DATE_ADD(@d, INTERVAL 1 DAY)", datetime.date(2017, 6, 2)),  # the demand-forecasting notebook's
        ("SELECT DATE_SUB(@d, INTERVAL 1 MONTH)", datetime.date(2017, 5, 1)),
        ("SELECT DATE_DIFF(@d, '2017-01-01', DAY)", 151),
        ("SELECT DATE_TRUNC(@d, MONTH)", datetime.date(2017, 6, 1)),
        ("SELECT DATETIME_ADD(@t, INTERVAL 90 MINUTE)", datetime.datetime(2017, 6, 1, 11, 30)),
        ("SELECT DATETIME_DIFF(@t, DATETIME '2017-06-01 00:00:00', HOUR)", 10),
        ("SELECT TIMESTAMP_SUB(@t, INTERVAL 1 HOUR)", datetime.datetime(2017, 6, 1, 9, 0, tzinfo=UTC)),
        ("SELECT TIMESTAMP_TRUNC(@t, DAY)", datetime.datetime(2017, 6, 1, tzinfo=UTC)),
    ],
)
def test_a_string_parameter_is_the_date_the_function_takes(con, sql, expected):
    (value,) = con.query(sql, {"d": "2017-06-01", "t": "2017-06-01 10:00:00"}).fetchall()[0]
    assert value == expected and type(value) is type(expected)


def test_a_parameter_already_of_the_type_is_unchanged(con):
    assert con.query("SELECT DATE_ADD(@d, INTERVAL 1 DAY)", {"d": datetime.date(2017, 6, 1)}).fetchall() == [(datetime.date(2017, 6, 2),)]
