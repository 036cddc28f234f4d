"""DuckDB's list functions the front end writes, as Spark's array functions of the same meaning.

* ``LENGTH(list)`` (DuckDB's LENGTH takes lists and strings; Spark's only strings): ``SIZE``. The
  front end writes it for STRING_AGG's and ARRAY_AGG's ``LIMIT`` and for RANGE_BUCKET, always of a
  list it builds there (BigQuery's own LENGTH takes no ARRAY), so the list is told by its node.
* ``LIST_EXTRACT(list, i)`` (the front end's SAFE_OFFSET / SAFE_ORDINAL; ``ARRAY_EXTRACT`` the same
  for REGEXP_EXTRACT's first match): NULL past either end,
  where Spark's ``list[i]`` (OFFSET, ORDINAL) raises in ANSI mode as BigQuery does. Spark's
  ``GET`` is 0-based and NULL outside the array.
* ``LIST_TRANSFORM`` / ``LIST_FILTER`` with a lambda of an element and its index: DuckDB counts
  the index from 1, Spark's TRANSFORM and FILTER from 0 (the front end's INITCAP reads it).
* ``LIST_CONCAT(a, b)`` skips a NULL list (the front end's APPROX_TOP_COUNT appends its NULLs'
  count this way); Spark's ``CONCAT`` of arrays is NULL if one is: each NULL list is an empty one.
* ``HISTOGRAM(x)``, the map of each non-NULL value to its count that APPROX_TOP_COUNT sorts: the
  collected values sorted, each value's count the distance from its first position to the next
  value's (linear after the sort, where counting each distinct value again would be quadratic).
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.engine.spark.build import call

__all__ = ["concat", "count_not_null", "get", "histogram", "is_indexed_lambda", "is_list", "one_based_index", "slice_"]

#: Nodes that build a list in the DuckDB statement (or in its Spark form, rewritten first).
_LIST_NODES = (exp.ArrayAgg, exp.Array, exp.ArrayFilter, exp.ArraySort, exp.ArrayConcat, exp.Filter)
_LIST_CALLS = frozenset({"TRANSFORM", "FILTER", "SLICE", "COLLECT_LIST", "ARRAY_SORT", "SORT_ARRAY", "LIST_SLICE", "LIST_FILTER"})


def is_list(node: exp.Expression) -> bool:
    """Whether ``node`` builds a list (``ARRAY_AGG(x) FILTER (…)``, ``LIST_FILTER``, ``[…]``…)."""
    if isinstance(node, exp.Filter):  # an aggregate's FILTER (WHERE …)
        return is_list(node.this)
    if isinstance(node, exp.Anonymous):
        return node.name.upper() in _LIST_CALLS
    return isinstance(node, _LIST_NODES)


def get(values: exp.Expression, index: exp.Expression) -> exp.Expression:
    """DuckDB's ``LIST_EXTRACT(values, index)`` (1-based) as Spark's 0-based ``GET``: NULL outside."""
    return call("GET", values, exp.Sub(this=exp.paren(index), expression=exp.Literal.number(1)))


def slice_(values: exp.Expression, start: exp.Expression, end: exp.Expression) -> exp.Expression:
    """DuckDB's ``LIST_SLICE(l, a, b)`` keeps elements a..b (1-based); Spark's ``SLICE(l, a, n)`` n from a."""
    length = exp.Add(this=exp.Sub(this=exp.paren(end), expression=exp.paren(start.copy())), expression=exp.Literal.number(1))
    return call("SLICE", values, start, length)


def concat(node: exp.ArrayConcat) -> exp.Expression:
    """DuckDB's ``LIST_CONCAT``: NULL lists are empty ones (``node`` itself where NULL propagates)."""
    if node.args.get("null_propagation"):
        return node
    lists = [node.this, *node.expressions]
    return call("CONCAT", *(value if isinstance(value, exp.Array) else exp.Coalesce(this=value, expressions=[exp.Array()]) for value in lists))


