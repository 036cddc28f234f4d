"""A realistic dbt project (tests/dbt/projects/shop_analytics) built twice on the sqlml adapter.

The project is written the way jaffle_shop and dbt's docs write one: raw tables in their own dataset
read as sources (with freshness), seeds with ``column_types``, staging views, an ephemeral model,
a partitioned and clustered mart with an enforced contract, incremental facts (``merge`` and
``delete+insert`` on a ``unique_key``), snapshots (timestamp and check strategies), generic,
singular and unit tests, a macro chosen by ``adapter.dispatch``, BigQuery ML models (dbt_ml's
``materialized='model'`` and a post-hook CREATE MODEL) and ``ref``/``source`` across datasets. A
loader fills ``raw_shop``; ``dbt build`` runs; the loader brings changed and new rows; ``dbt
build`` runs again, incrementally. Every table is then compared exactly with what the SQL means,
computed here in Python from the raw rows (incremental models by their own rules), and the
models' predictions with NumPy's least squares. Then ``dbt source freshness``, ``dbt docs
generate`` and ``dbt build --full-refresh`` of the facts.

Slow: five dbt invocations in this process (~6 s of CPU each; dbt parses the project once, then
partially): ~21 s quiet, ~35 s at load 8.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dbt.adapters.sqlml", reason="the dbt extra is not installed: pip install -e '.[dbt]'")

from dbt_common.tests import enable_test_caching  # noqa: E402

import sqlml  # noqa: E402
from tests.dbt.project_runs import dbt, read  # noqa: E402

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).parent / "projects" / "shop_analytics"

# The loader's rows: customers (id, name, country, updated_at), orders (id, customer, status, cents,
# ordered_at, updated_at). The second load moves customer 2 to NL, adds customers 6 and 7, moves
# orders 5 and 6 on, adds a late order (7) on the first load's last day and two new days' orders.
CUSTOMERS_1 = [
    (1, "ann ", "de", "2024-01-01 00:00"),
    (2, "bob", "FR", "2024-01-01 00:00"),
    (3, "cy", "NL", "2024-01-02 00:00"),
    (4, "dee", "DE", "2024-01-02 00:00"),
    (5, "eve", "FR", "2024-01-03 00:00"),
]
CUSTOMERS_2 = [
    *(row for row in CUSTOMERS_1 if row[0] != 2),
    (2, "bob", "NL", "2024-01-05 00:00"),
    (6, "fay", "DE", "2024-01-05 00:00"),
    (7, "gus", "NL", "2024-01-05 00:00"),
]
ORDERS_1 = [
    (1, 1, "completed", 1150, "2024-01-01 09:00", "2024-01-01 09:00"),  # 11.50 * 1.19 = 13.685: rounds to 13.69
    (2, 2, "completed", 805, "2024-01-01 10:00", "2024-01-01 10:00"),
    (3, 1, "shipped", 4300, "2024-01-02 08:00", "2024-01-02 08:00"),
    (4, 3, "cancelled", 999, "2024-01-02 12:00", "2024-01-02 12:00"),
    (5, 4, "placed", 2050, "2024-01-03 15:00", "2024-01-03 15:00"),
    (6, 5, "placed", 300, "2024-01-03 16:30", "2024-01-03 16:30"),
]
ORDERS_2 = [
    *(row for row in ORDERS_1 if row[0] not in (5, 6)),
    (5, 4, "shipped", 2050, "2024-01-03 15:00", "2024-01-04 09:00"),
    (6, 5, "completed", 300, "2024-01-03 16:30", "2024-01-04 10:00"),
    (7, 2, "placed", 1500, "2024-01-03 20:00", "2024-01-03 20:00"),
    (8, 6, "placed", 7000, "2024-01-04 11:00", "2024-01-04 11:00"),
    (9, 3, "placed", 450, "2024-01-04 12:00", "2024-01-04 12:00"),
]
COUNTRIES = {"DE": ("Germany", Decimal("0.19")), "FR": ("France", Decimal("0.20")), "NL": ("Netherlands", Decimal("0.21"))}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def load(root: Path, customers: list[tuple], orders: list[tuple]) -> None:
    """The loader: ``raw_shop``'s tables hold ``customers`` and ``orders``."""
    values = lambda rows: ", ".join(  # noqa: E731
        "(" + ", ".join(f"TIMESTAMP '{v}:00+00'" if i >= len(row) - 2 and ":" in str(v) else repr(v) for i, v in enumerate(row)) + ")"
        for row in rows
    )
    with sqlml.connect(root / "warehouse", root / "model_store", idle_release=0) as con:
        con.query(
            "CREATE SCHEMA IF NOT EXISTS raw_shop;"
            "CREATE OR REPLACE TABLE raw_shop.customers (customer_id INT64, name STRING, country_code STRING, updated_at TIMESTAMP);"
            "CREATE OR REPLACE TABLE raw_shop.orders (order_id INT64, customer_id INT64, status STRING, amount_cents INT64,"
            " ordered_at TIMESTAMP, updated_at TIMESTAMP);"
            f"INSERT INTO raw_shop.customers VALUES {values(customers)};"
            f"INSERT INTO raw_shop.orders VALUES {values(orders)}"
        )



