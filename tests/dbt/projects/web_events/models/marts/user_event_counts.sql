{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by={'field': 'user_number', 'data_type': 'int64', 'range': {'start': 0, 'end': 100, 'interval': 10}}
    )
}}

-- Events per user, partitioned by user number in ranges of ten. A run counts again the users
-- active in the last week of the period; dbt-bigquery's insert_overwrite replaces those users' rows
-- (the int64 values the new rows have), not their whole range.
select
    cast(substr(user_pseudo_id, 2) as int64) as user_number,
    count(*) as events
from {{ ref('stg_events') }}
{% if is_incremental() %}
where user_pseudo_id in (select user_pseudo_id from {{ ref('stg_events') }} where event_date >= date '2024-01-08')
{% endif %}
group by 1
