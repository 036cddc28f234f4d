{#- A BigQuery ML model trained by dbt, as the dbt_ml package writes one. With fewer than ten rows
    per feature BigQuery would pick batch gradient descent; the normal equation fits exactly. -#}
{{
    config(
        materialized='model',
        ml_config={
            'model_type': 'linear_reg',
            'input_label_cols': ['lifetime_value'],
            'optimize_strategy': 'normal_equation',
        }
    )
}}

select cast(order_count as float64) as order_count, cast(lifetime_value as float64) as lifetime_value
from {{ ref('dim_customers') }}
