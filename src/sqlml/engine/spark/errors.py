"""Spark's exceptions as the seam's :class:`~sqlml.engine.base.EngineError` kinds.

The executor locates an engine error in the user's SQL by reading the engine's message for the
object it names (:mod:`sqlml.engine.errors`, which reads DuckDB's shapes: ``Table with name t does
not exist!``). Spark names the same failures with error classes (``TABLE_OR_VIEW_NOT_FOUND``), so a
known class gets a first line in that shape, naming the same object, and Spark's own message
follows unchanged on the next lines.

A bad value met on an executor (a string that does not cast, a division by zero, an offset past
the end of an array, an INT64 overflow) is worded as DuckDB words it where DuckDB has a wording,
so that a user reads one message on both engines, with BigQuery's SAFE_ form to use instead as
the error's ``hint`` (:mod:`.values`). Any other error keeps Spark's message as it is.
"""

from __future__ import annotations

import re

from sqlml.engine.base import (
    EngineBindError,
    EngineConversionError,
    EngineError,
    EngineInterrupted,
    EngineIOError,
)
from sqlml.engine.spark.inline import scalar_elements_error
from sqlml.engine.spark.values import bad_value

__all__ = ["engine_error"]

#: Spark's error class prefixes and the seam's kind for each, most specific first.
_KINDS: tuple[tuple[str, type[EngineError]], ...] = (
    ("CAST_INVALID_INPUT", EngineConversionError),
    ("DATATYPE_MISMATCH", EngineConversionError),
    ("INCOMPATIBLE_DATA_FOR_TABLE", EngineConversionError),
    ("CAST_OVERFLOW", EngineConversionError),
    ("PATH_NOT_FOUND", EngineIOError),
    ("FAILED_READ_FILE", EngineIOError),
    ("TASK_WRITE_FAILED", EngineIOError),
    ("OPERATION_CANCELED", EngineInterrupted),
    ("UNRESOLVED", EngineBindError),
    ("TABLE_OR_VIEW_NOT_FOUND", EngineBindError),
    ("SCHEMA_NOT_FOUND", EngineBindError),
    ("TABLE_OR_VIEW_ALREADY_EXISTS", EngineError),
    ("SCHEMA_ALREADY_EXISTS", EngineError),
)
_NAME = r"`?(?:[\w]+`?\.`?)*([\w]+)`?"
#: Spark's messages of the failures the executor locates, and the same fact in DuckDB's words.
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\[TABLE_OR_VIEW_NOT_FOUND\] The table or view " + _NAME), "Table with name {} does not exist!"),
    (re.compile(r"\[SCHEMA_NOT_FOUND\] The schema " + _NAME), "Schema with name {} does not exist!"),
    (re.compile(r"\[UNRESOLVED_COLUMN\.\w+\] A column, variable, or function parameter with name " + _NAME), 'Referenced column "{}" not found'),
    (re.compile(r"\[UNRESOLVED_ROUTINE\] Cannot resolve routine " + _NAME), "Scalar Function with name {} does not exist!"),
    (re.compile(r"\[TABLE_OR_VIEW_ALREADY_EXISTS\] Cannot create table or view " + _NAME), "Table with name {} already exists"),
    (re.compile(r"\[SCHEMA_ALREADY_EXISTS\] Cannot create schema " + _NAME), "Schema with name {} already exists"),
)


#: Spark's refusal of a subscript or field of a STRING (a JSON value: Spark keeps JSON as STRING),
#: and of the size the front end's bare x[i] checks against (sqlml.engine.spark.functions).
_JSON_SUBSCRIPT = re.compile(
    r'\[INVALID_EXTRACT_BASE_FIELD_TYPE\] Can\'t extract a value from .* but got "STRING"'
    r'|\[DATATYPE_MISMATCH\.UNEXPECTED_INPUT_TYPE\] Cannot resolve "size\(.*requires the \("ARRAY" or "MAP"\) type, however .* has the type "STRING"'
)
_JSON_REFUSED = "A JSON value's subscript or field (j[0], j['a'], j.a) has no Spark translation yet: Spark keeps JSON values as STRING."

#: py4j's message for a Java exception Spark raised without an error class (a planner bug such as
#: SPARK's correlated subquery over a UNION ALL: ``java.util.NoSuchElementException: key not found``).
_JAVA_FAILURE = re.compile(r"An error occurred while calling [\w.]+\.\n: ([\w.$]+(?:Exception|Error)[^\n]*)")
_JAVA_CAUSE = re.compile(r"\nCaused by: ([^\n]+)")


def engine_error(error: Exception) -> EngineError:
    """The seam's exception for an exception Spark (or py4j) raised, Spark's message kept."""
    message = str(error).strip()
    condition = _condition(error)
    kind = next((kind for prefix, kind in _KINDS if condition.startswith(prefix)), EngineError)
    if condition.startswith("PARSE_SYNTAX_ERROR"):
        # the user's SQL parsed; Spark refused the Spark SQL sqlglot wrote for it
        return kind(
            "This statement has no Spark translation yet (run it with engine='duckdb', or report it): "
            f"Spark could not parse the SQL written for it: {message}"
        )
    if not condition and (java := _JAVA_FAILURE.match(message)):
        # a Java exception without an error class: py4j's first line names only the call that failed;
        # the innermost cause names what went wrong
        cause = ([java.group(1)] + _JAVA_CAUSE.findall(message))[-1].strip()
        return kind(
            f"Spark failed internally running this statement ({cause}): a Spark bug or limit its translation "
            "does not avoid yet (run it with engine='duckdb', or report it)."
        )
    if condition.startswith("DATATYPE_MISMATCH") and (refused := scalar_elements_error(message)):
        return kind(refused)
    if _JSON_SUBSCRIPT.search(message):
        error = EngineConversionError(_JSON_REFUSED)
        error.hint = "Use JSON_VALUE(j, '$.a') for a scalar or JSON_QUERY(j, '$[0]') for JSON, or run the statement with engine='duckdb'."
        return error
    if worded := bad_value(condition, message):
        error = (EngineConversionError if worded.conversion else kind)(worded.message)
        error.hint = worded.hint  # read by the executor's translation (sqlml.engine.errors)
        return error
    for pattern, shape in _SHAPES:
        if match := pattern.search(message):
            return kind(f"{shape.format(match.group(1))}\n{message}")
    return kind(message)


def _condition(error: Exception) -> str:
    """Spark's error class (``TABLE_OR_VIEW_NOT_FOUND``), or '' when it has none."""
    get = getattr(error, "getCondition", None) or getattr(error, "getErrorClass", None)
    condition = get() if get is not None else None
    if condition:
        return condition
    match = re.match(r"\s*\[([A-Z_.]+)\]", str(error))
    return match.group(1) if match else ""
