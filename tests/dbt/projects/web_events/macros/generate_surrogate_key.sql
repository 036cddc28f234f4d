{#- dbt_utils.generate_surrogate_key, vendored (Apache-2.0, github.com/dbt-labs/dbt-utils,
    macros/sql/generate_surrogate_key.sql): packages are not downloaded in the tests. -#}
{%- macro generate_surrogate_key(field_list) -%}
  {%- set fields = [] -%}
  {%- for field in field_list -%}
    {%- do fields.append("coalesce(cast(" ~ field ~ " as " ~ dbt.type_string() ~ "), '_dbt_utils_surrogate_key_null_')") -%}
    {%- if not loop.last -%}{%- do fields.append("'-'") -%}{%- endif -%}
  {%- endfor -%}
  {{ dbt.hash(dbt.concat(fields)) }}
{%- endmacro -%}
