"""A jaffle-shop style project builds the same tables with the sqlml adapter as with dbt-duckdb.

The test writes the project itself (nothing is fetched): three seeds (customers, orders,
payments), staging views that rename and convert, mart tables joined with ``ref`` (one with a
Jinja loop pivoting payment methods), an aggregate with EXTRACT, an incremental model with a
``unique_key`` that a second run extends, generic tests (unique, not_null, accepted_values,
relationships) and a singular test. The SQL is read the same by BigQuery and DuckDB, so one
project runs unchanged on both adapters. After ``dbt build`` (then an incremental ``dbt run``)
on each, the two warehouses hold the same relations with the same columns and rows.

dbt-duckdb is in the ``test`` extra for this test alone. Slow: four dbt invocations.
"""

from __future__ import annotations

import datetime
import random
from pathlib import Path

import pytest

pytest.importorskip("dbt.adapters.duckdb", reason="dbt-duckdb is not installed: pip install -e '.[test]'")

import duckdb  # noqa: E402
from dbt.cli.main import dbtRunner  # noqa: E402

import sqlml  # noqa: E402

pytestmark = pytest.mark.slow

PAYMENT_METHODS = ("credit_card", "coupon", "bank_transfer", "gift_card")
STATUSES = ("placed", "shipped", "completed", "return_pending", "returned")
#: The first build takes the orders up to this id; the second run's incremental step adds the rest.
FIRST_ORDERS = 70

MODELS = {
    "staging/stg_customers.sql": "select id as customer_id, first_name, last_name from {{ ref('raw_customers') }}",
    "staging/stg_orders.sql": "select id as order_id, user_id as customer_id, order_date, status from {{ ref('raw_orders') }}",
    "staging/stg_payments.sql": "select id as payment_id, order_id, payment_method, amount / 100 as amount from {{ ref('raw_payments') }}",
    "marts/customers.sql": """
with customers as (select * from {{ ref('stg_customers') }}),
orders as (select * from {{ ref('stg_orders') }}),
payments as (select * from {{ ref('stg_payments') }}),
customer_orders as (
    select customer_id, min(order_date) as first_order, max(order_date) as most_recent_order, count(order_id) as number_of_orders
    from orders group by customer_id
),
customer_payments as (
    select orders.customer_id, sum(payments.amount) as total_amount
    from payments left join orders on payments.order_id = orders.order_id
    group by orders.customer_id
)
select customers.customer_id, customers.first_name, customers.last_name, customer_orders.first_order,
    customer_orders.most_recent_order, coalesce(customer_orders.number_of_orders, 0) as number_of_orders,
    customer_payments.total_amount as customer_lifetime_value
from customers
left join customer_orders on customers.customer_id = customer_orders.customer_id
left join customer_payments on customers.customer_id = customer_payments.customer_id
""",
    "marts/orders.sql": """
{% set payment_methods = ['credit_card', 'coupon', 'bank_transfer', 'gift_card'] %}
with orders as (select * from {{ ref('stg_orders') }}),
payments as (select * from {{ ref('stg_payments') }}),
order_payments as (
    select order_id,
        {% for payment_method in payment_methods -%}
        sum(case when payment_method = '{{ payment_method }}' then amount else 0 end) as {{ payment_method }}_amount,
        {% endfor -%}
        sum(amount) as total_amount
    from payments group by order_id
)
select orders.order_id, orders.customer_id, orders.order_date, orders.status,
    {% for payment_method in payment_methods -%}
    order_payments.{{ payment_method }}_amount,
    {% endfor -%}
    order_payments.total_amount as amount
from orders left join order_payments on orders.order_id = order_payments.order_id
""",
    "marts/monthly_orders.sql": """
select extract(year from order_date) as order_year, extract(month from order_date) as order_month,
    count(*) as orders, count(distinct customer_id) as customers
from {{ ref('stg_orders') }} group by 1, 2
""",
    "marts/order_log.sql": """
{{ config(materialized='incremental', unique_key='order_id') }}
select order_id, customer_id, order_date, status from {{ ref('stg_orders') }}
where order_id <= {{ var('last_order', 1000000) }}
{% if is_incremental() %} and order_id > (select max(order_id) from {{ this }}) {% endif %}
""",
}

SCHEMA_YML = f"""
version: 2
models:
  - name: customers
    columns:
      - name: customer_id
        data_tests: [unique, not_null]
  - name: orders
    columns:
      - name: order_id
        data_tests: [unique, not_null]
      - name: status
        data_tests:
          - accepted_values:
              arguments: {{values: {list(STATUSES)}}}
      - name: customer_id
        data_tests:
          - relationships:
              arguments: {{to: ref('customers'), field: customer_id}}
  - name: stg_payments
    columns:
      - name: payment_method
        data_tests:
          - accepted_values:
              arguments: {{values: {list(PAYMENT_METHODS)}}}
  - name: order_log
    columns:
      - name: order_id
        data_tests: [unique]
"""


