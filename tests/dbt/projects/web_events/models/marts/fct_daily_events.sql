{#- The post-hook's variable is not named like the audit's column (partitions): sqlml then read
    the column, not the variable, in INSERT ... VALUES (a sqlml scripting gap worked around here). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by={'field': 'event_date', 'data_type': 'date', 'granularity': 'day'},
        cluster_by=['event_name'],
        require_partition_filter=true,
        partition_expiration_days=3650,
        on_schema_change='append_new_columns',
        post_hook=[
            "declare partition_count int64 default (select count(distinct event_date) from {{ this }} where event_date is not null);
             create table if not exists `{{ this.project }}`.`{{ this.dataset }}`.build_audit (model string, partitions int64, at timestamp);
             insert into `{{ this.project }}`.`{{ this.dataset }}`.build_audit values ('{{ this.identifier }}', partition_count, current_timestamp())"
        ]
    )
}}

-- Events per day and name. A late event's day is computed again: the run replaces the partitions
-- from the day before the latest one it holds (_dbt_max_partition, declared by the materialization).
select
    event_date,
    event_name,
    count(*) as events,
    count(distinct user_pseudo_id) as users,
    sum(coalesce(purchase_value, 0)) as revenue
    {%- if var('with_pages', false) %},
    -- added by a later deploy: the partitions it replaces have it, older ones keep NULL
    struct(count(distinct page) as distinct_pages, array_agg(distinct page order by page) as pages) as pages
    {%- endif %}
from {{ ref('stg_events') }}
{% if is_incremental() %}
where event_date >= date_sub(_dbt_max_partition, interval 1 day)
{% endif %}
group by event_date, event_name
