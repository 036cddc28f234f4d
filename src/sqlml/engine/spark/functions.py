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


def _day_of_week(node: exp.DayOfWeek) -> exp.Expression:
    # DuckDB's DAYOFWEEK counts from Sunday = 0 (the front end adds 1 for BigQuery's), Spark's from 1
    return exp.paren(exp.Sub(this=node, expression=exp.Literal.number(1)))


#: Date parts whose DuckDB DATE_DIFF counts boundaries crossed (BigQuery's rule) and the count as a
#: serial number of that part; Spark's DATEDIFF(MONTH, …) counts whole months instead.
#: https://cloud.google.com/bigquery/docs/reference/standard-sql/date_functions#date_diff
_SERIAL_PARTS: dict[str, Callable[[exp.Expression], exp.Expression]] = {
    "YEAR": lambda d: exp.Year(this=d),
    "QUARTER": lambda d: exp.Add(this=exp.Mul(this=exp.Year(this=d), expression=exp.Literal.number(4)), expression=exp.Quarter(this=d.copy())),
    "MONTH": lambda d: exp.Add(this=exp.Mul(this=exp.Year(this=d), expression=exp.Literal.number(12)), expression=exp.Month(this=d.copy())),
}


def _date_diff(node: exp.DateDiff) -> exp.Expression:
    unit = node.args.get("unit")
    serial = _SERIAL_PARTS.get(unit.name.upper() if unit is not None else "")
    if serial is None or not node.args.get("date_part_boundary"):
        return node
    return exp.paren(exp.Sub(this=exp.paren(serial(node.this)), expression=exp.paren(serial(node.expression))))


def _sunday_week(day: exp.Expression) -> exp.Expression:
    # strftime's %U (BigQuery's WEEK): weeks start on Sunday, days before the first Sunday are week 0;
    # Spark's DATE_FORMAT has no such pattern. Two digits, as strftime writes it.
    days = exp.Sub(this=exp.Add(this=exp.DayOfYear(this=day), expression=exp.Literal.number(7)), expression=exp.DayOfWeek(this=day.copy()))
    week = exp.Floor(this=exp.Div(this=exp.paren(days), expression=exp.Literal.number(7)))
    return exp.Pad(this=exp.cast(week, "STRING"), expression=exp.Literal.number(2), fill_pattern=exp.Literal.string("0"), is_left=True)


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
    if isinstance(node, exp.DayOfWeek):
        return _day_of_week(node)
    if isinstance(node, exp.DateDiff):
        return _date_diff(node)
    if isinstance(node, exp.TimeToStr) and node.args.get("format") is not None and node.args["format"].name == "%U":
        return _sunday_week(node.this)
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
