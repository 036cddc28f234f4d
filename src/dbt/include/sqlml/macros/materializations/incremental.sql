{#- Incremental models as dbt-bigquery builds them: the new rows go to a scratch table, then a
    strategy (merge by default, append, delete+insert, insert_overwrite) writes them into the target.
    https://docs.getdbt.com/reference/resource-configs/bigquery-configs#merge-behavior-incremental-models -#}

{% materialization incremental, adapter='sqlml', supported_languages=['sql', 'python'] -%}
  {% do sqlml_refuse_python() %}
  {%- set existing_relation = load_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set strategy = config.get('incremental_strategy') or 'merge' -%}
  {#- resolved before the first run too, as dbt's default materialization does: an unknown strategy fails at once -#}
  {%- set strategy_func = adapter.get_incremental_strategy_macro(context, strategy) -%}
  {%- if strategy == 'microbatch' -%}{% do sqlml_validate_microbatch() %}{%- endif -%}
  {%- set on_schema_change = incremental_validate_on_schema_change(config.get('on_schema_change'), default='ignore') -%}
  {{ run_hooks(pre_hooks) }}
  {%- if existing_relation is none or existing_relation.is_view or should_full_refresh() -%}
    {%- if existing_relation is not none and not existing_relation.is_table -%}
      {{ adapter.drop_relation(existing_relation) }}
    {%- endif -%}
    {%- call statement('main') -%}
      {{ create_table_as(False, target_relation, compiled_code) }}
    {%- endcall -%}
  {%- else -%}
    {%- set temp_relation = make_temp_relation(target_relation) -%}
    {% do run_query(sqlml_declare_dbt_max_partition(compiled_code) ~ create_table_as(True, temp_relation, compiled_code)) %}
    {%- set dest_columns = process_schema_changes(on_schema_change, temp_relation, existing_relation) -%}
    {%- if not dest_columns -%}
      {%- set dest_columns = adapter.get_columns_in_relation(existing_relation) -%}
    {%- endif -%}
    {%- set predicates = [] + (config.get('predicates', none) or config.get('incremental_predicates', none) or []) -%}
    {%- set partition_by = adapter.parse_partition_by(config.get('partition_by', none)) -%}
    {%- if partition_by is not none and config.get('require_partition_filter') -%}
      {#- dbt-bigquery's predicate that lets MERGE read a table that requires a partition filter -#}
      {%- do predicates.append('(DBT_INTERNAL_DEST.' ~ partition_by.field ~ ' is null or DBT_INTERNAL_DEST.' ~ partition_by.field ~ ' is not null)') -%}
    {%- endif -%}
    {%- set arg_dict = {'target_relation': target_relation, 'temp_relation': temp_relation, 'unique_key': config.get('unique_key'), 'dest_columns': dest_columns, 'incremental_predicates': predicates or none} -%}
    {%- call statement('main') -%}
      {{ strategy_func(arg_dict) }}
    {%- endcall -%}
    {% do adapter.drop_relation(temp_relation) %}
  {%- endif -%}
  {{ run_hooks(post_hooks) }}
  {% do persist_docs(target_relation, model) %}
  {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}

{#- dbt-bigquery's _dbt_max_partition: a model's incremental SQL may compare its rows with the
    latest partition value the table holds, a script variable declared before the model's SQL.
    https://docs.getdbt.com/reference/resource-configs/bigquery-configs#the-insert_overwrite-strategy -#}
{% macro sqlml_declare_dbt_max_partition(compiled_code) -%}
  {%- set partition_by = adapter.parse_partition_by(config.get('partition_by', none)) -%}
  {%- if '_dbt_max_partition' in compiled_code -%}
    {%- if partition_by is none -%}
      {% do exceptions.raise_compiler_error("Model " ~ model.name ~ " reads _dbt_max_partition, which needs the partition_by config: add partition_by={'field': ..., 'data_type': ...}.") %}
    {%- endif -%}
    declare _dbt_max_partition {{ partition_by.data_type_for_partition() }} default (
      select max({{ partition_by.field }}) from {{ this }} where {{ partition_by.field }} is not null
    );
  {%- endif -%}
{%- endmacro %}

{#- insert_overwrite: the partitions the new rows fall in are replaced whole, in one transaction.
    https://docs.getdbt.com/reference/resource-configs/bigquery-configs#the-insert_overwrite-strategy -#}
{% macro sqlml__get_incremental_insert_overwrite_sql(arg_dict) %}
  {%- set partition_by = adapter.parse_partition_by(config.get('partition_by', none)) -%}
  {%- if partition_by is none -%}
    {% do exceptions.raise_compiler_error("The 'insert_overwrite' strategy requires the partition_by config: add partition_by={'field': ..., 'data_type': ...}.") %}
  {%- endif -%}
  {%- set target = arg_dict['target_relation'] -%}
  {%- set source = arg_dict['temp_relation'] -%}
  {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
  {%- set partitions = config.get('partitions', none) -%}
  begin transaction;
  delete from {{ target }} as DBT_INTERNAL_DEST where {{ partition_by.render_wrapped(alias='DBT_INTERNAL_DEST') }} in (
    {%- if partitions -%}
      {{ partitions | join(', ') }}
    {%- else -%}
      select distinct {{ partition_by.render_wrapped() }} from {{ source }}
    {%- endif -%}
  );
  {#- Static partitions: every new row is inserted, in or out of them, as dbt-bigquery's MERGE does;
      with copy_partitions only the listed partitions are copied from the scratch table. -#}
  insert into {{ target }} ({{ columns }}) select {{ columns }} from {{ source }}
  {%- if partitions and partition_by.copy_partitions %} where {{ partition_by.render_wrapped() }} in ({{ partitions | join(', ') }}){%- endif -%};
  commit transaction
{% endmacro %}

{#- microbatch as dbt-bigquery runs it: each batch (its input refs filtered by dbt on event_time)
    replaces the partitions its rows fall in (insert_overwrite), so partition_by is required and its
    granularity is the batch_size.
    https://docs.getdbt.com/docs/build/incremental-microbatch -#}
{% macro sqlml__get_incremental_microbatch_sql(arg_dict) %}
  {{ sqlml__get_incremental_insert_overwrite_sql(arg_dict) }}
{% endmacro %}

{#- Checked before the first batch too (which creates the table without the strategy). -#}
{% macro sqlml_validate_microbatch() %}
  {%- set partition_by = adapter.parse_partition_by(config.get('partition_by', none)) -%}
  {%- if partition_by is none or partition_by.granularity != config.get('batch_size') -%}
    {% do exceptions.raise_compiler_error("Model " ~ model.name ~ ": the 'microbatch' strategy requires a partition_by config whose granularity is the batch_size ("
       ~ config.get('batch_size') ~ "), as dbt-bigquery does; got partition_by=" ~ config.get('partition_by', none) ~ ".") %}
  {%- endif -%}
{% endmacro %}
