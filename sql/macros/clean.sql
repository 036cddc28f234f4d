{# Shared cleaning rules for the staging models. #}
{% macro null_if_sentinel(column) -%}
  IF({{ column }} >= 99999999, NULL, {{ column }})
{%- endmacro %}
