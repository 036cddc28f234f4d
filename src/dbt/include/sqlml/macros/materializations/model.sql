{#- BigQuery ML models from a SELECT, configured as the dbt_ml package spells it:
    materialized='model', ml_config={'model_type': ..., ...} (in config or in meta).
    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create -#}

{% macro sqlml_ml_options(ml_config) -%}
  options(
  {%- for key, value in ml_config.items() if key != 'connection_name' -%}
    {%- if value is sequence and value is not string and (value | first) is string and (value | first).startswith('hparam_') -%}
      {{ key }}={{ value[0] }}({{ value[1:] | join(', ') }})
    {%- elif value is sequence and value is not string -%}
      {{ key }}={{ tojson(value) }}
    {%- elif value is string -%}
      {{ key }}={{ tojson(value) }}
    {%- else -%}
      {{ key }}={{ value }}
    {%- endif -%}
    {{ ', ' if not loop.last }}
  {%- endfor -%}
  )
{%- endmacro %}

{% materialization model, adapter='sqlml' -%}
  {%- set target_relation = api.Relation.create(database=database, schema=schema, identifier=model['alias']) -%}
  {%- set ml_config = config.get('ml_config') or config.get('meta', {}).get('ml_config', {}) -%}
  {%- if not ml_config.get('model_type') and not ml_config.get('MODEL_TYPE') -%}
    {% do exceptions.raise_compiler_error("Model " ~ model['alias'] ~ " has no ml_config.model_type: add config(materialized='model', ml_config={'model_type': 'linear_reg', ...}).") %}
  {%- endif -%}
  {{ run_hooks(pre_hooks) }}
  {%- call statement('main') -%}
    {{ config.get('sql_header') or '' }}
    create or replace model {{ target_relation }}
    {{ sqlml_ml_options(ml_config) }}
    as (
      {{ sql }}
    )
  {%- endcall -%}
  {{ run_hooks(post_hooks) }}
  {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}
