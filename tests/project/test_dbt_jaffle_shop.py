"""A jaffle-shop-shaped dbt project built end to end by `sqlml build`: seeds in their schema,
staging views, mart tables, generic tests; the marts' contents checked against pandas."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from sqlml.project import RunOptions, Runner

PAYMENT_METHODS = ["credit_card", "coupon", "bank_transfer", "gift_card"]

FILES = {
    "dbt_project.yml": """
        name: jaffle_shop
        version: '1.0.0'
        config-version: 2
        profile: jaffle_shop
        model-paths: [models]
        seed-paths: [seeds]
        target-path: target
        clean-targets: [target, dbt_packages]
        models:
          jaffle_shop:
            +materialized: table
            staging:
              +materialized: view
              +schema: staging
        seeds:
          jaffle_shop:
            +schema: raw
    """,
    "models/staging/stg_customers.sql": """
        with source as (select * from {{ ref('raw_customers') }}),
        renamed as (select id as customer_id, first_name, last_name from source)
        select * from renamed
    """,
    "models/staging/stg_orders.sql": """
        with source as (select * from {{ ref('raw_orders') }}),
        renamed as (select id as order_id, user_id as customer_id, order_date, status from source)
        select * from renamed
    """,
    "models/staging/stg_payments.sql": """
        with source as (select * from {{ ref('raw_payments') }}),
        renamed as (
            select id as payment_id, order_id, payment_method,
            -- `amount` is stored in cents, convert it to dollars
            amount / 100 as amount
            from source
        )
        select * from renamed
    """,
    "models/staging/schema.yml": """
        version: 2
        models:
          - name: stg_customers
            columns:
              - name: customer_id
                data_tests: [unique, not_null]
          - name: stg_payments
            columns:
              - name: payment_method
                data_tests:
                  - accepted_values:
                      arguments:
                        values: ['credit_card', 'coupon', 'bank_transfer', 'gift_card']
    """,
    "models/customers.sql": """
        with customers as (select * from {{ ref('stg_customers') }}),
        orders as (select * from {{ ref('stg_orders') }}),
        payments as (select * from {{ ref('stg_payments') }}),
        customer_orders as (
            select customer_id, min(order_date) as first_order, max(order_date) as most_recent_order,
                   count(order_id) as number_of_orders
            from orders group by customer_id
        ),
        customer_payments as (
            select orders.customer_id, sum(amount) as total_amount
            from payments left join orders on payments.order_id = orders.order_id
            group by orders.customer_id
        ),
        final as (
            select customers.customer_id, customers.first_name, customers.last_name,
                   customer_orders.first_order, customer_orders.most_recent_order, customer_orders.number_of_orders,
                   customer_payments.total_amount as customer_lifetime_value
            from customers
            left join customer_orders on customers.customer_id = customer_orders.customer_id
            left join customer_payments on customers.customer_id = customer_payments.customer_id
        )
        select * from final
    """,
    "models/orders.sql": """
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
        ),
        final as (
            select orders.order_id, orders.customer_id, orders.order_date, orders.status,
                {% for payment_method in payment_methods -%}
                order_payments.{{ payment_method }}_amount,
                {% endfor -%}
                order_payments.total_amount as amount
            from orders left join order_payments on orders.order_id = order_payments.order_id
        )
        select * from final
    """,
    "models/schema.yml": """
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
              - name: customer_id
                data_tests:
                  - relationships: {to: ref('customers'), field: customer_id}
              - name: status
                data_tests:
                  - accepted_values: {values: ['placed', 'shipped', 'completed', 'return_pending', 'returned']}
    """,
}


def seeds(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame({"id": range(1, 31), "first_name": [f"F{i}" for i in range(1, 31)],
                              "last_name": [chr(65 + i % 26) + "." for i in range(1, 31)]})  # fmt: skip
    orders = pd.DataFrame({
        "id": range(1, 81),
        "user_id": rng.integers(1, 26, 80),  # customers 26..30 have no orders
        "order_date": pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 90, 80), unit="D"),
        "status": rng.choice(["placed", "shipped", "completed", "return_pending", "returned"], 80),
    })  # fmt: skip
    payments = pd.DataFrame({
        "id": range(1, 101),
        "order_id": rng.integers(1, 76, 100),  # orders 76..80 have no payments
        "payment_method": rng.choice(PAYMENT_METHODS, 100),
        "amount": rng.integers(0, 3000, 100),
    })  # fmt: skip
    return {"raw_customers": customers, "raw_orders": orders, "raw_payments": payments}


def expected_marts(raw: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """customers and orders as the jaffle shop defines them, computed with pandas."""
    orders = raw["raw_orders"].rename(columns={"id": "order_id", "user_id": "customer_id"})
    payments = raw["raw_payments"].rename(columns={"id": "payment_id"}).assign(amount=lambda d: d.amount / 100)
    per_customer = orders.groupby("customer_id").agg(first_order=("order_date", "min"), most_recent_order=("order_date", "max"),
                                                     number_of_orders=("order_id", "count"))  # fmt: skip
    lifetime = payments.merge(orders, on="order_id", how="left").groupby("customer_id").amount.sum().rename("customer_lifetime_value")
    customers = (raw["raw_customers"].rename(columns={"id": "customer_id"}).set_index("customer_id")
                 .join(per_customer).join(lifetime).reset_index())  # fmt: skip
    by_method = payments.pivot_table(index="order_id", columns="payment_method", values="amount", aggfunc="sum", fill_value=0.0)
    by_method = by_method.reindex(columns=PAYMENT_METHODS, fill_value=0.0).add_suffix("_amount")
    by_method["amount"] = payments.groupby("order_id").amount.sum()
    marts_orders = orders.set_index("order_id").join(by_method).reset_index()
    return customers, marts_orders


def test_a_jaffle_shop_builds_end_to_end_as_dbt_would(tmp_path):
    for relative, text in FILES.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(textwrap.dedent(text).lstrip())
    raw = seeds(np.random.default_rng(7))
    (tmp_path / "seeds").mkdir()
    for name, frame in raw.items():
        frame.to_csv(tmp_path / "seeds" / f"{name}.csv", index=False, date_format="%Y-%m-%d")
    with Runner(tmp_path) as runner:
        outcomes = {o.node: o.status for o in runner.run(RunOptions(command="build"))}
        built = ["raw_customers", "raw_orders", "raw_payments", "stg_customers", "stg_orders", "stg_payments", "customers", "orders"]
        tests = ["unique_stg_customers_customer_id", "not_null_stg_customers_customer_id", "accepted_values_stg_payments_payment_method",
                 "unique_customers_customer_id", "not_null_customers_customer_id", "unique_orders_order_id", "not_null_orders_order_id",
                 "relationships_orders_customer_id", "accepted_values_orders_status"]  # fmt: skip
        assert outcomes == {**dict.fromkeys(built, "success"), **dict.fromkeys(tests, "pass")}
        con = runner.connection
        kinds = dict(con.query("SELECT table_schema || '.' || table_name, table_type FROM information_schema.tables "
                               "WHERE table_schema LIKE 'jaffle%'").fetchall())  # fmt: skip
        assert kinds == {
            "jaffle_shop_raw.raw_customers": "BASE TABLE", "jaffle_shop_raw.raw_orders": "BASE TABLE",
            "jaffle_shop_raw.raw_payments": "BASE TABLE", "jaffle_shop_staging.stg_customers": "VIEW",
            "jaffle_shop_staging.stg_orders": "VIEW", "jaffle_shop_staging.stg_payments": "VIEW",
            "jaffle_shop.customers": "BASE TABLE", "jaffle_shop.orders": "BASE TABLE",
        }  # fmt: skip
        customers, orders = expected_marts(raw)
        built_customers = con.query("SELECT * FROM jaffle_shop.customers ORDER BY customer_id").df()
        built_orders = con.query("SELECT * FROM jaffle_shop.orders ORDER BY order_id").df()
    assert list(built_customers.columns) == list(customers.columns)
    assert list(built_orders.columns) == list(orders.columns)
    for built, expected in ((built_customers, customers), (built_orders, orders)):
        for column in ("first_order", "most_recent_order", "order_date"):
            if column in built:
                built[column] = pd.to_datetime(built[column])
        pd.testing.assert_frame_equal(built.astype({c: float for c in built.select_dtypes("number").columns}),
                                      expected.astype({c: float for c in expected.select_dtypes("number").columns}),
                                      check_exact=False, rtol=1e-12)  # fmt: skip
