"""Build DuckDB expression trees from fixed templates with placeholders, and Python values as literals.

The ML preprocessing functions and the BigQuery compatibility fixes are written as short DuckDB
templates (constants in the code, never
user text) in which ``__p_<name>`` columns are replaced by sqlglot subtrees: the function's
arguments, its statistics, or literals made from fitted values.
"""

from __future__ import annotations

import functools
import math

from sqlglot import exp, parse_one

PLACEHOLDER = "__p_"


#: The meta key marking a template's own subscripts and casts: DuckDB's (1-based lists, DuckDB's
#: cast), which the passes giving BigQuery's meaning to the user's (sqlml.sql.subscripts,
#: sqlml.sql.numbers) leave as they are; copies keep it.
DUCKDB_OWN = "sqlml_duckdb_own"


@functools.lru_cache(maxsize=256)
def _parsed(template: str) -> exp.Expression:
    tree = parse_one(template, read="duckdb")
    for node in tree.find_all(exp.Bracket, exp.Cast):
        node.meta[DUCKDB_OWN] = True
    return tree


def placeholders(template: str) -> set[str]:
    """The names of the template's ``__p_<name>`` columns (the parts :func:`build` needs)."""
    return {c.name[len(PLACEHOLDER) :] for c in _parsed(template).find_all(exp.Column) if c.name.startswith(PLACEHOLDER)}


def build(template: str, **parts: exp.Expression) -> exp.Expression:
    """The template's tree with each ``__p_<name>`` column replaced by ``parts[name]``."""

    def substitute(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name.startswith(PLACEHOLDER):
            part = parts[node.name[len(PLACEHOLDER) :]].copy()
            # the generator adds no parentheses of its own: (hi - lo) must stay grouped in x / (hi - lo)
            return exp.Paren(this=part) if isinstance(part, (exp.Binary, exp.Unary)) else part
        return node

    return _parsed(template).copy().transform(substitute)


def literal(value: object) -> exp.Expression:
    """A DuckDB literal for a fitted value: numbers (as DOUBLE), strings, lists, NULL."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return exp.cast(exp.Literal.string(str(value)), "DOUBLE")
        return exp.cast(exp.Literal.number(repr(value)), "DOUBLE")
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, (list, tuple)):
        if not value:
            return exp.cast(exp.Array(expressions=[]), "VARCHAR[]")
        for kind, element_type in ((float, "DOUBLE[]"), (int, "BIGINT[]")):
            if all(isinstance(v, kind) and not isinstance(v, bool) for v in value):
                # one node, not one or three per number: templates copy their parts, the BigQuery
                # fixes retype number literals one by one, and a fitted list may hold thousands
                # (ML.BUCKETIZE's split points, quantile boundaries, a vocabulary's document counts)
                text = "[" + ", ".join(map(repr, value)) + "]"
                return exp.cast(exp.Literal.string(text), exp.DataType.build(element_type, dialect="duckdb"))
        return exp.Array(expressions=[literal(v) for v in value])
    raise TypeError(f"cannot write {type(value).__name__} as a literal")
