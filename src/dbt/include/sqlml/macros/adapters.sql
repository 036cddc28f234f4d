{#- The catalogue and DDL of the sqlml adapter: BigQuery DDL, which sqlml reads.
    https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language -#}

{% macro sqlml__create_schema(relation) -%}
  {%- call statement('create_schema') -%}
    create schema if not exists {{ relation.without_identifier() }}
  {%- endcall -%}
{% endmacro %}

{% macro sqlml__drop_schema(relation) -%}
  {%- call statement('drop_schema') -%}
    drop schema if exists {{ relation.without_identifier() }} cascade
  {%- endcall -%}
{% endmacro %}

{% macro sqlml__drop_relation(relation) -%}
  {% call statement('drop_relation', auto_begin=False) -%}
    {{ sqlml__get_drop_sql(relation) }}
  {%- endcall %}
{% endmacro %}

{% macro sqlml__get_drop_sql(relation) -%}
  {%- if relation.is_materialized_view -%}
    drop materialized view if exists {{ relation }}
  {%- elif relation.is_view -%}
    drop view if exists {{ relation }}
  {%- else -%}
    drop table if exists {{ relation }}
  {%- endif -%}
{% endmacro %}

{% macro sqlml__rename_relation(from_relation, to_relation) -%}
  {% call statement('rename_relation') -%}
    alter {{ 'view' if from_relation.is_view else 'table' }} {{ from_relation }} rename to {{ adapter.quote(to_relation.identifier) }}
  {%- endcall %}
{% endmacro %}

{% macro sqlml__truncate_relation(relation) -%}
  {% call statement('truncate_relation') -%}
    truncate table {{ relation }}
  {%- endcall %}
{% endmacro %}

{% macro sqlml__list_schemas(database) -%}
  {{ return(adapter.list_schemas(database)) }}
{% endmacro %}

{% macro sqlml__check_schema_exists(information_schema, schema) -%}
  {{ return(adapter.check_schema_exists(information_schema.database, schema)) }}
{% endmacro %}

{% macro sqlml__list_relations_without_caching(schema_relation) -%}
  {{ return(adapter.list_relations_without_caching(schema_relation)) }}
{% endmacro %}

{% macro sqlml__get_columns_in_relation(relation) -%}
  {{ return(adapter.get_columns_in_relation(relation)) }}
{% endmacro %}

{% macro sqlml__make_temp_relation(base_relation, suffix) -%}
  {{ return(base_relation.incorporate(path={"identifier": base_relation.identifier ~ suffix ~ '_' ~ modules.datetime.datetime.now().strftime('%H%M%S%f')}, type='table')) }}
{%- endmacro %}

{#- dbt-bigquery's OPTIONS(...) of a table or view: description, labels, expiration.
    https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#table_option_list -#}
{% macro sqlml_options(config, model, temporary=False) -%}
  {%- set opts = {} -%}
  {%- if config.persist_relation_docs() and model.description -%}
    {%- do opts.update({'description': sqlml_string_literal(model.description)}) -%}
  {%- endif -%}
  {%- if config.get('require_partition_filter') is not none -%}
    {%- do opts.update({'require_partition_filter': config.get('require_partition_filter') | lower}) -%}
  {%- endif -%}
  {%- if config.get('partition_expiration_days') is not none -%}
    {%- do opts.update({'partition_expiration_days': config.get('partition_expiration_days')}) -%}
  {%- endif -%}
  {#- labels: sqlml takes them and keeps none (partitions.SERVICE_OPTIONS), so they are left out. -#}
  {%- if opts -%}
  options({% for key, value in opts.items() %}{{ key }}={{ value }}{{ ', ' if not loop.last }}{% endfor %})
  {%- endif -%}
{%- endmacro %}

{#- A BigQuery string literal of ``text``: backslashes, quotes and line breaks escaped (a YAML
    description may span lines, which a quoted literal may not). -#}
{% macro sqlml_string_literal(text) -%}
  '{{ text | replace('\\', '\\\\') | replace("'", "\\'") | replace('\n', '\\n') | replace('\r', '\\r') }}'
{%- endmacro %}

{#- persist_docs as dbt-bigquery does it: the relation's description is an OPTION of its CREATE
    (sqlml_options); the columns' descriptions are set on the columns the relation has (a
    documented column it lacks is skipped, as dbt-bigquery's update_columns skips it).
    https://docs.getdbt.com/reference/resource-configs/persist_docs -#}
{% macro sqlml__persist_docs(relation, model, for_relation, for_columns) -%}
  {%- if for_columns and config.persist_column_docs() and model.columns -%}
    {%- set existing = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- set kind = 'view' if relation.is_view else 'table' -%}
    {%- for name, column in model.columns.items() if column.description and name | lower in existing -%}
      {%- do run_query('alter ' ~ kind ~ ' ' ~ relation ~ ' alter column ' ~ adapter.quote(name) ~ ' set options(description=' ~ sqlml_string_literal(column.description) ~ ')') -%}
    {%- endfor -%}
  {%- endif -%}
{%- endmacro %}

{% macro sqlml__create_table_as(temporary, relation, compiled_code, language='sql') -%}
  {%- set partition_config = adapter.parse_partition_by(config.get('partition_by', none)) -%}
  {%- set cluster_by = config.get('cluster_by', none) -%}
  {%- set sql_header = config.get('sql_header', none) -%}
  {{ sql_header if sql_header is not none }}
  create or replace table {{ relation }}
  {%- set contract_config = config.get('contract') -%}
  {%- if contract_config.enforced and not temporary -%}
    {{ get_assert_columns_equivalent(compiled_code) }}
    {{ get_table_columns_and_constraints() }}
    {%- set compiled_code = get_select_subquery(compiled_code) %}
  {%- endif %}
  {%- if partition_config is not none and not temporary %}
  partition by {{ partition_config.render_clause() }}
  {%- endif %}
  {%- if cluster_by and not temporary %}
  cluster by {{ [cluster_by] | join(', ') if cluster_by is string else cluster_by | join(', ') }}
  {%- endif %}
  {{ sqlml_options(config, model, temporary) if not temporary }}
  as (
    {{ compiled_code }}
  )
{%- endmacro %}

{% macro sqlml__create_view_as(relation, sql) -%}
  {%- set sql_header = config.get('sql_header', none) -%}
  {{ sql_header if sql_header is not none }}
  create or replace view {{ relation }}
  {{ sqlml_options(config, model) }}
  {%- set contract_config = config.get('contract') -%}
  {%- if contract_config.enforced -%}
    {{ get_assert_columns_equivalent(sql) }}
  {%- endif %}
  as {{ sql }}
{%- endmacro %}

{% macro sqlml__alter_column_type(relation, column_name, new_column_type) -%}
  {% call statement('alter_column_type') %}
    alter table {{ relation }} alter column {{ adapter.quote(column_name) }} set data type {{ new_column_type }}
  {% endcall %}
{% endmacro %}

{% macro sqlml__alter_relation_add_remove_columns(relation, add_columns, remove_columns) %}
  {% for column in add_columns or [] %}
    {% do run_query("alter table " ~ relation ~ " add column " ~ adapter.quote(column.name) ~ " " ~ column.data_type) %}
  {% endfor %}
  {% for column in remove_columns or [] %}
    {% do run_query("alter table " ~ relation ~ " drop column " ~ adapter.quote(column.name)) %}
  {% endfor %}
{% endmacro %}

{% macro sqlml__create_columns(relation, columns) %}
  {% do sqlml__alter_relation_add_remove_columns(relation, columns, []) %}
{% endmacro %}

{% macro sqlml__post_snapshot(staging_relation) %}
  {% do adapter.drop_relation(staging_relation) %}
{% endmacro %}

{% macro sqlml__load_csv_rows(model, agate_table) %}
  {% do adapter.load_seed_rows(this, agate_table, model['config'].get('column_types', {})) %}
  {{ return('') }}
{% endmacro %}

{% macro sqlml__get_catalog(information_schema, schemas) -%}
  {{ return(adapter.catalog_table(information_schema.database, schemas)) }}
{%- endmacro %}

{% macro sqlml__get_catalog_relations(information_schema, relations) -%}
  {%- set schemas = [] -%}
  {%- for relation in relations if relation.schema not in schemas -%}{%- do schemas.append(relation.schema) -%}{%- endfor -%}
  {%- set names = relations | map(attribute='identifier') | map('lower') | list -%}
  {{ return(adapter.catalog_table(information_schema.database, schemas, names)) }}
{%- endmacro %}
