{{
    config(
        materialized='incremental',
        incremental_strategy='microbatch',
        event_time='event_hour',
        begin='2024-01-01',
        batch_size='day',
        partition_by={'field': 'event_hour', 'data_type': 'timestamp', 'granularity': 'day'}
    )
}}

-- Page views per hour and page, built a day at a time (dbt filters stg_events by its event_time
-- to each batch's day; the batch replaces that day's partition).
select
    timestamp_trunc(event_ts, hour) as event_hour,
    page,
    count(*) as page_views
from {{ ref('stg_events') }}
where event_name = 'page_view'
group by 1, 2
