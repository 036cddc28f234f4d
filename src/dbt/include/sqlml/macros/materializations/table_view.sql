{#- Tables and views as dbt-bigquery builds them: CREATE OR REPLACE, no rename swap.
    https://docs.getdbt.com/reference/resource-configs/bigquery-configs -#}

{% materialization table, adapter='sqlml', supported_languages=['sql', 'python'] -%}
  {% do sqlml_refuse_python() %}
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

{#- Python models (accepted by the table and incremental materializations only to say this):
    dbt-bigquery submits them to Dataproc or BigQuery DataFrames, which a local warehouse has not.
    https://docs.getdbt.com/docs/build/python-models -#}
{% macro sqlml_refuse_python() %}
  {%- if model.language == 'python' -%}
    {% do exceptions.raise_compiler_error("Model " ~ model.name ~ " is a Python model: sqlml runs SQL models only (dbt-bigquery runs Python models on Dataproc or BigQuery DataFrames); write it as a .sql model or disable it for this target.") %}
  {%- endif -%}
{% endmacro %}

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
