{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='merge',
        on_schema_change='fail'
    )
}}

with orders as (
    select * from {{ ref('stg_orders') }}
    {% if is_incremental() %}
    -- only the orders changed since the last run: a changed order is merged over its old row
    where updated_at > (select max(updated_at) from {{ this }})
    {% endif %}
)

select
    orders.order_id,
    orders.customer_id,
    orders.status,
    orders.amount,
    round(orders.amount * (1 + countries.vat_rate), 2) as amount_with_vat,
    orders.order_date,
    orders.updated_at
from orders
join {{ ref('stg_customers') }} as customers using (customer_id)
join {{ ref('countries') }} as countries using (country_code)
