"""The tree of BigQuery's ``ALTER TABLE t ALTER COLUMN c SET OPTIONS(description=…)`` action.

sqlglot's ``AlterColumn`` has no place for OPTIONS (it reads the action as a Command); this node
holds them, and :mod:`sqlml.warehouse.alter_options` runs it.
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#alter_column_set_options_statement
"""

from __future__ import annotations

from sqlglot import exp


class AlterColumnOptions(exp.Expression):
    """``ALTER COLUMN [IF EXISTS] c SET OPTIONS(...)``: ``this`` the column, ``expressions`` one Properties."""

    arg_types = {"this": True, "exists": False, "expressions": True}
