"""DuckDB's errors for a bad value, in the words the Spark engine uses for the same failure.

DuckDB words a zero divisor of DIV or MOD with its own fix (``Division by zero in expression
(x // y). Use TRY(...) … or SET error_on_division_by_zero=false``), which a BigQuery user cannot
apply. Here it is ``division by zero``, BigQuery's message, with the BigQuery function that gives
NULL instead (SAFE_DIVIDE for DIV, SAFE.MOD for MOD) as the hint, as
:mod:`sqlml.engine.spark.values` words Spark's ``DIVIDE_BY_ZERO`` and ``REMAINDER_BY_ZERO``.
https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#div
"""

from __future__ import annotations

import re
from sqlml.sql.messages import BAD_INT64, SAFE_CAST_HINT, Worded

__all__ = ["Worded", "bad_value"]


#: DuckDB's message for a zero divisor; the expression it names is read back with sqlglot.
_DIVISION = re.compile(r"Division by zero in expression (.*)\. Use TRY\(", re.DOTALL)


def bad_value(message: str) -> Worded | None:
    """BigQuery's message and hint for DuckDB's error ``message``, if it is a zero divisor's or a
    STRING that holds no INT64 (the front end's ``error()``, :mod:`sqlml.sql.numbers`); else None."""
    if (start := message.find(BAD_INT64)) >= 0:
        return Worded(message[start:], SAFE_CAST_HINT, conversion=True)
    match = _DIVISION.search(message)
    if match is None:
        return None
    return Worded("division by zero", f"Use {_safe_form(match.group(1))} to get NULL where the divisor is 0.")


def _safe_form(expression: str) -> str:
    # DuckDB names the failing operation itself: (x % y) or mod(x, y) for MOD, (x // y) for DIV.
    # sqlglot is imported here, on a failure, not with the module: every connection imports this
    # one, and a remembered statement's process runs without sqlglot.
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        node = sqlglot.parse_one(expression, read="duckdb").unnest()
    except (ParseError, TokenError):
        return "SAFE_DIVIDE or SAFE.MOD"
    return "SAFE.MOD" if isinstance(node, exp.Mod) else "SAFE_DIVIDE"
