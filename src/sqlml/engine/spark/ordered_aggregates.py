"""``ARRAY_AGG(x ORDER BY k …)`` on Spark: its COLLECT_LIST has no order, so the list is sorted after.

sqlglot writes DuckDB's ordered ARRAY_AGG as ``COLLECT_LIST(x)`` and drops the ORDER BY — a wrong
answer, not an error. Here the aggregate collects ``STRUCT(k1, …, x)`` and the list is sorted by a
comparator that follows each key's direction and NULL placement, then mapped back to the values:
``TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(…)) [FILTER …], (l, r) -> …), s -> s.v)``.
https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#array_agg
"""

from __future__ import annotations

from sqlglot import exp

__all__ = ["element", "sorted_array_aggs", "sorted_values"]

_VALUE = "__v"


def _field(side: str, name: str) -> exp.Expression:
    return exp.Dot(this=exp.column(side), expression=exp.to_identifier(name))


def _compare(keys: list[exp.Ordered]) -> exp.Expression:
    """-1/0/1 for two collected structs ``l`` and ``r``, key by key."""
    result: exp.Expression = exp.Literal.number(0)
    for index in reversed(range(len(keys))):
        key = keys[index]
        left, right = _field("l", f"__k{index}"), _field("r", f"__k{index}")
        before, after = (exp.Literal.number(1), exp.Literal.number(-1)) if key.args.get("desc") else (exp.Literal.number(-1), exp.Literal.number(1))
        nulls_first = bool(key.args.get("nulls_first"))
        null_left, null_right = (exp.Literal.number(-1), exp.Literal.number(1)) if nulls_first else (exp.Literal.number(1), exp.Literal.number(-1))
        result = (
            exp.Case()
            .when(exp.and_(exp.Is(this=left, expression=exp.null()), exp.Is(this=right.copy(), expression=exp.null())), result)
            .when(exp.Is(this=left.copy(), expression=exp.null()), null_left)
            .when(exp.Is(this=right.copy(), expression=exp.null()), null_right)
            .when(exp.LT(this=left.copy(), expression=right.copy()), before)
            .when(exp.GT(this=left.copy(), expression=right.copy()), after)
            .else_(result.copy())
        )
    return result


def _sorted(aggregate: exp.ArrayAgg, where: exp.Where | None) -> exp.Expression:
    order: exp.Order = aggregate.this
    keys = list(order.expressions)
    value, collect = order.this, "COLLECT_LIST"
    if isinstance(value, exp.Distinct):  # DISTINCT is ordered by the value itself: a set of its structs
        value, collect = value.expressions[0], "COLLECT_SET"
    collected: exp.Expression = exp.Anonymous(this=collect, expressions=[element([key.this for key in keys], value)])
    if where is not None:
        collected = exp.Filter(this=collected, expression=where.copy())
    return sorted_values(collected, keys)


def element(keys: list[exp.Expression], value: exp.Expression) -> exp.Struct:
    """``STRUCT(k0 AS __k0, …, value AS __v)``: what :func:`sorted_values` sorts (copies of the operands)."""
    fields = [exp.alias_(key.copy(), f"__k{index}") for index, key in enumerate(keys)]
    return exp.Struct(expressions=[*fields, exp.alias_(value.copy(), _VALUE)])


def sorted_values(collected: exp.Expression, keys: list[exp.Ordered]) -> exp.Expression:
    """The ``__v`` fields of ``collected``, a list of :func:`element` structs, sorted by the keys'
    directions and NULL placements (``keys``: the ORDER BY items ``__k0``… were computed from)."""
    value = exp.Lambda(this=_field("s", _VALUE), expressions=[exp.to_identifier("s")])
    if keys:
        comparator = exp.Lambda(this=_compare(keys), expressions=[exp.to_identifier("l"), exp.to_identifier("r")])
        collected = exp.Anonymous(this="ARRAY_SORT", expressions=[collected, comparator])
    return exp.Anonymous(this="TRANSFORM", expressions=[collected, value])


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg) and isinstance(node.this.this, exp.Order):
        return _sorted(node.this, node.expression)
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order) and not isinstance(node.parent, (exp.Filter, exp.Window)):
        return _sorted(node, None)
    return node


def sorted_array_aggs(tree: exp.Expression) -> exp.Expression:
    """``tree`` (parsed DuckDB SQL, changed in place) with each ordered ARRAY_AGG sorted for Spark
    (an ordered ARRAY_AGG in a window is left as it is)."""
    return tree.transform(_rewrite, copy=False)
