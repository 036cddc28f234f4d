"""BigQuery's TIME and INTERVAL values on Spark, which has no TIME values and other INTERVAL types
(engine/spark/datetimes.py, types.py): a TIME read by DATETIME(date, time) or EXTRACT gives
BigQuery's answer, a TIME result column is a clear error (not a timestamp of today), and INTERVAL
result columns are DuckDB's (months, days, nanoseconds)."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

import sqlml


def test_a_time_of_parts_or_of_a_datetime_makes_a_datetime(engine):
    (row,) = engine.query(
        "SELECT DATETIME(DATE '2020-01-02', TIME(1, 2, 3)), DATETIME(DATE '2020-01-02', TIME(DATETIME '2020-01-02 04:05:06.5')), "
        "EXTRACT(MINUTE FROM TIME(1, 2, 3))"
    ).fetchall()
    assert row == (datetime(2020, 1, 2, 1, 2, 3), datetime(2020, 1, 2, 4, 5, 6, 500000), 2)


@pytest.mark.slow  # a Spark query
def test_interval_results_are_months_days_and_nanoseconds_and_time_results_are_refused_on_spark(spark_con):
    result = spark_con.query(
        "SELECT INTERVAL '1-2' YEAR TO MONTH, INTERVAL 2 DAY, INTERVAL '2 03:04:05.5' DAY TO SECOND, INTERVAL -3 MONTH, "
        "CAST(NULL AS INT64) * INTERVAL 1 DAY"
    )
    assert result.arrow().schema.types == [pa.month_day_nano_interval()] * 5
    assert [tuple(value) if value else None for value in result.fetchall()[0]] == [(14, 0, 0), (0, 2, 0), (0, 2, 11_045_500_000_000), (-3, 0, 0), None]
    for sql in ("SELECT TIME(1, 2, 3)", "SELECT TIME '01:02:03' AS t UNION ALL SELECT TIME '04:05:06'"):
        with pytest.raises(sqlml.Error, match=r"^A TIME result column has no Spark translation yet \(Spark has no TIME values"):
            spark_con.query(sql)