def read_columns(root: Path, dataset: str, table: str) -> list[tuple]:
    """(name, BigQuery type) of ``table``'s columns, from INFORMATION_SCHEMA."""
    return read(
        root,
        f"SELECT column_name, data_type FROM {dataset}.INFORMATION_SCHEMA.COLUMNS WHERE table_name = '{table}' ORDER BY ordinal_position",
    )


# -- what the project's SQL means, computed from the raw rows ------------------------------------


def stg_customers(customers):
    return {c: (name.strip(), country.upper(), utc(updated)) for c, name, country, updated in customers}


def stg_orders(orders):
    """order_id -> (customer, status, amount, order_date, updated_at)."""
    return {o: (c, s, Decimal(cents) / 100, utc(at).date(), utc(updated)) for o, c, s, cents, at, updated in orders}


def currency(value: Decimal) -> Decimal:
    # BigQuery's ROUND rounds halfway cases away from zero:
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#round
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def fct_orders(customers, orders, only=None):
    """fct_orders' rows (all, or the orders in ``only``), by order id."""
    people = stg_customers(customers)
    out = {}
    for o, (c, status, amount, day, updated) in stg_orders(orders).items():
        if only is None or o in only:
            vat = COUNTRIES[people[c][1]][1]
            out[o] = (o, c, status, amount, currency(amount * (1 + vat)), day, updated)
    return out


def daily_revenue(orders, since=date.min):
    days: dict[date, list[Decimal]] = {}
    for _, status, amount, day, _ in stg_orders(orders).values():
        if status != "cancelled" and day >= since:
            days.setdefault(day, []).append(amount)
    return {day: (day, len(amounts), sum(amounts)) for day, amounts in days.items()}


def dim_customers(customers, orders):
    placed = [o for o in stg_orders(orders).values() if o[1] != "cancelled"]
    out = []
    for c, (name, country, _) in sorted(stg_customers(customers).items()):
        own = [o for o in placed if o[0] == c]
        days = [o[3] for o in own]
        value = sum((o[2] for o in own), Decimal(0))
        out.append((c, name, country, COUNTRIES[country][0], len(own), value, min(days, default=None), max(days, default=None)))
    return out


def incremental_fct_orders():
    """Run 1 builds every order; run 2 merges the orders updated after run 1's latest, joined
    with the customers as they are then (order 2 keeps France's VAT)."""
    rows = fct_orders(CUSTOMERS_1, ORDERS_1)
    latest = max(row[6] for row in rows.values())
    changed = {o for o, *_, updated in ORDERS_2 if utc(updated) > latest}
    rows.update(fct_orders(CUSTOMERS_2, ORDERS_2, only=changed))
    return [rows[o] for o in sorted(rows)]


