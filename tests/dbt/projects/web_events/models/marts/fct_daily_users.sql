{%- set partitions_to_replace = ["date('2024-01-02')", "date('2024-01-03')"] -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by={'field': 'event_date', 'data_type': 'date'},
        partitions=partitions_to_replace
    )
}}

-- Users per day; a run replaces the two listed (static) partitions. Its rows of later days are
-- inserted too (dbt-bigquery's MERGE inserts every new row; only the listed partitions are deleted).
select event_date, count(distinct user_pseudo_id) as users
from {{ ref('stg_events') }}
{% if is_incremental() %}
where event_date >= date('2024-01-02')
{% endif %}
group by event_date
