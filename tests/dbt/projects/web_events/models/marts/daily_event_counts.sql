-- Events per day of the reporting period, a column per event name (as many as the staging events
-- have, found when the model compiles), every day listed: dbt_utils' date_spine and pivot.
with days as (
    {{ date_spine('day', "date '" ~ var('first_day') ~ "'", "date_add(date '" ~ var('last_day') ~ "', interval 1 day)") }}
)

select
    days.date_day,
    {{ pivot('events.event_name', get_column_values(ref('stg_events'), 'event_name', order_by='event_name'), suffix='s') }}
from days
left join {{ ref('stg_events') }} as events on events.event_date = date(days.date_day)
group by days.date_day
