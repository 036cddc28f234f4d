"""``ARRAY(subquery)`` on Spark: a scalar subquery that collects the subquery's rows into a list.

Spark has no ARRAY(subquery); sqlglot writes it as it is, and Spark's parser refuses it. Here the
subquery becomes a derived table whose rows carry the value (``__v``) and the ORDER BY keys
(``__k0``…), and a scalar subquery collects them into a list sorted by those keys:
``(SELECT TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(__k0, …, __v)), (l, r) -> …), s -> s.__v)
FROM (SELECT k0 AS __k0, …, v AS __v FROM …) AS __array)``.

* The struct keeps NULL values, which COLLECT_LIST alone drops (BigQuery keeps them inside a query).
* The sort keeps the ORDER BY, which COLLECT_LIST does not follow; the derived table keeps its
  ORDER BY only for a LIMIT or OFFSET, which needs it.
* No rows give an empty array (COLLECT_LIST of no rows, in a correlated subquery too): BigQuery's
  ARRAY never returns NULL.
* A set operation (``UNION ALL``…) is read from a derived table of its own first, with its ORDER BY
  and LIMIT.

The subquery may be correlated: Spark decorrelates the derived table's references to the outer
query, an UNNEST of an outer array among them.
https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#array
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.engine.spark.build import call
from sqlml.engine.spark.ordered_aggregates import element, sorted_values

__all__ = ["array_subqueries"]

#: The clauses that order or cut a set operation's rows, moved onto the SELECT reading it.
_MODIFIERS = ("order", "limit", "offset")


def _as_select(query: exp.Query) -> exp.Select:
    """``query`` as one SELECT (a copy): a set operation is read from a derived table."""
    query = query.copy()
    if isinstance(query, exp.Select):
        return query
    modifiers = {name: query.args.get(name) for name in _MODIFIERS}
    for name in _MODIFIERS:
        query.set(name, None)
    select = exp.select(exp.column(query.named_selects[0])).from_(query.subquery("__set"))
    for name, modifier in modifiers.items():
        select.set(name, modifier)
    return select


def _key(key: exp.Expression, projection: exp.Expression) -> exp.Expression:
    """An ORDER BY item as an expression over the FROM clause: ``ORDER BY 1`` and the projection's
    alias (``ORDER BY z``, ``ORDER BY z * 2``) name the projection, whose alias the derived table's
    new projections replace."""
    if isinstance(key, exp.Literal) and key.is_int and int(key.name) == 1:
        return projection.unalias().copy()
    if not isinstance(projection, exp.Alias):
        return key

    def named(node: exp.Expression) -> exp.Expression:
        is_alias = isinstance(node, exp.Column) and not node.table and node.name == projection.alias
        return projection.this.copy() if is_alias else node

    return key.transform(named)


def _collected(query: exp.Query) -> exp.Expression | None:
    """The scalar subquery collecting ``query``'s rows, or None when it has not one projection."""
    select = array_subqueries(_as_select(query))  # the ARRAY subqueries inside it first: transform skips a replaced node
    if len(select.expressions) != 1:  # BigQuery refuses it; Spark's error names the construct
        return None
    (projection,) = select.expressions
    order = select.args.get("order")
    ordered: list[exp.Ordered] = list(order.expressions) if order is not None else []
    keys = [_key(item.this, projection) for item in ordered]
    names = [f"__k{index}" for index in range(len(keys))]
    select.set("expressions", [*(exp.alias_(key, name) for key, name in zip(keys, names)), exp.alias_(projection.unalias().copy(), "__v")])
    if select.args.get("limit") or select.args.get("offset"):
        select.set("order", exp.Order(expressions=[exp.Ordered(this=exp.column(name), desc=item.args.get("desc"), nulls_first=item.args.get("nulls_first")) for item, name in zip(ordered, names)]))
    else:
        select.set("order", None)
    collected = call("COLLECT_LIST", element([exp.column(name) for name in names], exp.column("__v")))
    return exp.select(sorted_values(collected, ordered)).from_(select.subquery("__array")).subquery()


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Array) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Query):
        return _collected(node.expressions[0]) or node
    return node


def array_subqueries(tree: exp.Expression) -> exp.Expression:
    """``tree`` (parsed DuckDB SQL, changed in place) with each ``ARRAY(subquery)`` collected for Spark."""
    return tree.transform(_rewrite, copy=False)