def count_not_null(values: exp.Expression) -> exp.Expression:
    """DuckDB's ``LIST_COUNT``: the list's non-NULL elements (ARRAY_COMPACT drops NULLs; not a
    lambda, which Spark refuses around a subquery such as an ARRAY subquery's)."""
    return call("SIZE", call("ARRAY_COMPACT", values))


#: Nodes naming something with an identifier, and the argument that holds a value instead (a
#: field after a dot, an alias, a struct key spell a name, not the lambda's parameter).
_VALUE_ARGUMENT = {exp.Dot: "this", exp.Alias: "this", exp.PropertyEQ: "expression", exp.Column: None, exp.Table: None}


def _is_parameter_read(name: exp.Identifier, parameter: str) -> bool:
    value_argument = _VALUE_ARGUMENT.get(type(name.parent), name.arg_key)
    return name.name == parameter and name.arg_key == value_argument


def is_indexed_lambda(node: exp.Expression) -> bool:
    """Whether ``node`` is the (element, index) lambda of DuckDB's LIST_TRANSFORM or LIST_FILTER."""
    return isinstance(node, exp.Lambda) and isinstance(node.parent, (exp.Transform, exp.ArrayFilter)) and len(node.expressions) == 2


def one_based_index(node: exp.Lambda) -> exp.Lambda:
    """``node`` reading Spark's 0-based index as DuckDB's 1-based one (``i`` → ``(i + 1)``)."""
    index = node.expressions[1].name
    # sqlglot reads a lambda's parameters in its body as bare identifiers
    reads = [name for name in node.this.find_all(exp.Identifier) if _is_parameter_read(name, index)]
    for read in reads:
        read.replace(exp.paren(exp.Add(this=read.copy(), expression=exp.Literal.number(1))))
    return node


def _lambda(body: exp.Expression, *names: str) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(name) for name in names])


def _bind(value: exp.Expression, name: str, body: exp.Expression) -> exp.Expression:
    # ``body`` reading ``value`` as the lambda parameter ``name``, ``value`` computed once
    return call("ELEMENT_AT", call("TRANSFORM", exp.Array(expressions=[value]), _lambda(body, name)), exp.Literal.number(1))


def histogram(value: exp.Expression) -> exp.Expression:
    """DuckDB's ``HISTOGRAM(value)``: MAP<value, BIGINT> of the group's non-NULL values, NULL when none."""
    sorted_values, starts = exp.column("__hs"), exp.column("__hp")
    # positions (0-based) where a run of equal values begins in the sorted values
    previous = call("GET", sorted_values.copy(), exp.Sub(this=exp.column("__i"), expression=exp.Literal.number(1)))
    begins = exp.or_(exp.EQ(this=exp.column("__i"), expression=exp.Literal.number(0)), exp.NEQ(this=exp.column("__v"), expression=previous))
    marks = call("TRANSFORM", sorted_values.copy(), _lambda(exp.If(this=begins, true=exp.column("__i"), false=exp.Literal.number(-1)), "__v", "__i"))
    run_starts = call("FILTER", marks, _lambda(exp.GTE(this=exp.column("__p"), expression=exp.Literal.number(0)), "__p"))
    keys = call("TRANSFORM", starts.copy(), _lambda(call("GET", sorted_values.copy(), exp.column("__p")), "__p"))
    next_start = exp.Coalesce(this=call("GET", starts.copy(), exp.Add(this=exp.column("__j"), expression=exp.Literal.number(1))), expressions=[call("SIZE", sorted_values.copy())])
    counts = call("TRANSFORM", starts.copy(), _lambda(exp.cast(exp.Sub(this=next_start, expression=exp.column("__p")), "BIGINT"), "__p", "__j"))
    counted = _bind(run_starts, starts.name, call("MAP_FROM_ARRAYS", keys, counts))
    non_empty = exp.GT(this=call("SIZE", sorted_values.copy()), expression=exp.Literal.number(0))
    return _bind(call("ARRAY_SORT", call("COLLECT_LIST", value)), sorted_values.name, exp.Case(ifs=[exp.If(this=non_empty, true=counted)]))