def incremental_daily_revenue():
    """Run 2 computes the days from the day before run 1's last one (lookback_days: 1) again and
    replaces those days' rows (delete+insert on order_date)."""
    rows = daily_revenue(ORDERS_1)
    rows.update(daily_revenue(ORDERS_2, since=max(rows) - timedelta(days=1)))
    return [rows[day] for day in sorted(rows)]


# -- the builds ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """The project built, loaded again and built again; the first build's tables kept."""
    enable_test_caching()  # each Jinja macro parsed once for the five invocations
    root = tmp_path_factory.mktemp("dbt") / "shop_analytics"
    shutil.copytree(PROJECT, root, ignore=shutil.ignore_patterns("target", "logs"))
    (root / "profiles.yml").write_text(
        "shop_analytics:\n  target: dev\n  outputs:\n"
        f"    dev: {{type: sqlml, warehouse: '{root / 'warehouse'}', models: '{root / 'model_store'}', schema: analytics, threads: 2}}\n"
    )
    load(root, CUSTOMERS_1, ORDERS_1)
    dbt(root, "build")
    first = {
        name: read(root, f"SELECT * FROM analytics.{name} ORDER BY 1")
        for name in ("fct_orders", "fct_daily_revenue", "dim_customers")
    }
    first["order_status_history"] = read(root, "SELECT order_id, status, dbt_valid_from FROM analytics_snapshots.order_status_history ORDER BY 1")
    load(root, CUSTOMERS_2, ORDERS_2)
    second = dbt(root, "build")
    first["second build"] = sorted((r.node.resource_type, r.node.name, str(r.status)) for r in second.results)
    return root, first


def test_first_build_tables(shop):
    _, first = shop
    assert first["fct_orders"] == list(fct_orders(CUSTOMERS_1, ORDERS_1).values())
    assert first["fct_orders"][0][4] == Decimal("13.69")  # half away from zero, not to even
    assert first["fct_daily_revenue"] == sorted(daily_revenue(ORDERS_1).values())
    assert first["dim_customers"] == dim_customers(CUSTOMERS_1, ORDERS_1)


def test_second_build_merges_the_changed_orders_and_keeps_the_others(shop):
    root, _ = shop
    rows = read(root, "SELECT * FROM analytics.fct_orders ORDER BY order_id")
    assert rows == incremental_fct_orders()
    # order 2 was not changed: it keeps France's VAT although its customer moved to the Netherlands
    assert rows[1][4] == Decimal("9.66") and rows[6][4] == Decimal("18.15")


def test_second_build_replaces_the_lookback_days_of_daily_revenue(shop):
    root, _ = shop
    assert read(root, "SELECT * FROM analytics.fct_daily_revenue ORDER BY order_date") == incremental_daily_revenue()


def test_tables_and_views_are_rebuilt_from_the_new_load(shop):
    root, _ = shop
    assert read(root, "SELECT * FROM analytics.dim_customers ORDER BY customer_id") == dim_customers(CUSTOMERS_2, ORDERS_2)
    assert read(root, "SELECT customer_id, customer_name, country_code FROM analytics_staging.stg_customers ORDER BY 1") == [
        (c, name, country) for c, (name, country, _) in sorted(stg_customers(CUSTOMERS_2).items())
    ]


def test_every_node_of_the_second_build_ran(shop):
    _, first = shop
    counts: dict[tuple[str, str], int] = {}
    for kind, _, status in first["second build"]:
        counts[str(kind), status] = counts.get((str(kind), status), 0) + 1
    assert counts == {
        ("model", "success"): 8, ("seed", "success"): 2, ("snapshot", "success"): 2, ("test", "pass"): 16,
        ("unit_test", "pass"): 1,
    }  # fmt: skip  (nine models, the ephemeral one compiled into its users)


