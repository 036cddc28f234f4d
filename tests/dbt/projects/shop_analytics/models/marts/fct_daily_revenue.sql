{{
    config(
        materialized='incremental',
        unique_key='order_date',
        incremental_strategy='delete+insert'
    )
}}

select
    order_date,
    count(*) as orders,
    sum(amount) as revenue
from {{ ref('stg_orders') }}
where status != 'cancelled'
{% if is_incremental() %}
  -- late orders land on the last days: those days are computed again and replace their rows
  and order_date >= date_sub((select max(order_date) from {{ this }}), interval {{ var('lookback_days') }} day)
{% endif %}
group by order_date
