"""Drop BigQuery's dataset and view options from ``CREATE SCHEMA|VIEW … OPTIONS(…)`` before DuckDB generation.

A dataset's options (``location``, ``description``, ``labels``, ``default_table_expiration_days``
…) have no DuckDB counterpart: a schema has no options. sqlglot's DuckDB generator left them out
already, but warned "Unsupported property locationproperty" on standard error for each, and the
BigQuery ML notebooks start with ``CREATE SCHEMA IF NOT EXISTS `project.dataset` OPTIONS(location
= 'US')``. https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#schema_option_list

A (not materialized) view's options (``description``, ``friendly_name``, ``labels``, ``expiration_timestamp``
…) and its columns' ``OPTIONS(description = …)`` are the same: the engine's view has none, and the generator
warned "Unsupported property property" for each (dbt-bigquery writes a view's description and labels). The
view's description is kept beside it, read from the BigQuery tree before generation (:mod:`sqlml.warehouse.view_options`).
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#view_option_list
A materialized view's options are its own (:mod:`sqlml.warehouse.materialized_views`) and stay.
"""

from __future__ import annotations

from sqlglot import exp


def dropped_dataset_options(tree: exp.Expression) -> exp.Expression:
    """``tree`` without the OPTIONS of a CREATE SCHEMA statement, or of a CREATE VIEW statement and its columns."""
    if not isinstance(tree, exp.Create):
        return tree
    kind = (tree.args.get("kind") or "").upper()
    properties = tree.args.get("properties")
    if kind == "SCHEMA":
        tree.set("properties", None)
    elif kind == "VIEW" and not (properties and any(isinstance(p, exp.MaterializedProperty) for p in properties.expressions)):
        if properties is not None:
            kept = [p for p in properties.expressions if type(p) is not exp.Property]  # OPTIONS entries are plain Property
            properties.set("expressions", kept) if kept else tree.set("properties", None)
        if isinstance(tree.this, exp.Schema):
            for constraint in list(tree.this.find_all(exp.ColumnConstraint)):
                if isinstance(constraint.args.get("kind"), exp.Properties):
                    constraint.pop()
    return tree