def test_the_contracted_partitioned_mart_has_its_declared_columns(shop):
    root, _ = shop
    assert read_columns(root, "analytics", "dim_customers") == [
        ("customer_id", "INT64"), ("customer_name", "STRING"), ("country_code", "STRING"), ("country_name", "STRING"),
        ("order_count", "INT64"), ("lifetime_value", "NUMERIC"), ("first_order_date", "DATE"), ("last_order_date", "DATE"),
    ]  # fmt: skip
    flags = read(
        root,
        "SELECT column_name, is_nullable, is_partitioning_column, clustering_ordinal_position "
        "FROM analytics.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 'dim_customers' "
        "AND (is_nullable = 'NO' OR is_partitioning_column = 'YES' OR clustering_ordinal_position IS NOT NULL) ORDER BY 1",
    )
    assert flags == [("country_code", "YES", "NO", 1), ("customer_id", "NO", "NO", None), ("first_order_date", "YES", "YES", None)]


def test_relations_land_in_their_datasets_with_their_kinds(shop):
    root, _ = shop
    relations = read(
        root,
        "SELECT table_schema, table_name, table_type FROM INFORMATION_SCHEMA.TABLES "
        "WHERE table_schema LIKE 'analytics%' OR table_schema = 'snapshots' ORDER BY 1, 2",
    )
    assert relations == [
        ("analytics", "dim_customers", "BASE TABLE"),
        ("analytics", "fct_daily_revenue", "BASE TABLE"),
        ("analytics", "fct_orders", "BASE TABLE"),
        ("analytics_ml", "customer_value_predictions", "VIEW"),
        ("analytics_ml", "order_features", "BASE TABLE"),
        ("analytics_reference", "countries", "BASE TABLE"),
        ("analytics_reference", "order_statuses", "BASE TABLE"),
        ("analytics_snapshots", "order_status_history", "BASE TABLE"),
        ("analytics_staging", "stg_customers", "VIEW"),
        ("analytics_staging", "stg_orders", "VIEW"),
        ("snapshots", "customers_snapshot", "BASE TABLE"),
    ]  # the ephemeral int_customer_orders is no relation; the ML models are models


def test_seed_column_types_and_the_dispatched_macros_numeric(shop):
    root, _ = shop
    columns = lambda dataset, table: read_columns(root, dataset, table)  # noqa: E731
    assert columns("analytics_reference", "countries") == [
        ("country_code", "STRING"), ("country_name", "STRING"), ("vat_rate", "NUMERIC"), ("postal_prefix", "STRING"),
    ]  # fmt: skip
    assert read(root, "SELECT postal_prefix FROM analytics_reference.countries ORDER BY 1") == [("01",), ("10",), ("75",)]
    assert columns("analytics_reference", "order_statuses") == [("status", "STRING"), ("is_final", "BOOL"), ("sort_order", "INT64")]
    # bigquery__cents_to_currency casts to NUMERIC (default__ would divide by 100.0, a FLOAT64).
    # Not checked: amount_with_vat, NUMERIC in BigQuery, is BIGNUMERIC in sqlml (DuckDB's
    # DECIMAL(38, 2) from ROUND of a product of decimal columns, whose types are not known when
    # the SQL is generated); its values are exact (test_first_build_tables).
    fct_orders = dict(columns("analytics", "fct_orders"))
    del fct_orders["amount_with_vat"]
    assert fct_orders == {
        "order_id": "INT64", "customer_id": "INT64", "status": "STRING", "amount": "NUMERIC",
        "order_date": "DATE", "updated_at": "TIMESTAMP",
    }  # fmt: skip


def test_timestamp_snapshot_keeps_each_customers_history(shop):
    root, _ = shop
    rows = read(root, "SELECT customer_id, country_code, dbt_valid_from, dbt_valid_to FROM snapshots.customers_snapshot ORDER BY 1, 3")
    current = {(c, country, utc(updated), None) for c, _, country, updated in CUSTOMERS_2}  # the source's rows, as loaded
    assert rows == sorted(current | {(2, "FR", utc("2024-01-01 00:00"), utc("2024-01-05 00:00"))})


