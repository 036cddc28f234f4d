{{ config(partition_by={'field': 'first_order_date', 'data_type': 'date', 'granularity': 'month'}, cluster_by=['country_code']) }}

with customers as (
    select * from {{ ref('stg_customers') }}
),

countries as (
    select * from {{ ref('countries') }}
),

customer_orders as (
    select * from {{ ref('int_customer_orders') }}
)

select
    customers.customer_id,
    customers.customer_name,
    customers.country_code,
    countries.country_name,
    coalesce(customer_orders.order_count, 0) as order_count,
    coalesce(customer_orders.lifetime_value, 0) as lifetime_value,
    customer_orders.first_order_date,
    customer_orders.last_order_date
from customers
left join countries using (country_code)
left join customer_orders using (customer_id)
