"""DuckDB functions the front end writes that sqlglot's Spark generator leaves as they are, written
as Spark's functions of the same meaning (before generation, on the parsed DuckDB statement).

The front end writes some BigQuery functions as DuckDB functions sqlglot keeps as anonymous calls
(``STRLEN`` for BYTE_LENGTH, ``error()`` for BigQuery's runtime errors, ``LIST_SLICE`` for
``ARRAY_AGG(… LIMIT n)``); each has a Spark counterpart here. A function with none reaches Spark
as it is, and the user gets Spark's "cannot resolve routine" as an unknown function.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

__all__ = ["spark_functions"]


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _finite(value: exp.Expression) -> exp.Expression:
    as_double = exp.cast(value, "DOUBLE")
    infinity = exp.cast(exp.Literal.string("Infinity"), "DOUBLE")
    return exp.and_(exp.not_(_call("ISNAN", as_double)), exp.NEQ(this=_call("ABS", as_double.copy()), expression=infinity))


def _slice(values: exp.Expression, start: exp.Expression, end: exp.Expression) -> exp.Expression:
    # DuckDB's LIST_SLICE(l, a, b) keeps elements a..b (1-based); Spark's SLICE(l, a, n) keeps n from a
    length = exp.Add(this=exp.Sub(this=exp.paren(end), expression=exp.paren(start.copy())), expression=exp.Literal.number(1))
    return _call("SLICE", values, start, length)


def _count(values: exp.Expression) -> exp.Expression:
    element = exp.to_identifier("__e")
    not_null = exp.Lambda(this=exp.not_(exp.Is(this=exp.column(element.copy()), expression=exp.null())), expressions=[element])
    return _call("SIZE", _call("FILTER", values, not_null))


#: Anonymous DuckDB calls (lower-case name) and their Spark form from the call's arguments.
_CALLS: dict[str, Callable[..., exp.Expression]] = {
    "strlen": lambda value: _call("OCTET_LENGTH", value),
    "error": lambda message: _call("RAISE_ERROR", message),
    "isfinite": _finite,
    "list_slice": _slice,
    "list_count": _count,
    "row": lambda *values: exp.Struct(expressions=list(values)),
    "get_current_timestamp": lambda: exp.CurrentTimestamp(),
}


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous):
        rewrite = _CALLS.get(node.name.lower())
        if rewrite is not None:
            try:
                return rewrite(*node.expressions)
            except TypeError:  # another arity than the front end writes: leave it to Spark
                return node
    if type(node).__name__ == "ArrayReverse":
        return _call("REVERSE", node.this)
    if isinstance(node, exp.Interval) and node.this is not None and not isinstance(node.this, exp.Literal):
        # INTERVAL (x) DAY: Spark takes only literals there; x * INTERVAL '1' DAY means the same
        unit = node.args.get("unit")
        return exp.Mul(this=exp.paren(node.this), expression=exp.Interval(this=exp.Literal.string("1"), unit=unit))
    return node


def spark_functions(tree: exp.Expression) -> exp.Expression:
    """``tree`` (parsed DuckDB SQL, changed in place) with the DuckDB calls above written as Spark's."""
    return tree.transform(_rewrite, copy=False)