def test_check_snapshot_records_status_changes_at_each_build(shop):
    root, first = shop
    rows = read(root, "SELECT order_id, status, dbt_valid_from, dbt_valid_to FROM analytics_snapshots.order_status_history ORDER BY 1, 3")
    first_build = {valid_from for _, _, valid_from in first["order_status_history"]}
    assert [(o, s) for o, s, _ in first["order_status_history"]] == [(o, s) for o, _, s, *_ in ORDERS_1]
    (t1,) = first_build
    t2 = max(valid_from for _, _, valid_from, _ in rows)
    assert t2 > t1
    expected = [(o, s, t1, None) for o, _, s, *_ in ORDERS_1 if o not in (5, 6)]
    expected += [(5, "placed", t1, t2), (5, "shipped", t2, None), (6, "placed", t1, t2), (6, "completed", t2, None)]
    expected += [(o, s, t2, None) for o, _, s, *_ in ORDERS_2 if o > 6]
    assert rows == sorted(expected, key=lambda row: (row[0], row[2]))


def test_ml_models_trained_by_dbt_predict_what_least_squares_fits(shop):
    root, _ = shop
    customers = dim_customers(CUSTOMERS_2, ORDERS_2)
    x, y = np.array([c[4] for c in customers], float), np.array([c[5] for c in customers], float)
    slope, intercept = np.polyfit(x, y, 1)
    predicted = read(root, "SELECT customer_id, predicted_lifetime_value, vat_on_100 FROM analytics_ml.customer_value_predictions ORDER BY 1")
    assert [p[0] for p in predicted] == [c[0] for c in customers]
    np.testing.assert_allclose([p[1] for p in predicted], slope * x + intercept, rtol=1e-6)
    # vat_model (order_features' post-hook) was trained on fct_orders as the second build left it
    orders = incremental_fct_orders()
    vat_slope, vat_intercept = np.polyfit([float(o[3]) for o in orders], [float(o[4]) for o in orders], 1)
    np.testing.assert_allclose([p[2] for p in predicted], 100 * vat_slope + vat_intercept, rtol=1e-6)


def test_source_freshness_warns_after_a_day(shop):
    root, _ = shop
    results = dbt(root, "source", "freshness")
    assert sorted((r.node.name, str(r.status), r.max_loaded_at) for r in results.results) == [
        ("customers", "warn", utc("2024-01-05 00:00")),
        ("orders", "warn", utc("2024-01-04 12:00")),
    ]


def test_docs_generate_catalogs_models_seeds_snapshots_and_sources(shop):
    root, _ = shop
    dbt(root, "docs", "generate")
    catalog = json.loads((root / "target" / "catalog.json").read_text())
    types = {
        key.split(".", 2)[2]: {name: column["type"] for name, column in node["columns"].items()}
        for section in ("nodes", "sources")
        for key, node in catalog[section].items()
    }
    assert types["fct_orders"] == dict(read_columns(root, "analytics", "fct_orders"))
    assert types["fct_orders"]["amount"] == "NUMERIC"
    assert types["shop.orders"]["amount_cents"] == "INT64"
    assert types["countries"]["vat_rate"] == "NUMERIC"
    assert set(types["customers_snapshot"]) >= {"customer_id", "dbt_valid_from", "dbt_valid_to", "dbt_scd_id"}
    assert {node["metadata"]["type"] for node in catalog["nodes"].values()} == {"table", "view"}
    assert not catalog["errors"]


def test_full_refresh_rebuilds_the_facts_from_all_rows(shop):
    root, _ = shop
    dbt(root, "build", "--full-refresh", "--select", "fct_orders", "fct_daily_revenue")
    rows = read(root, "SELECT * FROM analytics.fct_orders ORDER BY order_id")
    assert rows == list(dict(sorted(fct_orders(CUSTOMERS_2, ORDERS_2).items())).values())
    assert rows[1][4] == Decimal("9.74")  # order 2 now with the Netherlands' VAT
    assert read(root, "SELECT * FROM analytics.fct_daily_revenue ORDER BY 1") == sorted(daily_revenue(ORDERS_2).values())
