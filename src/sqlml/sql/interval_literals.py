"""BigQuery's INTERVAL literals with a span (``INTERVAL '1 2:3:4' DAY TO SECOND``, ``INTERVAL '-1-2'
YEAR TO MONTH``) as sums of one-part intervals: DuckDB's parser refuses every ``… TO …`` span.

The text holds the span's parts in BigQuery's three groups — ``Y-M``, ``D``, ``H:M:S[.F]`` — separated
by spaces, each group with its own sign. The value becomes ``INTERVAL 'n' MONTH + INTERVAL 'n' DAY +
INTERVAL 'n' MICROSECOND`` (the parts that are not zero), which both engines read: DuckDB keeps the
three as its interval's months, days and microseconds, as BigQuery does; Spark adds the day and time
parts into one day-time interval (a span mixing months with days is not one of Spark's types).
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#interval_type
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sqlglot import exp

from sqlml.errors import SqlSyntaxError

_UNITS = ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND")
#: BigQuery's groups of parts in an interval's text, and the separator inside each.
_GROUPS = ((("YEAR", "MONTH"), "-"), (("DAY",), None), (("HOUR", "MINUTE", "SECOND"), ":"))
_MICROS = {"HOUR": 3_600_000_000, "MINUTE": 60_000_000, "SECOND": 1_000_000}


def interval_spans(tree: exp.Expression) -> exp.Expression:
    """Each ``INTERVAL 'text' A TO B`` of a string literal replaced by its sum (see the module)."""
    for interval in list(tree.find_all(exp.Interval)):
        span, text = interval.args.get("unit"), interval.this
        if isinstance(span, exp.IntervalSpan) and isinstance(text, exp.Literal) and text.is_string:
            interval.replace(_sum(text.this, span.this.name.upper(), span.expression.name.upper()))
    return tree


def _sum(text: str, first: str, last: str) -> exp.Expression:
    parts = _parts(text, first, last)
    months = parts.get("YEAR", 0) * 12 + parts.get("MONTH", 0)
    micros = sum(parts.get(unit, 0) * scale for unit, scale in _MICROS.items())
    terms = [(months, "MONTH"), (parts.get("DAY", 0), "DAY"), (int(micros), "MICROSECOND")]
    kept = [exp.Interval(this=exp.Literal.string(str(value)), unit=exp.var(unit)) for value, unit in terms if value] or [
        exp.Interval(this=exp.Literal.string("0"), unit=exp.var("DAY" if first in _MICROS or first == "DAY" else "MONTH"))
    ]
    total = kept[0]
    for term in kept[1:]:
        total = exp.Add(this=total, expression=term)
    return exp.paren(total, copy=False)


def _parts(text: str, first: str, last: str) -> dict[str, Decimal]:
    # {unit: signed value} of BigQuery's text for the span first..last, or BigQuery's error
    if first not in _UNITS or last not in _UNITS or _UNITS.index(first) >= _UNITS.index(last):
        raise SqlSyntaxError(f"INTERVAL '{text}' {first} TO {last} is not a valid interval span.", hint=_hint())
    span = _UNITS[_UNITS.index(first) : _UNITS.index(last) + 1]
    groups = [(tuple(unit for unit in units if unit in span), separator) for units, separator in _GROUPS]
    groups = [(units, separator) for units, separator in groups if units]
    pieces = text.split()
    if len(pieces) != len(groups):
        raise _invalid(text, first, last)
    parts: dict[str, Decimal] = {}
    for piece, (units, separator) in zip(pieces, groups):
        sign = -1 if piece.startswith("-") else 1
        numbers = piece.lstrip("+-").split(separator) if separator else [piece.lstrip("+-")]
        if len(numbers) != len(units) or not all(re.fullmatch(r"\d+(\.\d{1,9})?" if unit == "SECOND" else r"\d+", number) for number, unit in zip(numbers, units)):
            raise _invalid(text, first, last)
        try:
            parts.update({unit: sign * Decimal(number) for unit, number in zip(units, numbers)})
        except InvalidOperation:
            raise _invalid(text, first, last) from None
    return parts


def _invalid(text: str, first: str, last: str) -> SqlSyntaxError:
    return SqlSyntaxError(f"Invalid INTERVAL value '{text}' for {first} TO {last}.", hint=_hint())


def _hint() -> str:
    return "Write the parts from the first to the last unit as Y-M D H:M:S (e.g. INTERVAL '1 2:3:4' DAY TO SECOND, INTERVAL '1-2' YEAR TO MONTH)."
