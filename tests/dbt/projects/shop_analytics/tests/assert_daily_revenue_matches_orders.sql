-- The daily revenue adds up to the orders' amounts (cancelled ones left out): no row is returned.
with daily as (
    select sum(revenue) as total from {{ ref('fct_daily_revenue') }}
),

orders as (
    select sum(amount) as total from {{ ref('fct_orders') }} where status != 'cancelled'
)

select daily.total as daily_total, orders.total as orders_total
from daily cross join orders
where daily.total != orders.total
