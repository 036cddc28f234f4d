{#- vat_model is created by order_features' post-hook: the depends_on comment tells dbt to build that first. #}
-- depends_on: {{ ref('order_features') }}
select
    customers.customer_id,
    predictions.predicted_lifetime_value,
    (select predicted_amount_with_vat
     from ML.PREDICT(MODEL {{ this.schema }}.vat_model, (select 100.0 as amount))) as vat_on_100
from {{ ref('dim_customers') }} as customers
join ML.PREDICT(MODEL {{ ref('customer_value_model') }},
        (select customer_id, cast(order_count as float64) as order_count from {{ ref('dim_customers') }})) as predictions
    using (customer_id)
