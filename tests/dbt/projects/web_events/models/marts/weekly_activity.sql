-- depends_on: {{ ref('stg_events') }}
-- Active users and events per week (weeks start on Monday), every week of the reporting period
-- listed even when nothing happened in it, with the week's event names.
with days as (
    select day
    from unnest(generate_date_array(date '{{ var("first_day") }}', date '{{ var("last_day") }}')) as day
),

weeks as (
    select distinct date_trunc(day, week(monday)) as week_start from days
),

events as (
    -- a three-part, backticked name, as BigQuery projects write them
    select date_trunc(event_date, week(monday)) as week_start, user_pseudo_id, event_name
    from `{{ target.project }}`.`{{ target.dataset }}_staging`.`stg_events`
)

select
    weeks.week_start,
    count(distinct events.user_pseudo_id) as active_users,
    count(events.event_name) as events,
    -- coalesce: sqlml keeps a NULL array where BigQuery writes an empty one (ARRAY_AGG of no row)
    coalesce(array_agg(distinct events.event_name ignore nulls order by events.event_name), []) as event_names
from weeks
left join events using (week_start)
group by weeks.week_start
