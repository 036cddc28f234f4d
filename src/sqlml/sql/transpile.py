"""Turn a parsed (non-ML) statement into DuckDB SQL text.

The tree is rewritten where BigQuery's meaning and DuckDB's differ in ways a generator cannot
see locally (names, parameters), then generated with :class:`~sqlml.sql.dialect.SqlmlDuckdb`,
whose generator carries the per-function fixes.
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.engine.warehouse import CATALOG
from sqlml.sql import compat, depth
from sqlml.sql.dialect import BigQueryOnDuckdb, SqlmlDuckdb

#: Catalogs that are DuckDB's own and must not be stripped from a three-part name.
_KEEP_CATALOGS = {"memory", "temp", "system", CATALOG}


def strip_project(tree: exp.Expression) -> exp.Expression:
    """Drop the project part of ``project.dataset.table`` names: datasets are DuckDB schemas.

    https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical#table_names
    """
    for table in tree.find_all(exp.Table):
        catalog = table.args.get("catalog")
        if catalog is not None and catalog.name.lower() not in _KEEP_CATALOGS:
            table.set("catalog", None)
    return tree


def parameter_names(tree: exp.Expression) -> list[str]:
    """Named parameters (``@name``) the statement reads, in order of first use."""
    names: list[str] = []
    for node in tree.find_all(exp.Parameter):
        name = node.name
        if name and name not in names:
            names.append(name)
    return names


def count_placeholders(tree: exp.Expression) -> int:
    """How many positional ``?`` parameters the statement has."""
    return sum(1 for node in tree.find_all(exp.Placeholder) if not node.this)


def name_anonymous_columns(tree: exp.Expression) -> exp.Expression:
    """Name unaliased computed columns ``f0_``, ``f1_`` … as BigQuery does.

    BigQuery names a select-list expression that is neither aliased nor a column path
    ``f<n>_``, counting only such columns (``SELECT a, 1, 2`` → ``a, f0_, f1_``).
    """
    for select in tree.find_all(exp.Select):
        counter = 0
        projections = []
        for projection in select.expressions:
            if not isinstance(projection, (exp.Alias, exp.Column, exp.Star, exp.Dot)):
                projection = exp.alias_(projection, f"f{counter}_", copy=False)  # copying each level was quadratic
                counter += 1
            projections.append(projection)
        select.set("expressions", projections)
    return tree


def to_duckdb(tree: exp.Expression, *, from_bigquery: bool = True) -> str:
    """DuckDB SQL text for a statement without ML nodes.

    Args:
        tree: the parsed statement.
        from_bigquery: the tree was parsed from BigQuery SQL, so BigQuery's semantics (column
            names, function behaviour) are kept; False for DuckDB-dialect input.
    """
    return depth.call(_generate, tree, from_bigquery)


def _generate(tree: exp.Expression, from_bigquery: bool) -> str:
    # Each call works on its own copy (the generator changes the tree it generates), so that
    # depth.call may run it again on a deeper stack; the generator need not copy it again.
    tree = strip_project(tree.copy())
    if not from_bigquery:
        return tree.sql(dialect=SqlmlDuckdb, copy=False)
    tree = name_anonymous_columns(compat.rewrite(tree))
    return tree.sql(dialect=BigQueryOnDuckdb, copy=False)
