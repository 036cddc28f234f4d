{#- dbt_utils' date_spine, generate_series, get_column_values and pivot, vendored (Apache-2.0,
    github.com/dbt-labs/dbt-utils, macros/sql/*.sql, 1.x; unprefixed, without their dispatch and
    rarely used arguments): packages are not downloaded in the tests. They run the cross-database
    macros dbt-bigquery dispatches (dateadd, datediff, escape_single_quotes) and a compile-time query. -#}

{% macro get_intervals_between(start_date, end_date, datepart) -%}
  {%- call statement('get_intervals_between', fetch_result=True) %}
    select {{ dbt.datediff(start_date, end_date, datepart) }}
  {%- endcall -%}
  {%- set value_list = load_result('get_intervals_between') -%}
  {%- if value_list and value_list['data'] -%}
    {{ return(value_list['data'] | map(attribute=0) | list | first) }}
  {%- else -%}
    {{ return(1) }}
  {%- endif -%}
{%- endmacro %}

{% macro get_powers_of_two(upper_bound) %}
  {% for _ in range(1, 100) %}
    {% if upper_bound <= 2 ** loop.index %}{{ return(loop.index) }}{% endif %}
  {% endfor %}
{% endmacro %}

{% macro generate_series(upper_bound) %}
  {% set n = get_powers_of_two(upper_bound) %}
  with p as (
    select 0 as generated_number union all select 1
  ), unioned as (
    select
    {% for i in range(n) %}
      p{{ i }}.generated_number * power(2, {{ i }}){% if not loop.last %} + {% endif %}
    {% endfor %}
      + 1 as generated_number
    from
    {% for i in range(n) %}
      p as p{{ i }}{% if not loop.last %} cross join {% endif %}
    {% endfor %}
  )
  select * from unioned where generated_number <= {{ upper_bound }} order by generated_number
{% endmacro %}

{% macro date_spine(datepart, start_date, end_date) %}
  with rawdata as (
    {{ generate_series(get_intervals_between(start_date, end_date, datepart)) }}
  ),
  all_periods as (
    select ({{ dbt.dateadd(datepart, "row_number() over (order by 1) - 1", start_date) }}) as date_{{ datepart }}
    from rawdata
  ),
  filtered as (
    select * from all_periods where date_{{ datepart }} <= {{ end_date }}
  )
  select * from filtered
{% endmacro %}

{% macro get_column_values(table, column, order_by='count(*) desc', default=none) -%}
  {%- if not execute -%}{{ return(default or []) }}{%- endif -%}
  {%- set sql -%}
    select {{ column }} as value from {{ table }} group by {{ column }} order by {{ order_by }}
  {%- endset -%}
  {{ return(run_query(sql).columns[0].values() | list) }}
{%- endmacro %}

{% macro pivot(column, values, agg='sum', then_value=1, else_value=0, prefix='', suffix='') %}
  {% for value in values %}
    {{ agg }}(case when {{ column }} = '{{ dbt.escape_single_quotes(value) }}' then {{ then_value }} else {{ else_value }} end)
      as {{ adapter.quote(prefix ~ value ~ suffix) }}{% if not loop.last %},{% endif %}
  {% endfor %}
{% endmacro %}
