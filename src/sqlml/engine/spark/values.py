"""Spark's errors for a bad value met on an executor, in the words DuckDB's engine uses for it.

Spark (ANSI mode, its default) stops a query on a value it cannot compute: a string that does
not cast (``CAST_INVALID_INPUT``), a number out of the target type's range (``CAST_OVERFLOW``),
a division by zero (``DIVIDE_BY_ZERO``, ``REMAINDER_BY_ZERO``), an array offset past the end
(``INVALID_ARRAY_INDEX``), an INT64 overflow (``ARITHMETIC_OVERFLOW``); sqlml's own checks
(BigQuery's ``division by zero: 1 / 0``, the math functions' errors) are Spark's
``RAISE_ERROR`` (``USER_RAISED_EXCEPTION``). Each is worded here as DuckDB's engine words the same
failure where it has a wording (``Could not convert string 'x' to INT64``), and with the
BigQuery function that gives NULL instead (SAFE_CAST, SAFE_DIVIDE, SAFE_OFFSET …) as the hint,
in place of Spark's advice (``try_cast``, ``spark.sql.ansi.enabled``).
https://cloud.google.com/bigquery/docs/reference/standard-sql/functions-reference#safe_prefix
"""

from __future__ import annotations

import re
from sqlml.sql.messages import ARRAY_OUT_OF_BOUNDS, BAD_INT64, SAFE_CAST_HINT, Worded

__all__ = ["Worded", "bad_value"]


#: Spark's type names and DuckDB's in its conversion messages (BigQuery's INT64 among them).
_TYPES = {"BIGINT": "INT64", "INT": "INT32", "SMALLINT": "INT16", "TINYINT": "INT8", "BOOLEAN": "BOOL", "STRING": "VARCHAR"}
_CAST = re.compile(r'The value (.+?) of the type "([^"]+)" cannot be cast to "([^"]+)"')
_INDEX = re.compile(r"The index (-?\d+) is out of bounds\. The array has (\d+) elements")
_RAISED = re.compile(r"\[USER_RAISED_EXCEPTION\] (.*?)(?: SQLSTATE: \w+)?$", re.DOTALL)
#: Spark's try_ function named in an overflow message, DuckDB's word for the operation, BigQuery's SAFE_ function.
_OPERATIONS = {"try_add": ("addition", "SAFE_ADD"), "try_subtract": ("subtraction", "SAFE_SUBTRACT"), "try_multiply": ("multiplication", "SAFE_MULTIPLY")}


def bad_value(condition: str, message: str) -> Worded | None:
    """The message and hint for Spark's error class ``condition`` with ``message``, if it is a
    bad value's; else None."""
    head = message.split("\n", 1)[0]
    if condition == "USER_RAISED_EXCEPTION" and (match := _RAISED.match(head)):
        if match.group(1).startswith(BAD_INT64):  # the front end's check of a STRING cast to INT64
            return Worded(match.group(1), SAFE_CAST_HINT, conversion=True)
        return Worded(match.group(1), None)  # sqlml's own message, as on DuckDB
    if condition == "CAST_INVALID_INPUT" and (match := _CAST.search(head)):
        value, source, target = match.groups()
        kind = "string" if source == "STRING" else _TYPES.get(source, source)
        return Worded(f"Could not convert {kind} {_value(value)} to {_TYPES.get(target, target)}", SAFE_CAST_HINT, conversion=True)
    if condition == "CAST_OVERFLOW" and (match := _CAST.search(head)):
        value, source, target = match.groups()
        return Worded(
            f"Type {_TYPES.get(source, source)} with value {_value(value)} can't be cast because the value is out of "
            f"range for the destination type {_TYPES.get(target, target)}",
            SAFE_CAST_HINT,
            conversion=True,
        )
    if condition in ("DIVIDE_BY_ZERO", "REMAINDER_BY_ZERO"):
        safe = "SAFE_DIVIDE" if condition == "DIVIDE_BY_ZERO" else "SAFE.MOD"
        return Worded("division by zero", f"Use {safe} to get NULL where the divisor is 0.")
    if condition.startswith("INVALID_ARRAY_INDEX") and (match := _INDEX.search(head)):
        index, length = match.groups()
        position, safe = ("ordinal", "SAFE_ORDINAL") if condition.endswith("IN_ELEMENT_AT") else ("offset", "SAFE_OFFSET")
        return Worded(ARRAY_OUT_OF_BOUNDS.format(position=position, index=index, length=length), f"Use {safe} to get NULL instead.")  # ORDINAL(n) is offset n - 1 by now
    if condition == "ARITHMETIC_OVERFLOW":
        operation, safe = next((words for function, words in _OPERATIONS.items() if function in head), ("arithmetic", None))
        fix = f"Use {safe} to get NULL instead, or" if safe else "Use"
        return Worded(f"Overflow in {operation} of INT64", f"{fix} cast the values to NUMERIC or FLOAT64 first.")
    return None


def _value(text: str) -> str:
    """Spark's literal of a value without its type suffix (``1.0E20D`` → ``1.0E20``, ``5L`` → ``5``)."""
    if text.startswith("'"):
        return text
    return re.sub(r"(?<=\d)(BD|[DLSY])$", "", text)
