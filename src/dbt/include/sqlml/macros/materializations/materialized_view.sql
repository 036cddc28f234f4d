{#- Materialized views: CREATE OR REPLACE MATERIALIZED VIEW (sqlml keeps them fresh as their
    tables change). https://cloud.google.com/bigquery/docs/materialized-views-create -#}

{% materialization materialized_view, adapter='sqlml' -%}
  {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=model['alias']) -%}
  {%- set target_relation = api.Relation.create(database=database, schema=schema, identifier=model['alias'], type='materialized_view') -%}
  {{ run_hooks(pre_hooks) }}
  {%- if old_relation is not none and not old_relation.is_materialized_view -%}
    {{ adapter.drop_relation(old_relation) }}
  {%- endif -%}
  {%- call statement('main') -%}
    {{ config.get('sql_header') or '' }}
    create or replace materialized view {{ target_relation }}
    {%- set partition_config = adapter.parse_partition_by(config.get('partition_by', none)) %}
    {%- if partition_config is not none %} partition by {{ partition_config.render_clause() }}{% endif %}
    {%- set cluster_by = config.get('cluster_by', none) %}
    {%- if cluster_by %} cluster by {{ [cluster_by] | join(', ') if cluster_by is string else cluster_by | join(', ') }}{% endif %}
    as {{ compiled_code }}
  {%- endcall -%}
  {{ run_hooks(post_hooks) }}
  {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}
