"""Drop BigQuery's dataset options from ``CREATE SCHEMA … OPTIONS(…)`` before DuckDB generation.

A dataset's options (``location``, ``description``, ``labels``, ``default_table_expiration_days``
…) have no DuckDB counterpart: a schema has no options. sqlglot's DuckDB generator left them out
already, but warned "Unsupported property locationproperty" on standard error for each, and the
BigQuery ML notebooks start with ``CREATE SCHEMA IF NOT EXISTS `project.dataset` OPTIONS(location
= 'US')``. https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#schema_option_list
"""

from __future__ import annotations

from sqlglot import exp


def dropped_dataset_options(tree: exp.Expression) -> exp.Expression:
    """``tree`` without the OPTIONS of a CREATE SCHEMA statement."""
    if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "SCHEMA":
        tree.set("properties", None)
    return tree
