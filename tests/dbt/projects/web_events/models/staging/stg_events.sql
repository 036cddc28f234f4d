-- The tracker's events, one row per event_id (the first received), with their parameters unnested.
with events as (
    select *
    from {{ source('web', 'events') }}
    qualify row_number() over (partition by event_id order by received_at) = 1
)

select
    event_id,
    {{ generate_surrogate_key(['user_pseudo_id', 'session_number']) }} as session_key,
    user_pseudo_id,
    event_name,
    event_ts,
    parse_date('%Y%m%d', event_date) as event_date,
    (select value from unnest(event_params) where key = 'page') as page,
    safe_cast((select value from unnest(event_params) where key = 'value') as numeric) as purchase_value,
    traffic_source.source as traffic_source,
    traffic_source.medium as traffic_medium
from events