def write_project(root: Path) -> None:
    """The project, its seeds and a profile with one target per adapter, under ``root``."""
    rng = random.Random(20)
    seeds = {
        "raw_customers": ["id,first_name,last_name"] + [f"{i},{rng.choice('ABCDEFGH')}name{i},{rng.choice('KLMNOP')}." for i in range(1, 41)],
        "raw_orders": ["id,user_id,order_date,status"]
        + [f"{i},{rng.randint(1, 35)},{datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randint(0, 200))},{rng.choice(STATUSES)}" for i in range(1, 101)],
        "raw_payments": ["id,order_id,payment_method,amount"]
        + [f"{i},{rng.randint(1, 100)},{rng.choice(PAYMENT_METHODS)},{rng.randint(0, 3000)}" for i in range(1, 131)],
    }
    for name, lines in seeds.items():
        path = root / "seeds" / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    for name, sql in MODELS.items():
        path = root / "models" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql)
    (root / "models" / "schema.yml").write_text(SCHEMA_YML)
    (root / "tests").mkdir()
    (root / "tests" / "assert_no_negative_amounts.sql").write_text("select order_id from {{ ref('orders') }} where amount < 0")
    (root / "dbt_project.yml").write_text(
        "name: jaffle\nversion: '1.0'\nconfig-version: 2\nprofile: jaffle\n"
        "models:\n  jaffle:\n    staging:\n      +materialized: view\n    marts:\n      +materialized: table\n"
    )
    (root / "profiles.yml").write_text(
        "jaffle:\n  target: sqlml\n  outputs:\n"
        f"    sqlml: {{type: sqlml, warehouse: '{root / 'wh_sqlml'}', models: '{root / 'models_sqlml'}', schema: main, threads: 2}}\n"
        f"    duckdb: {{type: duckdb, path: '{root / 'jaffle.duckdb'}', schema: main, threads: 2}}\n"
    )


def dbt(root: Path, *args: str) -> None:
    """One dbt invocation in this process; it must succeed."""
    result = dbtRunner().invoke([*args, "--project-dir", str(root), "--profiles-dir", str(root)])
    assert result.success, f"dbt {' '.join(args)} failed: {result.exception or result.result}"


def build(root: Path, target: str) -> None:
    """dbt build of the first orders, then a dbt run whose incremental step adds the rest."""
    dbt(root, "build", "--target", target, "--vars", f"{{last_order: {FIRST_ORDERS}}}")
    dbt(root, "run", "--target", target)


def normalized(rows: list[tuple]) -> list[tuple]:
    """Rows with floats rounded (the two engines may sum in another order), sorted."""
    return sorted((tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows), key=repr)


def duckdb_relations(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    with duckdb.connect(str(path)) as con:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables where table_schema = 'main'").fetchall()]
        out = {}
        for name in names:
            cursor = con.execute(f'select * from main."{name}"')
            out[name] = ([c[0] for c in cursor.description], cursor.fetchall())
        return out


def sqlml_relations(root: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    with sqlml.connect(root / "wh_sqlml", root / "models_sqlml", idle_release=0) as con:
        names = [r[0] for r in con.query("SELECT table_name FROM main.INFORMATION_SCHEMA.TABLES").fetchall()]
        out = {}
        for name in names:
            result = con.query(f"SELECT * FROM main.`{name}`")
            out[name] = (result.columns, result.fetchall())
        return out


def test_jaffle_shop_builds_the_same_tables_as_dbt_duckdb(tmp_path):
    root = tmp_path / "jaffle"
    write_project(root)
    build(root, "duckdb")
    build(root, "sqlml")
    theirs, ours = duckdb_relations(root / "jaffle.duckdb"), sqlml_relations(root)
    expected = {"raw_customers", "raw_orders", "raw_payments", *(Path(name).stem for name in MODELS)}
    assert set(theirs) == expected
    assert set(ours) == expected
    for name in sorted(expected):
        their_columns, their_rows = theirs[name]
        our_columns, our_rows = ours[name]
        assert our_columns == their_columns, name
        assert normalized(our_rows) == normalized(their_rows), name
    # the incremental step ran: the first build stopped at FIRST_ORDERS, the second added the rest
    assert len(ours["order_log"][1]) == len(ours["orders"][1]) == 100
