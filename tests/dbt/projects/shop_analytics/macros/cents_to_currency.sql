{#- Cents as a currency amount, dispatched as dbt_utils' macros are: an adapter's own
    implementation first (bigquery__ for BigQuery and sqlml), default__ otherwise. -#}
{% macro cents_to_currency(column) -%}
  {{ return(adapter.dispatch('cents_to_currency', 'shop_analytics')(column)) }}
{%- endmacro %}

{% macro default__cents_to_currency(column) -%}
  {{ column }} / 100.0
{%- endmacro %}

{#- exact: NUMERIC / INT64 is NUMERIC in BigQuery -#}
{% macro bigquery__cents_to_currency(column) -%}
  cast({{ column }} as numeric) / 100
{%- endmacro %}
