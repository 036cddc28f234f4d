"""The adapter's column types as BigQuery spells them (dbt writes them into DDL and the docs catalog)."""

from __future__ import annotations

import pytest

pytest.importorskip("dbt.adapters.sqlml", reason="the dbt extra is not installed: pip install -e '.[dbt]'")

from dbt.adapters.sqlml.column import bigquery_type_text  # noqa: E402


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ('STRUCT("key" VARCHAR, "value" VARCHAR)[]', "ARRAY<STRUCT<key STRING, value STRING>>"),
        ("STRUCT(source VARCHAR, medium VARCHAR)", "STRUCT<source STRING, medium STRING>"),
        ("VARCHAR[]", "ARRAY<STRING>"),
        (
            "STRUCT(a TIMESTAMP WITH TIME ZONE, b DECIMAL(38,9), c BIGINT[], d DOUBLE, e BOOLEAN, f BLOB, g TIMESTAMP, h DECIMAL(76,38))",
            "STRUCT<a TIMESTAMP, b NUMERIC, c ARRAY<INT64>, d FLOAT64, e BOOL, f BYTES, g DATETIME, h BIGNUMERIC>",
        ),
        ('STRUCT("select" INTEGER)', "STRUCT<`select` INT64>"),  # a reserved word stays quoted
        ("INT64", "INT64"),  # scalar types are BigQuery's already
        ("NUMERIC", "NUMERIC"),
    ],
)
def test_nested_types_are_spelled_as_bigquery_does(reported, expected):
    assert bigquery_type_text(reported) == expected
