"""Bad values met on Spark's executors (engine/spark/values.py): DuckDB's wording where it has one,
BigQuery's SAFE_ function as the fix, never Spark's error text."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.engine.spark.values import bad_value

#: (statement over a column, so that executors compute it; error kind; message; hint)
CASES = [
    ("SELECT CAST(s AS INT64) FROM UNNEST(['12', 'x']) AS s", sqlml.SqlTypeError, "Bad int64 value: x",
     "Use SAFE_CAST to get NULL for a value that does not convert."),
    ("SELECT CAST(x AS INT64) FROM UNNEST([1e20]) AS x", sqlml.SqlTypeError,
     "Type DOUBLE with value 1.0E20 can't be cast because the value is out of range for the destination type INT64",
     "Use SAFE_CAST to get NULL for a value that does not convert."),
    ("SELECT x / (x - 1) FROM UNNEST([1]) AS x", sqlml.ExecutionError, "division by zero: 1 / 0", None),  # sqlml's own check
    ("SELECT DIV(x, y) FROM (SELECT 1 AS x, 0 AS y)", sqlml.ExecutionError, "division by zero", "Use SAFE_DIVIDE to get NULL where the divisor is 0."),
    ("SELECT MOD(x, x - 1) FROM UNNEST([1]) AS x", sqlml.ExecutionError, "division by zero", "Use SAFE.MOD to get NULL where the divisor is 0."),
    ("SELECT [1, 2][OFFSET(x)] FROM UNNEST([5]) AS x", sqlml.ExecutionError, "Array offset 5 is out of bounds: the array has 2 elements",
     "Use SAFE_OFFSET to get NULL instead."),
    ("SELECT x * x FROM UNNEST([9223372036854775807]) AS x", sqlml.ExecutionError, "Overflow in multiplication of INT64",
     "Use SAFE_MULTIPLY to get NULL instead, or cast the values to NUMERIC or FLOAT64 first."),
]


@pytest.mark.slow  # 7 Spark queries
@pytest.mark.parametrize(("sql", "kind", "message", "hint"), CASES, ids=[case[2][:30] for case in CASES])
def test_a_bad_value_on_an_executor_is_a_clear_error(spark_con, sql, kind, message, hint):
    with pytest.raises(kind) as caught:
        spark_con.query(sql).fetchall()
    assert (caught.value.message, caught.value.hint) == (message, hint)


@pytest.mark.parametrize("sql", [CASES[0][0], CASES[2][0]])
def test_duckdb_words_the_same_bad_values_alike(con, sql):
    # the kind, message and hint each engine shows are the same
    kind, message, hint = next(case[1:] for case in CASES if case[0] == sql)
    with pytest.raises(kind) as caught:
        con.query(sql).fetchall()
    assert (caught.value.message, caught.value.hint) == (message, hint)


def test_other_errors_are_not_worded_as_bad_values():
    assert bad_value("TABLE_OR_VIEW_NOT_FOUND", "[TABLE_OR_VIEW_NOT_FOUND] The table or view `t` cannot be found.") is None


def test_a_java_failure_without_an_error_class_names_its_innermost_cause():
    from sqlml.engine.spark.errors import engine_error

    raised = Exception(
        "An error occurred while calling o724.getResult.\n: org.apache.spark.SparkException: Exception thrown in awaitResult: \n"
        "\tat org.apache.spark.util.SparkThreadUtils$.awaitResult(SparkThreadUtils.scala:56)\n"
        "Caused by: java.util.NoSuchElementException: key not found: arr#1531\n\tat scala.collection.MapOps.default(Map.scala:289)"
    )
    assert str(engine_error(raised)) == (
        "Spark failed internally running this statement (java.util.NoSuchElementException: key not found: arr#1531): a Spark "
        "bug or limit its translation does not avoid yet (run it with engine='duckdb', or report it)."
    )
