{#- The training table, and a model trained on it by a post-hook (CREATE MODEL after the table is built). -#}
{{
    config(
        materialized='table',
        post_hook="create or replace model {{ this.schema }}.vat_model
                   options(model_type='linear_reg', input_label_cols=['amount_with_vat'], optimize_strategy='normal_equation')
                   as select amount, amount_with_vat from {{ this }}"
    )
}}

select cast(amount as float64) as amount, cast(amount_with_vat as float64) as amount_with_vat
from {{ ref('fct_orders') }}
