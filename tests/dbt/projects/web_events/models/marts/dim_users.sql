{{
    config(
        materialized='incremental',
        unique_key='user_pseudo_id',
        incremental_strategy='merge',
        merge_update_columns=['last_seen_at', 'sessions', 'purchases'],
        cluster_by=['first_channel', 'user_pseudo_id']
    )
}}

{% call set_sql_header(config) %}
-- a BigQuery temporary function: the header comes before each statement that builds the model
create temp function channel_or_other(channel string) returns string as (coalesce(channel, 'Other'));
{%- endcall %}

-- Users as first seen (kept by later merges: only the merge_update_columns change) and their
-- activity so far.
with events as (
    select * from {{ ref('stg_events') }}
),

first_touch as (
    select user_pseudo_id, traffic_source, traffic_medium, event_ts
    from events
    qualify row_number() over (partition by user_pseudo_id order by event_ts, event_id) = 1
)

select
    first_touch.user_pseudo_id,
    first_touch.event_ts as first_seen_at,
    channel_or_other(channels.channel_group) as first_channel,
    max(events.event_ts) as last_seen_at,
    count(distinct events.session_key) as sessions,
    countif(events.event_name = 'purchase') as purchases
from first_touch
join events using (user_pseudo_id)
left join {{ ref('traffic_channels') }} as channels
    on channels.source = first_touch.traffic_source and channels.medium = first_touch.traffic_medium
group by 1, 2, 3
