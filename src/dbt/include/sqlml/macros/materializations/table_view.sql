{#- Tables and views as dbt-bigquery builds them: CREATE OR REPLACE, no rename swap.
    https://docs.getdbt.com/reference/resource-configs/bigquery-configs -#}

{% materialization table, adapter='sqlml', supported_languages=['sql'] -%}
  {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=model['alias']) -%}
  {%- set target_relation = api.Relation.create(database=database, schema=schema, identifier=model['alias'], type='table') -%}
  {%- set grant_config = config.get('grants') -%}
  {{ run_hooks(pre_hooks) }}
  {%- if old_relation is not none and not old_relation.is_table -%}
    {{ adapter.drop_relation(old_relation) }}
  {%- endif -%}
  {%- call statement('main') -%}
    {{ create_table_as(False, target_relation, compiled_code) }}
  {%- endcall -%}
  {{ run_hooks(post_hooks) }}
  {% do persist_docs(target_relation, model) %}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{% materialization view, adapter='sqlml' -%}
  {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=model['alias']) -%}
  {%- set target_relation = api.Relation.create(database=database, schema=schema, identifier=model['alias'], type='view') -%}
  {{ run_hooks(pre_hooks) }}
  {%- if old_relation is not none and not old_relation.is_view -%}
    {{ adapter.drop_relation(old_relation) }}
  {%- endif -%}
  {%- call statement('main') -%}
    {{ create_view_as(target_relation, compiled_code) }}
  {%- endcall -%}
  {{ run_hooks(post_hooks) }}
  {% do persist_docs(target_relation, model) %}
  {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}
