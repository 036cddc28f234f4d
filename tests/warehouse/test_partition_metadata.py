"""INFORMATION_SCHEMA.PARTITIONS: partition ids, row counts, logical bytes and per-partition
last_modified_time kept by every write."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest

import sqlml

PARTITIONS_SCHEMA = pa.schema([
    ("table_catalog", pa.string()), ("table_schema", pa.string()), ("table_name", pa.string()),
    ("partition_id", pa.string()), ("total_rows", pa.int64()), ("total_logical_bytes", pa.int64()),
    ("total_billable_bytes", pa.int64()), ("last_modified_time", pa.timestamp("us", tz="UTC")),
    ("storage_tier", pa.string()),
])  # fmt: skip


def partitions(con, table: str) -> dict[str, tuple[int, int, datetime.datetime]]:
    """partition_id → (total_rows, total_logical_bytes, last_modified_time) of ``ds.table``."""
    rows = con.query(
        "SELECT partition_id, total_rows, total_logical_bytes, last_modified_time "
        f"FROM ds.INFORMATION_SCHEMA.PARTITIONS WHERE table_name = '{table}'"
    ).arrow().to_pylist()
    return {r["partition_id"]: (r["total_rows"], r["total_logical_bytes"], r["last_modified_time"]) for r in rows}


@pytest.fixture
def sales(con):
    con.query("CREATE SCHEMA ds")
    con.query(
        "CREATE TABLE ds.sales (day DATE, store STRING, amount INT64) PARTITION BY day CLUSTER BY store"
    )
    con.query(
        "INSERT INTO ds.sales VALUES ('2025-03-01', 'north', 10), ('2025-03-01', 'south', 20), "
        "('2025-03-02', 'north', 30), ('2025-03-03', NULL, 40), (NULL, 'west', 50)"
    )
    return con


def test_partitions_view_has_bigquerys_columns_and_types(sales):
    table = sales.query("SELECT * FROM ds.INFORMATION_SCHEMA.PARTITIONS").arrow()
    assert table.schema.names == PARTITIONS_SCHEMA.names
    utc = lambda schema: [str(f.type).replace("Etc/UTC", "UTC") for f in schema]  # noqa: E731 — DuckDB names UTC Etc/UTC
    assert utc(table.schema) == utc(PARTITIONS_SCHEMA)
    assert set(table.column("storage_tier").to_pylist()) == {"ACTIVE"}


def test_daily_partitions_count_rows_and_logical_bytes(sales):
    found = partitions(sales, "sales")
    assert set(found) == {"20250301", "20250302", "20250303", "__NULL__"}
    # BigQuery's logical sizes: DATE 8, INT64 8, STRING 2 + UTF-8 bytes, NULL 0.
    assert found["20250301"][:2] == (2, 2 * (8 + 8) + (2 + 5) + (2 + 5))
    assert found["20250302"][:2] == (1, 8 + 8 + 2 + 5)
    assert found["20250303"][:2] == (1, 8 + 8)
    assert found["__NULL__"][:2] == (1, 8 + 2 + 4)


def test_time_unit_and_range_partition_ids(con):
    con.query("CREATE SCHEMA ds")
    con.query(
        "CREATE TABLE ds.monthly PARTITION BY DATE_TRUNC(day, MONTH) AS "
        "SELECT DATE_ADD(DATE '2025-01-15', INTERVAL i * 20 DAY) AS day FROM UNNEST(GENERATE_ARRAY(0, 5)) AS i"
    )
    con.query(
        "CREATE TABLE ds.hourly PARTITION BY TIMESTAMP_TRUNC(ts, HOUR) AS "
        "SELECT TIMESTAMP_ADD(TIMESTAMP '2025-01-01 22:30:00+00', INTERVAL i HOUR) AS ts FROM UNNEST(GENERATE_ARRAY(0, 2)) AS i"
    )
    con.query(
        "CREATE TABLE ds.buckets PARTITION BY RANGE_BUCKET(customer, GENERATE_ARRAY(0, 100, 10)) AS "
        "SELECT customer FROM UNNEST([3, 7, 42, 99, 100, -1, NULL]) AS customer"
    )
    con.query("CREATE TABLE ds.plain AS SELECT 1 AS x UNION ALL SELECT 2")
    assert {k: v[0] for k, v in partitions(con, "monthly").items()} == {
        "202501": 1, "202502": 2, "202503": 1, "202504": 2,
    }  # fmt: skip
    assert set(partitions(con, "hourly")) == {"2025010122", "2025010123", "2025010200"}
    assert {k: v[0] for k, v in partitions(con, "buckets").items()} == {
        "0": 2, "40": 1, "90": 1, "__UNPARTITIONED__": 2, "__NULL__": 1,
    }  # fmt: skip
    # An unpartitioned table is one row whose partition_id is NULL.
    assert {k: v[:2] for k, v in partitions(con, "plain").items()} == {None: (2, 16)}


def test_each_write_moves_only_the_partitions_it_touched(sales):
    before = partitions(sales, "sales")
    sales.query("INSERT INTO ds.sales VALUES ('2025-03-02', 'east', 5)")
    after_insert = partitions(sales, "sales")
    assert after_insert["20250302"][2] > before["20250302"][2]
    assert after_insert["20250302"][0] == 2
    assert all(after_insert[p][2] == before[p][2] for p in ("20250301", "20250303", "__NULL__"))

    sales.query("UPDATE ds.sales SET amount = amount + 1 WHERE store = 'north' AND day = '2025-03-01'")
    after_update = partitions(sales, "sales")
    assert after_update["20250301"][2] > after_insert["20250301"][2]
    assert after_update["20250302"][2] == after_insert["20250302"][2]

    sales.query("DELETE FROM ds.sales WHERE day = '2025-03-03'")
    after_delete = partitions(sales, "sales")
    assert "20250303" not in after_delete
    assert after_delete["20250301"][2] == after_update["20250301"][2]

    sales.query(
        "MERGE ds.sales T USING (SELECT DATE '2025-03-04' AS day, 'north' AS store, 7 AS amount) S "
        "ON T.day = S.day AND T.store = S.store "
        "WHEN MATCHED THEN UPDATE SET amount = S.amount WHEN NOT MATCHED THEN INSERT ROW"
    )
    after_merge = partitions(sales, "sales")
    assert after_merge["20250304"][0] == 1
    assert after_merge["20250301"][2] == after_update["20250301"][2]


def test_moving_rows_between_partitions_marks_every_partition(sales):
    before = partitions(sales, "sales")
    result = sales.query("UPDATE ds.sales SET day = '2025-03-02' WHERE day = '2025-03-01'")
    assert result.rowcount == 2
    after = partitions(sales, "sales")
    assert after["20250302"][0] == 3
    assert all(after[p][2] > before[p][2] for p in after)


def test_dml_reports_rows_changed_on_partitioned_tables(sales):
    assert sales.query("INSERT INTO ds.sales VALUES ('2025-03-09', 'a', 1), ('2025-03-09', 'b', 2)").rowcount == 2
    assert sales.query("DELETE FROM ds.sales WHERE store = 'north'").rowcount == 2
    assert sales.query("UPDATE ds.sales SET amount = 0 WHERE day = '2025-03-09'").rowcount == 2


def test_a_failed_write_changes_neither_rows_nor_times(sales):
    before = partitions(sales, "sales")
    with pytest.raises(sqlml.Error):
        sales.query("INSERT INTO ds.sales VALUES ('2025-03-01', 'x', 1), ('2025-03-02', 'y', 'not a number')")
    assert partitions(sales, "sales") == before


def test_replacing_a_table_resets_every_partition_time(sales):
    sales.query("INSERT INTO ds.sales VALUES ('2025-03-02', 'east', 5)")
    sales.query("CREATE OR REPLACE TABLE ds.sales PARTITION BY day AS SELECT * FROM ds.sales WHERE day IS NOT NULL")
    times = {v[2] for v in partitions(sales, "sales").values()}
    assert len(times) == 1


def test_region_qualified_partitions_lists_every_dataset(sales):
    sales.query("CREATE SCHEMA other")
    sales.query("CREATE TABLE other.t AS SELECT 1 AS x")
    names = sales.query("SELECT DISTINCT table_schema || '.' || table_name FROM `region-us`.INFORMATION_SCHEMA.PARTITIONS").arrow()
    assert set(names.column(0).to_pylist()) == {"ds.sales", "other.t"}
