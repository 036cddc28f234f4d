"""BigQuery semantics that sqlglot's BigQuery → DuckDB translation gets wrong, put right.

Two kinds of fix live here: :data:`GENERATOR_FIXES`, merged into the DuckDB generator's
``TRANSFORMS`` (a node rendered differently), and :func:`rewrite`, applied to a statement's tree
before generation (a fix that needs more than one node). Each fix names the BigQuery doc page
whose behaviour it reproduces and is proven by ``tests/sql/test_bigquery_compat.py``.
"""

from __future__ import annotations

from sqlglot import exp

#: Node class → generator function, overriding sqlglot's DuckDB rendering.
GENERATOR_FIXES: dict = {}


def rewrite(tree: exp.Expression) -> exp.Expression:
    """Apply the tree-level fixes to a (copied) BigQuery statement before DuckDB generation."""
    return tree
